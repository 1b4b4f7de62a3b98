"""Search (issue 13): a real server on port 0, real buyers and consoles; found as they arrive,
after a restart, only where the asker may see."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.protocol.messages import (
    Arrive,
    CloseSession,
    Entry,
    Error,
    ErrorCode,
    Ok,
    OrderState,
    OrderUpdate,
    Reply,
    ReplyAck,
    Say,
    Search,
    SearchMatch,
    SearchResults,
)

from .helpers import Client, open_store, run, running_server
from .test_reception import buyer, online


async def _search(client: Client, query: str, **kwargs: object) -> SearchResults:
    answer = await client.request(Search(query=query, **kwargs))  # type: ignore[arg-type]
    assert isinstance(answer, SearchResults), answer
    return answer


def _marked(hit_snippet: str, spans: list[tuple[int, int]]) -> list[str]:
    return [hit_snippet[a:b] for a, b in spans]


def test_messages_are_found_as_they_arrive_and_after_a_restart(tmp_path: Path) -> None:
    async def first_life() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "王小姐")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-dress"))
            await b1.request(Say(text="你好，连衣裙的尺码怎么选？身高165", client_id="m1"))
            found = await _search(a1, "尺码怎么")
            [hit] = [h for h in found.hits if h.match is SearchMatch.MESSAGE]
            assert hit.conversation == "b1" and hit.name == "王小姐"
            assert _marked(hit.snippet, hit.highlights) == ["尺码怎么"]
            assert hit.open and hit.can_reply  # a1 holds the session: the reply path takes it
            ack = await a1.request(Reply(conversation="b1", text="165建议M码哦", client_id="c1"))
            assert isinstance(ack, ReplyAck)
            found = await _search(a1, "M码")  # two characters: the bounded scan; ASCII case ignored
            assert [h.message_id for h in found.hits if h.match is SearchMatch.MESSAGE] == [ack.message_id]
            assert [h.conversation for h in (await _search(a1, "m码")).hits] == ["b1"]
            ete = await a1.request(Reply(conversation="b1", text="ÉTÉ 款有货", client_id="c2"))
            for query in ("été 款", "Été", "té"):  # case in every script: three characters or more, then two
                assert [h.message_id for h in (await _search(a1, query)).hits] == [ete.message_id], query
            assert (await b1.request(OrderUpdate(order="TB20261126001", state=OrderState.UNPAID))).__class__ is Ok
            by_order = await _search(a1, "20261126")
            assert [(h.match, h.conversation) for h in by_order.hits] == [(SearchMatch.ORDER, "b1")]
            by_name = await _search(a1, "小姐")
            assert [(h.match, h.conversation) for h in by_name.hits] == [(SearchMatch.NAME, "b1")]
            by_product = await _search(a1, "dress")
            assert [(h.match, h.conversation) for h in by_product.hits] == [(SearchMatch.PRODUCT, "b1")]
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)

    async def second_life() -> None:
        async with running_server(tmp_path, seed=False) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            found = await _search(a1, "连衣裙的尺码")
            [hit] = found.hits
            assert hit.conversation == "b1" and not hit.open and not hit.can_reply  # closed: read-only
            b1 = await buyer(server, "b1", "王小姐")
            await b1.request(Say(text="连衣裙的尺码偏大吗", client_id="m2"))  # after the restart: indexed too
            found = await _search(a1, "连衣裙的尺码")
            assert [h.snippet for h in found.hits] == ["连衣裙的尺码偏大吗", "你好，连衣裙的尺码怎么选？身高165"]

    run(first_life())
    run(second_life())


def test_an_agent_finds_only_conversations_it_may_see_and_a_supervisor_the_shop(tmp_path: Path) -> None:
    """The who-sees rule (Shop.visible_to) bounds search. Planted once: with the scope dropped in
    AgentSide._search (``scope = None`` for everyone), a2 found b1's message and this test failed."""

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "李先生")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="我的快递单号写错了", client_id="m1"))
            await a1.request(Reply(conversation="b1", text="帮您改一下快递单号", client_id="c1"))
            a2 = await Client.agent(server)
            await a2.login("a2")
            assert (await _search(a2, "快递单号")).hits == []
            assert (await _search(a2, "李先生")).hits == []
            assert (await _search(a2, "快递")).hits == []
            mine = await _search(a1, "快递单号")
            assert {h.conversation for h in mine.hits} == {"b1"} and len(mine.hits) == 2
            sup = await Client.agent(server)
            await sup.login("sup")
            everything = await _search(sup, "快递单号")
            assert len(everything.hits) == 2 and not any(h.can_reply for h in everything.hits)

    run(scenario())


