"""The engine's mutable state: agents, sessions, queue pools and buyers.

Plain objects with ``__slots__``; the engine owns them and is the only writer. The read-only
views at the bottom are what the engine hands out to the server and to replay summaries.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.routing.events import Status
from console.routing.matching import BuyerAttributes, OrderRecord
from console.routing.policy import AgentSpec

CONVERSION_WINDOW = 7 * 86400.0  # R8.2: the last 7 days


class AgentState:
    """One agent as routing sees it: status, open sessions, today's receptions (R8.3, R8.4) and
    the receptions of the last 7 days (R8.2)."""

    __slots__ = ("spec", "index", "status", "status_since", "sessions", "capped", "day", "today", "window", "paid")

    def __init__(self, spec: AgentSpec, index: int) -> None:
        self.spec = spec
        self.index = index  # policy order, the last tie-break everywhere
        self.status = Status.OFFLINE  # agents start offline
        self.status_since: float | None = None  # the time of the SetStatus that set ``status``
        self.sessions: dict[str, None] = {}  # open sessions by buyer, in opening order
        self.capped = False  # in a queuing group (§1 "capped agent")
        self.day = -1  # the local day ``today`` belongs to
        self.today: set[str] = set()  # distinct buyers received today
        # R8.2: buyer -> serials of this agent's receptions of that buyer still in the window,
        # oldest first; the engine expires them as its clock passes them (never inside a pick)
        self.window: dict[str, list[int]] = {}
        self.paid: set[str] = set()  # buyers in ``window`` whose order became paid after a reception in it

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def level(self) -> int:
        return self.spec.level

    @property
    def cap(self) -> int:
        return self.spec.cap

    @property
    def load(self) -> int:
        return len(self.sessions)

    @property
    def saturation(self) -> float:
        return len(self.sessions) / self.spec.cap

    @property
    def received_today(self) -> int:
        return len(self.today)

    @property
    def available(self) -> bool:
        """§1: online, not suspended, routable."""
        return self.status is Status.ONLINE and self.spec.routable

    @property
    def has_free_slot(self) -> bool:
        return len(self.sessions) < self.spec.cap

    def can_take(self) -> bool:
        """Caps limit only capped agents (§1, R4.5)."""
        return not self.capped or len(self.sessions) < self.spec.cap

    def note_reception(self, buyer: str, serial: int) -> None:
        """§1 received. A reception comes after every payment so far: it makes no buyer paid."""
        self.today.add(buyer)
        serials = self.window.get(buyer)
        if serials is None:
            self.window[buyer] = [serial]
        else:
            serials.append(serial)

    def note_paid(self, buyer: str) -> None:
        """The buyer's order became paid just now: after every reception of theirs in the window."""
        if buyer in self.window:
            self.paid.add(buyer)

    def expire_reception(self, buyer: str, serial: int, paid_serial: int) -> None:
        """Reception ``serial`` of ``buyer`` left the window; ``paid_serial`` is the buyer's latest
        payment (0: none). Paid stays only if it came after a reception still in the window."""
        serials = self.window.get(buyer)
        if not serials or serials[0] != serial:  # not this agent's (an agent removed and re-added)
            return
        del serials[0]
        if not serials:
            del self.window[buyer]
            self.paid.discard(buyer)
        elif paid_serial <= serials[0]:
            self.paid.discard(buyer)

    def conversion(self) -> float:
        """R8.2: (paid buyers + 1) / (received buyers + 2) over the last 7 days, smoothed. A read:
        the window is kept by the engine's clock, so the figure does not depend on when it is asked."""
        return (len(self.paid) + 1) / (len(self.window) + 2)


