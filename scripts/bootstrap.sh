#!/usr/bin/env bash
# Everything `make run` and `make test` need on a fresh Debian/Ubuntu machine, done only when
# missing, so that a second run takes well under two seconds:
#
#   1. system packages: Xvfb, xauth, CJK fonts and the libraries Qt 6's xcb platform loads
#      (and python3-venv when `python3 -m venv` cannot work), and PostgreSQL for the tests that
#      run the server on it (without it those are skipped with the reason). Installed with apt-get, through
#      sudo when not root. When that is impossible the missing ones are listed and we go on:
#      tests that need a display are then skipped with a reason, the offscreen ones still run.
#   2. .venv made with python3 (3.11 or newer), with `pip install -e '.[test]'`, redone only
#      when pyproject.toml changed (a stamp inside .venv holds its hash).
#
# Environment: PYTHON (default python3) picks the interpreter; FENLIU_NO_APT=1 skips step 1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
STAMP="$VENV/.fenliu-installed"
PYTHON="${PYTHON:-python3}"

# Qt 6 xcb platform plugin dependencies, the virtual display and fonts for Chinese text.
SYSTEM_PACKAGES=(
    xvfb xauth fonts-noto-cjk fonts-noto-color-emoji  # emoji: the picker and [微笑]-style codes (issue 13)
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
    libegl1 libgl1 libdbus-1-3 libfontconfig1
    libpulse0  # QtMultimedia (the alert sounds) loads it, even where there is no sound card
    postgresql  # the tests' throwaway PostgreSQL (tests/postgres.py); its contrib has pg_trgm
)

# Two bootstraps at once (make run in one shell, make test in another) take turns.
if command -v flock >/dev/null 2>&1; then
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
fi

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# Prints the packages of "$@" that dpkg does not list as installed.
missing_packages() {
    local installed
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null \
        | awk '$2 == "ii" { print $1 }' || true)
    local pkg
    for pkg in "$@"; do
        grep -qxF "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
    done
}

# Runs a command as root: directly, through sudo, or not at all (returns 1).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
    else
        return 1
    fi
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 "$@"
}

system_packages() {
    if [ "${FENLIU_NO_APT:-}" = 1 ]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: install Xvfb, xauth, Noto CJK fonts and Qt 6's xcb libraries yourself"
        return 0
    fi
    local wanted=("${SYSTEM_PACKAGES[@]}")
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        wanted+=(python3-venv)
    fi
    local missing
    mapfile -t missing < <(missing_packages "${wanted[@]}")
    [ "${#missing[@]}" -eq 0 ] && return 0

    say "installing system packages: ${missing[*]}"
    if as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq -o DPkg::Lock::Timeout=120 >&2; then
        # All at once; if one name is unknown on this release, the others one by one.
        if ! apt_install "${missing[@]}" >&2; then
            local pkg
            for pkg in "${missing[@]}"; do apt_install "$pkg" >&2 || true; done
        fi
    fi
    mapfile -t missing < <(missing_packages "${wanted[@]}")
    if [ "${#missing[@]}" -gt 0 ]; then
        say "could not install (no root, no sudo, or no network): ${missing[*]}"
        if grep -qx xvfb < <(printf '%s\n' "${missing[@]}"); then
            say "going on: tests that need a display are skipped without Xvfb"
        else
            say "going on: the console may not start on X11 until these are installed"
        fi
    fi
}

python_env() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        say "error: $PYTHON not found; install Python 3.11 or newer (or set PYTHON=/path/to/python3.11)"
        exit 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        say "error: Fenliu needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)" \
            "(set PYTHON=/path/to/python3.11)"
        exit 1
    fi
    # A venv that cannot run (moved, interpreter gone) or is too old is made again.
    if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
        say "creating $VENV with $("$PYTHON" -V 2>&1)"
        rm -rf "$VENV"
        if ! "$PYTHON" -m venv "$VENV"; then
            say "error: '$PYTHON -m venv' failed; on Debian/Ubuntu install python3-venv"
            exit 1
        fi
    fi
    local hash
    hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat "$STAMP" 2>/dev/null)" != "$hash" ] || [ ! -x "$VENV/bin/fenliu" ]; then
        say "installing Fenliu and its test tools into $VENV (pyproject.toml changed)"
        "$VENV/bin/python" -m pip install -q --upgrade pip >&2 || say "could not upgrade pip; going on with $("$VENV/bin/python" -m pip --version)"
        "$VENV/bin/python" -m pip install -q -e '.[test]' >&2
        printf '%s\n' "$hash" >"$STAMP"
    fi
}

system_packages
python_env
