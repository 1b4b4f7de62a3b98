"""The shop's live state: the engine, the conversations, and what each change means for whom.

The endpoints call one method per request (``buyer_arrives``, ``buyer_writes``, ``agent_replies``,
``agent_closes``, ``agent_transfers``, ``agent_claims``, ``agent_contacts``, ``agent_opens``,
``snapshot``, …): it checks who may (``row_for``, ``check_holds``: who sees a row is
``console.reception.audience``'s), then changes things. Everything that changes routing goes
through ``feed`` (an engine event) and ``act`` (its decisions). What a decision or a message
changes is computed by the pure reception core (``console.reception.changes``) and applied here:
rows move, receptions and decisions are recorded with their reasons (R2.3), the agents whose lists
change get numbered events, the buyer gets the outcome, queued buyers get their new position,
estimated wait and tip (R10.4, R10.5). The bot takes its turns after the decisions
(``_bot_step``). All of it joins the current write batch and reaches clients only after the
commit (see ``store`` and ``hub``).

The supervisors' read-only queries are ``Room``'s (``room.py``, ``Shop.room``), the buyer panel's
requests ``PanelDesk``'s (``panel_desk.py``, ``Shop.panels``); both read this shop's facts.

Timers (``shop_timers``, ``Shop.timers``): one follows ``Engine.next_wake`` (idle close R9.2, and
what it frees, R9.3: ``wake``); one per disconnected agent runs the grace period (R3.4:
``grace_over``); the KPI book rolls at local midnight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from console.protocol.access import TEAM_ROLES
from console.protocol.cards import Card, CardKind, ProductCard, card_text
from console.protocol.codec import ProtocolError
from console.protocol.messages import (
    AgentMessage,
    AuditAction,
    ConversationRemoved,
    ConversationUpdated,
    ErrorCode,
    MessageAdded,
    OrderItem,
    RemovalReason,
    Role,
    Routed,
    Snapshot,
    StatusChanged,
)
from console.reception.audience import Staff, audience, finds, not_holding, sees
from console.reception.changes import Removal, agents_in, bot_turn_after, decision_changes, message_changes, routed
from console.reception.model import Author, ImageRef, KpiTiles, Message, MessageKind, Section
from console.reception.statuses import AgentState, status_pushes
from console.reception.waits import OpenWait, WaitChange, WaitMove, wait_after_message, wait_after_reply
from console.routing.engine import EngineError
from console.routing.events import (
    AnyEvent,
    Arrive,
    BuyerSay,
    Claim,
    Close,
    Contact,
    Decision,
    Handoff,
    HolderReply,
    OrderChange,
    Reason,
    SetStatus,
    Status,
    Transfer,
)
from console.routing.policy import Policy
from console.server.audit import SYSTEM
from console.server.bot import Bot
from console.server.cards import CardMaker, product_card
from console.server.conversations import ArriveAttrs, Conversations, Row
from console.server.directory import BuyerAccount, Directory
from console.server.driver import EngineDriver
from console.server.hub import Hub
from console.server.kpis import KpiBook, KpiPublisher
from console.server.panel import PanelFacts
from console.server.panel_desk import PanelDesk
from console.server.queue_positions import QueueTeller
from console.server.repository.audit import AuditLog
from console.server.room import Room
from console.server.shop_timers import ShopTimers
from console.server.store import Store, StoreError

log = logging.getLogger(__name__)

class Shop:
    """Owns the engine driver, the rows, the KPI book; turns decisions into writes and pushes."""

    def __init__(self, store: Store, hub: Hub, driver: EngineDriver, bot: Bot) -> None:
        self.store = store
        self.hub = hub
        self.driver = driver
        self.bot = bot
        self.journal = hub.journal  # one undo list for everything a request changes in memory
        driver.journal = self.journal
        self.directory = Directory(store, self.journal)
        self.rows = Conversations(store, self.journal)
        self.repo = self.rows.repo  # the reception path's SQL (``repository``)
        self.facts = PanelFacts(store, self.agent_name)  # the buyer panel's SQL (``panel``)
        self.cards = CardMaker(store)  # product, order and 催付 cards from the shop's own facts (issue 13)
        self.audit = AuditLog(store)  # who changed what (the room's audit log and shifts)
        self.room = Room(self)  # the supervisors' read-only queries, over these same facts
        self.panels = PanelDesk(self)  # the buyer panel's reads, notes and tags (CONSOLE.md §6)
        self.waits = self._open_waits()
        self.kpis: KpiBook | None = None
        self.publisher: KpiPublisher | None = None
        self.queue = QueueTeller(self.hub.to_buyer, self.journal)
        self._status_sent: dict[str, AgentState] = {}  # what each agent was last told (``statuses``)
        self.timers = ShopTimers(self)  # the engine's wake-up, the grace periods, the KPI midnight
        self._staff: tuple[Policy, Staff] | None = None
        self._names: tuple[Policy, dict[str, str]] | None = None
        self._bot_turns: list[tuple[str, str | None]] = []  # (buyer, text or None: its latest)
        self._bot_busy = False  # a bot step is running (``_bot_step`` does not nest)
        self._lost_read: BaseException | None = None  # the store failure ``batch_lost`` has read back after

    @property
    def policy(self) -> Policy:
        assert self.driver.policy is not None
        return self.driver.policy

    # -- start and stop -------------------------------------------------------------------------

    def start(self, policy: Policy, policy_text: str) -> None:
        """Rebuild routing from the log, swap in ``policy`` if it changed, catch up on timers.

        Call inside the running loop. Agents that routing thinks are online have no console yet:
        each gets the disconnect grace period (R3.4) to come back.
        """
        self.driver.restore(policy, policy_text)
        now = self.driver.now()
        self.kpis = KpiBook(self.store, self.policy.timezone, now)
        self.publisher = KpiPublisher(self.kpis, self.hub, self.room.team)
        self.act(self.driver.advance(now))  # timers that fell due while the server was down
        if policy_text != self.driver.policy_text:
            self.act(self.driver.set_policy(policy, policy_text))
            self.timers.follow_timezone()
        self._bot_step()
        for spec in self.policy.agents:
            if self.driver.engine is not None and self.driver.engine.agent(spec.id).status is not Status.OFFLINE:
                self.timers.agent_disconnected(spec.id)
        self.timers.start()
        self.settle()

    def stop(self) -> None:
        self.driver.snapshot()  # a clean stop: the next start replays nothing
        self.timers.cancel()
        self.queue.cancel()
        if self.publisher is not None:
            self.publisher.flush()
            self.publisher.cancel()

    # -- engine plumbing ------------------------------------------------------------------------

    def feed(self, event: AnyEvent, *, quiet: str | None = None) -> list[Decision]:
        """Apply an engine event (logged in this batch) and act on its decisions.

        ``quiet``: a buyer whose own outcome the caller answers itself (no separate push).
        Raises ``EngineError`` when the engine refuses (nothing changed, nothing logged).
        """
        decisions = self.driver.apply(event)
        self.act(decisions, quiet=quiet, touched=agents_in((event,)))
        self._bot_step()
        return decisions

    def _bot_step(self) -> None:
        """The bot's turn, after the decisions that gave it buyers (never from inside ``act``):
        each answers from the FAQ or hands off (R7.7), which may give the bot more turns. A turn
        runs to its end (its reply stored and pushed) before the next: the engine inputs a turn
        feeds leave their own bot turns to this loop instead of starting a step inside it."""
        if self._bot_busy:
            return
        self._bot_busy = True
        try:
            while self._bot_turns:
                buyer, text = self._bot_turns.pop(0)
                row = self.rows.get(buyer)
                if row is not None and text is not None and row.holder_agent is not None:
                    self._assist(row, text)
                    continue
                if row is None or row.holder != "bot":
                    continue
                if text is None:  # a buyer who was waiting when the bot got it: its latest message
                    if row.last_buyer is None:
                        continue
                    text = self.repo.message_text(row.last_buyer)
                    if text is None:
                        continue
                self.bot_answer(row, text)
        finally:
            self._bot_busy = False

    def act(self, decisions: Iterable[Decision], *, quiet: str | None = None, touched: Iterable[str] = ()) -> None:
        agents = set(touched)
        moved = False
        for decision in decisions:
            agents.update(self._on_decision(decision, quiet))
            moved = True
        self._push_statuses(agents)
        if moved or agents:
            self._tell_queue_positions()
            if self.publisher is not None:
                self.publisher.team_changed = True
        self.poke_kpis()
        self.timers.reschedule()

    def _on_decision(self, d: Decision, quiet: str | None) -> frozenset[str]:
        """Record one decision, and apply what it changes (``changes.decision_changes``: the pure
        core says what, this says how). Returns the agents whose load may have changed."""
        self.repo.record_decision(d)  # R2.3
        row = self.rows.get(d.buyer)
        if row is None:  # a buyer the server never greeted (cannot happen through the protocol)
            account = self.directory.greet(d.buyer, "")
            row = self.rows.ensure(d.buyer, account.name, account.kind)
        change = decision_changes(d, row, self.staff, self.names, quiet=d.buyer == quiet, wait=self.waits.get(d.buyer))
        self.queue.decided(d, change.left_queue)  # R10.4: the buyers behind it move up
        row.holder, row.agent, row.last_at = change.holder, change.agent, change.last_at
        if change.reception is not None:
            reception = change.reception
            self.repo.record_reception(reception.agent, reception.buyer, reception.t)
            if self.kpis is not None:
                self.journal.on_success(partial(self.kpis.reception, reception.agent, reception.buyer, reception.t,
                                                kind=row.kind.value))
        self.rows.save(row)
        self._apply_wait(change.wait)
        self._tell(row, change.removed, change.told, change.team_changed)
        if change.buyer is not None:
            self.hub.to_buyer(row.buyer, change.buyer)
        if change.bot_turn:
            self._bot_turns.append((row.buyer, None))  # the bot answers after the decisions
        return change.touched

    def routed(self, d: Decision) -> Routed:
        """What the buyer side is told about a routing outcome (``changes.routed``)."""
        return routed(d, self.names)

    def current_routed(self, buyer: str) -> Routed | None:
        """Where a buyer is now, for a gateway that (re)connects: None without an open session.

        The reason is that of the latest decision that put the buyer there; a queue place
        carries its current position, estimated wait and tip (R10.4, R10.5)."""
        engine = self.driver.engine
        session = engine.session(buyer) if engine is not None else None
        if engine is None or session is None:
            return None
        latest = self.repo.latest_reason(buyer)
        why = Reason(latest) if latest is not None else Reason.OPEN_SESSION
        position = eta = tip = None
        place = engine.queue_place(buyer)
        if place is not None:
            position, eta, tip = place.position, place.eta, place.tip
        return self.routed(Decision(event="routed", buyer=buyer, to=session.holder, why=why, rule="", t=0.0,
                                    position=position, eta=eta, tip=tip))

    # -- telling people -------------------------------------------------------------------------

    @property
    def staff(self) -> Staff:
        """The policy's agents and who supervises (decided once: ``TEAM_ROLES``)."""
        policy = self.policy
        if self._staff is None or self._staff[0] is not policy:
            staff = Staff(everyone=tuple(spec.id for spec in policy.agents),
                          supervisors=frozenset(spec.id for spec in policy.agents
                                                if Role(spec.role.value) in TEAM_ROLES))
            self._staff = (policy, staff)
        return self._staff[1]

    @property
    def names(self) -> dict[str, str]:
        """Agent id -> display name, from the policy (built once per policy: ``Policy.agent`` is a
        scan of every agent, and a reply asks for its writer's name)."""
        policy = self.policy
        if self._names is None or self._names[0] is not policy:
            self._names = (policy, {spec.id: spec.name for spec in policy.agents})
        return self._names[1]

    def audience(self, row: Row) -> tuple[str, ...]:
        """Whose list shows a row (``console.reception.audience``)."""
        return audience(row.holder, row.agent, self.staff)

    def visible_to(self, row: Row, agent: str) -> bool:
        return sees(agent, row.holder, row.agent, supervises=agent in self.staff.supervisors)

    def readable_by(self, row: Row, agent: str) -> bool:
        """Who may open (read-only), search and read the panel of a row: ``audience.finds``."""
        supervises = agent in self.staff.supervisors
        return finds(agent, row.holder, row.agent, supervises=supervises,
                     held=not supervises and self.repo.has_held(agent, row.buyer))

    def rows_for(self, agent: str) -> list[Row]:
        """The rows of an agent's list (its snapshot), cleared ones left out."""
        return self.rows.listed_for(agent, supervises=agent in self.staff.supervisors)

    def _publish(self, row: Row, message: Message | None = None) -> None:
        """Tell the row's audience that it changed, and about a new message (``message_changes``)."""
        change = message_changes(row, self.staff, message=message is not None)
        self._tell(row, (), change.told, change.team_changed, message)

    def _tell(self, row: Row, removed: Sequence[Removal], told: Sequence[str], team_changed: bool,
              message: Message | None = None) -> None:
        """Push what a change set says: removals, then the row (and its message) to its audience."""
        for removal in removed:
            self.hub.push(removal.agent, partial(_removed_event, row.buyer, removal.reason))
        if told:
            wire = row.wire()
            for agent in told:
                if message is None:
                    self.hub.push(agent, lambda seq: ConversationUpdated(seq=seq, conversation=wire))
                else:  # one event per message: the message and its row as it is after it (issue 9)
                    self.hub.push(agent, lambda seq: MessageAdded(seq=seq, message=message, conversation=wire))
        if team_changed and self.publisher is not None:
            # the room's agent table and lists show who waits (AgentRow.waiting_since): a change
            # here may move it; the publisher coalesces and pushes only a team that differs
            self.publisher.team_changed = True
            self.poke_kpis()

    def _push_statuses(self, agents: Iterable[str]) -> None:
        """Tell each of ``agents`` its status, load and cap if they changed (``statuses`` decides)."""
        engine = self.driver.engine
        if engine is None:
            return
        now: dict[str, AgentState] = {}
        for agent in agents:
            try:
                view = engine.agent(agent)
            except Exception:  # an agent the policy no longer has
                continue
            now[agent] = (view.status, view.load, view.cap)
        for push in status_pushes(now, self._status_sent):
            self.journal.once(("status", push.agent), partial(_put, self._status_sent, push.agent,
                                                              self._status_sent.get(push.agent)))
            self._status_sent[push.agent] = push.state
            self.hub.push(push.agent, partial(_status_event, push.status, push.load, push.cap))

    def _tell_queue_positions(self) -> None:
        """R10.4/R10.5: queued buyers whose estimate or tip changed are told, at most once a
        second each, without looking at the others (``queue_positions``)."""
        engine = self.driver.engine
        if engine is None:
            return
        self.queue.check_basis(engine)
        if not self.queue.pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # start-up outside the loop: told at the next change
            return
        self.queue.schedule(loop, lambda: self.driver.engine)

    def poke_kpis(self) -> None:
        if self.publisher is not None:
            try:
                self.publisher.poke()
            except RuntimeError:  # no running loop (start-up outside the loop)
                pass

    # -- messages that the shop side writes -------------------------------------------------------

    def holder_says(self, row: Row, author: Author, text: str, *, agent: str | None = None,
                    client_id: str | None = None, holder: bool = True, kind: MessageKind = MessageKind.TEXT,
                    image: ImageRef | None = None, card: Card | None = None) -> Message | None:
        """An agent or the bot writes to the buyer: store, tell the engine, tell everyone.

        ``text`` is the message, or for an image or a card (``kind``) its readable preview.
        ``holder`` False: the writer is not the session's holder (the bot's assist), so for the
        engine the buyer still waits for the holder (R9.2 idle close does not start).
        None, changing nothing, when ``client_id`` was already used in this conversation."""
        at = self.driver.now()
        message = self.rows.add_message(row, author, text, at, agent=agent, client_id=client_id,
                                        kind=kind, image=image, card=card)
        if message is None:
            return None
        self._apply_wait(wait_after_reply(self.waits.get(row.buyer), row.buyer, author, agent, at))
        if holder:
            self.feed(HolderReply(buyer=row.buyer, text=text))
        self._publish(row, message)
        name = self.names.get(agent, "") if agent is not None else ""
        self.hub.to_buyer(row.buyer, AgentMessage(id=message.id, text=text, author=author, name=name or "", at=at,
                                                  kind=kind, image=image, card=card))
        return message

    def _has_agent(self, agent: str) -> bool:
        return agent in self.staff.everyone

    def _apply_wait(self, change: WaitChange | None) -> None:
        """Apply what ``waits`` decided about a buyer's open wait (CONSOLE.md §3): the repository's
        write, the open waits in memory (undone with the request), the KPI book's count."""
        if change is None:
            return
        buyer = change.buyer
        self.journal.once(("wait", buyer), partial(_put, self.waits, buyer, self.waits.get(buyer)))
        if change.move is WaitMove.OPENS:  # kpi.waits_from_messages
            self.waits[buyer] = OpenWait(self.repo.start_wait(change.agent, buyer, change.at), change.at, change.agent)
        elif change.move is WaitMove.MOVES:  # held by whoever holds the buyer now (NULL: the bot or the pool)
            assert change.before is not None
            self.repo.move_wait(change.before.id, change.agent)
            self.waits[buyer] = OpenWait(change.before.id, change.before.started, change.agent)
        else:  # answered: in the database the reply's own insert did it (the ``waits_answered`` trigger)
            assert change.before is not None and change.agent is not None
            del self.waits[buyer]
            if self.kpis is not None:
                self.journal.on_success(partial(self.kpis.wait_answered, change.agent, change.before.started,
                                                 answered=change.at, previous=change.before.agent))

    def rate(self, buyer: str, score: int) -> None:
        """The buyer rates its agent (counted in the KPI book at the next midnight)."""
        row = self._buyer_row(buyer)
        if row.agent is None:
            raise ProtocolError(ErrorCode.CONFLICT, "no session with an agent to rate yet")
        self.repo.rate(row.buyer, row.agent, score, self.driver.now())

    def order_changed(self, buyer: str, order: str, state: str, items: list[OrderItem] | None = None,
                      amount: int | None = None) -> None:
        """An order of the buyer's changed state (R5/R8: the engine and the KPI book use it); its
        items and amount, when the buyer side sends them, are for the buyer panel."""
        row = self._buyer_row(buyer)
        now = self.driver.now()
        if not self.repo.upsert_order(order, row.buyer, state, now):
            raise ProtocolError(ErrorCode.FORBIDDEN, "that order belongs to another buyer", "order")
        self.facts.order_details(order, items, amount)
        self.feed(OrderChange(buyer=row.buyer, order=order, state=state))
        if self.kpis is not None:
            self.journal.on_success(partial(self.kpis.order, row.buyer, state, now))
        self.panels.push(row)

    # -- names ----------------------------------------------------------------------------------------

    def agent_name(self, agent: str) -> str:
        """An agent's display name from the policy (its id when the policy no longer has it)."""
        return self.names.get(agent, agent)

    def check_image(self, buyer: str, sha256: str) -> None:
        """``sha256`` is an image of ``buyer``'s conversation, or ``not_found``."""
        if not self.repo.has_image(buyer, sha256):
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such image in this conversation", "sha256")

    def close(self, row: Row, *, by: str | None = None) -> None:
        """End the session; ``by``: a supervisor ending another's session (audited)."""
        holder = row.holder_agent or row.holder or ""
        self.feed(Close(buyer=row.buyer))
        if by is not None:
            self.audit.record(self.driver.now(), by, AuditAction.CLOSE, row.buyer, "", holder)

    def claim(self, row: Row, agent: str) -> None:
        """An agent takes a buyer from the message pool (R6.1)."""
        if row.holder != "pool":
            raise ProtocolError(ErrorCode.CONFLICT, "not in the message pool (already claimed?)", "conversation")
        try:
            self.feed(Claim(buyer=row.buyer, agent=agent))
        except EngineError as exc:
            raise ProtocolError(ErrorCode.CONFLICT, str(exc), "conversation") from None

    def transfer(self, row: Row, *, agent: str | None = None, group: str | None = None, note: str = "",
                 by: str | None = None) -> None:
        """The holder or a supervisor moves a buyer to an agent or a group (R3.5): the buyer keeps
        waiting and keeps their place (the engine keeps the wait's start); a group picks by its
        own rule or queues. A ``note`` reaches the receiver as a system line of the conversation,
        which also shows on the row. Refused (nothing changed): unknown, offline or same target."""
        if row.holder is None:
            raise ProtocolError(ErrorCode.CONFLICT, "the session is closed", "conversation")
        engine = self.driver.engine
        if agent is not None:
            if not self._has_agent(agent) or engine is None:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"no agent {agent!r} in the policy", "agent")
            if engine.agent(agent).status is Status.OFFLINE:
                raise ProtocolError(ErrorCode.CONFLICT, f"agent {agent!r} is offline", "agent")
            if row.holder_agent == agent:
                raise ProtocolError(ErrorCode.CONFLICT, f"the buyer is already with {agent!r}", "agent")
        elif group is not None and group not in {g.id for g in self.policy.groups}:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no group {group!r} in the policy", "group")
        holder = row.holder_agent or row.holder or ""
        try:
            self.feed(Transfer(buyer=row.buyer, agent=agent, group=group))
        except EngineError as exc:
            raise ProtocolError(ErrorCode.CONFLICT, str(exc), "agent" if agent is not None else "group") from None
        target = agent if agent is not None else f"group:{group}"
        self.audit.record(self.driver.now(), by or SYSTEM, AuditAction.TRANSFER, row.buyer, target, holder)
        if note.strip():
            self.system_line(row, transfer_note(self._agent_name(by), note.strip()))

    def reachable(self, row: Row) -> bool:
        """A buyer with no session can be written to again (再次联系, issue 13): its gateway is
        connected now, or it wrote within the policy's ``recent.window`` (R4.2: the window in which
        the platform still routes the buyer back to the agent, so a message then is expected)."""
        if row.holder is not None:
            return False
        if self.hub.buyer_connected(row.buyer):
            return True
        at = self.repo.message_at(row.last_buyer) if row.last_buyer is not None else None
        return at is not None and self.driver.now() - at <= self.policy.recent.window

    def contact(self, row: Row, agent: str) -> None:
        """An agent opens a session with a reachable buyer who has none (the engine's ``Contact``:
        R3.5's named move, no cap check, not to an offline agent, R3.2); it comes to the agent's
        list; the agent's reply follows through the ordinary path."""
        if row.holder is not None:
            raise ProtocolError(ErrorCode.CONFLICT, f"the buyer is in a session ({row.holder})", "conversation")
        if not self.reachable(row):
            raise ProtocolError(ErrorCode.CONFLICT, "the buyer cannot be reached now (not connected, and silent "
                                "for longer than the recent-contact window)", "conversation")
        try:
            self.feed(Contact(buyer=row.buyer, agent=agent))
        except EngineError as exc:
            raise ProtocolError(ErrorCode.CONFLICT, str(exc), "conversation") from None

    def system_line(self, row: Row, text: str) -> Message:
        """A line of the conversation for the agents only (never sent to the buyer): it shows in the
        conversation and as the row's latest text, and moves neither the section nor the wait."""
        message = self.rows.add_message(row, Author.SYSTEM, text, self.driver.now())
        assert message is not None  # no client_id: never a resend
        self._publish(row, message)
        return message

    def _agent_name(self, agent: str | None) -> str:
        if agent is None:
            return ""
        return self.names.get(agent) or agent

    def set_status(self, agent: str, status: Status, *, by: str | None = None) -> None:
        """An agent's status changes (by itself, or ``by`` someone else: ``system``), audited."""
        try:
            self._feed_status(agent, status, by or agent)
        except EngineError:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"{agent} is not an agent of this shop's policy") from None
        self._push_statuses((agent,))

    def _feed_status(self, agent: str, status: Status, by: str) -> None:
        """Feed a SetStatus; a change is written to the audit log at the engine's own time for it
        (``status_since``), so shift timelines are exact across restarts. EngineError: unknown."""
        engine = self.driver.engine
        assert engine is not None
        before = engine.agent(agent).status
        self.feed(SetStatus(agent=agent, status=status))
        view = engine.agent(agent)
        if view.status is not before and view.status_since is not None:
            self.audit.record(view.status_since, by, AuditAction.STATUS, agent, view.status.value, before.value)

    # -- what a console is shown -----------------------------------------------------------------------

    def now(self) -> float:
        """The shop's clock (the engine's: tests and replays set it)."""
        return self.driver.now()

    def status_of(self, agent: str) -> tuple[Status, int, int]:
        """An agent's status, load and cap (offline, 0, 0: not an agent of the policy, or no engine)."""
        engine = self.driver.engine
        try:
            view = engine.agent(agent) if engine is not None else None
        except EngineError:
            view = None
        if view is None:
            return Status.OFFLINE, 0, 0
        return view.status, view.load, view.cap

    def tiles(self, agent: str) -> KpiTiles:
        """An agent's KPI tiles (CONSOLE.md §3)."""
        return self.kpis.tiles(agent) if self.kpis is not None else KpiTiles()

    def buyer_list(self, agent: str, tile: str) -> list[str]:
        """The buyers behind one of an agent's tiles."""
        return self.kpis.buyer_list(agent, tile) if self.kpis is not None else []

    def snapshot(self, agent: str) -> Snapshot:
        """An agent's list, status and tiles as of its last committed event (call when nothing is
        pending); the KPI publisher then knows which tiles the console has."""
        status, load, cap = self.status_of(agent)
        rows = [row.wire() for row in self.rows_for(agent)]
        tiles = self.tiles(agent)
        if self.publisher is not None:
            self.publisher.sent(agent, tiles)
        return Snapshot(seq=self.hub.last_seq(agent), conversations=rows, status=status, load=load, cap=cap,
                        kpis=tiles)

    def search_catalog(self, query: str) -> list[ProductCard]:
        """The catalogue's products matching ``query``, as cards an agent may send (issue 13)."""
        return [product_card(p) for p in self.cards.catalog.search(query)]

    def titles_matching(self, query: str) -> dict[str, str]:
        """Products whose title holds ``query`` (search finds their conversations too, issue 13)."""
        return self.cards.catalog.titles_matching(query)

    def searchable(self, asker: str | None, found: tuple[list[Row], list[str] | None]
                   ) -> tuple[dict[str, Row], list[str] | None]:
        """The rows a search may show ``asker`` (None: a supervisor, the whole shop), from the
        candidates read off the loop: rows in memory win (``Conversations.merge_candidates``)."""
        return self.rows.merge_candidates(asker, found)

    @property
    def policy_text(self) -> str:
        """The text of the policy in force (what-if and the day charts replay under it)."""
        return self.driver.policy_text

    @property
    def timezone(self) -> str:
        """The shop's timezone (the policy's): local days of reports, audit and charts."""
        return self.policy.timezone

    # -- a buyer gateway's requests --------------------------------------------------------------------

    def greet(self, buyer: str, name: str) -> BuyerAccount:
        """A gateway says who the buyer is: its kind comes from the directory, never from the
        connection (CONSOLE.md §1); its row exists from then on."""
        account = self.directory.greet(buyer, name)
        self.rows.ensure(account.id, account.name, account.kind)
        return account

    def _buyer_row(self, buyer: str) -> Row:
        row = self.rows.get(buyer)
        assert row is not None  # greeted (``greet``) before any request
        return row

    def buyer_arrives(self, buyer: str, attrs: ArriveAttrs) -> Routed:
        """A buyer arrives (R2-R10) with these attributes (kept: R7.5, the next arrive after a close
        reuses them); answered with its own outcome, its panel pushed (where it came from, and why
        it is where it is now)."""
        row = self._buyer_row(buyer)
        row.arrive = attrs
        decisions = self.arrive(row, attrs, quiet=True)
        if not any(d.buyer == row.buyer for d in decisions):  # a decision about it saves the row, attrs too
            self.rows.save(row)
        mine = [d for d in decisions if d.buyer == row.buyer and d.event != "closed"]
        self.panels.push(row)
        return self.routed(mine[-1])

    def buyer_writes(self, buyer: str, text: str, client_id: str, *, kind: MessageKind = MessageKind.TEXT,
                     image: ImageRef | None = None, product: str | None = None) -> tuple[int, bool]:
        """A buyer's message (``buyer_says``): text, an image (``text`` its preview) or a product
        card (``product``, issue 13). Returns the message id and whether it was a resend."""
        card = None
        if product is not None:
            card = self.cards.product(product, field="product")
            text, kind = card_text(card), MessageKind.CARD
        return self.buyer_says(self._buyer_row(buyer), text, client_id, kind=kind, image=image, card=card)

    def buyer_resent(self, buyer: str, client_id: str) -> int | None:
        """The id of the buyer's message already stored under ``client_id`` (None: a new one)."""
        earlier = self.rows.find_client_message(buyer, client_id, Author.BUYER)
        return None if earlier is None else earlier.id

    def entry_questions(self, entry: str) -> list[str]:
        """The questions an entry offers the buyer (R7.5)."""
        return list(self.policy.entry_questions(entry))

    # -- an agent console's requests: who may, then one change ------------------------------------------

    def row_for(self, agent: str, conversation: str, *, read: bool = False) -> Row:
        """The row ``agent`` asks about, if its list shows it (``read``: or it may open it read-only,
        ``audience.finds``). ProtocolError ``not_found`` / ``forbidden`` otherwise."""
        row = self.rows.get(conversation)
        if row is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no conversation {conversation!r}", "conversation")
        if self.visible_to(row, agent) or (read and self.readable_by(row, agent)):
            return row
        raise ProtocolError(ErrorCode.FORBIDDEN, "not your conversation", "conversation")

    def check_holds(self, agent: str, row: Row) -> None:
        """``agent`` holds the row's session, or a typed refusal saying why not (``not_holding``)."""
        refusal = not_holding(agent, row.holder, row.agent)
        if refusal is not None:
            raise refusal

    def agent_resent(self, agent: str, row: Row, client_id: str) -> int | None:
        """CONSOLE.md §5: the id of ``agent``'s message already stored under ``client_id`` (None:
        not a resend; client ids are per author, issue 10: another's never matches)."""
        earlier = self.rows.find_client_message(row.buyer, client_id, Author.AGENT, agent)
        return None if earlier is None else earlier.id

    def agent_image_begins(self, agent: str, conversation: str, client_id: str) -> int | None:
        """An agent starts sending an image: the id of the message already stored under
        ``client_id`` (a resend: nothing to send), else None once it is checked that the agent
        holds the session (refused before a byte is sent)."""
        row = self.row_for(agent, conversation, read=True)
        earlier = self.agent_resent(agent, row, client_id)
        if earlier is None:
            self.check_holds(agent, row)
        return earlier

    def agent_reads_image(self, agent: str, conversation: str, sha256: str) -> None:
        """``sha256`` is an image of a conversation ``agent`` may open (audience, supervisors), or a
        typed refusal."""
        self.check_image(self.row_for(agent, conversation, read=True).buyer, sha256)

    def agent_replies(self, agent: str, conversation: str, client_id: str, text: str, *,
                      image: ImageRef | None = None, card: tuple[CardKind, str] | None = None) -> tuple[int, bool]:
        """The session's holder writes (text; an image whose ``text`` is its preview; or a card
        ``(kind, ref)`` built from the shop's facts, issue 13). Returns the message id and whether it
        was a resend (acknowledged, not repeated, even after the session moved on)."""
        row = self.row_for(agent, conversation, read=True)
        try:
            self.check_holds(agent, row)
        except ProtocolError:
            earlier = self.agent_resent(agent, row, client_id)  # a resend after the session moved on
            if earlier is not None:
                return earlier, True
            raise
        made = None
        kind = MessageKind.TEXT if image is None else MessageKind.IMAGE
        if card is not None:
            made = self.cards.make(row.buyer, card[0], card[1])
            text, kind = card_text(made), MessageKind.CARD
        message = self.holder_says(row, Author.AGENT, text, agent=agent, client_id=client_id, kind=kind,
                                   image=image, card=made)
        if message is None:
            earlier = self.agent_resent(agent, row, client_id)
            assert earlier is not None
            return earlier, True
        return message.id, False

    def agent_closes(self, agent: str, conversation: str, *, supervises: bool) -> None:
        """An agent ends its session; a supervisor any agent's (issue 14), audited (CONSOLE.md §7)."""
        row = self.row_for(agent, conversation, read=True)
        if supervises and row.holder is None:
            raise ProtocolError(ErrorCode.CONFLICT, "the session is closed", "conversation")
        if not (supervises and row.holder_agent is not None):
            self.check_holds(agent, row)
        self.close(row, by=agent if supervises and row.holder_agent != agent else None)

    def agent_transfers(self, by: str, conversation: str, *, supervises: bool, agent: str | None = None,
                        group: str | None = None, note: str = "") -> None:
        """R3.5: the session's holder, or a supervisor for any session, gives it to someone else."""
        row = self.row_for(by, conversation, read=True)
        if not supervises:
            self.check_holds(by, row)
        self.transfer(row, agent=agent, group=group, note=note, by=by)

    def agent_claims(self, agent: str, conversation: str) -> None:
        self.claim(self.row_for(agent, conversation), agent)

    def agent_contacts(self, agent: str, conversation: str) -> None:
        """再次联系: whoever may find the conversation (audience.finds) opens a session with a
        reachable buyer who has none; asking again once it is ours changes nothing."""
        row = self.row_for(agent, conversation, read=True)
        if row.holder_agent != agent:
            self.contact(row, agent)

    def agent_opens(self, agent: str, conversation: str, limit: int) -> tuple[Row, list[Message], bool]:
        """An agent opens a conversation it may read: its latest ``limit`` messages (and whether
        there are more); its own is then read (the unread count goes)."""
        row = self.row_for(agent, conversation, read=True)
        self.open_conversation(row, agent)
        messages, more = self.rows.history(row.buyer, limit)
        return row, messages, more

    # -- one request, all or nothing ----------------------------------------------------------------

    def atomic(self) -> _Request:
        """Run one request: all its effects, in SQLite and in memory, or none of them.

        Its writes go inside a savepoint of the current batch; its in-memory changes are recorded in
        the journal. On any exception (a refusal or a failure of ours) the savepoint is rolled back
        and the journal undone, so an error reply means nothing changed; the requests sharing the
        batch keep theirs. Sequence numbers given out are taken back (no holes)."""
        return _Request(self)

    async def committed(self) -> None:
        """Wait for the commit that holds this request's writes. If it failed (StoreError, raised
        on), the batch is gone from the database: the shop's memory, which ran ahead of it, is
        read back from disk, so the server never runs ahead of its database."""
        try:
            await self.store.committed()
        except StoreError:
            self.batch_lost()
            raise

    def batch_lost(self) -> None:
        """A commit failed: what the shop's memory holds beyond the database is read back from it
        (``committed``, and an answer sent through an after-commit action, answers.py). Inside a
        request its undo does this. Every pending answer of a lost batch calls this: the database is
        read once per failure (the store then refuses every write, so memory cannot run ahead again)."""
        if self.journal.active:
            return
        failure = self.store.failure
        if failure is not None and failure is self._lost_read:
            return
        self._lost_read = failure
        if self.driver.ahead_of_log() or self.hub.ahead_of_log():
            log.error("a commit failed; rebuilding the shop from its database")
            self.rebuild()

    def _undo(self) -> None:
        if self.store.db.in_transaction:
            self.store.rollback_to("request")
            self.journal.rollback()
            self.timers.reschedule()
        else:  # SQLite gave up the whole batch (a full disk, an I/O error): so does the memory
            self.journal.rollback()
            log.error("the write batch was lost; rebuilding the shop from its database")
            self.rebuild()

    def _assist(self, row: Row, text: str) -> None:
        """店小蜜 辅助 (policy ``bot.assist``): inside a session an agent holds, the bot answers at
        once what its FAQ knows, as the bot; the row shows 已被自动回复 until a human replies. It
        never hands off (the agent holds the buyer) and stays silent on a hand-off word."""
        if not self.policy.bot.assist:
            return
        reply = self.bot.answer(text, self.policy.bot.handoff_words, assist=True)
        if reply.text is not None:
            self.holder_says(row, Author.BOT, reply.text, holder=False)

    def bot_answer(self, row: Row, text: str) -> None:
        """The bot holds the buyer: answer from the FAQ, or hand off (R7.7)."""
        reply = self.bot.answer(text, self.policy.bot.handoff_words)
        if reply.text is None:
            self.feed(Handoff(buyer=row.buyer))
        else:
            self.holder_says(row, Author.BOT, reply.text)

    # -- requests -------------------------------------------------------------------------------------

    def buyer_says(self, row: Row, text: str, client_id: str, *, kind: MessageKind = MessageKind.TEXT,
                   image: ImageRef | None = None, card: Card | None = None) -> tuple[int, bool]:
        """A buyer message: stored once per ``client_id`` (CONSOLE.md §5), routed again after a
        close (R2.1), told to the engine (may hand off, R7.7), shown, and answered by the bot when
        it holds the buyer. Returns the message id and whether it was a resend. An image's
        ``text`` is its preview: the bot finds no answer to it and hands off (R7.7)."""
        if row.holder is None:
            # A resend of a message stored before the session closed must not open a new one: look
            # first (only here; with a session open the insert itself tells a resend).
            earlier = self.rows.find_client_message(row.buyer, client_id, Author.BUYER)
            if earlier is not None:
                return earlier.id, True
            if row.arrive is None:
                raise ProtocolError(ErrorCode.CONFLICT, "no session: send arrive first")
            self.arrive(row, row.arrive, quiet=False)  # writing after a close opens a session (R2.1)
        now = self.driver.now()
        message = self.rows.add_message(row, Author.BUYER, text, now, client_id=client_id, kind=kind, image=image,
                                        card=card)
        if message is None:  # a resend is acknowledged, not stored again
            earlier = self.rows.find_client_message(row.buyer, client_id, Author.BUYER)
            assert earlier is not None
            return earlier.id, True
        self._apply_wait(wait_after_message(self.waits.get(row.buyer), row.buyer, row.holder_agent, now))
        holder_before = row.holder
        self.feed(BuyerSay(buyer=row.buyer, text=text))  # may hand off (R7.7)
        self._publish(row, message)
        if bot_turn_after(holder_before, row.holder):
            self._bot_turns.append((row.buyer, text))  # the bot's turn, or its assist in an agent's session
            self._bot_step()
        return message.id, False

    def arrive(self, row: Row, attrs: ArriveAttrs, *, quiet: bool) -> list[Decision]:
        """Route a buyer (R2-R10) with the attributes of its latest arrive (R7.5)."""
        return self.feed(
            Arrive(buyer=row.buyer, entry=attrs.entry, product=attrs.product, question=attrs.question,
                   intent=attrs.intent, crowd=attrs.crowd, role=row.kind.value, exclusive=attrs.exclusive),
            quiet=row.buyer if quiet else None,
        )

    def open_conversation(self, row: Row, agent: str) -> None:
        """An agent opens its conversation: it has read it (the unread count goes)."""
        if row.unread and row.agent == agent:
            row.unread = 0
            self.rows.save(row)
            self._publish(row)

    def clear_section(self, agent: str, section: Section) -> None:
        """清扫: an agent's rows of a section leave its list until the buyer's next message (§1)."""
        for row in self.rows.of_agent(agent):
            if row.section is section and not row.cleared:
                row.cleared = True
                self.rows.save(row)
                self.hub.push(agent, partial(_removed_event, row.buyer, RemovalReason.CLEARED))

    def apply_policy(self, policy: Policy, text: str) -> None:
        """Swap the policy (due timers fire first, under the old one). PolicyError: nothing changed."""
        self.act(self.driver.advance())
        self.act(self.driver.set_policy(policy, text))
        self.timers.follow_timezone()
        self._bot_step()

    # -- what the timers start (``shop_timers``) ----------------------------------------------------

    def wake(self) -> None:
        """The engine's next wake-up came (R9.2 idle closes, and what they free, R9.3): one request."""
        try:
            with self.atomic():
                self.act(self.driver.advance())
                self._bot_step()
        except Exception:
            log.exception("timer failed")
            self.timers.reschedule()

    def grace_over(self, agent: str) -> None:
        """R3.4: ``agent`` had no console for the grace period: it goes offline (R3.3), one request."""
        try:
            log.info("%s: no console for %.0f s, going offline (R3.4)", agent, self.policy.disconnect_grace)
            with self.atomic():
                self._feed_status(agent, Status.OFFLINE, SYSTEM)
        except Exception:
            log.exception("grace period end failed for %s", agent)

    def agent_connected(self, agent: str) -> None:
        """A console of ``agent`` logged in: its grace period (R3.4), if running, ends."""
        self.timers.agent_connected(agent)

    def agent_disconnected(self, agent: str) -> None:
        """``agent``'s last console went: it keeps its status for the grace period (R3.4)."""
        self.timers.agent_disconnected(agent)

    def rebuild(self) -> None:
        """Forget the shop's memory and read it back from the database (after a lost batch)."""
        self.driver.reload()
        self.directory = Directory(self.store, self.journal)
        self.rows = Conversations(self.store, self.journal)
        self.repo = self.rows.repo
        self.waits = self._open_waits()
        self.hub.resync()
        self.queue.forget()
        self._status_sent.clear()
        if self.kpis is not None:
            self.kpis.timezone = self.policy.timezone  # the reloaded policy's day boundaries
            self.kpis.rebuild(self.driver.now())
        self.timers.reschedule()

    def _open_waits(self) -> dict[str, OpenWait]:
        # buyer -> its open wait (the waits table is the record)
        return {buyer: OpenWait(wait_id, started, agent) for wait_id, buyer, started, agent in self.repo.open_waits()}

    def settle(self) -> None:
        """The end of a request: rows of closed sessions leave memory (they stay on disk)."""
        self.rows.settle()


