"""Live consoles of an account whose access ended are cut off at once (issue 10, point 1).

`fenliu accounts disable` and `fenliu accounts passwd` run as their own processes and write the
database beside the running server: they revoke the account's tokens (``Accounts.revoke_all``).
Before this, a console already logged in kept its connection: it went on receiving new buyers and
their messages, and its replies were acknowledged.

The server watches its database for commits made by another connection (``PRAGMA data_version``
changes only then: a cheap read, once a second) and, when one came, asks which of its live
consoles hold a token that is no longer valid (revoked, or its account disabled; an expiry during
a shift is not a revocation). Each such console is marked (its requests are refused from that
moment), closed with ``CLOSE_REVOKED`` and a reason the console shows; an agent left with no
valid console goes offline now, not after the disconnect grace period, so its waiting buyers go
to colleagues (R3.3).
"""

from __future__ import annotations

import asyncio
import logging

from console.protocol.limits import CLOSE_REVOKED
from console.routing.events import Status
from console.server.accounts import Accounts
from console.server.audit import SYSTEM
from console.server.hub import AgentLink, Hub
from console.server.shop import Shop
from console.server.store import Store, StoreError

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds between looks at the database's change counter
REASON = "account disabled or its password changed: log in again"


class Revocations:
    """Cuts off the live consoles whose tokens were revoked by another process."""

    def __init__(self, store: Store, accounts: Accounts, hub: Hub, shop: Shop) -> None:
        self.store, self.accounts, self.hub, self.shop = store, accounts, hub, shop
        self._version = self._data_version()

    def _data_version(self) -> int:
        return self.store.data_version()

    def check(self) -> list[AgentLink]:
        """Close the consoles whose access ended since the last look; returns them."""
        version = self._data_version()
        if version == self._version:
            return []
        self._version = version
        links = [link for link in self.hub.links() if not link.revoked]
        if not links:
            return []
        ended = self.accounts.invalid_tokens({link.token for link in links})
        cut = [link for link in links if link.token in ended]
        for link in cut:
            link.revoked = True  # from now on its requests are refused (agents.py)
            log.warning("%s: access ended (account disabled or password changed); console closed", link.agent)
            self.hub.close(link.conn, CLOSE_REVOKED, REASON)
        for agent in sorted({link.agent for link in cut}):
            if any(not other.revoked for other in self.hub.links() if other.agent == agent):
                continue  # another console of the account, logged in afresh, stays
            self._offline(agent)
        return cut

    def _offline(self, agent: str) -> None:
        engine = self.shop.driver.engine
        if engine is None or agent not in self.shop.staff.everyone or engine.agent(agent).status is Status.OFFLINE:
            return
        with self.shop.atomic():
            self.shop.set_status(agent, Status.OFFLINE, by=SYSTEM)  # R3.3: its waiting buyers go to colleagues

    async def watch(self, every: float = CHECK_EVERY) -> None:
        """Look once every ``every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(every)
            try:
                self.check()
            except StoreError:  # the store failed: the server is stopping
                return
            except Exception:  # never let the watcher die silently
                log.exception("revocation check failed")
