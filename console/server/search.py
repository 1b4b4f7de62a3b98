"""Finding an earlier conversation (issue 13, CONSOLE.md §6 "Search").

A query is matched, as a substring, against four things:

- message text, through ``messages_fts`` (store.py): an FTS5 table with the trigram tokenizer
  (on PostgreSQL, a ``pg_trgm`` GIN index on ``messages.text`` serving ``ILIKE``: pgstore.py).
  Chinese has no spaces between words, so a word tokenizer (unicode61) would see a whole
  sentence as one token and find nothing inside it; trigram indexes every run of three
  characters, so any substring of three or more characters is an index lookup whatever the
  script. It is an external-content table (the text is stored once, in ``messages``) kept
  current by triggers, so every insert path is indexed, and it is on disk, so it survives
  restarts. Case is ignored in every script (order numbers, ``XL``, ``Éclair``); the scans below
  fold it as the index does (``repository.fold``), not as SQLite's LIKE (ASCII only).
- buyer names and the product of the buyer's latest arrive, from the in-memory rows;
- order numbers, from the ``orders`` table.

Queries of one or two characters (``退款`` is two) have no trigram to look up. They are
answered by a scan of message text, newest first, over at most ``SHORT_WINDOW`` messages per
request; the answer's cursor continues the scan where it stopped. So a short query costs a
bounded time and its results are exact within what was scanned.

The query is a literal: it is passed to FTS5 as one quoted string (``"`` doubled), and to LIKE
with ``%``, ``_`` and ``\\`` escaped, so no query can be an FTS syntax error.

Who may find what is not decided here: the caller passes ``scope``, the conversations the
asker may see (``audience.finds``), or None for the whole shop (supervisors).

Off the event loop: the SQL of a search (messages and orders) is ``lookup``, which the server
runs in a worker thread on a read-only connection of its own (``Reader``, ``find_async``); only
the assembly of the hits (the in-memory rows, snippets) runs on the loop. A long query (a rare
word over a million messages, a two-character scan of 50,000) then delays no other request. The
reader sees what is committed: a message of the current write batch (a few milliseconds old,
not yet acknowledged to anyone) is found by the next search.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

import msgspec

from console.protocol.holders import agent_of
from console.protocol.messages import Author, SearchHit, SearchMatch
from console.server.conversations import Row
from console.server.repository import fold as fold_sql
from console.server.repository import search as search_sql
from console.server.repository.reception import Record
from console.server.repository.search import Reader, Source
from console.server.store import Store

TRIGRAM = 3
"""The shortest query the trigram index can answer."""
SHORT_WINDOW = 50_000
"""Messages scanned per request for a query shorter than ``TRIGRAM``."""
BEFORE_CONTEXT = 16
AFTER_CONTEXT = 40
"""Characters of context around the match in a snippet."""


class QueryError(ValueError):
    """The query cannot be searched (empty once trimmed)."""


@dataclass(frozen=True)
class Found:
    """What a search's SQL found: message rows (newest first), the cursor, matching order rows."""

    messages: list[Record]
    next_before: int | None
    orders: list[Record]


@dataclass(frozen=True)
class Page:
    hits: list[SearchHit]
    next_before: int | None  # pass as ``before`` for older message hits; None: nothing older