def test_bad_queries_get_a_typed_error_and_syntax_is_literal(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text='价格"50%" OR 优惠*吗 (NEAR) a_b', client_id="m1"))
            for query in ("   ", "", "a\x00bc", "\uffff\U0001f630\u00a8/\u0000\ufffb3", "\x1b[0m"):  # NUL: from the fuzzer
                error = await a1.request(Search(query=query))
                assert isinstance(error, Error) and error.code is ErrorCode.INVALID and error.field == "query"
            too_long = await a1.request(Search(query="长" * 65))
            assert isinstance(too_long, Error) and too_long.code is ErrorCode.INVALID
            await a1.send_raw('{"type":"search","rid":"big","query":"价格","before":18446744073709551616}')
            huge = await a1.expect(Error, lambda e: e.rid == "big")  # past a SQLite rowid: was internal
            assert huge.code is ErrorCode.INVALID and huge.field == "before"
            for query, found in (('"50%"', 1), ("OR 优惠*", 1), ("(NEAR)", 1), ("a_b", 1), ("%", 1), ("_", 1),
                                 ('"', 1), ("AND", 0), ("*", 1), ("NOT 优", 0), ("a%b", 0), ("'", 0)):
                answer = await _search(a1, query)
                assert len(answer.hits) == found, (query, answer)

    run(scenario())


def test_results_page_on_with_the_cursor(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            for i in range(7):
                await b1.request(Say(text=f"第{i}次催发货了", client_id=f"m{i}"))
            first = await _search(a1, "催发货", limit=3)
            assert [h.snippet for h in first.hits] == ["第6次催发货了", "第5次催发货了", "第4次催发货了"]
            seen = [h.message_id for h in first.hits]
            cursor = first.next_before
            while cursor is not None:
                page = await _search(a1, "催发货", limit=3, before=cursor)
                seen += [h.message_id for h in page.hits]
                cursor = page.next_before
            assert len(seen) == 7 and seen == sorted(seen, reverse=True)

    run(scenario())


@pytest.mark.sqlite_only  # the FTS5 backfill
def test_a_database_without_the_index_gets_it_backfilled_whatever_its_version(tmp_path: Path) -> None:
    """Schema 3 had no search index; and a database some other migration left at the current
    version without it (or without a trigger) is mended the same way: created, then rebuilt."""
    import sqlite3

    from console.server.store import DB_NAME, SCHEMA_VERSION, Store

    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (3);
        CREATE TABLE buyers (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, created_at REAL NOT NULL);
        INSERT INTO buyers VALUES ('b1', '赵女士', 'consumer', 0);
        CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation TEXT NOT NULL REFERENCES buyers(id),
            author TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL, agent TEXT, client_id TEXT);
        INSERT INTO messages VALUES (4, 'b1', 'buyer', '收到的杯子有破损', 1, NULL, NULL);
    """)
    old.commit()
    old.close()

    def found(store: Store, query: str) -> list[int]:
        rows = store.all("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (f'"{query}"',))
        return [int(r[0]) for r in rows]

    store = Store.open(tmp_path)
    try:
        assert store.one("SELECT version FROM schema_version")["version"] == SCHEMA_VERSION
        assert found(store, "杯子有破") == [4]
        store.db.execute("DROP TRIGGER messages_fts_delete")  # as if another branch's migration lost it
        store.db.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'agent', '马上给您补发杯子', 2)")
    finally:
        store.close()
    store = Store.open(tmp_path)
    try:
        assert found(store, "补发杯子") == [5]  # rebuilt on open, trigger back
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'buyer', '杯子收到了', 3)")
        store.flush()
        assert found(store, "杯子") == [] and found(store, "杯子收") == [6]  # trigrams: 3 characters or more
    finally:
        store.close()


def test_every_agent_who_held_the_conversation_finds_and_reads_it_but_only_the_holder_writes(tmp_path: Path) -> None:
    """audience.finds: after a transfer the list shows the buyer only to the new holder, but the
    agent who held it before still finds it (by text, name, order, product title) and opens it
    read-only; a colleague who never held it finds nothing and may not open it. Planted once:
    with ``held`` left out of Conversations.searchable's scope, a1 found nothing after the move."""
    from console.protocol.messages import GetPanel, History, Open, PanelAnswer, Transfer
    from console.reception.catalog import Product
    from console.server.repository.catalog import Catalog
    from tests.server.helpers import POLICY

    store = open_store(tmp_path / "data")  # the test's store (SQLite or its shop on PostgreSQL)
    Catalog(store).put([Product("p-dress", "法式碎花连衣裙", 15900)], 0.0)
    store.close()
    policy = POLICY + '\n[[agents]]\nid = "a3"\nname = "小周"\ngroups = ["presale"]\n'

    async def scenario() -> None:
        async with running_server(tmp_path, policy=policy) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "王小姐")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-dress"))
            await b1.request(Say(text="发票抬头要写公司名", client_id="m1"))
            await b1.request(OrderUpdate(order="TB777", state=OrderState.UNPAID))
            a2 = await online(server, "a2")
            assert isinstance(await a1.request(Transfer(conversation="b1", agent="a2")), Ok)
            a3 = await Client.agent(server)
            await a3.login("a3")
            for query, match in (("发票抬头", SearchMatch.MESSAGE), ("王小姐", SearchMatch.NAME),
                                 ("TB777", SearchMatch.ORDER), ("碎花连衣", SearchMatch.PRODUCT)):
                before = await _search(a1, query)  # a1 held it: still finds it
                assert [(h.conversation, h.match) for h in before.hits] == [("b1", match)], query
                assert not before.hits[0].can_reply and before.hits[0].open
                assert [h.conversation for h in (await _search(a2, query)).hits] == ["b1"], query  # the holder
                assert (await _search(a3, query)).hits == [], query  # never held it
            history = await a1.request(Open(conversation="b1"))
            assert isinstance(history, History) and history.messages[0].text == "发票抬头要写公司名"
            assert isinstance(await a1.request(GetPanel(conversation="b1")), PanelAnswer)
            refused = await a1.request(Reply(conversation="b1", text="我来回", client_id="c9"))
            assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN  # read-only for a1
            stranger = await a3.request(Open(conversation="b1"))
            assert isinstance(stranger, Error) and stranger.code is ErrorCode.FORBIDDEN

    run(scenario())


