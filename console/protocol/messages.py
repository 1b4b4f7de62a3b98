"""Every message of the websocket protocol, as msgspec structs (docs/PROTOCOL.md).

Two endpoints, two vocabularies:

- ``/agent``: the reception console (agents and supervisors). Requests carry an optional ``rid``
  that the server's answer (a typed response, ``Ok`` or ``Error``) repeats. Events the server
  pushes carry ``seq``, the agent's own sequence number, so a reconnecting console can ask for
  exactly what it missed (``Resume.last_seq``).
- ``/buyer``: what a shop platform's IM gateway (or the bundled simulator) speaks for one buyer.
  The gateway says only *who* the buyer is (``BuyerHello``); whether that account is a consumer,
  a merchant, platform staff or a group chat comes from the server's own account data, never from
  the connection (CONSOLE.md §1: impostors calling themselves 小二 are ordinary buyers).

Every struct is tagged by ``type`` and rejects unknown fields, so a typo is an error naming the
field rather than a silently ignored value. Sizes are bounded by ``msgspec.Meta`` so that the
schema check is also the input-size check.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from console.protocol.cards import Card as Card
from console.protocol.cards import CardItem as CardItem
from console.protocol.cards import CardKind as CardKind
from console.protocol.cards import OrderCard as OrderCard
from console.protocol.cards import PayReminderCard as PayReminderCard
from console.protocol.cards import ProductCard as ProductCard
from console.protocol.identifiers import ID_PATTERN
from console.reception.day_charts import AgentLoad as AgentLoad
from console.reception.day_charts import DayCharts as DayCharts
from console.reception.day_charts import ReasonCount as ReasonCount
from console.reception.kpi import BuyerTile as BuyerTile  # the 未下单 / 未付款 tiles (CONSOLE.md §3)

# re-exported: the shapes messages carry
from console.reception.model import Author as Author
from console.reception.model import Conversation as Conversation
from console.reception.model import ImageRef as ImageRef
from console.reception.model import Kind as Kind
from console.reception.model import KpiTiles as KpiTiles
from console.reception.model import Message as Message
from console.reception.model import MessageKind as MessageKind
from console.reception.model import Section as Section
from console.reception.model import Sha256 as Sha256
from console.reception.model import check_payload
from console.reception.report import AgentDayRow as AgentDayRow
from console.reception.report import ConversationRow as ConversationRow
from console.routing.events import Reason as Reason
from console.routing.events import Status as Status

# -- field types ---------------------------------------------------------------------------------

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
"""A buyer, agent, conversation, order or client message id: printable, nothing hidden (ID_RULE)."""
Name = Annotated[str, msgspec.Meta(max_length=64)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
"""A chat message: never empty, at most 4000 characters."""
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
"""A password, a session token or a gateway key."""
Rid = Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None
Seq = Annotated[int, msgspec.Meta(ge=0)]
Count = Annotated[int, msgspec.Meta(ge=0)]
Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
PolicyText = Annotated[str, msgspec.Meta(min_length=1, max_length=60_000)]
ServerUrl = Annotated[str, msgspec.Meta(min_length=8, max_length=512, pattern=r"^wss?://[!-~]+$")]
"""Where a server is reached: ``ws://`` or ``wss://``, printable ASCII, no spaces (issue 15)."""

MAX_CROWD_TAGS = 32
MAX_HISTORY = 500
MAX_BUYER_LIST = 200  # CONSOLE.md §3: the latest 200 buyers of a tile
MAX_SEARCH_QUERY = 64
MAX_SEARCH_HITS = 100
MAX_NOTE = 500  # CONSOLE.md §6: a buyer note is at most 500 characters
MAX_NOTES = 100  # notes kept per buyer (the oldest go first)
MAX_BUYER_TAGS = 20  # shared tags per buyer
MAX_ORDER_ITEMS = 50
MAX_AMOUNT = 100_000_000_00  # fen: a hundred million yuan, far above any real order
MAX_PANEL_ORDERS = 20
MAX_PANEL_SESSIONS = 20
MAX_PHRASES = 2000  # quick replies of one scope (the team's, or one agent's own)
MAX_PHRASE_BATCH = 500  # phrases added by one request (a CSV import: all of them or none)
MAX_PHRASE_TEXT = 500
MAX_IMAGE_BYTES = 8 * 1024 * 1024  # an uploaded image, as sent (a phone photo fits)
MAX_IMAGE_PIXELS = 36_000_000  # width × height of an uploaded image (6000 × 6000): a decompression bomb is refused
IMAGE_CHUNK_BYTES = 45 * 1024  # bytes per image_chunk: base64 in JSON stays under the 64 KiB frame
IMAGE_PART_BYTES = 256 * 1024  # bytes per image_part the server sends
MAX_AUDIT = 2000  # audit entries in one answer (get_audit): the rest with ``after``
PhraseId = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]  # a SQLite rowid: larger is no phrase, and no crash
PhraseTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
PhraseGroup = Annotated[str, msgspec.Meta(max_length=20)]
PhraseText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PHRASE_TEXT)]


# -- closed sets ---------------------------------------------------------------------------------


