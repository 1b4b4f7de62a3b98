"""Save the room's pages over a whole recorded day with live traffic: day.png, what-if.png, ...

    xvfb-run -a -s "-screen 0 1600x1000x24" sh -c \
        'openbox & for p in day what-if; do .venv/bin/python scripts/shot_room.py docs/screenshots $p; done'

The day is bench/whatif.py's: the demo's traffic (40 arrivals a minute, the demo's policy) for
8 hours, 09:00-17:00 of 2026-11-11, recorded by a real server (built and cached by
``bench/whatif.py``'s ``recorded_day``; the first run takes a few minutes). A copy of its folder is
served by a real ``Server`` in a thread of its own, its clock starting at 17:00:30 of that day and
running in real time, so "today" is that day; the demo's simulator (``fenliu sim``: buyers and
the colleagues' consoles) adds live traffic. The console logs in as the supervisor (zhuguan) and
each page is saved as PAGE.png (what-if: the demo's policy with the queue on, tried on the day).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from PySide6.QtCore import QSettings  # noqa: E402

from console.commands.demo import DEMO_PASSWORD  # noqa: E402
from console.server.app import Server, ServerConfig  # noqa: E402
from console.sim.demo_stack import fenliu_command  # noqa: E402
from console.ui.login import Credentials  # noqa: E402
from console.ui.run import Session, run_console  # noqa: E402
from console.ui.self_test import ROOM_PAGES, _room_page  # noqa: E402

SUPERVISOR = "zhuguan"
START = datetime(2026, 11, 11, 17, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


class ServerThread:
    """A real server on its own loop in a thread, its clock at START plus the time since it began."""

    def __init__(self, data: Path) -> None:
        began = time.time()
        self.config = ServerConfig(port=0, data_dir=data, clock=lambda: START + (time.time() - began))
        self.loop = asyncio.new_event_loop()
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name="server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        server = Server(self.config)
        await server.start()
        self.url = server.url
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.stop()

    def start(self) -> str:
        self.thread.start()
        if not self._ready.wait(120):
            raise RuntimeError("the server did not start")
        return self.url

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)


def main(out: Path, page: str) -> int:
    from whatif import recorded_day  # bench/whatif.py: the cached day

    day_data, _info = recorded_day()
    status = 0
    with tempfile.TemporaryDirectory(prefix="fenliu-room-shot-") as scratch:
        if True:  # one page a process: one QApplication each
            data = Path(scratch) / page / "data"
            shutil.copytree(day_data, data, ignore=shutil.ignore_patterns("server.lock", "*-shm"))
            server = ServerThread(data)
            url = server.start()
            policy = ROOT / "resources" / "policy.example.toml"
            sim = subprocess.Popen(
                fenliu_command("sim", "--server", url, "--data", str(data), "--policy", str(policy), "--rate", "40",
                               "--duration", "3600", "--max-visits", "100000", "--agents",
                               "xiaomei,ajie,lili,dawei,fangfang,laowang"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "FENLIU_SIM_PASSWORD": DEMO_PASSWORD})
            try:
                status |= _shoot(url, out / f"{page}.png", page, Path(scratch) / page / "console", sim)
            finally:
                sim.terminate()
                try:
                    sim.wait(10)
                except subprocess.TimeoutExpired:
                    sim.kill()
                server.stop()
    return status


def _shoot(url: str, path: Path, page: str, state_dir: Path, sim: subprocess.Popen[bytes]) -> int:
    async def until(session: Session) -> int:
        window = session.window
        window.move(0, 0)
        window.resize(1590, 975)  # the screen's size: the room's tables whole
        await asyncio.sleep(20)  # live traffic on top of the day; the room polls meanwhile
        assert window.supervisor is not None and window.tabs is not None
        window.tabs.setCurrentIndex(1)
        await _room_page(window.supervisor, page)
        window.grab().save(str(path))
        print(f"screenshot: {path}")
        # the simulator stops now: the console's exit may crash (a PySide6 teardown crash of the
        # supervisor's window, also on main) and take this process's cleanup with it
        sim.terminate()
        return 0

    state_dir.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(state_dir / "settings.ini"), QSettings.Format.IniFormat)
    return run_console(None, state_dir, credentials=Credentials(url, SUPERVISOR, DEMO_PASSWORD), go_online=True,
                       until=until, settings=settings)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ROOM_PAGES:
        print(f"usage: shot_room.py OUTDIR PAGE (one of {', '.join(ROOM_PAGES)})", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(Path(sys.argv[1]), sys.argv[2]))