def test_message_again_reopens_a_closed_conversation_with_a_reachable_buyer(tmp_path: Path) -> None:
    """再次联系: a closed conversation's hit says whether the buyer is reachable; ``contact`` opens
    a session with the asker (reason contact, R3.5), the reply reaches the buyer; refused for a
    colleague who never held it, and for a buyer gone and silent longer than recent.window."""
    import time

    from console.protocol.messages import AgentMessage, ContactBuyer, ConversationUpdated
    from tests.server.helpers import POLICY

    clock = [time.time()]
    policy_text = POLICY + '\n[recent]\nwindow = "1h"\nany_status = 0\n'

    async def scenario() -> None:
        async with running_server(tmp_path, policy=policy_text, clock=lambda: clock[0]) as server:
            a1 = await online(server, "a1")
            a2 = await Client.agent(server)
            await a2.login("a2")  # offline: every buyer goes to a1
            b1 = await buyer(server, "b1", "王小姐")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="想问一下退换货地址", client_id="m1"))
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            [hit] = (await _search(a1, "退换货地址")).hits
            assert not hit.open and hit.reachable  # its gateway is still connected
            stranger = await a2.request(ContactBuyer(conversation="b1"))
            assert isinstance(stranger, Error) and stranger.code is ErrorCode.FORBIDDEN  # never held it
            assert isinstance(await a1.request(ContactBuyer(conversation="b1")), Ok)
            row = await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "b1" and e.conversation.open)
            assert row.conversation.holder == "agent:a1"
            assert isinstance(await a1.request(ContactBuyer(conversation="b1")), Ok)  # already ours: nothing more
            ack = await a1.request(Reply(conversation="b1", text="您好，退换货地址发您", client_id="c2"))
            assert isinstance(ack, ReplyAck)
            assert (await b1.expect(AgentMessage)).text == "您好，退换货地址发您"
            assert server.shop is not None
            last = server.shop.repo.decisions("b1")[-1]
            assert (last["why"], last["rule"]) == ("contact", "R3.5")

            # a buyer gone (its gateway disconnected) is reachable within recent.window, not after
            b2 = await buyer(server, "b2", "李先生")
            await b2.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b2.request(Say(text="退换货要多久", client_id="m3"))
            assert isinstance(await a1.request(CloseSession(conversation="b2")), Ok)
            await b2.conn.close()
            await b1.request(Say(text="好的", client_id="m2"))  # a request after the close: it is seen
            [hit] = (await _search(a1, "要多久")).hits
            assert hit.reachable  # silent for less than an hour
            clock[0] += 2 * 3600
            [hit] = (await _search(a1, "要多久")).hits
            assert not hit.reachable
            gone = await a1.request(ContactBuyer(conversation="b2"))
            assert isinstance(gone, Error) and gone.code is ErrorCode.CONFLICT

    run(scenario())
