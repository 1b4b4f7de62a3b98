"""The console's quick replies (快捷短语): one list per console, kept as the server has it.

``PhraseBook`` is what the reply box, its ``/`` popup and the manager dialog read: the phrases
(``index``, searchable), ``changed`` when they change, ``failed`` with a readable error. Its
changes go to the server; the list shown is always the server's answer, never a local guess, so
every console of the account shows the same set (another console's change arrives as a push).

``ClientPhrases`` runs it over the ``AgentClient`` (tasks kept like ``ClientBackend``);
``LocalPhrases`` keeps the list in memory with the server's rules, for the UI tests and the
fake-backend screenshots.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.client.agent import AgentClient, ConnectionState, StateChange
from console.client.errors import ClientError
from console.protocol.messages import PhraseDraft, PhraseInfo, PhraseScope
from console.reception.phrases import PhraseIndex
from console.ui.errors import error_text

log = logging.getLogger(__name__)

OrderCallback = Callable[[str | None], None]


class PhraseBook(QObject):
    """The phrases this account may use; subclasses carry the changes to where they are kept."""

    changed = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, may_keep_team: bool = False) -> None:
        super().__init__(parent)
        self.index = PhraseIndex()
        self.may_keep_team = may_keep_team  # supervisors and the main account keep the team's set

    @property
    def phrases(self) -> list[PhraseInfo]:
        return self.index.phrases

    def set_phrases(self, phrases: Sequence[PhraseInfo]) -> None:
        self.index = PhraseIndex(phrases)
        self.changed.emit()

    def get(self, phrase: int) -> PhraseInfo | None:
        return next((p for p in self.phrases if p.id == phrase), None)

    def may_change(self, phrase: PhraseInfo) -> bool:
        return phrase.scope is PhraseScope.PERSONAL or self.may_keep_team

    # -- changes (answered by a new list, or ``failed``) ------------------------------------------

    def refresh(self) -> None:
        raise NotImplementedError

    def add(self, drafts: Sequence[PhraseDraft]) -> None:
        raise NotImplementedError

    def edit(self, phrase: int, *, group: str, title: str, text: str, pinned: bool) -> None:
        raise NotImplementedError

    def pin(self, phrase: int, pinned: bool) -> None:
        raise NotImplementedError

    def delete(self, phrase: int) -> None:
        raise NotImplementedError

    def reorder(self, scope: PhraseScope, ids: Sequence[int]) -> None:
        raise NotImplementedError

    def latest_order(self, conversation: str, done: OrderCallback) -> None:
        """Call ``done`` with the buyer's latest order number (None: none known) for ``{订单号}``."""
        raise NotImplementedError


class ClientPhrases(PhraseBook):
    """The book over a running ``AgentClient``: loaded on each (re)connection, kept by pushes."""

    def __init__(self, client: AgentClient, parent: QObject | None = None, *, may_keep_team: bool = False) -> None:
        super().__init__(parent, may_keep_team=may_keep_team)
        self.client = client
        self._tasks: set[asyncio.Task[Any]] = set()
        self._disconnect = [client.phrase_updates.connect(self.set_phrases),
                            client.state_changed.connect(self._on_client_state_changed)]

    def detach(self) -> None:
        for disconnect in self._disconnect:
            disconnect()
        for task in self._tasks:
            task.cancel()

    def _on_client_state_changed(self, change: StateChange) -> None:
        if change.state is ConnectionState.ONLINE:
            self.refresh()  # changes made elsewhere while this console was away

    def refresh(self) -> None:
        self._run(self.tr("读取快捷短语"), self.client.get_phrases())

    def add(self, drafts: Sequence[PhraseDraft]) -> None:
        self._run(self.tr("添加快捷短语"), self.client.add_phrases(list(drafts)))

    def edit(self, phrase: int, *, group: str, title: str, text: str, pinned: bool) -> None:
        self._run(self.tr("修改快捷短语"),
                  self.client.edit_phrase(phrase, group=group, title=title, text=text, pinned=pinned))

    def pin(self, phrase: int, pinned: bool) -> None:
        self._run(self.tr("修改快捷短语"), self.client.pin_phrase(phrase, pinned))

    def delete(self, phrase: int) -> None:
        self._run(self.tr("删除快捷短语"), self.client.delete_phrase(phrase))

    def reorder(self, scope: PhraseScope, ids: Sequence[int]) -> None:
        self._run(self.tr("调整快捷短语顺序"), self.client.reorder_phrases(scope, list(ids)))

    def latest_order(self, conversation: str, done: OrderCallback) -> None:
        async def run() -> None:
            try:
                order = await self.client.latest_order(conversation)
            except ClientError as exc:
                self.failed.emit(self.tr("读取订单号") + ": " + error_text(exc))
                order = None
            done(order)

        self._spawn(run())

    def _run(self, what: str, call: Coroutine[Any, Any, list[PhraseInfo]]) -> None:
        async def run() -> None:
            try:
                phrases = await call
            except ClientError as exc:
                self.failed.emit(f"{what}: {error_text(exc)}")
                return
            self.set_phrases(phrases)

        self._spawn(run())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("quick replies: %s", finished.exception())
                self.failed.emit(self.tr("快捷短语：与服务器的连接中断，请稍后再试"))

        task.add_done_callback(done)