class ErrorCode(StrEnum):
    """What went wrong with a request. The connection always goes on after an error."""

    MALFORMED = "malformed"  # not JSON (or not UTF-8)
    OVERSIZED = "oversized"  # larger than MAX_MESSAGE_BYTES, not parsed at all
    UNKNOWN_TYPE = "unknown_type"  # a ``type`` this endpoint does not know
    INVALID = "invalid"  # schema: missing, wrong or out-of-range field (``field`` names it)
    UNAUTHENTICATED = "unauthenticated"  # anything but login before login; bad credentials
    FORBIDDEN = "forbidden"  # not your conversation, or supervisor-only
    NOT_FOUND = "not_found"  # no such conversation, agent or entry
    RATE_LIMITED = "rate_limited"  # too many messages per second
    CONFLICT = "conflict"  # the state changed under you (already claimed, session closed)
    BAD_POLICY = "bad_policy"  # ApplyPolicy: the TOML is not a valid policy
    BAD_IMAGE = "bad_image"  # an upload is not an image we take (by content), is cut short or has too many pixels
    INTERNAL = "internal"  # the server failed; nothing was changed


class Role(StrEnum):
    """Account roles (ROUTING.md §1). Only supervisors and the main account see the team."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MAIN = "main"
    PROXY = "proxy"


class RemovalReason(StrEnum):
    """Why a conversation left an agent's list."""

    CLOSED = "closed"  # the session ended and the row was cleared, or the agent closed it
    CLEARED = "cleared"  # 清扫: back on the buyer's next message
    TRANSFERRED = "transferred"  # its holder or a supervisor gave it to someone else
    REROUTED = "rerouted"  # the agent went offline and it went to a colleague (R3.3)
    CLAIMED = "claimed"  # another agent claimed it from the pool first


class Entry(StrEnum):
    """Where the buyer came from (ROUTING.md §1)."""

    PRODUCT_DETAIL = "product_detail"
    ORDER_DETAIL = "order_detail"
    DM = "dm"
    LIVE = "live"
    AFTER_SALE = "after_sale"
    OTHER = "other"


class OrderState(StrEnum):
    """States an order reports; the buyer's derived state follows R7.4."""

    UNPAID = "unpaid"
    PAID = "paid"
    SHIPPED = "shipped"
    SUCCESS = "success"
    CLOSED = "closed"
    AFTER_SALE = "after_sale"


CLEARABLE: frozenset[Section] = frozenset({Section.BOT_REPLIED, Section.REPLIED})
"""Only these sections have a 清扫 button (CONSOLE.md §1)."""


# -- bases ---------------------------------------------------------------------------------------


class _Msg(
    msgspec.Struct,
    tag_field="type",
    kw_only=True,
    forbid_unknown_fields=True,
    frozen=True,
    omit_defaults=True,
):
    """Base of every message: tagged by ``type``, strict about fields."""


class Request(_Msg, frozen=True, kw_only=True):
    """A client message; the answer repeats ``rid``."""

    rid: Rid = None


class Event(_Msg, frozen=True, kw_only=True):
    """A server push to an agent, numbered by the agent's sequence."""

    seq: Seq


class Response(_Msg, frozen=True, kw_only=True):
    """The server's answer to one request."""

    rid: Rid = None


# -- shared responses ----------------------------------------------------------------------------


class Ok(Response, tag="ok", frozen=True, kw_only=True):
    """The request was done (its effects arrive as events)."""


class Error(Response, tag="error", frozen=True, kw_only=True):
    """The request failed. ``field`` names the offending field (``crowd[3]``) when there is one."""

    code: ErrorCode
    message: str
    field: str | None = None


class Moved(Response, tag="moved", frozen=True, kw_only=True):
    """The answer to ``login``, ``resume`` or ``hello`` naming a shop another server process owns
    (issue 15, CONSOLE.md §8): connect to ``url`` and send the same message again. Nothing was
    done here; the connection stays open (the client closes it)."""

    shop: Id
    url: ServerUrl


# -- agent side: console -> server ---------------------------------------------------------------


class Login(Request, tag="login", frozen=True, kw_only=True):
    """``shop``: which shop of the deployment (issue 15); None is the only shop a server serves,
    and an error (``not_found``, field ``shop``) when it serves several."""

    user: Id
    password: Secret
    shop: Id | None = None


class Resume(Request, tag="resume", frozen=True, kw_only=True):
    """Log in with a token; ``last_seq`` is the last event seen (None: send a snapshot)."""

    token: Secret
    last_seq: Seq | None = None
    shop: Id | None = None  # as in Login: the shop the token was issued by


class Logout(Request, tag="logout", frozen=True, kw_only=True):
    pass


class SetStatus(Request, tag="set_status", frozen=True, kw_only=True):
    status: Status


class Open(Request, tag="open", frozen=True, kw_only=True):
    """Show a conversation's history (the latest ``limit`` messages) and mark it read."""

    conversation: Id
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_HISTORY)] = 200


class Reply(Request, tag="reply", frozen=True, kw_only=True):
    """Write to a buyer. Idempotent on ``client_id``: a resend is acknowledged, not repeated."""

    conversation: Id
    text: Text
    client_id: Id


class CloseSession(Request, tag="close", frozen=True, kw_only=True):
    conversation: Id


class ClearSection(Request, tag="clear", frozen=True, kw_only=True):
    """清扫: remove the rows of a bot-replied or replied section until the buyer writes again."""

    section: Section

    def __post_init__(self) -> None:
        if self.section not in CLEARABLE:
            raise ValueError("Invalid value for field `section`: only bot_replied or replied can be cleared")


class Claim(Request, tag="claim", frozen=True, kw_only=True):
    """Take a buyer from the message pool (R6.1 ``pool``)."""

    conversation: Id


