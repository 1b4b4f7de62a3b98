#!/usr/bin/env bash
# Installs the Fenliu desktop bundle this script sits in (build.sh copies it to dist/fenliu/).
#
#   ./install.sh                 for you: ~/.local/opt/fenliu, ~/.local/bin/fenliu, the menu entry
#   sudo ./install.sh            for everyone: /opt/fenliu, /usr/local/bin/fenliu, the menu entry
#   ./install.sh --uninstall     removes what the same command installed (your data stays)
#
# Options: --prefix DIR puts the program in DIR instead (the launcher link and the menu entry stay
# where they are said above); --user installs for you even as root. The data (accounts,
# conversations) lives in the per-user data folder (~/.local/share/fenliu), which neither
# installing nor uninstalling touches.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf 'install: %s\n' "$*" >&2; }

system=0
[ "$(id -u)" -eq 0 ] && system=1
prefix=
uninstall=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --user) system=0; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) say "unknown option: $1 (see --help)"; exit 2 ;;
    esac
done

if [ "$system" = 1 ]; then
    prefix=${prefix:-/opt/fenliu}
    bindir=/usr/local/bin
    share=/usr/local/share
else
    prefix=${prefix:-$HOME/.local/opt/fenliu}
    bindir="$HOME/.local/bin"
    share="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
desktop="$share/applications/fenliu.desktop"
icon="$share/icons/hicolor/256x256/apps/fenliu.png"
link="$bindir/fenliu"

refresh_menus() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$share/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
}

if [ "$uninstall" = 1 ]; then
    rm -f "$desktop" "$icon"
    if [ -L "$link" ]; then rm -f "$link"; fi
    if [ -x "$prefix/fenliu" ] && [ -d "$prefix/_internal" ]; then rm -rf "$prefix"; fi
    refresh_menus
    say "removed Fenliu from $prefix (your data folder is untouched)"
    exit 0
fi

if [ ! -x "$here/fenliu" ] || [ ! -d "$here/_internal" ]; then
    say "run this script from the bundle folder (dist/fenliu): $here has no fenliu launcher"
    exit 1
fi

if [ "$(cd "$here" && pwd -P)" != "$(mkdir -p "$prefix" && cd "$prefix" && pwd -P)" ]; then
    # A fresh copy: an older version's files must not linger beside the new ones. Only an empty
    # folder or an earlier Fenliu bundle is replaced, never a folder holding anything else.
    if [ -n "$(ls -A "$prefix")" ] && ! { [ -x "$prefix/fenliu" ] && [ -d "$prefix/_internal" ]; }; then
        say "$prefix is not empty and holds no earlier Fenliu: pick another --prefix"
        exit 1
    fi
    rm -rf "$prefix"
    cp -a "$here" "$prefix"
fi
mkdir -p "$bindir" "$(dirname "$desktop")" "$(dirname "$icon")"
ln -sfn "$prefix/fenliu" "$link"
cp "$here/fenliu.png" "$icon"
# The menu entry runs the installed launcher by its full path (quoted: the path may hold spaces).
sed -e "s|^Exec=fenliu |Exec=\"$prefix/fenliu\" |" -e "s|^TryExec=.*|TryExec=$prefix/fenliu|" \
    "$here/fenliu.desktop" >"$desktop"
chmod 0644 "$desktop"
refresh_menus

say "installed $("$prefix/fenliu" --version) in $prefix"
say "command: $link$(case ":$PATH:" in *":$bindir:"*) ;; *) printf ' (add %s to PATH)' "$bindir" ;; esac)"
say "menu entry: $desktop"
