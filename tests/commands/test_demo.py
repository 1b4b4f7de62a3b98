"""``fenliu demo`` as a real process: a stop signal stops its children too (issue 12, defect 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _children(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (from /proc: Linux)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_the_server_and_the_simulator(tmp_path: Path, number: int) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "console", "demo", "--screenshot", str(tmp_path / "never.png"), "--seconds", "600",
         "--rate", "20"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(children) < 2:  # the server and the simulator
            assert demo.poll() is None, demo.stdout.read().decode() if demo.stdout else ""
            children = _children(demo.pid)
            time.sleep(0.2)
        assert len(children) >= 2, "the demo did not start its server and simulator"
        time.sleep(2)  # let the console log in: the signal comes while the Qt loop runs
        demo.send_signal(number)
        code = demo.wait(60)
        output = demo.stdout.read().decode() if demo.stdout else ""
        assert code == 128 + number, output
        left = {pid for pid in children if _alive(pid)}
        assert left == set(), f"children still running after the demo stopped: {left}"
    finally:
        for pid in children | {demo.pid}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "console", "demo", *args],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_children(demo: subprocess.Popen[bytes]) -> set[int]:
    children: set[int] = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(children) < 2:  # the server and the simulator
        assert demo.poll() is None, demo.stdout.read().decode() if demo.stdout else ""
        children = _children(demo.pid)
        time.sleep(0.2)
    assert len(children) >= 2, "the demo did not start its server and simulator"
    return children


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_supervisor_console_exits_cleanly_and_leaves_nothing_running(tmp_path: Path) -> None:
    """The room's charts were destroyed by the last garbage collection after the loop had ended:
    exit code 139 and the children left running (the crash skipped the demo's ``finally``)."""
    shot = tmp_path / "room.png"
    demo = _start(tmp_path, "--supervisor", "--screenshot", str(shot), "--seconds", "2", "--page", "day",
                  "--rate", "20")
    children: set[int] = set()
    try:
        children = _wait_for_children(demo)
        code = demo.wait(90)
        output = demo.stdout.read().decode() if demo.stdout else ""
        assert code == 0, output
        assert shot.stat().st_size > 0
        left = {pid for pid in children if _alive(pid)}
        assert left == set(), f"children still running after the demo exited: {left}"
    finally:
        for pid in children | {demo.pid}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_demo_that_dies_outright_takes_its_children_with_it(tmp_path: Path) -> None:
    """A console that crashes (here: SIGKILL, which no handler sees) runs no ``finally``; the server
    and the simulator notice their parent is gone and stop by themselves."""
    demo = _start(tmp_path, "--screenshot", str(tmp_path / "never.png"), "--seconds", "600", "--rate", "20")
    children: set[int] = set()
    try:
        children = _wait_for_children(demo)
        demo.kill()
        demo.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        left = {pid for pid in children if _alive(pid)}
        assert left == set(), f"children still running after the demo was killed: {left}"
    finally:
        for pid in children | {demo.pid}:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
