"""What-if from a shop's database: read a day's engine log (read-only) and replay it off the loop.

``load_day(where, day)`` opens the database read-only (as ``fenliu report`` does: the SQLite data
folder, or the shop on PostgreSQL, report.py ``Where``), in one read transaction, rebuilds the
engine as it was at the start of the local day the way a server start does (the newest usable
snapshot before the day and the log after it, or the log from its beginning) and collects the
day's logged inputs and recorded decisions for console.sim.whatif. A day whose inputs were
partly pruned from the log, or whose start state can no longer be rebuilt (the log before it
pruned, no snapshot before it kept), is refused with a sentence saying so.

``run_in_process(...)`` is the server's way to run one: a child process of its own (spawned,
so nothing of the server's loop or its sockets is inherited) that reports progress fractions and
stops when asked; the awaiting side only polls a pipe, so the loop never waits on the replay.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from console.routing.engine import Engine
from console.routing.policy import PolicyError, load_policy_toml
from console.server.driver import engine_fingerprint
from console.server.kpis import local_day
from console.server.repository import replay as replay_sql
from console.server.repository.reports import DB_ERRORS, PgShop, ReportError, Where, open_read_only, policy_in_force
from console.sim.whatif import Cancelled, DayLog, LogRow, Ticker, WhatIfError, compare, rebuild

POLL_S = 0.05
"""How often the awaiting side looks at the child's pipe."""
CHILD_NICE = 10
"""The what-if process's lower priority (POSIX): it yields the cores to the server's loop."""


def _snapshot_bodies(db: Any, where: Where, pruned: int, first: int) -> Iterator[tuple[int, Callable[[], bytes]]]:
    """The routing snapshots taken at an input in [pruned, first), newest first, with their bytes
    to read: files of the data folder's ``snapshots``, or rows of the shop's table on PostgreSQL."""
    if isinstance(where, PgShop):
        for upto in replay_sql.snapshot_uptos(db, pruned, first):
            yield upto, functools.partial(replay_sql.snapshot_body, db, upto)
        return
    found = []
    for file in (where / "snapshots").glob("engine-*.pickle"):
        try:
            found.append((int(file.stem.split("-", 1)[1]), file))
        except ValueError:
            continue
    for upto, file in sorted(found, reverse=True):
        if pruned <= upto < first:
            yield upto, file.read_bytes


def _snapshot_before(db: Any, where: Where, pruned: int, first: int) -> tuple[int, Engine] | None:
    """The newest usable routing snapshot taken at an input in [pruned, first)."""
    for upto, body in _snapshot_bodies(db, where, pruned, first):
        try:
            fingerprint, _text, _last, engine = pickle.loads(body())
        except Exception:  # noqa: BLE001,S112 - a damaged snapshot: try an older one
            continue
        if isinstance(engine, Engine) and fingerprint == engine_fingerprint(engine):
            return upto, engine
    return None


