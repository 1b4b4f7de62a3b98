"""A consistent copy of a data folder, taken beside a running server (``fenliu backup``).

What a shop is: ``fenliu.db`` (everything but images and engine snapshots), ``snapshots/`` (a
start with a pruned engine log needs one, ARCHITECTURE.md "Persistence") and ``images/``
(issue 13: the images messages show, stored by hash). The copy, in this order:

1. the snapshots, so the database copied next reaches at least one of them (the log is pruned
   only up to the older kept snapshot, less a margin);
2. the database, with SQLite's online backup from a read-only connection: one consistent
   transaction, whatever the server commits meanwhile;
3. the images. The server writes an image (synced and renamed) before it commits the message
   that shows it, so every image the copied database refers to is there by now; images newer
   than the copy are taken too and are harmless. Files are never changed once written, so a file
   already in the destination is not copied again (a later backup into the same folder adds only
   what is new).

Restoring is copying the folder back with the server stopped (docs/RELIABILITY.md).

A data folder may hold several shops (issue 15): ``default`` at its root, the others under
``shops/NAME`` with the policy and bot answers they were added with. ``backup_shops`` copies each
into the same place under the destination, so the copy restores as the data folder, every shop
in it; or one shop (``--shop``) into the destination.

On PostgreSQL (``backup_pg``, issue 15) a shop is one schema, ``shop_<name>``, holding everything,
images and routing snapshots included; the copy is PostgreSQL's own ``pg_dump --schema`` of it in
its custom format, which reads the whole schema in one repeatable-read transaction (consistent
whatever the server commits meanwhile) and restores with ``pg_restore``. We use the binary rather
than a ``COPY`` export of our own: the dump carries the schema's definitions (types, identity
columns, indexes, the aggregates) with the rows, and its restore is the tool a DBA already knows.
The password never goes on the command line (where ``ps`` shows it): it is given in the
environment.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from console.server.deployment import DEFAULT_SHOP, FAQ_FILE, POLICY_FILE, Deployment, ShopError, check_name
from console.server.images import FOLDER as IMAGES
from console.server.repository.images import shown_image_hashes
from console.server.store import DB_NAME, fsync_dir

SNAPSHOTS = "snapshots"


class BackupError(Exception):
    """The backup cannot be made; the message says why and what to do."""


@dataclass
class BackupReport:
    database_bytes: int = 0
    snapshots: int = 0
    images: int = 0  # image files copied (images and thumbnails)
    missing: int = 0  # images the copied database shows but the data folder lacks


def backup(data: Path, dest: Path) -> BackupReport:
    source = data / DB_NAME
    if not source.is_file():
        raise BackupError(f"no database at {source}: give the server's data folder with --data")
    if dest.resolve() == data.resolve() or data.resolve() in dest.resolve().parents:
        raise BackupError(f"{dest} is inside the data folder; back up to another folder (another disk, ideally)")
    if dest.exists() and (dest / DB_NAME).exists():
        raise BackupError(f"{dest} already holds a database; give an empty or new folder")
    dest.mkdir(parents=True, exist_ok=True)
    report = BackupReport()
    report.snapshots = _copy_tree(data / SNAPSHOTS, dest / SNAPSHOTS)
    target = dest / DB_NAME
    try:
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)
                shas = shown_image_hashes(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {source}: {exc}") from None
    _fsync(target)
    report.database_bytes = target.stat().st_size
    report.images = _copy_tree(data / IMAGES, dest / IMAGES)
    report.missing = sum(1 for sha in shas if not (dest / IMAGES / sha[:2] / sha[2:]).is_file())
    fsync_dir(dest)
    return report


def backup_shops(data: Path, dest: Path, shop: str | None = None) -> list[tuple[str, BackupReport]]:
    """Every shop of the data folder ``data`` into the same places under ``dest`` (``shop`` None),
    or the shop ``shop`` into ``dest``; each shop's report, in order. A shop folder's own files
    (its policy and bot answers) are copied with it."""
    source, target = Deployment(data), Deployment(dest)
    if shop is not None:
        if shop != DEFAULT_SHOP:
            try:
                check_name(shop)
            except ShopError as exc:
                raise BackupError(str(exc)) from None
        if not source.exists(shop):
            known = ", ".join(source.names()) or "none"
            raise BackupError(f"no shop {shop!r} in {data} (its shops: {known})")
        pairs = [(shop, source.folder(shop), dest)]
    else:
        names = source.names()
        if not names:
            raise BackupError(f"no database at {data / DB_NAME}: give the server's data folder with --data")
        if dest.resolve() == data.resolve() or data.resolve() in dest.resolve().parents:
            raise BackupError(f"{dest} is inside the data folder; back up to another folder (another disk, ideally)")
        pairs = [(name, source.folder(name), target.folder(name)) for name in names]
    reports = []
    for name, folder, into in pairs:
        into.mkdir(parents=True, exist_ok=True)
        for own in (POLICY_FILE, FAQ_FILE):
            if name != DEFAULT_SHOP and (folder / own).is_file() and not (into / own).exists():
                _copy_file(folder / own, into / own)
        if (folder / DB_NAME).is_file():
            reports.append((name, backup(folder, into)))
        else:  # added, not served yet: its policy is all there is
            reports.append((name, BackupReport()))
    return reports


def _copy_file(source: Path, target: Path) -> None:
    partial = target.with_name(".tmp-" + target.name)
    shutil.copyfile(source, partial)
    _fsync(partial)
    os.replace(partial, target)
    fsync_dir(target.parent)


def _copy_tree(source: Path, dest: Path) -> int:
    """Copy the files under ``source`` not already in ``dest`` (temporary files left out)."""
    copied = 0
    if not source.is_dir():
        return 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".tmp"):
            continue
        target = dest / path.relative_to(source)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(".tmp-" + target.name)
        shutil.copyfile(path, partial)
        _fsync(partial)
        os.replace(partial, target)
        copied += 1
    for folder in {p.parent for p in dest.rglob("*") if p.is_file()} | {dest}:
        fsync_dir(folder)
    return copied


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pg_dump_binary() -> str | None:
    """``pg_dump`` on the PATH, else the newest of Debian's ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which("pg_dump")
    if found is not None:
        return found
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return versions[-1] if versions else None


