"""Server socket writes per answered buyer message, against another checkout (issue 9, session 6).

    .venv/bin/python bench/wire_writes.py --json --baseline /work/wt/base7     # about 30 s

A real server in the process (``tests/server/helpers.running_server``, SQLite), 2 agents online
in one group, 40 buyers in a session; ``--rounds`` rounds in which every buyer says something at
once and each agent replies to each buyer message event as it arrives, so commits group as they
do under load. Figure: the calls to ``transport.write`` on the server's side of its connections,
from the first ``say`` to the last ``agent_message``, per answered message (a buyer message and
its reply). This counts the writes the server asks for; under overload asyncio and the kernel
join writes to a peer that reads late, so the send syscalls of ``bench/peak.py`` can be fewer.

The count is exact (no timing), so a small shop suffices for it; what the writes cost on a shop's
workload (arrivals, replies, closes, caps of 4, a queue) is ``bench/peak.py``'s, run interleaved
with the same baseline (docs/BENCHMARKS.md, "Session 6 (wire)": CPU per message unchanged).

Each side runs in a child process of the same Python with its checkout first on the path
(``--baseline DIR``: that checkout's ``console`` and ``tests``), the sides alternated round by
round. One JSON line per run and side, then::

    {"writes_per_answered": x, "baseline_writes_per_answered": x, "ratio": x}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUYERS = 40


def child(rounds: int) -> None:
    from asyncio import selector_events

    from console.protocol.messages import AgentMessage, Arrive, Entry, MessageAdded, Reply, Say
    from tests.server.helpers import NO_RATE_LIMITS, running_server
    from tests.server.test_reception import buyer, online

    counted = [0]
    port = [0]
    write = selector_events._SelectorSocketTransport.write

    def counting(self: Any, data: Any) -> None:
        try:
            if self._sock.getsockname()[1] == port[0]:
                counted[0] += 1
        except OSError:
            pass
        write(self, data)

    selector_events._SelectorSocketTransport.write = counting  # type: ignore[method-assign]

    async def main() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            # each agent answers 20 buyers at once every round: over a console's rate limit, which
            # is not what this counts (the limit came after this file; it then hung on a refused reply)
            async with running_server(Path(tmp), limits=NO_RATE_LIMITS) as server:
                port[0] = int(server.url.rsplit(":", 1)[1])
                agents = [await online(server, "a1"), await online(server, "a2")]
                buyers = []
                for i in range(BUYERS):
                    b = await buyer(server, f"b{i}")
                    await b.request(Arrive(entry=Entry.PRODUCT_DETAIL))
                    buyers.append(b)

                async def answer(a: Any) -> None:
                    while True:
                        m = await a._next(30)
                        if isinstance(m, MessageAdded) and m.message.author == "buyer":
                            await a.send(Reply(conversation=m.message.conversation, text="好的",
                                               client_id=f"r{m.message.id}"))

                async def ask(b: Any, r: int) -> None:
                    await b.send(Say(text=f"问题{r}", client_id=f"s{r}"))
                    while not isinstance(await b._next(30), AgentMessage):
                        pass

                loops = [asyncio.create_task(answer(a)) for a in agents]
                start = counted[0]
                for r in range(rounds):
                    await asyncio.gather(*(ask(b, r) for b in buyers))
                writes = counted[0] - start
                for task in loops:
                    task.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
                return {"answered": rounds * BUYERS, "server_writes": writes,
                        "writes_per_answered": round(writes / (rounds * BUYERS), 3)}

    print(json.dumps(asyncio.run(main())))


def run_side(code: Path, rounds: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--rounds", str(rounds)],
                         cwd=code, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="JSON lines only")
    parser.add_argument("--baseline", type=Path, help="a checkout to compare with (its console and tests)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of 40 answered messages (default 10)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each side, alternated (default 2)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rounds)
        return
    sides = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    figures: dict[str, list[float]] = {name: [] for name, _ in sides}
    for run in range(args.runs):
        for name, code in sides if run % 2 == 0 else reversed(sides):
            result = run_side(code, args.rounds)
            figures[name].append(result["writes_per_answered"])
            print(json.dumps({"run": run + 1, "side": name, **result, "code": str(code)}), flush=True)
    this = max(figures["this"])
    base = max(figures["baseline"]) if args.baseline else None
    print(json.dumps({"writes_per_answered": this, "baseline_writes_per_answered": base,
                      "ratio": round(this / base, 3) if base else None}))


if __name__ == "__main__":
    main()
