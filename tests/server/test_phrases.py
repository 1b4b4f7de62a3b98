"""Quick replies (快捷短语, issue 12): a real server on port 0 and the real console client.

Team phrases are kept by supervisors (an agent gets ``forbidden``), personal ones belong to one
account (the same on each of its consoles, invisible to others), and all of it survives a restart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.client.agent import AgentClient
from console.client.errors import ClientError
from console.paths import resources_dir
from console.protocol.messages import (
    Arrive,
    Entry,
    ErrorCode,
    Ok,
    OrderState,
    OrderUpdate,
    PhraseDraft,
    PhraseInfo,
    PhraseScope,
    Status,
)
from console.server.phrases import seed_team_phrases

from .helpers import PASSWORD, open_store, run, running_server, seed_accounts, write_policy
from .test_reception import buyer

DEMO_SET = resources_dir() / "quick_replies.csv"
TEAM = PhraseScope.TEAM
MINE = PhraseScope.PERSONAL


def _titles(phrases: list[PhraseInfo], scope: PhraseScope | None = None) -> list[str]:
    return [p.title for p in phrases if scope is None or p.scope is scope]


def _client(server_url: str, user: str, state: Path) -> AgentClient:
    return AgentClient(server_url, user, PASSWORD, state_dir=state / user)


def test_team_phrases_are_for_supervisors_personal_ones_per_account_and_kept_across_restart(tmp_path: Path) -> None:
    async def first_life() -> None:
        async with running_server(tmp_path) as server:
            async with _client(server.url, "sup", tmp_path / "s") as sup, \
                    _client(server.url, "a1", tmp_path / "1") as a1, \
                    _client(server.url, "a2", tmp_path / "2") as a2:
                team = await sup.add_phrases([
                    PhraseDraft(scope=TEAM, group="售前", title="欢迎", text="{买家}您好，我是{客服}", pinned=True),
                    PhraseDraft(scope=TEAM, group="售后", title="退款", text="退款已提交，订单{订单号}"),
                ])
                assert _titles(team) == ["欢迎", "退款"]
                for attempt in (
                    a1.add_phrases([PhraseDraft(scope=TEAM, title="x", text="y")]),
                    a1.edit_phrase(team[0].id, title="改", text="改"),
                    a1.pin_phrase(team[1].id, True),
                    a1.delete_phrase(team[0].id),
                    a1.reorder_phrases(TEAM, [team[1].id, team[0].id]),
                ):
                    with pytest.raises(ClientError) as refused:
                        await attempt
                    assert refused.value.code is ErrorCode.FORBIDDEN
                # an import mixing a team row into personal ones: refused whole, nothing half added
                with pytest.raises(ClientError):
                    await a1.add_phrases([PhraseDraft(scope=MINE, title="我的1", text="a"),
                                          PhraseDraft(scope=TEAM, title="偷偷", text="b")])
                assert _titles(await a1.get_phrases()) == ["欢迎", "退款"]

                mine = await a1.add_phrases([PhraseDraft(scope=MINE, group="常用", title="稍等", text="请稍等"),
                                             PhraseDraft(scope=MINE, title="再见", text="{买家}再见")])
                assert _titles(mine) == ["欢迎", "退款", "稍等", "再见"]  # the team's first, then one's own
                assert _titles(await a2.get_phrases()) == ["欢迎", "退款"]  # a1's own are a1's
                with pytest.raises(ClientError) as refused:
                    await a2.delete_phrase(mine[2].id)
                assert refused.value.code is ErrorCode.NOT_FOUND

                ids = [p.id for p in mine if p.scope is MINE]
                reordered = await a1.reorder_phrases(MINE, ids[::-1])
                assert _titles(reordered, MINE) == ["再见", "稍等"]
                with pytest.raises(ClientError) as refused:  # not every id: refused
                    await a1.reorder_phrases(MINE, ids[:1])
                assert refused.value.code is ErrorCode.INVALID
                pinned = await a1.pin_phrase(ids[0], True)
                assert [p.title for p in pinned if p.pinned] == ["欢迎", "稍等"]
                edited = await sup.edit_phrase(team[1].id, group="售后", title="退款进度", text="已退款", pinned=True)
                assert _titles(edited) == ["欢迎", "退款进度"]

    async def second_life() -> None:
        async with running_server(tmp_path, seed=False) as server:
            async with _client(server.url, "a1", tmp_path / "1b") as a1:
                phrases = await a1.get_phrases()
                assert [(p.scope, p.group, p.title, p.pinned) for p in phrases] == [
                    (TEAM, "售前", "欢迎", True), (TEAM, "售后", "退款进度", True),
                    (MINE, "", "再见", False), (MINE, "常用", "稍等", True)]

    run(first_life())
    run(second_life())


def test_a_change_reaches_the_accounts_other_consoles_and_team_changes_reach_everyone(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_server(tmp_path) as server:
            async with _client(server.url, "a1", tmp_path / "desk") as desk, \
                    _client(server.url, "a1", tmp_path / "laptop") as laptop, \
                    _client(server.url, "a2", tmp_path / "2") as a2, \
                    _client(server.url, "sup", tmp_path / "s") as sup:
                seen: dict[str, list[list[PhraseInfo]]] = {"laptop": [], "a2": []}
                laptop.phrase_updates.connect(seen["laptop"].append)
                a2.phrase_updates.connect(seen["a2"].append)
                await desk.add_phrases([PhraseDraft(scope=MINE, title="稍等", text="请稍等")])
                await _until(lambda: bool(seen["laptop"]))
                assert _titles(seen["laptop"][-1]) == ["稍等"]
                await sup.add_phrases([PhraseDraft(scope=TEAM, title="欢迎", text="您好")])
                await _until(lambda: len(seen["laptop"]) == 2 and bool(seen["a2"]))
                assert _titles(seen["laptop"][-1]) == ["欢迎", "稍等"]  # each console its own list
                assert _titles(seen["a2"][-1]) == ["欢迎"]
                assert len(seen["a2"]) == 1  # a1's own change was not sent to a2

    run(main())


async def _until(predicate: object, timeout: float = 10.0) -> None:
    async def wait() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)
    await asyncio.wait_for(wait(), timeout)


def test_latest_order_is_the_one_placed_last_and_only_for_who_sees_the_buyer(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_server(tmp_path) as server:
            async with _client(server.url, "a1", tmp_path / "1") as a1, \
                    _client(server.url, "a2", tmp_path / "2") as a2, \
                    _client(server.url, "sup", tmp_path / "s") as sup:
                await a1.set_status(Status.ONLINE)
                b1 = await buyer(server, "b1", "王小姐")
                await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-dress"))
                await _until(lambda: "b1" in a1.view.conversations)
                assert await a1.latest_order("b1") is None
                for order, state in (("TB001", OrderState.UNPAID), ("TB002", OrderState.UNPAID),
                                     ("TB001", OrderState.PAID)):  # TB001 changes later: TB002 is still the latest
                    assert isinstance(await b1.request(OrderUpdate(order=order, state=state)), Ok)
                assert await a1.latest_order("b1") == "TB002"
                assert await sup.latest_order("b1") == "TB002"
                with pytest.raises(ClientError) as refused:
                    await a2.latest_order("b1")
                assert refused.value.code is ErrorCode.FORBIDDEN

    run(main())


def test_the_demo_team_set_is_seeded_once_and_never_over_a_shops_own(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed_accounts(data, write_policy(tmp_path))
    store = open_store(data)
    try:
        assert seed_team_phrases(store, DEMO_SET, 1.0) == 16
        assert seed_team_phrases(store, DEMO_SET, 2.0) == 0  # a second start adds nothing
        store.flush(now=True)
    finally:
        store.close()

    async def main() -> None:
        async with running_server(tmp_path, seed=False) as server:
            async with _client(server.url, "a1", tmp_path / "1") as a1:
                phrases = await a1.get_phrases()
                assert len(phrases) == 16 and {p.scope for p in phrases} == {TEAM}
                assert [p.title for p in phrases if p.pinned] == ["欢迎", "稍等", "发货时间"]
                assert {p.group for p in phrases} == {"售前", "物流", "售后", "结束"}

    run(main())