def dump_name(shop: str) -> str:
    return f"shop_{shop}.dump"


def backup_pg(url: str, shop: str, dest: Path) -> int:
    """``pg_dump`` of the shop's schema into ``dest/shop_<name>.dump`` (custom format), written to
    a temporary name, synced and renamed; its size in bytes."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from console.server.pgstore import redact, schema_of, shop_names
    from console.server.store import StoreError

    try:
        schema = schema_of(shop)
        if shop not in shop_names(url):
            raise BackupError(f"no shop {shop!r} in {redact(url)}")
    except StoreError as exc:
        raise BackupError(str(exc)) from None
    binary = pg_dump_binary()
    if binary is None:
        raise BackupError("pg_dump was not found: install PostgreSQL's client programs (Debian: apt install "
                          "postgresql-client), of the server's major version or newer")
    target = dest / dump_name(shop)
    if target.exists():
        raise BackupError(f"{target} exists already; give an empty or new folder")
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise BackupError(f"--store: {exc}") from None
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    dest.mkdir(parents=True, exist_ok=True)
    partial = dest / (".tmp-" + target.name)
    try:
        done = subprocess.run(
            [binary, "--format=custom", f"--schema={schema}", "--no-owner", f"--file={partial}",
             f"--dbname={make_conninfo('', **params)}"],
            env=env, capture_output=True, text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump could not run: {exc}") from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()}")
    _fsync(partial)
    os.replace(partial, target)
    fsync_dir(dest)
    return target.stat().st_size
