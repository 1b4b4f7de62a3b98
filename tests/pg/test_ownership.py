"""One owner per shop on PostgreSQL (issue 15): the shop's advisory lock (pgstore.py).

Two ``fenliu server`` processes on one shop never both route for it: the second is refused,
a standby waits; when the owner's database connection is cut (``pg_terminate_backend``, as a
network loss or a DBA would) the owner stops at once (fail-stop), nothing it acknowledged is
lost, nothing it acknowledges afterwards exists, and the standby takes the shop and serves it
from the database. The servers are the real command in child processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from console.protocol.messages import Arrive, Say, SayAck
from console.routing.policy import load_policy_toml
from console.server.app import ensure_demo_accounts
from console.server.pgstore import PgStore, shop_lock_key
from console.server.store import StoreFailed
from tests.server.helpers import PASSWORD, POLICY, Client, run, wait_for, write_policy
from tests.server.test_reception import buyer

LISTENING = re.compile(rb"listening on (ws://\S+)")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


def _seed(url: str, shop: str, folder: Path) -> None:
    store = PgStore(url, shop=shop, own=False, local_dir=folder)
    try:
        ensure_demo_accounts(store, load_policy_toml(POLICY), PASSWORD)
    finally:
        store.close()


async def _spawn(url: str, shop: str, folder: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "server", "--port", "0", "--data", str(folder / "data"),
        "--policy", str(folder / "policy.toml"), "--store", url, "--shop", shop, *extra,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})


async def _listening(process: asyncio.subprocess.Process, timeout: float = 30) -> _Url:
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), timeout)
        if not line:
            raise RuntimeError("the server exited before listening")
        found = LISTENING.search(line)
        if found:
            return _Url(found.group(1).decode())


def _holders(url: str, shop: str) -> list[int]:
    """Backends holding the shop's lock (granted), as PostgreSQL sees them."""
    key = shop_lock_key(shop)
    with psycopg.connect(url, autocommit=True) as conn:
        return [int(r[0]) for r in conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objid = (%s::bigint & 4294967295)::oid AND classid = ((%s::bigint >> 32) & 4294967295)::oid",
            (key, key))]


async def _line(process: asyncio.subprocess.Process, pattern: bytes, timeout: float = 30) -> None:
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), timeout)
        if not line:
            raise RuntimeError(f"the server exited before saying {pattern!r}")
        if re.search(pattern, line):
            return


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_two_servers_never_both_route_for_one_shop(pg_url: str, tmp_path: Path) -> None:
    shop = "owned"
    write_policy(tmp_path)
    _seed(pg_url, shop, tmp_path)

    async def scenario() -> None:
        owner = await _spawn(pg_url, shop, tmp_path)
        standby: asyncio.subprocess.Process | None = None
        try:
            served = await _listening(owner)
            [holder] = _holders(pg_url, shop)

            # a second server on the shop is refused, and says who holds it
            second = await _spawn(pg_url, shop, tmp_path)
            _, err = await asyncio.wait_for(second.communicate(), 30)
            assert second.returncode == 2 and b"served by another fenliu server" in err, err

            # a standby waits for the lock, without listening
            standby = await _spawn(pg_url, shop, tmp_path, "--standby")
            await _line(standby, rb"standing by: the shop 'owned' is served by another fenliu server")
            assert _holders(pg_url, shop) == [holder]

            # traffic on the owner while its connection is cut
            b1 = await buyer(served, "b1")
            await b1.request(Arrive())
            acked: dict[str, int] = {}
            sent = 0

            async def talk() -> None:
                nonlocal sent
                try:
                    while True:
                        client_id = f"m{sent}"
                        sent += 1
                        answer = await b1.request(Say(text=f"问{client_id}", client_id=client_id), timeout=10)
                        if isinstance(answer, SayAck):
                            acked[client_id] = answer.message_id
                except Exception:  # noqa: BLE001 - the owner stopped: the connection goes
                    return

            talker = asyncio.ensure_future(talk())
            while len(acked) < 5:
                await asyncio.sleep(0.01)
            _terminate(pg_url, holder)

            # the owner stops at once (fail-stop), with its reason; the standby takes the shop
            _, err = await asyncio.wait_for(owner.communicate(), 30)
            assert owner.returncode == 2 and b"could not be written" in err, err
            await asyncio.wait_for(talker, 30)
            taken = await _listening(standby)
            assert len(_holders(pg_url, shop)) == 1 and _holders(pg_url, shop) != [holder]

            # every message the owner acknowledged is there, once; the rest are taken on resend
            b1 = await buyer(taken, "b1")
            again = {}
            for i in range(sent):
                answer = await b1.request(Say(text=f"问m{i}", client_id=f"m{i}"))
                assert isinstance(answer, SayAck)
                again[f"m{i}"] = (answer.message_id, answer.duplicate)
            for client_id, message_id in acked.items():
                assert again[client_id] == (message_id, True), client_id
            assert len({m for m, _ in again.values()}) == sent
            await b1.close()
        finally:
            for process in (owner, standby):
                if process is not None and process.returncode is None:
                    process.kill()
                    await process.wait()

    run(scenario())


def test_an_idle_owner_notices_its_lost_connection(pg_url: str, tmp_path: Path) -> None:
    """No request needed: the watched socket (or the probe) fails the store, so the server stops."""

    async def scenario() -> None:
        store = PgStore(pg_url, shop="idle", local_dir=tmp_path)
        failed: list[BaseException] = []
        store.on_failure(failed.append)
        try:
            store.watch()
            [holder] = _holders(pg_url, "idle")
            _terminate(pg_url, holder)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not failed:
                assert loop.time() < deadline, "the lost connection was never noticed"
                await asyncio.sleep(0.02)
            with pytest.raises(StoreFailed):
                store.set_meta("after", "loss")
            # and the shop is free for another process at once
            other = PgStore(pg_url, shop="idle", local_dir=tmp_path)
            other.close()
        finally:
            store.abandon()

    run(scenario())


