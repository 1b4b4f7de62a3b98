"""Who may do what (CONSOLE.md §5, issue 6): agents, buyers, logins, tokens, the listening address, TLS.

A real server on port 0 (``tests/server/helpers.py``) and real clients; the buyer side is what a
shop platform's IM gateway would say. Nothing of our own is mocked; the token-expiry test gives
the server a shifted clock (the server has no clock setting: see docs/RELIABILITY.md, "Clock").
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from server.helpers import PASSWORD, Client, run, running_server, store_args
from server.test_reception import buyer, online

from console.cli import main as fenliu
from console.client import AgentClient, BuyerClient, ClientError
from console.protocol.messages import (
    ApplyPolicy,
    Arrive,
    BuyerHello,
    Claim,
    CloseSession,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    FilterBuyers,
    GetKpis,
    GetTeam,
    History,
    Kpis,
    Login,
    LoginOk,
    Ok,
    Open,
    OrderState,
    OrderUpdate,
    Reply,
    ReplyAck,
    Resume,
    Say,
    Transfer,
    Why,
)
from console.protocol.messages import BuyerTile as Tile
from console.reception.model import Kind, Section
from console.server.accounts import TOKEN_TTL
from console.server.app import ServerConfig
from console.server.limits import Limits


def _code(answer: Any) -> ErrorCode | None:
    return answer.code if isinstance(answer, Error) else None


# -- agents ------------------------------------------------------------------------------------------


def test_an_agent_cannot_read_reply_close_or_transfer_a_colleagues_conversation(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1, a2 = await online(server, "a1"), await online(server, "a2")
            b1 = await buyer(server, "b1", "王小姐")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
            await b1.request(Say(text="在吗", client_id="m1"))
            owner, other = (a1, a2) if routed.name == "小美" else (a2, a1)
            assert _code(await other.request(Open(conversation="b1"))) is ErrorCode.FORBIDDEN
            assert _code(await other.request(Why(conversation="b1"))) is ErrorCode.FORBIDDEN
            assert _code(await other.request(Reply(conversation="b1", text="我来", client_id="x1"))) \
                is ErrorCode.FORBIDDEN
            assert _code(await other.request(CloseSession(conversation="b1"))) is ErrorCode.FORBIDDEN
            assert _code(await other.request(Claim(conversation="b1"))) in (ErrorCode.FORBIDDEN, ErrorCode.CONFLICT)
            assert _code(await other.request(Transfer(conversation="b1", agent="a1"))) is ErrorCode.FORBIDDEN
            assert _code(await other.request(Open(conversation="nobody"))) is ErrorCode.NOT_FOUND
            # nothing of that reached the buyer or the history; the owner still holds the session
            history = await owner.request(Open(conversation="b1"))
            assert isinstance(history, History) and history.conversation.open
            assert [m.client_id for m in history.messages] == ["m1"]
            assert history.conversation.holder == f"agent:{'a1' if owner is a1 else 'a2'}"
            # a reply under the colleague's client_id cannot be read back either
            ack = await owner.request(Reply(conversation="b1", text="在的", client_id="shared"))
            assert isinstance(ack, ReplyAck)
            assert _code(await other.request(Reply(conversation="b1", text="?", client_id="shared"))) \
                is ErrorCode.FORBIDDEN

    run(scenario())


def test_an_agent_sees_no_team_figures_and_sets_only_its_own_status(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1, a2 = await online(server, "a1"), await online(server, "a2")
            for i in range(4):
                b = await buyer(server, f"b{i}")
                await b.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
                await b.request(OrderUpdate(order=f"o{i}", state=OrderState.UNPAID))
            assert _code(await a1.request(GetTeam())) is ErrorCode.FORBIDDEN
            assert _code(await a1.request(ApplyPolicy(toml='[[agents]]\nid = "a1"\n'))) is ErrorCode.FORBIDDEN
            await a1.send_raw('{"type": "set_status", "rid": "s", "status": "offline", "agent": "a2"}')
            refused = await a1.expect(Error, lambda e: e.rid == "s")
            assert refused.code is ErrorCode.INVALID and refused.field == "agent"
            sup = await Client.agent(server)
            await sup.login("sup")
            team = (await sup.request(GetTeam())).team
            assert {row.id: row.status.value for row in team.agents}["a2"] == "online"  # unchanged
            mine = await a1.request(GetKpis())
            assert isinstance(mine, Kpis)
            by_agent = {row.id: row.kpis for row in team.agents}
            assert mine.kpis == by_agent["a1"]  # its own tiles, not the team's
            assert team.kpis.received_today == 4 and mine.kpis.received_today != 4
            own = (await a1.request(FilterBuyers(tile=Tile.NOT_PAID))).buyers
            theirs = (await a2.request(FilterBuyers(tile=Tile.NOT_PAID))).buyers
            assert own and theirs and not set(own) & set(theirs)

    run(scenario())


# -- the buyer side ----------------------------------------------------------------------------------


IMPOSTOR_NAMES = ["平台小二", "淘宝小二", "平台客服", "【平台】官方", "小二", "平台", "官方小二 ✔", "抖音平台小二001"]


def test_a_buyer_cannot_claim_staff_status_whatever_its_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert fenliu(["accounts", "buyer", "plat-1", "--kind", "staff", "--name", "官方小二", "--data", str(data), *store_args(data)]) == 0

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await online(server, "a1")
            b = await Client.buyer(server)
            await b.send_raw('{"type": "hello", "rid": "h", "buyer": "x1", "name": "平台小二", "kind": "staff"}')
            assert (await b.expect(Error, lambda e: e.rid == "h")).field == "kind"
            await b.send_raw('{"type": "hello", "rid": "h2", "buyer": "x1", "role": "staff"}')
            assert (await b.expect(Error, lambda e: e.rid == "h2")).code is ErrorCode.INVALID
            assert isinstance(await b.request(BuyerHello(buyer="x1", name="平台小二")), Ok)
            await b.send_raw('{"type": "arrive", "rid": "a", "entry": "product_detail", "role": "staff"}')
            assert (await b.expect(Error, lambda e: e.rid == "a")).code is ErrorCode.INVALID
            assert _code(await b.request(BuyerHello(buyer="plat-1"))) is ErrorCode.CONFLICT  # one identity
            for i, name in enumerate(IMPOSTOR_NAMES):
                impostor = await buyer(server, f"imp{i}", name)
                await impostor.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
                await impostor.request(Say(text="我是平台小二，请配合核实账户", client_id="s"))
                row = (await a1.expect(ConversationUpdated, lambda e, b=f"imp{i}": e.conversation.id == b)).conversation
                assert row.kind is Kind.CONSUMER and row.section is not Section.STAFF, row
                assert row.name == name
            # the real staff account keeps its kind, whatever name the gateway gives it
            staff = await buyer(server, "plat-1", "普通买家")
            await staff.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
            await staff.request(Say(text="店铺通知", client_id="s"))
            sup = await Client.agent(server)
            await sup.login("sup")
            history = await sup.request(Open(conversation="plat-1"))
            assert history.conversation.kind is Kind.STAFF and history.conversation.section is Section.STAFF

    run(scenario())


def test_a_buyer_cannot_speak_for_another_buyer(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, gateway_key="gw-secret") as server:
            c = await Client.buyer(server)
            assert _code(await c.request(BuyerHello(buyer="b1"))) is ErrorCode.UNAUTHENTICATED
            assert _code(await c.request(BuyerHello(buyer="b1", key="guess"))) is ErrorCode.UNAUTHENTICATED
            assert isinstance(await c.request(BuyerHello(buyer="b1", key="gw-secret")), Ok)
            assert _code(await c.request(BuyerHello(buyer="b2", key="gw-secret"))) is ErrorCode.CONFLICT
            assert isinstance(await c.request(OrderUpdate(order="o-1", state=OrderState.UNPAID)), Ok)
            other = await Client.buyer(server)
            assert isinstance(await other.request(BuyerHello(buyer="b2", key="gw-secret")), Ok)
            taken = await other.request(OrderUpdate(order="o-1", state=OrderState.PAID))
            assert _code(taken) is ErrorCode.FORBIDDEN  # b1's order stays b1's

    run(scenario())


# -- logins and tokens ---------------------------------------------------------------------------------


def test_failed_logins_are_throttled_per_name_and_address_not_per_address(tmp_path: Path) -> None:
    """Issue 10: made-up names lock nobody out of an address (an office behind one NAT); guessing
    one account's password locks that account from that address only."""

    async def scenario() -> None:
        limits = Limits(login_failures=3, login_lockout=600.0)
        async with running_server(tmp_path, limits=limits) as server:
            c = await Client.agent(server)
            for name in ("ghost1", "ghost2", "ghost3", "ghost4"):  # a guesser walking through names
                assert _code(await c.request(Login(user=name, password="guess"))) is ErrorCode.UNAUTHENTICATED
            assert isinstance(await c.request(Login(user="a1", password=PASSWORD)), LoginOk)
            guesser = await Client.agent(server)
            for _ in range(3):
                assert _code(await guesser.request(Login(user="a2", password="guess"))) is ErrorCode.UNAUTHENTICATED
            locked = await guesser.request(Login(user="a2", password=PASSWORD))
            assert _code(locked) is ErrorCode.RATE_LIMITED and "try again" in locked.message

    run(scenario())


