"""Where a PostgreSQL server's loop waits (issue 15): every psycopg statement and every answer
waited for, counted and timed, in a ``fenliu server`` started with this folder on PYTHONPATH.

    FENLIU_PGTRACE=/tmp/trace PYTHONPATH=bench/pgtrace .venv/bin/python bench/peak.py --json \\
        --verbose --store local --pg-baseline /work/main --queued 1000 --rates 50 --step 10
    # once the set-up is over: kill -USR2 <each fenliu server --store pid>  (a first dump)
    # at their exit each writes /tmp/trace.<pid> again: the difference is the step

Each dump line: count, total ms, µs each, and what: a statement (its first 70 characters), or a
``~LOOP`` line for the loop thread: ``ROUNDTRIP direct`` (a statement answered at once),
``ROUNDTRIP pipeline sync`` (the answers of a pipeline read together), ``sent in pipeline`` (sent,
not waited for), and ``~SYNC AFTER`` the statement that made a pipeline sync. Only processes run
with the ``server`` argument are traced; nothing happens without FENLIU_PGTRACE.
"""

from __future__ import annotations

import atexit
import collections
import os
import signal
import sys
import threading
import time
from typing import Any

if os.environ.get("FENLIU_PGTRACE") and "server" in sys.argv:
    import psycopg

    _stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    _last = [""]
    _execute, _executemany, _exit = psycopg.Cursor.execute, psycopg.Cursor.executemany, psycopg.Pipeline.__exit__
    _loop_thread = threading.main_thread()

    def _key(query: Any) -> str:
        return " ".join(str(query).split())[:70]

    def _add(key: str, seconds: float) -> None:
        entry = _stats[key]
        entry[0] += 1
        entry[1] += seconds

    def execute(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        t, direct = time.perf_counter(), self._conn._pipeline is None
        try:
            return _execute(self, query, params, **kw)
        finally:
            spent = time.perf_counter() - t
            _add(_key(query), spent)
            if threading.current_thread() is _loop_thread:
                _add("~LOOP " + ("ROUNDTRIP direct" if direct else "sent in pipeline"), spent)
                _last[0] = _key(query)

    def executemany(self: Any, query: Any, params_seq: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return _executemany(self, query, params_seq, **kw)
        finally:
            _add("MANY " + _key(query), time.perf_counter() - t)

    def pipeline_exit(self: Any, *args: Any) -> Any:
        t = time.perf_counter()
        try:
            return _exit(self, *args)
        finally:
            _add("~LOOP ROUNDTRIP pipeline sync", time.perf_counter() - t)
            _add("~SYNC AFTER " + _last[0], 0.0)

    def dump(*_: Any) -> None:
        with open(f"{os.environ['FENLIU_PGTRACE']}.{os.getpid()}", "w", encoding="utf-8") as out:
            for key, (n, seconds) in sorted(_stats.items(), key=lambda kv: -kv[1][1]):
                out.write(f"{int(n):8d} {seconds * 1000:10.1f}ms {seconds / n * 1e6:8.0f}us  {key}\n")

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    psycopg.Cursor.executemany = executemany  # type: ignore[method-assign]
    psycopg.Pipeline.__exit__ = pipeline_exit  # type: ignore[method-assign]
    signal.signal(signal.SIGUSR2, dump)
    atexit.register(dump)
