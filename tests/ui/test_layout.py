"""The console's windows on a 1600×1000 screen at 1.5x scaling (issue 12, defect 8), measured
in a child process on a real X display (Xvfb) so that ``QT_SCALE_FACTOR`` applies from the start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.display
def test_windows_fit_a_1600x1000_screen_at_1_5x(x_display: str) -> None:
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": "1.5"}
    done = subprocess.run([sys.executable, "-m", "tests.ui.layout_probe"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    width, height = probe["screen"]
    assert probe["ratio"] == 1.5 and width <= 1067 and height <= 667  # the screen is what we think
    for role in ("agent", "supervisor"):
        window = probe[role]
        x, y, w, h = window["frame"]
        assert window["min"][0] <= width and window["min"][1] <= height, (role, window)
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, (role, window, probe["screen"])
    assert probe["login"]["field"] >= probe["login"]["text"] + 8  # a shop's wss:// address shows whole
    assert probe["transfer"]["width"] >= probe["transfer"]["title"] + 150  # the title and the window buttons
