#!/usr/bin/env bash
# Builds Fenliu's self-contained Linux desktop bundle into dist/fenliu/ (what `make package` runs):
#
#   dist/fenliu/fenliu          the launcher: `fenliu` with every sub-command, no Python needed
#   dist/fenliu/_internal/      Python, Qt (Core, Gui, Widgets), the console, resources/
#   dist/fenliu/fenliu.desktop  the desktop entry (install.sh fills in the real paths)
#   dist/fenliu/fenliu.png      its 256x256 icon
#   dist/fenliu/install.sh      installs the bundle for one user (or, as root, for all)
#
# Uses the repository's .venv (scripts/bootstrap.sh makes it), installs PyInstaller and tzdata into
# it when missing (never touching the installed PySide6), builds packaging/fenliu.spec with build/ as
# the work folder, and prints the bundle's size and the build time. The bundle runs on Linux
# x86_64 with glibc no older than the build machine's: build on the oldest distribution you support.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)
say() { printf 'package: %s\n' "$*" >&2; }

[ "${FENLIU_SKIP_BOOTSTRAP:-}" = 1 ] || bash scripts/bootstrap.sh
PY=.venv/bin/python

# Packaging tools, outside [project] dependencies (pyproject's `packaging` extra when it exists).
# The constraint pins the Qt already installed: nothing here may upgrade PySide6.
if ! "$PY" -c 'import PyInstaller, tzdata' >/dev/null 2>&1; then
    say "installing PyInstaller and tzdata into .venv"
    constraints=$(mktemp)
    trap 'rm -f "$constraints"' EXIT
    "$PY" -m pip list --format=freeze 2>/dev/null | grep -iE '^(pyside6[-_a-z]*|shiboken6)==' >"$constraints" || true
    "$PY" -m pip install -q -c "$constraints" "pyinstaller>=6.5" "tzdata" >&2
fi

# The icon is drawn by packaging/make_icon.py and kept in resources/icons; draw it if it is gone.
if [ ! -f resources/icons/fenliu.png ] || [ ! -f resources/icons/fenliu.ico ]; then
    QT_QPA_PLATFORM=offscreen "$PY" packaging/make_icon.py
fi

say "building dist/fenliu with PyInstaller $("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)')"
rm -rf dist/fenliu build/fenliu
"$PY" -m PyInstaller --noconfirm --clean --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" \
    --distpath dist --workpath build packaging/fenliu.spec

# Strip the shared libraries here rather than with PyInstaller's strip=True (fenliu.spec): the
# libraries auditwheel vendored into a wheel's *.libs/ folder (numpy's OpenBLAS, Pillow's codecs)
# come stripped already and strip turns them into files the loader refuses.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null; then
    find dist/fenliu -type f -name '*.so*' ! -path '*.libs/*' -exec strip --strip-unneeded {} + 2>/dev/null || true
fi

# Desktop integration, beside the launcher.
cp packaging/fenliu.desktop dist/fenliu/fenliu.desktop
cp resources/icons/fenliu.png dist/fenliu/fenliu.png
install -m 0755 packaging/install.sh dist/fenliu/install.sh

# The bundle must start without the source tree: a last look before saying it is done.
launcher="$PWD/dist/fenliu/fenliu"
version=$(cd / && env -i HOME="${HOME:-/tmp}" PATH=/usr/bin:/bin "$launcher" --version)
elapsed=$(($(date +%s) - start))
say "built $version in dist/fenliu: $(du -sh dist/fenliu | cut -f1) on disk," \
    "$(find dist/fenliu -type f | wc -l) files, in ${elapsed}s"
