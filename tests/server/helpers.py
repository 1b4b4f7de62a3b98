"""Test helpers: a real server on port 0 and a minimal real websocket client (no mocks).

``running_server`` starts ``console.server.app.Server`` on a free port with its own data folder;
``Client`` speaks the protocol with ``console.protocol`` messages and waits for answers and
pushes with a timeout (never sleeps). Tests are plain functions that call ``run(coro)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from console.protocol.codec import decode_for_agent, decode_for_buyer, encode
from console.protocol.messages import MAX_PANEL_SESSIONS, Login, LoginOk, Response, Snapshot
from console.protocol.messages import Event as PushEvent
from console.routing.policy import load_policy_toml
from console.server.app import Server, ServerConfig, ensure_demo_accounts
from console.server.limits import Limits
from console.server.store import Store

T = TypeVar("T")
TIMEOUT = 10.0
PASSWORD = "s3cret-pw"

AGENTS = """
[[agents]]
id = "a1"
name = "小美"
groups = ["presale"]

[[agents]]
id = "a2"
name = "阿杰"
groups = ["presale"]

[[agents]]
id = "sup"
name = "主管"
role = "supervisor"
"""
"""Two agents of the group ``presale`` and a supervisor: the team of most server tests."""

POLICY = """
preset = "taobao"
timezone = "Asia/Shanghai"
seed = 1
disconnect_grace = "1h"

[bot]
shop_first = false
handoff_words = ["人工"]

[questions]
live = ["几天发货", "有优惠券吗"]

[[groups]]
id = "presale"
entries = ["product_detail"]

[[groups]]
id = "botgroup"
bot = true
entries = ["dm"]

""" + AGENTS


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, 60))


def write_policy(folder: Path, text: str = POLICY) -> Path:
    path = folder / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def pg_store_url() -> str | None:
    """The throwaway PostgreSQL's URL when the test runs on PostgreSQL (conftest ``store_kind``)."""
    return os.environ.get("FENLIU_TEST_STORE") or None


def shop_of(data: Path) -> str:
    """The PostgreSQL shop of a test's data folder: one per folder, so restarts find it again."""
    return "t" + hashlib.sha1(str(data.resolve()).encode()).hexdigest()[:16]


def open_store(data: Path, *, own: bool = False, **kwargs: Any) -> Store:
    """The test's store for ``data``: the SQLite folder, or its shop on the test PostgreSQL
    (without the shop's lock unless ``own``, like the ``fenliu accounts`` commands: a test's
    server may hold it)."""
    url = pg_store_url()
    if url is None:
        return Store.open(data, **kwargs)
    from console.server.pgstore import PgStore

    return PgStore(url, shop=shop_of(data), local_dir=data, own=own, **kwargs)


def where_of(data: Path) -> Any:
    """The test's database for readers of their own (report.py ``Where``): the SQLite folder, or
    its shop on the test PostgreSQL."""
    url = pg_store_url()
    if url is None:
        return data
    from console.server.repository.reports import PgShop

    return PgShop(url, shop_of(data))


def store_config(data: Path) -> dict[str, Any]:
    """``ServerConfig`` fields that put a server on the test's store."""
    url = pg_store_url()
    return {} if url is None else {"store": url, "shops": (shop_of(data),)}


def seed_accounts(data: Path, policy_file: Path) -> None:
    store = open_store(data)
    try:
        ensure_demo_accounts(store, load_policy_toml(policy_file.read_text(encoding="utf-8")), PASSWORD)
    finally:
        store.close()


NO_RATE_LIMITS = Limits(agent_rate=1e6, agent_burst=1e6, buyer_rate=1e6, buyer_burst=1e6)
"""A server's limits with the per-connection frame rates out of reach (many frames at once by design)."""