class _Request:
    """``Shop.atomic``'s context manager: a class, not ``contextlib.contextmanager``, whose
    generator and its wrapper cost more than the savepoint itself on the hot path (issue 9's
    profile: 4.8% of the loop thread for enter and exit, against 2.1% for the savepoint)."""

    __slots__ = ("shop",)

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def __enter__(self) -> None:
        shop = self.shop
        shop.journal.begin()
        try:
            shop.store.savepoint("request")
        except BaseException:
            shop.journal.rollback()  # nothing was recorded: the journal is free for the next request
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        shop = self.shop
        try:
            if kind is not None:
                shop._undo()
                return
            try:
                # on PostgreSQL the request's writes are answered here (pgstore.py's pipeline), so
                # an error of one of them is still this request's, undone as any other
                shop.store.release("request")
            except BaseException:
                shop._undo()
                raise
            shop.journal.commit()
        finally:
            shop._bot_turns.clear()  # a failed request leaves no turn behind
            shop.settle()


def transfer_note(by: str, note: str) -> str:
    """The system line a transfer's note becomes (stored as data, shown as is in every console)."""
    return f"转接备注（{by}）：{note}" if by else f"转接备注：{note}"


def _status_event(status: Status, load: int, cap: int, seq: int) -> StatusChanged:
    return StatusChanged(seq=seq, status=status, load=load, cap=cap)


def _removed_event(buyer: str, reason: RemovalReason, seq: int) -> ConversationRemoved:
    return ConversationRemoved(seq=seq, id=buyer, reason=reason)


def _put(mapping: dict[Any, Any], key: object, value: object) -> None:
    """Put back what a mapping held (None: nothing)."""
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value



