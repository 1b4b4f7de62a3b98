"""A real server on port 0 for the client tests, and small waiting helpers (no sleeps).

The server is ``console.server.app.Server`` started in this process with its own data folder, so
a test can also stop it and start it again on the same data and the same port (a restart), or
drop a console's connection from the server's side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from console.routing.policy import load_policy_toml
from console.server.app import Server, ServerConfig, ensure_demo_accounts
from console.server.store import Store

T = TypeVar("T")
TIMEOUT = 10.0
PASSWORD = "client-test-pw"

POLICY = """
preset = "taobao"
timezone = "Asia/Shanghai"
seed = 3
disconnect_grace = "1h"

[bot]
shop_first = false
handoff_words = ["转人工"]

[questions]
live = ["几天发货", "有优惠券吗"]

[[groups]]
id = "presale"
entries = ["product_detail", "live"]

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


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a test coroutine with an overall bound (a hung test fails instead of blocking)."""
    return asyncio.run(asyncio.wait_for(coro, 60))


def prepare(folder: Path, policy: str = POLICY) -> ServerConfig:
    """A data folder with accounts for the policy's agents, and the config to serve it."""
    data = folder / "data"
    policy_file = folder / "policy.toml"
    policy_file.write_text(policy, encoding="utf-8")
    store = Store.open(data)
    try:
        ensure_demo_accounts(store, load_policy_toml(policy), PASSWORD)
    finally:
        store.close()
    return ServerConfig(port=0, data_dir=data, policy_file=policy_file)


@contextlib.asynccontextmanager
async def serving(config: ServerConfig) -> AsyncIterator[Server]:
    server = Server(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def drop_agent_connections(server: Server, agent: str) -> int:
    """Cut every console connection of ``agent`` from the server's side (an abrupt TCP close)."""
    assert server.shop is not None
    dropped = 0
    for link in list(server.shop.hub.links()):
        if link.agent == agent and link.conn.transport is not None:
            link.conn.transport.abort()
            dropped += 1
    return dropped


def agent_messages(server: Server, buyer: str) -> list[tuple[str, str | None]]:
    """(text, client_id) of every stored agent message of a conversation, from the database."""
    assert server.store is not None
    rows = server.store.all(
        "SELECT text, client_id FROM messages WHERE conversation = ? AND author = 'agent' ORDER BY id", (buyer,)
    )
    return [(str(r["text"]), r["client_id"]) for r in rows]


async def until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait, one loop turn at a time, until ``predicate()`` holds (no fixed sleeps)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0)
