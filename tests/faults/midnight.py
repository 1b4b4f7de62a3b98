"""``midnight``: "today" and "yesterday" across a local midnight while running, and across a
restart that spans midnight (the server's clock shifted by the launcher's ``--clock-at``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.client import AgentClient, BuyerClient
from console.protocol.messages import (
    Entry,
)
from console.routing.events import Status
from tests.faults.process import (
    ServerProcess,
    agent_client,
    local_day,
)

MIDNIGHT_ZONE = "Asia/Shanghai"


def midnight_policy() -> str:
    return "\n".join([
        'preset = "taobao"', f'timezone = "{MIDNIGHT_ZONE}"', "seed = 9", 'disconnect_grace = "1h"', "",
        "[bot]", "shop_first = false", "", "[[groups]]", 'id = "presale"', 'entries = ["product_detail"]', "",
        '[[agents]]\nid = "a1"\nname = "客服1"\ngroups = ["presale"]\n',
        '[[agents]]\nid = "sup"\nname = "主管"\nrole = "supervisor"\n',
    ])


@dataclass
class MidnightFigures:
    checks: int = 0
    wrong_tiles: int = 0
    rolled_live_after_s: float | None = None  # from local midnight to received_today reset (pushed)
    problems: list[str] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "problems"}
        out["problems"] = self.problems[:10]
        return out

    def expect(self, what: str, got: Any, wanted: Any) -> None:
        self.checks += 1
        if isinstance(wanted, tuple):  # (low, high)
            ok = got is not None and wanted[0] <= got <= wanted[1]
        else:
            ok = got == wanted
        if not ok:
            self.wrong_tiles += 1
            self.problems.append(f"{what}: {got!r}, expected {wanted!r}")


def next_local_midnight(zone: str, after: float | None = None) -> float:
    return local_day(time.time() if after is None else after, zone)[1]


async def _day_of_work(server: ServerProcess, tag: str, buyers: int, state: Path) -> tuple[AgentClient, float]:
    """a1 receives ``buyers`` buyers, answers each within a second, gets ratings 5 and 2 in turn."""
    a1 = agent_client(server.url, "a1", state)
    await a1.start()
    await a1.set_status(Status.ONLINE)
    for i in range(buyers):
        async with BuyerClient(server.url, f"{tag}{i}") as b:
            await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
            await b.say("请问有货吗")
            await a1.reply(b.buyer, "有的")
            await b.rate(5 if i % 2 == 0 else 2)
    return a1, time.time()


async def midnight(folder: Path, *, lead: float = 6.0) -> MidnightFigures:
    """Live rollover: start ``lead`` seconds before a local midnight, work, cross it. Restart
    across midnight: work before one midnight, stop, start after it; and two days later."""
    fig = MidnightFigures()
    zone = MIDNIGHT_ZONE
    # -- live: the server's clock starts `lead` seconds before the next local midnight
    midnight_at = next_local_midnight(zone, time.time() + 86400)  # a midnight in the future
    live = ServerProcess(folder / "live", midnight_policy(), launcher=["--clock-at", repr(midnight_at - lead)])
    await live.start()
    real_start = time.time()
    fake = lambda: midnight_at - lead + (time.time() - real_start)  # noqa: E731
    a1, _ = await _day_of_work(live, "d1-", 4, folder / "live" / "consoles")
    before = a1.view.kpis
    if fake() < midnight_at - 0.5:
        await asyncio.sleep(0.3)
        before = await a1.get_kpis()
        fig.expect("live: received_today before midnight", before.received_today, 4)
        fig.expect("live: satisfaction_yesterday before midnight", before.satisfaction_yesterday, None)
    else:
        fig.problems.append("the day's work took past midnight; lengthen lead")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lead + 10
    while loop.time() < deadline and a1.view.kpis.satisfaction_yesterday is None:
        await asyncio.sleep(0.05)  # the tiles are pushed at the rollover, not polled
    fig.rolled_live_after_s = round(fake() - midnight_at, 2)
    after = a1.view.kpis
    fig.expect("live: received_today after midnight (pushed)", after.received_today, None)
    fig.expect("live: satisfaction_yesterday after midnight", after.satisfaction_yesterday, 0.5)
    fig.expect("live: response_3min_yesterday after midnight", after.response_3min_yesterday, 1.0)
    fig.expect("live: avg_response_yesterday after midnight (s)", after.avg_response_yesterday, (0.0, 5.0))
    # a buyer after midnight counts for the new day only
    async with BuyerClient(live.url, "d2-0") as b:
        await b.arrive(Entry.PRODUCT_DETAIL, product="p1")
    fig.expect("live: received_today for the new day", (await a1.get_kpis()).received_today, 1)
    await a1.close()
    fig.expect("live: clean shutdown", await live.stop(), 0)

    # -- restart across midnight: work before midnight D, stop; start after it; then on D+2
    day_end = next_local_midnight(zone, time.time() + 3 * 86400)
    first = ServerProcess(folder / "restart", midnight_policy(), launcher=["--clock-at", repr(day_end - 60)])
    await first.start()
    a1, _ = await _day_of_work(first, "r1-", 6, folder / "restart" / "consoles")
    fig.expect("restart: received_today on day D", (await a1.get_kpis()).received_today, 6)
    await a1.close()
    await first.kill()  # no clean shutdown either
    for at, label, received, satisfaction in (
        (day_end + 30, "D+1 after a kill on D", None, 0.5),
        (day_end + 30 + 86400, "D+2 (nothing on D+1)", None, None),
    ):
        first.launcher = ["--clock-at", repr(at)]
        await first.start()
        a1 = agent_client(first.url, "a1", folder / "restart" / "consoles")
        await a1.start()
        tiles = await a1.get_kpis()
        fig.expect(f"restart {label}: received_today", tiles.received_today, received)
        fig.expect(f"restart {label}: satisfaction_yesterday", tiles.satisfaction_yesterday, satisfaction)
        fig.expect(f"restart {label}: response_3min_yesterday", tiles.response_3min_yesterday,
                   None if satisfaction is None else 1.0)
        sup = agent_client(first.url, "sup", folder / "restart" / "consoles")
        await sup.start()
        team = await sup.get_team()
        fig.expect(f"restart {label}: team received_today", team.kpis.received_today, received)
        fig.expect(f"restart {label}: team satisfaction_yesterday", team.kpis.satisfaction_yesterday, satisfaction)
        await sup.close()
        await a1.close()
        fig.expect(f"restart {label}: clean shutdown", await first.stop(), 0)
    return fig
