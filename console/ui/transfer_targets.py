"""Whom an agent can transfer a buyer to (转接, issue 12): colleagues and groups, as plain data.

Built from the server's ``colleagues`` answer; the transfer dialog lists them available first
(online, below their cap, the least loaded first), then the busy and suspended ones, then the
groups, then the offline colleagues, shown but not selectable (R3.5 refuses them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.protocol.messages import Colleagues


@dataclass(frozen=True, slots=True)
class TransferTarget:
    kind: str  # "agent" or "group"
    id: str
    name: str
    status: str = ""  # agents: online, suspended, offline
    load: int = 0  # agents: open sessions
    cap: int = 0
    queues: bool = False  # groups: a full group queues the buyer

    @property
    def available(self) -> bool:
        """Can take a buyer now: an online colleague below their cap."""
        return self.kind == "agent" and self.status == "online" and self.load < self.cap

    @property
    def selectable(self) -> bool:
        """The server takes a transfer to it (R3.5 refuses an offline agent)."""
        return self.kind == "group" or self.status != "offline"


def _rank(target: TransferTarget) -> tuple[int, float, str]:
    if target.available:
        return (0, target.load / target.cap if target.cap else 1.0, target.name)
    if target.kind == "agent" and target.selectable:
        return (1, 0.0, target.name)
    if target.kind == "group":
        return (2, 0.0, "")  # groups keep the policy's order (sorted is stable)
    return (3, 0.0, target.name)


def targets_from_protocol(answer: Colleagues) -> list[TransferTarget]:
    """The ``colleagues`` answer in the dialog's order: available colleagues first."""
    targets = [TransferTarget("agent", a.id, a.name or a.id, str(a.status), a.load, a.cap) for a in answer.agents]
    targets.extend(TransferTarget("group", g.id, g.name or g.id, queues=g.queues) for g in answer.groups)
    return in_dialog_order(targets)


def in_dialog_order(targets: Iterable[TransferTarget]) -> list[TransferTarget]:
    """Available colleagues (least loaded first), the busy and suspended, the groups, the offline."""
    return sorted(targets, key=_rank)
