#!/usr/bin/env bash
# Start-up time of the desktop bundle against the venv it was built from (docs/BENCHMARKS.md).
#
#   bash packaging/bench_startup.sh [BUNDLE]      (default dist/fenliu; build it first: make package)
#
# Needs hyperfine (apt-get install hyperfine). Three figures, each bundle vs .venv:
#   warm   `fenliu --version` with the files in the page cache (what a second start costs);
#   cold   the same after evicting every file of the bundle (or of .venv and the Python it runs
#          on) from the page cache with posix_fadvise(DONTNEED), which needs no root: the first
#          start after boot, as far as these files go (libc and friends stay cached);
#   full   `fenliu demo --self-test`: server, simulator and console offscreen, one buyer routed
#          and answered end to end, then exit (a few runs: it takes seconds).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUNDLE=$(cd "${1:-dist/fenliu}" && pwd)
VENV=$PWD/.venv
BASE=$("$VENV/bin/python" -c 'import sys; print(sys.base_prefix)')
command -v hyperfine >/dev/null || { echo "bench_startup: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

EVICT=$(mktemp --suffix=.py)
trap 'rm -f "$EVICT"' EXIT
cat >"$EVICT" <<'EOF'
import os, sys
for root in sys.argv[1:]:
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
EOF

export QT_QPA_PLATFORM=offscreen
cd "$(mktemp -d)"
echo "== warm: fenliu --version"
hyperfine -N --warmup 5 --runs 40 "$BUNDLE/fenliu --version" "$VENV/bin/fenliu --version"
echo "== cold: fenliu --version, page cache of the bundle / of .venv and $BASE evicted before each run"
hyperfine -N --runs 15 \
    --command-name "bundle (cold)" --prepare "python3 $EVICT $BUNDLE" "$BUNDLE/fenliu --version" \
    --command-name "venv (cold)" --prepare "python3 $EVICT $VENV $BASE" "$VENV/bin/fenliu --version"
echo "== full: fenliu demo --self-test"
hyperfine -N --warmup 1 --runs 5 "$BUNDLE/fenliu demo --self-test" "$VENV/bin/fenliu demo --self-test"
