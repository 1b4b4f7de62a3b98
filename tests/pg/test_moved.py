"""The owner's address (issue 15, CONSOLE.md §8): a console or gateway may connect to any server
process of a deployment; one that does not own the shop answers ``moved`` with the owner's
address (recorded in PostgreSQL beside the shop's advisory lock) and the client follows it, and
after a takeover the same client, sent again by the process it first reached, finds the new owner
and resumes by sequence number. The servers are the real command in child processes."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from console.client import AgentClient, BuyerClient
from console.client.agent import ConnectionState
from console.protocol.messages import BuyerHello, Entry, Moved
from console.server.pgstore import owner_of
from tests.pg.test_ownership import _listening, _seed, _spawn
from tests.server.helpers import PASSWORD, Client, run, write_policy


def test_a_console_and_a_gateway_reaching_another_process_are_sent_to_the_owner(pg_url: str, tmp_path: Path) -> None:
    write_policy(tmp_path)
    for shop in ("north", "south"):
        _seed(pg_url, shop, tmp_path)

    async def scenario() -> None:
        processes = []
        try:
            processes.append(owner := await _spawn(pg_url, "north", tmp_path))
            processes.append(other := await _spawn(pg_url, "south", tmp_path))
            north, south = await _listening(owner), await _listening(other)
            assert owner_of(pg_url, "north") == north.url and owner_of(pg_url, "south") == south.url

            # the protocol: the process that does not own the shop answers moved, with the owner's address
            raw = await Client.buyer(south)  # type: ignore[arg-type]
            answer = await raw.request(BuyerHello(buyer="b0", shop="north"))
            assert answer == Moved(rid=answer.rid, shop="north", url=north.url)
            await raw.close()

            # a gateway that knows only the other process ends up writing to the owner
            buyer = BuyerClient(south.url, "b1", "小王", shop="north")
            await buyer.connect()
            assert buyer.moves.current == north.url + "/buyer"
            routed = await buyer.arrive(Entry.PRODUCT_DETAIL)
            assert routed.to in ("agent", "queue", "pool")

            # a console likewise: it logs in there, and sees the buyer the gateway brought
            console = AgentClient(south.url, "a1", PASSWORD, state_dir=tmp_path / "state", shop="north")
            await asyncio.wait_for(console.start(), 30)
            assert console.moves.current == north.url + "/agent"
            assert console.account is not None and console.account.shop == "north"

            # the owner dies; a standby takes the shop; both clients come back through the
            # process they know and resume at the new owner, by sequence number
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while console.view.seq is None or "b1" not in console.view.conversations:  # the snapshot, the buyer
                assert loop.time() < deadline
                await asyncio.sleep(0.05)
            owner.send_signal(signal.SIGKILL)
            await owner.wait()
            processes.append(standby := await _spawn(pg_url, "north", tmp_path, "--standby"))
            taken = await _listening(standby)
            deadline = loop.time() + 60
            while not (console.is_online and console.moves.current == taken.url + "/agent"):
                assert loop.time() < deadline, console.state
                assert console.state.state is not ConnectionState.OFFLINE, console.state
                await asyncio.sleep(0.1)
            assert console.account is not None and console.account.resumed  # by sequence number, no snapshot
            await buyer.close()
            await buyer.connect()
            assert buyer.moves.current == taken.url + "/buyer"
            await buyer.say("还在吗")
            await buyer.close()
            await console.close()
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    run(scenario())


def _database(pg_url: str, name: str) -> str:
    """A database of its own in the throwaway cluster: a server without --shop takes every shop of
    its database, and the other tests' shops are not for it."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url.replace("/fenliu?", f"/{name}?", 1)


