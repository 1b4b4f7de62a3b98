"""Login, tokens and throttling on the /agent endpoint (CONSOLE.md §5, issue 6)."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import (
    Error,
    ErrorCode,
    GetKpis,
    GetTeam,
    Login,
    LoginOk,
    Logout,
    Ok,
    Reply,
    Resume,
    SetStatus,
    Snapshot,
)
from console.routing.events import Status
from console.server.limits import Limits

from .helpers import PASSWORD, Client, run, running_server


def test_login_gives_token_and_snapshot(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            ok, snapshot = await a1.login("a1")
            assert ok.user == "a1" and ok.name == "小美" and ok.role == "agent" and ok.token
            assert ok.resumed is False
            assert snapshot.conversations == [] and snapshot.status is Status.OFFLINE
            assert snapshot.seq == ok.seq
            await a1.close()

    run(scenario())


def test_bad_password_and_unknown_user_are_refused_alike(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            c = await Client.agent(server)
            wrong = await c.request(Login(user="a1", password="nope"))
            unknown = await c.request(Login(user="ghost", password=PASSWORD))
            assert isinstance(wrong, Error) and wrong.code is ErrorCode.UNAUTHENTICATED
            assert isinstance(unknown, Error) and unknown.code is ErrorCode.UNAUTHENTICATED
            assert wrong.message == unknown.message  # no hint whether the account exists
            ok, _ = await c.login("a1")  # the connection goes on
            assert ok.user == "a1"

    run(scenario())


def test_nothing_but_login_works_before_login(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            c = await Client.agent(server)
            for request in (GetKpis(), SetStatus(status=Status.ONLINE), GetTeam(),
                            Reply(conversation="b1", text="hi", client_id="c1"), Logout()):
                answer = await c.request(request)
                assert isinstance(answer, Error) and answer.code is ErrorCode.UNAUTHENTICATED, answer
            await c.login("a1")
            assert isinstance(await c.request(GetKpis()), object)

    run(scenario())


def test_logins_are_throttled(tmp_path: Path) -> None:
    async def scenario() -> None:
        limits = Limits(login_failures=3, login_lockout=600.0)
        async with running_server(tmp_path, limits=limits) as server:
            c = await Client.agent(server)
            for _ in range(3):
                answer = await c.request(Login(user="a1", password="guess"))
                assert isinstance(answer, Error) and answer.code is ErrorCode.UNAUTHENTICATED
            locked = await c.request(Login(user="a1", password=PASSWORD))  # even the right one
            assert isinstance(locked, Error) and locked.code is ErrorCode.RATE_LIMITED
            assert "try again" in locked.message

    run(scenario())


def test_resume_with_token_and_logout_revokes_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            first = await Client.agent(server)
            ok, _ = await first.login("a1")
            await first.close()
            second = await Client.agent(server)
            again = await second.request(Resume(token=ok.token, last_seq=ok.seq))
            assert isinstance(again, LoginOk) and again.resumed and again.user == "a1"
            assert isinstance(await second.request(Logout()), Ok)
            third = await Client.agent(server)
            refused = await third.request(Resume(token=ok.token, last_seq=ok.seq))
            assert isinstance(refused, Error) and refused.code is ErrorCode.UNAUTHENTICATED
            bogus = await third.request(Resume(token="x" * 40))
            assert isinstance(bogus, Error) and bogus.code is ErrorCode.UNAUTHENTICATED

    run(scenario())


def test_resume_without_last_seq_gets_snapshot(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            first = await Client.agent(server)
            ok, _ = await first.login("a1")
            second = await Client.agent(server)
            again = await second.request(Resume(token=ok.token))
            assert isinstance(again, LoginOk) and not again.resumed
            await second.expect(Snapshot)

    run(scenario())


def test_supervisor_only_requests_are_refused_to_agents(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            answer = await a1.request(GetTeam())
            assert isinstance(answer, Error) and answer.code is ErrorCode.FORBIDDEN
            sup = await Client.agent(server)
            await sup.login("sup")
            team = await sup.request(GetTeam())
            assert {row.id for row in team.team.agents} == {"a1", "a2", "sup"}

    run(scenario())


def test_a_fifth_console_of_one_account_closes_the_oldest(tmp_path: Path) -> None:
    from websockets.exceptions import ConnectionClosed

    from console.protocol.limits import MAX_CONNECTIONS_PER_USER

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            consoles = []
            for _ in range(MAX_CONNECTIONS_PER_USER + 1):
                console = await Client.agent(server)
                await console.login("a1")
                consoles.append(console)
            try:
                await consoles[0].conn.wait_closed()
                assert consoles[0].conn.close_code == 1008
                for console in consoles[1:]:  # the others are still served
                    await console.request(GetKpis())
            except ConnectionClosed as exc:  # pragma: no cover - a console other than the oldest closed
                raise AssertionError(f"a newer console was closed: {exc}") from exc
            finally:
                for console in consoles:
                    await console.close()

    run(scenario())


def test_an_unknown_account_costs_a_full_password_check() -> None:
    """The stand-in hash an unknown name is checked against has the hasher's own parameters, so
    a wrong name takes as long as a wrong password (it is a constant, not hashed at import)."""
    from argon2 import PasswordHasher

    from console.server import accounts

    assert not PasswordHasher().check_needs_rehash(accounts.DUMMY_HASH)  # the production hasher's
    assert not accounts._hasher.check_needs_rehash(accounts._DUMMY_HASH)  # the one in force (tests: cheap)
    assert not accounts.Accounts.verify_password(None, "fenliu: not a real password")
