"""One realistic instance of every message, for the documentation and the tests.

``docs/PROTOCOL.md`` shows these as JSON and the tests check that each one round-trips and that
every message type has one, so the documentation cannot drift from the schema unnoticed.
"""

from __future__ import annotations

from console.protocol import messages as m
from console.reception.model import (
    IMAGE_TEXT,
    Author,
    Conversation,
    ImageRef,
    Kind,
    KpiTiles,
    Message,
    MessageKind,
    Section,
)
from console.routing.events import Reason, Status

_T = 1767225600.0  # 2026-01-01 00:00 UTC

KPIS = KpiTiles(
    received_today=12,
    not_ordered=5,
    not_paid=2,
    paid=4,
    conversion=4 / 12,
    satisfaction_yesterday=0.9,
    response_3min_yesterday=0.95,
    avg_response_yesterday=42.5,
)
CONVERSATION = Conversation(
    id="b1001",
    name="小王",
    kind=Kind.CONSUMER,
    section=Section.PENDING,
    holder="agent:a1",
    last_text="这个有现货吗？",
    last_at=_T + 60,
    unread=2,
    waiting_since=_T + 30,
)
MESSAGE = Message(id=57, conversation="b1001", author=Author.BUYER, text="这个有现货吗？", at=_T + 60)
REPLY = Message(
    id=58,
    conversation="b1001",
    author=Author.AGENT,
    text="有的，今天下单明天发。",
    at=_T + 90,
    agent="a1",
    client_id="c-7f3a",
)
_SHA = "9f2c4b1e0d3a5c6b7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
IMAGE = ImageRef(sha256=_SHA, mime="image/jpeg", width=1080, height=1440, size=183204)
IMAGE_MESSAGE = Message(id=59, conversation="b1001", author=Author.BUYER, text=IMAGE_TEXT, at=_T + 100,
                        kind=MessageKind.IMAGE, image=IMAGE)
_PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
TEAM = m.TeamInfo(
    kpis=KPIS,
    agents=[
        m.AgentRow(id="a1", name="小美", status=Status.ONLINE, load=3, cap=8, saturation=0.375, kpis=KPIS)
    ],
    queues=[m.QueueRow(pool="queue:presale", length=2, longest_wait=75.0, eta=40.0, name="售前")],
)

ORDER_ITEMS = [m.OrderItem(title="纯棉T恤 白色 L", quantity=2, price=5900), m.OrderItem(title="运费险")]
PANEL = m.BuyerPanel(
    conversation="b1001",
    orders=[m.OrderInfo(id="o-778", state=m.OrderState.PAID, items=ORDER_ITEMS, amount=11800,
                        created_at=_T - 3600, updated_at=_T - 3000)],
    arrive=m.ArriveInfo(entry=m.Entry.PRODUCT_DETAIL, product="p-a", product_title="碎花连衣裙 M码", product_price=15900,
                        question="发货时间", crowd=["vip"]),
    why=m.DecisionInfo(at=_T, event="routed", to="agent:a1", why=Reason.RECENT, rule="R4.2",
                       text="went to a1: recent (R4.2)"),
    sessions=[m.SessionInfo(id=12, agent="a1", name="小美", started=_T, messages=4),
              m.SessionInfo(id=7, agent="a2", name="阿杰", started=_T - 86400, ended=_T, messages=9)],
    notes=[m.NoteInfo(id=3, text="老客户，偏好顺丰", by="a2", name="阿杰", at=_T - 86000)],
    tags=["老客户", "爱砍价"],
)

PRODUCT_CARD = m.ProductCard(id="p1001", title="碎花连衣裙 M码", price=15900, url="https://item.example.com/p1001")
ORDER_CARD = m.OrderCard(order="o-778", state="paid", amount=11800,
                         items=[m.CardItem(title="纯棉T恤 白色 L", quantity=2), m.CardItem(title="运费险")])

