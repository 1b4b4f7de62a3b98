"""Consoles that misbehave: dropped connections, a console that stops reading, one that vanishes.

- ``disconnects``: agent consoles' connections are cut at random during traffic; every console
  ends with exactly the server's view (a fresh snapshot), every outbox reply is stored once and
  reaches the buyer once.
- ``stuck``: one console stops reading; the others' push latency stays within the goal (p99
  50 ms at moderate load); the stuck one is dropped and resyncs.
- ``vanish``: a console disappears without a word (its packets just stop); after the ping
  timeout and the grace period the agent goes offline and its buyers are routed to colleagues.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.client import AgentClient, BuyerClient
from console.protocol.messages import (
    AgentMessage,
    Entry,
    MessageAdded,
    Ok,
    Reply,
    ReplyAck,
    Routed,
    SetStatus,
    Snapshot,
)
from console.reception.model import Section
from console.routing.events import Status
from tests.faults.process import (
    RawConsole,
    ServerProcess,
    agent_client,
    noon_zone,
    quantile,
    settle,
)

DROP_POLICY_AGENTS = 6


def drop_policy(zone: str) -> str:
    lines = ['preset = "taobao"', f'timezone = "{zone}"', "seed = 11", 'disconnect_grace = "1h"', "",
             "[bot]", "shop_first = false", "", "[[groups]]", 'id = "presale"', 'entries = ["product_detail"]', ""]
    for i in range(1, DROP_POLICY_AGENTS + 1):
        lines += ["[[agents]]", f'id = "a{i}"', f'name = "客服{i}"', 'groups = ["presale"]', ""]
    lines += ["[[agents]]", 'id = "sup"', 'name = "主管"', 'role = "supervisor"', ""]
    return "\n".join(lines)


@dataclass
class DropFigures:
    drops: int = 0
    consoles: int = 0
    buyer_messages: int = 0
    replies_queued: int = 0
    replies_acked: int = 0
    replies_while_down: int = 0
    resumed: int = 0  # reconnects answered with the missed events
    snapshots: int = 0  # reconnects answered with a fresh snapshot
    events: int = 0
    event_repeats: int = 0  # events that reached a console's view twice
    event_gaps: int = 0
    view_mismatches: int = 0
    lost: int = 0  # replies not stored, or not delivered to the buyer
    duplicated: int = 0  # replies stored or delivered twice
    outcome_missing: int = 0  # replies stored and delivered once whose acknowledgement the console never got
    server_tracebacks: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = self.problems[:10]
        return out


async def disconnects(folder: Path, drops: int, *, buyers: int = 30, seed: int = 2,
                      every: float = 0.02) -> DropFigures:
    """Cut agent consoles' connections ``drops`` times during traffic, then compare views."""
    rng = random.Random(seed)
    fig = DropFigures()
    started = time.monotonic()
    server = ServerProcess(folder, drop_policy(noon_zone()))
    await server.start()
    state = folder / "consoles"
    users = [f"a{i}" for i in range(1, DROP_POLICY_AGENTS + 1)] + ["sup"]
    clients = [agent_client(server.url, u, state) for u in users]
    fig.consoles = len(clients)
    seqs: dict[str, list[tuple[int, bool]]] = {u: [] for u in users}
    onlines = 0
    for client in clients:
        def on_event(event: Any, user: str = client.user) -> None:
            seqs[user].append((event.seq, isinstance(event, Snapshot)))
            if isinstance(event, Snapshot):
                fig.snapshots += 1

        def on_state(change: Any) -> None:
            nonlocal onlines
            onlines += change.state.value == "online"
        client.events.connect(on_event)
        client.state_changed.connect(on_state)
        await client.start()
        if client.user != "sup":
            await client.set_status(Status.ONLINE)
    queued: dict[str, str] = {}  # client_id -> conversation
    acked: dict[str, int] = {}
    delivered: Counter[int] = Counter()  # agent_message ids seen by buyers

    def on_outcome(outcome: Any) -> None:
        if outcome.ack is not None:
            if outcome.entry.client_id in acked and acked[outcome.entry.client_id] != outcome.ack.message_id:
                fig.duplicated += 1
            acked[outcome.entry.client_id] = outcome.ack.message_id
        else:
            queued.pop(outcome.entry.client_id, None)
    for client in clients:
        client.reply_outcomes.connect(on_outcome)

    stop = asyncio.Event()
    buyer_clients: list[BuyerClient] = []
    for i in range(buyers):
        b = BuyerClient(server.url, f"b{i:03d}", f"买家{i}")
        b.pushes.connect(lambda m: delivered.update([m.id]) if isinstance(m, AgentMessage) else None)
        await b.connect()
        await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
        buyer_clients.append(b)

    async def buyer_load(b: BuyerClient) -> None:
        r = random.Random(rng.random())
        while not stop.is_set():
            await asyncio.sleep(r.uniform(0.1, 0.6))
            await b.say(f"{b.buyer} 在吗 {r.randrange(10**6)}")
            fig.buyer_messages += 1

    counter = 0

    async def agent_load(c: AgentClient) -> None:
        nonlocal counter
        r = random.Random(rng.random())
        mine = f"agent:{c.user}"
        while not stop.is_set():
            await asyncio.sleep(r.uniform(0.05, 0.2))
            pending = [row for row in c.view.conversations.values()
                       if row.holder == mine and row.section is Section.PENDING]
            if pending:
                counter += 1
                cid = f"{c.user}-r{counter}"
                queued[cid] = r.choice(pending).id
                if not c.is_online:
                    fig.replies_while_down += 1
                await c.queue_reply(queued[cid], f"回复 {cid}", client_id=cid)

    async def dropper() -> None:
        while fig.drops < drops:
            await asyncio.sleep(rng.uniform(0, 2 * every))
            online = [c for c in clients if c.is_online and c._link is not None]  # noqa: SLF001
            if not online:
                continue
            victim = rng.choice(online)
            victim._link.abort("fault injection")  # type: ignore[union-attr]  # noqa: SLF001
            fig.drops += 1
            if rng.random() < 0.5:
                victim.retry_now()

    load = [asyncio.create_task(buyer_load(b)) for b in buyer_clients]
    load += [asyncio.create_task(agent_load(c)) for c in clients if c.user != "sup"]
    try:
        await dropper()
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait(load, timeout=30)
        for task in load:
            if task.done() and not task.cancelled() and task.exception() is not None:
                fig.problems.append(f"load task failed: {task.exception()!r}")
        problems = await settle(clients, server.url)
        fig.view_mismatches = len(problems)
        fig.problems += problems[:20]
        await asyncio.sleep(0.5)  # the buyers' last agent_message pushes
        # every queued reply: stored once, acknowledged under that id, delivered to the buyer once
        stored: dict[str, list[int]] = {}
        for key, cid in server.read("SELECT id, client_id FROM messages WHERE author = 'agent'"):
            stored.setdefault(cid, []).append(key)
        fig.replies_queued, fig.replies_acked = len(queued), len(acked)
        for cid in queued:
            ids = stored.get(cid, [])
            if len(ids) == 1 and cid not in acked:
                fig.outcome_missing += 1
            elif len(ids) != 1 or acked.get(cid) != ids[0]:
                if len(ids) > 1:
                    fig.duplicated += 1
                else:
                    fig.lost += 1
                fig.problems.append(f"reply {cid}: stored {ids}, acknowledged {acked.get(cid)}")
                continue
            seen = delivered[ids[0]]
            if seen == 0:
                fig.lost += 1
                fig.problems.append(f"reply {cid} never reached the buyer")
            elif seen > 1:
                fig.duplicated += 1
                fig.problems.append(f"reply {cid} reached the buyer {seen} times")
        for numbers in seqs.values():
            fig.events += len(numbers)
            for (before, _), (after, snapshot) in zip(numbers, numbers[1:], strict=False):
                if snapshot:
                    continue  # a snapshot replaces the list: any number may follow a gap
                if after <= before:
                    fig.event_repeats += 1
                elif after != before + 1:
                    fig.event_gaps += 1
        fig.resumed = onlines - fig.snapshots
    finally:
        for b in buyer_clients:
            await b.close()
        for client in clients:
            await client.close()
        await server.stop()
    fig.server_tracebacks = server.tracebacks()
    fig.seconds = round(time.monotonic() - started, 1)
    return fig


