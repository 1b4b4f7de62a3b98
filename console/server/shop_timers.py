"""The shop's clock-driven work: ``ShopTimers``.

Three kinds of asyncio timers, each ending in one request of the shop's (``Shop.atomic``):
- one timer follows ``Engine.next_wake`` (idle close R9.2, and what it frees, R9.3):
  ``Shop.wake``;
- one per disconnected agent runs the grace period (R3.4), then sets it offline (R3.3):
  ``Shop.grace_over``;
- the KPI book rolls at local midnight of the policy's timezone (CONSOLE.md §3), and follows a
  policy that changes the timezone.
Nothing here decides: the engine says when it wakes, the policy how long the grace is.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from console.routing.events import Status

if TYPE_CHECKING:
    from console.server.shop import Shop


class ShopTimers:
    """The timers of one shop (started with it, cancelled when it stops)."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at: float | None = None  # the engine wake-up ``_wake`` was set for
        self._wake_due = 0.0  # and the loop time it fires at
        self._midnight: asyncio.TimerHandle | None = None
        self._grace: dict[str, asyncio.TimerHandle] = {}

    def start(self) -> None:
        """Call inside the running loop, once the shop has started."""
        self._schedule_midnight()
        self.reschedule()

    def cancel(self) -> None:
        for handle in (self._wake, self._midnight, *self._grace.values()):
            if handle is not None:
                handle.cancel()
        self._grace.clear()

    # -- the engine's next wake-up ----------------------------------------------------------------

    def reschedule(self) -> None:
        """Keep one timer on the engine's next wake-up (R9.2 idle closes)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        driver = self.shop.driver
        wake = driver.next_wake()
        delay = None if wake is None else max(0.0, wake - driver.now())
        if self._wake is not None:
            if wake == self._wake_at and delay is not None and self._wake_due <= loop.time() + delay + 0.001:
                return  # the timer set is still the one needed (most requests move no deadline)
            self._wake.cancel()
            self._wake = None
        self._wake_at = wake
        if delay is not None:
            # the due time is kept here: a qasync loop's call_later gives a Handle without when()
            self._wake_due = loop.time() + delay
            self._wake = loop.call_later(delay, self._on_wake)

    def _on_wake(self) -> None:
        self._wake = None
        self.shop.wake()

    # -- the disconnect grace period (R3.4) -------------------------------------------------------

    def agent_connected(self, agent: str) -> None:
        handle = self._grace.pop(agent, None)
        if handle is not None:
            handle.cancel()

    def agent_disconnected(self, agent: str) -> None:
        """R3.4: the agent keeps its status for the grace period, then goes offline (R3.3)."""
        shop = self.shop
        if agent in self._grace or agent not in shop.staff.everyone:
            return
        engine = shop.driver.engine
        if engine is None or engine.agent(agent).status is Status.OFFLINE:
            return
        loop = asyncio.get_running_loop()
        self._grace[agent] = loop.call_later(shop.policy.disconnect_grace, self._grace_over, agent)

    def _grace_over(self, agent: str) -> None:
        self._grace.pop(agent, None)
        if not self.shop.hub.is_connected(agent):
            self.shop.grace_over(agent)

    # -- the KPI book's local midnight (CONSOLE.md §3) --------------------------------------------

    def follow_timezone(self) -> None:
        """A policy with another timezone moves the KPI days and their midnight."""
        shop = self.shop
        if shop.kpis is None or shop.kpis.timezone == shop.policy.timezone:
            return
        shop.kpis.timezone = shop.policy.timezone
        shop.kpis.rebuild(shop.driver.now())
        if self._midnight is not None:
            self._midnight.cancel()
            self._schedule_midnight()
        shop.poke_kpis()

    def _schedule_midnight(self) -> None:
        kpis = self.shop.kpis
        assert kpis is not None
        loop = asyncio.get_running_loop()
        delay = max(0.5, kpis.today.end - self.shop.driver.now() + 0.5)
        self._midnight = loop.call_later(delay, self._on_midnight)

    def _on_midnight(self) -> None:
        kpis = self.shop.kpis
        assert kpis is not None
        kpis.roll_if_needed(self.shop.driver.now())  # today becomes yesterday for every tile
        self.shop.poke_kpis()
        self._schedule_midnight()
