"""The KPI book a server start builds, timed on a ``bench/restart.py`` folder, against a baseline (issue 9).

    .venv/bin/python bench/kpi_book.py --json --buyers 1000000 --baseline e0f85b3 --rounds 3

``KpiBook`` (``console/server/kpis.py``) is built at every start and at each local midnight: it
reads today's receptions and order events and yesterday's ratings and waits, then the start pushes
every agent's tiles and the team's. This times exactly that (the book, then ``tiles`` for every
agent and the team) in a fresh process, on the cached ``clean`` folder of ``bench/restart.py`` for
``--buyers`` (opened read-only, never changed), with "now" at the day's last reception, so the
receptions are today's whatever the wall clock says (a restart bench run after the shop's
midnight starts with an empty today). Each round runs the code of this tree and the code of
``--baseline`` (a git revision, its ``console/`` exported to a temporary folder) one after the
other, with the cyclic collector off as ``Server.start`` has it. One line per run; the last line is
one JSON object with the medians::

    {"buyers": N, "receptions": N, "new_cpu_s": x, "base_cpu_s": x, "new_wall_s": x, "base_wall_s": x, "ratio_cpu": x}
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "fenliu-restart-cache"


def folder_for(buyers: int) -> Path:
    """The newest finished ``bench/restart.py`` folder with ``buyers`` buyers."""
    found = sorted((p for p in CACHE.glob(f"*-{buyers}") if (p / "done").exists()), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(f"no cached folder for {buyers} buyers in {CACHE}: run bench/restart.py --sizes {buyers} first")
    return found[-1] / "clean"


def child(tree: str, db: str) -> None:
    """One timed build, in this process, of the ``KpiBook`` of ``tree`` (prints a JSON line)."""
    import gc
    import sqlite3

    sys.path.insert(0, tree)
    from console.server.kpis import KpiBook

    class ReadOnly:  # the two reads KpiBook makes of its Store, on a connection that writes nothing, not even a -shm file (the folder is a shared cache)
        def __init__(self) -> None:
            self.db = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
            self.db.row_factory = sqlite3.Row

        def one(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Row | None:
            row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
            return row

        def tuples(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
            cursor = self.db.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()

    store = ReadOnly()
    now, receptions = store.one("SELECT max(at), count(*) FROM receptions") or (0.0, 0)
    gc.disable()  # as Server.start has it
    cpu, wall = time.process_time(), time.perf_counter()
    book = KpiBook(store, "Asia/Shanghai", now)  # type: ignore[arg-type]
    shown = [book.tiles(agent) for agent in sorted(book.dirty)]
    shown.append(book.team_tiles())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    import hashlib

    import msgspec

    digest = hashlib.sha256(msgspec.json.encode(shown)).hexdigest()[:12]  # every tile shown, to compare
    print(json.dumps({"cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "receptions": receptions,
                      "team_received": shown[-1].received_today, "tiles": digest}))


def run(tree: Path, db: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(tree), str(db)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--buyers", type=int, default=1_000_000)
    parser.add_argument("--baseline", default="e0f85b3", help="git revision of the baseline (default: before issue 9's KPI change)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    db = folder_for(args.buyers) / "fenliu.db"
    with tempfile.TemporaryDirectory(prefix="fenliu-kpibase-") as base:
        archive = subprocess.run(["git", "archive", args.baseline, "console"], check=True, capture_output=True, cwd=ROOT)
        subprocess.run(["tar", "-x", "-C", base], input=archive.stdout, check=True)
        runs: dict[str, list[dict[str, float]]] = {"new": [], "base": []}
        for _ in range(args.rounds):
            for way, tree in (("base", Path(base)), ("new", ROOT)):
                got = run(tree, db)
                runs[way].append(got)
                print(json.dumps({"way": way, **got}), flush=True)
    if runs["new"][-1]["tiles"] != runs["base"][-1]["tiles"]:
        raise SystemExit("the two books show different tiles")
    med = {f"{way}_{k}": round(statistics.median(r[k] for r in rs), 3) for way, rs in runs.items() for k in ("cpu_s", "wall_s")}
    print(json.dumps({"buyers": args.buyers, "receptions": runs["new"][-1]["receptions"],
                      **{k: med[k] for k in ("new_cpu_s", "base_cpu_s", "new_wall_s", "base_wall_s")},
                      "ratio_cpu": round(med["new_cpu_s"] / med["base_cpu_s"], 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