AGENT_REQUESTS: list[m.AgentRequest] = [
    m.Login(rid="1", user="a1", password="correct horse"),
    m.Resume(rid="2", token="tk_9f8e7d", last_seq=41),
    m.Login(rid="1", user="a1", password="correct horse", shop="tmall-flagship"),
    m.Logout(rid="3"),
    m.SetStatus(rid="4", status=Status.SUSPENDED),
    m.Open(rid="5", conversation="b1001", limit=100),
    m.Reply(rid="6", conversation="b1001", text="有的，今天下单明天发。", client_id="c-7f3a"),
    m.CloseSession(rid="7", conversation="b1001"),
    m.ClearSection(rid="8", section=Section.REPLIED),
    m.Claim(rid="9", conversation="b2002"),
    m.GetKpis(rid="10"),
    m.GetSnapshot(rid="11"),
    m.FilterBuyers(rid="12", tile=m.BuyerTile.NOT_PAID),
    m.Why(rid="13", conversation="b1001"),
    m.Transfer(rid="14", conversation="b1001", agent="a2"),
    m.GetTeam(rid="15"),
    m.ApplyPolicy(rid="16", toml='[[agents]]\nid = "a1"\nname = "小美"\n'),
    m.Search(rid="17", query="尺码", limit=30),
    m.GetPanel(rid="18", conversation="b1001"),
    m.AddNote(rid="19", conversation="b1001", text="老客户，偏好顺丰"),
    m.RemoveNote(rid="20", conversation="b1001", note=3),
    m.AddTag(rid="21", conversation="b1001", tag="爱砍价"),
    m.RemoveTag(rid="22", conversation="b1001", tag="爱砍价"),
    m.GetSession(rid="23", conversation="b1001", session=7),
    m.GetPhrases(rid="18"),
    m.AddPhrases(rid="19", phrases=[
        m.PhraseDraft(scope=m.PhraseScope.PERSONAL, group="常用", title="稍等", text="{买家}请稍等，我查一下"),
    ]),
    m.EditPhrase(rid="20", id=7, group="售后", title="退款进度", text="{买家}您好，订单{订单号}的退款已提交", pinned=True),
    m.PinPhrase(rid="21", id=7, pinned=False),
    m.DeletePhrase(rid="22", id=7),
    m.ReorderPhrases(rid="23", scope=m.PhraseScope.PERSONAL, ids=[9, 8]),
    m.LatestOrder(rid="24", conversation="b1001"),
    m.Transfer(rid="18", conversation="b1001", group="aftersale", note="买家要退货，订单已签收"),
    m.GetColleagues(rid="19"),
    m.GetQueue(rid="18", pool="queue:presale"),
    m.GetAgentConversations(rid="19", agent="a1"),
    m.GetReport(rid="20", day="2026-01-01"),
    m.ImageBegin(rid="25", conversation="b1001", client_id="c-81aa", size=183204, sha256=_SHA),
    m.ImageChunk(rid="26", client_id="c-81aa", offset=0, data=_PNG_HEAD),
    m.ImageEnd(rid="27", client_id="c-81aa"),
    m.GetImage(rid="28", conversation="b1001", sha256=_SHA, offset=0, thumb=True),
    m.SendCard(rid="25", conversation="b1001", card=m.CardKind.PRODUCT, ref="p1001", client_id="c-8a01"),
    m.SendCard(rid="26", conversation="b1001", card=m.CardKind.PAY_REMINDER, ref="o-778", client_id="c-8a02"),
    m.SearchCatalog(rid="27", query="lyq"),
    m.ContactBuyer(rid="28", conversation="b0987"),
    m.GetAudit(rid="21", day="2026-01-01", after=41),
    m.GetDayCharts(rid="22", day="2026-01-01"),
    m.WhatIfStart(rid="23", toml='preset = "taobao"\n[queue]\nmode = "shop"\n'),
    m.WhatIfCancel(rid="24", run="w5f3a9c1e"),
    m.GetPolicy(rid="25"),
]