class Takers:
    """Who can take a buyer now (§8: the available agents, capped ones only with a free slot), per
    group and shop-wide, each in policy order, so a decision reads its candidates instead of
    testing every member of its groups: at a peak every agent is at its cap, and an arrive found
    nobody after a test of each (issue 9). The engine says which agents may have changed
    (``stale``: a status, a load, a policy); they are looked at again, by ``judge`` (the groups an
    agent is listed in while it can take a buyer, None while it cannot), when the index is next
    read: a close that dequeues frees a slot and fills it again without touching the lists.
    Derived state: a snapshot leaves it out, and the engine rebuilds it on load."""

    __slots__ = ("_agents", "_groups", "_all", "_listed", "_stale", "_judge")

    def __init__(self, agents: Sequence[AgentState], groups: Iterable[str],
                 judge: Callable[[AgentState], tuple[str, ...] | None]) -> None:
        self._agents = list(agents)  # policy order: agent ``i`` has ``index`` i
        self._groups: dict[str, list[int]] = {gid: [] for gid in groups}  # takers' indexes, sorted
        self._all: list[int] = []  # every taker's index, sorted (R8.6: the shop's)
        self._listed: dict[int, tuple[str, ...]] = {}  # a taker's index -> the groups it is listed in
        self._stale: dict[int, AgentState] = {a.index: a for a in self._agents}
        self._judge = judge

    def stale(self, agent: AgentState) -> None:
        """``agent``'s status, load or groups may have changed: look again before the next read."""
        self._stale[agent.index] = agent

    def _settle(self) -> None:
        for agent in self._stale.values():
            i, groups = agent.index, self._judge(agent)
            listed = self._listed.get(i)
            if listed == groups:
                continue
            if listed is not None:
                del self._listed[i]
                _remove(self._all, i)
                for gid in listed:
                    _remove(self._groups[gid], i)
            if groups is not None:
                self._listed[i] = groups
                bisect.insort(self._all, i)
                for gid in groups:
                    bisect.insort(self._groups[gid], i)
        self._stale.clear()

    def of(self, group_ids: Sequence[str]) -> list[AgentState]:
        """The takers of these groups, each once, in policy order."""
        if self._stale:
            self._settle()
        agents = self._agents
        if len(group_ids) == 1:  # the usual case
            return [agents[i] for i in self._groups.get(group_ids[0], ())]
        found: set[int] = set()
        for gid in group_ids:
            found.update(self._groups.get(gid, ()))
        return [agents[i] for i in sorted(found)]

    def everyone(self) -> list[AgentState]:
        """Every taker of the shop, in policy order."""
        if self._stale:
            self._settle()
        return [self._agents[i] for i in self._all]


def _remove(indexes: list[int], i: int) -> None:
    del indexes[bisect.bisect_left(indexes, i)]


class HolderKind(StrEnum):
    AGENT = "agent"
    BOT = "bot"
    QUEUE = "queue"
    POOL = "pool"


class Speaker(StrEnum):
    BUYER = "buyer"
    HOLDER = "holder"


class Session:
    """R9: one buyer with one target (agent, bot, queue place or pool) until it closes."""

    __slots__ = ("id", "buyer", "kind", "ref", "routed_at", "speaker", "said_at", "due", "entry")

    def __init__(self, sid: int, buyer: str, kind: HolderKind, ref: str | None, routed_at: float,
                 speaker: Speaker | None, said_at: float) -> None:
        self.id = sid
        self.buyer = buyer
        self.kind = kind
        self.ref = ref  # agent id or pool name
        self.routed_at = routed_at
        self.speaker = speaker  # who wrote last, None while nobody has
        self.said_at = said_at
        self.due: float | None = None  # idle close time (R9.2)
        self.entry: QueueEntry | None = None

    @property
    def holder(self) -> str:
        if self.kind is HolderKind.AGENT:
            return f"agent:{self.ref}"
        if self.kind is HolderKind.QUEUE:
            return f"queue:{self.ref}"
        return self.kind.value

    @property
    def waiting(self) -> bool:
        """The buyer wrote last and has had no reply (R3.3, R9.2)."""
        return self.speaker is Speaker.BUYER


class QueueEntry:
    __slots__ = ("buyer", "joined", "serial", "alive", "slot")

    def __init__(self, buyer: str, joined: float, serial: int) -> None:
        self.buyer = buyer
        self.joined = joined
        self.serial = serial  # arrival order among buyers that joined at the same moment
        self.alive = True
        self.slot = -1  # place in the pool's counting tree


def _slot_of(entry: QueueEntry) -> int:
    return entry.slot


