"""The server tests run on both stores (issue 15): see ``store_kind``."""

from __future__ import annotations

import pytest


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
