"""The fault harness (``tests/faults``) for the reliability tests.

The tests run the same scenario functions as ``bench/faults.py --json``, with fewer faults, so
the suite and the long run check exactly the same guarantees (docs/RELIABILITY.md).
"""

from __future__ import annotations

from types import ModuleType

import pytest

import tests.faults


@pytest.fixture(autouse=True)
def store_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which store the test's servers use (tests/conftest.py parametrizes it): on
    ``postgresql`` the helpers (``open_store``, ``running_server``) give each test folder its own
    shop in the throwaway PostgreSQL."""
    kind = str(getattr(request, "param", "sqlite"))
    if kind == "postgresql":
        monkeypatch.setenv("FENLIU_TEST_STORE", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("FENLIU_TEST_STORE", raising=False)
    return kind


@pytest.fixture(scope="session")
def faults() -> ModuleType:
    return tests.faults
