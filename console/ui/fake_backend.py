"""A backend without a server: realistic shop data for tests, screenshots and demos.

Requests change ``ConsoleState`` right away (or, for replies, when ``confirm_replies`` is
called, unless ``auto_confirm`` is on), the way the server's answers would.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from console.protocol.cards import Card, CardItem, CardKind, OrderCard, PayReminderCard, ProductCard, card_text
from console.protocol.messages import (
    AgentDayRow,
    AgentLoad,
    AgentRow,
    ArriveInfo,
    AuditAction,
    AuditEntry,
    AuditLog,
    BuyerPanel,
    ConversationRow,
    DayCharts,
    DayReport,
    DecisionInfo,
    Entry,
    NoteInfo,
    OrderInfo,
    OrderItem,
    OrderState,
    QueuedBuyer,
    QueueRow,
    Reason,
    ReasonCount,
    SessionInfo,
    Status,
    TeamInfo,
    WhatIfAgent,
    WhatIfComparison,
    WhatIfDone,
    WhatIfFailed,
    WhatIfFigures,
    WhatIfPool,
    WhatIfPoolFigures,
    WhatIfProgress,
    WhatIfSides,
)
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
from console.reception.phrases import initials
from console.ui.state import Connection, ConsoleState
from console.ui.team_data import DecisionLine, team_from_protocol
from console.ui.thumbnails import image_size
from console.ui.transfer_targets import TransferTarget, in_dialog_order

ME = "amei"


@dataclass(frozen=True, slots=True)
class _Buyer:
    id: str
    name: str
    kind: Kind
    section: Section
    ago: float  # seconds since the last message
    lines: tuple[tuple[Author, str], ...]
    unread: int = 0
    holder: str = f"agent:{ME}"


BUYERS: tuple[_Buyer, ...] = (
    _Buyer("b1001", "小美的店铺粉丝", Kind.CONSUMER, Section.PENDING, 195, (
        (Author.BUYER, "在吗？"),
        (Author.BUYER, "这件碎花连衣裙有M码吗？身高160体重52kg穿哪个码合适"),
    ), unread=2),
    _Buyer("b1002", "阿杰", Kind.CONSUMER, Section.PENDING, 48, (
        (Author.BUYER, "请问今天下单今天能发货吗？急用"),
    ), unread=1),
    _Buyer("b1003", "平台小二客服", Kind.CONSUMER, Section.PENDING, 20, (
        (Author.BUYER, "您好，您的店铺涉嫌违规，请尽快添加微信 xx123 处理，否则将被封店"),
    ), unread=1),
    _Buyer("b1004", "义乌小商品批发", Kind.MERCHANT, Section.PENDING, 12, (
        (Author.BUYER, "老板，批量拿货100件以上有优惠吗？"),
    ), unread=1),
    _Buyer("b1005", "购物达人", Kind.CONSUMER, Section.BOT_REPLIED, 300, (
        (Author.BUYER, "运费险怎么用？"),
        (Author.BOT, "亲，退货时运费险会自动理赔，理赔金额以保险公司核定为准哦~"),
    )),
    _Buyer("b1006", "爱吃草莓的兔子", Kind.CONSUMER, Section.BOT_REPLIED, 640, (
        (Author.BUYER, "有优惠券吗"),
        (Author.BOT, "亲，店铺首页可以领取满199减20的优惠券哦"),
    )),
    _Buyer("b1007", "李女士", Kind.CONSUMER, Section.REPLIED, 420, (
        (Author.BUYER, "衣服洗了会缩水吗？"),
        (Author.AGENT, "您好，这款是100%棉的，建议冷水手洗，不会明显缩水的~"),
        (Author.BUYER, "好的谢谢"),
        (Author.AGENT, "不客气，有问题随时找我哦"),
    )),
    _Buyer("b1008", "tb_88213", Kind.CONSUMER, Section.REPLIED, 3900, (
        (Author.BUYER, "帮我改一下收货地址"),
        (Author.AGENT, "已经帮您修改好了，请核对一下新地址"),
    )),
    _Buyer("b1009", "周末去露营", Kind.CONSUMER, Section.REPLIED, 90000, (
        (Author.BUYER, "帐篷到了，很满意"),
        (Author.AGENT, "感谢支持！记得给个好评哦"),
    )),
    _Buyer("s2001", "平台小二·晓雯", Kind.STAFF, Section.STAFF, 1800, (
        (Author.BUYER, "您好，店铺报名的618大促活动审核已通过，请在后台确认库存"),
    ), unread=1, holder=f"agent:{ME}"),
    _Buyer("g3001", "千牛普通群·客服交流", Kind.GROUP, Section.GROUP, 700, (
        (Author.BUYER, "今天下午三点开会，大家准时参加"),
    ), holder=f"agent:{ME}"),
    _Buyer("g3002", "小美家粉丝福利群", Kind.GROUP, Section.GROUP, 5400, (
        (Author.BUYER, "群里的宝宝们，今晚8点直播间有秒杀"),
    ), holder=f"agent:{ME}"),
)

KPIS = KpiTiles(
    received_today=37, not_ordered=21, not_paid=5, paid=11, conversion=11 / 37,
    satisfaction_yesterday=0.962, response_3min_yesterday=0.874, avg_response_yesterday=38.5,
)

def _agent(id: str, name: str, status: Status, load: int, cap: int, kpis: KpiTiles | None = None) -> AgentRow:
    return AgentRow(id=id, name=name, status=status, load=load, cap=cap, saturation=load / cap if cap else None,
                    kpis=kpis or KpiTiles())


# The room as the server would push it (a ``team_updated`` event's ``TeamInfo``): the state reads
# it from the view that folded it, as it does the client's (issue 9); ``TEAM`` is how it is shown.
TEAM_INFO = TeamInfo(
    kpis=KpiTiles(
        received_today=142, not_ordered=77, not_paid=18, paid=47, conversion=47 / 142,
        satisfaction_yesterday=0.951, response_3min_yesterday=0.902, avg_response_yesterday=31.0,
    ),
    agents=[
        _agent(ME, "阿美", Status.ONLINE, 6, 8, KpiTiles(received_today=37, not_ordered=21, not_paid=5, paid=11,
                                                        conversion=11 / 37)),
        _agent("xiaolin", "小林", Status.ONLINE, 8, 8, KpiTiles(received_today=45, not_ordered=22, not_paid=6,
                                                              paid=17, conversion=17 / 45)),
        _agent("dazhuang", "大壮", Status.SUSPENDED, 3, 8, KpiTiles(received_today=29, not_ordered=18, not_paid=4,
                                                                  paid=7, conversion=7 / 29)),
        _agent("xiaoxiao", "晓晓", Status.ONLINE, 5, 10, KpiTiles(received_today=31, not_ordered=16, not_paid=3,
                                                                paid=12, conversion=12 / 31)),
        _agent("laozhang", "老张", Status.OFFLINE, 0, 8),
    ],
    queues=[
        QueueRow(pool="queue:售前", length=3, longest_wait=95.0, eta=120.0),
        QueueRow(pool="queue:售后", length=0, longest_wait=None, eta=None),
        QueueRow(pool="pool", length=4, longest_wait=1260.0, eta=None),
    ],
)
TEAM = team_from_protocol(TEAM_INFO)

FILTERS: dict[str, list[str]] = {
    "not_ordered": ["b1001", "b1002", "b1005", "b1006", "b1009"],
    "not_paid": ["b1004", "b1007"],
}


CATALOG = [
    ProductCard(id="p1001", title="碎花连衣裙 M码", price=15900),
    ProductCard(id="p1002", title="纯棉T恤 白色 L", price=5900),
    ProductCard(id="p1003", title="高腰阔腿裤 黑色", price=12900),
    ProductCard(id="p1004", title="法式方领泡泡袖连衣裙", price=18900),
    ProductCard(id="p2001", title="真丝围巾", price=8800),
]
"""The fake shop's catalogue (the demo's first products)."""


class FakeBackend:
    """Plays the server for one agent, 阿美, of the shop 小美家."""

    def __init__(self, state: ConsoleState, clock: Callable[[], float], *, auto_confirm: bool = False) -> None:
        self.state = state
        self.clock = clock
        self.auto_confirm = auto_confirm
        self.sent: list[tuple[str, str, str]] = []  # (conversation, text, client_id)
        self.requests: list[tuple[str, tuple[object, ...]]] = []
        self._ids = itertools.count(1)
        self._unconfirmed: list[Message] = []
        self.panels: dict[str, BuyerPanel] = {}  # what the "server" holds of each buyer's panel
        self._note_ids = itertools.count(1)
        self.last_report: DayReport | None = None  # the rows day_report handed out last
        self.images: dict[str, bytes] = {}  # what the "server" stores, by SHA-256 (issue 13)
        self.refuse_images = ""  # when set, images sent are refused with this reason

    # -- filling ------------------------------------------------------------------------------

    def populate(self) -> None:
        now = self.clock()
        conversations = []
        for buyer in BUYERS:
            at = now - buyer.ago
            history = [
                Message(id=next(self._ids), conversation=buyer.id, author=author, text=text,
                        at=at - 40 * (len(buyer.lines) - 1 - i), agent=ME if author == Author.AGENT else None)
                for i, (author, text) in enumerate(buyer.lines)
            ]
            self.state.messages[buyer.id] = history
            conversations.append(Conversation(
                id=buyer.id, name=buyer.name, kind=buyer.kind, section=buyer.section, holder=buyer.holder,
                last_text=history[-1].text, last_at=at, unread=buyer.unread,
                waiting_since=at if buyer.section == Section.PENDING else None,
            ))
        self.state.set_connection(Connection.ONLINE)
        self.state.load_snapshot(conversations, KPIS, "online", 6, 8)
        self.state.set_team(TEAM_INFO)

    def buyer_writes(self, buyer: str, text: str, name: str | None = None, kind: Kind = Kind.CONSUMER) -> None:
        """A buyer message arrives: the row goes to pending (or stays in 小二/群聊)."""
        now = self.clock()
        current = self.state.conversations.get(buyer)
        if current is None:
            current = Conversation(id=buyer, name=name or buyer, kind=kind, section=Section.PENDING,
                                   holder=f"agent:{ME}")
        section = current.section if current.kind in (Kind.STAFF, Kind.GROUP) else Section.PENDING
        waiting = current.waiting_since if current.section == Section.PENDING and current.waiting_since else now
        self.state.add_message(Message(id=next(self._ids), conversation=buyer, author=Author.BUYER, text=text, at=now))
        self.state.update_conversation(msgspec.structs.replace(
            current, section=section, last_text=text, last_at=now, unread=current.unread + 1,
            waiting_since=waiting if section == Section.PENDING else None, cleared=False,
        ))

    def buyer_sends_image(self, buyer: str, data: bytes) -> Message:
        """A buyer's picture arrives (stored as it is: the real server would clean it first)."""
        found = image_size(data)
        assert found is not None, "not an image"
        fmt, width, height = found
        ref = ImageRef(sha256=hashlib.sha256(data).hexdigest(), mime=f"image/{fmt}", width=width, height=height,
                       size=len(data))
        self.images[ref.sha256] = data
        now = self.clock()
        current = self.state.conversations[buyer]
        message = Message(id=next(self._ids), conversation=buyer, author=Author.BUYER, text=IMAGE_TEXT, at=now,
                          kind=MessageKind.IMAGE, image=ref)
        self.state.add_message(message)
        self.state.update_conversation(msgspec.structs.replace(
            current, section=Section.PENDING, last_text=IMAGE_TEXT, last_at=now, unread=current.unread + 1,
            waiting_since=current.waiting_since or now, cleared=False,
        ))
        return message

    def confirm_replies(self) -> None:
        """The server acknowledges every reply sent so far."""
        for local in self._unconfirmed:
            self.state.add_message(msgspec.structs.replace(local, id=next(self._ids)))
        self._unconfirmed.clear()

    # -- Backend --------------------------------------------------------------------------------

    def _record(self, name: str, *args: object) -> None:
        self.requests.append((name, args))

    def set_status(self, status: str) -> None:
        self._record("set_status", status)
        if status == "offline":  # R3.3: waiting buyers go to colleagues
            for conversation in list(self.state.conversations.values()):
                if conversation.section == Section.PENDING and conversation.holder == f"agent:{ME}":
                    self.state.remove_conversation(conversation.id)
        load = sum(1 for c in self.state.conversations.values() if c.open and c.holder == f"agent:{ME}")
        self.state.set_status(status, load, self.state.cap or 8)

    def open_conversation(self, conversation: str) -> None:
        self._record("open_conversation", conversation)
        self.state.load_history(conversation, self.state.messages.get(conversation, []))
        self.state.mark_read(conversation)

    def reply(self, conversation: str, text: str, client_id: str) -> None:
        self._record("reply", conversation, text, client_id)
        self.sent.append((conversation, text, client_id))
        local = next((m for m in self.state.messages.get(conversation, []) if m.client_id == client_id), None)
        if local is not None:
            self._unconfirmed.append(local)
        if self.auto_confirm:
            self.confirm_replies()

    def send_image(self, conversation: str, data: bytes, client_id: str) -> None:
        self._record("send_image", conversation, client_id)
        if self.refuse_images:
            self.state.reply_failed(client_id, self.refuse_images)
            return
        local = next((m for m in self.state.messages.get(conversation, []) if m.client_id == client_id), None)
        if local is not None and local.image is not None:
            self.images[local.image.sha256] = data
            self._unconfirmed.append(local)
        if self.auto_confirm:
            self.confirm_replies()

    def fetch_image(self, conversation: str, sha256: str, thumb: bool) -> None:
        self._record("fetch_image", conversation, sha256, thumb)
        data = self.images.get(sha256)
        if data is None:
            self.state.image_unavailable(sha256, thumb, "找不到该会话、客服或入口")
        else:
            self.state.set_image(sha256, thumb, data)

    def close(self, conversation: str) -> None:
        self._record("close", conversation)
        current = self.state.conversations.get(conversation)
        if current is not None:
            self.state.update_conversation(msgspec.structs.replace(current, open=False, holder=None))

    def clear_section(self, section: Section) -> None:
        self._record("clear_section", section)
        self.state.mark_section_cleared(section)

    def claim(self, conversation: str) -> None:
        self._record("claim", conversation)

    def request_kpis(self) -> None:
        self._record("request_kpis")
        self.state.set_kpis(self.state.kpis)

    def filter_buyers(self, tile: str) -> None:
        self._record("filter_buyers", tile)
        self.state.set_filter(tile, list(FILTERS.get(tile, [])))

    def why(self, conversation: str) -> None:
        self._record("why", conversation)
        now = self.clock()
        self.state.set_decisions(conversation, [
            DecisionLine(now - 86000, "routed", "bot", "shop_bot", "R7.2"),
            DecisionLine(now - 85900, "routed", "agent:xiaolin", "handoff", "R7.7"),
            DecisionLine(now - 3600, "routed", "agent:xiaolin", "recent", "R4.2"),
            DecisionLine(now - 600, "routed", f"agent:{ME}", "reroute_offline", "R3.3"),
            DecisionLine(now - 200, "routed", f"agent:{ME}", "recent_any_status", "R4.1"),
        ])

    # -- the buyer panel ------------------------------------------------------------------------

    def _panel(self, conversation: str) -> BuyerPanel:
        panel = self.panels.get(conversation)
        if panel is None:
            now = self.clock()
            panel = BuyerPanel(
                conversation=conversation,
                orders=[OrderInfo(id="TB2026112600" + conversation[-2:], state=OrderState.UNPAID,
                                  items=[OrderItem(title="碎花连衣裙 M码", quantity=1, price=15900),
                                         OrderItem(title="运费险", quantity=1, price=300)],
                                  amount=16200, created_at=now - 900, updated_at=now - 900),
                        OrderInfo(id="TB2026101100" + conversation[-2:], state=OrderState.SUCCESS,
                                  items=[OrderItem(title="纯棉T恤 白色 L", quantity=2, price=5900)],
                                  amount=11800, created_at=now - 40 * 86400, updated_at=now - 35 * 86400)],
                arrive=ArriveInfo(entry=Entry.PRODUCT_DETAIL, product="p1001", product_title="碎花连衣裙 M码",
                                  product_price=15900, question="尺码推荐",
                                  intent="咨询尺码", crowd=["老客户", "88VIP"]),
                why=DecisionInfo(at=now - 200, event="routed", to=f"agent:{ME}", why=Reason.RECENT_ANY_STATUS,
                                 rule="R4.1"),
                sessions=[SessionInfo(id=12, agent=ME, name="阿美", started=now - 200, messages=2),
                          SessionInfo(id=7, agent="xiaolin", name="小林", started=now - 86000, ended=now - 85000, messages=3)],
                notes=[NoteInfo(id=next(self._note_ids), text="老客户，上次要求发顺丰，已备注仓库", by="xiaolin", name="小林",
                                at=now - 85100)],
                tags=["爱砍价"],
            )
            self.panels[conversation] = panel
        return panel

    def _changed(self, panel: BuyerPanel) -> None:
        self.panels[panel.conversation] = panel
        self.state.set_panel(panel)  # the server pushes panel_updated

    def get_panel(self, conversation: str) -> None:
        self._record("get_panel", conversation)
        self.state.set_panel(self._panel(conversation))

    def get_session(self, conversation: str, session: int) -> None:
        self._record("get_session", conversation, session)
        info = next((s for s in self._panel(conversation).sessions if s.id == session), None)
        if info is None:
            self.state.report_error("历史会话：没有这次会话")
            return
        at = info.started
        self.state.set_session(conversation, info, [
            Message(id=-1, conversation=conversation, author=Author.BUYER, text="上次买的T恤有点大，能换小一码吗？", at=at + 10),
            Message(id=-2, conversation=conversation, author=Author.AGENT, text="可以的，申请换货后我们顺丰寄出~",
                    at=at + 60, agent=info.agent),
            Message(id=-3, conversation=conversation, author=Author.BUYER, text="好的谢谢", at=at + 90),
        ])

    def send_card(self, conversation: str, card: str, ref: str) -> None:
        """As the server: the card from the catalogue or the buyer's own orders, or an error."""
        self._record("send_card", conversation, card, ref)
        made: Card | None = None
        if card == CardKind.PRODUCT:
            made = next((p for p in CATALOG if p.id == ref), None)
        else:
            order = next((o for o in self._panel(conversation).orders if o.id == ref), None)
            items = [CardItem(title=i.title, quantity=i.quantity) for i in order.items] if order is not None else []
            if order is not None and card == CardKind.ORDER:
                made = OrderCard(order=ref, state=order.state.value, amount=order.amount, items=items)
            elif order is not None and order.state is OrderState.UNPAID:
                made = PayReminderCard(order=ref, amount=order.amount, items=items)
        if made is None:
            self.state.report_error(f"发送卡片：{ref}")
            return
        self.buyer_card(conversation, made, author=Author.AGENT)

    def buyer_card(self, conversation: str, card: Card, *, author: Author = Author.BUYER) -> None:
        """A card message in ``conversation`` (a buyer sharing a product, or one the agent sent)."""
        now = self.clock()
        text = card_text(card)
        self.state.add_message(Message(id=next(self._ids), conversation=conversation, author=author, text=text, at=now,
                                       agent=ME if author is Author.AGENT else None, kind=MessageKind.CARD, card=card))
        current = self.state.conversations.get(conversation)
        if current is not None:
            self.state.update_conversation(msgspec.structs.replace(current, last_text=text, last_at=now))

    def search_catalog(self, query: str) -> None:
        self._record("search_catalog", query)
        q = query.strip().lower()
        found = [p for p in CATALOG if not q or q in p.title.lower() or q in p.id or q in initials(p.title)]
        self.state.set_catalog(query, found[:50])

    def add_note(self, conversation: str, text: str) -> None:
        self._record("add_note", conversation, text)
        panel = self._panel(conversation)
        note = NoteInfo(id=next(self._note_ids), text=text, by=ME, name=self.state.agent_name, at=self.clock())
        self._changed(msgspec.structs.replace(panel, notes=[*panel.notes, note]))

    def remove_note(self, conversation: str, note: int) -> None:
        self._record("remove_note", conversation, note)
        panel = self._panel(conversation)
        self._changed(msgspec.structs.replace(panel, notes=[n for n in panel.notes if n.id != note]))

    def add_tag(self, conversation: str, tag: str) -> None:
        self._record("add_tag", conversation, tag)
        panel = self._panel(conversation)
        if tag not in panel.tags:
            self._changed(msgspec.structs.replace(panel, tags=[*panel.tags, tag]))

    def remove_tag(self, conversation: str, tag: str) -> None:
        self._record("remove_tag", conversation, tag)
        panel = self._panel(conversation)
        if tag in panel.tags:
            self._changed(msgspec.structs.replace(panel, tags=[t for t in panel.tags if t != tag]))

    def transfer(self, conversation: str, agent: str | None = None, group: str | None = None,
                 note: str = "") -> None:
        self._record("transfer", conversation, agent or group, note)
        current = self.state.conversations.get(conversation)
        if current is not None and agent != ME:
            self.state.remove_conversation(conversation)

    def get_colleagues(self) -> None:
        self._record("get_colleagues")
        self.state.set_colleagues(in_dialog_order(
            [TransferTarget("agent", a.id, a.name, a.status, a.load, a.cap) for a in TEAM.agents if a.id != ME]
            + [TransferTarget("group", "aftersale", "售后", queues=True)]))

    def get_team(self) -> None:
        self._record("get_team")
        self.state.set_team(self.state.view.team or TEAM_INFO)

    def queue_buyers(self, pool: str) -> None:
        self._record("queue_buyers", pool)
        length = next((q.length for q in self.state.team.queues if q.name == pool), 0)
        names = ("小张", "阿玲", "王先生", "大伟", "糖糖")
        self.state.set_queue(pool, [
            QueuedBuyer(id=f"q{i}", name=names[(i - 1) % len(names)], position=i, waited=95.0 - 20 * (i - 1),
                        eta=None if pool == "pool" else 40.0 * i)
            for i in range(1, length + 1)
        ])

    def agent_conversations(self, agent: str) -> None:
        self._record("agent_conversations", agent)
        held = f"agent:{agent}"
        self.state.set_agent_conversations(
            agent, [c for c in self.state.conversations.values() if c.open and c.holder == held])

    def audit_entries(self) -> list[AuditEntry]:
        """The fake day's audit log: a shift for each agent of TEAM, a transfer, a close."""
        midnight = self._midnight()
        h = 3600.0
        script = [(8.5, "amei", "online", "offline"), (9.0, "xiaolin", "online", "offline"),
                  (9.25, "dazhuang", "online", "offline"), (10.0, "xiaoxiao", "online", "offline"),
                  (10.5, "amei", "suspended", "online"), (10.75, "amei", "online", "suspended"),
                  (11.5, "dazhuang", "suspended", "online"), (12.0, "laozhang", "online", "offline"),
                  (13.0, "laozhang", "offline", "online")]
        entries = [AuditEntry(id=i, at=midnight + t * h, by=who, action=AuditAction.STATUS, subject=who, value=to,
                              previous=before) for i, (t, who, to, before) in enumerate(script, start=1)]
        entries.append(AuditEntry(id=len(entries) + 1, at=midnight + 11 * h, by="boss", action=AuditAction.TRANSFER,
                                  subject="b1003", value="xiaolin", previous="amei"))
        entries.append(AuditEntry(id=len(entries) + 1, at=midnight + 11.2 * h, by="boss", action=AuditAction.CLOSE,
                                  subject="b1004", value="", previous="xiaoxiao"))
        entries.append(AuditEntry(id=len(entries) + 1, at=midnight + 11.4 * h, by="boss", action=AuditAction.TRANSFER,
                                  subject="b1005", value="group:presale", previous="dazhuang"))
        entries.sort(key=lambda e: e.at)
        now = self.clock()
        return [msgspec.structs.replace(e, id=i) for i, e in enumerate(entries, start=1) if e.at <= now]

    def _midnight(self) -> float:
        zone = ZoneInfo("Asia/Shanghai")
        day = datetime.fromtimestamp(self.clock(), zone).date()
        return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()

    def audit(self, after: int | None = None) -> None:
        self._record("audit", after)
        day = datetime.fromtimestamp(self.clock(), ZoneInfo("Asia/Shanghai")).date().isoformat()
        entries = [e for e in self.audit_entries() if e.id > (after or 0)]
        names = {b.id: b.name for b in BUYERS}
        buyers = {e.subject: names[e.subject] for e in entries if e.subject in names}
        groups = {"presale": "售前咨询"} if any(e.value == "group:presale" for e in entries) else {}
        self.state.set_audit(AuditLog(day=day, timezone="Asia/Shanghai", entries=entries, buyers=buyers, groups=groups))

    def day_charts(self) -> None:
        self._record("day_charts")
        midnight = self._midnight()
        n = max(1, int((self.clock() - midnight) // 300) + 1)
        arrivals = [(i * 7) % 5 + (3 if 108 <= i < 140 else 0) for i in range(n)]
        queue = [max(0, a - 3) for a in arrivals]
        loads = [AgentLoad(agent=a.id, name=a.name, load=[min(a.cap, (i + k) % (a.cap + 1)) if i > 100 else 0
                                                          for i in range(n)])
                 for k, a in enumerate(TEAM.agents)]
        rates = [None if h < 8 else 0.9 - 0.02 * (h % 5) for h in range(n * 300 // 3600 + 1)]
        reasons = [ReasonCount(reason="group", count=40), ReasonCount(reason="recent", count=25),
                   ReasonCount(reason="queued", count=9), ReasonCount(reason="shop_bot", count=6)]
        day = datetime.fromtimestamp(self.clock(), ZoneInfo("Asia/Shanghai")).date().isoformat()
        self.state.set_day_charts(day, DayCharts(start=midnight, arrivals=arrivals, queue=queue, response_3min=rates,
                                                 load=loads, reasons=reasons))

    POLICY = 'preset = "taobao"\ntimezone = "Asia/Shanghai"\n\n[queue]\nmode = "shop"\n'

    def get_policy(self) -> None:
        self._record("get_policy")
        self.state.set_policy(self.POLICY)

    def whatif_start(self, toml: str) -> None:
        """Starts and finishes at once: progress, then a comparison of TEAM's agents."""
        self._record("whatif_start", toml)
        if "preset" not in toml:
            self.state.whatif_refused.emit("策略无效：preset 缺失")
            return
        run = "w1"
        self.state.whatif_started.emit(run)
        self.state.set_whatif(WhatIfProgress(run=run, fraction=0.5))
        day = datetime.fromtimestamp(self.clock(), ZoneInfo("Asia/Shanghai")).date().isoformat()
        agents = [WhatIfAgent(id=a.id, name=a.name,
                              baseline=WhatIfFigures(received=20 + i, reasons={"group": 20 + i}, taken_from_queue=5,
                                                     longest_wait_s=300.0, average_wait_s=90.0),
                              whatif=WhatIfFigures(received=22 + i, reasons={"group": 22 + i}, taken_from_queue=2,
                                                   longest_wait_s=120.0, average_wait_s=40.0))
                  for i, a in enumerate(TEAM.agents)]
        pools = [WhatIfPool(pool="queue:shop", baseline=WhatIfPoolFigures(peak=9, queued=30, longest_wait_s=300.0,
                                                                         average_wait_s=90.0),
                            whatif=WhatIfPoolFigures(peak=3, queued=10, longest_wait_s=120.0, average_wait_s=40.0)),
                 WhatIfPool(pool="queue:presale", name="售前咨询", baseline=WhatIfPoolFigures(peak=4, queued=12),
                            whatif=WhatIfPoolFigures(peak=2, queued=6))]
        self.state.set_whatif(WhatIfDone(run=run, comparison=WhatIfComparison(
            day=day, inputs=1234, baseline_matches_record=True, agents=agents, pools=pools,
            reasons=WhatIfSides(baseline={"group": 0.7, "queued": 0.3}, whatif={"group": 0.9, "queued": 0.1}))))

    def whatif_cancel(self, run: str) -> None:
        self._record("whatif_cancel", run)
        self.state.set_whatif(WhatIfFailed(run=run, cancelled=True))

    def apply_policy(self, toml: str) -> None:
        self._record("apply_policy", toml)
        self.state.policy_applied.emit()

    def day_report(self, day: str | None = None) -> None:
        self._record("day_report", day)
        now = self.clock()
        rows = [
            ConversationRow(buyer=c.id, buyer_name=c.name, agent=ME, arrived_at=c.last_at - 600, reason="recent", rule="R4.2",
                            queued=False, assigned_at=c.last_at - 600, first_message_at=c.last_at - 600,
                            first_response_at=c.last_at - 560, first_response_s=40.0, longest_wait_s=40.0, waits=1,
                            answered_in_3min=1, closed_at=None, close_reason=None, moves=0, buyer_messages=2,
                            agent_messages=1, bot_messages=0, rating=None, order_state=None)
            for c in self.state.conversations.values() if c.holder == f"agent:{ME}"
        ]
        agents = [AgentDayRow(agent=a.id, name=a.name, received=a.today.received_today or 0, not_ordered=0, not_paid=0,
                              paid=0, conversion=None, ratings=0, satisfaction=None, waits=0, response_3min=None,
                              avg_response_s=None, closed=0, messages_sent=0) for a in TEAM.agents]
        day = day or datetime.fromtimestamp(now, ZoneInfo("Asia/Shanghai")).date().isoformat()
        audit = self.audit_entries()
        names = {b.id: b.name for b in BUYERS}
        self.last_report = DayReport(day=day, timezone="Asia/Shanghai", conversations=rows, agents=agents,
                                     audit=audit, agent_names={a.id: a.name for a in TEAM.agents},
                                     buyers={e.subject: names[e.subject] for e in audit if e.subject in names})
        self.state.set_report(self.last_report)

    def monitor(self, conversation: str) -> None:
        self._record("monitor", conversation)
        self.state.load_history(conversation, self.state.messages.get(conversation, []))


def demo_picture(width: int = 640, height: int = 480, colour: str = "#e8736c") -> bytes:
    """A buyer's photo for screenshots and tests: a T-shirt on a table with a flaw circled (PNG)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF
    from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#efe9e1"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    sx, sy = width / 640, height / 480
    shirt = [(250, 60), (130, 130), (170, 200), (215, 170), (215, 420), (425, 420), (425, 170), (470, 200),
             (510, 130), (390, 60), (360, 95), (280, 95)]
    painter.setPen(QPen(QColor("#5b4636"), 3))
    painter.setBrush(QColor(colour))
    painter.drawPolygon(QPolygonF([QPointF(x * sx, y * sy) for x, y in shirt]))
    painter.setBrush(QColor("#6b4f2a"))
    painter.drawEllipse(QPointF(360 * sx, 300 * sy), 12 * sx, 8 * sy)
    painter.setBrush(QColor(0, 0, 0, 0))
    painter.setPen(QPen(QColor("#d92d20"), 5))
    painter.drawEllipse(QPointF(360 * sx, 300 * sy), 40 * sx, 34 * sy)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; the binding takes str
    buffer.close()
    return bytes(data.data())