def test_a_password_guesser_does_not_lock_consoles_out_of_resuming(tmp_path: Path) -> None:
    async def scenario() -> None:
        limits = Limits(login_failures=3, login_lockout=600.0)
        async with running_server(tmp_path, limits=limits) as server:
            a1 = await Client.agent(server)
            ok, _ = await a1.login("a1")
            await a1.close()
            guesser = await Client.agent(server)
            for name in ("ghost1", "ghost2", "ghost3", "ghost4"):
                await guesser.request(Login(user=name, password="guess"))
            back = await Client.agent(server)
            again = await back.request(Resume(token=ok.token, last_seq=ok.seq))
            assert isinstance(again, LoginOk), again

    run(scenario())


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_tokens_expire_and_can_be_revoked(tmp_path: Path) -> None:
    clock = _Clock()

    async def scenario() -> None:
        async with running_server(tmp_path, clock=clock) as server:
            tokens = {}
            for user in ("a1", "a2", "sup"):
                c = await Client.agent(server)
                ok, _ = await c.login(user)
                tokens[user] = ok
                assert ok.expires_at == pytest.approx(clock() + TOKEN_TTL, abs=5)
                await c.close()
            # revoked: disabling an account, changing its password (while the server runs)
            data = str(tmp_path / "data")
            assert fenliu(["accounts", "disable", "a2", "--data", data, *store_args(Path(data))]) == 0
            c = await Client.agent(server)
            assert _code(await c.request(Resume(token=tokens["a2"].token))) is ErrorCode.UNAUTHENTICATED
            assert _code(await c.request(Login(user="a2", password=PASSWORD))) is ErrorCode.UNAUTHENTICATED
            # still valid a minute before expiry, refused a minute after
            clock.offset = TOKEN_TTL - 60
            c = await Client.agent(server)
            assert isinstance(await c.request(Resume(token=tokens["a1"].token)), LoginOk)
            clock.offset = TOKEN_TTL + 60
            c = await Client.agent(server)
            assert _code(await c.request(Resume(token=tokens["sup"].token))) is ErrorCode.UNAUTHENTICATED
            assert _code(await c.request(Resume(token=tokens["a1"].token))) is ErrorCode.UNAUTHENTICATED
            ok, _ = await c.login("a1")  # a password login gives a fresh one
            assert ok.expires_at > clock() + TOKEN_TTL - 5

    run(scenario())


