"""The console's state store (``ConsoleState``) and what the widgets ask of the server (``Backend``).

``Backend`` is what the widgets ask for (requests, fire and forget); ``ConsoleState`` is what
they observe (the current data and a signal per change). The server's side of that data (rows,
status, load, cap, tiles, the supervisor's team) is the client's ``AgentView``, which folded each
event once; the state reads it and keeps only what the UI owns (messages, delivery, optimistic
rows) beside it. Answers never come back as return values: the backend feeds them into the
state, which emits them (changes, not callbacks). The real adapter over ``console.client`` and ``FakeBackend`` both
follow this shape, so every widget runs the same against a server, a test or a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Protocol

import msgspec
from PySide6.QtCore import QObject, Signal

from console.client.view import AgentView
from console.protocol.messages import (
    AgentEvent,
    AuditLog,
    BuyerPanel,
    ConversationRemoved,
    ConversationUpdated,
    DayCharts,
    DayReport,
    KpisUpdated,
    MessageAdded,
    PanelUpdated,
    ProductCard,
    QueuedBuyer,
    RemovalReason,
    SessionInfo,
    Snapshot,
    Status,
    StatusChanged,
    TeamInfo,
    TeamUpdated,
    WhatIfDone,
    WhatIfFailed,
    WhatIfProgress,
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
from console.ui.team_data import DecisionLine, TeamData, team_from_protocol
from console.ui.transfer_targets import TransferTarget


class Connection(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class Delivery(StrEnum):
    """Where one of our own replies is: confirmed by the server, on its way, or kept offline."""

    CONFIRMED = "confirmed"
    SENDING = "sending"
    QUEUED = "queued"  # typed while the connection was down; the outbox sends it later
    FAILED = "failed"  # the server refused it for good (a closed session): not sent


class Backend(Protocol):
    """What the console asks of the server. Every call returns at once; results arrive on
    ``ConsoleState``."""

    def set_status(self, status: str) -> None: ...
    def open_conversation(self, conversation: str) -> None: ...
    def reply(self, conversation: str, text: str, client_id: str) -> None: ...
    def close(self, conversation: str) -> None: ...
    def clear_section(self, section: Section) -> None: ...
    def claim(self, conversation: str) -> None: ...
    def request_kpis(self) -> None: ...
    def filter_buyers(self, tile: str) -> None: ...
    def why(self, conversation: str) -> None: ...
    def transfer(self, conversation: str, agent: str | None = None, group: str | None = None,
                 note: str = "") -> None: ...
    def get_colleagues(self) -> None: ...
    def get_team(self) -> None: ...
    # the buyer panel (CONSOLE.md §6)
    def get_panel(self, conversation: str) -> None: ...
    def get_session(self, conversation: str, session: int) -> None: ...
    def add_note(self, conversation: str, text: str) -> None: ...
    def remove_note(self, conversation: str, note: int) -> None: ...
    def add_tag(self, conversation: str, tag: str) -> None: ...
    def remove_tag(self, conversation: str, tag: str) -> None: ...
    # cards (issue 13): ``card`` is a CardKind value, ``ref`` the product id or order number
    def send_card(self, conversation: str, card: str, ref: str) -> None: ...
    def search_catalog(self, query: str) -> None: ...
    def queue_buyers(self, pool: str) -> None: ...
    def agent_conversations(self, agent: str) -> None: ...
    def monitor(self, conversation: str) -> None: ...
    def day_report(self, day: str | None = None) -> None: ...
    def audit(self, after: int | None = None) -> None: ...
    def day_charts(self) -> None: ...
    def get_policy(self) -> None: ...
    def whatif_start(self, toml: str) -> None: ...
    def whatif_cancel(self, run: str) -> None: ...
    def apply_policy(self, toml: str) -> None: ...
    # images (issue 13): results come back as ``image_loaded`` / ``reply_failed``
    def send_image(self, conversation: str, data: bytes, client_id: str) -> None: ...
    def fetch_image(self, conversation: str, sha256: str, thumb: bool) -> None: ...


HUMAN_SECTIONS = frozenset({Section.PENDING, Section.BOT_REPLIED, Section.REPLIED})
BUYER_KINDS = frozenset({Kind.CONSUMER, Kind.MERCHANT})  # who the order tiles count (CONSOLE.md §1, §3)


class ConsoleState(QObject):
    """The console's copy of the server's data for one signed-in agent."""

    snapshot_loaded = Signal()
    conversation_updated = Signal(object)  # Conversation
    conversation_removed = Signal(str)
    message_added = Signal(object)  # Message (a confirmed one replaces the local one by client_id)
    history_loaded = Signal(str)  # conversation id
    status_changed = Signal(str, int, int)  # status, open sessions, cap
    kpis_updated = Signal(object)  # KpiTiles
    team_updated = Signal(object)  # TeamData
    connection_changed = Signal(str)  # Connection
    filter_loaded = Signal(str, object)  # tile, list of buyer ids (latest 200)
    decisions_loaded = Signal(str, object)  # conversation id, list of DecisionLine
    panel_loaded = Signal(object)  # BuyerPanel (asked for, or pushed when it changed)
    catalog_loaded = Signal(str, object)  # query, list of ProductCard (the product picker's answer)
    session_loaded = Signal(str, object, object)  # conversation id, SessionInfo, list of Message
    colleagues_loaded = Signal(object)  # list of TransferTarget (the transfer dialog's choices)
    error_reported = Signal(str)
    queue_loaded = Signal(str, object)  # pool, list of QueuedBuyer in order (supervisors)
    agent_conversations_loaded = Signal(str, object)  # agent, list of Conversation (supervisors)
    report_loaded = Signal(object)  # DayReport: a day's report rows (supervisors)
    audit_loaded = Signal(object)  # AuditLog: today's audit entries after the last asked for (supervisors)
    day_charts_loaded = Signal(str, object)  # day, DayCharts: the day in pictures (supervisors)
    policy_loaded = Signal(str)  # the policy in force, TOML (supervisors: the what-if editor)
    whatif_started = Signal(str)  # run id
    whatif_refused = Signal(str)  # why the server refused to start a run, in words
    whatif_updated = Signal(object)  # WhatIfProgress | WhatIfDone | WhatIfFailed
    policy_applied = Signal()
    image_loaded = Signal(str, bool, bytes)  # sha256, thumbnail?, the stored bytes (issue 13)
    image_failed = Signal(str, bool, str)  # sha256, thumbnail?, why it could not be fetched

    def __init__(self, agent: str, agent_name: str, role: str = "agent", parent: QObject | None = None,
                 view: AgentView | None = None) -> None:
        super().__init__(parent)
        self.agent = agent
        self.agent_name = agent_name
        self.role = role
        # the server's list, status, load, cap and tiles as the client folded them (``AgentClient.view``;
        # the client's backend hands its own in, ``ClientBackend.attach``); read through the properties
        self.view = view if view is not None else AgentView()
        self._local: dict[str, Conversation] = {}  # our optimistic rows, until the server's row comes
        self._merged: dict[str, Conversation] | None = None  # view + _local, built when asked
        self.messages: dict[str, list[Message]] = {}
        self._team: tuple[TeamInfo | None, TeamData] = (None, TeamData())  # view.team, as shown (see ``team``)
        self.connection = Connection.CONNECTING
        self.served_at = ""  # host:port of the shop's owner when another server sent us there (issue 15)
        self._delivery: dict[str, Delivery] = {}  # client_id -> delivery of our unconfirmed replies
        self._before: dict[str, Conversation] = {}  # client_id -> the row before the optimistic reply
        self._failures: dict[str, str] = {}  # client_id -> why the server refused it
        self.local_images: dict[str, bytes] = {}  # client_id -> an image we send, kept until confirmed (retry)
        self._local_ids = 0
        # unread_total() as a running sum (the title shows it after every update): what each
        # conversation adds, as last counted (rows change only through ``_row_changed`` and ``resync``).
        self._unread: dict[str, int] = {}
        self._unread_total = 0

    # -- the server's side: the client's view, folded once (issue 9) ----------------------------

    @property
    def conversations(self) -> Mapping[str, Conversation]:
        """The list as the widgets show it: the server's rows (``view``) with our optimistic ones
        (a reply sending, a read, 清扫) over them until the server's row for the same buyer comes."""
        if not self._local:
            return self.view.conversations
        if self._merged is None:
            self._merged = {**self.view.conversations, **self._local}
        return self._merged

    @property
    def status(self) -> str:
        return self.view.status.value

    @property
    def load(self) -> int:
        return self.view.load

    @property
    def cap(self) -> int:
        return self.view.cap

    @property
    def kpis(self) -> KpiTiles:
        return self.view.kpis

    @property
    def team(self) -> TeamData:
        """The room as the supervisor's view shows it: the team the client's view holds (a
        ``team_updated`` event or a ``get_team`` answer, folded there once), in the UI's terms."""
        folded, shown = self._team
        if self.view.team is not folded:  # TeamInfo is frozen: the same object is the same team
            shown = TeamData() if self.view.team is None else team_from_protocol(self.view.team)
            self._team = (self.view.team, shown)
        return shown

    def team_answered(self) -> None:
        """The client put a ``get_team`` answer into the view: show it."""
        self.team_updated.emit(self.team)

    def follow(self, event: AgentEvent) -> None:
        """An event the client has just folded into ``view``: say what changed. The rows, status,
        load, cap and tiles are read from the view, never folded a second time here."""
        view = self.view
        if isinstance(event, Snapshot):
            self.resync()
        elif isinstance(event, ConversationUpdated | MessageAdded):
            if event.conversation is not None:  # None: a message stored by an older server (its row came apart)
                self._row_changed(event.conversation.id)
            if isinstance(event, MessageAdded):
                self.add_message(event.message)
        elif isinstance(event, ConversationRemoved):
            self._row_changed(event.id)
        elif isinstance(event, StatusChanged):
            self.status_changed.emit(view.status.value, view.load, view.cap)
        elif isinstance(event, KpisUpdated):
            self.kpis_updated.emit(view.kpis)
        elif isinstance(event, TeamUpdated):
            self.team_updated.emit(self.team)
        elif isinstance(event, PanelUpdated):
            self.set_panel(event.panel)

    def resync(self) -> None:
        """The view was replaced (a snapshot: login, or a reconnect the server could not resume)."""
        self._local.clear()
        self._merged = None
        self._unread = {c.id: c.unread for c in self.conversations.values() if c.unread and not c.cleared}
        self._unread_total = sum(self._unread.values())
        self.snapshot_loaded.emit()
        self.status_changed.emit(self.status, self.load, self.cap)
        self.kpis_updated.emit(self.kpis)

    def _row_changed(self, conversation: str, *, local: Conversation | None = None) -> None:
        """The server's row of ``conversation`` changed (or went), or ours over it (``local``)."""
        if local is not None:
            self._local[conversation] = local
        else:
            self._local.pop(conversation, None)  # the server's word replaces what we showed ahead of it
        self._merged = None
        row = self.conversations.get(conversation)
        unread = 0 if row is None or row.cleared else row.unread
        if unread:
            self._unread_total += unread - self._unread.get(conversation, 0)
            self._unread[conversation] = unread
        else:
            self._unread_total -= self._unread.pop(conversation, 0)
        if row is not None:
            self.conversation_updated.emit(row)
        else:
            self.conversation_removed.emit(conversation)

    # -- a backend without a client (FakeBackend, tests): events made here, folded by ``view`` ---

    def _fold(self, event: AgentEvent) -> None:
        self.view.apply(event)
        self.follow(event)

    def _next_seq(self) -> int:
        return (self.view.seq or 0) + 1

    def load_snapshot(
        self,
        conversations: Iterable[Conversation],
        kpis: KpiTiles,
        status: str,
        load: int,
        cap: int,
    ) -> None:
        """A full resync, as the server's ``snapshot``."""
        self._fold(Snapshot(seq=self._next_seq(), conversations=list(conversations), status=Status(status),
                            load=load, cap=cap, kpis=kpis))

    def update_conversation(self, conversation: Conversation) -> None:
        """A row changed on the server's side (its ``conversation`` event)."""
        self._fold(ConversationUpdated(seq=self._next_seq(), conversation=conversation))

    def remove_conversation(self, conversation: str) -> None:
        """A row left the list (the server's ``conversation_removed``); nothing when it was not in it."""
        if conversation in self.conversations:
            self._fold(ConversationRemoved(seq=self._next_seq(), id=conversation, reason=RemovalReason.REROUTED))

    def set_status(self, status: str, load: int, cap: int) -> None:
        self._fold(StatusChanged(seq=self._next_seq(), status=Status(status), load=load, cap=cap))

    def set_kpis(self, kpis: KpiTiles) -> None:
        self._fold(KpisUpdated(seq=self._next_seq(), kpis=kpis))

    def load_history(self, conversation: str, messages: Iterable[Message]) -> None:
        """The server's history; our replies it does not hold yet (sending, queued, refused) stay."""
        history = sorted(messages, key=lambda m: (m.at, m.id))
        held = {m.client_id for m in history if m.client_id is not None}
        local = [m for m in self.messages.get(conversation, [])
                 if m.client_id is not None and m.client_id in self._delivery and m.client_id not in held]
        self.messages[conversation] = history + local
        self.history_loaded.emit(conversation)

    def add_message(self, message: Message) -> None:
        history = self.messages.setdefault(message.conversation, [])
        if message.client_id is not None and self._delivery.pop(message.client_id, None) is not None:
            history[:] = [m for m in history if m.client_id != message.client_id]
            self._before.pop(message.client_id, None)
            self._failures.pop(message.client_id, None)
            self.local_images.pop(message.client_id, None)
        history.append(message)
        self.message_added.emit(message)

    def set_team(self, team: TeamInfo) -> None:
        """The room changed on the server's side (its ``team_updated`` event)."""
        self._fold(TeamUpdated(seq=self._next_seq(), team=team))

    def set_connection(self, connection: Connection, served_at: str = "") -> None:
        """``served_at``: the server the connection was sent to (``moved``, issue 15), "" when it is
        the one the console was given."""
        if connection != self.connection or served_at != self.served_at:
            self.connection = connection
            self.served_at = served_at
            self.connection_changed.emit(str(connection))

    def set_filter(self, tile: str, buyers: list[str]) -> None:
        self.filter_loaded.emit(tile, buyers)

    def set_decisions(self, conversation: str, decisions: list[DecisionLine]) -> None:
        self.decisions_loaded.emit(conversation, decisions)

    def set_panel(self, panel: BuyerPanel) -> None:
        self.panel_loaded.emit(panel)

    def set_catalog(self, query: str, products: list[ProductCard]) -> None:
        self.catalog_loaded.emit(query, products)

    def set_session(self, conversation: str, session: SessionInfo, messages: list[Message]) -> None:
        self.session_loaded.emit(conversation, session, messages)
    def set_colleagues(self, targets: list[TransferTarget]) -> None:
        self.colleagues_loaded.emit(targets)
    def set_queue(self, pool: str, buyers: list[QueuedBuyer]) -> None:
        self.queue_loaded.emit(pool, buyers)

    def set_agent_conversations(self, agent: str, conversations: list[Conversation]) -> None:
        self.agent_conversations_loaded.emit(agent, conversations)

    def set_report(self, report: DayReport) -> None:
        self.report_loaded.emit(report)

    def set_audit(self, log: AuditLog) -> None:
        self.audit_loaded.emit(log)

    def set_day_charts(self, day: str, charts: DayCharts) -> None:
        self.day_charts_loaded.emit(day, charts)

    def set_policy(self, toml: str) -> None:
        self.policy_loaded.emit(toml)

    def set_whatif(self, message: WhatIfProgress | WhatIfDone | WhatIfFailed) -> None:
        self.whatif_updated.emit(message)

    def report_error(self, text: str) -> None:
        self.error_reported.emit(text)

    def set_image(self, sha256: str, thumb: bool, data: bytes) -> None:
        self.image_loaded.emit(sha256, thumb, data)

    def image_unavailable(self, sha256: str, thumb: bool, reason: str) -> None:
        self.image_failed.emit(sha256, thumb, reason)

    # -- optimistic local changes -----------------------------------------------------------------

    def add_local_reply(self, conversation: str, text: str, client_id: str, now: float, *,
                        image: ImageRef | None = None) -> Message:
        """Show our reply at once: the message as sending (or queued offline), the row replied."""
        self._local_ids -= 1
        message = Message(
            id=self._local_ids, conversation=conversation, author=Author.AGENT, text=text, at=now,
            agent=self.agent, client_id=client_id, kind=MessageKind.TEXT if image is None else MessageKind.IMAGE,
            image=image,
        )
        online = self.connection == Connection.ONLINE
        self._delivery[client_id] = Delivery.SENDING if online else Delivery.QUEUED
        self.messages.setdefault(conversation, []).append(message)
        self.message_added.emit(message)
        current = self.conversations.get(conversation)
        if current is not None:
            self._before[client_id] = current
            section = Section.REPLIED if current.section in HUMAN_SECTIONS else current.section
            self._row_changed(conversation, local=msgspec.structs.replace(
                current, section=section, last_text=text, last_at=now, unread=0, waiting_since=None, cleared=False,
            ))
        return message

    def add_local_image(self, conversation: str, data: bytes, image: ImageRef, client_id: str, now: float) -> Message:
        """Show an image we send at once (``image`` describes the bytes as they are, before the
        server cleans them); the bytes are kept until the server confirms it, to show and to retry."""
        self.local_images[client_id] = data
        return self.add_local_reply(conversation, IMAGE_TEXT, client_id, now, image=image)

    def retry_image(self, client_id: str) -> tuple[str, bytes] | None:
        """A refused image is sent again (same client_id): its conversation and bytes, or None."""
        data = self.local_images.get(client_id)
        message = next((m for history in self.messages.values() for m in history if m.client_id == client_id), None)
        if data is None or message is None or self._delivery.get(client_id) != Delivery.FAILED:
            return None
        self._delivery[client_id] = Delivery.SENDING
        self._failures.pop(client_id, None)
        self.message_added.emit(message)  # repainted as sending
        return message.conversation, data

    def reply_failed(self, client_id: str, reason: str) -> None:
        """The server refused one of our replies for good: the bubble says so and why, and the
        row goes back to where it was, unless something newer has moved it since."""
        if self._delivery.get(client_id) is None:
            return
        self._delivery[client_id] = Delivery.FAILED
        self._failures[client_id] = reason
        before = self._before.pop(client_id, None)
        message = next((m for history in self.messages.values() for m in history if m.client_id == client_id), None)
        if message is None:
            return
        self.message_added.emit(message)  # the same client_id: the bubble is repainted, not added
        current = self.conversations.get(message.conversation)
        if before is not None and current is not None and current.last_at == message.at \
                and current.last_text == message.text:
            self._row_changed(message.conversation, local=msgspec.structs.replace(
                current, section=before.section, last_text=before.last_text, last_at=before.last_at,
                waiting_since=before.waiting_since, cleared=before.cleared,
            ))

    def mark_read(self, conversation: str) -> None:
        current = self.conversations.get(conversation)
        if current is not None and current.unread:
            self._row_changed(conversation, local=msgspec.structs.replace(current, unread=0))

    def mark_section_cleared(self, section: Section) -> None:
        """The 清扫 button: the rows leave the list at once; the server confirms."""
        for conversation in [c for c in self.conversations.values() if c.section == section and not c.cleared]:
            self._row_changed(conversation.id, local=msgspec.structs.replace(conversation, cleared=True))

    # -- queries ---------------------------------------------------------------------------------

    def delivery(self, message: Message) -> Delivery:
        if message.client_id is None:
            return Delivery.CONFIRMED
        return self._delivery.get(message.client_id, Delivery.CONFIRMED)

    def failure(self, message: Message) -> str:
        """Why the server refused one of our replies ("" when it did not)."""
        return self._failures.get(message.client_id, "") if message.client_id is not None else ""

    def waiting_count(self) -> int:
        """Buyers of ours still waiting for a reply: they go to colleagues if we go offline (R3.3)."""
        return sum(
            1 for c in self.conversations.values()
            if c.section == Section.PENDING and c.open and c.holder == f"agent:{self.agent}"
        )

    def unread_total(self) -> int:
        """Unread messages over the conversations still in the list (kept as a running sum)."""
        return self._unread_total
