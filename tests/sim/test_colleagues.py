"""Simulated colleagues answer with the shop's team quick replies, filled (the demo uses them)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from console.paths import resources_dir
from console.protocol.messages import AgentMessage, Arrive, Entry, OrderState, OrderUpdate, PhraseScope, Say
from console.reception.phrases import fill, read_csv
from console.server.phrases import seed_team_phrases
from console.server.store import Store
from console.sim import colleagues
from console.sim.colleagues import Colleague
from tests.server.helpers import PASSWORD, run, running_server, seed_accounts, write_policy
from tests.server.test_reception import buyer

DEMO_SET = resources_dir() / "quick_replies.csv"


def test_a_colleague_answers_with_a_fitting_team_phrase_its_variables_filled(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(colleagues, "QUICK_SHARE", 1.0)  # always a phrase when one fits
    data = tmp_path / "data"
    seed_accounts(data, write_policy(tmp_path))
    store = Store.open(data)
    try:
        seed_team_phrases(store, DEMO_SET, 1.0)
        store.flush(now=True)
    finally:
        store.close()
    after_sale = [d.text for d in read_csv(DEMO_SET.read_bytes(), PhraseScope.TEAM) if d.group == "售后"]

    async def main() -> None:
        async with running_server(tmp_path, seed=False) as server:
            a1 = Colleague(server.url, "a1", PASSWORD, state_dir=tmp_path / "a1", rng=random.Random(7), pause=(0, 0))
            await a1.start()
            try:
                assert len(a1.quick) == 16
                b1 = await buyer(server, "b1", "王小姐")
                await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p-dress"))
                await b1.request(OrderUpdate(order="TB777", state=OrderState.PAID))
                await b1.request(Say(text="我要退货", client_id="m1"))
                answer = await b1.expect(AgentMessage)
                expected = {fill(t, buyer="王小姐", agent="小美", order="TB777") for t in after_sale}
                assert answer.text in expected and a1.quick_used == 1
            finally:
                await a1.stop()

    run(main())
