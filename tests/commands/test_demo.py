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
