"""Fixtures for the console's widgets: a fixed clock, the fake backend, a throwaway QSettings."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from console.ui.collector import MainThreadCollector
from console.ui.fake_backend import ME, FakeBackend
from console.ui.state import ConsoleState

NOW = 1_750_000_000.0  # a fixed "now" (2025-06-15 afternoon, UTC)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def gui_thread_collector(qapp: object) -> Iterator[None]:
    """As in the running console: cyclic garbage (closed dialogs of earlier tests among it) is
    collected on the GUI thread, never by a qasync worker thread (console/ui/collector.py)."""
    collector = MainThreadCollector()
    collector.start()
    yield
    collector.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(qapp: object) -> ConsoleState:
    return ConsoleState(ME, "阿美")


@pytest.fixture
def fake(state: ConsoleState, clock: Clock) -> FakeBackend:
    backend = FakeBackend(state, clock)
    backend.populate()
    return backend


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[QSettings]:
    store = QSettings(str(tmp_path / "fenliu.ini"), QSettings.Format.IniFormat)
    yield store
    store.sync()
