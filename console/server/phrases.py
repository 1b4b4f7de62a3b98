"""Quick replies (快捷短语, CONSOLE.md §6): the team's set and each account's own, on the server.

One table, ``phrases`` (store.py): ``owner`` is '' for a team phrase and the account id for a
personal one, ``position`` orders each owner's phrases (groups are shown in the order of their
first phrase). Team phrases are kept by supervisors and the main account; an agent who tries to
add, edit, pin, delete or reorder one is refused with ``forbidden``. Personal phrases are only
ever reached through the asker's own id, so one account never sees or touches another's.

Every method runs inside the request's ``Shop.atomic()`` savepoint (agents.py ``_handle``): a
refusal half-way through an import leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from console.protocol.access import TEAM_ROLES
from console.protocol.codec import ProtocolError
from console.protocol.messages import MAX_PHRASES, ErrorCode, PhraseDraft, PhraseInfo, PhraseScope, Role
from console.reception.phrases import read_csv
from console.server.repository.phrases import PhraseRepository
from console.server.store import Store

TEAM = ""  # the owner of team phrases


def seed_team_phrases(store: Store, csv_file: Path, at: float) -> int:
    """Give a shop with no team phrases the set in ``csv_file`` (the demo's resources/quick_replies.csv).

    Returns how many were added (0 when the shop already has a team set: never overwritten)."""
    book = PhraseBook(store)
    if book.team_count():
        return 0
    drafts = read_csv(csv_file.read_bytes(), PhraseScope.TEAM)
    book.add("demo", Role.MAIN, drafts, at)
    return len(drafts)


class PhraseBook:
    """The phrases table: reads and the five kinds of change, each checked against the asker's role."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sql = PhraseRepository(store)

    # -- reads ------------------------------------------------------------------------------------

    def listed(self, agent: str) -> list[PhraseInfo]:
        """The team's phrases, then ``agent``'s own, each in its order."""
        rows = self.sql.listed(TEAM, agent)
        return [PhraseInfo(id=r["id"], scope=PhraseScope.TEAM if r["owner"] == TEAM else PhraseScope.PERSONAL,
                           group=r["grp"], title=r["title"], text=r["text"], pinned=bool(r["pinned"]))
                for r in rows]

    def team_count(self) -> int:
        return self.sql.count(TEAM)

    # -- changes ----------------------------------------------------------------------------------

    def add(self, agent: str, role: Role, drafts: Sequence[PhraseDraft], at: float) -> None:
        for scope in {d.scope for d in drafts}:
            owner = self._owner(agent, role, scope)
            count = self.sql.count(owner)
            batch = sum(1 for d in drafts if d.scope is scope)
            if count + batch > MAX_PHRASES:
                raise ProtocolError(ErrorCode.INVALID, f"at most {MAX_PHRASES} phrases per set", "phrases")
        for draft in drafts:
            owner = self._owner(agent, role, draft.scope)
            self.sql.add(owner, draft.group.strip(), draft.title.strip(), draft.text, draft.pinned, agent, at)

    def edit(self, agent: str, role: Role, phrase: int, *, group: str, title: str, text: str, pinned: bool,
             at: float) -> PhraseScope:
        scope = self._writable(agent, role, phrase)
        self.sql.edit(phrase, group.strip(), title.strip(), text, pinned, agent, at)
        return scope

    def pin(self, agent: str, role: Role, phrase: int, pinned: bool, at: float) -> PhraseScope:
        scope = self._writable(agent, role, phrase)
        self.sql.pin(phrase, pinned, agent, at)
        return scope

    def delete(self, agent: str, role: Role, phrase: int) -> PhraseScope:
        scope = self._writable(agent, role, phrase)
        self.sql.delete(phrase)
        return scope

    def reorder(self, agent: str, role: Role, scope: PhraseScope, ids: Sequence[int]) -> None:
        owner = self._owner(agent, role, scope)
        present = self.sql.ids(owner)
        if sorted(present) != sorted(ids):
            raise ProtocolError(ErrorCode.INVALID, "ids must list every phrase of the set exactly once", "ids")
        self.sql.reorder(ids)

    # -- internals --------------------------------------------------------------------------------

    def _owner(self, agent: str, role: Role, scope: PhraseScope) -> str:
        if scope is PhraseScope.PERSONAL:
            return agent
        if role not in TEAM_ROLES:
            raise ProtocolError(ErrorCode.FORBIDDEN, "team phrases are kept by supervisors", "scope")
        return TEAM

    def _writable(self, agent: str, role: Role, phrase: int) -> PhraseScope:
        """The phrase's scope, if ``agent`` may change it; ``not_found`` for another's own phrase."""
        owner = self.sql.owner(phrase)
        if owner is None or owner not in (TEAM, agent):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no phrase {phrase}", "id")
        scope = PhraseScope.TEAM if owner == TEAM else PhraseScope.PERSONAL
        self._owner(agent, role, scope)
        return scope
