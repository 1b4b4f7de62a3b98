"""Login throttling that an attacker cannot turn against honest users, and that costs little.

Issue 10 (the design and the threat each rule answers: docs/SECURITY.md):

- Failures are counted per (user name, address): a guesser locks only itself out of that name,
  never the owner at another address, never the other users behind the same address (an office
  NAT). A name that is not an account is counted the same way (so a lockout does not tell which
  names exist) and so locks nobody.
- An attempt takes its place in the count *before* its hash is computed and gives it back if the
  password was right: concurrent attempts cannot all slip under the limit.
- Per user name over all addresses: past ``login_account_failures`` only addresses that have not
  failed for that name may still try (a spread-out guesser gets one try per address).
- Hashes run on a small pool (``hash_workers`` threads); at most ``hash_queue`` attempts wait and
  at most ``hashes_per_address`` come from one address; others are refused at once, unhashed.
- A valid resume token always works; bogus tokens are counted per address and refused fast, and
  never lock out a valid token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from console.server.limits import Limits

_MAX_KEYS = 100_000  # bound the memory an address- or name-spraying attacker can use


class LoginRefused(Exception):
    """The attempt is refused before any password is looked at (``rate_limited``)."""


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    """Failed-login counts and lockouts; pure bookkeeping with the clock passed in."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._pairs: dict[tuple[str, str], _Failures] = {}  # (name, address), ("", address) for resumes
        self._names: dict[str, list[float]] = {}

    def _recent(self, times: list[float], now: float) -> list[float]:
        return [t for t in times if now - t < self.limits.login_window]

    def retry_after(self, name: str, address: str) -> float:
        """Seconds until ``address`` may try a password for ``name`` again (0: go ahead)."""
        now = self.clock()
        pair = self._pairs.get((name, address))
        if pair is None:
            return 0.0  # an address that has not failed for this name is never refused
        pair.times = self._recent(pair.times, now)
        wait = pair.locked_until - now
        names = self._names.get(name, [])
        if pair.times and len(names) >= self.limits.login_account_failures:
            names[:] = self._recent(names, now)
            if len(names) >= self.limits.login_account_failures:
                wait = max(wait, names[len(names) - self.limits.login_account_failures] + self.limits.login_window - now)
        return max(0.0, wait)

    def take(self, name: str, address: str) -> float:
        """Count an attempt as failed before its hash is known; returns its stamp for ``succeeded``."""
        now = self.clock()
        self._bound(now)
        self._count(self._pairs.setdefault((name, address), _Failures()), now, self.limits.login_failures)
        names = self._names.setdefault(name, [])
        names[:] = self._recent(names, now)
        names.append(now)
        return now

    def succeeded(self, name: str, address: str, stamp: float) -> None:
        """The password was right: give back the attempt's place; this address starts afresh."""
        self._pairs.pop((name, address), None)
        names = self._names.get(name)
        if names is not None and stamp in names:
            names.remove(stamp)

    def resume_retry_after(self, address: str) -> float:
        pair = self._pairs.get(("", address))
        return 0.0 if pair is None else max(0.0, pair.locked_until - self.clock())

    def resume_failed(self, address: str) -> None:
        now = self.clock()
        self._bound(now)
        self._count(self._pairs.setdefault(("", address), _Failures()), now, self.limits.login_failures)

    def _count(self, entry: _Failures, now: float, allowed: int) -> None:
        entry.times = self._recent(entry.times, now)
        entry.times.append(now)
        excess = len(entry.times) - allowed
        if excess >= 0:
            lockout = min(self.limits.login_lockout * (2 ** min(excess, 32)), self.limits.login_lockout_cap)
            entry.locked_until = max(entry.locked_until, now + lockout)

    def _bound(self, now: float) -> None:
        if len(self._pairs) > _MAX_KEYS:
            self._pairs = {k: v for k, v in self._pairs.items() if v.locked_until > now}
        if len(self._names) > _MAX_KEYS:
            self._names = {k: v for k, v in self._names.items() if self._recent(v, now)}


class HashPool:
    """A few worker threads for password hashes; an attempt that would wait too long is refused."""

    def __init__(self, workers: int, queue: int, per_address: int) -> None:
        self.capacity = workers + queue
        self.per_address = per_address
        self._executor = concurrent.futures.ThreadPoolExecutor(max(1, workers), thread_name_prefix="fenliu-hash")
        self._in_flight = 0
        self._by_address: dict[str, int] = {}
        self._lock = threading.Lock()
        self.hashes = 0  # hashes computed so far (the log and the tests read it)

    def reserve(self, address: str) -> bool:
        """Take a place for one hash from ``address``; False when the pool or the address is full."""
        if self._in_flight >= self.capacity or self._by_address.get(address, 0) >= self.per_address:
            return False
        self._in_flight += 1
        self._by_address[address] = self._by_address.get(address, 0) + 1
        return True

    def _release(self, address: str) -> None:
        self._in_flight -= 1
        left = self._by_address.get(address, 0) - 1
        if left > 0:
            self._by_address[address] = left
        else:
            self._by_address.pop(address, None)

    async def run(self, address: str, work: Callable[[], bool]) -> bool:
        """Run ``work`` on the pool for a place taken with ``reserve``; the place is given back
        when the work is over (not when the caller stops waiting)."""
        loop = asyncio.get_running_loop()

        def counted() -> bool:
            try:
                return work()
            finally:
                with self._lock:
                    self.hashes += 1

        future = self._executor.submit(counted)

        def done(_: concurrent.futures.Future[bool]) -> None:
            try:
                loop.call_soon_threadsafe(self._release, address)
            except RuntimeError:  # the loop is closed: the server is gone
                pass

        future.add_done_callback(done)
        return await asyncio.wrap_future(future, loop=loop)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class LoginGate:
    """Decides whether a password attempt is hashed at all, hashes it, and counts the outcome."""

    def __init__(self, limits: Limits, verify: Callable[[str | None, str], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle = LoginThrottle(limits, clock)
        self.pool = HashPool(limits.hash_workers, limits.hash_queue, limits.hashes_per_address)
        self._verify = verify

    async def check_password(self, name: str, address: str, stored_hash: str | None, password: str) -> bool:
        """True when the password is right; raises ``LoginRefused`` when it is not even tried."""
        wait = self.throttle.retry_after(name, address)
        if wait > 0:
            raise LoginRefused(f"too many failed logins; try again in {math.ceil(wait)} s")
        if not self.pool.reserve(address):
            raise LoginRefused("too many logins at once; try again in a few seconds")
        stamp = self.throttle.take(name, address)  # counted as failed until the hash says otherwise
        ok = await self.pool.run(address, lambda: self._verify(stored_hash, password))
        if ok:
            self.throttle.succeeded(name, address, stamp)
        return ok

    def check_resume(self, address: str, valid: bool) -> None:
        """A valid token always passes; a bogus one is counted, and refused fast once locked."""
        if valid:
            return
        wait = self.throttle.resume_retry_after(address)
        self.throttle.resume_failed(address)
        if wait > 0:
            raise LoginRefused(f"too many failed resumes; try again in {math.ceil(wait)} s")

    def close(self) -> None:
        self.pool.close()
