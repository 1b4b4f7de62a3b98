"""Routing of real arrivals into agents' lists, sections moving, replies, ownership (CONSOLE.md §1, §5)."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import (
    AgentMessage,
    Arrive,
    BuyerHello,
    Claim,
    ClearSection,
    CloseSession,
    ConversationRemoved,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    History,
    MessageAdded,
    Ok,
    Open,
    RemovalReason,
    Reply,
    ReplyAck,
    Routed,
    Say,
    SayAck,
    SessionClosed,
    SetStatus,
    StatusChanged,
    Transfer,
    Why,
    WhyAnswer,
)
from console.reception.model import Author, Kind, Section
from console.routing.events import Reason, Status

from .helpers import Client, run, running_server


async def online(server, user: str) -> Client:  # type: ignore[no-untyped-def]
    client = await Client.agent(server)
    await client.login(user)
    assert isinstance(await client.request(SetStatus(status=Status.ONLINE)), Ok)
    await client.expect(StatusChanged, lambda e: e.status is Status.ONLINE)
    return client


async def buyer(server, buyer_id: str, name: str = "") -> Client:  # type: ignore[no-untyped-def]
    client = await Client.buyer(server)
    assert isinstance(await client.request(BuyerHello(buyer=buyer_id, name=name or buyer_id)), Ok)
    return client


def row_of(buyer_id: str):  # type: ignore[no-untyped-def]
    return lambda e: e.conversation.id == buyer_id


def test_arrival_reaches_the_agent_and_sections_move(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "王小姐")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
            assert isinstance(routed, Routed) and routed.to == "agent" and routed.name == "小美"
            arrived = await a1.expect(ConversationUpdated, row_of("b1"))
            row = arrived.conversation
            assert row.name == "王小姐" and row.kind is Kind.CONSUMER and row.holder == "agent:a1"
            assert row.section is Section.PENDING and row.open

            ack = await b1.request(Say(text="这个有现货吗", client_id="m1"))
            assert isinstance(ack, SayAck) and not ack.duplicate
            added = await a1.expect(MessageAdded)
            assert added.message.author is Author.BUYER and added.message.text == "这个有现货吗"
            assert added.conversation is not None  # the row after the message comes in the same event
            row = added.conversation
            assert row.unread == 1 and row.section is Section.PENDING and row.waiting_since is not None

            reply = await a1.request(Reply(conversation="b1", text="有的亲", client_id="c1"))
            assert isinstance(reply, ReplyAck) and not reply.duplicate
            replied = await a1.expect(MessageAdded, lambda e: e.message.author is Author.AGENT)
            assert replied.conversation is not None
            row = replied.conversation
            assert row.section is Section.REPLIED and row.waiting_since is None and row.last_text == "有的亲"
            # one agent event per message (issue 9): nothing else was numbered for a1 between them
            assert replied.seq == added.seq + 1
            assert not [e for e in a1.inbox if isinstance(e, ConversationUpdated)]
            to_buyer = await b1.expect(AgentMessage)
            assert to_buyer.text == "有的亲" and to_buyer.author is Author.AGENT and to_buyer.name == "小美"

            await b1.request(Say(text="好的，那我拍了", client_id="m2"))
            await a1.expect(MessageAdded, lambda e: e.conversation is not None and e.conversation.section is Section.PENDING)

            history = await a1.request(Open(conversation="b1"))
            assert isinstance(history, History)
            assert [m.text for m in history.messages] == ["这个有现货吗", "有的亲", "好的，那我拍了"]
            assert history.conversation.unread == 0

    run(scenario())


def test_reply_is_idempotent_on_client_id(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            first = await a1.request(Reply(conversation="b1", text="在的", client_id="same"))
            second = await a1.request(Reply(conversation="b1", text="在的", client_id="same"))
            assert isinstance(first, ReplyAck) and not first.duplicate
            assert isinstance(second, ReplyAck) and second.duplicate and second.message_id == first.message_id
            history = await a1.request(Open(conversation="b1"))
            assert [m.text for m in history.messages] == ["在的"]
            again = await b1.request(Say(text="hi", client_id="x"))
            dup = await b1.request(Say(text="hi", client_id="x"))
            assert dup.duplicate and dup.message_id == again.message_id

    run(scenario())


def test_agent_cannot_touch_another_agents_conversation(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            a2 = await Client.agent(server)
            await a2.login("a2")  # a2 stays offline: b1 goes to a1
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await a1.expect(ConversationUpdated, row_of("b1"))
            for request in (Open(conversation="b1"), Reply(conversation="b1", text="x", client_id="c"),
                            CloseSession(conversation="b1"), Why(conversation="b1"),
                            Transfer(conversation="b1", agent="a2")):
                answer = await a2.request(request)
                assert isinstance(answer, Error), answer
                assert answer.code is ErrorCode.FORBIDDEN, answer
            nothing = await a2.request(Open(conversation="nobody"))
            assert isinstance(nothing, Error) and nothing.code is ErrorCode.NOT_FOUND

    run(scenario())


def test_supervisor_transfers_and_can_ask_why(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            sup = await Client.agent(server)
            await sup.login("sup")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.expect(MessageAdded)
            a2 = await Client.agent(server)
            await a2.login("a2")
            offline = await sup.request(Transfer(conversation="b1", agent="a2"))
            assert isinstance(offline, Error) and offline.code is ErrorCode.CONFLICT  # R3.5: a2 is offline
            assert isinstance(await a2.request(SetStatus(status=Status.ONLINE)), Ok)
            moved = await sup.request(Transfer(conversation="b1", agent="a2"))
            assert isinstance(moved, Ok), moved
            gone = await a1.expect(ConversationRemoved)
            assert gone.id == "b1" and gone.reason is RemovalReason.TRANSFERRED
            row = (await a2.expect(ConversationUpdated, row_of("b1"))).conversation
            assert row.holder == "agent:a2" and row.section is Section.PENDING
            routed = await b1.expect(Routed)
            assert routed.why is Reason.TRANSFER and routed.name == "阿杰"
            why = await sup.request(Why(conversation="b1"))
            assert isinstance(why, WhyAnswer)
            assert [(d.to, d.why) for d in why.decisions] == [("agent:a1", Reason.GROUP), ("agent:a2", Reason.TRANSFER)]
            reply = await a2.request(Reply(conversation="b1", text="我来处理", client_id="c1"))
            assert isinstance(reply, ReplyAck)
            late = await a1.request(Reply(conversation="b1", text="还在吗", client_id="c2"))
            assert isinstance(late, Error) and late.code is ErrorCode.FORBIDDEN

    run(scenario())


def test_close_and_clear(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.request(Reply(conversation="b1", text="在的", client_id="c1"))
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            closed = await b1.expect(SessionClosed)
            assert closed.why is Reason.AGENT_CLOSE
            row = (await a1.expect(ConversationUpdated, lambda e: not e.conversation.open)).conversation
            assert row.section is Section.REPLIED and row.holder is None
            refused = await a1.request(Reply(conversation="b1", text="x", client_id="c2"))
            assert isinstance(refused, Error) and refused.code is ErrorCode.CONFLICT
            assert isinstance(await a1.request(ClearSection(section=Section.REPLIED)), Ok)
            cleared = await a1.expect(ConversationRemoved)
            assert cleared.reason is RemovalReason.CLEARED
            # the buyer writes again: a new session, and the row comes back, pending
            await b1.request(Say(text="还有个问题", client_id="m2"))
            row = (await a1.expect(ConversationUpdated, lambda e: e.conversation.section is Section.PENDING)).conversation
            assert not row.cleared and row.holder == "agent:a1"

    run(scenario())


def test_message_pool_claim(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            a2 = await Client.agent(server)
            await a2.login("a2")
            b1 = await buyer(server, "b1")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))  # nobody online: R6.1 pool
            assert routed.to == "pool" and routed.why is Reason.OFFLINE_POOL
            await b1.request(Say(text="有人吗", client_id="m1"))
            await a1.expect(ConversationUpdated, lambda e: e.conversation.holder == "pool")
            await a2.expect(ConversationUpdated, lambda e: e.conversation.holder == "pool")
            assert isinstance(await a2.request(Claim(conversation="b1")), Ok)
            gone = await a1.expect(ConversationRemoved)
            assert gone.reason is RemovalReason.CLAIMED
            await a2.expect(ConversationUpdated, lambda e: e.conversation.holder == "agent:a2")
            late = await a1.request(Claim(conversation="b1"))
            assert isinstance(late, Error) and late.code in (ErrorCode.CONFLICT, ErrorCode.FORBIDDEN)

    run(scenario())


def test_bot_answers_then_hands_off(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            routed = await b1.request(Arrive(entry=Entry.DM))  # botgroup: bot on (R7.6)
            assert routed.to == "bot", routed
            await b1.request(Say(text="几天发货呀", client_id="m1"))
            answer = await b1.expect(AgentMessage)
            assert answer.author is Author.BOT and "发货" in answer.text
            await sup.expect(MessageAdded, lambda e: e.conversation is not None
                             and e.conversation.section is Section.BOT_REPLIED)
            await b1.request(Say(text="转人工", client_id="m2"))  # hand-off word (R7.7)
            handed = await b1.expect(Routed)
            assert handed.to == "agent" and handed.why is Reason.HANDOFF
            row = (await a1.expect(ConversationUpdated, row_of("b1"))).conversation
            assert row.section is Section.PENDING and row.holder == "agent:a1"
            await sup.expect(ConversationRemoved, lambda e: e.id == "b1")

    run(scenario())


def test_bot_without_an_answer_hands_off(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.DM))
            await b1.request(Say(text="你们老板贵姓", client_id="m1"))
            handed = await b1.expect(Routed)
            assert handed.why is Reason.HANDOFF
            await a1.expect(ConversationUpdated, lambda e: e.conversation.section is Section.PENDING)

    run(scenario())
