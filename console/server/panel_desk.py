"""The buyer panel's requests (CONSOLE.md §6, issue 12): ``PanelDesk``.

Read a panel, an earlier session, the routing decisions (R2.3) and the latest order of a buyer
the agent may open (``audience.finds``); write shared notes and tags on a buyer the agent's list
shows (``audience.sees``), and tell whoever's list shows the buyer that its panel changed. The
access rule is the shop's (``Shop.row_for``), the SQL ``panel.PanelFacts``' and the repository's;
every write joins the request's savepoint (``Shop.atomic``) and every push goes out after its
commit (``Hub.push``). Nothing here routes: the routing requests are ``Shop``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.protocol.codec import ProtocolError
from console.protocol.messages import BuyerPanel, DecisionInfo, ErrorCode, PanelUpdated, SessionInfo
from console.reception.model import Message
from console.server.conversations import Row
from console.server.panel import PanelLimit, decision_info

if TYPE_CHECKING:
    from console.server.shop import Shop


class PanelDesk:
    """The buyer panel's reads and writes for one shop, over the shop's own facts."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def panel(self, agent: str, conversation: str) -> BuyerPanel:
        """The buyer panel of a conversation ``agent`` may open."""
        return self.shop.facts.panel(self.shop.row_for(agent, conversation, read=True))

    def push(self, row: Row) -> None:
        """Tell whoever's list shows the buyer that its panel changed (the whole panel: small)."""
        readers = self.shop.audience(row)
        if not readers:
            return
        panel = self.shop.facts.panel(row)
        for agent in readers:
            self.shop.hub.push(agent, lambda seq: PanelUpdated(seq=seq, panel=panel))

    def add_note(self, agent: str, conversation: str, text: str) -> int:
        """A note every agent of the shop sees, on a buyer ``agent``'s list shows."""
        if not text.strip():
            raise ProtocolError(ErrorCode.INVALID, "a note needs some text", "text")
        shop = self.shop
        row = shop.row_for(agent, conversation)
        note = shop.facts.add_note(row.buyer, text.strip(), agent, shop.now())
        self.push(row)
        return note

    def remove_note(self, agent: str, conversation: str, note: int) -> None:
        row = self.shop.row_for(agent, conversation)
        if not self.shop.facts.remove_note(row.buyer, note):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no note {note} on this buyer", "note")
        self.push(row)

    def add_tag(self, agent: str, conversation: str, tag: str) -> None:
        shop = self.shop
        row = shop.row_for(agent, conversation)
        try:
            added = shop.facts.add_tag(row.buyer, tag.strip(), agent, shop.now())
        except PanelLimit as exc:
            raise ProtocolError(ErrorCode.CONFLICT, str(exc), "tag") from None
        if added:
            self.push(row)

    def remove_tag(self, agent: str, conversation: str, tag: str) -> None:
        row = self.shop.row_for(agent, conversation)
        if self.shop.facts.remove_tag(row.buyer, tag.strip()):
            self.push(row)

    def session_history(self, agent: str, conversation: str, session: int) -> tuple[SessionInfo, list[Message], bool]:
        """One earlier session of a buyer ``agent`` may open: what it was, its first messages."""
        facts = self.shop.facts
        row = self.shop.row_for(agent, conversation, read=True)
        info = facts.session(row.buyer, session, open_with=row.holder_agent)
        if info is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session} of this buyer", "session")
        messages, more = facts.session_messages(row.buyer, info)
        return info, messages, more

    def why(self, agent: str, conversation: str) -> list[DecisionInfo]:
        """The routing decisions about a buyer ``agent`` may open, with their reasons (R2.3)."""
        row = self.shop.row_for(agent, conversation, read=True)
        return [decision_info(r) for r in self.shop.repo.decisions(row.buyer)]

    def latest_order(self, agent: str, conversation: str) -> str | None:
        """Who may open the buyer may know its latest order."""
        self.shop.row_for(agent, conversation, read=True)
        return self.shop.repo.latest_order(conversation)