def test_messages_join_the_index_at_a_commit_not_by_a_trigger(tmp_path: Path) -> None:
    """Issue 9: no trigger per insert (a database of the first version loses it, keeping its index);
    the messages written since the last indexing are indexed in one statement at a commit (at most
    every ``INDEX_EVERY``: a search scans the rest, the test after this one)."""
    from console.server.store import Store

    def found(store: Store, query: str) -> list[int]:
        rows = store.all("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (f'"{query}"',))
        return sorted(int(r[0]) for r in rows)

    store = Store.open(tmp_path)
    try:
        store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES ('b1', '赵女士', 'consumer', 0)")
        store.db.execute("""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END""")  # the first version's
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'buyer', '杯子有破损', 1)")
        store.flush()
    finally:
        store.close()
    store = Store.open(tmp_path)
    store.INDEX_EVERY = 0.0  # every commit indexes
    try:
        assert store.one("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_insert'") is None
        assert found(store, "杯子有") == [1]  # indexed by the old trigger, not indexed twice
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'agent', '给您补发杯子', 2)")
        assert found(store, "补发杯") == []  # not yet: no trigger
        store.flush()
        assert found(store, "补发杯") == [2]
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'buyer', '杯子收到了', 3)")
        store.flush()
        assert found(store, "杯子收") == [3] and found(store, "杯子") == []
        assert store.one("SELECT COUNT(*) FROM messages_fts_docsize")[0] == 3
    finally:
        store.close()


def test_a_search_finds_the_messages_the_index_does_not_hold_yet(tmp_path: Path) -> None:
    """Issue 9: the store indexes new messages at most once every ``INDEX_EVERY``; a search scans
    the messages after the highest indexed one, on the loop's connection (its own batch too) and
    on the worker's read-only one (what is committed), newest first, before the index's."""
    from console.server.repository.search import Reader
    from console.server.search import MessageSearch
    from console.server.store import Store

    def ids(source: object, query: str, limit: int = 10) -> list[int]:
        found = MessageSearch(store).lookup(source, query, None, limit, None)  # type: ignore[arg-type]
        return [int(r["id"]) for r in found.messages]

    store = Store.open(tmp_path)
    reader = Reader(str(store.path))
    try:
        store.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES ('b1', '赵女士', 'consumer', 0)")
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'buyer', '双十一杯子有破损', 1)")
        store.flush()  # the first commit indexes
        assert store.one("SELECT MAX(id) FROM messages_fts_docsize")[0] == 1
        store.INDEX_EVERY = 3600.0  # no indexing at the next commits
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'agent', '双十一给您补发杯子', 2)")
        store.flush()
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'buyer', '双十一杯子收到了', 3)")
        assert store.one("SELECT MAX(id) FROM messages_fts_docsize")[0] == 1  # 2 and 3 are not indexed
        assert ids(store, "双十一") == [3, 2, 1]  # the loop's connection: its own batch's message too
        assert ids(reader, "双十一") == [2, 1]  # the worker's: what is committed
        assert ids(reader, "补发杯") == [2] and ids(reader, "有破损") == [1] and ids(reader, "收到了") == []
        assert ids(store, "双十一", limit=1) == [3]
        # the scans fold case as the index does, every script's, not as LIKE does (ASCII's only)
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'buyer', 'crème brûlée НА СКЛАДЕ', 4)")
        assert ids(store, "CRÈME BRÛLÉE") == [4] and ids(store, "на складе") == [4]  # the tail scan
        assert ids(store, "ÛL") == [4] and ids(store, "Ж") == []  # the short scan
        store.flush()  # committed, not indexed
        assert ids(reader, "на складе") == [4] and ids(reader, "ÛL") == [4]  # the worker's connection too
        store.INDEX_EVERY = 0.0
        store.execute("INSERT INTO messages (conversation, author, text, at) VALUES ('b1', 'agent', '好的', 5)")
        store.flush()
        assert store.one("SELECT MAX(id) FROM messages_fts_docsize")[0] == 5
        assert ids(reader, "双十一") == [3, 2, 1] and ids(reader, "CRÈME BRÛLÉE") == ids(reader, "на складе") == [4]  # as the index
    finally:
        reader.close()
        store.close()


