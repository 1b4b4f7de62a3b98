"""What-if from the room over a real server (issue 14): start, progress, the comparison, cancel;
live traffic served while it runs; applying is the separate apply_policy (audited); supervisors only."""

from __future__ import annotations

from pathlib import Path

from console.protocol.messages import (
    ApplyPolicy,
    Arrive,
    AuditAction,
    Error,
    ErrorCode,
    GetAudit,
    GetPolicy,
    Ok,
    PolicyInForce,
    Routed,
    WhatIfCancel,
    WhatIfDone,
    WhatIfFailed,
    WhatIfProgress,
    WhatIfStart,
    WhatIfStarted,
)

from .helpers import Client, run, running_server
from .test_reception import buyer, online
from .test_room import ROOM

WIDER = ROOM.replace("cap = 1", "cap = 3")


def test_a_supervisor_tries_a_policy_on_todays_traffic_then_applies_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            await online(server, "a1")
            for i in (1, 2, 3):  # cap 1: one held, two queued
                client = await buyer(server, f"b{i}", f"买家{i}")
                await client.request(Arrive())
            sup = await Client.agent(server)
            await sup.login("sup")
            started = await sup.request(WhatIfStart(toml=WIDER))
            assert isinstance(started, WhatIfStarted), started
            again = await sup.request(WhatIfStart(toml=WIDER))  # one at a time on the server
            assert isinstance(again, Error) and again.code is ErrorCode.CONFLICT
            late = await buyer(server, "b4", "买家4")  # live traffic is served while it runs
            assert isinstance(await late.request(Arrive()), Routed)
            done = await sup.expect(WhatIfDone, lambda m: m.run == started.run, timeout=60)
            comparison = done.comparison
            assert comparison.day == started.day and comparison.baseline_matches_record is True
            a1 = next(a for a in comparison.agents if a.id == "a1")
            assert a1.name == "小美" and a1.baseline.received == 1 and a1.whatif.received >= 3
            [pool] = [p for p in comparison.pools if p.pool == "queue:presale"]
            assert pool.baseline.peak >= 2 and pool.whatif.peak < pool.baseline.peak  # cap 3: fewer wait
            assert sum(comparison.reasons.baseline.values()) > 0
            # nothing applied by the what-if: applying is its own request, and is audited
            before = await sup.request(GetAudit())
            assert not [e for e in before.entries if e.action is AuditAction.POLICY and e.by == "sup"]
            assert isinstance(await sup.request(ApplyPolicy(toml=WIDER)), Ok)
            after = await sup.request(GetAudit(after=before.entries[-1].id))
            assert [(e.by, e.previous) for e in after.entries if e.action is AuditAction.POLICY] == [
                ("sup", "apply_policy")]

    run(scenario())


def test_cancel_bad_policy_and_an_agent_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            client = await buyer(server, "b1", "买家1")
            await client.request(Arrive())
            for request in (WhatIfStart(toml=WIDER), WhatIfCancel(run="w1")):
                refused = await a1.request(request)
                assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN, refused
            sup = await Client.agent(server)
            await sup.login("sup")
            bad = await sup.request(WhatIfStart(toml="preset = 'nope'"))
            assert isinstance(bad, Error) and bad.code is ErrorCode.BAD_POLICY
            missing = await sup.request(WhatIfCancel(run="w0"))
            assert isinstance(missing, Error) and missing.code is ErrorCode.NOT_FOUND
            started = await sup.request(WhatIfStart(toml=WIDER))
            assert isinstance(started, WhatIfStarted)
            # the child takes a second to start (spawned): the cancel reaches it before it ends
            assert isinstance(await sup.request(WhatIfCancel(run=started.run)), Ok)
            failed = await sup.expect(WhatIfFailed, lambda m: m.run == started.run, timeout=30)
            assert failed.cancelled
            # progress, if any came, was for this run and between 0 and 1
            assert all(m.run == started.run and 0 <= m.fraction < 1 for m in sup.inbox
                       if isinstance(m, WhatIfProgress))
            again = await sup.request(WhatIfStart(toml=WIDER))  # the slot is free again
            assert isinstance(again, WhatIfStarted)

    run(scenario())


def test_the_policy_in_force_for_the_editor_supervisors_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, policy=ROOM) as server:
            a1 = await online(server, "a1")
            refused = await a1.request(GetPolicy())
            assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN, refused
            sup = await Client.agent(server)
            await sup.login("sup")
            policy = await sup.request(GetPolicy())
            assert isinstance(policy, PolicyInForce) and policy.toml == ROOM
            assert isinstance(await sup.request(ApplyPolicy(toml=WIDER)), Ok)
            again = await sup.request(GetPolicy())
            assert again.toml == WIDER and again.by == "sup" and again.digest != policy.digest

    run(scenario())