AGENT_PUSHES: list[m.AgentPush] = [
    m.Ok(rid="4"),
    m.Error(rid="6", code=m.ErrorCode.INVALID, message="Expected `str` of length <= 4000", field="text"),
    m.Moved(rid="1", shop="tmall-flagship", url="wss://fenliu-2.example.com:8765"),
    m.LoginOk(
        rid="1", token="tk_9f8e7d", user="a1", name="小美", role=m.Role.AGENT, expires_at=_T + 43200, seq=41,
        shop="default",
    ),
    m.Kpis(rid="10", kpis=KPIS),
    m.History(rid="5", conversation=CONVERSATION, messages=[MESSAGE, REPLY], more=False),
    m.ReplyAck(rid="6", client_id="c-7f3a", message_id=58, duplicate=False),
    m.BuyerList(rid="12", tile=m.BuyerTile.NOT_PAID, buyers=["b1001", "b0987"]),
    m.WhyAnswer(
        rid="13",
        conversation="b1001",
        decisions=[
            m.DecisionInfo(
                at=_T,
                event="routed",
                to="agent:a1",
                why=Reason.RECENT,
                rule="R4.2",
                text="最近联系人 小美 在线",
            )
        ],
    ),
    m.Team(rid="15", team=TEAM),
    m.Colleagues(rid="19", agents=[m.Colleague(id="a2", name="阿杰", status=Status.ONLINE, load=3, cap=8,
                                               groups=["presale"])],
                 groups=[m.GroupTarget(id="aftersale", name="售后", queues=True)]),
    m.SearchResults(
        rid="17",
        query="尺码",
        hits=[
            m.SearchHit(conversation="b1001", name="小王", match=m.SearchMatch.MESSAGE,
                        snippet="…身高165，这件尺码怎么选？", highlights=[(9, 11)], at=_T + 60, message_id=57,
                        author=Author.BUYER, open=True, can_reply=True),
            m.SearchHit(conversation="b0987", name="尺码控小李", match=m.SearchMatch.NAME, snippet="尺码控小李",
                        highlights=[(0, 2)], at=_T - 86400, reachable=True),
        ],
        next_before=57,
    ),
    m.PanelAnswer(rid="18", panel=PANEL),
    m.SessionHistory(rid="23", conversation="b1001", session=PANEL.sessions[1], messages=[MESSAGE, REPLY]),
    m.Phrases(rid="18", phrases=[
        m.PhraseInfo(id=1, scope=m.PhraseScope.TEAM, group="售前", title="欢迎", text="{买家}您好，我是{客服}，很高兴为您服务",
                     pinned=True),
        m.PhraseInfo(id=8, scope=m.PhraseScope.PERSONAL, group="常用", title="稍等", text="{买家}请稍等，我查一下"),
    ]),
    m.LatestOrderIs(rid="24", conversation="b1001", order="TB20261126001"),
    m.QueueBuyers(rid="18", pool="queue:presale", buyers=[
        m.QueuedBuyer(id="b1002", name="小张", position=1, waited=95.0, eta=60.0),
        m.QueuedBuyer(id="b1003", name="阿玲", position=2, waited=40.0, eta=120.0),
    ]),
    m.AgentConversations(rid="19", agent="a1", conversations=[CONVERSATION]),
    m.DayReport(rid="20", day="2026-01-01", timezone="Asia/Shanghai", conversations=[
        m.ConversationRow(buyer="b1001", buyer_name="小王", agent="a1", arrived_at=_T + 30, reason="recent", rule="R4.2",
                          queued=False, assigned_at=_T + 30, first_message_at=_T + 30, first_response_at=_T + 72,
                          first_response_s=42.0, longest_wait_s=42.0, waits=1, answered_in_3min=1, closed_at=_T + 900,
                          close_reason="agent_close", moves=0, buyer_messages=3, agent_messages=2, bot_messages=0,
                          rating=5, order_state="paid"),
    ], agents=[
        m.AgentDayRow(agent="a1", name="小美", received=1, not_ordered=0, not_paid=0, paid=1, conversion=1.0, ratings=1,
                      satisfaction=1.0, waits=1, response_3min=1.0, avg_response_s=42.0, closed=1, messages_sent=2),
    ]),
    m.ImagePart(rid="28", sha256=_SHA, thumb=True, offset=0, size=16, data=_PNG_HEAD),
    m.AuditLog(rid="21", day="2026-01-01", timezone="Asia/Shanghai", entries=[
        m.AuditEntry(id=42, at=_T + 3600, by="a1", action=m.AuditAction.STATUS, subject="a1", value="suspended",
                     previous="online"),
        m.AuditEntry(id=43, at=_T + 3700, by="sup", action=m.AuditAction.TRANSFER, subject="b1001", value="a2",
                     previous="a1"),
        m.AuditEntry(id=44, at=_T + 3800, by="fenliu accounts (ops)", action=m.AuditAction.ACCOUNT, subject="a3",
                     value="disable"),
        m.AuditEntry(id=45, at=_T + 3900, by="sup", action=m.AuditAction.TRANSFER, subject="b1002", value="group:presale",
                     previous="a2"),
    ], opening=[], buyers={"b1001": "小王", "b1002": "老李"}, groups={"presale": "售前"}),
    m.DayChartsAnswer(rid="22", day="2026-01-01", timezone="Asia/Shanghai", charts=m.DayCharts(
        start=1767196800.0, arrivals=[3, 1, 0], queue=[1, 2, 0], response_3min=[0.75],
        load=[m.AgentLoad(agent="a1", name="小美", load=[2, 3, 3])],
        reasons=[m.ReasonCount(reason="group", count=3), m.ReasonCount(reason="queued", count=1)])),
    m.PolicyInForce(rid="25", toml='preset = "taobao"\n', digest="c000f634a84f", at=_T, by="sup"),
    m.WhatIfStarted(rid="23", run="w5f3a9c1e", day="2026-01-01"),
    m.WhatIfProgress(run="w5f3a9c1e", fraction=0.42),
    m.WhatIfDone(run="w5f3a9c1e", comparison=m.WhatIfComparison(
        day="2026-01-01", inputs=5230, baseline_matches_record=True, recorded_decisions=1804,
        decisions={"baseline": 1804, "whatif": 1790}, adjusted={},
        agents=[m.WhatIfAgent(
            id="a1", name="小美",
            baseline=m.WhatIfFigures(received=212, reasons={"group": 180, "recent": 32}, taken_from_queue=40,
                                     longest_wait_s=310.0, average_wait_s=95.5),
            whatif=m.WhatIfFigures(received=230, reasons={"group": 198, "recent": 32}, taken_from_queue=12,
                                   longest_wait_s=120.0, average_wait_s=41.0))],
        pools=[m.WhatIfPool(pool="queue:shop",
                            baseline=m.WhatIfPoolFigures(peak=9, queued=61, longest_wait_s=310.0, average_wait_s=88.2),
                            whatif=m.WhatIfPoolFigures(peak=4, queued=20, longest_wait_s=120.0, average_wait_s=40.1)),
               m.WhatIfPool(pool="queue:presale", name="售前",
                            baseline=m.WhatIfPoolFigures(peak=3, queued=12, longest_wait_s=95.0, average_wait_s=30.0),
                            whatif=m.WhatIfPoolFigures())],
        reasons=m.WhatIfSides(baseline={"group": 0.8, "queued": 0.2}, whatif={"group": 0.9, "queued": 0.1}))),
    m.WhatIfFailed(run="w5f3a9c1e", cancelled=True),
    m.Snapshot(seq=41, conversations=[CONVERSATION], status=Status.ONLINE, load=3, cap=8, kpis=KPIS),
    m.ConversationUpdated(seq=42, conversation=CONVERSATION),
    m.ConversationRemoved(seq=43, id="b0999", reason=m.RemovalReason.TRANSFERRED),
    m.MessageAdded(seq=44, message=MESSAGE, conversation=CONVERSATION),
    m.MessageAdded(seq=44, message=MESSAGE),
    m.StatusChanged(seq=45, status=Status.ONLINE, load=4, cap=8),
    m.KpisUpdated(seq=46, kpis=KPIS),
    m.TeamUpdated(seq=47, team=TEAM),
    m.PanelUpdated(seq=48, panel=PANEL),
    m.CatalogAnswer(rid="27", query="lyq", products=[PRODUCT_CARD]),
    m.MessageAdded(seq=49, message=Message(id=59, conversation="b1001", author=Author.AGENT, agent="a1",
                                           text="[订单] o-778", at=_T + 95, client_id="c-8a03",
                                           kind=m.MessageKind.CARD, card=ORDER_CARD)),
]