# ================================================================================================
# stuck: one console stops reading
# ================================================================================================


@dataclass
class StuckFigures:
    messages: int = 0
    consoles: int = 0
    rate_per_s: float = 0.0
    p50_ms_before: float | None = None
    p99_ms_before: float | None = None
    p50_ms_stuck: float | None = None
    p99_ms_stuck: float | None = None
    max_ms_stuck: float | None = None
    goal_ms: float = 50.0
    goal_missed: int = 0  # 1 when the others' p99 with a stuck console is over the goal
    stuck_dropped: bool = False  # the server closed the stuck console's connection
    stuck_resynced: bool = False  # it came back and shows exactly the server's view
    view_mismatches: int = 0
    server_tracebacks: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = self.problems[:10]
        return out


async def stuck(folder: Path, *, phase: float = 4.0, ping: float = 2.0, buyers: int = 40,
                rate: float = 100.0) -> StuckFigures:
    """Push latency to the other consoles before and while one console does not read."""
    fig = StuckFigures()
    started = time.monotonic()
    server = ServerProcess(folder, drop_policy(noon_zone()), launcher=["--ping", str(ping)])
    await server.start()
    users = [f"a{i}" for i in range(1, DROP_POLICY_AGENTS + 1)]
    state = folder / "consoles"
    # the stuck one keeps no pings of its own: only the server may decide it is gone
    clients = [agent_client(server.url, u, state, ping_interval=None if u == "a1" else 10.0) for u in users]
    fig.consoles = len(clients)
    sent_at: dict[str, float] = {}
    latencies: dict[str, list[float]] = {"before": [], "stuck": []}
    phase_name = ["before"]
    loop = asyncio.get_running_loop()

    def on_event(event: Any, user: str) -> None:
        if user != "a1" and isinstance(event, MessageAdded):
            t0 = sent_at.pop(event.message.text, None)
            if t0 is not None:
                latencies[phase_name[0]].append((loop.time() - t0) * 1000)
    for client in clients:
        client.events.connect(lambda e, u=client.user: on_event(e, u))
        await client.start()
        await client.set_status(Status.ONLINE)
    buyer_clients = []
    for i in range(buyers):
        b = BuyerClient(server.url, f"b{i:03d}")
        await b.connect()
        await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
        buyer_clients.append(b)
    stop = asyncio.Event()
    counter = 0

    async def buyer_load(b: BuyerClient) -> None:
        nonlocal counter
        r = random.Random(b.buyer)
        interval = buyers / rate
        while not stop.is_set():
            await asyncio.sleep(r.uniform(0.5, 1.5) * interval)
            counter += 1
            text = f"{b.buyer} 你好 #{counter}"
            sent_at[text] = loop.time()
            await b.say(text)
            fig.messages += 1
    load = [asyncio.create_task(buyer_load(b)) for b in buyer_clients]
    try:
        await asyncio.sleep(phase)
        stuck_client = clients[0]
        link = stuck_client._link  # noqa: SLF001
        assert link is not None and link.conn.transport is not None
        link.conn.transport.pause_reading()  # the console's process hangs: nothing is read any more
        phase_name[0] = "stuck"
        await asyncio.sleep(max(phase, 2 * ping + 1.0))
        stop.set()
        await asyncio.wait(load, timeout=30)
        fig.rate_per_s = round(fig.messages / (phase + max(phase, 2 * ping + 1.0)), 1)
        link.conn.transport.resume_reading()  # the console wakes up
        try:
            await asyncio.wait_for(link.closed.wait(), 5)
            fig.stuck_dropped = True
        except TimeoutError:
            fig.problems.append("the stuck console was not dropped")
        problems = await settle(clients, server.url)
        fig.view_mismatches = len(problems)
        fig.problems += problems[:10]
        fig.stuck_resynced = fig.stuck_dropped and not any(p.startswith("a1:") for p in problems)
    finally:
        stop.set()
        for b in buyer_clients:
            await b.close()
        for client in clients:
            await client.close()
        await server.stop()

    def ms(values: list[float], q: float) -> float | None:
        value = quantile(values, q)
        return None if value is None else round(value, 1)
    fig.p50_ms_before, fig.p99_ms_before = ms(latencies["before"], 0.5), ms(latencies["before"], 0.99)
    fig.p50_ms_stuck, fig.p99_ms_stuck = ms(latencies["stuck"], 0.5), ms(latencies["stuck"], 0.99)
    fig.max_ms_stuck = ms(latencies["stuck"], 1.0)
    fig.goal_missed = int(fig.p99_ms_stuck is None or fig.p99_ms_stuck > fig.goal_ms)
    fig.server_tracebacks = server.tracebacks()
    fig.seconds = round(time.monotonic() - started, 1)
    return fig


