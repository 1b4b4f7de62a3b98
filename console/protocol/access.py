"""Who may send which request (CONSOLE.md §5), as a pure check the server runs before acting.

Nothing but ``Login`` / ``Resume`` works before login; ``GetTeam`` and ``ApplyPolicy`` need a
supervisor or the main account. ``Transfer`` is for the session's holder or a supervisor, which
only the server can tell. Whether a conversation belongs to the
agent is the server's to decide (it holds the sessions); this module only knows the roles.
"""

from __future__ import annotations

from console.protocol.codec import ProtocolError
from console.protocol.messages import (
    PRE_LOGIN,
    SUPERVISOR_ONLY,
    AgentRequest,
    BuyerHello,
    BuyerRequest,
    ErrorCode,
    Role,
)

TEAM_ROLES: frozenset[Role] = frozenset({Role.SUPERVISOR, Role.MAIN})
"""Roles that see the whole team and may transfer any session (CONSOLE.md §5 "supervisors can see all")."""


def check_agent(request: AgentRequest, role: Role | None) -> None:
    """Raise ``ProtocolError`` when a console with ``role`` (None: not logged in) may not send this."""
    if role is None:
        if not isinstance(request, PRE_LOGIN):
            raise ProtocolError(ErrorCode.UNAUTHENTICATED, "log in first (login or resume)", rid=request.rid)
        return
    if isinstance(request, PRE_LOGIN):
        raise ProtocolError(ErrorCode.CONFLICT, "already logged in on this connection", rid=request.rid)
    if isinstance(request, SUPERVISOR_ONLY) and role not in TEAM_ROLES:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, f"{type(request).__name__} is for supervisors only", rid=request.rid
        )


def check_buyer(request: BuyerRequest, greeted: bool) -> None:
    """Raise ``ProtocolError`` unless ``hello`` comes first on ``/buyer``, and only once."""
    if not greeted and not isinstance(request, BuyerHello):
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, "say hello (who the buyer is) first", rid=request.rid)
    if greeted and isinstance(request, BuyerHello):
        raise ProtocolError(ErrorCode.CONFLICT, "this connection already has a buyer", rid=request.rid)
