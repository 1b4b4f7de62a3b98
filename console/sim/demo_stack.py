"""The demo's moving parts as child processes: the server, then the simulated buyers and colleagues.

Children run this same program (``python -m console`` from a checkout, the bundle's own launcher
when frozen), log to files in ``log_dir``, and are stopped in order with a timeout each.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from console.routing.policy import Role, load_policy_toml

_LISTENING = re.compile(r"listening on (wss?://[^\s]+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def fenliu_command(*args: str) -> list[str]:
    """How to run ``fenliu ARGS`` as a child: the frozen bundle is its own interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "console", *args]


class DemoStack:
    def __init__(self, data: Path, policy: Path, *, rate: float, console_user: str, password: str,
                 log_dir: Path) -> None:
        self.data = data
        self.policy = policy
        self.rate = rate
        self.console_user = console_user
        self.password = password
        self.log_dir = log_dir
        self.server: subprocess.Popen[bytes] | None = None
        self.sim: subprocess.Popen[bytes] | None = None
        self.url: str | None = None

    def _log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self) -> str:
        """Backfill yesterday (a new data folder only), start the server and the simulator; the URL."""
        self.data.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not (self.data / "fenliu.db").exists():
            done = subprocess.run(fenliu_command("sim", "--backfill-yesterday", "--data", str(self.data),
                                                 "--policy", str(self.policy)),
                                  capture_output=True, timeout=120, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"backfilling yesterday failed: {done.stderr.decode(errors='replace').strip()}")
        with self._log("server").open("wb") as out:
            self.server = subprocess.Popen(
                fenliu_command("server", "--port", "0", "--data", str(self.data), "--policy", str(self.policy),
                               "--demo-password", self.password),
                stdout=out, stderr=subprocess.STDOUT)
        self.url = self._wait_for_url()
        colleagues = [a.id for a in load_policy_toml(self.policy.read_text(encoding="utf-8")).agents
                      if a.routable and a.role is Role.AGENT and a.id != self.console_user]
        with self._log("sim").open("wb") as out:
            self.sim = subprocess.Popen(
                fenliu_command("sim", "--server", self.url, "--data", str(self.data), "--policy", str(self.policy),
                               "--rate", str(self.rate), "--duration", str(8 * 3600), "--max-visits", "100000",
                               "--share-products",
                               "--agents", ",".join(colleagues)),
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "FENLIU_SIM_PASSWORD": self.password})
        return self.url

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        log = self._log("server")
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8", errors="replace")
            found = _LISTENING.search(text)
            if found:
                return found.group(1)
            assert self.server is not None
            if self.server.poll() is not None:
                raise RuntimeError(f"the server did not start:\n{text.strip()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"the server did not say it was listening within {START_TIMEOUT:.0f} s (log: {log})")

    def stop(self) -> None:
        """The simulator first, then the server; SIGTERM, then a kill after the timeout."""
        for process in (self.sim, self.server):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