class GetKpis(Request, tag="get_kpis", frozen=True, kw_only=True):
    """The agent's own tiles now (the manual refresh button)."""


class GetSnapshot(Request, tag="get_snapshot", frozen=True, kw_only=True):
    """A fresh Snapshot of the agent's list (full resync)."""


class FilterBuyers(Request, tag="filter_buyers", frozen=True, kw_only=True):
    """The buyers behind the 未下单 / 未付款 tile, latest 200."""

    tile: BuyerTile


class Why(Request, tag="why", frozen=True, kw_only=True):
    """Every routing decision about a conversation, with its reason."""

    conversation: Id


MAX_TRANSFER_NOTE = 200
TransferNote = Annotated[str, msgspec.Meta(max_length=MAX_TRANSFER_NOTE)]
"""What the agent tells the receiver of a transfer (issue 12): at most 200 characters, may be empty."""


class Transfer(Request, tag="transfer", frozen=True, kw_only=True):
    """Give a buyer's open session to an agent or to a group (R3.5), with a note for the receiver.

    The holder of the session, a supervisor or the main account may send it. Exactly one of
    ``agent`` and ``group``: a group transfer goes by that group's pick, or queues in it."""

    conversation: Id
    agent: Id | None = None
    group: Id | None = None
    note: TransferNote = ""

    def __post_init__(self) -> None:
        if (self.agent is None) == (self.group is None):
            raise ValueError("Invalid value for field `agent`: name an agent or a group, not both")


class GetColleagues(Request, tag="get_colleagues", frozen=True, kw_only=True):
    """Whom a transfer can go to (issue 12): the shop's other agents with status and load, and its groups."""


class GetTeam(Request, tag="get_team", frozen=True, kw_only=True):
    """Supervisor only: team KPIs, every agent's status and load, the queues."""


class ApplyPolicy(Request, tag="apply_policy", frozen=True, kw_only=True):
    """Supervisor only: replace the shop policy with this TOML text."""

    toml: PolicyText


class Search(Request, tag="search", frozen=True, kw_only=True):
    """Find earlier conversations by message text, buyer name, order number or product (issue 13).

    ``query`` is a literal substring (no operators); ``before`` continues with message hits older
    than that message id (the previous answer's ``next_before``)."""

    query: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SEARCH_QUERY)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_SEARCH_HITS)] = 30
    before: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)] | None = None  # a SQLite rowid: larger is `invalid`, not a crash


class SendCard(Request, tag="send_card", frozen=True, kw_only=True):
    """Send the buyer a card (issue 13): a product of the catalogue, one of the buyer's own orders,
    or 催付 on one of its unpaid orders. ``ref`` names the product or the order; the server builds
    the card from its own facts. Who may: as ``reply`` (the session's holder). Idempotent on
    ``client_id``. Answer: ``reply_ack``."""

    conversation: Id
    card: CardKind
    ref: Id
    client_id: Id


class ContactBuyer(Request, tag="contact", frozen=True, kw_only=True):
    """再次联系 (issue 13): open a session with a buyer who has none, to write to them again. Who
    may: anyone who may find the conversation (``search``); the buyer must be reachable (its
    gateway connected, or its last message within the policy's ``recent.window``). Answer: ``ok``;
    the conversation then comes to the asker's list and ``reply`` writes to the buyer."""

    conversation: Id


class SearchCatalog(Request, tag="search_catalog", frozen=True, kw_only=True):
    """Products of the shop's catalogue whose title or id holds ``query``, or whose title's pinyin
    initials do (``lyq`` finds 连衣裙); empty: the first ones. Answer: ``catalog``."""

    query: Annotated[str, msgspec.Meta(max_length=64)] = ""


class GetPanel(Request, tag="get_panel", frozen=True, kw_only=True):
    """The buyer panel of a conversation (CONSOLE.md §6), asked once when it opens; changes are
    pushed as ``panel`` events afterwards."""

    conversation: Id


class PhraseScope(StrEnum):
    """Whose a quick reply (快捷短语) is: the shop's team set, or the asking agent's own."""

    TEAM = "team"  # kept by supervisors and the main account; every agent sees them
    PERSONAL = "personal"  # one account's own, the same on each of its consoles


class PhraseDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A quick reply to add. ``text`` may hold the variables {买家} {客服} {订单号}."""

    scope: PhraseScope
    group: PhraseGroup = ""
    title: PhraseTitle
    text: PhraseText
    pinned: bool = False


class GetPhrases(Request, tag="get_phrases", frozen=True, kw_only=True):
    """The team's quick replies and the asker's own (answer: ``phrases``)."""


class AddPhrases(Request, tag="add_phrases", frozen=True, kw_only=True):
    """Add one phrase, or a whole CSV import: all of them or, on any refusal, none."""

    phrases: Annotated[list[PhraseDraft], msgspec.Meta(min_length=1, max_length=MAX_PHRASE_BATCH)]


class EditPhrase(Request, tag="edit_phrase", frozen=True, kw_only=True):
    """Replace a phrase's group, title, text and pin (its scope and place stay)."""

    id: PhraseId
    group: PhraseGroup = ""
    title: PhraseTitle
    text: PhraseText
    pinned: bool = False


class PinPhrase(Request, tag="pin_phrase", frozen=True, kw_only=True):
    """Pin (Ctrl+1..9 in the reply box, in list order) or unpin one phrase."""

    id: PhraseId
    pinned: bool