class LocalPhrases(PhraseBook):
    """The book in memory, with the server's rules (team phrases only for supervisors)."""

    def __init__(self, phrases: Sequence[PhraseInfo] = (), parent: QObject | None = None, *,
                 may_keep_team: bool = True, orders: dict[str, str] | None = None) -> None:
        super().__init__(parent, may_keep_team=may_keep_team)
        self.orders = orders if orders is not None else {}
        self._ids = itertools.count(max((p.id for p in phrases), default=0) + 1)
        self.set_phrases(phrases)

    def refresh(self) -> None:
        self.changed.emit()

    def add(self, drafts: Sequence[PhraseDraft]) -> None:
        if any(d.scope is PhraseScope.TEAM for d in drafts) and not self.may_keep_team:
            self.failed.emit(self.tr("团队短语由主管维护"))
            return
        added = [PhraseInfo(id=next(self._ids), scope=d.scope, group=d.group, title=d.title, text=d.text,
                            pinned=d.pinned) for d in drafts]
        self._store(self.phrases + added)

    def edit(self, phrase: int, *, group: str, title: str, text: str, pinned: bool) -> None:
        self._change(phrase, lambda p: PhraseInfo(id=p.id, scope=p.scope, group=group, title=title, text=text,
                                                  pinned=pinned))

    def pin(self, phrase: int, pinned: bool) -> None:
        self._change(phrase, lambda p: PhraseInfo(id=p.id, scope=p.scope, group=p.group, title=p.title,
                                                  text=p.text, pinned=pinned))

    def delete(self, phrase: int) -> None:
        self._change(phrase, lambda p: None)

    def reorder(self, scope: PhraseScope, ids: Sequence[int]) -> None:
        place = {pid: i for i, pid in enumerate(ids)}
        ours = sorted((p for p in self.phrases if p.scope is scope), key=lambda p: place.get(p.id, len(place)))
        self._store([p for p in self.phrases if p.scope is not scope] + ours)

    def latest_order(self, conversation: str, done: OrderCallback) -> None:
        done(self.orders.get(conversation))

    def _change(self, phrase: int, how: Callable[[PhraseInfo], PhraseInfo | None]) -> None:
        found = self.get(phrase)
        if found is None or not self.may_change(found):
            self.failed.emit(self.tr("团队短语由主管维护"))
            return
        changed = [q for p in self.phrases if (q := how(p) if p.id == phrase else p) is not None]
        self._store(changed)

    def _store(self, phrases: list[PhraseInfo]) -> None:
        team = [p for p in phrases if p.scope is PhraseScope.TEAM]
        self.set_phrases(team + [p for p in phrases if p.scope is PhraseScope.PERSONAL])
