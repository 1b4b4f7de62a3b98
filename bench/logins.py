"""Login floods against the throttle (issue 10): how many hashes they cost, how long an honest
login from another address takes meanwhile.

    .venv/bin/python bench/logins.py --json        # about half a minute

A real server (``console.server.app.Server``, port 0, a temporary data folder) runs on its own
event loop in a thread; the attackers and the honest console are websocket clients on this
process's loop. Baseline, measured in the same run: the median of five password logins on the
quiet server. Then each flood sends ``--flood`` (150) wrong logins at once, one connection each,
from 127.0.0.1, and while they are in flight the honest user logs in from 127.0.0.2:

- ``same_name``: every attempt is for the honest user's own account (guessing its password);
- ``many_names``: every attempt is for a different made-up name (a hash flood).

``hashes`` is the number of Argon2 verifications done during the flood, the honest login's
excluded (counted by wrapping ``argon2.PasswordHasher.verify``, so the same count works on any
version of the server), ``refused`` the attempts answered ``rate_limited`` without a hash, ``honest_s`` the
honest login's time and ``vs_baseline`` that over the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from websockets.asyncio.client import connect

from console.protocol.codec import decode_for_agent, encode
from console.protocol.messages import Error, ErrorCode, Login, LoginOk
from console.routing.policy import load_policy_toml
from console.server.app import Server, ServerConfig, ensure_demo_accounts
from console.server.store import Store

PASSWORD = "bench-password"
POLICY = '[[agents]]\nid = "a1"\nname = "小美"\n\n[[agents]]\nid = "a2"\nname = "阿杰"\n'


class HashCount:
    def __init__(self) -> None:
        self.done = 0
        self._lock = threading.Lock()
        original = PasswordHasher.verify

        def verify(hasher: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(hasher, *args, **kwargs)
            finally:
                with self._lock:
                    self.done += 1

        PasswordHasher.verify = verify  # type: ignore[method-assign]


HASHES = HashCount()


class Background:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ready = threading.Event()
        self.server: Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        policy = self.folder / "policy.toml"
        policy.write_text(POLICY, encoding="utf-8")
        store = Store.open(self.folder / "data")
        ensure_demo_accounts(store, load_policy_toml(POLICY), PASSWORD)
        store.close()
        self.server = Server(ServerConfig(port=0, data_dir=self.folder / "data", policy_file=policy))
        await self.server.start()
        self.ready.set()
        await self._stop.wait()
        await self.server.stop()

    def start(self) -> Server:
        self.thread.start()
        assert self.ready.wait(30) and self.server is not None
        return self.server

    def stop(self) -> None:
        assert self.loop is not None and self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)


async def attempt(url: str, user: str, password: str, source: str = "127.0.0.1") -> tuple[Any, float]:
    async with connect(url + "/agent", max_size=None, local_addr=(source, 0), open_timeout=60) as conn:
        start = time.perf_counter()
        await conn.send(encode(Login(rid="l", user=user, password=password)).decode())
        while True:
            message = decode_for_agent(await asyncio.wait_for(conn.recv(), 120))
            if getattr(message, "rid", None) == "l":
                return message, time.perf_counter() - start


async def flood(server: Server, kind: str, size: int, baseline: float) -> dict[str, Any]:
    url = server.url
    before = HASHES.done
    users = ["a1"] * size if kind == "same_name" else [f"ghost{i}" for i in range(size)]
    attackers = [asyncio.create_task(attempt(url, u, f"guess{i}")) for i, u in enumerate(users)]
    await asyncio.sleep(0)  # let the flood start first
    honest, took = await attempt(url, "a1" if kind == "same_name" else "a2", PASSWORD, "127.0.0.2")
    answers = [a for a, _ in await asyncio.gather(*attackers)]
    codes = [a.code for a in answers if isinstance(a, Error)]
    return {
        "flood": kind, "attempts": size, "hashes": HASHES.done - before - 1,
        "refused": codes.count(ErrorCode.RATE_LIMITED), "wrong": codes.count(ErrorCode.UNAUTHENTICATED),
        "honest_ok": isinstance(honest, LoginOk), "honest_s": round(took, 3), "baseline_s": round(baseline, 3),
        "vs_baseline": round(took / baseline, 2),
    }


async def main(size: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="fenliu-bench-logins-") as folder:
        background = Background(Path(folder))
        server = background.start()
        try:
            quiet = [(await attempt(server.url, "a2", PASSWORD))[1] for _ in range(5)]
            baseline = statistics.median(quiet)
            return [await flood(server, kind, size, baseline) for kind in ("same_name", "many_names")]
        finally:
            background.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=150)
    parser.add_argument("--json", action="store_true", help="one JSON line per flood (the default output too)")
    args = parser.parse_args()
    for line in asyncio.run(main(args.flood)):
        print(json.dumps(line))