class DeletePhrase(Request, tag="delete_phrase", frozen=True, kw_only=True):
    id: PhraseId


class ReorderPhrases(Request, tag="reorder_phrases", frozen=True, kw_only=True):
    """The new order of every phrase of ``scope`` (each id exactly once)."""

    scope: PhraseScope
    ids: Annotated[list[PhraseId], msgspec.Meta(max_length=MAX_PHRASES)]


class LatestOrder(Request, tag="latest_order", frozen=True, kw_only=True):
    """The buyer's latest order number, for a quick reply's ``{订单号}`` (answer: ``latest_order_is``)."""

    conversation: Id


NoteText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE)]
BuyerTag = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")]
"""A shared buyer tag: 1-16 printable characters, not only spaces."""


class AddNote(Request, tag="add_note", frozen=True, kw_only=True):
    """Write a note on a buyer, shared by the shop's agents (≤ 500 characters)."""

    conversation: Id
    text: NoteText


class RemoveNote(Request, tag="remove_note", frozen=True, kw_only=True):
    conversation: Id
    note: Annotated[int, msgspec.Meta(ge=1)]


class AddTag(Request, tag="add_tag", frozen=True, kw_only=True):
    """Tag a buyer (shared by the shop's agents); adding a tag it has is a no-op."""

    conversation: Id
    tag: BuyerTag


class RemoveTag(Request, tag="remove_tag", frozen=True, kw_only=True):
    conversation: Id
    tag: BuyerTag


class GetSession(Request, tag="get_session", frozen=True, kw_only=True):
    """The messages of one past session of a buyer (``SessionInfo.id``), read-only."""

    conversation: Id
    session: Annotated[int, msgspec.Meta(ge=1)]


class GetQueue(Request, tag="get_queue", frozen=True, kw_only=True):
    """Supervisor only: the buyers of one pool in order (``queue:GROUP``, ``queue:shop`` or ``pool``)."""

    pool: Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=ID_PATTERN)]


class GetAgentConversations(Request, tag="get_agent_conversations", frozen=True, kw_only=True):
    """Supervisor only: one agent's open conversations, as that agent's list shows them."""

    agent: Id


class GetReport(Request, tag="get_report", frozen=True, kw_only=True):
    """Supervisor only: a local day's report rows (today when ``day`` is null), for the room's export."""

    day: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class ImageBegin(Request, tag="image_begin", frozen=True, kw_only=True):
    """Start sending an image (issue 13): its size in bytes and SHA-256, then ``image_chunk`` frames
    in order, then ``image_end``. Idempotent on ``client_id`` like ``reply``/``say``: when that
    id is already stored the answer is at once the ``reply_ack`` / ``say_ack`` with ``duplicate``.
    ``conversation``: on ``/agent`` the buyer written to (required); on ``/buyer`` left out.
    A size over ``MAX_IMAGE_BYTES`` is refused at once (``oversized``)."""

    client_id: Id
    size: Annotated[int, msgspec.Meta(ge=1)]
    sha256: Sha256
    conversation: Id | None = None


class ImageChunk(Request, tag="image_chunk", frozen=True, kw_only=True):
    """The next bytes of the upload ``client_id`` (base64 in JSON), at ``offset`` (what was sent so far)."""

    client_id: Id
    offset: Annotated[int, msgspec.Meta(ge=0)]
    data: Annotated[bytes, msgspec.Meta(min_length=1, max_length=IMAGE_CHUNK_BYTES)]


class ImageEnd(Request, tag="image_end", frozen=True, kw_only=True):
    """Every byte was sent: the server checks the size, the hash and the image, stores it, and
    answers as for a text message (``reply_ack`` / ``say_ack``)."""

    client_id: Id


class GetImage(Request, tag="get_image", frozen=True, kw_only=True):
    """Bytes of an image of a conversation the asker may see (answer: ``image_part``).
    ``thumb``: the server's thumbnail (at most 320 px a side) instead of the image.
    On ``/buyer`` ``conversation`` is left out (the buyer's own)."""

    sha256: Sha256
    conversation: Id | None = None
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    thumb: bool = False
class GetAudit(Request, tag="get_audit", frozen=True, kw_only=True):
    """Supervisor only: a local day's audit log (today when ``day`` is null), oldest first.

    ``after``: only entries with a larger id (the room asks again every few seconds for what is
    new). At most ``MAX_AUDIT`` entries an answer; ``more`` says to ask again after the last."""

    day: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    after: Annotated[int, msgspec.Meta(ge=0)] | None = None


class GetDayCharts(Request, tag="get_day_charts", frozen=True, kw_only=True):
    """Supervisor only: the day in pictures (today when ``day`` is null), at most a few seconds old."""

    day: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class WhatIfStart(Request, tag="whatif_start", frozen=True, kw_only=True):
    """Supervisor only: replay a day's recorded traffic (today when ``day`` is null) under this
    policy, in a process of the server's own, beside what happened. Answered at once with
    ``whatif_started``; ``whatif_progress`` follows, then ``whatif_done`` or ``whatif_failed``.
    Nothing is applied: applying is ``apply_policy``, a separate step."""

    toml: PolicyText
    day: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class GetPolicy(Request, tag="get_policy", frozen=True, kw_only=True):
    """Supervisor only: the policy in force (its TOML text), for the room's what-if editor."""


class WhatIfCancel(Request, tag="whatif_cancel", frozen=True, kw_only=True):
    """Supervisor only: stop a running what-if (``whatif_failed`` with ``cancelled`` follows)."""

    run: Id


