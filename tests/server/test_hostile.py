"""A hostile network (issue 10): pre-login holders, login floods, lockout abuse, rate abusers.

A real server on port 0 and real websocket clients. Clients from a second address connect from
127.0.0.2 (Linux routes all of 127/8 to loopback). The hash counts come from a counting wrapper
around argon2's own ``PasswordHasher.verify`` (a library, not our code): the hashes really done.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from websockets.asyncio.client import connect

from console.protocol.codec import decode_for_agent
from console.protocol.messages import (
    Arrive,
    BuyerHello,
    CloseSession,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    GetKpis,
    GetTeam,
    Kpis,
    Login,
    LoginOk,
    Ok,
    Open,
    Rate,
    Reply,
    ReplyAck,
    Resume,
    Say,
    SayAck,
    SessionClosed,
)
from console.server.app import ServerError
from console.server.limits import Limits

from .helpers import PASSWORD, Client, run, running_server
from .test_reception import buyer, online

OTHER_ADDRESS = "127.0.0.2"


async def agent_from(server: Any, address: str) -> Client:
    """A console connection whose source address is ``address``."""
    conn = await connect(server.url + "/agent", max_size=None, local_addr=(address, 0))
    return Client(conn, decode_for_agent)


def _code(answer: Any) -> ErrorCode | None:
    return answer.code if isinstance(answer, Error) else None


class HashCounter:
    """Counts argon2 verifications and the most that ran at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.done = 0
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        original = PasswordHasher.verify

        def verify(hasher: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                return original(hasher, *args, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1
                    self.done += 1

        monkeypatch.setattr(PasswordHasher, "verify", verify)


# -- (2) connections that never log in ---------------------------------------------------------


def test_junk_frames_do_not_keep_a_connection_that_never_logs_in(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(hello_timeout=1.0)) as server:
            holder = await Client.agent(server)
            with pytest.raises(Exception):  # noqa: B017 - ConnectionClosed, however it is raised
                for _ in range(40):  # a frame every 0.25 s for 10 s: each used to restart the timer
                    await holder.send_raw("{}")
                    await asyncio.sleep(0.25)
            await holder.conn.wait_closed()
            assert holder.conn.close_code == 1008  # closed while the junk went on (it used to restart the timer)

    run(scenario())


def test_connections_not_logged_in_are_bounded_per_address(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(prelogin_per_address=3)) as server:
            holders = [await Client.agent(server) for _ in range(3)]
            extra = await Client.agent(server)
            await asyncio.wait_for(extra.conn.wait_closed(), 5)
            assert extra.conn.close_code == 1013
            elsewhere = await agent_from(server, OTHER_ADDRESS)  # another address is not affected
            ok, _ = await elsewhere.login("a2")
            await holders[0].login("a1")  # one logs in: its place is free again
            again = await Client.agent(server)
            ok, _ = await again.login("sup")
            assert ok.user == "sup"
            for c in (*holders, elsewhere, again):
                await c.close()

    run(scenario())


# -- (3) concurrent wrong logins ------------------------------------------------------------------


def test_concurrent_wrong_logins_are_counted_before_they_are_hashed(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = HashCounter(monkeypatch)

    async def scenario() -> None:
        limits = Limits(login_failures=5, hashes_per_address=50, hash_queue=100)  # only the count bounds it
        async with running_server(tmp_path, limits=limits) as server:
            attackers = [await Client.agent(server) for _ in range(30)]
            before = hashes.done
            answers = await asyncio.gather(*(c.request(Login(user="a1", password=f"guess{i}"))
                                             for i, c in enumerate(attackers)))
            codes = [_code(a) for a in answers]
            assert codes.count(ErrorCode.UNAUTHENTICATED) == 5, codes
            assert codes.count(ErrorCode.RATE_LIMITED) == 25, codes
            assert hashes.done - before == 5
            owner = await agent_from(server, OTHER_ADDRESS)  # the owner elsewhere is not locked out
            ok, _ = await owner.login("a1")
            assert ok.user == "a1"

    run(scenario())


def test_hashes_per_address_and_overall_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = HashCounter(monkeypatch)

    async def scenario() -> None:
        limits = Limits(hash_workers=2, hash_queue=2, hashes_per_address=2)
        async with running_server(tmp_path, limits=limits) as server:
            flood = [await Client.agent(server) for _ in range(30)]
            before = hashes.done
            answers = await asyncio.gather(*(c.request(Login(user=f"name{i}", password="x"))
                                             for i, c in enumerate(flood)))
            codes = [_code(a) for a in answers]
            assert codes.count(ErrorCode.RATE_LIMITED) >= 28, codes  # refused at once, not queued
            assert hashes.done - before <= 2
            assert hashes.most <= 2
            # a login from another address gets a worker
            owner = await agent_from(server, OTHER_ADDRESS)
            ok, _ = await owner.login("a1")
            assert ok.user == "a1"

    run(scenario())


# -- (4) a few failures must not lock out the honest users of an address ----------------------------


def test_made_up_names_lock_nobody_out(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(login_failures=3, login_lockout=600.0)) as server:
            c = await Client.agent(server)
            for i in range(6):
                assert _code(await c.request(Login(user=f"ghost{i}", password="guess"))) is ErrorCode.UNAUTHENTICATED
            honest = await Client.agent(server)  # same address, an office behind one NAT
            ok, _ = await honest.login("a1")
            assert ok.user == "a1"

    run(scenario())


def test_bogus_tokens_do_not_lock_out_a_valid_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(login_failures=3, login_lockout=600.0)) as server:
            first = await Client.agent(server)
            ok, _ = await first.login("a1")
            await first.close()
            guesser = await Client.agent(server)
            codes = [_code(await guesser.request(Resume(token=f"bogus-{i}" * 4))) for i in range(6)]
            assert codes[:3] == [ErrorCode.UNAUTHENTICATED] * 3 and codes[-1] is ErrorCode.RATE_LIMITED, codes
            back = await Client.agent(server)
            again = await back.request(Resume(token=ok.token, last_seq=ok.seq))
            assert isinstance(again, LoginOk), again

    run(scenario())


def test_a_locked_account_stays_open_to_its_owner_elsewhere_and_to_its_token(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(login_failures=3, login_lockout=600.0)) as server:
            console = await Client.agent(server)
            ok, _ = await console.login("a1")
            guesser = await Client.agent(server)
            for _ in range(4):
                await guesser.request(Login(user="a1", password="guess"))
            locked = await guesser.request(Login(user="a1", password=PASSWORD))
            assert _code(locked) is ErrorCode.RATE_LIMITED  # this address guessed: refused, even right
            elsewhere = await agent_from(server, OTHER_ADDRESS)
            assert isinstance(await elsewhere.request(Login(user="a1", password=PASSWORD)), LoginOk)
            resumed = await Client.agent(server)  # same address, with a token
            assert isinstance(await resumed.request(Resume(token=ok.token)), LoginOk)
            colleague = await Client.agent(server)  # a colleague at the guesser's address
            assert isinstance(await colleague.request(Login(user="a2", password=PASSWORD)), LoginOk)

    run(scenario())


def test_a_spread_out_guesser_gets_one_try_per_address_once_the_account_is_under_attack(tmp_path: Path) -> None:
    async def scenario() -> None:
        limits = Limits(login_failures=5, login_account_failures=4, login_lockout=600.0)
        async with running_server(tmp_path, limits=limits) as server:
            addresses = [f"127.0.0.{i}" for i in range(10, 14)]
            for address in addresses:  # one failure from each of four addresses
                c = await agent_from(server, address)
                assert _code(await c.request(Login(user="a1", password="guess"))) is ErrorCode.UNAUTHENTICATED
            again = await agent_from(server, addresses[0])
            assert _code(await again.request(Login(user="a1", password="guess"))) is ErrorCode.RATE_LIMITED
            owner = await agent_from(server, OTHER_ADDRESS)  # an address that has not failed
            assert isinstance(await owner.request(Login(user="a1", password=PASSWORD)), LoginOk)

    run(scenario())


# -- (9) a peer that keeps exceeding its rate ---------------------------------------------------------


def test_a_peer_that_keeps_exceeding_its_rate_is_disconnected(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, limits=Limits(agent_rate=1.0, agent_burst=3.0, rate_strikes=5)) as server:
            c = await Client.agent(server)
            await c.login("a1")
            with pytest.raises(Exception):  # noqa: B017 - the server closes while we send
                for _ in range(200):
                    await c.send_raw('{"type": "get_kpis"}')
                    await asyncio.sleep(0)
                await asyncio.wait_for(c.conn.wait_closed(), 5)
                await c.request(GetKpis(), timeout=5)
            await c.conn.wait_closed()
            assert c.conn.close_code == 1008
            received = list(c.inbox)
            with pytest.raises(Exception):  # noqa: B017 - what was sent before the close, then ConnectionClosed
                while True:
                    received.append(c.decode(await c.conn.recv()))
            refused = [m for m in received if _code(m) is ErrorCode.RATE_LIMITED]
            assert 1 <= len(refused) <= 6  # a handful of error frames, not one per frame forever
            fresh = await Client.agent(server)  # the server is fine
            await fresh.login("a1")
            assert isinstance(await fresh.request(GetKpis()), Kpis)

    run(scenario())


# -- (8) identifiers at the edge, and the gateway key ---------------------------------------------------


def test_lookalike_ids_are_refused_and_names_shown_without_hidden_characters(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            for lookalike in ("b1\u202e", "b\u200b1", "b1\x00", "\ufeffb1"):
                b = await Client.buyer(server)
                refused = await b.request(BuyerHello(buyer=lookalike))
                assert _code(refused) is ErrorCode.INVALID and refused.field == "buyer", refused
                await b.close()
            b = await buyer(server, "b1", "小\u202e王\u200b\u2066")
            await b.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
            await b.request(Say(text="在吗", client_id="m1"))
            row = (await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "b1")).conversation
            assert row.name == "小王"

    run(scenario())


def test_an_empty_gateway_key_is_an_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        with pytest.raises(ServerError, match="empty"):
            async with running_server(tmp_path, gateway_key=""):
                pass

    run(scenario())


def test_listening_beyond_loopback_needs_a_gateway_key_or_saying_so(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        with pytest.raises(ServerError, match="needs a gateway key"):
            async with running_server(tmp_path, host="0.0.0.0"):
                pass
        with caplog.at_level(logging.WARNING, logger="fenliu.server"):
            async with running_server(tmp_path, host="0.0.0.0", no_gateway_key=True) as server:
                assert server.port
        assert any("without a gateway key" in r.getMessage() for r in caplog.records)
        async with running_server(tmp_path, host="0.0.0.0", gateway_key="gw-secret") as server:
            assert server.port

    run(scenario())


def test_fenliu_server_refuses_an_empty_gateway_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main as fenliu

    monkeypatch.setenv("FENLIU_GATEWAY_KEY", "")
    assert fenliu(["server", "--port", "0", "--data", str(tmp_path / "data")]) == 2
    assert "empty" in capsys.readouterr().err


# -- (6) one rating per session ----------------------------------------------------------------------


class _ShiftedClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_one_rating_per_session_counts(tmp_path: Path) -> None:
    clock = _ShiftedClock()

    async def scenario() -> None:
        async with running_server(tmp_path, clock=clock) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            assert isinstance(await b1.request(Rate(score=1)), Ok)
            for _ in range(49):  # the same session rated again and again: the last one counts
                assert isinstance(await b1.request(Rate(score=5)), Ok)
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            await b1.expect(SessionClosed)
            await b1.request(Say(text="还有个问题", client_id="m2"))  # a new session, with a1 again
            await a1.expect(ConversationUpdated, lambda e: e.conversation.open and e.conversation.id == "b1")
            assert isinstance(await b1.request(Rate(score=2)), Ok)
        clock.offset = 86400.0  # the next day: yesterday's satisfaction counts those ratings
        async with running_server(tmp_path, clock=clock, seed=False) as server:
            sup = await Client.agent(server)
            await sup.login("sup")
            team = await sup.request(GetTeam())
            tiles = next(r for r in team.team.agents if r.id == "a1").kpis
            assert tiles.satisfaction_yesterday == 0.5  # one 5, one 2: two sessions, two ratings

    run(scenario())


# -- (5) client_id is unique per author ----------------------------------------------------------------


def test_a_buyer_message_is_never_taken_for_an_agents_reply_or_the_reverse(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await b1.request(Say(text="在吗", client_id="m1"))
            await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "b1")
            reply = await a1.request(Reply(conversation="b1", text="在的", client_id="same"))
            assert isinstance(reply, ReplyAck)
            said = await b1.request(Say(text="我的手机号 13800000000", client_id="same"))  # the agent's client_id
            assert isinstance(said, SayAck) and not said.duplicate and said.message_id != reply.message_id
            said_first = await b1.request(Say(text="还有", client_id="k"))
            answered = await a1.request(Reply(conversation="b1", text="好的", client_id="k"))  # the buyer's
            assert isinstance(answered, ReplyAck) and not answered.duplicate
            # each author's resend is still recognised
            again = await b1.request(Say(text="我的手机号 13800000000", client_id="same"))
            assert again.duplicate and again.message_id == said.message_id
            resent = await a1.request(Reply(conversation="b1", text="好的", client_id="k"))
            assert resent.duplicate and resent.message_id == answered.message_id
            history = await a1.request(Open(conversation="b1"))
            assert [(m.author.value, m.client_id) for m in history.messages] == [
                ("buyer", "m1"), ("agent", "same"), ("buyer", "same"), ("buyer", "k"), ("agent", "k")]
            assert said_first.message_id in {m.id for m in history.messages}

    run(scenario())
