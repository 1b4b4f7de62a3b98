"""Which tables and indexes the WAL frames of an answered message are, against another checkout (issue 9).

    .venv/bin/python bench/wal_pages.py --json --baseline /work/wt/base9         # about a minute

A COMMIT writes each page its batch changed once, as a WAL frame, and the frames are much of what
a message costs SQLite (the loop writes them, the checkpoint thread copies them). This counts
them by b-tree: the workload of ``bench/shop_cpu.py`` (``PeakShop``: the peak's shop of 500
agents capped at 4, 2,000 buyers in a session and ``--queued`` waiting, ``--history`` closed
conversations before; answered messages 40 at a time, and every ``--close-every`` a close that
dequeues and a new buyer who queues), with the store's checkpoints held off so that the WAL keeps
every frame; then each frame's page number (its header,
https://sqlite.org/fileformat.html#the_write_ahead_log) is named by SQLite's ``dbstat`` table.
The figures are counts, not times: a run gives the same ones on any machine, so the two sides
run one after the other.

One JSON line per side, then::

    {"frames_per_message": x, "baseline_frames_per_message": x, "by_btree": {name: x},
     "baseline_by_btree": {name: x}, "messages_per_commit": x}

(per answered message: a buyer message and its reply.)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(pairs: int, history: int, queued: int, close_every: int) -> dict[str, Any]:
    """Run in a process whose ``console`` is the checkout measured (the working directory)."""
    from shop_cpu import PeakShop  # this script's (its folder is first on the path), the workload's one home

    here = Path.cwd()
    sys.path.insert(0, str(here))  # the console package, and peak.py's policy, of the checkout measured
    sys.path.insert(0, str(here / "bench"))
    from console.server import store as store_module

    syncer = store_module._WalSyncer  # no checkpoint and no restart: the WAL keeps every frame
    syncer.COPY_FRAMES = syncer.RESTART_FRAMES = 10**9
    syncer.COPY_AFTER = 1e9

    async def run(folder: Path) -> dict[str, Any]:
        peak_shop = await PeakShop.open(folder, history=history, queued=queued, close_every=close_every)
        store = peak_shop.store
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the set-up's frames out of the count
        turns = iter(range(pairs))

        async def buyer_side(i: int) -> None:
            for k in turns:
                await peak_shop.turn(i, k)

        gen = store._gen
        await asyncio.gather(*(buyer_side(i) for i in range(40)))
        commits = store._gen - gen
        page = int(store.one("PRAGMA page_size")[0])
        names = dict(store.db.execute("SELECT pageno, name FROM dbstat").fetchall())
        data = (folder / "data" / "fenliu.db-wal").read_bytes()
        count: collections.Counter[str] = collections.Counter()
        for offset in range(32, len(data) - 24 - page + 1, 24 + page):  # a 32-byte header, then frames
            count[names.get(struct.unpack_from(">I", data, offset)[0], "(free)")] += 1
        store.close()
        return {"frames_per_message": round(sum(count.values()) / pairs, 2),
                "by_btree": {name: round(n / pairs, 2) for name, n in count.most_common()},
                "messages_per_commit": round(pairs / commits, 1) if commits else None}

    folder = Path(tempfile.mkdtemp(prefix="fenliu-wal-pages-"))
    try:
        return asyncio.run(run(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The count on the code of ``root`` (its ``.venv`` if it has one, else this Python)."""
    python = root / ".venv" / "bin" / "python"
    command = [str(python) if python.exists() else sys.executable, str(Path(__file__).resolve()), "--child",
               "--pairs", str(args.pairs), "--history", str(args.history), "--queued", str(args.queued),
               "--close-every", str(args.close_every)]
    out = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(root)), cwd=root, capture_output=True,
                         text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=4000, help="answered messages (default 4,000)")
    parser.add_argument("--history", type=int, default=0,
                        help="closed conversations written before (bench/shop_cpu.py --history; default none, as the peak)")
    parser.add_argument("--queued", type=int, default=1000, help="buyers waiting at the start (default 1,000)")
    parser.add_argument("--close-every", type=int, default=10,
                        help="a close that dequeues and a new arrival every N answered messages (default 10; 0: none)")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, counted the same way")
    parser.add_argument("--json", action="store_true", help="JSON lines only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.pairs, args.history, args.queued, args.close_every), ensure_ascii=False))
        return 0
    sides = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    found = {}
    for name, root in sides:
        found[name] = measure(root, args)
        print(json.dumps({"side": name, "code": str(root), **found[name]}, ensure_ascii=False), flush=True)
    base = found.get("baseline", {})
    print(json.dumps({"frames_per_message": found["this"]["frames_per_message"],
                      "baseline_frames_per_message": base.get("frames_per_message"),
                      "by_btree": found["this"]["by_btree"], "baseline_by_btree": base.get("by_btree"),
                      "messages_per_commit": found["this"]["messages_per_commit"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