AgentRequest = (
    Login
    | Resume
    | Logout
    | SetStatus
    | Open
    | Reply
    | CloseSession
    | ClearSection
    | Claim
    | GetKpis
    | GetSnapshot
    | FilterBuyers
    | Why
    | Transfer
    | GetColleagues
    | GetTeam
    | ApplyPolicy
    | Search
    | GetPanel
    | SendCard
    | SearchCatalog
    | ContactBuyer
    | AddNote
    | RemoveNote
    | AddTag
    | RemoveTag
    | GetSession
    | GetPhrases
    | AddPhrases
    | EditPhrase
    | PinPhrase
    | DeletePhrase
    | ReorderPhrases
    | LatestOrder
    | GetQueue
    | GetAgentConversations
    | GetReport
    | ImageBegin
    | ImageChunk
    | ImageEnd
    | GetImage
    | GetAudit
    | GetDayCharts
    | WhatIfStart
    | WhatIfCancel
    | GetPolicy
)

PRE_LOGIN: tuple[type[Request], ...] = (Login, Resume)
"""The only requests accepted before login (CONSOLE.md §5)."""
SUPERVISOR_ONLY: tuple[type[Request], ...] = (GetTeam, ApplyPolicy, GetQueue, GetAgentConversations, GetReport,
                                               GetAudit, GetDayCharts, WhatIfStart, WhatIfCancel, GetPolicy)
"""Transfer is not here: the holder of a session may transfer it too (the server checks who holds it)."""


# -- agent side: shapes carried by server messages -----------------------------------------------


class DecisionInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One stored routing decision, for the "why" view (ROUTING.md §12)."""

    at: float
    event: str  # routed, queued, closed
    to: str  # agent:ID, bot, pool, queue:GROUP, queue:shop
    why: Reason
    rule: str  # the rule that decided, e.g. "R4.2"
    text: str = ""  # a readable sentence for the console
    position: int | None = None
    eta: float | None = None
    previous: str | None = None


class AgentRow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str
    status: Status
    load: int
    cap: int
    saturation: float | None  # load / cap; None when cap is 0
    kpis: KpiTiles
    status_since: float | None = None  # when the status last changed; None: never set since the log began
    waiting_since: float | None = None  # the oldest unanswered buyer message among the agent's sessions


class QueueRow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pool: str  # queue:GROUP, queue:shop or pool
    length: int
    longest_wait: float | None  # seconds the first buyer has waited; None when empty
    eta: float | None  # estimated wait of a buyer joining now, seconds
    name: str = ""  # a group queue's group name (the policy's); empty for queue:shop and pool


class QueuedBuyer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One buyer waiting in a pool, for the supervisor's room."""

    id: str
    name: str
    position: int  # 1 is served next; the message pool counts by the oldest unanswered message
    waited: float  # seconds since the buyer joined (the pool: since the unanswered message)
    eta: float | None = None  # estimated wait left (R10.4); None in the message pool


class SearchMatch(StrEnum):
    """What a search hit matched."""

    MESSAGE = "message"  # a message's text
    NAME = "name"  # the buyer's name
    ORDER = "order"  # one of the buyer's order numbers
    PRODUCT = "product"  # the product the buyer arrived from


class SearchHit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One search result: a conversation and the line that matched, in context.

    ``highlights`` are [start, end) offsets of the query in ``snippet``, in code points.
    ``open``: the buyer's session is still open. ``can_reply``: the asker holds that session, so
    a ``reply`` reaches the buyer now."""

    conversation: str
    name: str
    match: SearchMatch
    snippet: str
    highlights: list[tuple[int, int]] = []
    at: float
    message_id: int | None = None
    author: Author | None = None
    open: bool = False
    can_reply: bool = False
    reachable: bool = False  # no session now, but the buyer can be written to again (``contact``)


class OrderItem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One line of an order: what, how many, and the line's price in fen (分)."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=9999)] = 1
    price: Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT)] | None = None


class OrderInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One of the buyer's orders in this shop, for the panel. ``amount`` in fen (分)."""

    id: str
    state: OrderState
    items: list[OrderItem] = []
    amount: int | None = None
    created_at: float
    updated_at: float


class ArriveInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the buyer came from: the attributes of the latest ``arrive``."""

    entry: Entry = Entry.OTHER
    product: str | None = None
    product_title: str | None = None  # the product's title and price (fen) in the shop's catalogue, if there
    product_price: int | None = None
    question: str | None = None
    intent: str | None = None
    crowd: list[str] = []
    exclusive: str | None = None  # the buyer's exclusive agent (专属客服), if any
    exclusive_name: str | None = None  # that agent's display name


class NoteInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: int
    text: str
    by: str  # the agent who wrote it
    at: float
    name: str = ""  # that agent's display name


class SessionInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A session of the buyer with an agent: from its reception until the next one (or now)."""

    id: int
    agent: str
    name: str = ""  # the agent's display name
    started: float
    ended: float | None = None  # None: the session still going on
    messages: int = 0


class BuyerPanel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the desk shows beside a conversation (CONSOLE.md §6). ``why`` is the routing
    decision that brought the buyer to its current holder (an ``open_session`` decision says
    nothing of that and is skipped). Orders and sessions newest first, notes oldest first."""

    conversation: str
    orders: list[OrderInfo] = []
    arrive: ArriveInfo | None = None
    why: DecisionInfo | None = None
    sessions: list[SessionInfo] = []
    notes: list[NoteInfo] = []
    tags: list[str] = []
class Colleague(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An agent a transfer can go to: available ones (online, below their cap) can take a buyer now."""

    id: str
    name: str
    status: Status
    load: int
    cap: int
    groups: list[str] = []