BUYER_REQUESTS: list[m.BuyerRequest] = [
    m.BuyerHello(rid="1", buyer="b1001", name="小王", key="gateway-secret"),
    m.BuyerHello(rid="1", buyer="b1001", name="小王", key="gateway-secret", shop="douyin-store"),
    m.Arrive(rid="2", entry=m.Entry.PRODUCT_DETAIL, product="p-a", question="发货时间", crowd=["vip"]),
    m.Say(rid="3", text="这个有现货吗？", client_id="g-123"),
    m.ShareProduct(rid="7", product="p1001", client_id="g-124"),
    m.Rate(rid="4", score=5),
    m.OrderUpdate(rid="5", order="o-778", state=m.OrderState.PAID, items=ORDER_ITEMS, amount=11800),
    m.GetQuestions(rid="6", entry=m.Entry.PRODUCT_DETAIL),
    m.ImageBegin(rid="7", client_id="g-124", size=183204, sha256=_SHA),
    m.ImageChunk(rid="8", client_id="g-124", offset=0, data=_PNG_HEAD),
    m.ImageEnd(rid="9", client_id="g-124"),
    m.GetImage(rid="10", sha256=_SHA),
]

BUYER_PUSHES: list[m.BuyerPush] = [
    m.Ok(rid="1"),
    m.Error(rid="4", code=m.ErrorCode.INVALID, message="Expected `int` <= 5", field="score"),
    m.Moved(rid="1", shop="tmall-flagship", url="wss://fenliu-2.example.com:8765"),
    m.Routed(rid="2", to="queue", why=Reason.QUEUED, position=3, eta=90.0, tip="前面还有3位，请稍候"),
    m.QueueUpdate(position=1, eta=20.0, tip="马上轮到您"),
    m.AgentMessage(id=58, text="有的，今天下单明天发。", author=Author.AGENT, name="小美", at=_T + 90),
    m.AgentMessage(id=60, text="[商品] 碎花连衣裙 M码", author=Author.AGENT, name="小美", at=_T + 96,
                   kind=m.MessageKind.CARD, card=PRODUCT_CARD),
    m.AgentMessage(id=61, text="[催付] o-779", author=Author.AGENT, name="小美", at=_T + 97,
                   kind=m.MessageKind.CARD, card=m.PayReminderCard(order="o-779", amount=15900,
                                                                   items=[m.CardItem(title="碎花连衣裙 M码")])),
    m.SayAck(rid="3", client_id="g-123", message_id=57),
    m.Questions(rid="6", entry=m.Entry.PRODUCT_DETAIL, questions=["发货时间", "尺码推荐", "售后政策"]),
    m.SessionClosed(why=Reason.AGENT_CLOSE),
    m.ImagePart(rid="10", sha256=_SHA, offset=0, size=16, data=_PNG_HEAD),
    m.AgentMessage(id=60, text=IMAGE_TEXT, author=Author.AGENT, name="小美", at=_T + 120, kind=MessageKind.IMAGE,
                   image=IMAGE),
]
