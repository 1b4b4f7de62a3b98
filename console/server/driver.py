"""The routing engine, made durable: every input logged before it is applied, replayed on start.

The engine is deterministic (R8.7), so its whole state (sessions, queue order, recent contacts,
today's counts, the random generator) is a function of its inputs and their times. The driver
applies each input and appends it to ``engine_log`` in the same step (in the current write
batch), so the log order is the application order; a refused input (``EngineError``) changes
nothing and is not logged; the caller acts on the decisions through the same batch (rows, pushes after commit), so
what clients see never runs ahead of what a restart can rebuild (ARCHITECTURE.md, R10.7).

Three kinds of input are logged: engine events, policy swaps (the TOML text) and timer firings
(``advance``). On start the log is applied again with the decisions thrown away: their effects
are already in the database, committed with the log entries that caused them. To keep a restart
short on a busy day, the engine is also pickled to a file beside the database every
``SNAPSHOT_EVERY`` inputs, or ``SNAPSHOT_QUIET`` inputs once a minute has passed (by a forked
child, so the loop does not wait) and at a clean stop; a
start loads the newest snapshot the committed log reaches and applies only the log after it. A
snapshot written by other engine code (its fingerprint differs) or that cannot be read is skipped,
and the older one, or the log from the beginning, is applied: slower, never wrong. Once two
snapshots cover it, the log before the older one (less a margin, ``LOG_KEPT``) is pruned; a start
that finds no usable snapshot for a pruned log refuses with a paragraph rather than guess.

The clock is the wall clock, but never goes backwards: the engine requires non-decreasing times,
and a restart or a clock step must not break that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.routing.engine import Engine, EngineError
from console.routing.events import AnyEvent, Decision, event_decoder, event_encoder
from console.routing.policy import Policy, load_policy_toml
from console.server.journal import Journal
from console.server.repository import engine_log, pg
from console.server.store import Store, StoreError, fsync_dir

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 25_000
"""Engine inputs between snapshots: a kill -9 then costs at most this many inputs to replay
(``bench/restart.py``, 100,000 buyers: a start after a kill 1.22 s against 0.66 s after a clean
stop; a 50,000-input tail took 2.04 s). Each periodic snapshot costs the loop a fork (8 ms at a
peak) and then a copy of every page the loop writes while the child lives (reference counts
write to every object the loop touches): at 2,000 answered messages/s with 10,000 here, a
snapshot every 2.3 s and 14,000 page faults a second against 180 with no snapshot; with 25,000,
162-184 against 188-201 us of CPU per protocol message (issue 9)."""
SNAPSHOT_QUIET = 1_000
SNAPSHOT_AFTER = 60.0
"""A shop with fewer inputs snapshots too: once ``SNAPSHOT_QUIET`` inputs came after its last
snapshot and that one is ``SNAPSHOT_AFTER`` seconds (engine time) old. So the log a takeover or
a restart replays is at most about a minute of inputs or 1,000, whichever is more (up to
``SNAPSHOT_EVERY``), not everything since the shop's first input (issue 15: a standby rebuilds
every shop of a dead owner one after another; a small shop's replay costs some 55-90 us an input
on the loaded 2-core machine, so 20 shops 10,000 inputs behind would be 11 s of rebuilds)."""
CHILD_PATIENCE = 1.5
"""Snapshot periods a due snapshot waits for the last child to finish (at a peak the child has the
core only while the loop idles: 2-3 s, half a period at 2,000 messages/s). After that the loop
writes it itself, so a kill costs at most this many periods of replay (37,500 inputs)."""
BACKGROUND_NICE = 19
"""The niceness a snapshot's child takes (the lowest priority): it yields the CPU to the loop."""
SNAPSHOTS_KEPT = 2
LOG_KEPT = 200_000
"""Engine inputs kept in the log before the oldest kept snapshot (older ones are pruned).

Pruning deletes only inputs that both kept snapshots cover, so a damaged newest snapshot falls
back to the older one and the log after it; ``LOG_KEPT`` more are kept as a margin (a day of
a busy shop is a few hundred thousand inputs)."""




def _write_snapshot(path: Path, payload: tuple[Any, ...]) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as out:
        pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)
    fsync_dir(path.parent)  # the rename itself must survive a power cut before the log is pruned


def engine_fingerprint(engine: Engine) -> str:
    """What a snapshot's code must match: the shape of the engine's state (its classes' fields).

    Not the fenliu version: once the log is pruned a snapshot is the only copy of the routing
    state, so an upgrade that keeps the shape must be able to load it (one that changes the shape
    refuses to start on a pruned log, with a paragraph, rather than guess)."""
    from console.routing import state

    shapes = [f"{cls.__name__}:{','.join(getattr(cls, '__slots__', ()))}" for cls in
              (state.AgentState, state.Session, state.QueueEntry, state.Pool)]
    shapes.append("BuyerState:" + ",".join(state.BuyerState.__dataclass_fields__))
    shapes.append("Engine:" + ",".join(sorted(engine.__getstate__())))  # what a snapshot holds
    return "engine-state-1;" + ";".join(shapes)


