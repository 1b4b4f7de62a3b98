"""Bad input on both endpoints: a typed error for each frame, and the server goes on (CONSOLE.md §5).

The Hypothesis tests talk to one real server running in a background thread (its own event loop)
through the websockets sync client, so each generated example is one frame on a live connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from console.protocol.codec import (
    MAX_MESSAGE_BYTES,
    ProtocolError,
    decode_agent,
    decode_buyer,
    decode_for_agent,
    decode_for_buyer,
)
from console.protocol.messages import (
    BuyerHello,
    Error,
    ErrorCode,
    GetKpis,
    Kpis,
    Ok,
    Questions,
)
from console.server.app import Server
from console.server.limits import Limits

from .helpers import NO_RATE_LIMITS, Client, run, running_server

AGENT_TYPES = ["login", "resume", "logout", "set_status", "open", "reply", "close", "clear", "claim", "get_kpis",
               "get_snapshot", "filter_buyers", "why", "transfer", "get_team", "apply_policy", "bogus"]
BUYER_TYPES = ["hello", "arrive", "say", "rate", "order", "get_questions", "bogus"]

# Lists of 1-5 junk frames per endpoint and store: 120 in the suite (the protocol fuzzer in
# tests/reliability sends some 2,400 frames per connection kind besides); a longer run sets
# FUZZ_EXAMPLES, as for that fuzzer (FUZZ_EXAMPLES=600: 1,200 lists here).
EXAMPLES = 2 * int(os.environ.get("FUZZ_EXAMPLES", "60"))


def test_malformed_oversized_and_unknown_are_answered(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            c = await Client.agent(server)
            await c.login("a1")
            cases = [
                ("{not json", ErrorCode.MALFORMED),
                (b"\xff\xfe\x00garbage", ErrorCode.MALFORMED),
                ("[1, 2, 3]", ErrorCode.INVALID),
                ('{"type": "launch_rockets", "rid": "r1"}', ErrorCode.UNKNOWN_TYPE),
                ('{"type": "reply", "rid": "r2", "conversation": "b1", "client_id": "c"}', ErrorCode.INVALID),
                ('{"type": "reply", "conversation": "b1", "text": "", "client_id": "c"}', ErrorCode.INVALID),
                ('{"type": "set_status", "status": "dancing"}', ErrorCode.INVALID),
                ('{"type": "get_kpis", "surprise": 1}', ErrorCode.INVALID),
                ("x" * (MAX_MESSAGE_BYTES + 1), ErrorCode.OVERSIZED),
            ]
            for frame, code in cases:
                await c.send_raw(frame)
                answer = await c.expect(Error)
                assert answer.code is code, (frame[:40], answer)
            # a text frame that is not UTF-8: malformed too (PROTOCOL.md), not a closed connection
            await c.conn.send(b'{"type": "get_kpis", "rid": "\xff"}', text=True)
            assert (await c.expect(Error)).code is ErrorCode.MALFORMED
            named = await c.request(GetKpis())  # the connection still works
            assert isinstance(named, Kpis)

            b = await Client.buyer(server)
            await b.send_raw('{"type": "say", "text": "hi", "client_id": "x"}')
            first = await b.expect(Error)
            assert first.code is ErrorCode.UNAUTHENTICATED  # hello first
            assert isinstance(await b.request(BuyerHello(buyer="b1")), Ok)
            await b.send_raw('{"type": "rate", "score": 9}')
            bad = await b.expect(Error)
            assert bad.code is ErrorCode.INVALID and bad.field == "score"

    run(scenario())


def test_rate_limit_answers_and_keeps_the_connection(tmp_path: Path) -> None:
    async def scenario() -> None:
        limits = Limits(agent_rate=1.0, agent_burst=3.0)
        async with running_server(tmp_path, limits=limits) as server:
            c = await Client.agent(server)
            for _ in range(10):
                await c.send_raw("{}")
            answers = [await c.expect(Error) for _ in range(10)]
            assert any(a.code is ErrorCode.RATE_LIMITED for a in answers)
            assert any(a.code is not ErrorCode.RATE_LIMITED for a in answers)

    run(scenario())


def test_unknown_path_is_refused_at_the_handshake(tmp_path: Path) -> None:
    async def scenario() -> None:
        from websockets.asyncio.client import connect as aconnect
        from websockets.exceptions import InvalidStatus

        async with running_server(tmp_path) as server:
            with pytest.raises(InvalidStatus) as caught:
                await aconnect(server.url + "/admin")
            assert caught.value.response.status_code == 404
            c = await Client.agent(server)  # the server is fine
            await c.login("a1")

    run(scenario())


# -- Hypothesis: junk frames against a live server --------------------------------------------------


class _Background:
    """A real server on its own loop in a thread, for sync tests."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ready = threading.Event()
        self.server: Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        limits = dataclasses.replace(NO_RATE_LIMITS, login_failures=10**9)
        async with running_server(self.folder, limits=limits) as server:
            self.server = server
            self.ready.set()
            await self._stop.wait()

    def start(self) -> Server:
        self.thread.start()
        assert self.ready.wait(30)
        assert self.server is not None
        return self.server

    def stop(self) -> None:
        assert self.loop is not None and self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    background = _Background(tmp_path_factory.mktemp("fuzz"))
    server = background.start()
    yield server
    background.stop()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def junk_frames(types: list[str]) -> st.SearchStrategy[str | bytes]:
    shaped = st.builds(
        lambda kind, fields: json.dumps({"type": kind, **fields}, ensure_ascii=False),
        st.sampled_from(types),
        st.dictionaries(st.sampled_from(["rid", "user", "password", "text", "client_id", "conversation", "status",
                                         "buyer", "entry", "score", "order", "state", "crowd", "limit", "x"]),
                        json_values, max_size=5),
    )
    return st.one_of(st.binary(max_size=200), st.text(max_size=200), json_values.map(json.dumps), shaped)


