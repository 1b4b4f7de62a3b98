"""The one home of the application's SQL (issue 9): every SELECT, INSERT, UPDATE and DELETE on
the application's tables is a function or method of a module of this package, one module per
subject. The modules that decide, compute and format call these; the store modules
(``store.py``, ``pgstore.py``) keep only the mechanics (connections, transactions, PRAGMAs,
checkpoints, fsync, PostgreSQL's adaptation of this SQL). ``tests/test_sql_home.py`` and an
import-linter contract keep it so.

``Repository`` (the reception path) is re-exported here so callers keep importing it from
``console.server.repository``.
"""

from console.server.repository.reception import ArriveAttrs, Record, Repository, Row, message_of

__all__ = ["ArriveAttrs", "Record", "Repository", "Row", "message_of"]
