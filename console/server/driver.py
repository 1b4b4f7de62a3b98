"""The routing engine, made durable: every input logged before it is applied, replayed on start.

The engine is deterministic (R8.7), so its whole state (sessions, queue order, recent contacts,
today's counts, the random generator) is a function of its inputs and their times. The driver
applies each input and appends it to ``engine_log`` in the same step (in the current write
batch), so the log order is the application order; a refused input (``EngineError``) changes
nothing and is not logged; the caller acts on the decisions through the same batch (rows, pushes after commit), so
what clients see never runs ahead of what a restart can rebuild (ARCHITECTURE.md, R10.7).

Three kinds of input are logged: engine events, policy swaps (the TOML text) and timer firings
(``advance``). On start the log is applied again from the beginning with the decisions thrown
away: their effects are already in the database, committed with the log entries that caused them.

The clock is the wall clock, but never goes backwards: the engine requires non-decreasing times,
and a restart or a clock step must not break that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from console.routing.engine import Engine, EngineError
from console.routing.events import AnyEvent, Decision, event_decoder, event_encoder
from console.routing.policy import Policy, load_policy_toml
from console.server.store import Store

log = logging.getLogger(__name__)


class EngineDriver:
    """Owns the Engine; logs and applies inputs; knows the current policy."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock
        self._last = 0.0
        self.engine: Engine | None = None
        self.policy: Policy | None = None
        self.policy_text: str = ""

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
        rows = self.store.all("SELECT seq, at, kind, body FROM engine_log ORDER BY seq")
        count = 0
        if rows:
            first = rows[0]
            if first["kind"] != "policy":
                raise RuntimeError("engine log does not start with a policy")
            start = float(self.store.get_meta("engine_start") or first["at"])
            self.policy_text = str(first["body"])
            self.policy = load_policy_toml(self.policy_text)
            self.engine = Engine(self.policy, start=start)
            self._last = start
            for row in rows[1:]:
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
            log.info("routing state rebuilt from %d logged inputs", count)
        else:
            start = self.now()
            self.store.set_meta("engine_start", repr(start))
            self.engine = Engine(policy, start=start)
            self.policy, self.policy_text = policy, policy_text
            self._append(start, "policy", policy_text)
            return 0
        return count  # the caller swaps to ``policy`` (set_policy) if it differs from the logged one

    # -- inputs -------------------------------------------------------------------------------

    def _append(self, at: float, kind: str, body: str | bytes) -> None:
        self.store.execute("INSERT INTO engine_log (at, kind, body) VALUES (?, ?, ?)", (at, kind, body))

    def apply(self, event: AnyEvent, now: float | None = None) -> list[Decision]:
        assert self.engine is not None
        at = self.now() if now is None else max(self._last, now)
        self._last = at
        decisions = self.engine.apply(event, at)  # EngineError: refused, state unchanged, not logged
        self._append(at, "event", event_encoder.encode(event).decode())
        return decisions

    def advance(self, now: float | None = None) -> list[Decision]:
        """Fire due timers; logged only when something fired (replay fires them the same way)."""
        assert self.engine is not None
        at = self.now() if now is None else max(self._last, now)
        self._last = at
        decisions = self.engine.advance(at)
        if decisions:
            self._append(at, "advance", "")
        return decisions

    def set_policy(self, policy: Policy, text: str, now: float | None = None) -> list[Decision]:
        assert self.engine is not None
        at = self.now() if now is None else max(self._last, now)
        self._last = at
        decisions = self.engine.set_policy(policy, at)  # PolicyError: refused, nothing changed
        self._append(at, "policy", text)
        self.policy, self.policy_text = policy, text
        return decisions

    def next_wake(self) -> float | None:
        assert self.engine is not None
        return self.engine.next_wake()