def _connect(server: Server, path: str) -> ClientConnection:
    return connect(server.url + path, max_size=None, open_timeout=10)


def _answers_for(conn: ClientConnection, decode, probe_rid: str) -> list[object]:  # type: ignore[no-untyped-def]
    """Everything received up to the answer to the probe request."""
    seen = []
    while True:
        message = decode(conn.recv(timeout=10))
        if getattr(message, "rid", None) == probe_rid:
            return seen
        seen.append(message)


def _check(frame: str | bytes, answers: list[object], decode_request) -> None:  # type: ignore[no-untyped-def]
    try:
        decode_request(frame)
    except ProtocolError as exc:
        errors = [a for a in answers if isinstance(a, Error)]
        assert errors, (frame, answers)
        assert errors[0].code is exc.code, (frame, errors[0])
        assert "Traceback" not in errors[0].message
    # a valid request does whatever it does; the probe's answer shows the connection goes on


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(junk_frames(AGENT_TYPES), min_size=1, max_size=5))
def test_agent_endpoint_survives_junk(live_server: Server, frames: list[str | bytes]) -> None:
    with _connect(live_server, "/agent") as conn:
        try:
            for i, frame in enumerate(frames):
                conn.send(frame)
                conn.send(json.dumps({"type": "get_kpis", "rid": f"probe{i}"}))  # before login: an error, that rid
                answers = _answers_for(conn, decode_for_agent, f"probe{i}")
                _check(frame, answers, decode_agent)
        except ConnectionClosed:
            pytest.fail("the server closed the connection")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(junk_frames(BUYER_TYPES), min_size=1, max_size=5))
def test_buyer_endpoint_survives_junk(live_server: Server, frames: list[str | bytes]) -> None:
    with _connect(live_server, "/buyer") as conn:
        try:
            conn.send(json.dumps({"type": "hello", "buyer": "fuzzer"}))
            assert isinstance(decode_for_buyer(conn.recv(timeout=10)), Ok)
            for i, frame in enumerate(frames):
                conn.send(frame)
                conn.send(json.dumps({"type": "get_questions", "rid": f"probe{i}"}))
                answers = _answers_for(conn, decode_for_buyer, f"probe{i}")
                _check(frame, answers, decode_buyer)
        except ConnectionClosed:
            pytest.fail("the server closed the connection")
    with _connect(live_server, "/buyer") as probe:  # and the server still takes new connections
        probe.send(json.dumps({"type": "hello", "buyer": "after"}))
        assert isinstance(decode_for_buyer(probe.recv(timeout=10)), Ok)
        probe.send(json.dumps({"type": "get_questions", "entry": "live", "rid": "q"}))
        answer = decode_for_buyer(probe.recv(timeout=10))
        assert isinstance(answer, Questions) and answer.questions == ["几天发货", "有优惠券吗"]


def test_say_and_rate_without_a_session_are_conflicts(tmp_path: Path) -> None:
    from console.protocol.messages import BuyerHello, Error, ErrorCode, Rate, Say

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            buyer = await Client.buyer(server)
            await buyer.request(BuyerHello(buyer="never-arrived", name="路人"))
            said = await buyer.request(Say(text="在吗", client_id="c1"))
            assert isinstance(said, Error) and said.code is ErrorCode.CONFLICT and "arrive" in said.message
            rated = await buyer.request(Rate(score=5))
            assert isinstance(rated, Error) and rated.code is ErrorCode.CONFLICT
            await buyer.close()

    run(scenario())