class GroupTarget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A group a transfer can go to (its pick decides, or it queues when it queues, R3.5)."""

    id: str
    name: str
    queues: bool = False


class TeamInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kpis: KpiTiles
    agents: list[AgentRow] = []
    queues: list[QueueRow] = []


# -- agent side: server -> console ---------------------------------------------------------------


class LoginOk(Response, tag="login_ok", frozen=True, kw_only=True):
    """Logged in. ``seq`` is the agent's latest event number.

    After ``Login`` (or ``Resume`` that cannot be served, ``resumed`` false) a ``Snapshot`` follows.
    After ``Resume`` with ``resumed`` true, the missed events ``last_seq+1 .. seq`` follow in order.
    """

    token: str
    user: str
    name: str
    role: Role
    expires_at: float
    seq: Seq
    resumed: bool = False
    shop: str = ""  # the shop this connection is signed into (issue 15)


class Kpis(Response, tag="kpis", frozen=True, kw_only=True):
    kpis: KpiTiles


class History(Response, tag="history", frozen=True, kw_only=True):
    conversation: Conversation
    messages: list[Message]
    more: bool = False  # older messages exist


class ReplyAck(Response, tag="reply_ack", frozen=True, kw_only=True):
    """The reply is committed. ``duplicate``: this client_id was already stored."""

    client_id: str
    message_id: int
    duplicate: bool = False


class BuyerList(Response, tag="buyer_list", frozen=True, kw_only=True):
    tile: BuyerTile
    buyers: list[str]  # buyer ids, latest reception first, at most MAX_BUYER_LIST


class WhyAnswer(Response, tag="why_answer", frozen=True, kw_only=True):
    conversation: str
    decisions: list[DecisionInfo]  # oldest first


class Team(Response, tag="team", frozen=True, kw_only=True):
    team: TeamInfo


class PhraseInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A stored quick reply."""

    id: int
    scope: PhraseScope
    group: str = ""
    title: str
    text: str
    pinned: bool = False


class Phrases(Response, tag="phrases", frozen=True, kw_only=True):
    """Every quick reply the account may use: the team's, then its own, each in its order.

    The answer to every phrase request; also pushed (``rid`` null) to the account's other consoles
    when its own phrases change, and to every console when the team's do."""

    phrases: list[PhraseInfo]


class LatestOrderIs(Response, tag="latest_order_is", frozen=True, kw_only=True):
    """``order``: the order the buyer placed last (the first reported last), null when none."""

    conversation: str
    order: str | None = None


class Colleagues(Response, tag="colleagues", frozen=True, kw_only=True):
    """The answer to ``get_colleagues``: the other agents (policy order) and the groups."""

    agents: list[Colleague]
    groups: list[GroupTarget] = []


class QueueBuyers(Response, tag="queue_buyers", frozen=True, kw_only=True):
    pool: str
    buyers: list[QueuedBuyer]  # in order, first served first


class AgentConversations(Response, tag="agent_conversations", frozen=True, kw_only=True):
    agent: str
    conversations: list[Conversation]  # the agent's open sessions, oldest first


class DayReport(Response, tag="day_report", frozen=True, kw_only=True):
    """A day's report rows (``console.reception.report``: one owner of the arithmetic)."""

    day: str  # YYYY-MM-DD, a local day of ``timezone``
    timezone: str
    conversations: list[ConversationRow]
    agents: list[AgentDayRow]
    audit: list[AuditEntry] = []  # the day's audit log (the report's third sheet), oldest first
    agent_names: dict[str, str] = {}  # display names of the agents, keyed by account id (audit sheet)
    buyers: dict[str, str] = {}  # names of the buyers the audit entries are about, keyed by id


class AuditAction(StrEnum):
    """What an audit entry records (CONSOLE.md §7)."""

    STATUS = "status"  # subject: the agent; value: the new status; previous: the old one
    TRANSFER = "transfer"  # subject: the buyer; value: the agent or "group:ID"; previous: the agent before
    CLOSE = "close"  # a supervisor ended a session; subject: the buyer; previous: the agent holding it
    POLICY = "policy"  # subject: ""; value: the policy's digest; previous: how (apply_policy, a file)
    ACCOUNT = "account"  # subject: the account; value: add:ROLE, passwd, disable or enable


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who changed what, when. ``by``: an account id, ``system`` (R3.4's grace period, a
    revocation) or the command that did it (``fenliu accounts`` with the system user)."""

    id: int
    at: float
    by: str
    action: AuditAction
    subject: str
    value: str = ""
    previous: str = ""


class AuditLog(Response, tag="audit_log", frozen=True, kw_only=True):
    """The answer to ``get_audit``. ``opening``: each agent's last status entry before the day
    began (the start of its shift timeline), sent only when ``after`` was null."""

    day: str
    timezone: str
    entries: list[AuditEntry]
    opening: list[AuditEntry] = []
    more: bool = False
    now: float | None = None  # the server's clock as it answered (where a shift timeline of today ends)
    buyers: dict[str, str] = {}  # the buyers' names these entries mention (a transfer's, a close's subject)
    groups: dict[str, str] = {}  # the policy groups' names (a transfer to ``group:ID``)


class DayChartsAnswer(Response, tag="day_charts", frozen=True, kw_only=True):
    """The answer to ``get_day_charts`` (``console.reception.day_charts``)."""

    day: str
    timezone: str
    charts: DayCharts


class WhatIfFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One agent on one side of a what-if (``console.sim.whatif.AgentFigures``)."""

    received: int = 0
    reasons: dict[str, int] = {}
    taken_from_queue: int = 0
    longest_wait_s: float = 0.0
    average_wait_s: float = 0.0


