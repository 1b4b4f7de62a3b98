"""The shop's live state: the engine, the conversations, and what each change means for whom.

Everything that changes routing goes through ``feed`` (an engine event) and ``act`` (its
decisions): rows move, receptions and decisions are recorded with their reasons (R2.3), the agents
whose lists change get numbered events, the buyer gets the outcome, queued buyers get their new
position, estimated wait and tip (R10.4, R10.5). All of it joins the current write batch and
reaches clients only after the commit (see ``store`` and ``hub``).

Timers: one asyncio timer follows ``Engine.next_wake`` (idle close R9.2, and what it frees,
R9.3); one per disconnected agent runs the grace period (R3.4); the KPI book rolls at local
midnight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from console.protocol.messages import (
    AgentMessage,
    AgentRow,
    ConversationRemoved,
    ConversationUpdated,
    MessageAdded,
    QueueRow,
    QueueUpdate,
    RemovalReason,
    Routed,
    SessionClosed,
    StatusChanged,
    TeamInfo,
)
from console.reception.model import Author, Message
from console.routing.events import AnyEvent, Decision, Handoff, HolderReply, Reason, SetStatus, Status
from console.routing.policy import Policy
from console.server.bot import Bot
from console.server.conversations import Conversations, Row
from console.server.directory import Directory
from console.server.driver import EngineDriver
from console.server.hub import Hub
from console.server.kpis import KpiBook, KpiPublisher
from console.server.store import Store

log = logging.getLogger(__name__)

_REMOVAL = {
    Reason.TRANSFER: RemovalReason.TRANSFERRED,
    Reason.CLAIMED: RemovalReason.CLAIMED,
}


class Shop:
    """Owns the engine driver, the rows, the KPI book; turns decisions into writes and pushes."""

    def __init__(self, store: Store, hub: Hub, driver: EngineDriver, bot: Bot) -> None:
        self.store = store
        self.hub = hub
        self.driver = driver
        self.bot = bot
        self.directory = Directory(store)
        self.rows = Conversations(store)
        self.kpis: KpiBook | None = None
        self.publisher: KpiPublisher | None = None
        self._queue_sent: dict[str, tuple[int, float, str]] = {}
        self._status_sent: dict[str, tuple[Status, int, int]] = {}
        self._wake: asyncio.TimerHandle | None = None
        self._midnight: asyncio.TimerHandle | None = None
        self._grace: dict[str, asyncio.TimerHandle] = {}

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
        self.publisher = KpiPublisher(self.kpis, self.hub, self.team)
        self.act(self.driver.advance(now))  # timers that fell due while the server was down
        if policy_text != self.driver.policy_text:
            self.act(self.driver.set_policy(policy, policy_text))
        for spec in self.policy.agents:
            if self.driver.engine is not None and self.driver.engine.agent(spec.id).status is not Status.OFFLINE:
                self.agent_disconnected(spec.id)
        self._schedule_midnight()
        self.reschedule()

    def stop(self) -> None:
        self.driver.snapshot()  # a clean stop: the next start replays nothing
        for handle in (self._wake, self._midnight, *self._grace.values()):
            if handle is not None:
                handle.cancel()
        self._grace.clear()
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
        self.act(decisions, quiet=quiet, touched=_agents_in(event))
        return decisions

    def act(self, decisions: Iterable[Decision], *, quiet: str | None = None, touched: Iterable[str] = ()) -> None:
        agents = set(touched)
        moved = False
        for decision in decisions:
            agents.update(self._on_decision(decision, quiet))
            moved = True
        for agent in agents:
            self._push_status(agent)
        if moved or agents:
            self._push_queue_positions()
            if self.publisher is not None:
                self.publisher.team_changed = True
        self._poke_kpis()
        self.reschedule()

    def _on_decision(self, d: Decision, quiet: str | None) -> set[str]:
        """Record one decision and move its row. Returns the agents whose load may have changed."""
        self.store.execute(
            "INSERT INTO decisions (buyer, event, target, why, rule, at, previous, position, eta)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (d.buyer, d.event, d.to, d.why.value, d.rule, d.t, d.previous, d.position, d.eta),
        )  # R2.3
        row = self.rows.get(d.buyer)
        if row is None:  # a buyer the server never greeted (cannot happen through the protocol)
            account = self.directory.greet(d.buyer, "")
            row = self.rows.ensure(d.buyer, account.name, account.kind)
        touched = {a for a in (row.holder_agent, _agent_of(d.to), _agent_of(d.previous)) if a}
        before = set(self.audience(row))
        if d.event == "closed":
            row.holder = None
            self.rows.save(row)
            self._tell_removed(row, before, d.why)
            self._publish(row)
            self.hub.to_buyer(row.buyer, SessionClosed(why=d.why))
            return touched
        row.holder = d.to
        if row.last_at == 0.0 and not row.last_text:
            row.last_at = d.t  # not written yet: the row shows (and sorts by) the arrival
        new_agent = _agent_of(d.to)
        if new_agent is not None:
            row.agent = new_agent
            if d.why is not Reason.OPEN_SESSION:  # §1 received; a re-arrive is not a new reception
                self.store.execute("INSERT INTO receptions (agent, buyer, at) VALUES (?, ?, ?)", (new_agent, d.buyer, d.t))
                if self.kpis is not None:
                    self.kpis.reception(new_agent, d.buyer, d.t)
        elif d.to != "bot":
            row.agent = None  # the pool (everyone's list) or a queue (nobody's until dequeued)
        self.rows.save(row)
        self.store.execute(
            "UPDATE waits SET agent = ? WHERE buyer = ? AND answered IS NULL", (new_agent, d.buyer)
        )
        self._tell_removed(row, before, d.why)
        self._publish(row)
        if d.event == "queued" and d.position is not None and d.eta is not None and d.tip is not None:
            self._queue_sent[d.buyer] = (d.position, d.eta, d.tip)  # told with the outcome itself
        if d.buyer != quiet:
            self.hub.to_buyer(row.buyer, self.routed(d))
        if d.to == "bot" and row.waiting_since is not None:
            self._bot_answer_latest(row)
        return touched

    def routed(self, d: Decision) -> Routed:
        """What the buyer side is told about a routing outcome (no internal ids beyond the kind)."""
        kind = d.to.split(":", 1)[0]
        name = None
        agent = _agent_of(d.to)
        if agent is not None:
            try:
                name = self.policy.agent(agent).name
            except KeyError:
                name = agent
        return Routed(to=kind, name=name, why=d.why, position=d.position, eta=d.eta, tip=d.tip)

    def current_routed(self, buyer: str) -> Routed | None:
        """Where a buyer is now, for a gateway that (re)connects: None without an open session.

        The reason is that of the latest decision that put the buyer there; a queue place
        carries its current position, estimated wait and tip (R10.4, R10.5)."""
        engine = self.driver.engine
        session = engine.session(buyer) if engine is not None else None
        if engine is None or session is None:
            return None
        row = self.store.one(
            "SELECT why FROM decisions WHERE buyer = ? AND event != 'closed' ORDER BY rowid DESC LIMIT 1", (buyer,))
        why = Reason(row["why"]) if row is not None else Reason.OPEN_SESSION
        position = eta = tip = None
        if session.holder.startswith("queue:"):
            for entry in engine.queue_entries(session.holder):
                if entry.buyer == buyer:
                    position, eta, tip = entry.position, entry.eta, entry.tip
                    break
        return self.routed(Decision(event="routed", buyer=buyer, to=session.holder, why=why, rule="", t=0.0,
                                    position=position, eta=eta, tip=tip))

    # -- telling people -------------------------------------------------------------------------

    def _everyone(self) -> list[str]:
        return [spec.id for spec in self.policy.agents]

    def _supervisors(self) -> list[str]:
        return [spec.id for spec in self.policy.agents if spec.role.value in ("supervisor", "main")]

    def audience(self, row: Row) -> list[str]:
        """Whose list shows a row: its agent; every agent while it is in the pool (R6.1, anyone
        may claim it); the supervisors while the bot holds a buyer no agent has had (someone
        has to check the bot's answers, CONSOLE.md §1)."""
        if row.holder == "pool":
            return self._everyone()
        if row.agent is not None:
            return [row.agent]
        if row.holder == "bot":
            return self._supervisors()
        return []

    def visible_to(self, row: Row, agent: str) -> bool:
        return agent in self.audience(row)

    def rows_for(self, agent: str) -> list[Row]:
        """The rows of an agent's list (its snapshot), cleared ones left out."""
        supervises = agent in self._supervisors()
        return [
            row for row in self.rows.rows.values()
            if not row.cleared and (row.agent == agent or row.holder == "pool"
                                    or (supervises and row.agent is None and row.holder == "bot"))
        ]

    def _tell_removed(self, row: Row, before: set[str], why: Reason) -> None:
        """Agents whose list showed the row and no longer does are told why."""
        reason = _REMOVAL.get(why, RemovalReason.CLOSED if why in (Reason.AGENT_CLOSE, Reason.IDLE)
                              else RemovalReason.REROUTED)
        for agent in sorted(before - set(self.audience(row))):
            self.hub.push(agent, lambda seq: ConversationRemoved(seq=seq, id=row.buyer, reason=reason))

    def _publish(self, row: Row, message: Message | None = None) -> None:
        """Tell the row's audience that it changed (and about a new message)."""
        wire = row.wire()
        for agent in self.audience(row):
            if row.cleared and message is None:
                continue
            self.hub.push(agent, lambda seq: ConversationUpdated(seq=seq, conversation=wire))
            if message is not None:
                self.hub.push(agent, lambda seq: MessageAdded(seq=seq, message=message))

    def _push_status(self, agent: str) -> None:
        engine = self.driver.engine
        if engine is None:
            return
        try:
            view = engine.agent(agent)
        except Exception:  # an agent the policy no longer has
            return
        current = (view.status, view.load, view.cap)
        if self._status_sent.get(agent) != current:
            self._status_sent[agent] = current
            self.hub.push(agent, lambda seq: StatusChanged(seq=seq, status=view.status, load=view.load, cap=view.cap))

    def _push_queue_positions(self) -> None:
        """R10.4/R10.5: every queued buyer whose position, estimate or tip changed is told."""
        engine = self.driver.engine
        if engine is None:
            return
        still: set[str] = set()
        for queue in engine.queues():
            if queue.length == 0:
                continue
            for entry in engine.queue_entries(queue.pool):
                still.add(entry.buyer)
                current = (entry.position, entry.eta, entry.tip)
                if self._queue_sent.get(entry.buyer) != current:
                    self._queue_sent[entry.buyer] = current
                    self.hub.to_buyer(entry.buyer, QueueUpdate(position=entry.position, eta=entry.eta, tip=entry.tip))
        for buyer in set(self._queue_sent) - still:
            del self._queue_sent[buyer]

    def status_changed_for(self, agent: str) -> None:
        self._push_status(agent)

    def _poke_kpis(self) -> None:
        if self.publisher is not None:
            try:
                self.publisher.poke()
            except RuntimeError:  # no running loop (start-up outside the loop)
                pass

    # -- messages that the shop side writes -------------------------------------------------------

    def holder_says(self, row: Row, author: Author, text: str, *, agent: str | None = None,
                    client_id: str | None = None) -> Message:
        """An agent or the bot writes to the buyer: store, tell the engine, tell everyone."""
        at = self.driver.now()
        message = self.rows.add_message(row, author, text, at, agent=agent, client_id=client_id)
        if author is Author.AGENT and agent is not None:
            self._answer_waits(row.buyer, agent, at)
        self.feed(HolderReply(buyer=row.buyer, text=text))
        self._publish(row, message)
        name = self.policy.agent(agent).name if agent is not None and self._has_agent(agent) else ""
        self.hub.to_buyer(row.buyer, AgentMessage(id=message.id, text=text, author=author, name=name or "", at=at))
        return message

    def _has_agent(self, agent: str) -> bool:
        return any(spec.id == agent for spec in self.policy.agents)

    def _answer_waits(self, buyer: str, agent: str, at: float) -> None:
        """CONSOLE.md §3: a human reply ends the buyer's open wait (bot replies do not)."""
        for r in self.store.all("SELECT id, agent, started FROM waits WHERE buyer = ? AND answered IS NULL", (buyer,)):
            self.store.execute("UPDATE waits SET agent = ?, answered = ? WHERE id = ?", (agent, at, r["id"]))
            if self.kpis is not None:
                self.kpis.wait_answered(agent, float(r["started"]), answered=at, previous=r["agent"])

    def open_wait(self, row: Row, at: float) -> None:
        """A buyer message with no wait open starts one (kpi.waits_from_messages)."""
        if self.store.one("SELECT 1 FROM waits WHERE buyer = ? AND answered IS NULL", (row.buyer,)) is None:
            self.store.execute(
                "INSERT INTO waits (agent, buyer, started) VALUES (?, ?, ?)", (row.holder_agent, row.buyer, at)
            )

    def bot_answer(self, row: Row, text: str) -> None:
        """The bot holds the buyer: answer from the FAQ, or hand off (R7.7)."""
        reply = self.bot.answer(text, self.policy.bot.handoff_words)
        if reply.text is None:
            self.feed(Handoff(buyer=row.buyer))
        else:
            self.holder_says(row, Author.BOT, reply.text)

    def _bot_answer_latest(self, row: Row) -> None:
        if row.last_buyer is None:
            return
        found = self.store.one("SELECT text FROM messages WHERE id = ?", (row.last_buyer,))
        if found is not None:
            self.bot_answer(row, str(found["text"]))

    # -- timers -----------------------------------------------------------------------------------

    def reschedule(self) -> None:
        """Keep one timer on the engine's next wake-up (R9.2 idle closes)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        wake = self.driver.next_wake()
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        if wake is not None:
            delay = max(0.0, wake - self.driver.now())
            self._wake = loop.call_later(delay, self._on_wake)

    def _on_wake(self) -> None:
        self._wake = None
        try:
            self.act(self.driver.advance())
        except Exception:
            log.exception("timer failed")
            self.reschedule()

    def agent_connected(self, agent: str) -> None:
        handle = self._grace.pop(agent, None)
        if handle is not None:
            handle.cancel()

    def agent_disconnected(self, agent: str) -> None:
        """R3.4: the agent keeps its status for the grace period, then goes offline (R3.3)."""
        if agent in self._grace or not self._has_agent(agent):
            return
        engine = self.driver.engine
        if engine is None or engine.agent(agent).status is Status.OFFLINE:
            return
        loop = asyncio.get_running_loop()
        self._grace[agent] = loop.call_later(self.policy.disconnect_grace, self._grace_over, agent)

    def _grace_over(self, agent: str) -> None:
        self._grace.pop(agent, None)
        if self.hub.is_connected(agent):
            return
        try:
            log.info("%s: no console for %.0f s, going offline (R3.4)", agent, self.policy.disconnect_grace)
            self.feed(SetStatus(agent=agent, status=Status.OFFLINE))
        except Exception:
            log.exception("grace period end failed for %s", agent)

    def _schedule_midnight(self) -> None:
        assert self.kpis is not None
        loop = asyncio.get_running_loop()
        delay = max(0.5, self.kpis.today.end - self.driver.now() + 0.5)
        self._midnight = loop.call_later(delay, self._on_midnight)

    def _on_midnight(self) -> None:
        assert self.kpis is not None
        self.kpis.roll_if_needed(self.driver.now())  # today becomes yesterday for every tile
        self._poke_kpis()
        self._schedule_midnight()

    # -- supervisors --------------------------------------------------------------------------------

    def team(self) -> TeamInfo:
        engine = self.driver.engine
        assert engine is not None and self.kpis is not None
        rows = []
        for spec in self.policy.agents:
            view = engine.agent(spec.id)
            rows.append(AgentRow(
                id=spec.id, name=spec.name, status=view.status, load=view.load, cap=view.cap,
                saturation=view.saturation if view.cap else None, kpis=self.kpis.tiles(spec.id),
            ))
        queues = [
            QueueRow(pool=q.pool, length=q.length, longest_wait=q.longest_wait if q.length else None, eta=q.eta)
            for q in engine.queues()
        ]
        pool = self.rows.in_pool()
        if pool:
            now = self.driver.now()
            oldest = min((r.waiting_since for r in pool if r.waiting_since is not None), default=None)
            queues.append(QueueRow(pool="pool", length=len(pool), longest_wait=None if oldest is None else now - oldest,
                                   eta=None))
        return TeamInfo(kpis=self.kpis.team_tiles(), agents=rows, queues=queues)


def _agent_of(holder: str | None) -> str | None:
    if holder is not None and holder.startswith("agent:"):
        return holder[len("agent:"):]
    return None


def _agents_in(event: AnyEvent) -> set[str]:
    agent = getattr(event, "agent", None)
    return {agent} if isinstance(agent, str) else set()
