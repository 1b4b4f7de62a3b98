"""``crash``: kill -9 at random moments under load; nothing acknowledged is lost or repeated.

The real ``fenliu server`` on a temporary data folder, under a steady load of buyer messages,
agent replies (through the console client's outbox) and closes, with the queue on and caps
binding so buyers queue. It is killed with SIGKILL at random moments and started again on the
same data. After each restart: every committed decision and message is still there, identical;
the queue holds the same buyers in the same order and nobody moved back; the KPI counts did not
go down and match the stored facts. At the end every acknowledged message is stored once under
its acknowledged id, every resend (same client_id) was answered as a duplicate of the first, and
every console shows exactly the server's view.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.client import AgentClient, BuyerClient, ClientError
from console.protocol.messages import (
    Entry,
    OrderState,
    QueueUpdate,
    Routed,
    SessionClosed,
)
from console.reception.model import Section
from console.routing.events import Status
from tests.faults.process import (
    ServerProcess,
    agent_client,
    local_day,
    noon_zone,
    settle,
)


def crash_policy(zone: str, agents: int = 4, cap: int = 2) -> str:
    lines = [
        'preset = "douyin"', f'timezone = "{zone}"', "seed = 7", 'disconnect_grace = "1h"', "",
        "[queue]", 'mode = "shop"', 'avg_handle = "1m"', "tip_threshold = 100", "",
        "[[groups]]", 'id = "presale"', f"cap = {cap}", "",
    ]
    for i in range(1, agents + 1):
        lines += ["[[agents]]", f'id = "a{i}"', f'name = "客服{i}"', 'groups = ["presale"]', f"cap = {cap}", ""]
    lines += ["[[agents]]", 'id = "sup"', 'name = "主管"', 'role = "supervisor"', ""]
    return "\n".join(lines)


@dataclass
class Ledger:
    """What the clients were told, to check against what the server kept."""

    said: dict[str, tuple[str, str]] = field(default_factory=dict)  # client_id -> (buyer, text), every say sent
    said_ack: dict[str, int] = field(default_factory=dict)  # client_id -> message id acknowledged
    replies: dict[str, str] = field(default_factory=dict)  # client_id -> conversation, every reply queued
    reply_ack: dict[str, int] = field(default_factory=dict)
    duplicated: int = 0  # a resend that was stored again, or acknowledged under another id
    routed_acked: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (buyer, to, why) answers
    told_agent: set[str] = field(default_factory=set)  # buyers told they went to an agent (received)
    position: dict[str, int] = field(default_factory=dict)  # queued buyer -> last position told
    closes_acked: Counter[str] = field(default_factory=Counter)
    order_state: dict[str, str] = field(default_factory=dict)

    def on_buyer_push(self, buyer: str, message: Any) -> None:
        if isinstance(message, Routed):
            self.on_routed(buyer, message, answer=False)
        elif isinstance(message, QueueUpdate):
            self.position[buyer] = message.position
        elif isinstance(message, SessionClosed):
            self.position.pop(buyer, None)

    def on_routed(self, buyer: str, routed: Routed, *, answer: bool) -> None:
        if answer:
            self.routed_acked[(buyer, routed.to, routed.why.value)] += 1
        if routed.to == "queue" and routed.position is not None:
            self.position[buyer] = routed.position
        else:
            self.position.pop(buyer, None)
        if routed.to == "agent" and routed.why.value != "open_session":
            self.told_agent.add(buyer)


@dataclass
class CrashFigures:
    kills: int = 0
    acked: int = 0  # acknowledged messages (say_ack + reply_ack)
    acked_says: int = 0
    acked_replies: int = 0
    resent: int = 0  # resends of a client_id (after a kill, and deliberate repeats)
    lost: int = 0
    duplicated: int = 0
    order_violations: int = 0
    moved_back: int = 0  # a queued buyer whose position grew across a restart
    queue_checked: int = 0  # queued buyers whose place was checked after a restart
    lost_decisions: int = 0
    decisions_checked: int = 0
    why_mismatches: int = 0
    kpi_mismatches: int = 0
    kpi_checks: int = 0
    view_mismatches: int = 0
    holder_mismatches: int = 0
    outcome_missing: int = 0  # replies stored once whose acknowledgement never reached the console
    server_tracebacks: int = 0
    replay_refusals: int = 0
    restart_s_p50: float | None = None
    restart_s_max: float | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = self.problems[:10]
        return out


class CrashRun:
    """Buyers, agents and a supervisor against a server that keeps being killed."""

    def __init__(self, folder: Path, *, kills: int, buyers: int = 24, agents: int = 4, seed: int = 1,
                 life: tuple[float, float] = (0.4, 2.0)) -> None:
        self.folder = folder
        self.kills = kills
        self.rng = random.Random(seed)
        self.zone = noon_zone()
        self.server = ServerProcess(folder, crash_policy(self.zone, agents))
        self.buyer_ids = [f"b{i:03d}" for i in range(buyers)]
        self.agent_ids = [f"a{i}" for i in range(1, agents + 1)]
        self.life = life
        self.ledger = Ledger()
        self.figures = CrashFigures()
        self.agents: list[AgentClient] = []
        self.sup: AgentClient | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self._cid = 0
        self._seen_decisions: dict[int, tuple[Any, ...]] = {}
        self._seen_messages: dict[int, tuple[Any, ...]] = {}
        self._last_kpis: dict[str, int] = {}
        self._restart_times: list[float] = []

    def problem(self, text: str) -> None:
        if len(self.figures.problems) < 50:
            self.figures.problems.append(text)

    # -- the run ------------------------------------------------------------------------------

    async def run(self) -> CrashFigures:
        started = time.monotonic()
        await self.server.start()
        state = self.folder / "consoles"
        self.agents = [agent_client(self.server.url, a, state) for a in self.agent_ids]
        self.sup = agent_client(self.server.url, "sup", state)
        for client in (*self.agents, self.sup):
            await client.start()
            client.reply_outcomes.connect(self._on_reply_outcome)
        for client in self.agents:
            await client.set_status(Status.ONLINE)
        try:
            for life in range(self.kills + 1):
                last = life == self.kills
                if life:
                    t0 = time.monotonic()
                    await self.server.start()
                    await self._reconnect()
                    self._restart_times.append(time.monotonic() - t0)
                    await self._after_restart()
                await self._probe_and_resend()
                stop = asyncio.Event()
                load = [asyncio.create_task(self._buyer_load(b, stop)) for b in self.buyer_ids]
                load += [asyncio.create_task(self._agent_load(c, stop)) for c in self.agents]
                await asyncio.sleep(self.rng.uniform(*self.life))
                if last:
                    stop.set()
                    await asyncio.wait(load, timeout=30)
                    await self._finish()
                    break
                self._remember_committed()
                await self.server.kill()
                self.figures.kills += 1
                stop.set()
                await asyncio.wait(load, timeout=30)
        finally:
            for client in (*self.agents, self.sup):
                await client.close()
            if self.server.alive:
                rc = await self.server.stop()
                if rc != 0:
                    self.problem(f"clean shutdown exited with {rc}")
        f = self.figures
        f.server_tracebacks = self.server.tracebacks()
        f.replay_refusals = self.server.replay_refusals()
        f.acked_says, f.acked_replies = len(self.ledger.said_ack), len(self.ledger.reply_ack)
        f.acked = f.acked_says + f.acked_replies
        f.duplicated += self.ledger.duplicated
        if self._restart_times:
            f.restart_s_p50 = round(statistics.median(self._restart_times), 3)
            f.restart_s_max = round(max(self._restart_times), 3)
        f.seconds = round(time.monotonic() - started, 1)
        return f

    async def _reconnect(self) -> None:
        for client in (*self.agents, self.sup):
            client.retry_now()
        for client in (*self.agents, self.sup):
            await client.wait_online(30)

    # -- load -----------------------------------------------------------------------------------

    def _next_cid(self, prefix: str) -> str:
        self._cid += 1
        return f"{prefix}-{self._cid}"

    async def _buyer(self, buyer: str) -> BuyerClient:
        client = BuyerClient(self.server.url, buyer, f"买家{buyer}")
        client.pushes.connect(lambda m, b=buyer: self.ledger.on_buyer_push(b, m))
        try:
            await client.connect()
        except OSError as exc:
            # the server is listening by now: a refusal means it died. It did, of SIGBUS (exit
            # -7), when the store's sync thread dropped SQLite's locks on the -shm file (ShmFile
            # in store.py); say how it ended and what it logged
            process = self.server.process
            code = None if process is None else process.poll()
            raise AssertionError(f"buyer {buyer} could not connect ({exc}); server process "
                                 f"{'exited with ' + str(code) if code is not None else 'alive'}; "
                                 f"its log ends:\n{self.server.logs()[-2000:]}") from exc
        return client

    async def _say(self, client: BuyerClient, buyer: str, cid: str, text: str) -> None:
        self.ledger.said.setdefault(cid, (buyer, text))
        ack = await client.say(text, client_id=cid)
        first = self.ledger.said_ack.get(cid)
        if first is None:
            self.ledger.said_ack[cid] = ack.message_id
        elif first != ack.message_id or not ack.duplicate:
            self.ledger.duplicated += 1
            self.problem(f"say {cid} acknowledged as {ack.message_id} (dup={ack.duplicate}), first {first}")

    async def _buyer_load(self, buyer: str, stop: asyncio.Event) -> None:
        rng = random.Random(self.rng.random())
        try:
            client = await self._buyer(buyer)
        except (ClientError, OSError, TimeoutError):
            return
        try:
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(0.05, 0.4))
                roll = rng.random()
                if roll < 0.9:
                    await self._say(client, buyer, self._next_cid(buyer), f"{buyer} 问题 {rng.randrange(10**6)}")
                elif roll < 0.97:
                    state = rng.choice([OrderState.UNPAID, OrderState.PAID])
                    await client.order(f"o-{buyer}", state)
                    self.ledger.order_state[buyer] = state.value
                else:
                    with contextlib.suppress(ClientError):
                        await client.rate(rng.randint(1, 5))
        except (ClientError, OSError, TimeoutError):
            pass  # the server was killed
        finally:
            await client.close()

    async def _agent_load(self, client: AgentClient, stop: asyncio.Event) -> None:
        rng = random.Random(self.rng.random())
        mine = f"agent:{client.user}"
        try:
            while not stop.is_set():
                await asyncio.sleep(rng.uniform(0.03, 0.12))
                if not client.is_online:
                    continue
                pending = [c for c in client.view.conversations.values()
                           if c.holder == mine and c.section is Section.PENDING]
                if not pending:
                    continue
                row = rng.choice(pending)
                if rng.random() < 0.3:
                    with contextlib.suppress(ClientError):
                        await client.close_conversation(row.id)
                        self.ledger.closes_acked[row.id] += 1
                else:
                    cid = self._next_cid(client.user)
                    self.ledger.replies[cid] = row.id
                    await client.queue_reply(row.id, f"{client.user} 回复 {cid}", client_id=cid)
        except (ClientError, OSError):
            pass

    def _on_reply_outcome(self, outcome: Any) -> None:
        cid = outcome.entry.client_id
        if outcome.ack is None:
            if outcome.error is not None and outcome.error.code is not None and outcome.error.code.value != "conflict":
                self.problem(f"reply {cid} refused: {outcome.error}")
            self.ledger.replies.pop(cid, None)  # refused for good (the session closed meanwhile)
            return
        first = self.ledger.reply_ack.get(cid)
        if first is None:
            self.ledger.reply_ack[cid] = outcome.ack.message_id
        elif first != outcome.ack.message_id:
            self.ledger.duplicated += 1
            self.problem(f"reply {cid} acknowledged twice: {first} and {outcome.ack.message_id}")

    # -- checks ---------------------------------------------------------------------------------

    def _remember_committed(self) -> None:
        """Just before the kill: what is committed now must be there after the restart."""
        for row in self.server.read("SELECT id, buyer, event, target, why, rule, at, position FROM decisions"):
            self._seen_decisions[row[0]] = row
        for row in self.server.read("SELECT id, conversation, author, text, client_id FROM messages"):
            self._seen_messages[row[0]] = row
        for client in (*self.agents, self.sup):
            assert client is not None
            self._last_kpis[client.user] = client.view.kpis.received_today or 0
        if self.sup is not None and self.sup.view.team is not None:
            self._last_kpis["team"] = self.sup.view.team.kpis.received_today or 0

    async def _after_restart(self) -> None:
        f = self.figures
        decisions = {r[0]: r for r in self.server.read(
            "SELECT id, buyer, event, target, why, rule, at, position FROM decisions")}
        for key, row in self._seen_decisions.items():
            f.decisions_checked += 1
            if decisions.get(key) != row:
                f.lost_decisions += 1
                self.problem(f"decision {row} is gone or changed after a kill")
        messages = {r[0]: r for r in self.server.read(
            "SELECT id, conversation, author, text, client_id FROM messages")}
        for key, row in self._seen_messages.items():
            if messages.get(key) != row:
                f.lost += 1
                self.problem(f"committed message {row} is gone or changed after a kill")
        # KPI counts: never down across a kill, and equal to the stored facts.
        assert self.sup is not None
        team = await self.sup.get_team()
        start, end = local_day(time.time(), self.zone)
        facts = dict(self.server.read(
            "SELECT agent, COUNT(DISTINCT buyer) FROM receptions WHERE at >= ? AND at < ? GROUP BY agent",
            (start, end)))
        total = self.server.read("SELECT COUNT(DISTINCT buyer) FROM receptions WHERE at >= ? AND at < ?",
                                 (start, end))[0][0]
        figures = {row.id: row.kpis.received_today or 0 for row in team.agents}
        figures["team"] = team.kpis.received_today or 0
        for who, now_value in figures.items():
            f.kpi_checks += 1
            expected = total if who == "team" else facts.get(who, 0)
            before = self._last_kpis.get(who, 0)
            if now_value != expected or now_value < before:
                f.kpi_mismatches += 1
                self.problem(f"received_today[{who}] = {now_value} after a kill; facts {expected}, before {before}")

    async def _probe_and_resend(self) -> None:
        """With the agents idle: every buyer comes back (hello, arrive), which says where each is
        now; queued buyers must be where the committed decisions put them. Then resend every
        message whose acknowledgement the kill swallowed, and a few acknowledged ones."""
        f = self.figures
        latest: dict[str, str] = {}  # buyer -> the event of its latest decision
        placed: dict[str, int] = {}  # buyer -> the latest decision that moved it (not a re-arrive)
        for key, buyer, event, why in self.server.read("SELECT id, buyer, event, why FROM decisions ORDER BY id"):
            latest[buyer] = event
            if why != "open_session":
                placed[buyer] = key
        expected = sorted((b for b, event in latest.items() if event == "queued"), key=lambda b: placed[b])
        holders = dict(self.server.read("SELECT buyer, holder FROM conversations"))
        names = {f"agent:{a}": f"客服{a[1:]}" for a in self.agent_ids}
        told_before = dict(self.ledger.position)
        observed: dict[str, int] = {}
        clients: dict[str, BuyerClient] = {}
        for buyer in self.buyer_ids:
            client = clients[buyer] = await self._buyer(buyer)
            routed = await client.arrive(Entry.PRODUCT_DETAIL, product="p1")
            self.ledger.on_routed(buyer, routed, answer=True)
            if routed.why.value == "open_session":
                if routed.to == "queue" and routed.position is not None:
                    observed[buyer] = routed.position
                holder = holders.get(buyer)
                shown = "queue" if (holder or "").startswith("queue:") else names.get(holder or "", holder)
                if routed.to == "queue":
                    ok = shown == "queue"
                elif routed.to == "agent":
                    ok = shown == routed.name
                else:
                    ok = shown == routed.to
                if not ok:
                    f.holder_mismatches += 1
                    self.problem(f"{buyer}: routed {routed.to}/{routed.name} but stored holder {holder}")
        for rank, buyer in enumerate(expected, 1):
            f.queue_checked += 1
            place = observed.get(buyer)
            if place != rank:
                f.order_violations += 1
                self.problem(f"{buyer}: queued at {rank} by the committed decisions, now at {place}")
            elif buyer in told_before and place > told_before[buyer]:
                f.moved_back += 1
                self.problem(f"{buyer}: told position {told_before[buyer]}, now {place}")
        for buyer in set(observed) - set(expected):
            f.order_violations += 1
            self.problem(f"{buyer}: queued at {observed[buyer]} but no committed decision put it there")
        # resends: what the kill cut off, and a few that were acknowledged
        unacked = [cid for cid in self.ledger.said if cid not in self.ledger.said_ack]
        repeats = self.rng.sample(sorted(self.ledger.said_ack), min(4, len(self.ledger.said_ack)))
        for cid in unacked + repeats:
            buyer, text = self.ledger.said[cid]
            f.resent += 1
            await self._say(clients[buyer], buyer, cid, text)
        for client in clients.values():
            await client.close()

    async def _finish(self) -> None:
        """Quiet now: everything acknowledged is stored once; every console matches the server."""
        f = self.figures
        problems = await settle([*self.agents], self.server.url)
        f.view_mismatches += len(problems)
        for p in problems:
            self.problem(p)
        await self._probe_and_resend()  # the last cut-off says, and a last look at the queue
        rows = self.server.read("SELECT id, conversation, client_id FROM messages WHERE client_id IS NOT NULL")
        by_cid: dict[str, list[int]] = {}
        for key, _conv, cid in rows:
            by_cid.setdefault(cid, []).append(key)
        for cid, acked in [*self.ledger.said_ack.items(), *self.ledger.reply_ack.items()]:
            stored = by_cid.get(cid, [])
            if not stored:
                f.lost += 1
                self.problem(f"acknowledged {cid} (id {acked}) is not stored")
            elif len(stored) > 1:
                f.duplicated += 1
                self.problem(f"{cid} stored {len(stored)} times")
            elif stored[0] != acked:
                f.lost += 1
                self.problem(f"{cid} acknowledged as {acked}, stored as {stored[0]}")
        for cid in self.ledger.replies:
            if cid not in self.ledger.reply_ack:
                if len(by_cid.get(cid, [])) == 1:
                    f.outcome_missing += 1  # stored once; the console never heard (client bug)
                else:
                    f.lost += 1
                    self.problem(f"reply {cid} left the outbox without an acknowledgement")
        # every acknowledged routing outcome is among the stored decisions ("why")
        stored_decisions = Counter(
            (buyer, target.split(":", 1)[0], why)
            for buyer, target, why in self.server.read("SELECT buyer, target, why FROM decisions"))
        for key, count in self.ledger.routed_acked.items():
            if stored_decisions[key] < count:
                f.lost_decisions += count - stored_decisions[key]
                self.problem(f"routing outcome {key} told {count} times, stored {stored_decisions[key]}")
        assert self.sup is not None
        for buyer in self.rng.sample(self.buyer_ids, min(5, len(self.buyer_ids))):
            answer = await self.sup.why(buyer)
            stored = self.server.read("SELECT COUNT(*) FROM decisions WHERE buyer = ?", (buyer,))[0][0]
            if len(answer) != stored:
                f.why_mismatches += 1
                self.problem(f"why {buyer}: {len(answer)} decisions, {stored} stored")
        team = await self.sup.get_team()
        if (team.kpis.received_today or 0) < len(self.ledger.told_agent):
            f.kpi_mismatches += 1
            self.problem(f"team received_today {team.kpis.received_today} < {len(self.ledger.told_agent)} buyers "
                         "told they were given to an agent")
        f.kpi_checks += 1
        duplicates = self.server.read(
            "SELECT COUNT(*) FROM (SELECT 1 FROM receptions GROUP BY agent, buyer, at HAVING COUNT(*) > 1)")[0][0]
        if duplicates:
            f.duplicated += duplicates
            self.problem(f"{duplicates} reception facts stored twice")


async def crash(folder: Path, kills: int, **kwargs: Any) -> CrashFigures:
    return await CrashRun(folder, kills=kills, **kwargs).run()
