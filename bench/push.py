"""Server push: a buyer's message in, the owning agent's console receives it (issue 3).

    .venv/bin/python bench/push.py --json          # the recorded run (about 2 minutes)
    .venv/bin/python bench/push.py --quick         # a short run while iterating

Everything runs on loopback (127.0.0.1) and stops by itself. Three processes:

- the routing server, ``fenliu server --port 0 --data TMP --policy TMP/policy.toml``, as a shop
  would run it (SQLite in WAL mode, ``synchronous=FULL``: the database is on);
- a bare ``websockets`` relay (this file with ``--relay``): each buyer connection is tied to one of
  the agent connections and every frame it sends is written, unchanged, to that agent; no database,
  no parsing, no routing. It is the baseline, measured in the same run;
- this process, the load generator: asyncio, one websocket per buyer and per agent console.

Setup (not timed): a generated policy with ``--agents`` agents (200) in one group, picked least
saturated, so each agent owns buyers / agents buyers; their accounts; the agents log in and go
online; ``--buyers`` buyers (2,000) connect, ``hello`` and ``arrive``, and are routed to an agent
(the ``routed`` answer names it). The relay gets the same connections, buyer i tied to agent
i mod agents.

Each rate (500 and 2,000 messages/s) is an open loop: buyer ``say`` frames at that rate, round
robin over the buyers, each with a unique ``client_id``; a warm-up, then the measured window.
Latency is from just before the frame is written on the buyer's connection to the moment the
owning agent's connection has read and decoded the ``message`` event carrying that ``client_id``
(``time.perf_counter`` in this one process for both ends). ``throughput_per_s`` at a rate is the
messages delivered to their agent per second during the window (the offered rate when the server
keeps up).

Saturation (the ``"rate": "max"`` line) is a closed loop: ``--window`` messages (1,000) in flight,
at most one per buyer; each delivery lets that buyer send again. ``throughput_per_s`` there is
deliveries per second, the most the server can push; ``baseline_per_s`` is the same figure for the
relay, on every line, and ``ratio = throughput_per_s / baseline_per_s``. The ``max`` line's ratio is
the figure of issue 3 (goal: at least 0.25); the fixed-rate lines say how much of the relay's
capacity that rate uses.

The two servers are measured interleaved, each on its own connections and both running
throughout: the routing server at a rate, then the relay at the same rate, then the next rate,
then the two saturation runs back to back; so a moment of other work on the machine weighs on
both sides of a ratio. ``server_us_per_msg`` and ``relay_us_per_msg`` are each one's CPU time
(``/proc/PID/stat``, user + system) per message delivered in that window.

Two cores, shared by the three processes (and by anything else running on the machine): the
``server_cpu`` and ``loadgen_cpu`` fields say how busy each process was (1.0 = one core), so a
figure limited by the load generator rather than by the server shows as such.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import broadcast
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-pw-1"
HOST = "127.0.0.1"
TEXT = "这个有现货吗？请问今天下单什么时候发货"  # a typical buyer line


# -- what the load generator decodes ------------------------------------------------------------


class _Frame(msgspec.Struct):
    """Just the fields the load generator looks at, from any frame either server sends."""

    type: str = ""
    rid: str | None = None
    message: Any = None  # the Message of a ``message`` event (a string in ``error``)
    client_id: str | None = None  # the relay forwards the buyer's ``say`` itself
    name: str | None = None  # ``routed``: the agent's name (the bench policy names agents by id)
    to: str | None = None
    code: str | None = None


_decode = msgspec.json.Decoder(_Frame).decode


# -- the bare relay (a separate process) ----------------------------------------------------------


def relay_main() -> None:
    """``--relay``: serve the baseline relay on a free loopback port until stdin closes."""
    from websockets.asyncio.server import ServerConnection, serve

    async def main() -> None:
        agents: dict[int, ServerConnection] = {}

        async def handler(conn: ServerConnection) -> None:
            assert conn.request is not None
            path, _, query = conn.request.path.partition("?")
            n = int(query.split("=", 1)[1])
            if path == "/agent":
                agents[n] = conn
                try:
                    await conn.wait_closed()
                finally:
                    agents.pop(n, None)
                return
            async for frame in conn:  # /buyer: every frame to its agent, unchanged
                target = agents.get(n)
                if target is not None:
                    await target.send(frame)

        async with serve(handler, HOST, 0, compression=None, max_size=256 * 1024) as server:
            port = server.sockets[0].getsockname()[1]
            print(f"PORT {port}", flush=True)
            loop = asyncio.get_running_loop()
            done = asyncio.Event()
            loop.add_reader(sys.stdin.fileno(), done.set)  # stdin closed: the bench is over
            loop.add_signal_handler(signal.SIGTERM, done.set)
            await done.wait()

    asyncio.run(main())


# -- processes ----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Child:
    """A server (or relay) process with the port it listens on; bench/peak.py uses it too."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path | None = None) -> None:
        self.proc = proc
        self.port = port
        self.log = log  # a server's log (bench/peak.py reads its stall watch's lines); None for a relay

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)  # a server with a large data folder snapshots at the stop
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


