"""Which agents' status, load and cap must be pushed (the ``status`` event): pure, like ``changes``.

A decision or an engine input names the agents whose load may have moved (``DecisionChanges.touched``,
``changes.agents_in``); each is told its status, load and cap when they differ from what it was last
told. ``Shop`` reads the engine's current figures for those agents, keeps what it last pushed, and
applies the pushes (after the commit, through the hub).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from console.routing.events import Status

AgentState = tuple[Status, int, int]  # status, open sessions (load), cap


@dataclass(frozen=True, slots=True)
class StatusPush:
    """An agent must be told its status, load and cap (StatusChanged)."""

    agent: str
    status: Status
    load: int
    cap: int

    @property
    def state(self) -> AgentState:
        return self.status, self.load, self.cap


def status_pushes(now: Mapping[str, AgentState], sent: Mapping[str, AgentState]) -> tuple[StatusPush, ...]:
    """``now``: the current figures of the agents a change named (an agent no longer in the policy
    is not among them). The pushes, in agent order: those whose figures differ from what was ``sent``."""
    return tuple(StatusPush(agent, *state) for agent, state in sorted(now.items()) if sent.get(agent) != state)