@pytest.mark.sqlite_only  # SQLite's LIKE
def test_a_name_is_found_in_every_scripts_case_on_disk_too(tmp_path: Path) -> None:
    """The rows a search reads from disk by name (a closed conversation) match case in every
    script, as the rows in memory do (``str.casefold``): SQLite's LIKE alone folds ASCII only."""
    from console.reception.model import Kind
    from console.server.conversations import Conversations
    from console.server.directory import Directory
    from console.server.repository import Repository
    from console.server.repository.search import Reader
    from console.server.search import like_pattern
    from console.server.store import Store

    store = Store.open(tmp_path)
    rows, directory = Conversations(store), Directory(store)
    for who, name in (("b1", "Émilie Roux"), ("b2", "ЖАННА"), ("b3", "王小姐")):
        directory.greet(who, name)
        row = rows.ensure(who, name, Kind.CONSUMER)
        row.agent = "a1"  # a closed conversation in a1's history: on disk only
        rows.save(row)
    store.flush()
    reader = Reader(str(store.path))
    try:
        for source in (store, reader):
            repo = Repository(source)  # type: ignore[arg-type]
            for query, found in (("émilie", ["b1"]), ("ROUX", ["b1"]), ("жанна", ["b2"]), ("小姐", ["b3"])):
                assert [r.buyer for r in repo.rows_named(like_pattern(query), 10)] == found, query
                assert [r.buyer for r in repo.findable_named("a1", like_pattern(query), 10)] == found, query
            assert repo.findable_named("a2", like_pattern("émilie"), 10) == []
    finally:
        reader.close()
        store.close()


def test_an_open_row_is_searched_as_memory_has_it_not_as_it_was_last_saved(tmp_path: Path) -> None:
    """A message to an open session leaves its row on disk as it was (issue 9), so the rows read
    from disk for a name search are the closed ones, cut to the limit by their exact times, and
    the open rows come from memory: a buyer a1 once received, held by a2 now and active since its
    row was saved, is among a1's candidates however many closed rows match before the limit.
    Planted: the disk read cut open rows to the limit by their saved time (before this fix):
    b0 was not among the candidates."""
    from console.reception.model import Kind
    from console.server.conversations import Conversations, search_candidates
    from console.server.directory import Directory
    from console.server.repository import Repository
    from console.server.search import like_pattern
    from console.server.store import Store

    store = Store.open(tmp_path)
    rows, directory, repo = Conversations(store), Directory(store), Repository(store)
    for i, at in enumerate((10.0, 50.0, 60.0, 70.0)):
        who = f"b{i}"
        directory.greet(who, f"王小姐{i}")
        row = rows.ensure(who, f"王小姐{i}", Kind.CONSUMER)
        row.agent, row.last_at = "a1", at  # b1-b3: closed conversations in a1's history
        if who == "b0":  # a1 received it once; a2 holds it now
            repo.record_reception("a1", who, 1.0)
            row.agent, row.holder = "a2", "agent:a2"
        rows.save(row)
    store.flush()
    rows = Conversations(store)  # a restart: the open row in memory, the closed ones on disk only
    live = rows.get("b0")
    assert live is not None and live.holder == "agent:a2"
    live.last_at = 100.0  # a message since: memory only
    merged, scope = rows.merge_candidates("a1", search_candidates(repo, "a1", like_pattern("王小姐"), 2, []))
    assert scope is not None and "b0" in scope
    assert "b0" in merged and merged["b0"] is live and merged["b0"].last_at == 100.0
    assert {"b2", "b3"} <= set(merged)  # the two newest closed ones, by their exact times
    store.close()