def test_a_second_store_is_refused_while_the_first_owns_the_shop(pg_url: str, tmp_path: Path) -> None:
    from console.server.pgstore import ShopOwned

    first = PgStore(pg_url, shop="twice", local_dir=tmp_path)
    try:
        with pytest.raises(ShopOwned, match="served by another fenliu server"):
            PgStore(pg_url, shop="twice", local_dir=tmp_path)
    finally:
        first.close()
    PgStore(pg_url, shop="twice", local_dir=tmp_path).close()  # released with the first


def test_a_standby_takes_over_a_killed_owner_on_its_port_with_nothing_lost(pg_url: str, tmp_path: Path) -> None:
    """kill -9 of the owner: the standby (same --port) takes the lock, rebuilds from the database
    and serves; every acknowledged message is there once and the buyer's session goes on."""
    import signal
    import socket

    from console.protocol.messages import Open, Reply, ReplyAck
    from tests.server.test_reception import online

    shop = "takeover"
    write_policy(tmp_path)
    _seed(pg_url, shop, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])

    async def scenario() -> None:
        owner = await _spawn(pg_url, shop, tmp_path, "--port", port)
        standby: asyncio.subprocess.Process | None = None
        try:
            served = await _listening(owner)
            standby = await _spawn(pg_url, shop, tmp_path, "--port", port, "--standby")
            a1 = await online(served, "a1")
            b1 = await buyer(served, "b1")
            routed = await b1.request(Arrive(entry="product_detail"))
            assert routed.to in ("agent:a1", "a1") or getattr(routed, "name", "") == "小美", routed
            acked: dict[str, int] = {}
            for i in range(10):
                ack = await b1.request(Say(text=f"问题{i}", client_id=f"m{i}"))
                assert isinstance(ack, SayAck)
                acked[f"m{i}"] = ack.message_id
                reply = await a1.request(Reply(conversation="b1", text=f"回答{i}", client_id=f"c{i}"))
                assert isinstance(reply, ReplyAck)
                acked[f"c{i}"] = reply.message_id
            owner.send_signal(signal.SIGKILL)
            await owner.wait()

            taken = await _listening(standby)
            assert taken.url.endswith(f":{port}")  # same address: clients reconnect where they were
            a1 = await Client.agent(taken)
            await a1.login("a1")
            history = await a1.request(Open(conversation="b1", limit=500))
            assert {m.client_id: m.id for m in history.messages} == acked  # each once, none lost
            b1 = await buyer(taken, "b1")
            ack = await b1.request(Say(text="还在吗", client_id="m-after"))
            assert isinstance(ack, SayAck) and not ack.duplicate

            # the next standby, and a stop while it waits: it leaves cleanly (systemd stop, Ctrl+C)
            owner = await _spawn(pg_url, shop, tmp_path, "--port", port, "--standby")
            await _line(owner, rb"standing by")
            owner.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(owner.wait(), 30) == 0
        finally:
            for process in (owner, standby):
                if process is not None and process.returncode is None:
                    process.kill()
                    await process.wait()

    run(scenario())


def test_a_standby_serves_each_shop_it_takes_without_waiting_for_the_others(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: the owner of three shops dies; the standby serves each shop as soon as that one is
    rebuilt. One shop's store is held up opening (its thread waits): the other two are served
    meanwhile, and it is served once it opens."""
    import threading

    from console.protocol.messages import BuyerHello, Ok
    from console.server.app import Server, ServerConfig

    shops = ["inc_a", "inc_b", "inc_c"]
    policy_file = write_policy(tmp_path)
    for shop in shops:
        _seed(pg_url, shop, tmp_path)
    owner = [PgStore(pg_url, shop=shop, local_dir=tmp_path / "owner") for shop in shops]  # the owner's locks
    gate, holding, entered = threading.Event(), threading.Event(), threading.Event()
    real = Server._open_store

    def slow_open(self: Server, deployment: Any, name: str) -> Any:
        if name == "inc_c" and holding.is_set():
            entered.set()
            gate.wait(30)
        return real(self, deployment, name)

    monkeypatch.setattr(Server, "_open_store", slow_open)

    async def served(server: Server, shop: str) -> bool:
        client = await Client.buyer(server)
        try:
            return isinstance(await client.request(BuyerHello(buyer="b1", name="b1", shop=shop)), Ok)
        finally:
            await client.close()

    async def scenario() -> None:
        server = Server(ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=policy_file, store=pg_url,
                                     shops=tuple(shops), standby=True))
        starting = asyncio.ensure_future(server.start())
        try:
            await asyncio.sleep(0.3)
            assert not starting.done()  # every shop held: standing by
            owner[0].close()  # the first shop frees: taken, and the server listens
            await asyncio.wait_for(starting, 30)
            assert list(server.hosts) == ["inc_a"] and await served(server, "inc_a")
            holding.set()
            owner[2].close()  # the owner lets go of the other two: c first, held up opening,
            await wait_for(entered.is_set)
            owner[1].close()  # then b, freed while c still opens: it must not wait for c
            await wait_for(lambda: "inc_b" in server.hosts)
            assert "inc_b" in server.hosts and "inc_c" not in server.hosts
            assert await served(server, "inc_b")
            assert not await served(server, "inc_c")  # not_found while its store opens
            gate.set()
            await wait_for(lambda: "inc_c" in server.hosts)
            assert await served(server, "inc_c")
        finally:
            gate.set()
            if not starting.done():
                starting.cancel()
            await server.stop()
            for store in owner:
                store.close()

    run(scenario())
