"""The row indexes list exactly the rows ``console.reception.audience`` says a viewer sees."""

from __future__ import annotations

import itertools
from pathlib import Path

from console.reception.audience import sees
from console.reception.model import Kind
from console.server.conversations import Conversations
from console.server.directory import Directory

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
