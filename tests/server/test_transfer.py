"""Transfer by the agent (转接, R3.5) and the bot's assist (店小蜜 辅助), issue 12, on a real server."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import (
    AgentMessage,
    Arrive,
    Author,
    CloseSession,
    Colleagues,
    ConversationRemoved,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    GetColleagues,
    MessageAdded,
    Ok,
    Open,
    Reason,
    RemovalReason,
    Reply,
    ReplyAck,
    Routed,
    Say,
    Section,
    Status,
    Transfer,
    Why,
)

from .helpers import Client, run, running_server
from .test_reception import buyer, online, row_of

GROUPS = """
preset = "taobao"
timezone = "Asia/Shanghai"
seed = 1
disconnect_grace = "1h"

[bot]
handoff_words = ["人工"]
assist = ASSIST

[queue]
mode = "groups"
groups = ["aftersale"]

[[groups]]
id = "presale"
entries = ["product_detail"]

[[groups]]
id = "aftersale"
cap = 1
entries = ["after_sale"]

[[agents]]
id = "a1"
name = "小美"
groups = ["presale"]

[[agents]]
id = "a2"
name = "阿杰"
groups = ["aftersale"]

[[agents]]
id = "sup"
name = "主管"
role = "supervisor"
"""


def test_the_holder_transfers_with_a_note_the_receiver_sees(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "王小姐")
            assert (await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))).name == "小美"
            await b1.request(Say(text="这件有红色吗", client_id="m1"))
            waiting = await a1.expect(MessageAdded, lambda e: e.conversation is not None
                                      and e.conversation.waiting_since is not None)  # the row comes with the message
            assert waiting.conversation is not None
            since = waiting.conversation.waiting_since
            a2 = await online(server, "a2")
            moved = await a1.request(Transfer(conversation="b1", agent="a2", note="买家要红色L码，库存请确认"))
            assert isinstance(moved, Ok), moved
            gone = await a1.expect(ConversationRemoved)
            assert gone.id == "b1" and gone.reason is RemovalReason.TRANSFERRED
            line = await a2.expect(MessageAdded, lambda e: e.message.author is Author.SYSTEM)
            assert line.message.text == "转接备注（小美）：买家要红色L码，库存请确认"
            row = line.conversation  # the row as it is after the line
            assert row is not None and row.id == "b1" and "库存请确认" in row.last_text
            # the buyer keeps waiting, from when they first asked, in the same section
            assert row.holder == "agent:a2" and row.section is Section.PENDING and row.waiting_since == since
            history = await a2.request(Open(conversation="b1"))
            assert [(m.author, m.text) for m in history.messages][-1] == (Author.SYSTEM, line.message.text)
            routed = await b1.expect(Routed)
            assert routed.why is Reason.TRANSFER and routed.name == "阿杰"
            why = await a2.request(Why(conversation="b1"))
            assert [(d.to, d.why, d.rule) for d in why.decisions][-1] == ("agent:a2", Reason.TRANSFER, "R3.5")
            # the note is for the agents: the buyer never receives it
            assert not [m for m in b1.inbox if isinstance(m, AgentMessage)]
            assert isinstance(await a2.request(Reply(conversation="b1", text="有的", client_id="c1")), ReplyAck)
            assert not [m for m in b1.inbox if isinstance(m, AgentMessage) and "库存" in m.text]

    run(scenario())


def test_transfer_refusals(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            a2 = await Client.agent(server)
            await a2.login("a2")  # logged in, offline
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await a1.expect(ConversationUpdated, row_of("b1"))
            offline = await a1.request(Transfer(conversation="b1", agent="a2", note="x"))
            assert isinstance(offline, Error) and offline.code is ErrorCode.CONFLICT and offline.field == "agent"
            stranger = await a2.request(Transfer(conversation="b1", agent="a1"))
            assert isinstance(stranger, Error) and stranger.code is ErrorCode.FORBIDDEN
            too_long = await a1.request(Transfer(conversation="b1", agent="a2", note="长" * 201))
            assert isinstance(too_long, Error) and too_long.code is ErrorCode.INVALID
            own_group = await a1.request(Transfer(conversation="b1", group="presale"))
            assert isinstance(own_group, Error) and own_group.code is ErrorCode.CONFLICT  # only a1 is in it
            await a1.send_raw('{"type": "transfer", "rid": "neither", "conversation": "b1"}')
            neither = await a1.expect(Error, lambda e: e.rid == "neither")
            assert neither.code is ErrorCode.INVALID and neither.field == "agent"
            nowhere = await a1.request(Transfer(conversation="b1", group="nosuch"))
            assert isinstance(nowhere, Error) and nowhere.code is ErrorCode.NOT_FOUND
            to_self = await a1.request(Transfer(conversation="b1", agent="a1"))
            assert isinstance(to_self, Error) and to_self.code is ErrorCode.CONFLICT
            why = await a1.request(Why(conversation="b1"))
            assert [d.why for d in why.decisions] == [Reason.GROUP]  # nothing moved
            history = await a1.request(Open(conversation="b1"))
            assert not [m for m in history.messages if m.author is Author.SYSTEM]  # no note left behind

    run(scenario())


def test_a_group_transfer_queues_when_the_group_is_full(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=GROUPS.replace("ASSIST", "false")) as server:
            a1, a2 = await online(server, "a1"), await online(server, "a2")
            full = await buyer(server, "b0")
            assert (await full.request(Arrive(entry=Entry.AFTER_SALE))).name == "阿杰"  # a2's one slot
            b1 = await buyer(server, "b1")
            assert (await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))).name == "小美"
            await a1.expect(ConversationUpdated, row_of("b1"))
            assert isinstance(await a1.request(Transfer(conversation="b1", group="aftersale", note="退货问题")), Ok)
            assert (await a1.expect(ConversationRemoved)).reason is RemovalReason.TRANSFERRED
            queued = await b1.expect(Routed)
            assert queued.to == "queue" and queued.why is Reason.TRANSFER and queued.position == 1
            # a2's slot frees: the group's queue gives b1 to a2, who finds the note in the conversation
            assert isinstance(await a2.request(CloseSession(conversation="b0")), Ok)
            assert (await b1.expect(Routed)).name == "阿杰"
            await a2.expect(ConversationUpdated, lambda e: e.conversation.id == "b1" and e.conversation.holder == "agent:a2")
            history = await a2.request(Open(conversation="b1"))
            assert [m.text for m in history.messages if m.author is Author.SYSTEM] == ["转接备注（小美）：退货问题"]
            why = await a2.request(Why(conversation="b1"))
            assert [(d.to, d.why) for d in why.decisions][1] == ("queue:aftersale", Reason.TRANSFER)

    run(scenario())


async def _assisted(server, a1: Client) -> Client:  # type: ignore[no-untyped-def]
    b1 = await buyer(server, "b1")
    await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
    await b1.request(Say(text="在吗", client_id="m1"))
    await a1.expect(MessageAdded, lambda e: e.message.author is Author.BUYER)
    await b1.request(Say(text="什么时候发货呀", client_id="m2"))
    return b1


def test_bot_assist_answers_an_faq_question_in_an_agents_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=GROUPS.replace("ASSIST", "true")) as server:
            a1 = await online(server, "a1")
            b1 = await _assisted(server, a1)
            answer = await b1.expect(AgentMessage)
            assert answer.author is Author.BOT and "发货" in answer.text
            seen = await a1.expect(MessageAdded, lambda e: e.message.author is Author.BOT)
            assert seen.message.text == answer.text
            row = seen.conversation  # the row after the bot's answer, in the same event
            assert row is not None and row.section is Section.BOT_REPLIED
            assert row.holder == "agent:a1"  # the agent keeps the buyer
            # a question the FAQ does not know stays with the agent, pending
            await b1.request(Say(text="能便宜点吗", client_id="m3"))
            await a1.expect(MessageAdded, lambda e: e.conversation is not None and e.conversation.section is Section.PENDING)
            # a human reply makes it replied
            await a1.request(Reply(conversation="b1", text="亲，已经是最低价了", client_id="c1"))
            await a1.expect(MessageAdded, lambda e: e.conversation is not None and e.conversation.section is Section.REPLIED)

    run(scenario())


def test_without_assist_the_bot_stays_out_of_an_agents_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=GROUPS.replace("ASSIST", "false")) as server:
            a1 = await online(server, "a1")
            b1 = await _assisted(server, a1)
            await a1.expect(MessageAdded, lambda e: e.message.text == "什么时候发货呀")
            await a1.request(Reply(conversation="b1", text="今天发", client_id="c1"))  # a marker after it
            answer = await b1.expect(AgentMessage)
            assert answer.author is Author.AGENT and answer.text == "今天发"
            history = await a1.request(Open(conversation="b1"))
            assert not [m for m in history.messages if m.author is Author.BOT]

    run(scenario())


def test_colleagues_lists_the_other_agents_with_load_and_the_groups(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=GROUPS.replace("ASSIST", "false")) as server:
            a1, a2 = await online(server, "a1"), await online(server, "a2")
            b0 = await buyer(server, "b0")
            await b0.request(Arrive(entry=Entry.AFTER_SALE))
            await a2.expect(ConversationUpdated, row_of("b0"))
            answer = await a1.request(GetColleagues())
            assert isinstance(answer, Colleagues), answer
            assert [(c.id, c.status, c.load, c.cap) for c in answer.agents] == [
                ("a2", Status.ONLINE, 1, 1), ("sup", Status.OFFLINE, 0, 10)]
            assert [(g.id, g.queues) for g in answer.groups] == [("presale", False), ("aftersale", True)]

    run(scenario())


def test_a_bot_handoff_brings_the_bots_part_of_the_conversation(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:  # the helpers' policy: dm goes to the bot group
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            assert (await b1.request(Arrive(entry=Entry.DM))).to == "bot"
            await b1.request(Say(text="什么时候发货", client_id="m1"))
            assert (await b1.expect(AgentMessage)).author is Author.BOT
            await b1.request(Say(text="转人工", client_id="m2"))
            assert (await b1.expect(Routed, lambda r: r.to == "agent")).why is Reason.HANDOFF
            await a1.expect(ConversationUpdated, lambda e: e.conversation.holder == "agent:a1")
            history = await a1.request(Open(conversation="b1"))
            assert [m.author for m in history.messages] == [Author.BUYER, Author.BOT, Author.BUYER]

    run(scenario())
