"""Who may send what: nothing before login, team requests for supervisors only."""

from __future__ import annotations

import pytest

from console.protocol import examples
from console.protocol import messages as m
from console.protocol.access import check_agent, check_buyer
from console.protocol.codec import ProtocolError


@pytest.mark.parametrize("request_", examples.AGENT_REQUESTS, ids=lambda r: type(r).__name__)
def test_before_login_only_login_and_resume(request_: m.AgentRequest) -> None:
    if isinstance(request_, (m.Login, m.Resume)):
        check_agent(request_, None)
    else:
        with pytest.raises(ProtocolError) as info:
            check_agent(request_, None)
        assert info.value.code is m.ErrorCode.UNAUTHENTICATED
        assert info.value.rid == request_.rid


@pytest.mark.parametrize(
    "request_", [m.GetTeam(), m.ApplyPolicy(toml="x"), m.GetQueue(pool="queue:presale"),
                 m.GetAgentConversations(agent="a1")]
)
def test_team_requests_need_a_supervisor(request_: m.AgentRequest) -> None:
    check_agent(request_, m.Role.SUPERVISOR)
    check_agent(request_, m.Role.MAIN)
    for role in (m.Role.AGENT, m.Role.PROXY):
        with pytest.raises(ProtocolError) as info:
            check_agent(request_, role)
        assert info.value.code is m.ErrorCode.FORBIDDEN


def test_agent_requests_allowed_after_login() -> None:
    for request_ in examples.AGENT_REQUESTS:
        if not isinstance(request_, (m.Login, m.Resume, *m.SUPERVISOR_ONLY)):
            check_agent(request_, m.Role.AGENT)


def test_any_role_may_send_transfer_the_server_checks_the_holder() -> None:
    """Issue 12: the holder transfers its own sessions (the server refuses anyone else's)."""
    for role in m.Role:
        check_agent(m.Transfer(conversation="b", agent="a2", note="尺码问题"), role)


def test_second_login_on_a_connection_conflicts() -> None:
    with pytest.raises(ProtocolError) as info:
        check_agent(m.Login(user="a", password="p"), m.Role.AGENT)
    assert info.value.code is m.ErrorCode.CONFLICT


def test_buyer_side_hello_first_and_once() -> None:
    hello = m.BuyerHello(buyer="b1")
    say = m.Say(rid="s", text="hi", client_id="c")
    check_buyer(hello, greeted=False)
    check_buyer(say, greeted=True)
    with pytest.raises(ProtocolError) as first:
        check_buyer(say, greeted=False)
    assert (first.value.code, first.value.rid) == (m.ErrorCode.UNAUTHENTICATED, "s")
    with pytest.raises(ProtocolError) as again:
        check_buyer(hello, greeted=True)
    assert again.value.code is m.ErrorCode.CONFLICT
