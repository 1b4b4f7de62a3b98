"""The row indexes list exactly the rows ``console.reception.audience`` says a viewer sees."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from console.reception.audience import sees
from console.reception.model import Author, Kind
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


def test_a_reopened_store_reads_every_row_as_memory_had_it(tmp_path: Path) -> None:
    """Issue 9: a message to an open session moves its row in memory only (the stored row keeps
    its last save); a reopened store folds the messages after the row's latest ids back in. Every
    field comes back as memory had it: each author, a system message before a save, an agent's
    open (unread 0) and 清扫 saved in between, a bot-held row, a closed row (whole on disk)."""
    store = open_store(tmp_path)
    rows = Conversations(store)
    directory = Directory(store)
    clock = itertools.count(1.0)

    def row(buyer: str, holder: str | None) -> Row:
        directory.greet(buyer, buyer)
        found = rows.ensure(buyer, buyer, Kind.CONSUMER)
        found.holder, found.agent = holder, "a1"
        rows.save(found)
        return found

    def say(found: Row, author: Author, text: str) -> None:
        assert rows.add_message(found, author, text, next(clock)) is not None

    held, bot, closed = row("b1", "agent:a1"), row("b2", "bot"), row("b3", None)
    say(held, Author.BUYER, "在吗")
    say(held, Author.SYSTEM, "转接给 小美")
    held.unread = 0  # the agent opens it (Shop.open_conversation): a save
    rows.save(held)
    say(held, Author.BUYER, "发什么快递")
    say(held, Author.AGENT, "顺丰")
    say(held, Author.BUYER, "好的")
    say(held, Author.BUYER, "谢谢")
    say(bot, Author.BUYER, "退款")
    say(bot, Author.BOT, "请提供订单号")
    held_cleared = row("b4", "agent:a1")
    say(held_cleared, Author.BUYER, "在吗")
    say(held_cleared, Author.AGENT, "在的")
    held_cleared.cleared = True  # 清扫: a save
    rows.save(held_cleared)
    say(held_cleared, Author.SYSTEM, "会话已评价")
    say(closed, Author.BUYER, "还在吗")
    store.flush()
    stored = Repository(store).row("b1")
    assert stored is not None and stored.last_text == "转接给 小美" and held.last_text == "谢谢"  # not written
    again = Conversations(open_store(tmp_path))
    for found in (held, bot, held_cleared, closed):
        assert again.get(found.buyer) == found
    assert (held.unread, held.waiting_since, closed.unread) == (2, 5.0, 1)
    store.close()
