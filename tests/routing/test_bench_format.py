"""bench/routing.py prints one JSON line per size and kind with exactly issue 11's keys (a small run)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT

KEYS = ["agents", "queued", "kind", "inputs_per_s", "p99_ms", "max_ms", "baseline_inputs_per_s"]


def test_one_line_per_size_and_kind() -> None:
    result = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "routing.py"), "--json", "--inputs", "300",
                             "--agents", "20", "40", "--queued", "200"],
                            capture_output=True, text=True, check=True, timeout=120)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["agents"], r["kind"]) for r in rows] == [
        (n, k) for n in (20, 40) for k in ("arrive_routed", "arrive_queued", "rearrive", "close_dequeue", "status")]
    for row in rows:
        assert list(row) == KEYS and row["queued"] == 200
        assert row["inputs_per_s"] > 0 and row["baseline_inputs_per_s"] > 0 and row["max_ms"] >= row["p99_ms"] >= 0
    notes = result.stderr.splitlines()
    assert len(notes) == len(rows) and all("200 queued at the end" in n for n in notes)  # the queue stays put
