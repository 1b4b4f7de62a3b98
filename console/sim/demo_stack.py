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
from console.stop_with_parent import environment as stop_with_us

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
                 log_dir: Path, shops: tuple[str, ...] = ()) -> None:
        self.data = data
        self.shops = shops  # () the one shop of the data folder; else these shops, each with this policy
        self.policy = policy
        self.rate = rate
        self.console_user = console_user
        self.password = password
        self.log_dir = log_dir
        self.server: subprocess.Popen[bytes] | None = None
        self.sims: list[subprocess.Popen[bytes]] = []
        self.url: str | None = None

    def _log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self) -> str:
        """Backfill yesterday (a new data folder only), start the server and the simulator; the URL."""
        self.data.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        shops: list[tuple[str | None, Path]] = [(None, self.data)] if not self.shops else \
            [(shop, self.data / "shops" / shop) for shop in self.shops]
        for shop, folder in shops:
            fresh = not (folder / "fenliu.db").exists()
            if shop is not None and fresh:
                self._run(fenliu_command("shops", "add", shop, "--policy", str(self.policy), "--data", str(self.data)),
                          f"adding the shop {shop}")
            if fresh:
                self._run(fenliu_command("sim", "--backfill-yesterday", "--data", str(folder), "--policy",
                                         str(self.policy)), "backfilling yesterday")
        policy = ["--policy", str(self.policy)] if not self.shops else []  # added shops keep their own
        with self._log("server").open("wb") as out:
            self.server = subprocess.Popen(
                fenliu_command("server", "--port", "0", "--data", str(self.data), *policy,
                               "--demo-password", self.password),
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **stop_with_us()})
        self.url = self._wait_for_url()
        colleagues = [a.id for a in load_policy_toml(self.policy.read_text(encoding="utf-8")).agents
                      if a.routable and a.role is Role.AGENT and a.id != self.console_user]
        for number, (shop, folder) in enumerate(shops):
            where = ["--shop", shop] if shop is not None else []
            with self._log(f"sim-{shop}" if shop else "sim").open("wb") as out:
                self.sims.append(subprocess.Popen(
                    fenliu_command("sim", "--server", self.url, "--data", str(folder), "--policy", str(self.policy),
                                   "--rate", str(self.rate), "--duration", str(8 * 3600), "--max-visits", "100000",
                                   "--share-products", "--agents", ",".join(colleagues), "--seed", str(1 + number), *where),
                    stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "FENLIU_SIM_PASSWORD": self.password, **stop_with_us()}))
        return self.url

    @staticmethod
    def _run(command: list[str], what: str) -> None:
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{what} failed: {done.stderr.decode(errors='replace').strip()}")

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
        for process in (*self.sims, self.server):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
