"""The agent's list and tiles as the client has applied them: the events folded into one state.

``AgentClient`` keeps one ``AgentView`` up to date before telling anyone about an event, so a
late subscriber (a window opened after login) can start from ``view`` and then follow the
events, and a test can compare it with the server's own view after a storm of reconnects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.protocol.messages import (
    AgentEvent,
    ConversationRemoved,
    ConversationUpdated,
    KpisUpdated,
    MessageAdded,
    Snapshot,
    Status,
    StatusChanged,
    TeamInfo,
    TeamUpdated,
)
from console.reception.model import Conversation, KpiTiles


@dataclass
class AgentView:
    """What the console shows, as of event ``seq``."""

    seq: int | None = None
    conversations: dict[str, Conversation] = field(default_factory=dict)
    status: Status = Status.OFFLINE
    load: int = 0
    cap: int = 0
    kpis: KpiTiles = field(default_factory=KpiTiles)
    team: TeamInfo | None = None

    def apply(self, event: AgentEvent) -> None:
        """Fold one accepted event in (a snapshot replaces everything but the team view)."""
        if isinstance(event, Snapshot):
            self.conversations = {c.id: c for c in event.conversations}
            self.status, self.load, self.cap, self.kpis = event.status, event.load, event.cap, event.kpis
        elif isinstance(event, ConversationUpdated):
            self._put(event.conversation)
        elif isinstance(event, ConversationRemoved):
            self.conversations.pop(event.id, None)
        elif isinstance(event, StatusChanged):
            self.status, self.load, self.cap = event.status, event.load, event.cap
        elif isinstance(event, KpisUpdated):
            self.kpis = event.kpis
        elif isinstance(event, TeamUpdated):
            self.team = event.team
        elif isinstance(event, MessageAdded):
            if event.conversation is not None:  # None: stored by an older server, its row came apart
                self._put(event.conversation)
        self.seq = event.seq

    def _put(self, row: Conversation) -> None:
        if row.cleared:
            self.conversations.pop(row.id, None)
        else:
            self.conversations[row.id] = row
