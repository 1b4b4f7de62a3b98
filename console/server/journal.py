"""A request's undo list: what its in-memory changes were, so a failure can take them back.

A request commits all its effects or none (issue 9). Its SQL runs inside a savepoint
(``Shop.atomic``); its in-memory effects are recorded here by the parts that make them (rows,
agent sequence numbers, waits, caches, the engine), each part once per request with what to do to
put it back. Effects that only make sense once the request stands (pushes handed to the store's
after-commit queue, KPI counts) wait in ``on_success``. Outside a request (start-up, timers of the
publisher) nothing is recorded and ``on_success`` runs at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable


class Journal:
    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] | None = None
        self._done: list[Callable[[], None]] = []
        self._seen: set[Hashable] = set()

    @property
    def active(self) -> bool:
        return self._undo is not None

    def begin(self) -> None:
        assert self._undo is None, "requests do not nest"
        self._undo, self._done, self._seen = [], [], set()

    def once(self, key: Hashable, undo: Callable[[], None]) -> None:
        """Record how to undo the first change of ``key`` in this request (later ones are covered)."""
        if self._undo is not None and key not in self._seen:
            self._seen.add(key)
            self._undo.append(undo)

    def fresh(self, key: Hashable) -> bool:
        """Whether ``once(key, ...)`` would record: in a request, and ``key`` not changed yet in it
        (lets a caller skip building an undo it would not need)."""
        return self._undo is not None and key not in self._seen

    def on_success(self, action: Callable[[], None]) -> None:
        """Run ``action`` when the request stands (at once outside a request)."""
        if self._undo is None:
            action()
        else:
            self._done.append(action)

    def commit(self) -> None:
        done = self._done
        self._undo, self._done, self._seen = None, [], set()
        for action in done:
            action()

    def rollback(self) -> None:
        """Undo, newest change first."""
        undo = self._undo or []
        self._undo, self._done, self._seen = None, [], set()
        for action in reversed(undo):
            action()
