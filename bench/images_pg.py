"""Images on PostgreSQL against images in files (issue 15): storing and serving, interleaved.

    .venv/bin/python bench/images_pg.py --json              # a throwaway cluster (fsync on)
    .venv/bin/python bench/images_pg.py --store URL         # your PostgreSQL

Workload: ``--images`` buyer photos (``--side`` px, noisy like a camera's, cleaned once by
images.py as the server does: JPEG quality 90, with a thumbnail), stored one per request then
served whole in ``get_image`` parts (``IMAGE_PART_BYTES``). Each image is done both ways in turn,
so the baseline (SQLite's way: two files written, fsynced, renamed, the folder fsynced, in the
worker thread; parts read from the file) runs interleaved with PostgreSQL's in the same run:

- ``pg_insert_ms``: the row's INSERT in the request's batch: what the server's loop waits for
  (the bytes sent over the loop's connection);
- ``pg_commit_flush_ms``: its COMMIT and WAL flush (the COMMIT on the loop, the flush in the
  flush thread in the server; here both in turn);
- ``file_write_ms``: the baseline's files (off the loop, in the worker thread);
- ``pg_serve_ms`` / ``file_serve_ms``: every part of the image and of its thumbnail.

Figures are p50 and p99 in ms. Last line, one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from console.protocol.messages import IMAGE_PART_BYTES  # noqa: E402
from console.server.images import DatabaseImageStore, ImageStore, clean  # noqa: E402
from console.server.pgstore import PgStore  # noqa: E402


def photo(side: int, seed: int) -> bytes:
    rng = random.Random(seed)
    w, h = side, side * 3 // 4
    image = Image.frombytes("RGB", (w, h), bytes(rng.getrandbits(8) for _ in range(w * h * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def serve(store: ImageStore, sha: str) -> None:
    for thumb in (False, True):
        offset, size = 0, 1
        while offset < size:
            data, size = store.read(sha, offset, IMAGE_PART_BYTES, thumb=thumb)
            offset += len(data)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=60)
    p.add_argument("--side", type=int, default=1200, help="photo width in px (height 3/4 of it)")
    p.add_argument("--store", default="local", help="postgresql://… or 'local' (a throwaway cluster, fsync on)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    cluster = None
    if args.store == "local":
        from tests import postgres

        cluster = postgres.start(fsync=True)
        url = cluster.url
    else:
        url = args.store
    times: dict[str, list[float]] = {k: [] for k in ("pg_insert_ms", "pg_commit_flush_ms", "file_write_ms",
                                                     "pg_serve_ms", "file_serve_ms")}
    sizes: list[int] = []
    try:
        with tempfile.TemporaryDirectory(prefix="fenliu-images-") as tmp:
            shop = f"imgbench{os.getpid()}"
            pg = PgStore(url, shop=shop, local_dir=Path(tmp))
            db_images = DatabaseImageStore(pg)
            files = ImageStore(Path(tmp) / "sqlite")
            for i in range(args.images):
                cleaned = clean(photo(args.side, i))
                sizes.append(cleaned.ref.size)
                sha = cleaned.ref.sha256
                order = [0, 1] if i % 2 == 0 else [1, 0]  # alternate which goes first
                for way in order:
                    if way == 0:
                        t0 = time.perf_counter()
                        files._write(files.path(sha, thumb=True), cleaned.thumb)
                        files._write(files.path(sha), cleaned.data)
                        times["file_write_ms"].append((time.perf_counter() - t0) * 1e3)
                        t0 = time.perf_counter()
                        serve(files, sha)
                        times["file_serve_ms"].append((time.perf_counter() - t0) * 1e3)
                    else:
                        t0 = time.perf_counter()
                        db_images.save(cleaned)
                        t1 = time.perf_counter()
                        pg.flush(now=True)
                        t2 = time.perf_counter()
                        times["pg_insert_ms"].append((t1 - t0) * 1e3)
                        times["pg_commit_flush_ms"].append((t2 - t1) * 1e3)
                        t0 = time.perf_counter()
                        serve(db_images, sha)
                        times["pg_serve_ms"].append((time.perf_counter() - t0) * 1e3)
            pg.execute(f"DROP SCHEMA shop_{shop} CASCADE")
            pg.flush(now=True)
            pg.close()
    finally:
        if cluster is not None:
            cluster.stop()
    result: dict[str, object] = {"images": args.images, "image_kb_p50": round(statistics.median(sizes) / 1024, 1),
                                 "load_1m": round(os.getloadavg()[0], 1)}
    for key, values in times.items():
        result[key.replace("_ms", "_p50_ms")] = pct(values, 0.5)
        result[key.replace("_ms", "_p99_ms")] = pct(values, 0.99)
    if not args.json:
        for key, values in times.items():
            print(f"{key:22} p50 {pct(values, 0.5):8.2f}  p99 {pct(values, 0.99):8.2f}")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
