"""Fault injection against the real routing server: kills, drops, stuck consoles, lost agents, midnight.

    .venv/bin/python bench/faults.py --json            # the full run (50 kills, 1,000 drops, ...)
    .venv/bin/python bench/faults.py --json --quick    # the same kinds of fault, fewer of them

Each scenario prints one JSON line of figures (``docs/RELIABILITY.md`` explains each figure and
the guarantee it checks); the process exits 1 when a figure that must be 0 is not. The same
scenario functions, with small counts, are the reliability tests (``tests/reliability``), so the
suite and the long run check exactly the same things.

- ``crash``: the real ``fenliu server`` in a child process on a temporary data folder, under a
  steady load of buyer messages, agent replies (through the console client's outbox) and closes,
  with the queue on and caps binding so buyers queue. It is killed with SIGKILL at random moments
  and started again on the same data. After each restart: every committed decision and message
  is still there, identical; the queue holds the same buyers in the same order and nobody moved
  back; the KPI counts did not go down and match the stored facts. At the end every
  acknowledged message is stored once under its acknowledged id, every resend (same client_id)
  was answered as a duplicate of the first, and every console shows exactly the server's view.
- ``disconnects``: agent consoles' connections are cut at random during traffic; every console
  ends with exactly the server's view (a fresh snapshot), every outbox reply is stored once and
  reaches the buyer once.
- ``stuck``: one console stops reading; the others' push latency stays within the goal (p99
  50 ms at moderate load); the stuck one is dropped and resyncs.
- ``vanish``: a console disappears without a word (its packets just stop); after the ping
  timeout and the grace period the agent goes offline and its buyers are routed to colleagues.
- ``midnight``: "today" and "yesterday" across a local midnight while running, and across a
  restart that spans midnight.

The server runs in a child process; ``--serve`` (internal) is the launcher used when a scenario
needs a setting the command line does not offer (ping interval, a shifted clock).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from console.client import AgentClient, Backoff, BuyerClient, ClientError  # noqa: E402
from console.client.link import decode_agent_push  # noqa: E402
from console.protocol.codec import encode  # noqa: E402
from console.protocol.messages import (  # noqa: E402
    AgentMessage,
    Entry,
    Login,
    LoginOk,
    MessageAdded,
    Ok,
    OrderState,
    QueueUpdate,
    Reply,
    ReplyAck,
    Routed,
    SessionClosed,
    SetStatus,
    Snapshot,
)
from console.reception.model import Section  # noqa: E402
from console.routing.events import Status  # noqa: E402

T = TypeVar("T")
PASSWORD = "faults-pw"
LISTENING = re.compile(r"listening on (wss?://\S+)")


# -- time zones: keep "today" far from a local midnight unless a scenario wants one -------------


def noon_zone(now: float | None = None) -> str:
    """An ``Etc/GMT`` zone where it is about noon now, so a run never crosses a local midnight."""
    hour = datetime.fromtimestamp(time.time() if now is None else now, ZoneInfo("UTC")).hour
    shift = (12 - hour + 12) % 24 - 12  # -12 .. 11 hours east of UTC
    if shift == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if shift > 0 else '+'}{abs(shift)}"  # POSIX sign: Etc/GMT-8 is UTC+8


def local_day(at: float, zone: str) -> tuple[float, float]:
    """[start, end) of the local day holding ``at`` (computed here, not with the server's code)."""
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(at, tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    end = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start.timestamp(), end.timestamp()


# -- the server in a child process ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_accounts(data: Path, policy_text: str) -> None:
    from console.routing.policy import load_policy_toml
    from console.server.app import ensure_demo_accounts
    from console.server.store import Store

    store = Store.open(data)
    try:
        ensure_demo_accounts(store, load_policy_toml(policy_text), PASSWORD)
    finally:
        store.close()


class ServerProcess:
    """``fenliu server`` (or the ``--serve`` launcher) on a fixed port and data folder."""

    def __init__(self, folder: Path, policy_text: str, *, port: int | None = None, launcher: list[str] | None = None,
                 seed: bool = True) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.data = folder / "data"
        self.policy_file = folder / "policy.toml"
        self.policy_file.write_text(policy_text, encoding="utf-8")
        if seed:
            seed_accounts(self.data, policy_text)
        self.port = port or free_port()
        self.launcher = launcher  # None: the real command; else extra --serve arguments
        self.process: subprocess.Popen[bytes] | None = None
        self.lives = 0
        self.url = f"ws://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data / "fenliu.db"

    def _command(self) -> list[str]:
        common = ["--port", str(self.port), "--data", str(self.data), "--policy", str(self.policy_file)]
        if self.launcher is None:
            return [sys.executable, "-m", "console", "server", "--host", "127.0.0.1", *common]
        return [sys.executable, str(Path(__file__).resolve()), "--serve", *common, *self.launcher]

    def launch(self) -> Path:
        """Start the child process (without waiting); returns its log file."""
        self.lives += 1
        log_path = self.folder / f"server-{self.lives}.log"
        with open(log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                self._command(), stdout=subprocess.DEVNULL, stderr=log_file, cwd=str(REPO),
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return log_path

    def _listening(self, log_path: Path) -> bool:
        assert self.process is not None
        text = log_path.read_text(encoding="utf-8", errors="replace")
        found = LISTENING.search(text)
        if found and "fenliu server listening" in text:
            self.url = found.group(1)
            return True
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}:\n{text[-3000:]}")
        return False

    async def start(self, timeout: float = 30.0) -> str:
        log_path = self.launch()
        deadline = time.monotonic() + timeout
        while not self._listening(log_path):
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            await asyncio.sleep(0.02)
        return self.url

    def start_sync(self, timeout: float = 30.0) -> str:
        """``start`` for code without an event loop (the fuzz tests' module fixture)."""
        log_path = self.launch()
        deadline = time.monotonic() + timeout
        while not self._listening(log_path):
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            time.sleep(0.02)
        return self.url

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def kill(self) -> None:
        """kill -9: no warning, no shutdown code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    async def stop(self) -> int:
        """SIGTERM: the clean shutdown; returns the exit code."""
        return self.stop_sync()

    def stop_sync(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -9

    def logs(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in sorted(self.folder.glob("server-*.log")))

    def tracebacks(self) -> int:
        """Unexpected exceptions the server logged (each ``log.exception`` prints a traceback)."""
        return self.logs().count("Traceback")

    def replay_refusals(self) -> int:
        """Engine log entries refused on replay: the engine would not be deterministic."""
        return self.logs().count("refused on replay")

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Committed data, read by a separate connection (WAL: never blocks the server)."""
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return list(db.execute(sql, params).fetchall())
        finally:
            db.close()


# -- raw protocol helpers ------------------------------------------------------------------------


async def fresh_snapshot(url: str, user: str, password: str = PASSWORD,
                         ssl: Any = None) -> tuple[LoginOk, Snapshot]:
    """Log in on a new connection and return the server's own view (login_ok, snapshot)."""
    async with connect(url.rstrip("/") + "/agent", max_size=None, ssl=ssl) as conn:
        await conn.send(encode(Login(rid="snap", user=user, password=password)).decode())
        ok = decode_agent_push(await asyncio.wait_for(conn.recv(), 10))
        assert isinstance(ok, LoginOk), ok
        while True:
            message = decode_agent_push(await asyncio.wait_for(conn.recv(), 10))
            if isinstance(message, Snapshot):
                return ok, message


class RawConsole:
    """A console as bare as it gets (no reconnection, no pings of its own): for faults where the
    console itself goes away. ``request`` returns the answer with the request's rid."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._rid = 0

    @classmethod
    async def login(cls, url: str, user: str, password: str = PASSWORD) -> RawConsole:
        conn = await connect(url.rstrip("/") + "/agent", max_size=None, ping_interval=None)
        console = cls(conn)
        ok = await console.request(Login(user=user, password=password))
        assert isinstance(ok, LoginOk), ok
        return console

    async def request(self, message: Any) -> Any:
        self._rid += 1
        rid = f"raw{self._rid}"
        await self.conn.send(encode(msgspec.structs.replace(message, rid=rid)).decode())
        while True:
            answer = decode_agent_push(await asyncio.wait_for(self.conn.recv(), 10))
            if getattr(answer, "rid", None) == rid:
                return answer


def view_differences(client: AgentClient, snapshot: Snapshot) -> list[str]:
    """What a console shows that the server's fresh snapshot does not (and the other way)."""
    problems = []
    mine = client.view.conversations
    theirs = {c.id: c for c in snapshot.conversations}
    for cid in sorted(set(mine) | set(theirs)):
        if cid not in mine:
            problems.append(f"{client.user}: missing {cid}")
        elif cid not in theirs:
            problems.append(f"{client.user}: extra {cid}")
        elif msgspec.to_builtins(mine[cid]) != msgspec.to_builtins(theirs[cid]):
            problems.append(f"{client.user}: {cid} differs: {mine[cid]} != {theirs[cid]}")
    view = client.view
    if (view.status, view.load, view.cap) != (snapshot.status, snapshot.load, snapshot.cap):
        problems.append(f"{client.user}: status {view.status}/{view.load}/{view.cap} != "
                        f"{snapshot.status}/{snapshot.load}/{snapshot.cap}")
    if view.kpis != snapshot.kpis:
        problems.append(f"{client.user}: kpis {view.kpis} != {snapshot.kpis}")
    return problems


async def settle(clients: list[AgentClient], url: str, quiet: float = 0.6, timeout: float = 20.0) -> list[str]:
    """Wait until every console is online, its outbox empty and its view caught up with the
    server; then compare each view with a fresh snapshot. Returns the differences."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for client in clients:
        client.retry_now()
        await client.wait_online(max(0.1, deadline - loop.time()))
    while any(len(c.outbox) for c in clients) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(quiet)  # KPI and team pushes are coalesced (0.25 s)
    problems: list[str] = []
    for client in clients:
        for attempt in range(3):
            ok, snapshot = await fresh_snapshot(url, client.user)
            while (client.view.seq or 0) < ok.seq and loop.time() < deadline:
                await asyncio.sleep(0.02)
            found = view_differences(client, snapshot)
            if client.view.seq != ok.seq:
                found.append(f"{client.user}: view at seq {client.view.seq}, server at {ok.seq}")
            if not found or attempt == 2:
                break
            await asyncio.sleep(quiet)  # something was still moving: look again
        problems += found
    return problems


def agent_client(url: str, user: str, state: Path, **kwargs: Any) -> AgentClient:
    return AgentClient(url, user, PASSWORD, state_dir=state / user,
                       backoff=Backoff(initial=0.02, cap=0.3, rng=random.Random(hash(user) & 0xFFFF)), **kwargs)


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ================================================================================================
# crash: kill -9 at random moments under load
# ================================================================================================


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
        await client.connect()
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


# ================================================================================================
# disconnects: random drops of agent consoles during traffic
# ================================================================================================


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


# ================================================================================================
# midnight: today and yesterday across a local midnight, running and across a restart
# ================================================================================================


MIDNIGHT_ZONE = "Asia/Shanghai"


def midnight_policy() -> str:
    return "\n".join([
        'preset = "taobao"', f'timezone = "{MIDNIGHT_ZONE}"', "seed = 9", 'disconnect_grace = "1h"', "",
        "[bot]", "shop_first = false", "", "[[groups]]", 'id = "presale"', 'entries = ["product_detail"]', "",
        '[[agents]]\nid = "a1"\nname = "客服1"\ngroups = ["presale"]\n',
        '[[agents]]\nid = "sup"\nname = "主管"\nrole = "supervisor"\n',
    ])


@dataclass
class MidnightFigures:
    checks: int = 0
    wrong_tiles: int = 0
    rolled_live_after_s: float | None = None  # from local midnight to received_today reset (pushed)
    problems: list[str] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = self.problems[:10]
        return out

    def expect(self, what: str, got: Any, wanted: Any) -> None:
        self.checks += 1
        if isinstance(wanted, tuple):  # (low, high)
            ok = got is not None and wanted[0] <= got <= wanted[1]
        else:
            ok = got == wanted
        if not ok:
            self.wrong_tiles += 1
            self.problems.append(f"{what}: {got!r}, expected {wanted!r}")


def next_local_midnight(zone: str, after: float | None = None) -> float:
    return local_day(time.time() if after is None else after, zone)[1]


async def _day_of_work(server: ServerProcess, tag: str, buyers: int, state: Path) -> tuple[AgentClient, float]:
    """a1 receives ``buyers`` buyers, answers each within a second, gets ratings 5 and 2 in turn."""
    a1 = agent_client(server.url, "a1", state)
    await a1.start()
    await a1.set_status(Status.ONLINE)
    for i in range(buyers):
        async with BuyerClient(server.url, f"{tag}{i}") as b:
            await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
            await b.say("请问有货吗")
            await a1.reply(b.buyer, "有的")
            await b.rate(5 if i % 2 == 0 else 2)
    return a1, time.time()


async def midnight(folder: Path, *, lead: float = 6.0) -> MidnightFigures:
    """Live rollover: start ``lead`` seconds before a local midnight, work, cross it. Restart
    across midnight: work before one midnight, stop, start after it; and two days later."""
    fig = MidnightFigures()
    zone = MIDNIGHT_ZONE
    # -- live: the server's clock starts `lead` seconds before the next local midnight
    midnight_at = next_local_midnight(zone, time.time() + 86400)  # a midnight in the future
    live = ServerProcess(folder / "live", midnight_policy(), launcher=["--clock-at", repr(midnight_at - lead)])
    await live.start()
    real_start = time.time()
    fake = lambda: midnight_at - lead + (time.time() - real_start)  # noqa: E731
    a1, _ = await _day_of_work(live, "d1-", 4, folder / "live" / "consoles")
    before = a1.view.kpis
    if fake() < midnight_at - 0.5:
        await asyncio.sleep(0.3)
        before = await a1.get_kpis()
        fig.expect("live: received_today before midnight", before.received_today, 4)
        fig.expect("live: satisfaction_yesterday before midnight", before.satisfaction_yesterday, None)
    else:
        fig.problems.append("the day's work took past midnight; lengthen lead")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lead + 10
    while loop.time() < deadline and a1.view.kpis.satisfaction_yesterday is None:
        await asyncio.sleep(0.05)  # the tiles are pushed at the rollover, not polled
    fig.rolled_live_after_s = round(fake() - midnight_at, 2)
    after = a1.view.kpis
    fig.expect("live: received_today after midnight (pushed)", after.received_today, None)
    fig.expect("live: satisfaction_yesterday after midnight", after.satisfaction_yesterday, 0.5)
    fig.expect("live: response_3min_yesterday after midnight", after.response_3min_yesterday, 1.0)
    fig.expect("live: avg_response_yesterday after midnight (s)", after.avg_response_yesterday, (0.0, 5.0))
    # a buyer after midnight counts for the new day only
    async with BuyerClient(live.url, "d2-0") as b:
        await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
    fig.expect("live: received_today for the new day", (await a1.get_kpis()).received_today, 1)
    await a1.close()
    fig.expect("live: clean shutdown", await live.stop(), 0)

    # -- restart across midnight: work before midnight D, stop; start after it; then on D+2
    day_end = next_local_midnight(zone, time.time() + 3 * 86400)
    first = ServerProcess(folder / "restart", midnight_policy(), launcher=["--clock-at", repr(day_end - 60)])
    await first.start()
    a1, _ = await _day_of_work(first, "r1-", 6, folder / "restart" / "consoles")
    fig.expect("restart: received_today on day D", (await a1.get_kpis()).received_today, 6)
    await a1.close()
    await first.kill()  # no clean shutdown either
    for at, label, received, satisfaction in (
        (day_end + 30, "D+1 after a kill on D", None, 0.5),
        (day_end + 30 + 86400, "D+2 (nothing on D+1)", None, None),
    ):
        first.launcher = ["--clock-at", repr(at)]
        await first.start()
        a1 = agent_client(first.url, "a1", folder / "restart" / "consoles")
        await a1.start()
        tiles = await a1.get_kpis()
        fig.expect(f"restart {label}: received_today", tiles.received_today, received)
        fig.expect(f"restart {label}: satisfaction_yesterday", tiles.satisfaction_yesterday, satisfaction)
        fig.expect(f"restart {label}: response_3min_yesterday", tiles.response_3min_yesterday,
                   None if satisfaction is None else 1.0)
        sup = agent_client(first.url, "sup", folder / "restart" / "consoles")
        await sup.start()
        team = await sup.get_team()
        fig.expect(f"restart {label}: team received_today", team.kpis.received_today, received)
        fig.expect(f"restart {label}: team satisfaction_yesterday", team.kpis.satisfaction_yesterday, satisfaction)
        await sup.close()
        await a1.close()
        fig.expect(f"restart {label}: clean shutdown", await first.stop(), 0)
    return fig


# ================================================================================================
# entry point
# ================================================================================================


def _serve(argv: list[str]) -> int:
    """The launcher: ``fenliu server`` with settings the command line does not offer."""
    parser = argparse.ArgumentParser(prog="faults.py --serve")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("--ping", type=float, default=20.0, help="keepalive ping interval and timeout")
    parser.add_argument("--clock-at", type=float, default=None,
                        help="start the server's clock at this epoch time (it then runs at real speed)")
    parser.add_argument("--unlimited", action="store_true", help="no rate limits (fuzzing)")
    parser.add_argument("--gateway-key", default=None)
    parser.add_argument("--cert", type=Path, default=None)
    parser.add_argument("--key", type=Path, default=None)
    args = parser.parse_args(argv)

    import logging

    from console.server.app import ServerConfig, run

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    clock = time.time
    if args.clock_at is not None:  # the server's wall clock, shifted; it then runs at real speed
        offset = args.clock_at - time.time()

        def clock() -> float:
            return time.time() + offset

    from console.server.limits import Limits

    limits = Limits(agent_rate=1e9, agent_burst=1e9, buyer_rate=1e9, buyer_burst=1e9, login_failures=10**9,
                    login_account_failures=10**9, hello_timeout=3600.0, prelogin_per_address=10**9,
                    hash_queue=10**6, hashes_per_address=10**6) if args.unlimited else Limits()
    config = ServerConfig(host="127.0.0.1", port=args.port, data_dir=args.data, policy_file=args.policy,
                          ping_interval=args.ping, cert=args.cert, key=args.key, limits=limits,
                          gateway_key=args.gateway_key, clock=clock)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(config, stop)

    asyncio.run(main())
    return 0


SCENARIOS: dict[str, Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]] = {}


def scenario(name: str) -> Callable[[Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]],
                                     Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]]:
    def register(fn: Callable[[Path, bool], Coroutine[Any, Any, dict[str, Any]]]) -> Any:
        SCENARIOS[name] = fn
        return fn
    return register


@scenario("crash")
async def _crash(folder: Path, quick: bool) -> dict[str, Any]:
    figures = await crash(folder, kills=5 if quick else 50)
    return figures.line()


@scenario("disconnects")
async def _disconnects(folder: Path, quick: bool) -> dict[str, Any]:
    figures = await disconnects(folder, drops=100 if quick else 1000)
    return figures.line()


@scenario("stuck")
async def _stuck(folder: Path, quick: bool) -> dict[str, Any]:
    figures = await stuck(folder, phase=3.0 if quick else 8.0)
    return figures.line()


@scenario("vanish")
async def _vanish(folder: Path, quick: bool) -> dict[str, Any]:
    silent = await vanish(folder / "silent", how="silent")
    reset = await vanish(folder / "reset", how="reset")
    line = silent.line()
    line["reset"] = {k: v for k, v in reset.line().items() if k not in ("how", "problems")}
    for key in ("stuck_buyers", "wrongly_moved", "server_tracebacks"):
        line[key] += reset.line()[key]
    line["problems"] += reset.problems[:5]
    return line


@scenario("midnight")
async def _midnight(folder: Path, quick: bool) -> dict[str, Any]:
    return (await midnight(folder)).line()


MUST_BE_ZERO = ("lost", "duplicated", "order_violations", "moved_back", "lost_decisions", "why_mismatches",
                "kpi_mismatches", "view_mismatches", "holder_mismatches", "server_tracebacks", "replay_refusals",
                "event_repeats", "event_gaps", "stuck_buyers", "wrongly_moved", "outcome_missing", "goal_missed", "wrong_tiles")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--serve" in argv:
        return _serve(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per scenario")
    parser.add_argument("--quick", action="store_true", help="fewer faults of each kind")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="run only these scenarios")
    args = parser.parse_args(argv)
    failed = False
    for name, fn in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"fenliu-{name}-") as tmp:
            figures = asyncio.run(fn(Path(tmp), args.quick))
        line = {"scenario": name, "quick": args.quick, **figures}
        bad = [k for k in MUST_BE_ZERO if line.get(k)]
        failed = failed or bool(bad)
        if args.json:
            print(json.dumps(line, ensure_ascii=False), flush=True)
        else:
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in line.items() if k != "problems"), flush=True)
            for p in line.get("problems") or []:
                print(f"  {p}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
