"""The ``/agent`` endpoint: one handler per console connection, and what each request does.

Nothing but ``login`` and ``resume`` works before login (CONSOLE.md §5). Every frame is rate
limited and schema-checked (``console.protocol.codec``); anything refused gets a typed ``error``
naming the problem, and the connection goes on. An agent reads and acts only on its own
conversations (and the message pool, which is everyone's); supervisors may also open and ask
"why" about any conversation, see the team, transfer, and swap the policy.

A request that changes something is answered only after the commit that holds the change; the
connection reads its next frame meanwhile, and its answers leave in the order of its requests
(``answers.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import cast

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from console.protocol.access import check_agent
from console.protocol.codec import ProtocolError, decode_agent
from console.protocol.messages import (
    MAX_AUDIT,
    MAX_SEARCH_HITS,
    AddNote,
    AddPhrases,
    AddTag,
    AgentConversations,
    AgentRequest,
    ApplyPolicy,
    AuditLog,
    BuyerList,
    CatalogAnswer,
    Claim,
    ClearSection,
    CloseSession,
    Colleagues,
    ContactBuyer,
    DayChartsAnswer,
    DayReport,
    DeletePhrase,
    EditPhrase,
    ErrorCode,
    FilterBuyers,
    GetAgentConversations,
    GetAudit,
    GetColleagues,
    GetDayCharts,
    GetImage,
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
    ImageChunk,
    ImageEnd,
    Kpis,
    LatestOrder,
    LatestOrderIs,
    Login,
    LoginOk,
    Logout,
    Ok,
    Open,
    PanelAnswer,
    Phrases,
    PhraseScope,
    PinPhrase,
    PolicyInForce,
    QueueBuyers,
    RemoveNote,
    RemoveTag,
    ReorderPhrases,
    Reply,
    ReplyAck,
    Response,
    Resume,
    Search,
    SearchCatalog,
    SearchResults,
    SendCard,
    SessionHistory,
    SetStatus,
    Team,
    Transfer,
    WhatIfCancel,
    WhatIfStart,
    WhatIfStarted,
    Why,
    WhyAnswer,
)
from console.reception.model import IMAGE_TEXT
from console.routing.policy import PolicyError, load_policy_toml
from console.server.accounts import Accounts
from console.server.answers import Answers, Later
from console.server.conversations import search_candidates
from console.server.day_charts import DayChartsCache
from console.server.frames import peer_address, serve_frames
from console.server.hub import AgentLink
from console.server.images import ImageDesk
from console.server.limits import Doorway, Limits
from console.server.logins import LoginGate, LoginRefused
from console.server.phrases import PhraseBook
from console.server.policy_log import PolicyLog
from console.server.repository import Repository
from console.server.repository.reports import where_of
from console.server.search import MessageSearch, QueryError, clean_query, like_pattern
from console.server.shop import Shop
from console.server.store import StoreFailed
from console.server.uploads import Uploads
from console.server.whatif_runs import WhatIfRuns

log = logging.getLogger(__name__)


def _refuse(code: ErrorCode, message: str, field: str | None = None) -> ProtocolError:
    return ProtocolError(code, message, field)


async def serve_agent(conn: ServerConnection, pick: Callable[[str | None], Awaitable[AgentSide]], first: AgentSide) -> None:
    """One console connection: its login names the shop (``pick`` finds it, or refuses with
    ``not_found``), and from then on that shop's side serves it; nothing of another shop is
    reachable from the connection (issue 15). ``first`` answers what comes before the login."""
    side: AgentSide | None = None
    link: AgentLink | None = None
    uploads: Uploads | None = None  # the connection's image uploads, in its shop's budget (issue 13)
    answers = Answers(conn, first.hub)  # in request order, each once its commit stands (answers.py)

    async def on_request(request: AgentRequest) -> bool:
        nonlocal side, link, uploads
        check_agent(request, link.role if link is not None else None)  # who may send what
        if link is None:
            assert isinstance(request, Login | Resume)
            chosen = await pick(request.shop)
            link = await chosen._login(conn, request)
            side = chosen
            uploads = side.images.uploads()
            answers.serve(side.hub, side.store, side.shop.batch_lost)
        elif isinstance(request, Logout):
            assert side is not None
            await side._logout(link, request, answers)
            return False
        elif isinstance(request, ImageBegin | ImageChunk | ImageEnd | GetImage):
            assert side is not None and uploads is not None
            answers.send(await side._image(link, uploads, request))
        else:
            assert side is not None
            await side._handle(link, request, answers)
        return True

    def now_ok(request: AgentRequest) -> bool:  # served without a wait (frames.py ``direct``)
        return link is not None and not isinstance(request, _AWAITED)

    def serve_now(request: AgentRequest) -> None:
        assert side is not None and link is not None
        check_agent(request, link.role)
        side._handle_now(link, request, answers)

    try:
        await serve_frames(conn, answers, limits=first.limits, rate=(first.limits.agent_rate, first.limits.agent_burst),
                           doorway=first.doorway, decode=decode_agent, greeted=lambda: link is not None,
                           hello_first="log in first", on_request=on_request, what="agent",
                           serve_now=serve_now, now_ok=now_ok)
    except ConnectionClosed:
        pass
    finally:
        if uploads is not None:
            uploads.close()
        if side is not None and link is not None:
            side.whatifs.left(link)  # its what-if runs stop with it
        if side is not None and link is not None and side.hub.detach(link):
            side.shop.agent_disconnected(link.agent)  # R3.4


_READ_AWAITED = (GetDayCharts, GetReport, WhatIfStart, WhatIfCancel, Search)
"""Requests ``AgentSide._handle`` awaits (read off the loop, or in a process of their own)."""
_AWAITED = (Login, Resume, Logout, ImageBegin, ImageChunk, ImageEnd, GetImage, *_READ_AWAITED)
"""Requests only the connection's task serves (they await); every other is served at once."""