class EngineDriver:
    """Owns the Engine; logs and applies inputs; knows the current policy."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time, snapshot_dir: Path | None = None) -> None:
        self.store = store
        # On PostgreSQL the snapshots are rows of the shop's ``snapshots`` table (pgstore.py), so a
        # standby on another machine rebuilds from them; on SQLite, files beside the database.
        self._in_db = getattr(store, "dialect", "sqlite") == "postgresql"
        self.snapshot_dir = snapshot_dir or store.path.parent / "snapshots"
        if not self._in_db:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        self._child: asyncio.Future[tuple[int, int]] | None = None
        self._clock = clock
        self._last = 0.0
        self.engine: Engine | None = None
        self.policy: Policy | None = None
        self.policy_text: str = ""
        self._last_seq = 0  # engine_log seq of the last logged input
        self._pruned = 0  # engine_log inputs up to this seq have been deleted
        self._since_snapshot = 0
        self._snapshot_at = 0.0  # engine time of the last snapshot (or of the rebuild)
        self.journal = Journal()  # a failed request rebuilds the engine (``reload``)

    def now(self) -> float:
        """The wall clock, held back to the last time used (never decreasing)."""
        self._last = max(self._last, self._clock())
        return self._last

    # -- start --------------------------------------------------------------------------------

    def restore(self, policy: Policy, policy_text: str) -> int:
        """Rebuild the engine from the log (or start it with ``policy`` on an empty log).

        Returns the number of inputs replayed. When the log exists, the policy in force is the
        last logged one; the caller compares ``policy_text`` and swaps with ``set_policy``.
        """
        upto = self._load_snapshot()
        rows = engine_log.inputs_after(self.store, upto)
        count = 0
        if rows:
            self._last_seq = int(rows[-1]["seq"])
        if upto or rows:
            if not upto:
                first = rows[0]
                if first["kind"] != "policy":
                    raise RuntimeError("engine log does not start with a policy")
                start = float(self.store.get_meta("engine_start") or first["at"])
                self.policy_text = str(first["body"])
                self.policy = load_policy_toml(self.policy_text)
                self.engine = Engine(self.policy, start=start)
                self._last = start
                rows = rows[1:]
            assert self.engine is not None
            for row in rows:
                at = float(row["at"])
                self._last = max(self._last, at)
                kind = row["kind"]
                if kind == "event":
                    try:
                        self.engine.apply(event_decoder.decode(row["body"]), self._last)
                    except EngineError as exc:  # cannot happen for a log this driver wrote
                        log.warning("engine log entry %s refused on replay: %s", row["seq"], exc)
                elif kind == "advance":
                    self.engine.advance(self._last)
                else:
                    self.policy_text = str(row["body"])
                    self.policy = load_policy_toml(self.policy_text)
                    self.engine.set_policy(self.policy, self._last)
                count += 1
            self._since_snapshot = count
            self._snapshot_at = self._last
            log.info("routing state rebuilt from %s and %d logged inputs",
                     f"the snapshot after input {upto}" if upto else "the start", count)
        else:
            start = self.now()
            self._snapshot_at = start
            self.store.set_meta("engine_start", repr(start))
            self.engine = Engine(policy, start=start)
            self.policy, self.policy_text = policy, policy_text
            self._append(start, "policy", policy_text)
            return 0
        return count  # the caller swaps to ``policy`` (set_policy) if it differs from the logged one

    # -- inputs -------------------------------------------------------------------------------

    def _append(self, at: float, kind: str, body: str | bytes) -> None:
        """Log an input under the next number. Inputs and timer firings are appended to the batch
        (written by one statement at its commit, ``Store.append``: two a message, issue 9); a policy
        is written at once, as ``policy_log`` reads it back in the same request."""
        seq = self._last_seq + 1  # the log's highest number, as a start or a reload read it, + 1
        if kind == "policy":
            engine_log.log_input(self.store, seq, at, kind, body)
        else:
            engine_log.append_input(self.store, seq, at, kind, body)
        self._last_seq = seq
        self._since_snapshot += 1
        if self._since_snapshot >= SNAPSHOT_EVERY or (
                self._since_snapshot >= SNAPSHOT_QUIET and at - self._snapshot_at >= SNAPSHOT_AFTER):
            self.snapshot(background=True)

    # -- snapshots ------------------------------------------------------------------------------

    def snapshot(self, *, background: bool = False) -> None:
        """Save the engine as of the last logged input.

        In the background (POSIX, with a running loop) a forked child pickles its copy-on-write
        image while the server goes on: the loop pays only for the fork. Otherwise, and at a clean
        stop, it is written here. Either way the file appears whole (written, synced, renamed).
        """
        if self.engine is None or not self._last_seq or self.store.failure is not None:
            return  # after a failed commit the engine may hold inputs the log lost
        if background and self._child is not None:
            if self._since_snapshot < CHILD_PATIENCE * SNAPSHOT_EVERY:
                # The last child is still pickling (at a peak it has the core only while the loop
                # idles): the next input after it is done asks again. Written here instead, this
                # snapshot held the loop 90-100 ms every 2-3 s at 2,000 messages/s (issue 9).
                return
            log.warning("routing snapshot written by the server itself: the last one's child is still running")
        dropped = self.engine.prune(self._last)  # buyers outside every window leave memory (issue 9)
        if dropped:
            log.info("routing state: %d buyers outside every window dropped before the snapshot", dropped)
        payload = (engine_fingerprint(self.engine), self.policy_text, self._last, self.engine)
        path = self.snapshot_dir / f"engine-{self._last_seq:012d}.pickle"
        self._since_snapshot, self._snapshot_at = 0, self._last
        if background and hasattr(os, "fork") and self._child is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                self._fork_snapshot(loop, path, payload)
                return
        self._write(path, payload)
        self._prune()

    def _write(self, path: Path, payload: tuple[Any, ...]) -> None:
        if self._in_db:  # its own connection, committed and flushed before the log is pruned
            self.store.write_snapshot_now(self._last_seq, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))  # type: ignore[attr-defined]
        else:
            _write_snapshot(path, payload)

    def _drop(self, file: Path | int) -> None:
        if isinstance(file, int):
            pg.drop_snapshot(self.store, file)
        else:
            file.unlink(missing_ok=True)

    def _read(self, file: Path | int) -> bytes:
        if isinstance(file, int):
            body = pg.read_snapshot(self.store, file)
            if body is None:
                raise FileNotFoundError(f"snapshot {file} is gone")
            return body
        return file.read_bytes()

    def _fork_snapshot(self, loop: asyncio.AbstractEventLoop, path: Path, payload: tuple[Any, ...]) -> None:
        pid = os.fork()
        if pid == 0:  # the child: write and leave without running anything of the parent's
            code = 1
            try:
                # Background work: the lowest priority, so the pickling (a second or more of CPU
                # at a peak) never takes a core from the loop that serves (issue 9: at 600
                # messages/s the child shared the server's core and held p99 over a second).
                os.nice(BACKGROUND_NICE)
                self._write(path, payload)
                code = 0
            finally:
                os._exit(code)
        self._child = loop.run_in_executor(None, os.waitpid, pid, 0)

        def reaped(done: asyncio.Future[tuple[int, int]]) -> None:
            self._child = None
            if not done.cancelled() and done.exception() is None and done.result()[1] == 0:
                log.info("routing snapshot %s written", path.name)
                self._prune()
            else:
                log.warning("routing snapshot %s failed in its child process", path.name)

        self._child.add_done_callback(reaped)

    def _snapshot_files(self) -> list[tuple[int, Path | int]]:
        if self._in_db:
            return [(upto, upto) for upto in pg.snapshot_ids(self.store)]
        found: list[tuple[int, Path | int]] = []
        for file in self.snapshot_dir.glob("engine-*.pickle"):
            try:
                found.append((int(file.stem.split("-", 1)[1]), file))
            except ValueError:
                continue
        return sorted(found, reverse=True)

    def _prune(self) -> None:
        """A new snapshot is durable: drop older snapshots, then the log both kept ones cover.

        Safe at any crash point: the snapshot file is written, synced and renamed (and its folder
        synced) before this runs, and the log rows go in one ``DELETE`` of a later batch, so a
        crash leaves either the whole log or a log that the kept snapshots cover."""
        files = self._snapshot_files()
        for _, file in files[SNAPSHOTS_KEPT:]:
            self._drop(file)
        kept = files[:SNAPSHOTS_KEPT]
        if len(kept) < SNAPSHOTS_KEPT:
            return  # no fallback snapshot yet: keep the whole log
        upto = kept[-1][0] - LOG_KEPT
        if upto <= self._pruned:
            return
        try:
            # Policy swaps stay: they are the record of the policy in force and of who applied
            # what (console/server/policy_log.py); a restore reads only the inputs after its
            # snapshot, so kept rows before it are never replayed.
            engine_log.prune_inputs(self.store, upto)
            self.store.set_meta("engine_log_pruned", str(upto))  # same batch as the delete
        except StoreError as exc:  # the store failed (the server is stopping): prune nothing
            log.warning("engine log not pruned: %s", exc)
            return
        self._pruned = upto

    def _load_snapshot(self) -> int:
        """The engine from the newest usable snapshot; the log seq it covers (0: none usable).

        A snapshot beyond the committed log (its batch never committed) is not usable."""
        logged = engine_log.last_seq(self.store)
        self._pruned = int(self.store.get_meta("engine_log_pruned") or 0)  # policy rows stay: not MIN(seq)
        for upto, file in self._snapshot_files():
            if upto > logged:
                # taken from a batch that never committed: its numbers will be used again by other
                # inputs, so the file must go before the log reaches it
                log.warning("routing snapshot %s is beyond the committed log; removed", upto)
                self._drop(file)
                continue
            if upto < self._pruned:
                log.warning("routing snapshot %s is older than the pruned log; skipped", upto)
                continue
            try:
                fingerprint, policy_text, last, engine = pickle.loads(self._read(file))
                usable = isinstance(engine, Engine) and fingerprint == engine_fingerprint(engine)
            except Exception as exc:  # noqa: BLE001 - any unreadable snapshot: fall back to the log
                log.warning("routing snapshot %s unreadable (%s); using the log", upto, exc)
                continue
            if not usable:
                log.info("routing snapshot %s is from other engine code; using the log", upto)
                continue
            self.engine, self.policy_text, self._last = engine, policy_text, float(last)
            self.policy = load_policy_toml(policy_text)
            self._last_seq = upto
            return upto
        if self._pruned:
            raise StoreError(
                f"the routing state cannot be rebuilt: the engine log in {self.store.path} starts at input "
                f"{self._pruned + 1} (the inputs before it were pruned once snapshots covered them) and no "
                f"snapshot in {self.snapshot_dir} can be used by this version of fenliu (missing, damaged, "
                "or written by an engine of another shape). Put back the snapshots folder from your backup "
                "together with the database, or start the fenliu version that wrote them; to begin an empty "
                "shop, start with --data pointing at another folder."
            )
        return 0

    def apply(self, event: AnyEvent, now: float | None = None) -> list[Decision]:
        assert self.engine is not None
        at = self.now() if now is None else max(self._last, now)
        self._last = at
        # R9.4: timers due by now fire before the input, and are logged on their own: an input the
        # engine refuses (EngineError: a transfer to an offline agent) would otherwise have fired
        # them in memory with nothing in the log (replay fires them the same way: advance, then
        # the input, at the same time).
        fired = self.engine.advance(at)
        if fired:
            self.journal.once("engine", self.reload)
            self._append(at, "advance", "")
        decisions = self.engine.apply(event, at)  # EngineError: refused, nothing more changed, not logged
        self.journal.once("engine", self.reload)
        self._append(at, "event", event_encoder.encode(event).decode())
        return fired + decisions

    def advance(self, now: float | None = None) -> list[Decision]:
        """Fire due timers; logged only when something fired (replay fires them the same way)."""
        assert self.engine is not None
        at = self.now() if now is None else max(self._last, now)
        self._last = at
        decisions = self.engine.advance(at)
        if decisions:
            self.journal.once("engine", self.reload)
            self._append(at, "advance", "")
        return decisions

    def set_policy(self, policy: Policy, text: str, now: float | None = None) -> list[Decision]:
        assert self.engine is not None
        at = self.now() if now is None else max(self._last, now)
        self._last = at
        decisions = self.engine.set_policy(policy, at)  # PolicyError: refused, nothing changed
        self.journal.once("engine", self.reload)
        self._append(at, "policy", text)
        self.policy, self.policy_text = policy, text
        return decisions

    def ahead_of_log(self) -> bool:
        """Whether the engine applied an input the log does not hold (a lost batch)."""
        logged = engine_log.last_seq(self.store)
        return self._last_seq > logged

    def reload(self) -> None:
        """Rebuild the engine from the newest snapshot and the log as the database has them now:
        after a request's writes were rolled back, the engine forgets that request's inputs too."""
        last = self._last
        self.engine, self._last_seq = None, 0
        logged = engine_log.last_seq(self.store)
        for upto, file in self._snapshot_files():
            if upto > logged:  # written for an input that is no longer there: its number comes again
                self._drop(file)
        assert self.policy is not None
        self.restore(self.policy, self.policy_text)
        self._last = max(self._last, last)  # the clock never goes back

    def next_wake(self) -> float | None:
        assert self.engine is not None
        return self.engine.next_wake()
