"""Following ``moved`` safely (issue 15, console/client/moves.py): the network is hostile, so a
``moved`` from wss to ws is refused (the password would go in clear), as are loops and long
chains. End to end against fake servers that answer every first message with ``moved``."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from console.client import AgentClient, BuyerClient, ConnectionState
from console.client.moves import MAX_MOVES, MoveRefused, Moves
from console.protocol.codec import decode_agent, decode_buyer, encode
from console.protocol.messages import Moved
from tests.reliability.test_access import certificate  # noqa: F401 - the module's TLS certificate fixture
from tests.server.helpers import run


def _moved(url: str) -> Moved:
    return Moved(shop="north", url=url)


def test_a_move_is_followed_to_the_owners_endpoint() -> None:
    moves = Moves("ws://a:1/agent", "/agent")
    assert moves.follow(_moved("ws://b:2")) == "ws://b:2/agent"
    assert moves.follow(_moved("wss://c:3/")) == "wss://c:3/agent"  # ws to wss: fine
    assert moves.moved
    moves.reset()
    assert moves.current == "ws://a:1/agent" and not moves.moved


def test_a_downgrade_a_loop_and_too_many_moves_are_refused() -> None:
    with pytest.raises(MoveRefused, match="not encrypted"):
        Moves("wss://a:1/buyer", "/buyer").follow(_moved("ws://b:2"))
    moves = Moves("wss://a:1/agent", "/agent")
    moves.follow(_moved("wss://b:2"))
    with pytest.raises(MoveRefused, match="not encrypted"):  # wss anywhere before: ws is still a downgrade
        moves.follow(_moved("ws://c:3"))
    with pytest.raises(MoveRefused, match="loop"):
        Moves("ws://a:1/agent", "/agent").follow(_moved("ws://a:1/agent"))
    moves = Moves("ws://h:0/agent", "/agent")
    for hop in range(1, MAX_MOVES + 1):
        moves.follow(_moved(f"ws://h:{hop}"))
    with pytest.raises(MoveRefused, match="more than"):
        moves.follow(_moved("ws://h:99"))


@asynccontextmanager
async def _mover(answer: str, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[str, list[str]]]:
    """A fake server answering every first message with ``moved`` to ``answer`` ("" : itself);
    yields its URL and the messages it received."""
    received: list[str] = []
    where: list[str] = []

    async def handler(conn: ServerConnection) -> None:
        async for raw in conn:
            text = raw if isinstance(raw, str) else raw.decode()
            received.append(text)
            path = conn.request.path if conn.request is not None else ""
            request = decode_agent(text) if path == "/agent" else decode_buyer(text)
            await conn.send(encode(Moved(rid=request.rid, shop="north", url=answer or where[0])).decode())

    async with serve(handler, "127.0.0.1", 0, ssl=tls) as server:
        port = server.sockets[0].getsockname()[1]
        where.append(f"{'wss' if tls else 'ws'}://{'localhost' if tls else '127.0.0.1'}:{port}")
        yield where[0], received


def test_clients_refuse_a_move_from_wss_to_ws(tmp_path: Path, certificate: tuple[Path, Path]) -> None:  # noqa: F811
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def scenario() -> None:
        async with _mover("") as (clear, heard_in_clear):
            async with _mover(clear, server_side) as (secure, heard):
                console = AgentClient(secure, "a1", "hunter2-pw", state_dir=tmp_path / "state", ssl=trusting,
                                      shop="north")
                with pytest.raises(MoveRefused, match="not encrypted"):
                    await asyncio.wait_for(console.start(), 10)
                assert console.state.state is ConnectionState.OFFLINE
                assert console.state.error is not None and "wss to ws" in console.state.error
                await console.close()
                buyer = BuyerClient(secure, "b1", ssl=trusting, shop="north")
                with pytest.raises(MoveRefused, match="not encrypted"):
                    await asyncio.wait_for(buyer.connect(), 10)
                assert len(heard) == 2  # the login and the hello reached the wss server only
                assert heard_in_clear == []  # nothing, least of all the password, went in clear

    run(scenario())


def test_clients_refuse_a_loop(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _mover("") as (itself, heard):
            console = AgentClient(itself, "a1", "pw-123456", state_dir=tmp_path / "state", shop="north")
            with pytest.raises(MoveRefused, match="loop"):
                await asyncio.wait_for(console.start(), 10)
            assert console.state.state is ConnectionState.OFFLINE
            await console.close()
            with pytest.raises(MoveRefused, match="loop"):
                await asyncio.wait_for(BuyerClient(itself, "b1", shop="north").connect(), 10)
            assert len(heard) == 2

    run(scenario())
