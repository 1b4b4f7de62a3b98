"""Test-wide set-up: headless Qt, the repository and spec folders, and the ``display`` marker.

``QT_QPA_PLATFORM=offscreen`` is set here, at import time, because conftest.py is imported
before any test module and Qt reads the variable once, when the first QGuiApplication starts.
A value already in the environment wins (``QT_QPA_PLATFORM=xcb make test`` to watch the tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent


def _cheap_password_hashes() -> None:
    """Argon2 at the production cost (64 MiB, 3 passes: 0.1-0.15 s a hash or a check) spent
    minutes of the suite on the passwords of test accounts, created and logged in to by the
    thousand. What the tests check is which password is accepted, not how slow a guess is, so they
    hash with the cheapest parameters (tests/server/test_auth.py checks the production ones).
    ``FENLIU_TEST_ARGON2=production`` runs the suite at the production cost. Servers the tests
    start as processes check these hashes at the cost they were made with."""
    if os.environ.get("FENLIU_TEST_ARGON2") == "production":
        return
    from argon2 import PasswordHasher

    from console.server import accounts

    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


_cheap_password_hashes()


def shared_dir() -> Path:
    """The project's shared folder (spec, scenarios, seeds): ``$FENLIU_SHARED`` or ``../shared``."""
    override = os.environ.get("FENLIU_SHARED")
    return Path(override).resolve() if override else REPO_ROOT.parent / "shared"


def xvfb_available() -> bool:
    """Whether a virtual X server can be started here."""
    return shutil.which("Xvfb") is not None or shutil.which("xvfb-run") is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The server and reliability tests run on both stores (issue 15): their autouse
    ``store_kind`` fixture is parametrized here, SQLite only for tests marked ``sqlite_only``."""
    if "store_kind" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        wanted = os.environ.get("FENLIU_TEST_STORES", "sqlite,postgresql").split(",")  # sqlite: one store only
        kinds = [k for k in ("sqlite", "postgresql") if k in wanted and not (only and k != "sqlite")]
        metafunc.parametrize("store_kind", kinds or ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL (tests/postgres.py), started on first use, stopped at the end."""
    from tests import postgres

    try:
        cluster = postgres.start()
    except postgres.Unavailable as exc:
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the Fenliu checkout (where ``pyproject.toml`` is)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared folder; tests that need it are skipped, not failed, when it is missing."""
    path = shared_dir()
    if not path.is_dir():
        pytest.skip(f"shared folder not found at {path} (set FENLIU_SHARED)")
    return path


@pytest.fixture(scope="session")
def resources() -> Path:
    """The bundled resources folder (policy example, FAQ, demo scenario)."""
    return REPO_ROOT / "resources"


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """An X display for tests marked ``display``: ``$DISPLAY`` if set, else a private Xvfb.

    The Xvfb picks its own free display number (``-displayfd``), so parallel runs do not clash.
    Give the value to a child process as ``DISPLAY`` together with ``QT_QPA_PLATFORM=xcb``.
    """
    existing = os.environ.get("DISPLAY")
    if existing:
        yield existing
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("needs an X display: Xvfb is not installed (scripts/bootstrap.sh installs it)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``display`` with a reason when no X display can be had."""
    if os.environ.get("DISPLAY") or xvfb_available():
        return
    skip = pytest.mark.skip(
        reason="needs an X display: neither $DISPLAY nor Xvfb/xvfb-run (run scripts/bootstrap.sh)"
    )
    for item in items:
        if item.get_closest_marker("display") is not None:
            item.add_marker(skip)