# ================================================================================================
# vanish: a console disappears without a word
# ================================================================================================


def vanish_policy(zone: str, grace: str = "2s") -> str:
    return "\n".join([
        'preset = "taobao"', f'timezone = "{zone}"', "seed = 5", f'disconnect_grace = "{grace}"', "",
        "[bot]", "shop_first = false", "", "[[groups]]", 'id = "presale"', 'entries = ["product_detail"]', "",
        *(f'[[agents]]\nid = "a{i}"\nname = "客服{i}"\ngroups = ["presale"]\n' for i in (1, 2, 3)),
        '[[agents]]\nid = "sup"\nname = "主管"\nrole = "supervisor"\n',
    ])


@dataclass
class VanishFigures:
    how: str = ""
    buyers: int = 0
    waiting: int = 0  # a1's buyers waiting for a reply when its console vanished
    answered: int = 0  # a1's buyers already answered (they stay with a1, R3.3)
    rerouted: int = 0  # waiting buyers routed to a colleague, told so
    stuck_buyers: int = 0  # waiting buyers still held by the vanished agent, or by nobody
    wrongly_moved: int = 0  # answered buyers moved anyway
    offline_after_s: float | None = None  # from vanishing to the last buyer re-routed
    grace_s: float = 0.0
    ping_s: float = 0.0
    server_tracebacks: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = self.problems[:10]
        return out


