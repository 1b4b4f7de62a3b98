"""What the supervisor view shows: the team's tiles, agents, queues and routing decisions.

Plain data the client adapter builds from protocol messages, so the widgets depend on nothing
but this module and ``console.reception``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.protocol.messages import DecisionInfo, TeamInfo
from console.reception.model import KpiTiles


@dataclass(frozen=True, slots=True)
class AgentLine:
    """One agent as the supervisor sees it."""

    id: str
    name: str
    status: str  # online, suspended, offline
    load: int  # open sessions
    cap: int
    today: KpiTiles = field(default_factory=KpiTiles)
    status_since: float | None = None  # when the status last changed (server time)
    waiting_since: float | None = None  # the oldest unanswered message among its sessions

    @property
    def saturation(self) -> float | None:
        """load / cap (饱和度); None when the agent has no cap."""
        return self.load / self.cap if self.cap > 0 else None


@dataclass(frozen=True, slots=True)
class QueueLine:
    """One queue pool: ``queue:GROUP``, ``queue:shop`` or the message pool."""

    name: str
    length: int
    longest_wait: float | None  # seconds, None when empty
    eta: float | None  # estimated wait for a new buyer, seconds (R10.4)
    title: str = ""  # a group queue's group name, as the server says it (shown instead of the id)


@dataclass(frozen=True, slots=True)
class TeamData:
    tiles: KpiTiles = field(default_factory=KpiTiles)
    agents: tuple[AgentLine, ...] = ()
    queues: tuple[QueueLine, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionLine:
    """One routing decision about a buyer, for the "why" dialog (R2.3)."""

    t: float
    event: str  # routed, queued, closed
    to: str  # agent:ID, bot, pool, queue:G
    why: str  # a ROUTING.md §12 reason
    rule: str  # e.g. "R4.1"


def team_from_protocol(info: TeamInfo) -> TeamData:
    """The server's ``TeamInfo`` (a ``Team`` answer or a ``TeamUpdated`` event) as shown here."""
    return TeamData(
        tiles=info.kpis,
        agents=tuple(AgentLine(a.id, a.name, str(a.status), a.load, a.cap, a.kpis, a.status_since, a.waiting_since)
                     for a in info.agents),
        queues=tuple(QueueLine(q.pool, q.length, q.longest_wait, q.eta, q.name) for q in info.queues),
    )


def decisions_from_protocol(decisions: list[DecisionInfo]) -> list[DecisionLine]:
    """A ``WhyAnswer``'s decisions, oldest first."""
    return [DecisionLine(d.at, d.event, d.to, str(d.why), d.rule) for d in decisions]
