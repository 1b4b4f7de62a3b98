"""The console folds each server event once (issue 9): the client's ``AgentView`` folds it, and
``ConsoleState`` reads the rows, status, load, cap and tiles from that view; only what the UI owns
(our optimistic rows, messages, read marks) is kept beside it."""

from __future__ import annotations

from pathlib import Path

import msgspec

from console.client.agent import AgentClient
from console.client.view import AgentView
from console.protocol import messages as m
from console.protocol.examples import CONVERSATION, KPIS, MESSAGE
from console.ui.bridge import ClientBackend
from console.ui.fake_backend import TEAM, TEAM_INFO
from console.ui.state import ConsoleState
from console.ui.team_data import TeamData

AFTER = msgspec.structs.replace(CONVERSATION, unread=CONVERSATION.unread + 1, last_text=MESSAGE.text)


def _snapshot(view: AgentView, state: ConsoleState) -> None:
    event = m.Snapshot(seq=1, conversations=[CONVERSATION], status=m.Status.ONLINE, load=3, cap=8, kpis=KPIS)
    view.apply(event)
    state.follow(event)


def test_the_state_reads_the_clients_view_and_does_not_fold_again(qapp: object) -> None:
    view = AgentView()
    state = ConsoleState("a1", "小美", view=view)
    shown: list[m.Conversation] = []
    state.conversation_updated.connect(shown.append)
    _snapshot(view, state)
    assert state.conversations is view.conversations and (state.status, state.load, state.cap) == ("online", 3, 8)

    event = m.MessageAdded(seq=2, message=MESSAGE, conversation=AFTER)
    view.apply(event)  # the client folds it ...
    state.follow(event)  # ... and the state says what changed, from the view
    assert shown == [AFTER] and state.conversations[AFTER.id] is view.conversations[AFTER.id]
    assert state.messages[MESSAGE.conversation] == [MESSAGE] and state.unread_total() == AFTER.unread

    # an event the view has not folded changes nothing the state shows: it is never applied twice
    state.follow(m.StatusChanged(seq=3, status=m.Status.SUSPENDED, load=0, cap=8))
    assert (state.status, state.load) == ("online", 3)


def test_an_optimistic_reply_shows_until_the_servers_row_comes(qapp: object) -> None:
    view = AgentView()
    state = ConsoleState("a1", "小美", view=view)
    _snapshot(view, state)
    state.add_local_reply(CONVERSATION.id, "有的亲", "c-1", now=CONVERSATION.last_at + 5)
    assert state.conversations[CONVERSATION.id].section is m.Section.REPLIED  # at once, ours
    assert view.conversations[CONVERSATION.id] == CONVERSATION  # the client's view is the server's alone

    newer = msgspec.structs.replace(AFTER, last_text="还在吗")
    event = m.MessageAdded(seq=2, message=msgspec.structs.replace(MESSAGE, id=60, text="还在吗"), conversation=newer)
    view.apply(event)
    state.follow(event)
    assert state.conversations[CONVERSATION.id] == newer  # the server's row replaces ours


def test_the_client_backend_gives_the_state_the_clients_view(qapp: object, tmp_path: Path) -> None:
    client = AgentClient("ws://127.0.0.1:9", "a1", "pw-123456", state_dir=tmp_path / "state")
    state = ConsoleState("a1", "小美")
    backend = ClientBackend(client, state)
    backend.attach()
    try:
        assert state.view is client.view
    finally:
        backend.detach()


def test_the_team_is_read_from_the_clients_view(qapp: object) -> None:
    """The room has one home on the console's side: the view folds ``team_updated`` (and keeps a
    ``get_team`` answer); the state shows that team and never converts the event a second time."""
    view = AgentView()
    state = ConsoleState("sup", "主管", role="supervisor", view=view)
    shown: list[TeamData] = []
    state.team_updated.connect(shown.append)
    _snapshot(view, state)
    event = m.TeamUpdated(seq=2, team=TEAM_INFO)
    view.apply(event)
    state.follow(event)
    assert shown == [TEAM] and state.team == TEAM and state.team is state.team  # shown once, built once

    # an event the view has not folded changes nothing the state shows
    other = msgspec.structs.replace(TEAM_INFO, agents=TEAM_INFO.agents[:1])
    state.follow(m.TeamUpdated(seq=3, team=other))
    assert state.team == TEAM and shown[-1] == TEAM

    view.team = other  # what ``AgentClient.get_team`` does with its answer
    state.team_answered()
    assert shown[-1] == state.team and [a.id for a in state.team.agents] == [TEAM_INFO.agents[0].id]
