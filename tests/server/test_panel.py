"""The buyer panel (issue 12, CONSOLE.md §6): a real server on port 0, real buyers and consoles.
Notes and tags are shared by the shop's agents, bounded, refused for a buyer the agent's list does
not show, and kept across a restart; orders carry their items and amounts; past sessions open."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import (
    MAX_BUYER_TAGS,
    MAX_NOTE,
    MAX_NOTES,
    AddNote,
    AddTag,
    Arrive,
    CloseSession,
    Entry,
    Error,
    ErrorCode,
    GetPanel,
    GetSession,
    Ok,
    OrderItem,
    OrderState,
    OrderUpdate,
    PanelAnswer,
    PanelUpdated,
    RemoveNote,
    RemoveTag,
    Reply,
    ReplyAck,
    Routed,
    Say,
    SessionHistory,
    Transfer,
)
from console.routing.events import Reason

from .helpers import Client, open_store, run, running_server
from .test_reception import buyer, online

NAMES = {"a1": "小美", "a2": "阿杰"}  # the test policy's display names
ITEMS = [OrderItem(title="纯棉T恤 白色 L", quantity=2, price=5900), OrderItem(title="运费险")]


async def _panel(client: Client, conversation: str = "b1") -> PanelAnswer:
    answer = await client.request(GetPanel(conversation=conversation))
    assert isinstance(answer, PanelAnswer), answer
    return answer


async def _error(client: Client, request: object) -> Error:
    answer = await client.request(request)  # type: ignore[arg-type]
    assert isinstance(answer, Error), answer
    return answer


def test_notes_and_tags_are_shared_bounded_checked_and_kept(tmp_path: Path) -> None:
    async def first_life() -> tuple[str, str]:
        async with running_server(tmp_path) as server:
            agents = {"a1": await online(server, "a1"), "a2": await online(server, "a2")}
            b1 = await buyer(server, "b1", "王小姐")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-tee", question="尺码",
                                             intent="buy", crowd=["vip", "new"]))
            assert isinstance(routed, Routed)
            holder = "a1" if routed.name == "小美" else "a2"
            other = "a2" if holder == "a1" else "a1"
            mine, theirs = agents[holder], agents[other]
            await b1.request(Say(text="这件有L码吗", client_id="m1"))
            assert isinstance(await b1.request(OrderUpdate(order="TB1", state=OrderState.UNPAID, items=ITEMS,
                                                           amount=11800)), Ok)
            pushed = await mine.expect(PanelUpdated, lambda e: bool(e.panel.orders))
            assert pushed.panel.orders[0].items == ITEMS and pushed.panel.orders[0].amount == 11800

            # the reception list's rule: only whose list shows the buyer may annotate it
            assert isinstance(await mine.request(AddNote(conversation="b1", text="老客户，偏好顺丰")), Ok)
            assert isinstance(await mine.request(AddTag(conversation="b1", tag="爱砍价")), Ok)
            assert isinstance(await mine.request(AddTag(conversation="b1", tag="爱砍价")), Ok)  # no duplicate
            refused = await _error(theirs, AddNote(conversation="b1", text="我也想写"))
            assert refused.code is ErrorCode.FORBIDDEN
            assert (await _error(theirs, AddTag(conversation="b1", tag="x"))).code is ErrorCode.FORBIDDEN
            assert (await _error(theirs, GetPanel(conversation="b1"))).code is ErrorCode.FORBIDDEN

            # bounded: a note of 501 characters, the 21st tag
            too_long = await _error(mine, AddNote(conversation="b1", text="长" * (MAX_NOTE + 1)))
            assert too_long.code is ErrorCode.INVALID and too_long.field == "text"
            for i in range(MAX_BUYER_TAGS - 1):
                assert isinstance(await mine.request(AddTag(conversation="b1", tag=f"t{i}")), Ok)
            full = await _error(mine, AddTag(conversation="b1", tag="one-more"))
            assert full.code is ErrorCode.CONFLICT
            assert isinstance(await mine.request(RemoveTag(conversation="b1", tag="t0")), Ok)

            panel = (await _panel(mine)).panel
            [note] = panel.notes
            assert (note.text, note.by, note.name) == ("老客户，偏好顺丰", holder, NAMES[holder])
            assert panel.tags[0] == "爱砍价" and "t0" not in panel.tags and len(panel.tags) == MAX_BUYER_TAGS - 1
            assert panel.arrive is not None and panel.arrive.crowd == ["vip", "new"]
            assert panel.arrive.product == "p-tee" and panel.arrive.intent == "buy"
            assert panel.why is not None and panel.why.to == f"agent:{holder}" and panel.why.rule
            [session] = panel.sessions
            assert (session.agent, session.name, session.ended) == (holder, NAMES[holder], None)

            # shared: the supervisor gives the buyer to the other agent, who sees the note
            sup = await Client.agent(server)
            await sup.login("sup")
            assert isinstance(await sup.request(Transfer(conversation="b1", agent=other)), Ok)
            shared = (await _panel(theirs)).panel
            assert [(n.text, n.by) for n in shared.notes] == [("老客户，偏好顺丰", holder)]
            assert shared.why is not None and shared.why.why is Reason.TRANSFER
            assert isinstance(await theirs.request(AddNote(conversation="b1", text="已改发顺丰")), Ok)
            assert (await _error(mine, AddNote(conversation="b1", text="还想写"))).code is ErrorCode.FORBIDDEN
            assert [s.agent for s in shared.sessions] == [other, holder]
            assert shared.sessions[1].ended is not None and shared.sessions[0].ended is None
            return holder, other

    holder, other = run(first_life())

    async def second_life() -> None:
        async with running_server(tmp_path) as server:
            theirs = await Client.agent(server)
            await theirs.login(other)
            panel = (await _panel(theirs)).panel
            assert [(n.text, n.by) for n in panel.notes] == [("老客户，偏好顺丰", holder), ("已改发顺丰", other)]
            assert panel.tags[0] == "爱砍价" and len(panel.tags) == MAX_BUYER_TAGS - 1
            assert panel.orders[0].items == ITEMS and panel.orders[0].state is OrderState.UNPAID
            mine_note = panel.notes[0].id
            assert isinstance(await theirs.request(RemoveNote(conversation="b1", note=mine_note)), Ok)
            assert (await _error(theirs, RemoveNote(conversation="b1", note=mine_note))).code is ErrorCode.NOT_FOUND
            assert [n.text for n in (await _panel(theirs)).panel.notes] == ["已改发顺丰"]

    run(second_life())


def test_order_items_are_bounded_and_kept_when_left_out(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, exclusive="a1"))
            too_many = await b1.request(OrderUpdate(order="TB9", state=OrderState.UNPAID,
                                                    items=[OrderItem(title="x")] * 51))
            assert isinstance(too_many, Error) and too_many.code is ErrorCode.INVALID and too_many.field == "items"
            negative = await b1.request(OrderUpdate(order="TB9", state=OrderState.UNPAID, amount=-1))
            assert isinstance(negative, Error) and negative.field == "amount"
            assert isinstance(await b1.request(OrderUpdate(order="TB9", state=OrderState.UNPAID, items=ITEMS,
                                                           amount=11800)), Ok)
            assert isinstance(await b1.request(OrderUpdate(order="TB9", state=OrderState.PAID)), Ok)
            [order] = (await _panel(a1)).panel.orders
            assert (order.state, order.items, order.amount) == (OrderState.PAID, ITEMS, 11800)
            assert order.created_at <= order.updated_at
            arrive = (await _panel(a1)).panel.arrive
            assert arrive is not None and (arrive.exclusive, arrive.exclusive_name) == ("a1", "小美")

    run(scenario())


def test_a_past_session_opens_with_its_own_messages(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="第一次来", client_id="m1"))
            assert isinstance(await a1.request(Reply(conversation="b1", text="欢迎", client_id="c1")), ReplyAck)
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="第二次来", client_id="m2"))
            sessions = (await _panel(a1)).panel.sessions
            assert len(sessions) == 2 and sessions[0].ended is None and sessions[1].ended is not None
            past = await a1.request(GetSession(conversation="b1", session=sessions[1].id))
            assert isinstance(past, SessionHistory), past
            assert [m.text for m in past.messages if m.author.value != "system"] == ["第一次来", "欢迎"]
            missing = await a1.request(GetSession(conversation="b1", session=sessions[0].id + 999))
            assert isinstance(missing, Error) and missing.code is ErrorCode.NOT_FOUND

    run(scenario())


def test_a_buyer_keeps_its_latest_notes_and_blank_ones_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            for i in range(MAX_NOTES + 2):
                assert isinstance(await a1.request(AddNote(conversation="b1", text=f"第{i}条")), Ok)
            notes = (await _panel(a1)).panel.notes
            assert len(notes) == MAX_NOTES and notes[0].text == "第2条" and notes[-1].text == f"第{MAX_NOTES + 1}条"
            assert (await _error(a1, AddNote(conversation="b1", text="   "))).field == "text"
            assert (await _error(a1, AddTag(conversation="b1", tag="  "))).field == "tag"
            assert (await _error(a1, AddTag(conversation="b1", tag="a\tb"))).field == "tag"
            assert (await _error(a1, GetPanel(conversation="nobody"))).code is ErrorCode.NOT_FOUND

    run(scenario())


def test_the_entry_product_is_shown_by_its_catalogue_title_and_price(tmp_path: Path) -> None:
    from console.reception.catalog import Product
    from console.server.repository.catalog import Catalog

    store = open_store(tmp_path / "data")  # the test's store (SQLite or its shop on PostgreSQL)
    Catalog(store).put([Product("p-tee", "纯棉T恤 白色", 5900)], 0.0)
    store.close()

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            agents = {"a1": await online(server, "a1"), "a2": await online(server, "a2")}
            b1 = await buyer(server, "b1", "王小姐")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-tee"))
            assert isinstance(routed, Routed)
            mine = agents["a1" if routed.name == "小美" else "a2"]
            arrive = (await _panel(mine)).panel.arrive
            assert arrive is not None and (arrive.product, arrive.product_title, arrive.product_price) == (
                "p-tee", "纯棉T恤 白色", 5900)
            b2 = await buyer(server, "b2", "李先生")
            routed = await b2.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-gone"))
            assert isinstance(routed, Routed)
            mine = agents["a1" if routed.name == "小美" else "a2"]
            arrive = (await _panel(mine, "b2")).panel.arrive
            assert arrive is not None and arrive.product == "p-gone" and arrive.product_title is None  # not in it

    run(scenario())