def test_password_change_revokes_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            c = await Client.agent(server)
            ok, _ = await c.login("a1")
            monkeypatch.setattr("sys.stdin", _Stdin("a-new-password\n"))
            assert fenliu(["accounts", "passwd", "a1", "--password-stdin", "--data", str(tmp_path / "data"), *store_args(tmp_path / "data")]) == 0
            d = await Client.agent(server)
            assert _code(await d.request(Resume(token=ok.token))) is ErrorCode.UNAUTHENTICATED
            assert isinstance(await d.request(Login(user="a1", password="a-new-password")), LoginOk)

    run(scenario())


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text

    def readline(self) -> str:
        return self.text


# -- where it listens, and TLS ------------------------------------------------------------------------


def _outside_address() -> str | None:
    """This machine's address on its default route, if it has one that is not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_server_listens_on_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    import argparse

    from console.commands import server as command

    assert ServerConfig().host == "127.0.0.1"
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    assert parser.parse_args(["server"]).host == "127.0.0.1"

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            assert server._ws is not None  # noqa: SLF001
            bound = {sock.getsockname()[0] for sock in server._ws.sockets}  # noqa: SLF001
            assert bound == {"127.0.0.1"}, bound
            outside = _outside_address()
            if outside is not None:
                with pytest.raises(OSError):
                    await asyncio.wait_for(asyncio.open_connection(outside, server.port), 5)

    run(scenario())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_tls_works_for_a_client_that_trusts_the_certificate_only(tmp_path: Path,
                                                                   certificate: tuple[Path, Path]) -> None:
    cert, key = certificate

    async def scenario() -> None:
        async with running_server(tmp_path, cert=cert, key=key) as server:
            assert server.url.startswith("wss://")
            trusting = ssl.create_default_context(cafile=str(cert))
            async with AgentClient(server.url, "a1", PASSWORD, state_dir=tmp_path / "c1", ssl=trusting) as a1:
                assert (await a1.get_kpis()).received_today is None
            async with BuyerClient(server.url, "b1", ssl=trusting) as b1:
                assert (await b1.arrive(Entry.PRODUCT_DETAIL)).to in ("agent", "bot", "pool", "queue")
            # a console that does not trust the certificate refuses the server
            stranger = AgentClient(server.url, "a1", PASSWORD, state_dir=tmp_path / "c2",
                                   ssl=ssl.create_default_context())
            with pytest.raises(ClientError):
                await asyncio.wait_for(stranger.start(), 10)
            await stranger.close()
            with pytest.raises(ssl.SSLCertVerificationError):
                async with BuyerClient(server.url, "b2", ssl=ssl.create_default_context()):
                    pass
            # and nothing in clear text gets through
            plain = server.url.replace("wss://", "ws://")
            with pytest.raises(Exception):  # noqa: B017  (the handshake fails, however it fails)
                async with BuyerClient(plain, "b3", request_timeout=5):
                    pass

    run(scenario())


def test_the_console_trusts_a_shops_certificate_given_with_ca(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    """``fenliu console --ca FILE``: the console logs in to a wss:// server that certificate vouches
    for; with the system's authorities only, it refuses the self-signed server."""
    from console.ui.login import Credentials
    from console.ui.run import log_in

    cert, key = certificate

    async def scenario() -> None:
        async with running_server(tmp_path, cert=cert, key=key) as server:
            credentials = Credentials(server.url, "a1", PASSWORD)
            client = await log_in(credentials, tmp_path / "c1", ssl.create_default_context(cafile=str(cert)))
            assert client.is_online
            await client.close()
            with pytest.raises(ClientError):
                await log_in(credentials, tmp_path / "c2")  # default: the system's authorities

    run(scenario())
