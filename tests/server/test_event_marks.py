"""The agents' event log indexed by a mark in ``MARK_EVERY`` (schema 7, issue 9): a resume reads
forward by id from the mark at or before the first number it wants, within a bound; a start reads
the agents' kept last numbers and the events after them; a trim deletes the oldest ids and keeps
every agent's number, a quiet one's too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest

from console.protocol.codec import decode_for_agent
from console.protocol.messages import Role, StatusChanged
from console.routing.events import Status
from console.server import hub as hub_module
from console.server.hub import AgentLink, Hub
from console.server.repository import events as events_sql
from console.server.repository.schema import MARK_EVERY
from console.server.store import Store

from .helpers import open_store, run

INSERT = "INSERT INTO agent_events (agent, seq, at, body) VALUES (?, ?, 0, ?)"


def _body(agent: str, seq: int) -> bytes:
    return f"{agent}:{seq}".encode()


def _log(store: Store, events: list[tuple[str, int]]) -> None:
    """Events logged in this order (their ids follow it), committed."""
    async def write() -> None:
        store.executemany(INSERT, [(agent, seq, _body(agent, seq)) for agent, seq in events])
        await store.committed()

    run(write())


def _day(store: Store) -> None:
    """A quiet agent's 5 events (ids 1-5), then a1, a2, a3 in turn, 200 each (a1's n-th is id 3n + 3)."""
    _log(store, [("q", seq) for seq in range(1, 6)]
         + [(agent, seq) for seq in range(1, 201) for agent in ("a1", "a2", "a3")])


def _trim(store: Store, keep: int, most: int) -> None:
    async def trim() -> None:
        events_sql.trim_events(store, keep, most)
        await store.committed()

    run(trim())


def test_a_resume_reads_from_its_mark_within_the_bound_and_a_trim_keeps_every_number(tmp_path: Path) -> None:
    assert MARK_EVERY == 16  # the ids below are worked out for it
    store = open_store(tmp_path, synchronous="NORMAL")
    try:
        _day(store)
        wanted = [_body("a1", seq) for seq in range(71, 151)]
        assert events_sql.events_between(store, "a1", 70, 150, 10**6) == wanted
        assert events_sql.events_between(store, "a1", 0, 3, 10**6) == [_body("a1", s) for s in (1, 2, 3)]
        assert events_sql.events_between(store, "a1", 150, 150, 10**6) == []
        # mark 65 is id 198, number 150 id 453: 256 ids from the mark hold them, 255 do not
        assert events_sql.events_between(store, "a1", 70, 150, 256) == wanted
        assert events_sql.events_between(store, "a1", 70, 150, 255) is None
        assert events_sql.last_event_seqs(store) == {"q": 5, "a1": 200, "a2": 200, "a3": 200}

        _trim(store, 100, 200)  # at most 200 ids a trim: 1-200 go
        assert store.tuples("SELECT MIN(id), COUNT(*) FROM agent_events") == [(201, 405)]
        _trim(store, 100, 10**6)  # ids 506-605 stay
        assert store.tuples("SELECT MIN(id), COUNT(*) FROM agent_events") == [(506, 100)]
        assert events_sql.events_between(store, "a1", 70, 150, 10**6) is None  # trimmed: a snapshot
        assert events_sql.events_between(store, "a1", 170, 200, 10**6) is None  # its mark (161, id 486) went
        assert events_sql.events_between(store, "a1", 192, 200, 10**6) == [_body("a1", s) for s in range(193, 201)]
        # the quiet agent has no event left; its number stays, and a start goes on from it
        assert events_sql.last_event_seqs(store) == {"q": 5, "a1": 200, "a2": 200, "a3": 200}
        assert Hub(store).last_seq("q") == 5

        _log(store, [("a1", seq) for seq in range(201, 211)])  # after the trim: read after the tops
        assert events_sql.last_event_seqs(store) == {"q": 5, "a1": 210, "a2": 200, "a3": 200}
        assert events_sql.events_between(store, "a1", 200, 210, 10**6) == [_body("a1", s) for s in range(201, 211)]
    finally:
        store.close()


def test_a_console_a_little_behind_is_replayed_and_one_past_the_bound_gets_a_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Hub.attach`` through the marks: the events after the console's last number, once, in
    order; None (a snapshot) when reading them would pass ``RESUME_ROWS`` ids."""
    store = open_store(tmp_path, synchronous="NORMAL")
    try:
        hub = Hub(store)

        async def day() -> None:
            for load in range(100):  # a1, a2, a3 in turn: a1's mark 65 is id 193, its 100th id 298
                for agent in ("a1", "a2", "a3"):
                    hub.push(agent, lambda seq, load=load: StatusChanged(seq=seq, status=Status.ONLINE, load=load, cap=9))
            await store.committed()

        run(day())
        link = AgentLink(conn=cast(Any, None), agent="a1", role=Role.AGENT)
        missed = hub.attach(link, 70)
        assert missed is not None
        assert [decode_for_agent(body).seq for body in missed] == list(range(71, 101))  # type: ignore[union-attr]
        assert link.sent_seq == 100 and hub.attach(link, 100) == []
        monkeypatch.setattr(hub_module, "RESUME_ROWS", 298 - 193)  # id 298 is one past the bound
        assert hub.attach(link, 70) is None
        monkeypatch.setattr(hub_module, "RESUME_ROWS", 298 - 193 + 1)
        assert hub.attach(link, 70) is not None
    finally:
        store.close()


FULL_SCAN = re.compile(r"\bSCAN agent_events\b")
"""A plan line that reads the whole event log (a range of ids is ``SEARCH ... USING INTEGER PRIMARY KEY``)."""


@pytest.mark.sqlite_only  # SQLite's trace callback and query plans
def test_every_read_and_trim_of_the_event_log_is_a_range_of_ids_or_a_mark(tmp_path: Path) -> None:
    store = Store.open(tmp_path, synchronous="NORMAL")
    try:
        _day(store)
        seen: list[str] = []
        store.db.set_trace_callback(seen.append)
        assert events_sql.events_between(store, "a1", 70, 150, 10**6) is not None
        events_sql.last_event_seqs(store)
        events_sql.trim_events(store, 100, 10**6)
        store.db.set_trace_callback(None)
        statements = [s for s in seen if "agent_events" in s and not s.lstrip().upper().startswith(("BEGIN", "SAVEPOINT"))]
        assert len(statements) == 6, statements  # the mark, the range; the tail; the tops, the ends, the delete
        plans = {sql: [str(r[3]) for r in store.db.execute("EXPLAIN QUERY PLAN " + sql)] for sql in statements}
        for sql, plan in plans.items():
            assert not any(FULL_SCAN.search(line) for line in plan), (sql, plan)
        mark, scan = (plans[s] for s in statements[:2])
        assert any("USING COVERING INDEX agent_events_mark (agent=? AND seq=?)" in line for line in mark), mark
        assert any("USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in line for line in scan), scan
    finally:
        store.close()
