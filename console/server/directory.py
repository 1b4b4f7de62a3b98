"""The buyer directory: the server's own account data for everyone on the buyer side.

The kind of a buyer-side id (consumer, merchant, platform staff, group chat) decides the badge and
the section (CONSOLE.md §1). It comes only from here: a gateway can say who a buyer is and what
they are called, never what kind of account they are, so an impostor who names themselves 小二
stays an ordinary consumer. Unknown ids become consumers on first contact; staff, merchant and
group ids are set by the operator (``fenliu accounts buyer ID --kind staff``) or a platform import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from console.protocol.identifiers import ID_RULE, is_clean_id, visible_name
from console.reception.model import Kind
from console.server.journal import Journal
from console.server.repository import buyers as buyers_sql
from console.server.store import Store


@dataclass(frozen=True, slots=True)
class BuyerAccount:
    id: str
    name: str
    kind: Kind


class Directory:
    """Buyer-side accounts on the store, cached in memory (they are read on every message)."""

    def __init__(self, store: Store, journal: Journal | None = None) -> None:
        self.store = store
        self.journal = journal or Journal()
        self._cache: dict[str, BuyerAccount] = {}

    def _cache_account(self, account: BuyerAccount) -> None:
        before = self._cache.get(account.id)
        self.journal.once(("buyer", account.id), lambda: self._uncache(account.id, before))
        self._cache[account.id] = account

    def _uncache(self, buyer: str, before: BuyerAccount | None) -> None:
        if before is None:
            self._cache.pop(buyer, None)
        else:
            self._cache[buyer] = before

    def get(self, buyer: str) -> BuyerAccount | None:
        cached = self._cache.get(buyer)
        if cached is not None:
            return cached
        row = buyers_sql.buyer(self.store, buyer)
        if row is None:
            return None
        account = BuyerAccount(*row)
        self._cache[buyer] = account
        return account

    def greet(self, buyer: str, name: str, now: float | None = None) -> BuyerAccount:
        """The buyer's account, created as a consumer on first contact. A known buyer's kind stays;
        an empty or unchanged name changes nothing. The name is kept without hidden characters
        (bidi, zero-width, control), so no console shows them (issue 10)."""
        account = self.get(buyer)
        display = visible_name(name).strip() or (account.name if account else buyer)
        if account is None:
            buyers_sql.add_buyer(self.store, buyer, display, Kind.CONSUMER, time.time() if now is None else now)
            account = BuyerAccount(buyer, display, Kind.CONSUMER)
        elif display != account.name:
            buyers_sql.rename_buyer(self.store, buyer, display)
            account = BuyerAccount(buyer, display, account.kind)
        self._cache_account(account)
        return account

    def set_kind(self, buyer: str, kind: Kind, *, name: str | None = None) -> BuyerAccount:
        """Operator action: declare what kind of account an id is."""
        if not buyer or len(buyer) > 64 or not is_clean_id(buyer):
            raise ValueError(f"bad buyer id {buyer!r}: 1-64 characters; {ID_RULE}")
        current = self.get(buyer)
        display = (visible_name(name).strip() if name else "") or (current.name if current else buyer)
        buyers_sql.put_buyer(self.store, buyer, display, kind, time.time())
        account = BuyerAccount(buyer, display, kind)
        self._cache_account(account)
        return account