def clean_query(query: str) -> str:
    """The query as searched: whitespace runs collapsed, ends trimmed.

    Control characters are refused: FTS5 reads its query as a C string, so a NUL would end it
    inside the quotes (an "unterminated string" error; the protocol fuzzer found it)."""
    text = " ".join(query.split())
    if not text:
        raise QueryError("the query is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise QueryError("the query holds a control character")
    return text


def fts_phrase(query: str) -> str:
    """``query`` as one FTS5 string literal: every character literal, nothing an operator."""
    return '"' + query.replace('"', '""') + '"'


def like_pattern(query: str) -> str:
    """``%query%`` for ``LIKE ... ESCAPE '\\'``, with the wildcards in ``query`` literal."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, query: str) -> tuple[str, list[tuple[int, int]]]:
    """The line around the first match, and where ``query`` occurs in it ([start, end) in code points).

    Newlines are shown as spaces; an ellipsis marks a cut end."""
    flat = " ".join(text.split("\n"))
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    first = pattern.search(flat)
    if first is None:  # e.g. a name hit whose text is the name itself, matched elsewhere
        return flat[: BEFORE_CONTEXT + AFTER_CONTEXT], []
    start = max(0, first.start() - BEFORE_CONTEXT)
    end = min(len(flat), first.end() + AFTER_CONTEXT)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    piece = prefix + flat[start:end] + suffix
    shift = len(prefix) - start
    spans = [(m.start() + shift, m.end() + shift) for m in pattern.finditer(flat, start, end)]
    return piece, spans


class MessageSearch:
    """Answers ``search`` requests from the store and the shop's rows."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._reader: Reader | None = None

    def reader(self) -> Reader:
        if self._reader is None:
            if self.store.dialect == "postgresql":  # a connection of its own to the shop's schema (pgstore.py)
                self._reader = self.store.reader()  # type: ignore[attr-defined]
            else:
                self._reader = Reader(str(self.store.path))
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def find_async(self, query: str, *, rows: Mapping[str, Row], scope: Collection[str] | None, asker: str,
                         limit: int, before: int | None = None, products: Mapping[str, str] | None = None,
                         reachable: Callable[[Row], bool] = lambda row: False) -> Page:
        """``find`` with its SQL in a worker thread on the read-only connection (module docstring)."""
        text = clean_query(query)
        reader = self.reader()
        found = await asyncio.to_thread(reader.run, lambda src: self.lookup(src, text, scope, limit, before))
        return self._assemble(text, found, rows=rows, scope=scope, asker=asker, limit=limit, before=before,
                              products=products, reachable=reachable)

    def lookup(self, source: Source, text: str, scope: Collection[str] | None, limit: int,
               before: int | None) -> Found:
        """The SQL of a search (thread-safe on its own connection): messages and order numbers."""
        messages, next_before = self._message_rows(source, text, scope, limit, before)
        orders = self._order_rows(source, text, scope, limit) if before is None else []
        return Found(messages, next_before, orders)

    def find(
        self,
        query: str,
        *,
        rows: Mapping[str, Row],
        scope: Collection[str] | None,
        asker: str,
        limit: int,
        before: int | None = None,
        products: Mapping[str, str] | None = None,
        reachable: Callable[[Row], bool] = lambda row: False,
    ) -> Page:
        """Hits for ``query`` in the conversations of ``scope`` (None: all), newest first.

        The first page (``before`` None) also has the buyers whose name, product or order number
        matches (``products``: catalogue ids whose title matched, id -> title); message hits page on
        by message id."""
        text = clean_query(query)
        found = self.lookup(self.store, text, scope, limit, before)
        return self._assemble(text, found, rows=rows, scope=scope, asker=asker, limit=limit, before=before,
                              products=products, reachable=reachable)

    def _assemble(self, text: str, found: Found, *, rows: Mapping[str, Row], scope: Collection[str] | None,
                  asker: str, limit: int, before: int | None, products: Mapping[str, str] | None,
                  reachable: Callable[[Row], bool]) -> Page:
        hits: list[SearchHit] = []
        if before is None:
            hits.extend(self._buyer_hits(text, rows, scope, asker, limit, products or {}))
            hits.extend(self._order_hits(found.orders, text, rows, asker))
        next_before = found.next_before
        for r in found.messages:
            row = rows.get(str(r["conversation"]))
            if row is None:
                continue
            piece, spans = snippet(str(r["text"]), text)
            hits.append(_hit(row, asker, SearchMatch.MESSAGE, piece, spans, float(r["at"]),
                             message_id=int(r["id"]), author=Author(r["author"])))
        told: dict[str, bool] = {}  # once per conversation: a hit of a closed one says whether 再次联系 can work
        return Page(hits=[h if h.open else msgspec.structs.replace(
            h, reachable=told.setdefault(h.conversation, reachable(rows[h.conversation]))) for h in hits],
            next_before=next_before)

    # -- messages ---------------------------------------------------------------------------

    def _message_rows(self, source: Source, text: str, scope: Collection[str] | None, limit: int,
                      before: int | None) -> tuple[list[Record], int | None]:
        top = before if before is not None else search_sql.max_message_id(source) + 1
        if len(text) >= TRIGRAM and self.store.dialect == "postgresql":
            # pgstore.py: a pg_trgm GIN index on message text answers the same substring query
            rows = search_sql.messages_like(source, like_pattern(text), top, scope, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            return rows, (int(rows[-1]["id"]) if more else None)
        if len(text) >= TRIGRAM:
            # The store indexes new messages at most every 0.25 s (store.py INDEX_EVERY): those
            # after the highest indexed one (on the loop, the batch's own too) are scanned, newest
            # first, then the index answers for the rest. Read in this order, a batch indexed
            # between the two reads is only scanned for nothing.
            indexed = search_sql.indexed_upto(source)
            rows = []
            if top > indexed + 1:  # folded as the index folds (every script's case), not as LIKE (ASCII's)
                rows = search_sql.messages_like_in(source, like_pattern(text.lower()), top, indexed + 1, scope,
                                                   limit + 1, fold=True)
            if len(rows) <= limit:
                rows += search_sql.messages_matching(source, fts_phrase(text), min(top, indexed + 1), scope,
                                                     limit + 1 - len(rows))
            more = len(rows) > limit
            rows = rows[:limit]
            return rows, (int(rows[-1]["id"]) if more else None)
        floor = max(0, top - SHORT_WINDOW)
        fold = fold_sql.wanted(self.store.dialect, text)
        rows = search_sql.messages_like_in(source, like_pattern(text.lower() if fold else text), top, floor, scope,
                                           limit + 1, fold=fold)
        if len(rows) > limit:
            rows = rows[:limit]
            return rows, int(rows[-1]["id"])
        return rows, (floor if floor > search_sql.min_message_id(source) else None)

    # -- buyers and orders ------------------------------------------------------------------

    def _buyer_hits(self, text: str, rows: Mapping[str, Row], scope: Collection[str] | None, asker: str,
                    limit: int, products: Mapping[str, str]) -> Iterable[SearchHit]:
        needle = text.casefold()
        candidates = rows.values() if scope is None else (rows[b] for b in scope if b in rows)
        matched: list[tuple[Row, SearchMatch, str]] = []
        for row in candidates:
            if needle in row.name.casefold():
                matched.append((row, SearchMatch.NAME, row.name))
            elif row.arrive is not None and row.arrive.product and needle in row.arrive.product.casefold():
                matched.append((row, SearchMatch.PRODUCT, row.arrive.product))
            elif row.arrive is not None and row.arrive.product is not None and row.arrive.product in products:  # by its title
                matched.append((row, SearchMatch.PRODUCT, products[row.arrive.product]))
        matched.sort(key=lambda m: m[0].last_at, reverse=True)
        for row, kind, value in matched[:limit]:
            piece, spans = snippet(value, text)
            yield _hit(row, asker, kind, piece, spans, row.last_at)

    def _order_rows(self, source: Source, text: str, scope: Collection[str] | None, limit: int) -> list[Record]:
        return search_sql.orders_like(source, like_pattern(text), scope, limit)

    def _order_hits(self, found: list[Record], text: str, rows: Mapping[str, Row],
                    asker: str) -> Iterable[SearchHit]:
        for r in found:
            row = rows.get(str(r["buyer"]))
            if row is not None:
                piece, spans = snippet(str(r["id"]), text)
                yield _hit(row, asker, SearchMatch.ORDER, piece, spans, float(r["updated_at"]))


def _hit(row: Row, asker: str, match: SearchMatch, piece: str, spans: list[tuple[int, int]], at: float, *,
         message_id: int | None = None, author: Author | None = None) -> SearchHit:
    return SearchHit(
        conversation=row.buyer, name=row.name, match=match, snippet=piece, highlights=spans, at=at,
        message_id=message_id, author=author,
        open=row.holder is not None,  # the session is open: the buyer is still there
        can_reply=agent_of(row.holder) == asker,  # the existing reply path would take a message now
    )