async def vanish(folder: Path, *, how: str = "silent", buyers: int = 8, ping: float = 1.0,
                 grace: float = 2.0) -> VanishFigures:
    """a1 holds buyers (some waiting, some answered) and vanishes: ``silent`` (no packet any more,
    found by the server's pings) or ``reset`` (the connection is cut)."""
    fig = VanishFigures(how=how, buyers=buyers, grace_s=grace, ping_s=ping)
    server = ServerProcess(folder, vanish_policy(noon_zone(), f"{grace:g}s"), launcher=["--ping", str(ping)])
    await server.start()
    state = folder / "consoles"
    a1: RawConsole | None = None
    colleagues = [agent_client(server.url, u, state) for u in ("a2", "a3")]
    buyer_clients: list[BuyerClient] = []
    routed: dict[str, tuple[float, Routed]] = {}
    loop = asyncio.get_running_loop()
    try:
        a1 = await RawConsole.login(server.url, "a1")
        assert isinstance(await a1.request(SetStatus(status=Status.ONLINE)), Ok)
        for i in range(buyers):
            b = BuyerClient(server.url, f"v{i:02d}")
            b.pushes.connect(lambda m, bid=b.buyer: routed.__setitem__(bid, (loop.time(), m))
                             if isinstance(m, Routed) else None)
            await b.connect()
            first = await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
            assert first.to == "agent" and first.name == "客服1", first
            await b.say(f"在吗 {i}")
            buyer_clients.append(b)
        answered = {b.buyer for b in buyer_clients[: buyers // 4]}
        for bid in sorted(answered):
            assert isinstance(await a1.request(Reply(conversation=bid, text="您好，在的", client_id=f"r-{bid}")),
                              ReplyAck)
        for c in colleagues:
            await c.start()
            await c.set_status(Status.ONLINE)
        fig.answered, fig.waiting = len(answered), buyers - len(answered)
        transport = a1.conn.transport
        gone_at = loop.time()
        if how == "silent":
            transport.pause_reading()  # and it sends nothing: no pings of its own
        else:
            transport.abort()  # the console's process died: the connection is reset
        deadline = gone_at + 2 * ping + grace + 10.0
        waiting = [b.buyer for b in buyer_clients if b.buyer not in answered]
        while loop.time() < deadline and not all(w in routed for w in waiting):
            await asyncio.sleep(0.05)
        for bid in waiting:
            got = routed.get(bid)
            if got is not None and got[1].to == "agent" and got[1].name in ("客服2", "客服3") \
                    and got[1].why.value == "reroute_offline":
                fig.rerouted += 1
            else:
                fig.problems.append(f"{bid} waiting but not re-routed: {got}")
        if routed:
            fig.offline_after_s = round(max(t for t, _ in routed.values()) - gone_at, 2)
        holders = dict(server.read("SELECT buyer, holder FROM conversations"))
        for bid in waiting:
            if holders.get(bid) not in ("agent:a2", "agent:a3"):
                fig.stuck_buyers += 1
                fig.problems.append(f"{bid} held by {holders.get(bid)}")
        for bid in answered:
            if holders.get(bid) != "agent:a1":
                fig.wrongly_moved += 1
                fig.problems.append(f"answered {bid} moved to {holders.get(bid)}")
        sup = agent_client(server.url, "sup", state)
        await sup.start()
        team = await sup.get_team()
        status = {row.id: row.status for row in team.agents}
        if status.get("a1") is not Status.OFFLINE:
            fig.problems.append(f"a1 is {status.get('a1')} after the grace period")
            fig.stuck_buyers += 1
        await sup.close()
    finally:
        for b in buyer_clients:
            await b.close()
        for c in colleagues:
            await c.close()
        if a1 is not None:
            a1.conn.transport.abort()
        await server.stop()
    fig.server_tracebacks = server.tracebacks()
    return fig