class Pool:
    """A queue pool (R10.1): first in, first out, with leaving from the middle allowed.

    Entries sit in a deque (lazy deletion) for the head, and a Fenwick tree counts the live
    entries by arrival slot, so a buyer's position is O(log n) even with 10,000 waiting.
    """

    __slots__ = ("name", "group", "entries", "length", "_tree", "_next_slot")

    def __init__(self, name: str, group: str | None) -> None:
        self.name = name  # "shop" or the group id
        self.group = group
        self.entries: deque[QueueEntry] = deque()
        self.length = 0
        self._tree = [0] * 1025
        self._next_slot = 0

    def _add(self, slot: int, delta: int) -> None:
        i = slot + 1
        tree = self._tree
        while i < len(tree):
            tree[i] += delta
            i += i & -i

    def _rebuild(self) -> None:
        """Renumber the live entries from 0 into a tree twice their count (amortised O(1) a push)."""
        live = [e for e in self.entries if e.alive]
        self.entries = deque(live)
        self._tree = [0] * (max(1024, 2 * len(live)) + 1)
        for slot, entry in enumerate(live):
            entry.slot = slot
            self._add(slot, 1)
        self._next_slot = len(live)

    def push(self, entry: QueueEntry) -> int:
        """Join at the back; returns the position (1 = next)."""
        if self._next_slot + 1 >= len(self._tree):
            self._rebuild()
        entry.slot = self._next_slot
        self._next_slot += 1
        self._add(entry.slot, 1)
        self.entries.append(entry)
        self.length += 1
        return self.length

    def head(self) -> QueueEntry | None:
        while self.entries and not self.entries[0].alive:
            self.entries.popleft()
        return self.entries[0] if self.entries else None

    def pop(self) -> QueueEntry:
        entry = self.head()
        assert entry is not None
        self.entries.popleft()
        self.remove(entry)
        return entry

    def remove(self, entry: QueueEntry) -> None:
        if entry.alive:
            entry.alive = False
            self.length -= 1
            self._add(entry.slot, -1)

    def position(self, entry: QueueEntry) -> int:
        if not entry.alive:
            raise ValueError("not in this pool")
        i, total = entry.slot + 1, 0
        while i > 0:
            total += self._tree[i]
            i -= i & -i
        return total

    def alive_entries(self) -> list[QueueEntry]:
        return [e for e in self.entries if e.alive]

    def at(self, position: int) -> QueueEntry | None:
        """The live entry at ``position`` (1 = next), in O(log n): a Fenwick descent finds its
        slot, and the entries are ordered by slot, so a bisection finds the entry."""
        if not 1 <= position <= self.length:
            return None
        tree = self._tree
        size = len(tree) - 1
        index, rest = 0, position
        step = 1 << (size.bit_length() - 1)
        while step:
            nxt = index + step
            if nxt <= size and tree[nxt] < rest:
                index = nxt
                rest -= tree[nxt]
            step >>= 1
        found = bisect.bisect_left(self.entries, index, key=_slot_of)  # slot = index (0-based)
        entry = self.entries[found]
        assert entry.slot == index and entry.alive
        return entry


@dataclass(slots=True)
class BuyerState:
    id: str
    attrs: BuyerAttributes = field(default_factory=BuyerAttributes)
    role: str = "consumer"
    exclusive: str | None = None
    recent: tuple[str, float] | None = None  # R2.1 recent contact: agent, when
    last_closed: tuple[str, float] | None = None  # R5: agent of the last closed session, when
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    receivers: dict[str, float] = field(default_factory=dict)  # agent -> last reception (R8.2 paid)
    paid_serial: int = 0  # R8.2: the event serial of the latest time an order of this buyer became paid
    session: Session | None = None

    def __reduce__(self) -> tuple[type[BuyerState], tuple[Any, ...]]:
        # One per buyer in a snapshot: the constructor with every field is a fifth faster to load
        # than the default (a dict of the slots per object, set one by one). Every field, in order
        # (tests/routing: a snapshot round trip with none of them at its default).
        return (BuyerState, (self.id, self.attrs, self.role, self.exclusive, self.recent, self.last_closed,
                             self.orders, self.receivers, self.paid_serial, self.session))


# ---------------------------------------------------------------------------------------------
# Read-only views


@dataclass(frozen=True, slots=True)
class AgentView:
    id: str
    name: str
    role: str
    status: Status
    load: int
    cap: int
    saturation: float
    received_today: int
    capped: bool
    status_since: float | None = None  # when the status last changed (None: never set, offline)


@dataclass(frozen=True, slots=True)
class SessionView:
    buyer: str
    holder: str
    routed_at: float
    waiting: bool
    idle_close_at: float | None


@dataclass(frozen=True, slots=True)
class QueueView:
    pool: str  # "queue:GROUP" or "queue:shop"
    length: int
    longest_wait: float  # seconds the head has waited (0 when empty)
    eta: float  # estimated wait of the next buyer to join (R10.4)


@dataclass(frozen=True, slots=True)
class QueueEntryView:
    buyer: str
    position: int
    eta: float
    tip: str
    joined: float
