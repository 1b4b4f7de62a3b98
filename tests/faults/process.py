"""The server in a child process, and the raw protocol helpers every fault scenario uses.

``ServerProcess`` runs the real ``fenliu server`` (or the launcher ``python -m tests.faults.serve``
when a scenario needs a setting the command line does not offer: ping interval, a shifted clock,
no rate limits) on a temporary data folder; consoles are the real client library
(``console.client``) or bare websockets where a console must misbehave.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from websockets.asyncio.client import connect

from console.client import AgentClient, Backoff
from console.client.link import decode_agent_push
from console.protocol.codec import encode
from console.protocol.messages import (
    Login,
    LoginOk,
    Snapshot,
)

REPO = Path(__file__).resolve().parents[2]
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
        return [sys.executable, "-m", "tests.faults.serve", *common, *self.launcher]

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
