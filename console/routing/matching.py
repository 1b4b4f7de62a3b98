"""Group matching (R7.3, R7.5) and the buyer's order state (R7.4)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from console.routing.policy import GroupSpec


@dataclass(frozen=True, slots=True)
class OrderRecord:
    state: str  # unpaid, paid, shipped, success, closed, after_sale
    at: float
    serial: int  # breaks ties between orders updated at the same moment: the later event wins
    success_at: float | None = None  # R7.4: the first time this order became success

    def __reduce__(self) -> tuple[type[OrderRecord], tuple[str, float, int, float | None]]:
        # Snapshots pickle one per order; the dataclass default (fields() per object) is 10x slower.
        return (OrderRecord, (self.state, self.at, self.serial, self.success_at))


def says_handoff(text: str, words: Sequence[str]) -> bool:
    """R7.7: the message contains a hand-off word (casefolded, so "Human" is "human").

    The one matcher: the engine hands off on it, the server's bot will not answer it."""
    folded = text.casefold()
    return any(word.casefold() in folded for word in words if word)


def order_state(orders: dict[str, OrderRecord], now: float, after_sale_window: float) -> str:
    """R7.4: the state of the buyer's most recently updated order, as routing sees it."""
    if not orders:
        return "none"
    latest = max(orders.values(), key=lambda r: (r.at, r.serial))
    if latest.state == "closed":
        return "none"
    if latest.state == "success":
        # success counts within the window from the first success of that order (a repeated
        # success update does not restart it); after it the buyer is a repeat purchase
        since = latest.at if latest.success_at is None else latest.success_at
        return "success" if now - since < after_sale_window else "none"
    return latest.state


@dataclass(frozen=True, slots=True)
class BuyerAttributes:
    """What routing knows of a buyer at an arrive (R7.5: re-routes use the latest arrive's)."""

    entry: str = "other"
    product: str | None = None
    question: str | None = None
    intent: str | None = None
    crowd: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Callable[..., BuyerAttributes], tuple[str, str | None, str | None, str | None, tuple[str, ...]]]:
        # One per buyer in a snapshot: see OrderRecord.__reduce__. Loaded through a cache: buyers
        # who arrived the same way share one (immutable) object, built once (issue 9: a third of
        # a 1,000,000-buyer snapshot's buyer load was these).
        return (_shared_attributes, (self.entry, self.product, self.question, self.intent, self.crowd))


@functools.lru_cache(maxsize=4096)
def _shared_attributes(entry: str, product: str | None, question: str | None, intent: str | None,
                       crowd: tuple[str, ...]) -> BuyerAttributes:
    """A snapshot's ``BuyerAttributes``, one object per distinct value (it is frozen)."""
    return BuyerAttributes(entry, product, question, intent, crowd)


def _binds(group: GroupSpec, dimension: str) -> bool:
    return bool(_bindings(group, dimension))


def _bindings(group: GroupSpec, dimension: str) -> tuple[str, ...]:
    return {"crowd": group.crowd, "product": group.products, "entry": group.entries,
            "intent": group.intents, "order": group.orders}[dimension]


def _matches(group: GroupSpec, dimension: str, buyer: BuyerAttributes, state: str) -> bool:
    if dimension == "crowd":  # R7.5: any of the buyer's tags
        return any(tag in group.crowd for tag in buyer.crowd)
    if dimension == "product":
        return buyer.product is not None and buyer.product in group.products
    if dimension == "intent":
        return buyer.intent is not None and buyer.intent in group.intents
    if dimension == "order":
        return state in group.orders
    # R7.5 entry: ENTRY (any question) or ENTRY:QUESTION
    for binding in group.entries:
        entry, sep, question = binding.partition(":")
        if entry == buyer.entry and (not sep or question == buyer.question):
            return True
    return False


def match_groups(groups: Sequence[GroupSpec], order: Sequence[str], buyer: BuyerAttributes,
                 state: str) -> list[GroupSpec]:
    """R7.3: narrow the candidate groups dimension by dimension; a miss keeps every candidate."""
    candidates = list(groups)
    for dimension in order:
        kept = [g for g in candidates if _binds(g, dimension) and _matches(g, dimension, buyer, state)]
        if kept:
            candidates = kept
    return candidates


class GroupMatcher:
    """R7.3 with the bindings indexed: a decision costs the groups that match, not all groups.

    Gives the same result as :func:`match_groups` (a test checks them against each other).
    """

    def __init__(self, groups: Sequence[GroupSpec]) -> None:
        self.groups = list(groups)
        self.index: dict[str, dict[str, list[int]]] = {d: {} for d in ("crowd", "product", "entry", "intent", "order")}
        for i, group in enumerate(self.groups):
            for dimension, table in self.index.items():
                for binding in _bindings(group, dimension):
                    table.setdefault(binding, []).append(i)

    def _matching(self, dimension: str, buyer: BuyerAttributes, state: str) -> set[int]:
        table = self.index[dimension]
        if dimension == "crowd":
            keys: tuple[str | None, ...] = buyer.crowd
        elif dimension == "product":
            keys = (buyer.product,)
        elif dimension == "intent":
            keys = (buyer.intent,)
        elif dimension == "order":
            keys = (state,)
        else:  # R7.5: ENTRY matches any question, ENTRY:QUESTION only that one
            keys = (buyer.entry, f"{buyer.entry}:{buyer.question}" if buyer.question is not None else None)
        found: set[int] = set()
        for key in keys:
            if key is not None and key in table:
                found.update(table[key])
        return found

    def match(self, order: Sequence[str], buyer: BuyerAttributes, state: str) -> list[GroupSpec]:
        candidates: set[int] | None = None  # None: every group
        for dimension in order:
            found = self._matching(dimension, buyer, state)
            kept = found if candidates is None else found & candidates
            if kept:
                candidates = kept
        if candidates is None:
            return list(self.groups)
        return [self.groups[i] for i in sorted(candidates)]