def start_relay() -> Child:
    proc = subprocess.Popen([sys.executable, __file__, "--relay"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    match = re.match(r"PORT (\d+)", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"relay did not start: {line!r}")
    return Child(proc, int(match.group(1)))


def write_policy(folder: Path, agents: int) -> Path:
    lines = ['preset = "taobao"', 'timezone = "Asia/Shanghai"', "seed = 3", 'pick = "least_saturated"',
             'disconnect_grace = "1h"', "", "[[groups]]", 'id = "all"', "cap = 50", ""]
    for i in range(agents):
        lines += ["[[agents]]", f'id = "{_agent(i)}"', f'name = "{_agent(i)}"', 'groups = ["all"]', ""]
    path = folder / "policy.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def seed_accounts(data: Path, policy_file: Path) -> list[str]:
    """Create the policy's accounts and one login token each (returned, in agent order).

    Setup, not measured: every account gets the same Argon2 hash (one slow hash, not 200), and the
    consoles connect with ``resume`` and these tokens instead of 200 slow password checks.
    """
    from console.routing.policy import load_policy_toml
    from console.server import accounts as accounts_module
    from console.server.app import ensure_demo_accounts
    from console.server.store import Store

    policy = load_policy_toml(policy_file.read_text(encoding="utf-8"))
    one_hash = accounts_module.hash_password(PASSWORD)
    slow = accounts_module.hash_password
    accounts_module.hash_password = lambda password: one_hash  # type: ignore[assignment]
    store = Store.open(data)
    try:
        ensure_demo_accounts(store, policy, PASSWORD)
        accounts = accounts_module.Accounts(store)
        tokens = [accounts.issue_token(spec.id, time.time())[0] for spec in policy.agents]
        store.flush()
    finally:
        accounts_module.hash_password = slow  # type: ignore[assignment]
        store.close()
    return tokens


def start_server(folder: Path, policy_file: Path, source: Path | None = None) -> Child:
    """``fenliu server`` on a free port; ``source``: run the ``console`` package of another tree
    (a copy with a candidate fix) with this virtualenv instead."""
    log_path = folder / "server.log"
    env = dict(os.environ)
    command, cwd = [sys.executable, "-m", "console"], source or ROOT  # from its folder: that checkout's code
    if source is not None:
        env["PYTHONPATH"] = str(source)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "server", "--port", "0", "--data", str(folder / "data"), "--policy", str(policy_file)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"listening on ws://[^:]+:(\d+)", log_path.read_text(errors="replace"))
        if match:
            return Child(proc, int(match.group(1)))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the server did not start:\n{log_path.read_text(errors='replace')}")


def _agent(i: int) -> str:
    return f"a{i:03d}"


# -- the load generator ---------------------------------------------------------------------------------


@dataclass
class Phase:
    """What one measured stretch records."""

    start: float = 0.0  # messages sent from here on are measured (after the warm-up)
    end: float = float("inf")
    latencies: list[float] = field(default_factory=list)
    delivered_in_window: int = 0
    sent_in_window: int = 0


class Load:
    """The buyer and agent connections to one server, and what is in flight between them."""

    def __init__(self, name: str, agents: int, buyers: int) -> None:
        self.name = name
        self.n_agents = agents
        self.n_buyers = buyers
        self.agent_conns: list[ClientConnection] = []
        self.buyer_conns: list[ClientConnection] = []
        self.owner: list[int] = [-1] * buyers  # buyer index -> agent index
        self.sent_at: dict[str, float] = {}  # client_id -> send time
        self.phase = Phase()
        self.misrouted = 0
        self.errors: dict[str, int] = {}
        self.acks = 0
        self.counter = 0
        self.on_delivered: Callable[[int], None] | None = None  # closed loop: buyer free again
        self.tasks: list[asyncio.Task[None]] = []

    # receiving ------------------------------------------------------------------------------

    def _delivered(self, agent: int, client_id: str) -> None:
        now = time.perf_counter()
        sent = self.sent_at.pop(client_id, None)
        if sent is None:
            return
        buyer = int(client_id.split("-", 2)[1])
        if self.owner[buyer] != agent:
            self.misrouted += 1
        phase = self.phase
        if phase.start <= now <= phase.end:
            phase.delivered_in_window += 1
        if phase.start <= sent <= phase.end:
            phase.latencies.append(now - sent)
        if self.on_delivered is not None:
            self.on_delivered(buyer)

    def _error(self, frame: _Frame) -> None:
        key = frame.code or "?"
        self.errors[key] = self.errors.get(key, 0) + 1

    async def read_agent(self, index: int, conn: ClientConnection) -> None:
        try:
            async for raw in conn:
                frame = _decode(raw)
                if frame.type == "message" and isinstance(frame.message, dict):
                    client_id = frame.message.get("client_id")
                    if client_id:
                        self._delivered(index, client_id)
                elif frame.type == "say" and frame.client_id:  # the relay forwards the say itself
                    self._delivered(index, frame.client_id)
                elif frame.type == "error":
                    self._error(frame)
        except ConnectionClosed:
            pass

    async def read_buyer(self, conn: ClientConnection) -> None:
        try:
            async for raw in conn:
                frame = _decode(raw)
                if frame.type == "say_ack":
                    self.acks += 1
                elif frame.type == "error":
                    self._error(frame)
        except ConnectionClosed:
            pass

    # sending --------------------------------------------------------------------------------------

    def send(self, buyer: int) -> None:
        """One ``say`` from a buyer, written without waiting (``broadcast`` semantics)."""
        self.counter += 1
        client_id = f"{self.name[0]}-{buyer}-{self.counter}"
        frame = f'{{"type":"say","rid":"s{self.counter}","text":"{TEXT} #{self.counter}","client_id":"{client_id}"}}'
        now = time.perf_counter()
        self.sent_at[client_id] = now
        if self.phase.start <= now <= self.phase.end:
            self.phase.sent_in_window += 1
        broadcast([self.buyer_conns[buyer]], frame)

    async def close(self) -> None:
        conns = self.agent_conns + self.buyer_conns
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _bounded(coros: list[Any], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def _request(conn: ClientConnection, body: dict[str, Any], until: Callable[[_Frame], bool]) -> _Frame:
    await conn.send(json.dumps(body, ensure_ascii=False))
    while True:
        frame = _decode(await asyncio.wait_for(conn.recv(), 60))
        if frame.type == "error":
            raise RuntimeError(f"{body['type']} refused: {frame}")
        if until(frame):
            return frame


async def connect_fenliu(port: int, agents: int, buyers: int, tokens: list[str]) -> Load:
    load = Load("fenliu", agents, buyers)
    url = f"ws://{HOST}:{port}"

    async def agent(i: int) -> ClientConnection:
        conn = await connect(url + "/agent", max_size=None, compression=None, ping_interval=None)
        await _request(conn, {"type": "resume", "rid": "l", "token": tokens[i]}, lambda f: f.type == "snapshot")
        await _request(conn, {"type": "set_status", "rid": "s", "status": "online"}, lambda f: f.rid == "s")
        return conn

    load.agent_conns = await _bounded([agent(i) for i in range(agents)], 16)

    async def buyer(b: int) -> ClientConnection:
        conn = await connect(url + "/buyer", max_size=None, compression=None, ping_interval=None)
        await _request(conn, {"type": "hello", "rid": "h", "buyer": f"b{b:05d}", "name": f"买家{b}"},
                       lambda f: f.rid == "h")
        routed = await _request(conn, {"type": "arrive", "rid": "a"}, lambda f: f.rid == "a")
        if routed.to != "agent" or routed.name is None:
            raise RuntimeError(f"buyer {b} was not routed to an agent: {routed}")
        load.owner[b] = int(routed.name[1:])
        return conn

    load.buyer_conns = await _bounded([buyer(b) for b in range(buyers)], 64)
    _start_readers(load)
    return load


async def connect_relay(port: int, agents: int, buyers: int) -> Load:
    load = Load("relay", agents, buyers)
    url = f"ws://{HOST}:{port}"
    load.agent_conns = await _bounded(
        [connect(f"{url}/agent?n={i}", max_size=None, compression=None, ping_interval=None) for i in range(agents)], 64)
    load.buyer_conns = await _bounded(
        [connect(f"{url}/buyer?n={b % agents}", max_size=None, compression=None, ping_interval=None)
         for b in range(buyers)], 64)
    load.owner = [b % agents for b in range(buyers)]
    _start_readers(load)
    return load


def _start_readers(load: Load) -> None:
    load.tasks = [asyncio.create_task(load.read_agent(i, c)) for i, c in enumerate(load.agent_conns)]
    load.tasks += [asyncio.create_task(load.read_buyer(c)) for c in load.buyer_conns]


async def _settle(load: Load, timeout: float = 10.0) -> int:
    """Wait until nothing is in flight (or the timeout); returns what never arrived."""
    deadline = time.perf_counter() + timeout
    while load.sent_at and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    lost = len(load.sent_at)
    load.sent_at.clear()
    return lost


@dataclass
class Measure:
    p50_ms: float
    p99_ms: float
    max_ms: float
    throughput_per_s: float
    offered_per_s: float
    measured: int
    lost: int
    server_cpu: float
    server_us_per_msg: float
    loadgen_cpu: float


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(load: Load, window: float, lost: int, server_cpu: float, loadgen_cpu: float) -> Measure:
    lat = load.phase.latencies
    return Measure(
        p50_ms=round(statistics.median(lat) * 1000, 2) if lat else float("nan"),
        p99_ms=round(_percentile(lat, 0.99) * 1000, 2),
        max_ms=round(max(lat) * 1000, 2) if lat else float("nan"),
        throughput_per_s=round(load.phase.delivered_in_window / window, 1),
        offered_per_s=round(load.phase.sent_in_window / window, 1),
        measured=len(lat),
        lost=lost,
        server_cpu=round(server_cpu / window, 2),
        server_us_per_msg=round(server_cpu / max(1, load.phase.delivered_in_window) * 1e6, 1),
        loadgen_cpu=round(loadgen_cpu / window, 2),
    )


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def open_loop(load: Load, server: Child, rate: float, warmup: float, window: float) -> Measure:
    """Send at ``rate`` for ``warmup + window`` seconds, round robin over the buyers."""
    t0 = time.perf_counter()
    load.phase = Phase(start=t0 + warmup, end=t0 + warmup + window)
    load.on_delivered = None
    sent = 0
    buyer = 0
    cpu_marks: tuple[float, float] | None = None
    while True:
        now = time.perf_counter()
        if cpu_marks is None and now >= load.phase.start:
            cpu_marks = (server.cpu(), _own_cpu())
        if now >= load.phase.end:
            break
        due = int((now - t0) * rate) - sent
        for _ in range(due):
            load.send(buyer)
            buyer = (buyer + 1) % load.n_buyers
        sent += max(due, 0)
        await asyncio.sleep(0.001)
    assert cpu_marks is not None
    server_cpu, own_cpu = server.cpu() - cpu_marks[0], _own_cpu() - cpu_marks[1]
    lost = await _settle(load)
    return _measure(load, window, lost, server_cpu, own_cpu)


async def closed_loop(load: Load, server: Child, in_flight: int, warmup: float, window: float) -> Measure:
    """Keep ``in_flight`` messages outstanding (one per buyer at most): the server's capacity."""
    t0 = time.perf_counter()
    load.phase = Phase(start=t0 + warmup, end=t0 + warmup + window)
    free = deque(range(in_flight, load.n_buyers))
    stopping = False

    def delivered(buyer: int) -> None:
        free.append(buyer)
        if not stopping:
            load.send(free.popleft())

    load.on_delivered = delivered
    for b in range(min(in_flight, load.n_buyers)):
        load.send(b)
    await asyncio.sleep(max(0.0, load.phase.start - time.perf_counter()))
    marks = (server.cpu(), _own_cpu())
    await asyncio.sleep(max(0.0, load.phase.end - time.perf_counter()))
    server_cpu, own_cpu = server.cpu() - marks[0], _own_cpu() - marks[1]
    stopping = True
    lost = await _settle(load)
    load.on_delivered = None
    return _measure(load, window, lost, server_cpu, own_cpu)


def _py_spy(out: Path | None, idle: bool, server: Child, seconds: float) -> subprocess.Popen[bytes] | None:
    """Sample the server's stacks during a rate (``--py-spy FILE``: collapsed stacks)."""
    if out is None:
        return None
    spy = ROOT / ".venv" / "bin" / "py-spy"
    return subprocess.Popen([str(spy), "record", "--pid", str(server.proc.pid), "--duration", str(int(seconds)),
                             "--rate", "200", *(["--idle"] if idle else []), "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# -- the run ----------------------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    warmup, window = (1.0, 4.0) if args.quick else (args.warmup, args.duration)
    rates = args.rates
    results: dict[str, dict[str, Measure]] = {"relay": {}, "fenliu": {}}

    def note(text: str) -> None:
        if not args.json or args.verbose:
            print(text, file=sys.stderr, flush=True)

    # Both servers run for the whole bench and are measured in turn, the routing server first,
    # then the relay at the same rate, then the next rate: whatever else the machine does at a
    # moment weighs on both sides of a ratio alike (issue 9: a baseline measured minutes apart
    # swung the ratio 0.18-0.51).
    sides = [s for s in ("fenliu", "relay") if args.only in (None, s)]
    children: dict[str, Child] = {}
    loads: dict[str, Load] = {}
    errors: dict[str, int] = {}
    misrouted = 0
    try:
        if "fenliu" in sides:
            policy_file = write_policy(folder, args.agents)
            t = time.perf_counter()
            tokens = seed_accounts(folder / "data", policy_file)
            note(f"{args.agents} accounts in {time.perf_counter() - t:.1f} s")
            children["fenliu"] = start_server(folder, policy_file, args.server_source)
            t = time.perf_counter()
            loads["fenliu"] = await connect_fenliu(children["fenliu"].port, args.agents, args.buyers, tokens)
            note(f"{args.agents} agents online, {args.buyers} buyers routed in {time.perf_counter() - t:.1f} s")
        if "relay" in sides:
            children["relay"] = start_relay()
            loads["relay"] = await connect_relay(children["relay"].port, args.agents, args.buyers)
        gc.collect()
        for rate in rates:
            for side in sides:
                last = side == "fenliu" and rate == rates[-1]
                spy = _py_spy(args.py_spy, args.py_spy_idle, children[side], window + warmup) if last else None
                results[side][str(rate)] = m = await open_loop(loads[side], children[side], rate, warmup, window)
                if spy is not None:
                    spy.wait(30)
                note(f"{side:<6} {rate:>6}/s: {m}")
        for side in sides:
            results[side]["max"] = m = await closed_loop(loads[side], children[side], args.window, warmup, window)
            note(f"{side:<6}    max: {m}")
        if "fenliu" in loads:
            errors, misrouted = dict(loads["fenliu"].errors), loads["fenliu"].misrouted
        for load in loads.values():
            await load.close()
    finally:
        for child in children.values():
            child.stop()

    if args.only == "relay":
        return [{"rate": k, **vars(m)} for k, m in results["relay"].items()]
    if args.only == "fenliu":
        return [{"rate": k, **vars(m)} for k, m in results["fenliu"].items()]
    baseline = results["relay"]["max"].throughput_per_s
    lines = []
    for key in [*map(str, rates), "max"]:
        m, b = results["fenliu"][key], results["relay"][key]
        lines.append({
            "rate": int(key) if key != "max" else "max",
            "p50_ms": m.p50_ms, "p99_ms": m.p99_ms,
            "throughput_per_s": m.throughput_per_s, "baseline_per_s": baseline,
            "ratio": round(m.throughput_per_s / baseline, 3) if baseline else None,
            "max_ms": m.max_ms, "offered_per_s": m.offered_per_s, "measured": m.measured, "lost": m.lost,
            "baseline_p50_ms": b.p50_ms, "baseline_p99_ms": b.p99_ms,
            "baseline_throughput_per_s": b.throughput_per_s,
            "server_cpu": m.server_cpu, "relay_cpu": b.server_cpu, "loadgen_cpu": m.loadgen_cpu,
            "server_us_per_msg": m.server_us_per_msg, "relay_us_per_msg": b.server_us_per_msg,
            "errors": sum(errors.values()), "misrouted": misrouted,
        })
    return lines


def main() -> int:
    if "--relay" in sys.argv[1:]:
        relay_main()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per rate on stdout")
    parser.add_argument("--quick", action="store_true", help="a short run (1 s warm-up, 4 s windows)")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr even with --json")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[500, 2000],
                        help="offered rates, messages/s (default 500,2000)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each window (default 3)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per rate (default 15)")
    parser.add_argument("--window", type=int, default=1000, help="messages in flight at saturation (default 1000)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder (its path goes to stderr)")
    parser.add_argument("--only", choices=("relay", "fenliu"), help="measure one side only (iterating; no ratio)")
    parser.add_argument("--server-source", type=Path, default=None, metavar="DIR",
                        help="run the console package from DIR (a copy with a candidate fix)")
    parser.add_argument("--py-spy", type=Path, default=None, metavar="FILE",
                        help="record the server's stacks during the last rate (py-spy, collapsed format)")
    parser.add_argument("--py-spy-idle", action="store_true", help="with --py-spy: include time off the CPU")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="fenliu-push-"))
    try:
        lines = asyncio.run(asyncio.wait_for(bench(args, folder), 900))
    finally:
        if args.keep:
            print(f"data kept in {folder}", file=sys.stderr)
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    for line in lines:
        if args.json or args.only:
            print(json.dumps(line, ensure_ascii=False))
        else:
            print(f"{line['rate']!s:>6}: p50 {line['p50_ms']} ms, p99 {line['p99_ms']} ms, "
                  f"{line['throughput_per_s']}/s delivered vs relay capacity {line['baseline_per_s']}/s "
                  f"(ratio {line['ratio']}); server cpu {line['server_cpu']}, lost {line['lost']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