def load_day(data_dir: Where, day: date, *, progress: Callable[[float], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> DayLog:
    """A day's replay input (console.sim.whatif.DayLog). Raises WhatIfError in words, Cancelled.

    ``progress`` gets the fraction of the whole what-if (rebuilding the start state, then the
    two replays of the day) done while rebuilding; ``whatif_json`` goes on from there."""
    try:
        db = open_read_only(data_dir)
    except ReportError as exc:
        raise WhatIfError(str(exc)) from None
    try:
        try:
            db.execute("BEGIN")  # one read snapshot: a live server's later inputs and decisions stay out
            policy = policy_in_force(db)
        except DB_ERRORS as exc:
            raise WhatIfError(f"{data_dir} 不是 fenliu 的数据目录 / is not a fenliu data folder: {exc}") from None
        if policy is None:
            raise WhatIfError(f"{data_dir}: 服务器从未在这里运行过,没有记录 / the server never ran on this folder: "
                              "nothing was recorded")
        span = local_day(day, policy.timezone)
        meta = replay_sql.meta(db)
        pruned = int(meta.get("engine_log_pruned") or 0)
        rows = replay_sql.inputs_at(db, span.start, span.end)
        if pruned:
            after = replay_sql.first_input_after(db, pruned)
            if after is None or after >= span.start:
                raise WhatIfError(
                    f"{day.isoformat()} 的输入已不完整地留在引擎日志中(早于第 {pruned + 1} 条的输入已被清理)/ the inputs "
                    f"of {day.isoformat()} are not fully in the engine log any more: the log was pruned up to input "
                    f"{pruned} (snapshots cover it), which may reach into that day")
        events = [r for r in rows if r.kind != "policy" or r.seq > pruned]
        if not any(r.kind == "event" for r in events):
            raise WhatIfError(f"{day.isoformat()} 没有记录到任何流量 / no traffic was recorded on {day.isoformat()} "
                              f"(in {data_dir})")
        first = events[0].seq
        snapshot = _snapshot_before(db, data_dir, pruned, first) if pruned else None
        if pruned and snapshot is None:
            raise WhatIfError(
                f"无法重建 {day.isoformat()} 开始时的路由状态:之前的日志已清理,也没有更早的快照 / the routing state at "
                f"the start of {day.isoformat()} cannot be rebuilt: the log before it was pruned (up to input "
                f"{pruned}) and no routing snapshot taken before that day is kept in {_snapshots_of(data_dir)}")
        upto, engine_then = snapshot if snapshot is not None else (0, None)
        count = replay_sql.count_inputs_between(db, upto, first)
        created_today = engine_then is None and count == 0  # the server first started on this day
        if created_today:  # its first row created the engine
            prefix: list[LogRow] | Iterator[LogRow] = events[:1]
            events = events[1:]
        else:
            prefix = replay_sql.inputs_between(db, upto, first)
        ticker = Ticker(count + 2 * len(events), progress, cancelled)
        start = float(meta["engine_start"]) if engine_then is None and "engine_start" in meta else None
        engine, last = rebuild(prefix, engine_then, start, step=ticker.step)
        # Inputs before the day fired every timer due by ``last``: the day's decisions come after
        # it; unless the engine was created by the day's first row (nothing was decided before).
        recorded = replay_sql.recorded_decisions(db, last, events[-1].at if events else last, from_start=created_today)
        names = {a.id: a.name for a in policy.agents}
        return DayLog(label=day.isoformat(), engine=engine, rows=events, recorded=recorded, agent_names=names,
                      prefix_inputs=count)
    except DB_ERRORS as exc:
        raise WhatIfError(f"无法读取 {data_dir} / cannot read {data_dir}: {exc}") from None
    finally:
        db.close()


def _snapshots_of(where: Where) -> str:
    return f"{where}'s snapshots table" if isinstance(where, PgShop) else str(where / "snapshots")


def whatif_json(data_dir: Where, day: date, policy_text: str, *, progress: Callable[[float], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Load, replay and compare; the comparison as JSON. Raises WhatIfError, Cancelled."""
    try:
        policy = load_policy_toml(policy_text)
    except PolicyError as exc:
        raise WhatIfError(f"策略无效 / invalid policy: {exc}") from None
    day_log = load_day(data_dir, day, progress=progress, cancelled=cancelled)
    share = day_log.prefix_inputs / max(1, day_log.prefix_inputs + 2 * len(day_log.rows))

    def rest(fraction: float) -> None:
        if progress is not None:
            progress(share + (1 - share) * fraction)

    return compare(day_log, policy, progress=rest, cancelled=cancelled).as_json()


# ---------------------------------------------------------------------------------------------
# In a process of its own


def _child(data_dir: Where, day: str, policy_text: str, conn: Connection, stop: ProcessEvent) -> None:
    if hasattr(os, "nice"):
        os.nice(CHILD_NICE)  # the server (live pushes) first when the cores are busy
    def progress(fraction: float) -> None:
        conn.send(("progress", fraction))

    try:
        result = whatif_json(data_dir, date.fromisoformat(day), policy_text, progress=progress,
                             cancelled=stop.is_set)
        conn.send(("done", result))
    except Cancelled:
        conn.send(("cancelled", None))
    except WhatIfError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # noqa: BLE001 - said to the parent, never lost
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


async def run_in_process(data_dir: Where, day: date, policy_text: str, *,
                         progress: Callable[[float], None] | None = None,
                         cancel: asyncio.Event | None = None) -> dict[str, Any]:
    """The what-if in a spawned child process; ``progress(fraction)`` on the loop as it goes.

    Setting ``cancel`` stops the child (asked first, terminated if it does not stop within a
    second) and raises :class:`Cancelled`; so does cancelling the awaiting task. A refused day or
    policy raises :class:`WhatIfError`."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=_child, args=(data_dir, day.isoformat(), policy_text, theirs, stop),
                            name="fenliu-whatif", daemon=True)
    child.start()
    theirs.close()
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            while ours.poll():
                try:
                    kind, value = ours.recv()
                except EOFError:
                    raise WhatIfError("the what-if process ended without an answer") from None
                if kind == "progress" and progress is not None:
                    progress(float(value))
                elif kind == "done":
                    return dict(value)
                elif kind == "cancelled":
                    raise Cancelled()
                elif kind == "error":
                    raise WhatIfError(str(value))
            if not child.is_alive() and not ours.poll():
                raise WhatIfError(f"the what-if process ended without an answer (exit code {child.exitcode})")
            await asyncio.sleep(POLL_S)
    finally:
        stop.set()
        await _reap(child)
        ours.close()


async def _reap(child: Any) -> None:
    """Wait (polling, never blocking the loop) for the child; terminate it after a second."""
    for _ in range(20):
        if not child.is_alive():
            break
        await asyncio.sleep(POLL_S)
    if child.is_alive():
        child.terminate()
        for _ in range(40):
            if not child.is_alive():
                break
            await asyncio.sleep(POLL_S)
    child.join(0)
