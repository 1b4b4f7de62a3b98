"""What-if from the room (issue 14): runs started by supervisors, their progress and cancel.

A run replays a day of this server's own database (its data folder, or its shop on PostgreSQL) under an edited policy in a spawned child
process (``console.server.whatif.run_in_process``: the loop only polls a pipe), so the server
keeps serving live traffic while it runs. At most ``MAX_RUNS`` at a time on the server (each
takes a core); a console that leaves cancels its runs. Progress goes to the console that started
the run, at most every ``PROGRESS_EVERY`` seconds; the result is the comparison as a typed
``WhatIfComparison``. Nothing is applied: applying is ``apply_policy``, a separate request.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import msgspec

from console.protocol.messages import (
    Response,
    WhatIfComparison,
    WhatIfDone,
    WhatIfFailed,
    WhatIfProgress,
)
from console.server.repository.reports import Where
from console.server.whatif import run_in_process
from console.sim.whatif import Cancelled, WhatIfError

log = logging.getLogger(__name__)

MAX_RUNS = 1  # the machine's other core serves the shop
PROGRESS_EVERY = 0.2  # seconds between progress pushes to the console


@dataclass(eq=False)
class Run:
    id: str
    owner: object  # the connection's link that started it
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class WhatIfRuns:
    def __init__(self, where: Where) -> None:
        self.where = where
        self.runs: dict[str, Run] = {}

    def busy(self) -> bool:
        return len(self.runs) >= MAX_RUNS

    def start(self, owner: object, day: date, policy_text: str, send: Callable[[Response], None]) -> Run:
        """Start a run (the caller checked ``busy``); ``send`` delivers to the starting console."""
        run = Run(id="w" + secrets.token_hex(4), owner=owner)
        self.runs[run.id] = run
        run.task = asyncio.get_running_loop().create_task(self._go(run, day, policy_text, send),
                                                          name=f"whatif {run.id}")
        return run

    async def _go(self, run: Run, day: date, policy_text: str, send: Callable[[Response], None]) -> None:
        last = [0.0]

        def progress(fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY and fraction < 1.0:
                last[0] = now
                send(WhatIfProgress(run=run.id, fraction=max(0.0, min(1.0, fraction))))

        try:
            result = await run_in_process(self.where, day, policy_text, progress=progress, cancel=run.cancel)
            comparison = msgspec.convert(result, WhatIfComparison)
            send(WhatIfProgress(run=run.id, fraction=1.0))
            send(WhatIfDone(run=run.id, comparison=comparison))
        except (Cancelled, asyncio.CancelledError):
            send(WhatIfFailed(run=run.id, cancelled=True))
        except WhatIfError as exc:
            send(WhatIfFailed(run=run.id, message=str(exc)))
        except Exception as exc:  # noqa: BLE001 - said to the console, never lost
            log.exception("what-if %s failed", run.id)
            send(WhatIfFailed(run=run.id, message=f"{type(exc).__name__}: {exc}"))
        finally:
            self.runs.pop(run.id, None)

    def cancel(self, owner: object, run_id: str) -> bool:
        """Ask a run of ``owner``'s to stop; False when it has no such run."""
        run = self.runs.get(run_id)
        if run is None or run.owner is not owner:
            return False
        run.cancel.set()
        return True

    def left(self, owner: object) -> None:
        """The console went away: its runs stop."""
        for run in list(self.runs.values()):
            if run.owner is owner:
                run.cancel.set()

    async def stop(self) -> None:
        """Server shutdown: cancel every run and wait for the children to be reaped."""
        tasks = [run.task for run in self.runs.values() if run.task is not None]
        for run in self.runs.values():
            run.cancel.set()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
