"""The client's view folds one ``message`` event carrying its row (issue 9), and still folds the
pair an older server stored (``conversation`` then ``message`` without a row), as a console
resuming across the upgrade replays them."""

from __future__ import annotations

from msgspec.structs import replace

from console.client.view import AgentView
from console.protocol import codec
from console.protocol import messages as m
from console.protocol.examples import CONVERSATION, MESSAGE

AFTER = replace(CONVERSATION, unread=CONVERSATION.unread + 1, last_text=MESSAGE.text, last_at=MESSAGE.at)

# what a server of session 4 wrote to ``agent_events`` for one buyer message: the row, then the message
OLD_PAIR = [
    codec.encode(m.ConversationUpdated(seq=2, conversation=AFTER)),
    codec.encode(m.MessageAdded(seq=3, message=MESSAGE)),
]


def _view() -> AgentView:
    view = AgentView()
    view.apply(m.Snapshot(seq=1, conversations=[CONVERSATION], status=m.Status.ONLINE, load=1, cap=8,
                          kpis=m.KpiTiles()))
    return view


def test_one_message_event_brings_its_row() -> None:
    view = _view()
    raw = codec.encode(m.MessageAdded(seq=2, message=MESSAGE, conversation=AFTER))
    view.apply(codec.decode_for_agent(raw))  # type: ignore[arg-type]
    assert view.conversations[AFTER.id] == AFTER and view.seq == 2


def test_the_pair_an_older_server_stored_still_applies() -> None:
    assert b'"conversation":{' not in OLD_PAIR[1]  # the old shape: no row in the message event
    view = _view()
    for raw in OLD_PAIR:
        view.apply(codec.decode_for_agent(raw))  # type: ignore[arg-type]
    assert view.conversations[AFTER.id] == AFTER and view.seq == 3

