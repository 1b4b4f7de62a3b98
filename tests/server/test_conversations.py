"""The row indexes list exactly the rows ``console.reception.audience`` says a viewer sees."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from console.reception.audience import sees
from console.reception.model import Kind
from console.server.conversations import Conversations, Row
from console.server.directory import Directory
from console.server.journal import Journal
from console.server.repository import Repository

from .helpers import open_store

HOLDERS = [None, "agent:a1", "agent:a2", "bot", "pool", "queue:shop"]
AGENTS = [None, "a1", "a2"]


def test_listed_rows_are_the_visible_ones_in_memory_and_on_disk(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    directory, rows = Directory(store), Conversations(store)
    for n, (holder, agent, cleared) in enumerate(itertools.product(HOLDERS, AGENTS, (False, True))):
        buyer = f"b{n}"
        directory.greet(buyer, buyer)
        row = rows.ensure(buyer, buyer, Kind.CONSUMER)
        row.holder, row.agent, row.cleared = holder, agent, cleared
        rows.save(row)
    store.flush()
    everything = list(itertools.product(HOLDERS, AGENTS, (False, True)))

    def expected(viewer: str, supervises: bool) -> set[str]:
        return {f"b{n}" for n, (holder, agent, cleared) in enumerate(everything)
                if not cleared and sees(viewer, holder, agent, supervises=supervises)}

    for _ in range(2):  # with every row in memory, then with closed rows on disk only
        for viewer, supervises in (("a1", False), ("a2", False), ("sup", True), ("a1", True)):
            assert {r.buyer for r in rows.listed_for(viewer, supervises=supervises)} == expected(viewer, supervises)
        rows.settle()
        assert len(rows) == sum(1 for holder, _, _ in everything if holder is not None)
    # a reopened store reads back only the open rows, and lists the same
    again = Conversations(open_store(tmp_path))
    assert {r.buyer for r in again.listed_for("a1", supervises=False)} == expected("a1", False)
    store.close()


def test_the_stored_holder_and_agent_follow_memory_through_undone_requests(tmp_path: Path) -> None:
    """A save leaves the holder and agent out of its update when the stored ones are the same
    (issue 9); a change, an undone change and the same change made again all reach the disk."""
    store = open_store(tmp_path)
    journal = Journal()
    directory, rows = Directory(store), Conversations(store, journal)

    def request(change: Callable[[Row], None], *, fail: bool = False) -> None:
        store.savepoint("t")
        journal.begin()
        row = rows.get("b1") or rows.ensure("b1", "b1", Kind.CONSUMER)
        change(row)
        rows.save(row)
        if fail:
            store.rollback_to("t")
            journal.rollback()
        else:
            store.release("t")
            journal.commit()

    def stored() -> tuple[str | None, str | None]:
        found = Repository(store).row("b1")
        assert found is not None
        return found.holder, found.agent

    def hold(agent: str) -> Callable[[Row], None]:
        def change(row: Row) -> None:
            row.holder, row.agent, row.last_text = f"agent:{agent}", agent, f"to {agent}"
        return change

    directory.greet("b1", "b1")
    request(hold("a1"))
    assert stored() == ("agent:a1", "a1")
    request(lambda row: setattr(row, "last_text", "hi"))  # a message: same holder
    assert stored() == ("agent:a1", "a1") and Repository(store).row("b1").last_text == "hi"  # type: ignore[union-attr]
    request(hold("a2"), fail=True)
    assert stored() == ("agent:a1", "a1") and rows.get("b1").agent == "a1"  # type: ignore[union-attr]
    request(hold("a2"))  # the same change as the undone one
    assert stored() == ("agent:a2", "a2")
    rows.settle()
    request(lambda row: setattr(row, "holder", None))  # closed: read back from disk next time
    rows.settle()
    request(hold("a1"))
    assert stored() == ("agent:a1", "a1")
    store.flush()
    store.close()
