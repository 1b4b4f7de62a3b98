"""The console's connection to the server, without Qt: log in, stay connected, lose nothing.

``AgentClient`` is what the Qt console (through a thin adapter in ``console/ui``), the simulator's
colleague agents and the tests use. It

- connects to ``/agent``, logs in with a password (or a token) and keeps the token it gets;
- reconnects by itself after any drop, waiting with exponential backoff and jitter
  (``Backoff``), and resumes with ``resume(token, last_seq)`` so the server replays exactly the
  events it missed; a ``SeqTracker`` drops repeats and turns a gap into a fresh snapshot, so
  every event reaches ``events`` once and in order (CONSOLE.md §5);
- keeps every reply in an ``Outbox`` on disk until the server acknowledges it, and sends it again
  with the same ``client_id`` whenever the connection is back (exactly once for the buyer: the
  server is idempotent on ``client_id``);
- turns each request into a method returning the typed answer or raising ``ClientError``.

Observers (plain callbacks, no Qt): ``events`` (every accepted event, after ``view`` has taken it
in), ``state_changed`` (connecting / online / reconnecting / offline, with the next retry delay
and the last error), ``outbox.changed`` and ``reply_outcomes``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from websockets.asyncio.client import connect
from websockets.client import process_exception as retryable  # None: worth retrying

from console.client.backoff import Backoff
from console.client.errors import (
    TRANSIENT_CODES,
    ClientError,
    ConnectionLost,
    NotConnected,
    Redirected,
    RequestTimeout,
)
from console.client.images import fetch_image, send_image
from console.client.link import REQUEST_TIMEOUT, Link, decode_agent_push
from console.client.moves import MoveRefused, Moves, endpoint
from console.client.observers import EventStream, Observers
from console.client.outbox import Outbox, OutboxEntry, outbox_path
from console.client.view import AgentView
from console.protocol.codec import MAX_PUSH_BYTES
from console.protocol.limits import AGENT_BURST, AGENT_RATE, CLOSE_REVOKED
from console.protocol.messages import (
    MAX_IMAGE_BYTES,
    AddNote,
    AddPhrases,
    AddTag,
    AgentConversations,
    AgentEvent,
    ApplyPolicy,
    AuditLog,
    BuyerList,
    BuyerPanel,
    BuyerTile,
    CardKind,
    CatalogAnswer,
    Claim,
    ClearSection,
    CloseSession,
    Colleagues,
    ContactBuyer,
    Conversation,
    DayChartsAnswer,
    DayReport,
    DecisionInfo,
    DeletePhrase,
    EditPhrase,
    Error,
    ErrorCode,
    Event,
    FilterBuyers,
    GetAgentConversations,
    GetAudit,
    GetColleagues,
    GetDayCharts,
    GetKpis,
    GetPanel,
    GetPhrases,
    GetPolicy,
    GetQueue,
    GetReport,
    GetSession,
    GetSnapshot,
    GetTeam,
    History,
    ImageBegin,
    Kpis,
    LatestOrder,
    LatestOrderIs,
    Login,
    LoginOk,
    Logout,
    Ok,
    Open,
    PanelAnswer,
    PhraseDraft,
    PhraseInfo,
    Phrases,
    PhraseScope,
    PinPhrase,
    PolicyInForce,
    ProductCard,
    QueueBuyers,
    QueuedBuyer,
    RemoveNote,
    RemoveTag,
    ReorderPhrases,
    Reply,
    ReplyAck,
    Request,
    Resume,
    Search,
    SearchCatalog,
    SearchResults,
    Section,
    SendCard,
    SessionHistory,
    SetStatus,
    Status,
    Team,
    TeamInfo,
    Transfer,
    WhatIfCancel,
    WhatIfDone,
    WhatIfFailed,
    WhatIfProgress,
    WhatIfStart,
    WhatIfStarted,
    Why,
    WhyAnswer,
)
from console.protocol.sequence import SeqTracker, Verdict
from console.reception.model import IMAGE_TEXT, KpiTiles

log = logging.getLogger(__name__)

R = TypeVar("R")

STABLE_AFTER = 10.0
"""A connection that lasted this long resets the backoff; shorter ones (a server that accepts
and drops at once) keep growing it, so the client never hammers a failing server."""
PING_INTERVAL = 10.0
"""Keepalive pings; a server that stops answering for this long is dropped and reconnected."""
CLOSE_TIMEOUT = 5.0


class ConnectionState(StrEnum):
    CONNECTING = "connecting"  # the first connection is being made
    ONLINE = "online"  # logged in; requests go through
    RECONNECTING = "reconnecting"  # the connection dropped; waiting or trying again
    OFFLINE = "offline"  # stopped: closed, or a failure retrying cannot fix (bad password)


@dataclass(frozen=True, slots=True)
class StateChange:
    """The connection state, what went wrong last, and when the next attempt is."""

    state: ConnectionState
    error: str | None = None
    retry_in: float | None = None  # seconds until the next attempt (reconnecting)


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """A reply left the outbox: acknowledged (``ack``) or refused for good (``error``)."""

    entry: OutboxEntry
    ack: ReplyAck | None = None
    error: ClientError | None = None


class AgentClient:
    """One agent's (or supervisor's) connection; see the module docstring."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str | None = None,
        *,
        token: str | None = None,
        state_dir: Path,
        ssl: ssl_module.SSLContext | None = None,
        backoff: Backoff | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        ping_interval: float | None = PING_INTERVAL,
        shop: str | None = None,
    ) -> None:
        if password is None and token is None:
            raise ValueError("AgentClient needs a password or a token")
        self.url = endpoint(url, "/agent")
        self.moves = Moves(self.url, "/agent")  # where the shop's owner is, when another process answered moved
        self.refused_move: MoveRefused | None = None  # why the client stopped, when a move was not followed
        self.user = user
        self.shop = shop  # which shop of the deployment (issue 15); None: the server's only shop
        self._password = password
        self.token = token
        self.account: LoginOk | None = None  # the latest login answer (name, role, expiry)
        self.view = AgentView()
        # one outbox per shop: the same account id in two shops is two accounts
        self.outbox = Outbox(outbox_path(state_dir, self.url, user if shop is None else f"{shop}/{user}"))
        self.events: Observers[AgentEvent] = Observers()
        self.state_changed: Observers[StateChange] = Observers()
        self.reply_outcomes: Observers[ReplyOutcome] = Observers()
        self.phrase_updates: Observers[list[PhraseInfo]] = Observers()  # another console changed them
        self.whatif_updates: Observers[WhatIfProgress | WhatIfDone | WhatIfFailed] = Observers()  # the room's runs
        self._ssl = ssl
        self._backoff = backoff or Backoff()
        self._timeout = request_timeout
        self._ping = ping_interval
        self._tracker = SeqTracker()
        self._state = StateChange(ConnectionState.OFFLINE)
        self._link: Link | None = None
        self._online = asyncio.Event()
        self._retry = asyncio.Event()
        self._outbox_wake = asyncio.Event()
        self._resyncing = False
        self._closing = False
        self._ever_online = False
        self._run_task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._first: asyncio.Future[None] | None = None
        self._waiters: dict[str, list[asyncio.Future[ReplyAck]]] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def state(self) -> StateChange:
        return self._state

    @property
    def is_online(self) -> bool:
        return self._online.is_set()

    async def start(self) -> None:
        """Connect and log in; return once online.

        Raises ``ClientError`` when retrying cannot help (wrong password, unknown token, too many
        failed logins, not a fenliu server); the client is then offline. Network failures are
        retried with backoff until it works: bound the wait with ``asyncio.timeout`` and
        ``close()`` the client if you give up (the connection goes on trying until then).
        """
        if self._run_task is not None:
            raise RuntimeError("the client is already started")
        loop = asyncio.get_running_loop()
        self._first = loop.create_future()
        self._first.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._closing = False
        self.refused_move = None
        self.moves.reset()
        self._run_task = asyncio.create_task(self._run(), name=f"fenliu-agent-{self.user}")
        await asyncio.shield(self._first)

    async def wait_online(self, timeout: float | None = None) -> None:
        """Until online (``TimeoutError`` after ``timeout`` seconds)."""
        await asyncio.wait_for(self._online.wait(), timeout)

    def retry_now(self) -> None:
        """Skip the rest of the backoff delay and try to connect now (the UI's "retry" button)."""
        self._retry.set()

    async def close(self, *, logout: bool = False) -> None:
        """Stop: optionally end the token (``logout``), close the connection, stop every task.

        Replies still in the outbox stay on disk and are sent by the next client of this user.
        """
        self._closing = True
        self._retry.set()
        link = self._link
        if link is not None and logout and self._online.is_set():
            try:
                await link.request(Logout(), Ok, timeout=CLOSE_TIMEOUT)
            except ClientError as exc:
                log.info("logout failed: %s", exc)
        if link is not None:
            await link.close()
        for task in (self._run_task, self._flusher, *self._side_tasks):
            if task is not None and not task.done():
                task.cancel()
        pending = [t for t in (self._run_task, self._flusher, *self._side_tasks) if t is not None]
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_TIMEOUT)
        self._run_task = self._flusher = None
        self._online.clear()
        self.outbox.mark_queued()
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(NotConnected("the client was closed; the reply stays in the outbox"))
        self._waiters.clear()
        if self.token is not None and logout:
            self.token = None
        self._set_state(ConnectionState.OFFLINE)

    async def __aenter__(self) -> AgentClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def subscribe(self) -> EventStream[AgentEvent]:
        """An async stream of the events accepted from now on."""
        return EventStream(self.events)

    def subscribe_states(self) -> EventStream[StateChange]:
        return EventStream(self.state_changed)

    # -- the connection loop --------------------------------------------------------------------

    def _set_state(self, state: ConnectionState, error: str | None = None, retry_in: float | None = None) -> None:
        change = StateChange(state, error, retry_in)
        if change != self._state:
            self._state = change
            self.state_changed.emit(change)

    def _fail_start(self, exc: ClientError) -> None:
        if self._first is not None and not self._first.done():
            self._first.set_exception(exc)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        error: str | None = None
        while not self._closing:
            self._set_state(ConnectionState.RECONNECTING if self._ever_online else ConnectionState.CONNECTING, error)
            try:
                conn = await connect(
                    self.moves.current, ssl=self._ssl, open_timeout=self._timeout, ping_interval=self._ping,
                    ping_timeout=self._ping, close_timeout=CLOSE_TIMEOUT, max_size=MAX_PUSH_BYTES,
                    compression=None, proxy=None,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"cannot connect: {exc}"
                if self.moves.moved:  # the owner we were sent to is gone: ask the home server again
                    self.moves.reset()
                    await self._pause(error)
                    continue
                if _fatal(exc):
                    log.error("%s: %s", self.url, error)
                    self._fail_start(NotConnected(error))
                    self._set_state(ConnectionState.OFFLINE, error)
                    return
                await self._pause(error)
                continue
            link = Link(conn, decode_agent_push, self._on_push, rid_prefix="c")
            self._link = link
            try:
                await self._authenticate(link)
            except Redirected as exc:  # another process owns the shop: go there at once (issue 15)
                await link.close()
                try:
                    target = self.moves.follow(exc.moved)
                except MoveRefused as refusal:
                    log.error("%s: %s", self.url, refusal.message)
                    self.refused_move = refusal
                    self.moves.reset()
                    self._fail_start(refusal)
                    self._set_state(ConnectionState.OFFLINE, refusal.message)
                    return
                log.info("%s: shop %s is served at %s; going there", self.url, exc.moved.shop, target)
                continue
            except ClientError as exc:
                await link.close()
                error = exc.message
                if exc.code is ErrorCode.UNAUTHENTICATED and self.token is not None and self._password is not None:
                    self.token = None  # the token expired or was revoked: log in with the password
                    continue
                locked_out = exc.code is ErrorCode.RATE_LIMITED and not self._ever_online
                # not served there (issue 15); once served, or sent by a move, it is a takeover under way
                no_shop = exc.code is ErrorCode.NOT_FOUND and exc.field == "shop" and not (
                    self._ever_online or self.moves.moved)
                if exc.code is ErrorCode.UNAUTHENTICATED or locked_out or no_shop:  # retrying cannot fix these
                    self._fail_start(exc)
                    self._set_state(ConnectionState.OFFLINE, exc.message)
                    return
                self.moves.reset()  # the next try asks the home server where the shop is
                await self._pause(error)
                continue
            online_at = loop.time()
            self._ever_online = True
            self._online.set()
            self._set_state(ConnectionState.ONLINE)
            if self._first is not None and not self._first.done():
                self._first.set_result(None)
            self._flusher = asyncio.create_task(self._flush_outbox(link), name="fenliu-outbox")
            await link.closed.wait()
            self._online.clear()
            self.outbox.mark_queued()
            await _stop(self._flusher)
            self._flusher = None
            if self._closing:
                break
            if link.conn.close_code == CLOSE_REVOKED:  # disabled, or the password changed: no retry
                self.token = None
                self._password = None
                log.warning("%s: %s", self.url, link.close_reason)
                self._set_state(ConnectionState.OFFLINE, f"access ended ({link.close_reason})")
                return
            error = f"connection lost ({link.close_reason})"
            log.info("%s: %s", self.moves.current, error)
            self.moves.reset()  # the home server says where the shop is now (its owner may have changed)
            if loop.time() - online_at >= STABLE_AFTER:
                self._backoff.reset()
            await self._pause(error)

    async def _pause(self, error: str) -> None:
        """Wait out the next backoff delay (or until ``retry_now``), showing it in the state."""
        if self._closing:
            return
        delay = self._backoff.next_delay()
        self._set_state(ConnectionState.RECONNECTING if self._ever_online else ConnectionState.CONNECTING,
                        error, retry_in=delay)
        self._retry.clear()
        try:
            await asyncio.wait_for(self._retry.wait(), delay)
        except TimeoutError:
            pass

    async def _authenticate(self, link: Link) -> None:
        """``resume`` with the token when there is one, else ``login``; then the events follow."""
        message: Login | Resume
        if self.token is not None:
            message = Resume(token=self.token, last_seq=self._tracker.last_seq, shop=self.shop)
        else:
            assert self._password is not None
            message = Login(user=self.user, password=self._password, shop=self.shop)
        self._resyncing = False
        ok = await link.request(message, LoginOk, self._timeout)
        self.account = ok
        self.token = ok.token
        if self.shop is None and ok.shop:
            self.shop = ok.shop  # resumes name it from now on, whatever else the server comes to serve
        if isinstance(message, Resume) and ok.resumed:
            log.info("%s resumed after seq %s (server at %d)", self.user, message.last_seq, ok.seq)

    def _on_push(self, message: Any) -> None:
        if isinstance(message, Event):
            event: AgentEvent = message  # type: ignore[assignment]
            verdict = self._tracker.accept(event)
            if verdict is Verdict.NEW:
                self._resyncing = False
                self.view.apply(event)
                self.events.emit(event)
            elif verdict is Verdict.GAP:
                self._resync(event.seq)
            return
        if isinstance(message, Phrases):  # changed on another console of this account, or the team's
            self.phrase_updates.emit(message.phrases)
            return
        if isinstance(message, WhatIfProgress | WhatIfDone | WhatIfFailed):  # a what-if this console started
            self.whatif_updates.emit(message)
            return
        if isinstance(message, Error):
            log.warning("server error outside a request: %s %s", message.code.value, message.message)
        else:
            log.debug("ignoring %s pushed outside a request", type(message).__name__)

    def _resync(self, seq: int) -> None:
        """An event skipped a number: ask for a fresh snapshot (events until it are dropped)."""
        if self._resyncing or self._link is None:
            return
        log.warning("event %d does not follow %s: asking for a snapshot", seq, self._tracker.last_seq)
        self._resyncing = True
        self._spawn(self._link.send(GetSnapshot()))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_done)

    def _side_done(self, task: asyncio.Task[Any]) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("background send failed: %s", task.exception())

    # -- requests -------------------------------------------------------------------------------

    async def _call(self, message: Request, answer: type[R]) -> R:
        link = self._link
        if link is None or not self._online.is_set():
            raise NotConnected()
        return await link.request(message, answer, self._timeout)

    async def set_status(self, status: Status) -> None:
        await self._call(SetStatus(status=status), Ok)

    async def open(self, conversation: str, limit: int = 200) -> History:
        """A conversation's latest messages (and it is marked read)."""
        return await self._call(_build(Open, conversation=conversation, limit=limit), History)

    async def close_conversation(self, conversation: str) -> None:
        """End the session with a buyer (the protocol's ``close``)."""
        await self._call(_build(CloseSession, conversation=conversation), Ok)

    async def clear(self, section: Section) -> None:
        """清扫 the bot-replied or replied section."""
        await self._call(_build(ClearSection, section=section), Ok)

    async def claim(self, conversation: str) -> None:
        await self._call(_build(Claim, conversation=conversation), Ok)

    async def get_kpis(self) -> KpiTiles:
        """The tiles now; kept in ``view`` too (the latest the client knows, as a ``kpis_updated``)."""
        kpis = (await self._call(GetKpis(), Kpis)).kpis
        self.view.kpis = kpis
        return kpis

    async def get_snapshot(self) -> None:
        """Ask for a full resync; the snapshot arrives as an event."""
        link = self._link
        if link is None or not self._online.is_set():
            raise NotConnected()
        await link.send(GetSnapshot())

    async def filter_buyers(self, tile: BuyerTile) -> list[str]:
        return (await self._call(FilterBuyers(tile=tile), BuyerList)).buyers

    async def why(self, conversation: str) -> list[DecisionInfo]:
        return (await self._call(_build(Why, conversation=conversation), WhyAnswer)).decisions

    async def transfer(self, conversation: str, agent: str | None = None, *, group: str | None = None,
                       note: str = "") -> None:
        """Give the session to a colleague or a group, with a note for the receiver (R3.5)."""
        await self._call(_build(Transfer, conversation=conversation, agent=agent, group=group, note=note), Ok)

    async def colleagues(self) -> Colleagues:
        """Whom a transfer can go to: the other agents (status, load, cap) and the groups."""
        return await self._call(GetColleagues(), Colleagues)

    async def get_team(self) -> TeamInfo:
        """Supervisors: the room now; kept in ``view`` too (the latest the client knows, as a
        ``team_updated``), so the team has one home on this side."""
        team = (await self._call(GetTeam(), Team)).team
        self.view.team = team
        return team

    async def queue_buyers(self, pool: str) -> list[QueuedBuyer]:
        """Supervisors: a pool's buyers in order (the room's queue list)."""
        return (await self._call(_build(GetQueue, pool=pool), QueueBuyers)).buyers

    async def agent_conversations(self, agent: str) -> list[Conversation]:
        """Supervisors: one agent's open sessions (the room's agent list)."""
        return (await self._call(_build(GetAgentConversations, agent=agent), AgentConversations)).conversations

    async def day_report(self, day: str | None = None) -> DayReport:
        """Supervisors: a local day's report rows (today when ``day`` is None), for the room's export."""
        return await self._call(_build(GetReport, day=day), DayReport)

    async def audit(self, day: str | None = None, after: int | None = None) -> AuditLog:
        """Supervisors: a local day's audit log (today when ``day`` is None), entries after ``after``."""
        return await self._call(_build(GetAudit, day=day, after=after), AuditLog)

    async def day_charts(self, day: str | None = None) -> DayChartsAnswer:
        """Supervisors: the day in pictures (today when ``day`` is None), at most a few seconds old."""
        return await self._call(_build(GetDayCharts, day=day), DayChartsAnswer)

    async def whatif_start(self, toml: str, day: str | None = None) -> WhatIfStarted:
        """Supervisors: replay a day under ``toml`` on the server; progress and the result come to
        ``whatif_updates``."""
        return await self._call(_build(WhatIfStart, toml=toml, day=day), WhatIfStarted)

    async def policy(self) -> PolicyInForce:
        """Supervisors: the policy in force (the what-if editor's starting text)."""
        return await self._call(GetPolicy(), PolicyInForce)

    async def whatif_cancel(self, run: str) -> None:
        await self._call(_build(WhatIfCancel, run=run), Ok)

    async def apply_policy(self, toml: str) -> None:
        await self._call(_build(ApplyPolicy, toml=toml), Ok)

    async def search(self, query: str, *, limit: int = 30, before: int | None = None) -> SearchResults:
        """Earlier conversations matching ``query`` (issue 13); ``before`` pages on (``next_before``)."""
        return await self._call(_build(Search, query=query, limit=limit, before=before), SearchResults)

    async def get_panel(self, conversation: str) -> BuyerPanel:
        """The buyer panel (CONSOLE.md §6); later changes come as ``panel_updated`` events."""
        return (await self._call(_build(GetPanel, conversation=conversation), PanelAnswer)).panel

    async def get_session(self, conversation: str, session: int) -> SessionHistory:
        """One past session's messages, read-only."""
        return await self._call(_build(GetSession, conversation=conversation, session=session), SessionHistory)

    async def send_card(self, conversation: str, card: CardKind, ref: str, *, client_id: str | None = None) -> ReplyAck:
        """A product, order or 催付 card (issue 13); the message comes back as a ``message`` event."""
        return await self._call(_build(SendCard, conversation=conversation, card=card, ref=ref,
                                       client_id=client_id or new_client_id()), ReplyAck)

    async def contact(self, conversation: str) -> None:
        """再次联系: open a session with a reachable buyer who has none (issue 13)."""
        await self._call(_build(ContactBuyer, conversation=conversation), Ok)

    async def search_catalog(self, query: str) -> list[ProductCard]:
        """Products of the shop's catalogue to send (title, id or pinyin initials)."""
        return (await self._call(_build(SearchCatalog, query=query), CatalogAnswer)).products

    async def add_note(self, conversation: str, text: str) -> None:
        await self._call(_build(AddNote, conversation=conversation, text=text), Ok)

    async def remove_note(self, conversation: str, note: int) -> None:
        await self._call(_build(RemoveNote, conversation=conversation, note=note), Ok)

    async def add_tag(self, conversation: str, tag: str) -> None:
        await self._call(_build(AddTag, conversation=conversation, tag=tag), Ok)

    async def remove_tag(self, conversation: str, tag: str) -> None:
        await self._call(_build(RemoveTag, conversation=conversation, tag=tag), Ok)
    # -- quick replies (快捷短语) --------------------------------------------------------------------
    # Each answers with the whole list the account may use (team's, then its own).

    async def get_phrases(self) -> list[PhraseInfo]:
        return (await self._call(GetPhrases(), Phrases)).phrases

    async def add_phrases(self, drafts: list[PhraseDraft]) -> list[PhraseInfo]:
        """Add one or many (a CSV import): all of them, or none if any is refused."""
        return (await self._call(_build(AddPhrases, phrases=drafts), Phrases)).phrases

    async def edit_phrase(self, phrase: int, *, title: str, text: str, group: str = "",
                          pinned: bool = False) -> list[PhraseInfo]:
        request = _build(EditPhrase, id=phrase, group=group, title=title, text=text, pinned=pinned)
        return (await self._call(request, Phrases)).phrases

    async def pin_phrase(self, phrase: int, pinned: bool) -> list[PhraseInfo]:
        return (await self._call(_build(PinPhrase, id=phrase, pinned=pinned), Phrases)).phrases

    async def delete_phrase(self, phrase: int) -> list[PhraseInfo]:
        return (await self._call(_build(DeletePhrase, id=phrase), Phrases)).phrases

    async def reorder_phrases(self, scope: PhraseScope, ids: list[int]) -> list[PhraseInfo]:
        return (await self._call(_build(ReorderPhrases, scope=scope, ids=ids), Phrases)).phrases

    async def latest_order(self, conversation: str) -> str | None:
        """The buyer's latest order number (what ``{订单号}`` becomes), None when there is none."""
        return (await self._call(_build(LatestOrder, conversation=conversation), LatestOrderIs)).order

    # -- images (issue 13) ---------------------------------------------------------------------

    async def send_image(self, conversation: str, data: bytes, *, client_id: str | None = None) -> ReplyAck:
        """Send the buyer an image (the server checks, cleans and stores it) and wait for its
        acknowledgement. Needs the connection: a failure raises and the caller keeps it to retry
        (with the same ``client_id``: a resend of a stored image is acknowledged, not repeated).
        ``queue_image`` is the outbox's way, which waits for the connection."""
        return await send_image(self._call, data, client_id or new_client_id(), ReplyAck,
                                rate=(AGENT_RATE, AGENT_BURST), conversation=conversation)

    async def queue_image(self, conversation: str, data: bytes, *, client_id: str | None = None) -> OutboxEntry:
        """Put an image in the outbox (its bytes on disk) and return at once; it is sent when the
        connection allows, like a queued reply, and its fate comes through ``reply_outcomes``.
        Raises ``ClientError`` at once for what no connection would change (too many bytes)."""
        if len(data) > MAX_IMAGE_BYTES:
            raise ClientError(ErrorCode.OVERSIZED,
                              f"the image is {len(data):,} bytes; at most {MAX_IMAGE_BYTES:,} can be sent")
        client_id = client_id or new_client_id()
        _build(ImageBegin, client_id=client_id, size=len(data), sha256="0" * 64,
               conversation=conversation)  # refuse bad input now
        entry = await self.outbox.add(conversation, IMAGE_TEXT, client_id, image=data)
        self._outbox_wake.set()
        return entry

    async def fetch_image(self, conversation: str, sha256: str, *, thumb: bool = False) -> bytes:
        """An image of a conversation this agent may open (or its thumbnail)."""
        return await fetch_image(self._call, sha256, conversation=conversation, thumb=thumb)

    # -- replies and the outbox ---------------------------------------------------------------

    async def queue_reply(self, conversation: str, text: str, *, client_id: str | None = None) -> OutboxEntry:
        """Put a reply in the outbox (on disk) and return at once; it is sent when possible.

        Its fate comes through ``reply_outcomes`` (or ``delivered(client_id)``).
        """
        client_id = client_id or new_client_id()
        _build(Reply, conversation=conversation, text=text, client_id=client_id)  # refuse bad input now
        entry = await self.outbox.add(conversation, text, client_id)
        self._outbox_wake.set()
        return entry

    async def reply(self, conversation: str, text: str, *, client_id: str | None = None) -> ReplyAck:
        """Write to a buyer and wait for the acknowledgement, across reconnects if need be.

        Raises ``ClientError`` when the server refuses it for good (not your conversation, the
        session closed); ``NotConnected`` if the client is closed first (the reply stays queued).
        """
        client_id = client_id or new_client_id()
        waiter = self._wait_for(client_id)
        try:
            await self.queue_reply(conversation, text, client_id=client_id)
        except BaseException:
            self._forget(client_id, waiter)
            raise
        return await waiter

    async def delivered(self, client_id: str) -> ReplyAck:
        """Wait for a queued reply's acknowledgement (``KeyError`` if it is not in the outbox)."""
        if client_id not in self.outbox:
            raise KeyError(client_id)
        return await self._wait_for(client_id)

    def _wait_for(self, client_id: str) -> asyncio.Future[ReplyAck]:
        future: asyncio.Future[ReplyAck] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(client_id, []).append(future)
        return future

    def _forget(self, client_id: str, future: asyncio.Future[ReplyAck]) -> None:
        futures = self._waiters.get(client_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self._waiters.pop(client_id, None)

    def _settle(self, entry: OutboxEntry, ack: ReplyAck | None, error: ClientError | None) -> None:
        for future in self._waiters.pop(entry.client_id, []):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            elif ack is not None:
                future.set_result(ack)
        self.reply_outcomes.emit(ReplyOutcome(entry, ack, error))

    async def _flush_outbox(self, link: Link) -> None:
        """While ``link`` is up: send the outbox in order, one reply at a time, and keep at it."""
        while link.is_open:
            self._outbox_wake.clear()
            entries = self.outbox.entries()
            if not entries:
                await _first_of(self._outbox_wake, link.closed)
                continue
            for entry in entries:
                if entry.client_id not in self.outbox:
                    continue
                self.outbox.mark_sending(entry.client_id)
                try:
                    ack = await self._send_entry(link, entry)
                except (ConnectionLost, RequestTimeout):
                    return  # sent again, same client_id, on the next connection
                except ClientError as exc:
                    if exc.code in TRANSIENT_CODES or exc.code is None:
                        self.outbox.mark_queued()
                        await _first_of(link.closed, timeout=1.0)
                        break
                    log.info("reply %s refused: %s", entry.client_id, exc)
                    try:
                        await self.outbox.remove(entry.client_id)
                    finally:  # settled even when a drop cancels the removal: the answer did come
                        self._settle(entry, None, exc)
                    continue
                try:
                    await self.outbox.remove(entry.client_id)
                finally:  # settled even when a drop cancels the removal: the ack did come
                    self._settle(entry, ack, None)


    async def _send_entry(self, link: Link, entry: OutboxEntry) -> ReplyAck:
        """One outbox entry on ``link``: a reply, or an image in its chunks (issue 13)."""
        if entry.image is None:
            request = Reply(conversation=entry.conversation, text=entry.text, client_id=entry.client_id)
            return await link.request(request, ReplyAck, self._timeout)
        try:
            data = await self.outbox.image(entry)
        except OSError as exc:  # its file is gone or unreadable: no resend will help
            raise ClientError(ErrorCode.INVALID, f"the queued image cannot be read: {exc}") from None

        async def call(message: Request, answer: Any) -> Any:
            return await link.request(message, answer, self._timeout)

        return await send_image(call, data, entry.client_id, ReplyAck, rate=(AGENT_RATE, AGENT_BURST),
                                conversation=entry.conversation)


def new_client_id() -> str:
    """A fresh client message id (unique across consoles and restarts)."""
    return f"c-{uuid.uuid4().hex}"


def _build(kind: Callable[..., R], **fields: Any) -> R:
    """Build a request, turning a local schema refusal into the same ``invalid`` the server gives."""
    try:
        message = kind(**fields)
        msgspec.json.decode(msgspec.json.encode(message), type=type(message))  # sizes and ranges
    except (ValueError, TypeError, msgspec.ValidationError) as exc:
        raise ClientError(ErrorCode.INVALID, str(exc)) from None
    return message


def _fatal(exc: Exception) -> bool:
    """Connection failures that retrying will not fix: a bad URL, a refused TLS certificate,
    a server that is not a fenliu server (a 404 on the path)."""
    if isinstance(exc, ssl_module.SSLCertVerificationError):
        return True
    return retryable(exc) is not None


async def _first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Until any of ``events`` is set (or ``timeout`` passes)."""
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()


async def _stop(task: asyncio.Task[Any] | None) -> None:
    if task is None or task.done():
        return
    task.cancel()
    await asyncio.wait([task], timeout=CLOSE_TIMEOUT)
