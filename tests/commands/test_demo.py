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


# A process is its pid and its start time (/proc/PID/stat, field 22): once a child is gone its
# pid is soon another process's (pid_max is 32768 here and the suite starts processes and threads
# by the thousand), which a bare pid would count as "still running" and the clean-up would kill:
# a fault test's server in the other worker, or anyone's.
Proc = tuple[int, int]


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None if gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> set[Proc]:
    """Every process whose parent is ``pid`` (from /proc: Linux)."""
    found: set[Proc] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and int(fields[1]) == pid:
            found.add((int(entry.name), int(fields[19])))
    return found


def _me(process: subprocess.Popen[bytes]) -> Proc:
    fields = _stat(process.pid)
    return process.pid, int(fields[19]) if fields is not None else -1


def _alive(proc: Proc) -> bool:
    fields = _stat(proc[0])
    return fields is not None and int(fields[19]) == proc[1] and fields[0] != "Z"


def _kill_left(procs: set[Proc]) -> None:
    for proc in procs:
        if _alive(proc):
            os.kill(proc[0], signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_the_server_and_the_simulator(tmp_path: Path, number: int) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "console", "demo", "--screenshot", str(tmp_path / "never.png"), "--seconds", "600",
         "--rate", "20"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    children: set[Proc] = set()
    me = _me(demo)
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
        left = {proc for proc in children if _alive(proc)}
        assert left == set(), f"children still running after the demo stopped: {left}"
    finally:
        _kill_left(children | {me})


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "console", "demo", *args],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_children(demo: subprocess.Popen[bytes]) -> set[Proc]:
    children: set[Proc] = set()
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
    children: set[Proc] = set()
    me = _me(demo)
    try:
        children = _wait_for_children(demo)
        code = demo.wait(90)
        output = demo.stdout.read().decode() if demo.stdout else ""
        assert code == 0, output
        assert shot.stat().st_size > 0
        left = {proc for proc in children if _alive(proc)}
        assert left == set(), f"children still running after the demo exited: {left}"
    finally:
        _kill_left(children | {me})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_demo_that_dies_outright_takes_its_children_with_it(tmp_path: Path) -> None:
    """A console that crashes (here: SIGKILL, which no handler sees) runs no ``finally``; the server
    and the simulator notice their parent is gone and stop by themselves."""
    demo = _start(tmp_path, "--screenshot", str(tmp_path / "never.png"), "--seconds", "600", "--rate", "20")
    children: set[Proc] = set()
    me = _me(demo)
    try:
        children = _wait_for_children(demo)
        demo.kill()
        demo.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(proc) for proc in children):
            time.sleep(0.2)
        left = {proc for proc in children if _alive(proc)}
        assert left == set(), f"children still running after the demo was killed: {left}"
    finally:
        _kill_left(children | {me})
