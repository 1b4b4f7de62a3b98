"""A throwaway PostgreSQL for the tests (issue 15): ``initdb`` in a temporary folder, a server on
a unix socket inside it (no TCP port to clash with), stopped and deleted at the end.

PostgreSQL refuses to run as root, so when the tests run as root (CI containers) the cluster
belongs to an unprivileged user: ``postgres`` (made by Debian's package) if it exists, else
``nobody``. The binaries are found with ``pg_config --bindir``, in ``/usr/lib/postgresql/*/bin``
or on PATH; when none are there and we are root on Debian/Ubuntu, Debian's ``postgresql`` package
is installed first (scripts/bootstrap.sh installs it too, so this is only the fallback).

Speed over durability here: ``fsync=off`` (a test never survives a power cut); what the tests
check of durability is the store's own protocol (pgstore.py), which runs the same either way.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APT_PACKAGES = ("postgresql", "postgresql-contrib")


class Unavailable(Exception):
    """PostgreSQL cannot be started here (with the reason)."""


def _bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            found = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                        check=True).stdout.strip())
            if (found / "initdb").exists():
                return found
        except (OSError, subprocess.CalledProcessError):
            pass
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]),
                      reverse=True)
    if versions:
        return Path(versions[0]).parent
    initdb = shutil.which("initdb")
    return Path(os.path.realpath(initdb)).parent if initdb else None


def _install() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES], env=env,
                   capture_output=True)


def _user() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise Unavailable("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


@dataclass
class Cluster:
    folder: Path
    bindir: Path
    user: pwd.struct_passwd | None

    @property
    def socket_dir(self) -> Path:
        return self.folder / "sock"

    @property
    def url(self) -> str:
        return f"postgresql://fenliu@/fenliu?host={self.socket_dir}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True,
                              check=check, cwd=self.folder, **kwargs)  # type: ignore[call-overload]

    def start(self, *, fsync: bool = False) -> None:
        data = self.folder / "data"
        durable = "-c fsync=on" if fsync else "-c fsync=off -c full_page_writes=off"
        try:
            self._run("initdb", "-D", str(data), "-U", "fenliu", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
                      "--no-sync")
            self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "log"), "-w", "-t", "60", "-o",
                      f"-k {self.socket_dir} -c listen_addresses='' {durable} "
                      "-c max_connections=200 -c shared_buffers=128MB", "start")
            self._run("createdb", "-h", str(self.socket_dir), "-U", "fenliu", "fenliu")
        except subprocess.CalledProcessError as exc:
            log = (self.folder / "log").read_text(errors="replace")[-2000:] if (self.folder / "log").exists() else ""
            self.stop()
            raise Unavailable(f"{exc.cmd[0]} failed: {exc.stderr.strip()} {log}") from None

    def stop(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def start(*, fsync: bool = False) -> Cluster:
    """Start a throwaway cluster (installing PostgreSQL when missing and possible); ``fsync``:
    durable as a real deployment (benchmarks), else fast (tests)."""
    bindir = _bindir()
    if bindir is None:
        _install()
        bindir = _bindir()
    if bindir is None:
        raise Unavailable("PostgreSQL is not installed (Debian/Ubuntu: apt-get install postgresql; "
                          "scripts/bootstrap.sh does it when run as root or with sudo)")
    user = _user()
    folder = Path(tempfile.mkdtemp(prefix="fenliu-pg-"))
    (folder / "sock").mkdir()
    if user is not None:
        for path in (folder, folder / "sock"):
            os.chown(path, user.pw_uid, user.pw_gid)
    cluster = Cluster(folder, bindir, user)
    cluster.start(fsync=fsync)
    return cluster


@contextlib.contextmanager
def database(store: str) -> Iterator[str]:
    """A benchmark's ``--store``: a ``postgresql://`` URL as it is, or ``local``: a throwaway
    cluster, durable as a deployment (fsync on), stopped and deleted when the block ends."""
    if store != "local":
        yield store
        return
    cluster = start(fsync=True)
    try:
        yield cluster.url
    finally:
        cluster.stop()