class WhatIfAgent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str = ""
    baseline: WhatIfFigures  # what happened (the day replayed as recorded)
    whatif: WhatIfFigures  # under the edited policy


class WhatIfPoolFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    peak: int = 0
    queued: int = 0
    waiting_at_end: int = 0
    longest_wait_s: float = 0.0
    average_wait_s: float = 0.0


class WhatIfPool(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pool: str
    name: str = ""  # a group queue's group name (either side's policy); empty for queue:shop and pool
    baseline: WhatIfPoolFigures
    whatif: WhatIfPoolFigures


class WhatIfSides(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    baseline: dict[str, float] = {}
    whatif: dict[str, float] = {}


class WhatIfComparison(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``console.sim.whatif.Comparison.as_json``, typed (the same as ``fenliu replay --json``)."""

    day: str
    inputs: int
    baseline_matches_record: bool | None = None
    recorded_decisions: int | None = None
    mismatch: str | None = None
    decisions: dict[str, int] = {}
    adjusted: dict[str, int] = {}
    agents: list[WhatIfAgent] = []
    pools: list[WhatIfPool] = []
    reasons: WhatIfSides = WhatIfSides()


class PolicyInForce(Response, tag="policy", frozen=True, kw_only=True):
    """The policy in force: its text, digest, when and by whom it was applied."""

    toml: str
    digest: str
    at: float
    by: str = ""


class WhatIfStarted(Response, tag="whatif_started", frozen=True, kw_only=True):
    run: str
    day: str


class WhatIfProgress(Response, tag="whatif_progress", frozen=True, kw_only=True):
    """Pushed (``rid`` null) to the console that started the run, at most every 0.2 s."""

    run: str
    fraction: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class WhatIfDone(Response, tag="whatif_done", frozen=True, kw_only=True):
    run: str
    comparison: WhatIfComparison


class WhatIfFailed(Response, tag="whatif_failed", frozen=True, kw_only=True):
    """The run stopped: ``cancelled`` (asked to, or its console left), or ``message`` says why."""

    run: str
    cancelled: bool = False
    message: str = ""


class SearchResults(Response, tag="search_results", frozen=True, kw_only=True):
    """Hits, newest first: on the first page buyers (name, product, order) then messages.
    ``next_before``: send it as ``before`` for older message hits; null when there are none."""

    query: str
    hits: list[SearchHit]
    next_before: int | None = None


class CatalogAnswer(Response, tag="catalog", frozen=True, kw_only=True):
    """The products matching a ``search_catalog``, best first (at most 50), as the cards they make."""

    query: str
    products: list[ProductCard] = []


class PanelAnswer(Response, tag="panel", frozen=True, kw_only=True):
    panel: BuyerPanel


class SessionHistory(Response, tag="session_history", frozen=True, kw_only=True):
    conversation: str
    session: SessionInfo
    messages: list[Message]
    more: bool = False  # the session had more than MAX_HISTORY messages: these are its first


class ImagePart(Response, tag="image_part", frozen=True, kw_only=True):
    """Bytes ``offset`` .. ``offset + len(data)`` of an image (or its thumbnail) of ``size`` bytes;
    ask again from the next offset until ``size`` bytes have come."""

    sha256: str
    thumb: bool = False
    offset: int
    size: int
    data: bytes


class Snapshot(Event, tag="snapshot", frozen=True, kw_only=True):
    """The agent's whole list and state, including every event up to ``seq``.

    It takes no number of its own: the next event is ``seq + 1``. It replaces what the console had.
    """

    conversations: list[Conversation]
    status: Status
    load: int
    cap: int
    kpis: KpiTiles


class ConversationUpdated(Event, tag="conversation", frozen=True, kw_only=True):
    """A row was added or changed without a message (section move, read, claim, close); a new
    message brings its row in ``MessageAdded.conversation`` instead."""

    conversation: Conversation


class ConversationRemoved(Event, tag="conversation_removed", frozen=True, kw_only=True):
    id: str
    reason: RemovalReason


class MessageAdded(Event, tag="message", frozen=True, kw_only=True):
    """A new message, and its conversation's row as it is after it (issue 9: one event per
    message). ``conversation`` is None in events stored before it was added: those came with a
    ``ConversationUpdated`` of their own, which still applies on a resume."""

    message: Message
    conversation: Conversation | None = None


class StatusChanged(Event, tag="status", frozen=True, kw_only=True):
    status: Status
    load: int
    cap: int


class KpisUpdated(Event, tag="kpis_updated", frozen=True, kw_only=True):
    kpis: KpiTiles


class TeamUpdated(Event, tag="team_updated", frozen=True, kw_only=True):
    """Supervisors only: pushed, coalesced, within a second of a change."""

    team: TeamInfo


class PanelUpdated(Event, tag="panel_updated", frozen=True, kw_only=True):
    """Something in a buyer's panel changed (a note, a tag, an order, a new arrive or session):
    the whole panel again, to every agent whose list shows the buyer."""

    panel: BuyerPanel


AgentEvent = (
    Snapshot
    | ConversationUpdated
    | ConversationRemoved
    | MessageAdded
    | StatusChanged
    | KpisUpdated
    | TeamUpdated
    | PanelUpdated
)
AgentPush = (
    Ok
    | Error
    | Moved
    | LoginOk
    | Kpis
    | History
    | ReplyAck
    | BuyerList
    | WhyAnswer
    | Team
    | Colleagues
    | SearchResults
    | CatalogAnswer
    | PanelAnswer
    | SessionHistory
    | Phrases
    | LatestOrderIs
    | QueueBuyers
    | AgentConversations
    | DayReport
    | ImagePart
    | AuditLog
    | DayChartsAnswer
    | PolicyInForce
    | WhatIfStarted
    | WhatIfProgress
    | WhatIfDone
    | WhatIfFailed
    | Snapshot
    | ConversationUpdated
    | ConversationRemoved
    | MessageAdded
    | StatusChanged
    | KpisUpdated
    | TeamUpdated
    | PanelUpdated
)
"""Everything the server sends on ``/agent``."""


# -- buyer side: gateway -> server ---------------------------------------------------------------


class BuyerHello(Request, tag="hello", frozen=True, kw_only=True):
    """The first message on ``/buyer``: who the buyer is. Nothing about their kind.

    ``key`` is the gateway key from the server's configuration (when it has one).
    """

    buyer: Id
    name: Name = ""
    key: Secret | None = None
    shop: Id | None = None  # the shop the buyer writes to; None: the only shop served (as in Login)


class Arrive(Request, tag="arrive", frozen=True, kw_only=True):
    """The buyer clicks the chat entry (R2.1); routing runs.

    There is no ``role``: merchant, staff and group come from the server's account data.
    """

    entry: Entry = Entry.OTHER
    product: Tag | None = None
    question: Tag | None = None
    intent: Tag | None = None
    crowd: Annotated[list[Tag], msgspec.Meta(max_length=MAX_CROWD_TAGS)] = []
    exclusive: Id | None = None  # the buyer's exclusive agent (专属客服), per the platform


class Say(Request, tag="say", frozen=True, kw_only=True):
    """The buyer writes. Idempotent on ``client_id``."""

    text: Text
    client_id: Id


class ShareProduct(Request, tag="share_product", frozen=True, kw_only=True):
    """The buyer shares a product of the shop (a product card: "I am asking about this one").
    The server makes the card from its catalogue: an unknown product is ``not_found``.
    Idempotent on ``client_id``; answered like ``say``."""

    product: Id
    client_id: Id


class Rate(Request, tag="rate", frozen=True, kw_only=True):
    """The buyer rates their latest session, 1-5 (4-5 count as satisfied)."""

    score: Score


class OrderUpdate(Request, tag="order", frozen=True, kw_only=True):
    """An order's state; ``items`` and ``amount`` (fen, 分) optionally, for the agent's buyer
    panel. Omitted, they keep what an earlier update said."""

    order: Id
    state: OrderState
    items: Annotated[list[OrderItem], msgspec.Meta(max_length=MAX_ORDER_ITEMS)] | None = None
    amount: Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT)] | None = None


class GetQuestions(Request, tag="get_questions", frozen=True, kw_only=True):
    """The question menu configured for an entry (R7.5)."""

    entry: Entry = Entry.OTHER


BuyerRequest = (BuyerHello | Arrive | Say | ShareProduct | Rate | OrderUpdate | GetQuestions | ImageBegin | ImageChunk
                | ImageEnd | GetImage)


# -- buyer side: server -> gateway ---------------------------------------------------------------


class Routed(Response, tag="routed", frozen=True, kw_only=True):
    """The routing outcome (answer to Arrive, and pushed again on every re-route).

    ``to`` is ``agent``, ``bot``, ``pool`` or ``queue``; ``name`` the agent's display name.
    """

    to: str
    name: str | None = None
    why: Reason
    position: int | None = None
    eta: float | None = None
    tip: str | None = None


class QueueUpdate(_Msg, tag="queue", frozen=True, kw_only=True):
    position: int
    eta: float | None = None
    tip: str | None = None


class AgentMessage(_Msg, tag="agent_message", frozen=True, kw_only=True):
    """Someone on the shop's side (an agent, the bot, the system) wrote to the buyer.

    ``text`` is the message, or for an image or a card (``kind``) its readable preview; the
    payload of that kind is in ``image`` or ``card``."""

    id: int
    text: str
    author: Author
    name: str = ""
    at: float
    kind: MessageKind = MessageKind.TEXT
    image: ImageRef | None = None
    card: Card | None = None

    def __post_init__(self) -> None:
        check_payload(self.kind, self.image, self.card)


class SayAck(Response, tag="say_ack", frozen=True, kw_only=True):
    client_id: str
    message_id: int
    duplicate: bool = False


class Questions(Response, tag="questions", frozen=True, kw_only=True):
    entry: Entry
    questions: list[str]


class SessionClosed(_Msg, tag="session_closed", frozen=True, kw_only=True):
    """The buyer's session ended (the gateway may now ask for a rating)."""

    why: Reason


BuyerPush = Ok | Error | Moved | Routed | QueueUpdate | AgentMessage | SayAck | Questions | SessionClosed | ImagePart
"""Everything the server sends on ``/buyer``."""

AnyMessage = AgentRequest | AgentPush | BuyerRequest | BuyerPush