@contextlib.asynccontextmanager
async def running_server(folder: Path, *, policy: str = POLICY, seed: bool = True,
                         limits: Limits | None = None, **config: Any) -> AsyncIterator[Server]:
    """A server on port 0 with data in ``folder/data`` (reused if it exists: restarts)."""
    data = folder / "data"
    policy_file = write_policy(folder, policy)
    if seed:
        seed_accounts(data, policy_file)
    config = {**store_config(data), **config}
    cfg = ServerConfig(port=0, data_dir=data, policy_file=policy_file, limits=limits or Limits(), **config)
    server = Server(cfg)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Client:
    """One websocket connection; keeps what it has not been asked for yet."""

    _rids = itertools.count(1)

    def __init__(self, conn: ClientConnection, decode: Callable[[bytes | str], Any]) -> None:
        self.conn = conn
        self.decode = decode
        self.inbox: list[Any] = []

    @classmethod
    async def agent(cls, server: Server) -> Client:
        return cls(await connect(server.url + "/agent", max_size=None), decode_for_agent)

    @classmethod
    async def buyer(cls, server: Server) -> Client:
        return cls(await connect(server.url + "/buyer", max_size=None), decode_for_buyer)

    async def send_raw(self, data: str | bytes) -> None:
        await self.conn.send(data)

    async def send(self, message: msgspec.Struct) -> str | None:
        """Send a request, giving it a fresh rid when it can carry one."""
        if "rid" in message.__struct_fields__ and message.rid is None:
            message = msgspec.structs.replace(message, rid=f"r{next(self._rids)}")
        await self.conn.send(encode(message).decode())  # type: ignore[arg-type]
        return getattr(message, "rid", None)

    async def _next(self, timeout: float) -> Any:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        return self.decode(raw)

    async def expect(self, kind: type[T], where: Callable[[T], bool] = lambda m: True,
                     timeout: float = TIMEOUT) -> T:
        """The first message of ``kind`` matching ``where`` (earlier ones stay in the inbox)."""
        for i, message in enumerate(self.inbox):
            if isinstance(message, kind) and where(message):
                return self.inbox.pop(i)  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self._next(max(0.0, deadline - loop.time()))
            if isinstance(message, kind) and where(message):
                return message
            self.inbox.append(message)

    async def request(self, message: msgspec.Struct, timeout: float = TIMEOUT) -> Any:
        """Send and return the response that carries the same rid."""
        rid = await self.send(message)
        return await self.expect(Response, lambda m: m.rid == rid, timeout)  # type: ignore[arg-type]

    async def login(self, user: str, password: str = PASSWORD) -> tuple[LoginOk, Snapshot]:
        ok = await self.request(Login(user=user, password=password))
        assert isinstance(ok, LoginOk), ok
        snapshot = await self.expect(Snapshot)
        return ok, snapshot

    def events(self) -> list[PushEvent]:
        return [m for m in self.inbox if isinstance(m, PushEvent)]

    async def drain(self, until: Callable[[Any], bool], timeout: float = TIMEOUT) -> list[Any]:
        """Read until a message satisfies ``until``; return everything read (inbox included)."""
        seen = list(self.inbox)
        self.inbox.clear()
        if any(until(m) for m in seen):
            return seen
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self._next(max(0.0, deadline - loop.time()))
            seen.append(message)
            if until(message):
                return seen

    async def close(self) -> None:
        await self.conn.close()


async def wait_for(predicate: Callable[[], Awaitable[bool] | bool], timeout: float = TIMEOUT) -> None:
    """Poll a condition each loop turn (for server-side state; no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0)


def store_args(data: Path) -> list[str]:
    """The command-line options that put a ``fenliu`` command on the test's store."""
    on_pg = store_config(data)
    return ["--store", on_pg["store"], "--shop", on_pg["shops"][0]] if on_pg else []


def panel_sessions_by_statements(store: Store, buyer: str,
                                 open_with: str | None) -> list[tuple[str, float, float | None, int]]:
    """The buyer panel's past sessions (agent, start, end, messages) as their definition reads them,
    statements per session (how ``PanelFacts.sessions`` read them before session 11): the oracle of
    tests/server/test_panel_sessions.py and the baseline of bench/panel_sessions.py."""
    db = store.db
    receptions = db.execute("SELECT id, agent, at FROM receptions WHERE buyer = ? ORDER BY id DESC LIMIT ?",
                            (buyer, MAX_PANEL_SESSIONS)).fetchall()
    found: list[tuple[str, float, float | None, int]] = []
    following: float | None = None
    for index, r in enumerate(receptions):
        started = float(r["at"])
        closed = db.execute("SELECT MIN(at) FROM decisions WHERE buyer = ? AND event = 'closed' AND at >= ?"
                            + (" AND at <= ?" if following is not None else ""),
                            (buyer, started, following) if following is not None else (buyer, started)).fetchone()[0]
        ended = closed if closed is not None else following
        if index == 0 and ended is None and open_with != r["agent"]:
            ended = started
        count = db.execute("SELECT COUNT(*) FROM messages WHERE conversation = ? AND at >= ?"
                           + (" AND at <= ?" if ended is not None else ""),
                           (buyer, started, ended) if ended is not None else (buyer, started)).fetchone()[0]
        found.append((str(r["agent"]), started, None if ended is None else float(ended), int(count)))
        following = started
    return found