def test_a_shop_added_to_the_database_is_taken_by_a_running_server(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.server import app

    monkeypatch.setattr(app, "SHOPS_POLL", 0.05)  # seconds, not the 2 s of a real server
    monkeypatch.setattr(app, "RETRY_REFUSED", 0.1)
    assert "/fenliu?" in pg_url
    url = _database(pg_url, "moved_pickup")
    write_policy(tmp_path)
    _seed(url, "first", tmp_path)

    async def scenario() -> None:
        server = app.Server(app.ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml",
                                             store=url))
        await server.start()
        try:
            assert list(server.hosts) == ["first"] and owner_of(url, "first") == server.address
            assert owner_of(url, "later") is None
            await asyncio.to_thread(_seed, url, "later", tmp_path)  # its schema and accounts, as `fenliu accounts add` makes them
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while "later" not in server.hosts:
                assert loop.time() < deadline, "the new shop was never taken"
                await asyncio.sleep(0.05)
            # and recorded as its owner right after (off the loop): other processes send its clients here
            while await asyncio.to_thread(owner_of, url, "later") != server.address:
                assert loop.time() < deadline, "the new shop's owner was never recorded"
                await asyncio.sleep(0.05)
            buyer = BuyerClient(server.url, "b1", shop="later")
            await buyer.connect()
            assert (await buyer.arrive(Entry.PRODUCT_DETAIL)).to in ("agent", "bot", "pool", "queue")
            await buyer.close()
        finally:
            await server.stop()
        assert owner_of(url, "first") is None  # the lock went with the server: its row says nothing now

    run(scenario())


def test_the_advertised_address_is_the_one_given_and_an_unowned_shop_is_not_found(
        pg_url: str, tmp_path: Path) -> None:
    from console.protocol.messages import Error, ErrorCode, Login
    from console.server import app

    url = _database(pg_url, "moved_advertise")
    write_policy(tmp_path)
    for shop in ("east", "west", "ghost"):
        _seed(url, shop, tmp_path)

    def config(shop: str, **extra: object) -> app.ServerConfig:
        return app.ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml", store=url,
                                shops=(shop,), **extra)  # type: ignore[arg-type]

    async def scenario() -> None:
        east = app.Server(config("east", advertise="wss://east.example:8765"))
        west = app.Server(config("west"))
        await east.start()
        await west.start()
        try:
            assert owner_of(url, "east") == "wss://east.example:8765"
            console = await Client.agent(west)
            answer = await console.request(Login(user="a1", password=PASSWORD, shop="east"))
            assert answer == Moved(rid=answer.rid, shop="east", url="wss://east.example:8765")
            answer = await console.request(Login(user="a1", password=PASSWORD, shop="ghost"))  # in the database, no owner
            assert isinstance(answer, Error) and answer.code is ErrorCode.NOT_FOUND and answer.field == "shop"
            assert "try again" in answer.message
            answer = await console.request(Login(user="a1", password=PASSWORD, shop="Not A Shop"))
            assert isinstance(answer, Error) and answer.code is ErrorCode.NOT_FOUND
            await console.close()
        finally:
            await west.stop()
            await east.stop()

    run(scenario())


def test_an_advertised_address_is_checked() -> None:
    from console.server.app import ServerError, check_advertise

    assert check_advertise("wss://fenliu-1.example:8765", tls=True) == "wss://fenliu-1.example:8765"
    with pytest.raises(ServerError, match="advertise a wss:// address"):
        check_advertise("ws://fenliu-1.example:8765", tls=True)
    for bad in ("http://x:1", "ws://has space:1", "fenliu-1:8765", "ws://" + "x" * 600):
        with pytest.raises(ServerError, match="ws://host:port or wss://host:port"):
            check_advertise(bad, tls=False)


def test_the_simulator_follows_moved_on_this_machine_only(pg_url: str, tmp_path: Path) -> None:
    from console.client.moves import MoveRefused, Moves
    from console.server import app
    from console.sim.traffic import TrafficConfig, require_loopback, run_traffic

    url = _database(pg_url, "moved_sim")
    write_policy(tmp_path)
    for shop in ("east", "west"):
        _seed(url, shop, tmp_path)

    async def scenario() -> None:
        servers = [app.Server(app.ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml",
                                               store=url, shops=(shop,))) for shop in ("east", "west")]
        for server in servers:
            await server.start()
        try:
            east, west = servers
            report = await run_traffic(TrafficConfig(server=west.url, shop="east", rate=600, duration=1.0,
                                                     max_visits=5, grace=5.0))
            assert report.visits == 5 and report.arrivals == 5, report  # every visit said hello at east
            conversations = east.host.store.all("SELECT COUNT(*) AS n FROM conversations")
            assert conversations[0]["n"] >= 1  # (a returning buyer comes back to their conversation)
            assert west.host.store.all("SELECT COUNT(*) AS n FROM conversations")[0]["n"] == 0
        finally:
            for server in servers:
                await server.stop()
        with pytest.raises(MoveRefused, match="loopback|this machine"):
            Moves("ws://127.0.0.1:1/buyer", "/buyer", require_loopback).follow(Moved(shop="east", url="ws://10.1.2.3:8765"))

    run(scenario())