class AgentSide:
    """Serves console connections for one shop."""

    def __init__(self, shop: Shop, accounts: Accounts, limits: Limits, gate: LoginGate, doorway: Doorway,
                 images: ImageDesk, name: str = "default") -> None:
        self.name = name  # the shop's name in the deployment (issue 15)
        self.shop = shop
        self.room = shop.room  # the supervisors' read-only queries (``room.py``)
        self.panels = shop.panels  # the buyer panel's reads, notes and tags (``panel_desk.py``)
        self.images = images
        self.store = shop.store
        self.hub = shop.hub
        self.accounts = accounts
        self.limits = limits
        self.gate = gate
        self.doorway = doorway
        self.search = MessageSearch(self.store)
        self.phrases = PhraseBook(self.store)
        self.charts = DayChartsCache(where_of(self.store))  # worker processes read their own connection
        self.whatifs = WhatIfRuns(where_of(self.store))

    # -- the connection ---------------------------------------------------------------------------

    async def serve(self, conn: ServerConnection) -> None:
        async def itself(name: str | None) -> AgentSide:
            return self

        await serve_agent(conn, itself, self)

    # -- login ------------------------------------------------------------------------------------

    async def _login(self, conn: ServerConnection, request: Login | Resume) -> AgentLink:
        address = peer_address(conn)
        now = self.shop.now()
        if isinstance(request, Login):
            stored = self.accounts.password_hash(request.user)  # None: unknown or disabled
            try:
                # counted per shop and name: a guesser at one shop's "a1" locks out no other shop's
                ok = await self.gate.check_password(f"{self.name}/{request.user}", address, stored, request.password)
            except LoginRefused as exc:
                raise _refuse(ErrorCode.RATE_LIMITED, str(exc)) from None
            account = self.accounts.get(request.user) if ok else None
            if account is None or account.disabled:
                raise _refuse(ErrorCode.UNAUTHENTICATED, "wrong user name or password")
            token, expires = self.accounts.issue_token(account.id, now)
            last_seq = None
        else:
            found = self.accounts.check_token(request.token, now)
            try:  # a valid token always passes; bogus ones never lock it out (issue 10)
                self.gate.check_resume(address, found is not None)
            except LoginRefused as exc:
                raise _refuse(ErrorCode.RATE_LIMITED, str(exc)) from None
            if found is None:
                raise _refuse(ErrorCode.UNAUTHENTICATED, "the token is unknown, expired or revoked; log in again")
            account = found
            token = request.token
            expires = self.accounts.token_expiry(token)
            last_seq = request.last_seq
        link = AgentLink(conn=conn, agent=account.id, role=account.role, token=token)
        attached: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def attach() -> None:
            # After the commit that holds the token: nothing pending, so the log is exact.
            missed = self.hub.attach(link, last_seq)
            self.hub.reply(conn, LoginOk(
                rid=request.rid, token=token, user=account.id, name=self._name(account.id),
                role=account.role, expires_at=expires, seq=self.hub.last_seq(account.id),
                resumed=missed is not None, shop=self.name,
            ))
            if missed is None:
                self._send_snapshot(link)
            else:
                for body in missed:
                    self.hub.send_raw(conn, body)
            self.shop.agent_connected(account.id)
            attached.set_result(None)

        def failed(error: BaseException) -> None:  # the token's batch is lost: no login (answered internal)
            attached.set_exception(StoreFailed(f"the login could not be stored: {error}"))

        self.store.after_commit(attach, failed)
        await attached
        return link

    def _name(self, agent: str) -> str:
        return self.shop.agent_name(agent)

    def _send_snapshot(self, link: AgentLink) -> None:
        """The agent's list as of its last committed event (call when nothing is pending)."""
        self.hub.reply(link.conn, self.shop.snapshot(link.agent))

    async def _logout(self, link: AgentLink, request: Logout, answers: Answers) -> None:
        self.accounts.revoke_token(link.token)  # this console's token only; other devices keep theirs
        await self.shop.committed()  # the answers of the requests before it are queued by then
        answers.send(Ok(rid=request.rid))
        await self.hub.close_now(link.conn, 1000, "logged out")

    # -- requests ---------------------------------------------------------------------------------

    async def _handle(self, link: AgentLink, request: AgentRequest, answers: Answers) -> None:
        if not isinstance(request, _READ_AWAITED):
            self._handle_now(link, request, answers)
            return
        if link.revoked:  # its account was disabled or its password changed (revocation.py)
            raise _refuse(ErrorCode.UNAUTHENTICATED, "your access ended: log in again")
        if isinstance(request, GetDayCharts):  # read off the loop (day_charts.py): no change, no commit
            answers.send(await self._day_charts(request))
            return
        if isinstance(request, GetReport):  # read and computed off the loop too (day_charts.py)
            answers.send(await self._report(link, request))
            return
        if isinstance(request, WhatIfStart | WhatIfCancel):  # a process of its own (whatif_runs.py)
            answers.send(self._whatif(link, request))
            return
        if isinstance(request, Search):  # read-only, its SQL off the loop (search.py): no savepoint needed
            answers.send(await self._search(link, request))
            return

    def _handle_now(self, link: AgentLink, request: AgentRequest, answers: Answers) -> None:
        """A request that changes the shop or reads it from memory, in one go (no wait)."""
        if link.revoked:  # its account was disabled or its password changed (revocation.py)
            raise _refuse(ErrorCode.UNAUTHENTICATED, "your access ended: log in again")
        handler = self._handlers.get(type(request))
        if handler is None:
            raise _refuse(ErrorCode.UNKNOWN_TYPE, f"{type(request).__name__} is not handled here")
        with self.shop.atomic():  # all of it or, on any error, none of it
            answer = cast("Response | Later", handler(self, link, request))
        # sent once the commit that holds the change stands; the connection reads on meanwhile
        answers.committed(answer, request.rid)

    def _set_status(self, link: AgentLink, request: SetStatus) -> Ok:
        self.shop.set_status(link.agent, request.status)
        return Ok(rid=request.rid)

    def _open(self, link: AgentLink, request: Open) -> History:
        row, messages, more = self.shop.agent_opens(link.agent, request.conversation, request.limit)
        return History(rid=request.rid, conversation=row.wire(), messages=messages, more=more)

    def _reply(self, link: AgentLink, request: Reply) -> ReplyAck:
        message_id, resent = self.shop.agent_replies(link.agent, request.conversation, request.client_id, request.text)
        return ReplyAck(rid=request.rid, client_id=request.client_id, message_id=message_id, duplicate=resent)

    def _send_card(self, link: AgentLink, request: SendCard) -> ReplyAck:
        """A product, order or 催付 card (issue 13): who may is as for a reply (the session's holder)."""
        message_id, resent = self.shop.agent_replies(link.agent, request.conversation, request.client_id, "",
                                                     card=(request.card, request.ref))
        return ReplyAck(rid=request.rid, client_id=request.client_id, message_id=message_id, duplicate=resent)

    def _contact(self, link: AgentLink, request: ContactBuyer) -> Ok:
        self.shop.agent_contacts(link.agent, request.conversation)
        return Ok(rid=request.rid)

    def _search_catalog(self, link: AgentLink, request: SearchCatalog) -> CatalogAnswer:
        return CatalogAnswer(rid=request.rid, query=request.query, products=self.shop.search_catalog(request.query))

    # -- images (issue 13) ----------------------------------------------------------------------------

    async def _image(self, link: AgentLink, uploads: Uploads, request: ImageBegin | ImageChunk | ImageEnd | GetImage
                     ) -> Response:
        """Uploads in chunks (``uploads.py``), checked and stored (``images.py``) before the message
        is committed; images served to who may open the conversation (the who-sees rule)."""
        if link.revoked:
            raise _refuse(ErrorCode.UNAUTHENTICATED, "your access ended: log in again")
        now = asyncio.get_running_loop().time()
        answer: Response
        if isinstance(request, ImageBegin):
            if request.conversation is None:
                raise _refuse(ErrorCode.INVALID, "name the conversation the image is for", "conversation")
            earlier = self.shop.agent_image_begins(link.agent, request.conversation, request.client_id)
            if earlier is not None:  # already stored: nothing to send
                answer = ReplyAck(rid=request.rid, client_id=request.client_id, message_id=earlier, duplicate=True)
            else:  # the agent holds the session: refused before a byte is sent otherwise
                uploads.begin(request, now)
                answer = Ok(rid=request.rid)
        elif isinstance(request, ImageChunk):
            uploads.chunk(request, now)
            answer = Ok(rid=request.rid)
        elif isinstance(request, ImageEnd):
            begin, cleaned = await self.images.finish(uploads, request.client_id)  # checked (SQLite: stored, synced)
            assert begin.conversation is not None
            with self.shop.atomic():
                self.images.save(cleaned)  # PostgreSQL: its row, in the message's transaction
                message_id, resent = self.shop.agent_replies(link.agent, begin.conversation, request.client_id,
                                                             IMAGE_TEXT, image=cleaned.ref)
            await self.shop.committed()
            answer = ReplyAck(rid=request.rid, client_id=request.client_id, message_id=message_id, duplicate=resent)
        else:
            if request.conversation is None:
                raise _refuse(ErrorCode.INVALID, "name the conversation the image is in", "conversation")
            self.shop.agent_reads_image(link.agent, request.conversation, request.sha256)
            answer = self.images.part(request)
        return answer

    def _close(self, link: AgentLink, request: CloseSession) -> Ok:
        self.shop.agent_closes(link.agent, request.conversation, supervises=link.supervises)
        return Ok(rid=request.rid)

    def _clear(self, link: AgentLink, request: ClearSection) -> Ok:
        self.shop.clear_section(link.agent, request.section)
        return Ok(rid=request.rid)

    def _claim(self, link: AgentLink, request: Claim) -> Ok:
        self.shop.agent_claims(link.agent, request.conversation)
        return Ok(rid=request.rid)

    def _get_kpis(self, link: AgentLink, request: GetKpis) -> Kpis:
        return Kpis(rid=request.rid, kpis=self.shop.tiles(link.agent))

    def _get_snapshot(self, link: AgentLink, request: GetSnapshot) -> Later:
        return partial(self.shop.snapshot, link.agent)  # made once committed: "as of" its last event

    def _filter(self, link: AgentLink, request: FilterBuyers) -> BuyerList:
        buyers = self.shop.buyer_list(link.agent, request.tile.value)
        return BuyerList(rid=request.rid, tile=request.tile, buyers=buyers)

    def _why(self, link: AgentLink, request: Why) -> WhyAnswer:
        return WhyAnswer(rid=request.rid, conversation=request.conversation,
                         decisions=self.panels.why(link.agent, request.conversation))

    def _transfer(self, link: AgentLink, request: Transfer) -> Ok:
        self.shop.agent_transfers(link.agent, request.conversation, supervises=link.supervises, agent=request.agent,
                                  group=request.group, note=request.note)
        return Ok(rid=request.rid)

    def _colleagues(self, link: AgentLink, request: GetColleagues) -> Colleagues:
        agents, groups = self.room.colleagues(link.agent)
        return Colleagues(rid=request.rid, agents=agents, groups=groups)

    def _team(self, link: AgentLink, request: GetTeam) -> Team:
        return Team(rid=request.rid, team=self.room.team())

    def _apply_policy(self, link: AgentLink, request: ApplyPolicy) -> Ok:
        try:
            policy = load_policy_toml(request.toml)
            self.accounts.check_policy(policy)
            self.shop.apply_policy(policy, request.toml)
            PolicyLog(self.store).record_latest(by=link.agent, source="apply_policy")  # kept for the next start
        except PolicyError as exc:
            raise _refuse(ErrorCode.BAD_POLICY, str(exc), exc.path or None) from None
        log.info("policy swapped by %s", link.agent)
        return Ok(rid=request.rid)

    async def _search(self, link: AgentLink, request: Search) -> SearchResults:
        """Issue 13: agents search what they may see (the who-sees rule), supervisors the shop."""
        try:
            query = clean_query(request.query)
            products = self.shop.titles_matching(query)  # search by product title too
            asker = None if link.supervises else link.agent
            reader = self.search.reader()  # the candidates' SQL too runs off the loop (search.py)
            found = await asyncio.to_thread(reader.run, lambda src: search_candidates(
                Repository(src), asker, like_pattern(query), MAX_SEARCH_HITS, products))  # a Reader reads as a Store does
            rows, scope = self.shop.searchable(asker, found)
            page = await self.search.find_async(request.query, rows=rows, scope=scope, asker=link.agent,
                                                limit=request.limit, before=request.before, products=products,
                                                reachable=self.shop.reachable)
        except QueryError as exc:
            raise _refuse(ErrorCode.INVALID, str(exc), "query") from None
        return SearchResults(rid=request.rid, query=request.query, hits=page.hits, next_before=page.next_before)

    # -- the buyer panel (CONSOLE.md §6): read what the agent may open, annotate what its list shows --

    def _get_panel(self, link: AgentLink, request: GetPanel) -> PanelAnswer:
        return PanelAnswer(rid=request.rid, panel=self.panels.panel(link.agent, request.conversation))

    def _get_session(self, link: AgentLink, request: GetSession) -> SessionHistory:
        info, messages, more = self.panels.session_history(link.agent, request.conversation, request.session)
        return SessionHistory(rid=request.rid, conversation=request.conversation, session=info, messages=messages,
                              more=more)

    def _add_note(self, link: AgentLink, request: AddNote) -> Ok:
        self.panels.add_note(link.agent, request.conversation, request.text)  # the list's rule
        return Ok(rid=request.rid)

    def _remove_note(self, link: AgentLink, request: RemoveNote) -> Ok:
        self.panels.remove_note(link.agent, request.conversation, request.note)
        return Ok(rid=request.rid)

    def _add_tag(self, link: AgentLink, request: AddTag) -> Ok:
        self.panels.add_tag(link.agent, request.conversation, request.tag)
        return Ok(rid=request.rid)

    def _remove_tag(self, link: AgentLink, request: RemoveTag) -> Ok:
        self.panels.remove_tag(link.agent, request.conversation, request.tag)
        return Ok(rid=request.rid)

    # -- quick replies (快捷短语) ----------------------------------------------------------------------

    def _get_phrases(self, link: AgentLink, request: GetPhrases) -> Phrases:
        return Phrases(rid=request.rid, phrases=self.phrases.listed(link.agent))

    def _add_phrases(self, link: AgentLink, request: AddPhrases) -> Phrases:
        self.phrases.add(link.agent, link.role, request.phrases, self.shop.now())
        return self._phrases_changed(link, request.rid, {d.scope for d in request.phrases})

    def _edit_phrase(self, link: AgentLink, request: EditPhrase) -> Phrases:
        scope = self.phrases.edit(link.agent, link.role, request.id, group=request.group, title=request.title,
                                  text=request.text, pinned=request.pinned, at=self.shop.now())
        return self._phrases_changed(link, request.rid, {scope})

    def _pin_phrase(self, link: AgentLink, request: PinPhrase) -> Phrases:
        scope = self.phrases.pin(link.agent, link.role, request.id, request.pinned, self.shop.now())
        return self._phrases_changed(link, request.rid, {scope})

    def _delete_phrase(self, link: AgentLink, request: DeletePhrase) -> Phrases:
        scope = self.phrases.delete(link.agent, link.role, request.id)
        return self._phrases_changed(link, request.rid, {scope})

    def _reorder_phrases(self, link: AgentLink, request: ReorderPhrases) -> Phrases:
        self.phrases.reorder(link.agent, link.role, request.scope, request.ids)
        return self._phrases_changed(link, request.rid, {request.scope})

    def _latest_order(self, link: AgentLink, request: LatestOrder) -> LatestOrderIs:
        return LatestOrderIs(rid=request.rid, conversation=request.conversation,
                             order=self.panels.latest_order(link.agent, request.conversation))

    def _phrases_changed(self, link: AgentLink, rid: str | None, scopes: set[PhraseScope]) -> Phrases:
        """The asker's answer; after the commit, the same list to the account's other consoles (and,
        when the team's set changed, every console its own list): the same on every console."""
        team = PhraseScope.TEAM in scopes

        def tell() -> None:
            for other in list(self.hub.links()):
                if other.conn is not link.conn and (team or other.agent == link.agent):
                    self.hub.reply(other.conn, Phrases(phrases=self.phrases.listed(other.agent)))

        self.store.after_commit(tell)
        return Phrases(rid=rid, phrases=self.phrases.listed(link.agent))
    def _queue(self, link: AgentLink, request: GetQueue) -> QueueBuyers:
        """The room (issue 14): a pool's buyers in order, to pick from."""
        try:
            buyers = self.room.queue_buyers(request.pool)
        except KeyError:
            raise _refuse(ErrorCode.NOT_FOUND, f"no pool {request.pool!r}", "pool") from None
        return QueueBuyers(rid=request.rid, pool=request.pool, buyers=buyers)

    def _agent_conversations(self, link: AgentLink, request: GetAgentConversations) -> AgentConversations:
        """The room (issue 14): one agent's open sessions, to pick from and monitor."""
        try:
            rows = self.room.held_by(request.agent)
        except KeyError:
            raise _refuse(ErrorCode.NOT_FOUND, f"no agent {request.agent!r}", "agent") from None
        return AgentConversations(rid=request.rid, agent=request.agent, conversations=[r.wire() for r in rows])

    async def _report(self, link: AgentLink, request: GetReport) -> DayReport:
        """The room's export (issue 14): the day's rows, read and computed in the room's worker
        process once what was written before is committed; the console writes the file."""
        try:
            day = date.fromisoformat(request.day) if request.day is not None else None
        except ValueError:
            raise _refuse(ErrorCode.INVALID, f"no such day {request.day!r}", "day") from None
        await self.shop.committed()  # the worker reads what is committed
        return await self.charts.report(request.rid, self.room.local_date(day), self.shop.policy_text,
                                        self.shop.names)

    def _audit(self, link: AgentLink, request: GetAudit) -> AuditLog:
        """The room's audit log and shift timelines (issue 14): a day's entries, new ones by ``after``."""
        try:
            day = date.fromisoformat(request.day) if request.day is not None else None
        except ValueError:
            raise _refuse(ErrorCode.INVALID, f"no such day {request.day!r}", "day") from None
        return self.room.audit_log(request.rid, day, request.after, MAX_AUDIT)

    def _whatif(self, link: AgentLink, request: WhatIfStart | WhatIfCancel) -> Response:
        """The room's what-if (issue 14): start a replay of a day under a policy, or cancel one."""
        if isinstance(request, WhatIfCancel):
            if not self.whatifs.cancel(link, request.run):
                raise _refuse(ErrorCode.NOT_FOUND, f"no what-if {request.run!r} of yours is running", "run")
            return Ok(rid=request.rid)
        try:
            day = date.fromisoformat(request.day) if request.day is not None else None
        except ValueError:
            raise _refuse(ErrorCode.INVALID, f"no such day {request.day!r}", "day") from None
        try:
            load_policy_toml(request.toml)
        except PolicyError as exc:
            raise _refuse(ErrorCode.BAD_POLICY, str(exc), exc.path or None) from None
        if self.whatifs.busy():
            raise _refuse(ErrorCode.CONFLICT, "a what-if is already running on this server; wait for it or cancel it")
        day = self.room.local_date(day)
        run = self.whatifs.start(link, day, request.toml, lambda message: self.hub.reply(link.conn, message))
        return WhatIfStarted(rid=request.rid, run=run.id, day=day.isoformat())

    async def _day_charts(self, request: GetDayCharts) -> DayChartsAnswer:
        """The room's day in pictures (issue 14), computed in a worker thread, kept a few seconds."""
        try:
            day = date.fromisoformat(request.day) if request.day is not None else None
        except ValueError:
            raise _refuse(ErrorCode.INVALID, f"no such day {request.day!r}", "day") from None
        day = self.room.local_date(day)
        charts = await self.charts.get(day, self.shop.policy_text, self.shop.now())
        return DayChartsAnswer(rid=request.rid, day=day.isoformat(), timezone=self.shop.timezone, charts=charts)

    def _policy(self, link: AgentLink, request: GetPolicy) -> PolicyInForce:
        """The room's what-if editor starts from the policy in force (its one owner: the engine log)."""
        applied = PolicyLog(self.store).latest()
        assert applied is not None  # a serving shop has logged its policy
        return PolicyInForce(rid=request.rid, toml=applied.text, digest=applied.digest, at=applied.at, by=applied.by)

    _handlers: dict[type, Callable[..., object]] = {
        SetStatus: _set_status,
        Open: _open,
        Reply: _reply,
        CloseSession: _close,
        ClearSection: _clear,
        Claim: _claim,
        GetKpis: _get_kpis,
        GetSnapshot: _get_snapshot,
        FilterBuyers: _filter,
        Why: _why,
        Transfer: _transfer,
        GetColleagues: _colleagues,
        GetTeam: _team,
        ApplyPolicy: _apply_policy,
        GetPanel: _get_panel,
        SendCard: _send_card,
        SearchCatalog: _search_catalog,
        ContactBuyer: _contact,
        GetSession: _get_session,
        AddNote: _add_note,
        RemoveNote: _remove_note,
        AddTag: _add_tag,
        RemoveTag: _remove_tag,
        GetPhrases: _get_phrases,
        AddPhrases: _add_phrases,
        EditPhrase: _edit_phrase,
        PinPhrase: _pin_phrase,
        DeletePhrase: _delete_phrase,
        ReorderPhrases: _reorder_phrases,
        LatestOrder: _latest_order,
        GetQueue: _queue,
        GetAgentConversations: _agent_conversations,
        GetAudit: _audit,
        GetPolicy: _policy,
    }

