"""The panel's past sessions (``PanelFacts.sessions``): each from a reception to the first close
after it, or to the next reception, with the count of the conversation's messages in between;
computed from one read of the conversation's times and one of its closes (issue 9), checked
against the definition read statement by statement, on random histories."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.server.panel import PanelFacts
from console.server.store import Store
from tests.server.helpers import panel_sessions_by_statements

pytestmark = pytest.mark.sqlite_only  # the facts' SQL is the same on both stores; this checks the arithmetic

times = st.lists(st.integers(min_value=0, max_value=60), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receptions=times, closes=times, messages=times, open_with=st.sampled_from([None, "a0", "a1"]))
def test_sessions_count_what_the_definition_counts(receptions: list[int], closes: list[int], messages: list[int],
                                                   open_with: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder), synchronous="OFF")
        try:
            db = store.db
            db.execute("INSERT INTO buyers (id, name, kind, created_at) VALUES ('b', 'b', 'consumer', 0)")
            db.executemany("INSERT INTO receptions (agent, buyer, at) VALUES (?, 'b', ?)",
                           [(f"a{i % 2}", float(at)) for i, at in enumerate(sorted(receptions))])
            db.executemany("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES "
                           "('b', 'closed', 'agent:a0', 'agent_close', 'R9.2', ?)", [(float(at),) for at in closes])
            db.executemany("INSERT INTO decisions (buyer, event, target, why, rule, at) VALUES "
                           "('b', 'routed', 'agent:a0', 'group', 'R8.1', ?)", [(float(at),) for at in receptions])
            db.executemany("INSERT INTO messages (conversation, author, text, at) VALUES ('b', 'buyer', '在吗', ?)",
                           [(float(at),) for at in messages])
            got = [(s.agent, s.started, s.ended, s.messages)
                   for s in PanelFacts(store, lambda agent: agent).sessions("b", open_with=open_with)]
            assert got == panel_sessions_by_statements(store, "b", open_with)
        finally:
            store.close()
