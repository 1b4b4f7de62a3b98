"""Many shops in one deployment (issue 15): each shop its own store, engine, queues and pushes;
nothing of one shop is reachable from another; restarts keep every shop; the CLI that makes them."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.cli import main as fenliu
from console.protocol.messages import (
    AddPhrases,
    Arrive,
    BuyerHello,
    ConversationUpdated,
    Entry,
    Error,
    ErrorCode,
    GetAgentConversations,
    GetColleagues,
    GetPanel,
    GetPhrases,
    GetQueue,
    GetReport,
    GetTeam,
    Login,
    LoginOk,
    Ok,
    Open,
    PhraseDraft,
    PhraseScope,
    Resume,
    Say,
    Search,
    SetStatus,
    Snapshot,
    Status,
    StatusChanged,
    Transfer,
    Why,
)
from console.server.app import Server, ServerConfig, ServerError
from console.server.deployment import Deployment
from console.server.store import FolderLock

from .helpers import PASSWORD, POLICY, Client, run, seed_accounts, write_policy

pytestmark = pytest.mark.sqlite_only  # shop folders of one data folder (fenliu shops add); PostgreSQL: tests/pg

# the same ids as the shop default (the hard case), and one agent only the shop b has
SHOP_B = POLICY.replace('name = "小美"', 'name = "小美B"') + """
[[agents]]
id = "bx"
name = "只在B店"
groups = ["presale"]
"""


def make_deployment(tmp_path: Path) -> Path:
    """A data folder with the shop ``default`` (the folder itself) and the shop ``b``."""
    data = tmp_path / "data"
    seed_accounts(data, write_policy(tmp_path))
    policy_b = tmp_path / "b.toml"
    policy_b.write_text(SHOP_B, encoding="utf-8")
    assert fenliu(["shops", "add", "b", "--policy", str(policy_b), "--data", str(data)]) == 0
    seed_accounts(data / "shops" / "b", policy_b)
    return data


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, **config: Any) -> AsyncIterator[Server]:
    server = Server(ServerConfig(port=0, data_dir=tmp_path / "data", policy_file=tmp_path / "policy.toml", **config))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def agent(server: Server, user: str, shop: str | None) -> tuple[Client, LoginOk]:
    client = await Client.agent(server)
    ok = await client.request(Login(user=user, password=PASSWORD, shop=shop))
    assert isinstance(ok, LoginOk), ok
    await client.expect(Snapshot)
    assert isinstance(await client.request(SetStatus(status=Status.ONLINE)), Ok)
    await client.expect(StatusChanged, lambda e: e.status is Status.ONLINE)
    return client, ok


async def buyer(server: Server, buyer_id: str, shop: str | None, text: str) -> Client:
    client = await Client.buyer(server)
    assert isinstance(await client.request(BuyerHello(buyer=buyer_id, name=buyer_id, shop=shop)), Ok)
    await client.request(Arrive(entry=Entry.PRODUCT_DETAIL))
    await client.request(Say(text=text, client_id=f"{buyer_id}-1"))
    return client


def refused(answer: object, code: ErrorCode) -> bool:
    return isinstance(answer, Error) and answer.code is code


def test_nothing_of_one_shop_is_visible_from_another(tmp_path: Path) -> None:
    make_deployment(tmp_path)

    async def scenario() -> None:
        async with serving(tmp_path) as server:
            assert list(server.hosts) == ["default", "b"]
            # a login that names no shop, or one not served here, is refused with a clear error
            bare = await Client.agent(server)
            answer = await bare.request(Login(user="a1", password=PASSWORD))
            assert refused(answer, ErrorCode.NOT_FOUND) and answer.field == "shop" and "b" in answer.message
            assert refused(await bare.request(Login(user="a1", password=PASSWORD, shop="nope")), ErrorCode.NOT_FOUND)
            gateway = await Client.buyer(server)
            assert refused(await gateway.request(BuyerHello(buyer="x")), ErrorCode.NOT_FOUND)

            a1, ok_a = await agent(server, "a1", "default")
            a1b, ok_b = await agent(server, "a1", "b")  # the same id, another shop's account
            assert (ok_a.shop, ok_b.shop, ok_b.name) == ("default", "b", "小美B")
            sup, _ = await agent(server, "sup", "default")
            supb, _ = await agent(server, "sup", "b")
            # the shop b's team phrase and buyer
            added = await supb.request(AddPhrases(phrases=[PhraseDraft(scope=PhraseScope.TEAM, title="B店秘密",
                                                                       text="只在B店")]))
            assert "B店秘密" in [p.title for p in added.phrases]
            await buyer(server, "bb1", "b", "请问这件商品的价格是多少")
            await a1b.expect(ConversationUpdated, lambda e: e.conversation.id == "bb1")
            # a buyer of the shop default reaches a1 there; no push about bb1 came before it
            await buyer(server, "ba1", "default", "你好在吗")
            seen = await a1.drain(lambda m: isinstance(m, ConversationUpdated) and m.conversation.id == "ba1")
            assert not [m for m in seen if "bb1" in repr(m)]
            seen = await sup.drain(lambda m: "ba1" in repr(m), timeout=5) if sup.inbox else []
            assert not [m for m in seen if "bb1" in repr(m)]

            for who in (a1, sup):  # an agent and a supervisor of the shop default ask about b's things
                assert refused(await who.request(Open(conversation="bb1")), ErrorCode.NOT_FOUND)
                assert refused(await who.request(GetPanel(conversation="bb1")), ErrorCode.NOT_FOUND)
                assert refused(await who.request(Why(conversation="bb1")), ErrorCode.NOT_FOUND)
                hits = await who.request(Search(query="商品的价格"))
                assert [h.conversation for h in hits.hits] == []
                hits = await who.request(Search(query="bb1"))
                assert [h.conversation for h in hits.hits] == []
                phrases = await who.request(GetPhrases())
                assert "B店秘密" not in [p.title for p in phrases.phrases]
            # an agent only the shop b has is no one in the shop default
            assert refused(await sup.request(GetAgentConversations(agent="bx")), ErrorCode.NOT_FOUND)
            colleagues = await a1.request(GetColleagues())
            assert "bx" not in repr(colleagues)
            answer = await a1.request(Transfer(conversation="ba1", agent="bx"))
            assert refused(answer, ErrorCode.NOT_FOUND) and answer.field == "agent"
            team = await sup.request(GetTeam())
            assert "bx" not in repr(team) and "只在B店" not in repr(team)
            held = await sup.request(GetAgentConversations(agent="a1"))
            assert [c.id for c in held.conversations] == ["ba1"]
            queue = await sup.request(GetQueue(pool="presale"))
            assert "bb1" not in repr(queue)
            report = await sup.request(GetReport())
            assert [r.buyer for r in report.conversations] == ["ba1"]
            # the shop b sees its own
            assert not refused(await a1b.request(Open(conversation="bb1")), ErrorCode.NOT_FOUND)
            assert [h.conversation for h in (await a1b.request(Search(query="商品的价格"))).hits] == ["bb1"]
            assert refused(await a1b.request(Open(conversation="ba1")), ErrorCode.NOT_FOUND)

            # a token of one shop is no key to another
            thief = await Client.agent(server)
            answer = await thief.request(Resume(token=ok_b.token, shop="default"))
            assert refused(answer, ErrorCode.UNAUTHENTICATED)
            back = await Client.agent(server)
            resumed = await back.request(Resume(token=ok_b.token, shop="b", last_seq=ok_b.seq))
            assert isinstance(resumed, LoginOk) and resumed.shop == "b"
            for client in (bare, gateway, a1, a1b, sup, supb, thief, back):
                await client.close()

    run(scenario())


def test_one_shop_folder_of_old_is_served_as_the_shop_default(tmp_path: Path) -> None:
    seed_accounts(tmp_path / "data", write_policy(tmp_path))  # today's one-shop data folder

    async def scenario() -> None:
        async with serving(tmp_path) as server:
            assert list(server.hosts) == ["default"]
            client = await Client.agent(server)
            ok = await client.request(Login(user="a1", password=PASSWORD))  # a console of today: no shop
            assert isinstance(ok, LoginOk) and ok.shop == "default"
            await client.close()

    run(scenario())


def test_a_restart_keeps_every_shop(tmp_path: Path) -> None:
    make_deployment(tmp_path)

    async def first() -> None:
        async with serving(tmp_path) as server:
            a1b, _ = await agent(server, "a1", "b")
            a1, _ = await agent(server, "a1", "default")
            await buyer(server, "bb1", "b", "第一家店的问题")
            await a1b.expect(ConversationUpdated, lambda e: e.conversation.id == "bb1")
            await buyer(server, "ba1", "default", "第二家店的问题")
            await a1.expect(ConversationUpdated, lambda e: e.conversation.id == "ba1")
            await a1b.close()
            await a1.close()

    async def second() -> None:
        async with serving(tmp_path) as server:
            assert list(server.hosts) == ["default", "b"]
            for shop, mine, other in (("b", "bb1", "ba1"), ("default", "ba1", "bb1")):
                client = await Client.agent(server)
                assert isinstance(await client.request(Login(user="a1", password=PASSWORD, shop=shop)), LoginOk)
                snapshot = await client.expect(Snapshot)
                assert [c.id for c in snapshot.conversations] == [mine]
                assert refused(await client.request(Open(conversation=other)), ErrorCode.NOT_FOUND)
                await client.close()

    run(first())
    run(second())
    # the day's report of one shop holds its own conversations only
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for shop, mine, other in (("b", "bb1", "ba1"), ("default", "ba1", "bb1")):
        out = tmp_path / f"report-{shop}"
        assert fenliu(["report", "--day", day, "--format", "csv", "--out", str(out), "--shop", shop,
                       "--data", str(tmp_path / "data")]) == 0
        rows = (tmp_path / f"report-{shop}-conversations.csv").read_text(encoding="utf-8-sig")
        assert mine in rows and other not in rows


def test_each_shop_folder_is_locked_by_the_process_serving_it(tmp_path: Path) -> None:
    data = make_deployment(tmp_path)

    async def scenario() -> None:
        async with serving(tmp_path, max_shops=1) as one:
            assert list(one.hosts) == ["default"]
            assert FolderLock.holder(data) is not None and FolderLock.holder(data / "shops" / "b") is None
            async with serving(tmp_path) as two:  # takes what is left
                assert list(two.hosts) == ["b"]
                with pytest.raises(ServerError, match="in use by another fenliu server"):
                    async with serving(tmp_path):
                        pass
                with pytest.raises(ServerError, match="--policy is the policy of the shop 'default'"):
                    async with serving(tmp_path, shops=("b",)):  # serving() passes --policy
                        pass
                assert fenliu(["shops", "remove", "b", "--data", str(data)]) == 1  # served: refused

    run(scenario())


def test_shops_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_deployment(tmp_path)
    policy = tmp_path / "b.toml"
    assert fenliu(["shops", "add", "b", "--policy", str(policy), "--data", str(data)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert fenliu(["shops", "add", "../evil", "--policy", str(policy), "--data", str(data)]) == 1
    assert "is not a shop name" in capsys.readouterr().err
    assert fenliu(["shops", "add", "default", "--policy", str(policy), "--data", str(data)]) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("preset = 3\n", encoding="utf-8")
    assert fenliu(["shops", "add", "c", "--policy", str(bad), "--data", str(data)]) == 2
    assert not (data / "shops" / "c").exists()  # a refused shop leaves nothing behind
    capsys.readouterr()
    assert fenliu(["shops", "add", "c", "--policy", str(policy), "--data", str(data)]) == 0
    assert "fenliu accounts add a1 --role agent --shop c" in capsys.readouterr().out
    assert fenliu(["shops", "list", "--data", str(data)]) == 0
    listed = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["default", "b", "c"]
    # accounts belong to a shop
    with pytest.raises(SystemExit, match="no shop 'nope'"):
        fenliu(["accounts", "add", "c1", "--role", "agent", "--shop", "nope", "--data", str(data)])
    monkeypatch.setattr("sys.stdin", io.StringIO("pw-of-c1\n"))
    assert fenliu(["accounts", "add", "c1", "--role", "agent", "--shop", "c", "--password-stdin", "--data", str(data)]) == 0
    capsys.readouterr()
    assert fenliu(["accounts", "list", "--shop", "c", "--data", str(data)]) == 0
    assert capsys.readouterr().out.split() == ["c1", "agent"]
    assert fenliu(["accounts", "list", "--data", str(data)]) == 0
    assert "c1" not in capsys.readouterr().out  # not an account of the shop default
    only_shops = tmp_path / "only-shops"  # a deployment without the shop default
    assert fenliu(["shops", "add", "x", "--policy", str(policy), "--data", str(only_shops)]) == 0
    with pytest.raises(SystemExit, match="name one with --shop"):
        fenliu(["accounts", "list", "--data", str(only_shops)])
    assert Deployment(only_shops).names() == ["x"]  # no shop default made by mistake
    assert fenliu(["shops", "remove", "c", "--data", str(data)]) == 0
    assert Deployment(data).names() == ["default", "b"]
    assert [p.name.split(".")[0] for p in (data / "removed").iterdir()] == ["c"]  # kept, not deleted


def test_a_policy_is_applied_to_one_shop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.commands.policy import _apply_remote

    data = make_deployment(tmp_path)
    changed = SHOP_B.replace("seed = 1", "seed = 7")

    async def scenario() -> None:
        async with serving(tmp_path) as server:
            before = server.hosts["default"].shop.policy
            assert await _apply_remote(server.url, "sup", PASSWORD, changed, "b") == 0
            assert server.hosts["b"].shop.policy.seed == 7
            assert server.hosts["default"].shop.policy is before

    run(scenario())
    capsys.readouterr()
    assert fenliu(["policy", "history", "--data", str(data), "--shop", "b"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "by sup" in lines[1] and "(in force)" in lines[1]  # the start's, then sup's
    assert fenliu(["policy", "history", "--data", str(data)]) == 0
    assert "by sup" not in capsys.readouterr().out  # the shop default's history is its own


def test_each_shop_has_its_own_bot(tmp_path: Path) -> None:
    from console.protocol.messages import AgentMessage

    data = make_deployment(tmp_path)
    faq = tmp_path / "c-faq.toml"
    faq.write_text('[[faq]]\nkeywords = ["发货"]\nanswer = "C店：今天下单明天发"\n', encoding="utf-8")
    assert fenliu(["shops", "add", "c", "--policy", str(tmp_path / "b.toml"), "--faq", str(faq),
                   "--data", str(data)]) == 0
    seed_accounts(data / "shops" / "c", tmp_path / "b.toml")
    bad = tmp_path / "bad-faq.toml"
    bad.write_text("[[faq]]\nkeywords = 3\n", encoding="utf-8")
    assert fenliu(["shops", "add", "d", "--policy", str(tmp_path / "b.toml"), "--faq", str(bad),
                   "--data", str(data)]) == 2

    async def scenario() -> None:
        async with serving(tmp_path) as server:
            answers = {}
            for shop in ("default", "c"):
                await agent(server, "a1", shop)  # a shop with someone online (else the message pool)
                client = await Client.buyer(server)
                assert isinstance(await client.request(BuyerHello(buyer="same-id", shop=shop)), Ok)
                assert (await client.request(Arrive(entry=Entry.DM))).to == "bot"
                await client.request(Say(text="几天发货呀", client_id="m1"))
                answers[shop] = (await client.expect(AgentMessage)).text
                await client.close()
            assert answers["c"] == "C店：今天下单明天发"
            assert answers["default"] != answers["c"] and "发货" in answers["default"]  # the server's FAQ

    run(scenario())


def test_kill_9_loses_no_shop_s_acknowledged_message(tmp_path: Path) -> None:
    """A real ``fenliu server`` process with two shops, killed with SIGKILL after acknowledging a
    message in each: both are on disk, and the next start serves both shops again."""
    import sqlite3

    from websockets.asyncio.client import connect

    from console.protocol.codec import decode_for_agent, decode_for_buyer
    from console.protocol.messages import SayAck
    from tests.faults.process import PASSWORD as DEFAULT_SHOP_PASSWORD
    from tests.faults.process import ServerProcess

    server = ServerProcess(tmp_path / "srv", POLICY)  # the shop default, its accounts seeded
    policy_b = tmp_path / "b.toml"
    policy_b.write_text(SHOP_B, encoding="utf-8")
    assert fenliu(["shops", "add", "b", "--policy", str(policy_b), "--data", str(server.data)]) == 0
    seed_accounts(server.data / "shops" / "b", policy_b)
    passwords = {"default": DEFAULT_SHOP_PASSWORD, "b": PASSWORD}

    def stored(folder: Path) -> list[str]:
        db = sqlite3.connect(f"file:{folder / 'fenliu.db'}?mode=ro", uri=True)
        try:
            return [row[0] for row in db.execute("SELECT client_id FROM messages WHERE author = 'buyer'")]
        finally:
            db.close()

    async def scenario() -> None:
        url = await server.start()
        try:
            for shop in passwords:
                gateway = Client(await connect(url + "/buyer"), decode_for_buyer)
                assert isinstance(await gateway.request(BuyerHello(buyer=f"k-{shop}", shop=shop)), Ok)
                await gateway.request(Arrive(entry=Entry.PRODUCT_DETAIL))
                assert isinstance(await gateway.request(Say(text="在吗", client_id=f"acked-{shop}")), SayAck)
            await server.kill()  # kill -9, right after the acknowledgements
            assert stored(server.data) == ["acked-default"]
            assert stored(server.data / "shops" / "b") == ["acked-b"]
            url = await server.start()
            for shop, password in passwords.items():
                console = Client(await connect(url + "/agent"), decode_for_agent)
                ok = await console.request(Login(user="sup", password=password, shop=shop))
                assert isinstance(ok, LoginOk) and ok.shop == shop
                await console.expect(Snapshot)
                history = await console.request(Open(conversation=f"k-{shop}"))  # a supervisor may read any
                assert [m.text for m in history.messages] == ["在吗"], history
                await console.close()
        finally:
            await server.stop()

    run(scenario())


def test_a_shop_added_while_the_server_runs_is_served_without_a_restart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: the server's shop loop finds the folder `fenliu shops add` made, and serves it once
    its policy's accounts exist (tried again until then, said once in the log)."""
    from console.server import app

    monkeypatch.setattr(app, "SHOPS_POLL", 0.05)  # seconds, not the 2 s of a real server
    monkeypatch.setattr(app, "RETRY_REFUSED", 0.1)
    data = make_deployment(tmp_path)

    async def scenario() -> None:
        async with serving(tmp_path) as server:
            assert list(server.hosts) == ["default", "b"]
            assert fenliu(["shops", "add", "c", "--policy", str(tmp_path / "b.toml"), "--data", str(data)]) == 0
            assert "serves it within seconds, once those accounts exist; no restart needed" in capsys.readouterr().out
            await asyncio.sleep(0.3)  # several passes of the loop: refused, no accounts yet
            assert "c" not in server.hosts
            gateway = await Client.buyer(server)
            assert refused(await gateway.request(BuyerHello(buyer="early", shop="c")), ErrorCode.NOT_FOUND)
            await gateway.close()
            seed_accounts(data / "shops" / "c", tmp_path / "b.toml")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while "c" not in server.hosts:
                assert loop.time() < deadline, "the new shop was never served"
                await asyncio.sleep(0.05)
            console, ok = await agent(server, "bx", "c")
            assert ok.shop == "c"
            visitor = await buyer(server, "bc1", "c", "新店开张吗")
            await console.expect(ConversationUpdated, lambda e: e.conversation.id == "bc1")
            assert FolderLock.holder(data / "shops" / "c") is not None  # this process holds the new shop's folder
            for client in (console, visitor):
                await client.close()

    run(scenario())
