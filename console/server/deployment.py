"""The shops of one deployment: one data folder, one store per shop (issue 15).

A store is per shop (the design agreed with the PostgreSQL store: one schema per shop there). On
SQLite a shop is a folder holding today's store, unchanged:

- ``DATA`` itself is the shop ``default``: the folder a one-shop Fenliu always used, so an old
  data folder is served as it is, with nothing to migrate;
- ``DATA/shops/<name>/`` is every other shop, made by ``fenliu shops add NAME --policy FILE``
  (the file is kept beside the store as ``policy.toml``: the policy a shop starts with until one is
  applied live).

Each shop folder has its own ``server.lock``: the process serving a shop holds that shop's lock,
which is what the PostgreSQL ownership (an advisory lock per shop) mirrors. ``fenliu shops remove``
moves a shop's folder to ``DATA/removed/`` (nothing is deleted) and refuses while a server holds it.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from console.server.store import DB_NAME, FolderInUse, FolderLock

DEFAULT_SHOP = "default"
SHOP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
POLICY_FILE = "policy.toml"
FAQ_FILE = "faq.toml"  # a shop's own bot answers (fenliu shops add --faq); else the server's --faq
MAX_SHOPS = 100  # the default bound on the shops one process serves (--max-shops)


class ShopError(Exception):
    """A shop name that is not valid, a shop that exists or does not, a shop in use."""


def check_name(name: str) -> str:
    if not SHOP_NAME.match(name):
        raise ShopError(f"{name!r} is not a shop name: 1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or "
                        "digit (it names a folder)")
    return name


@dataclass(frozen=True)
class ShopInfo:
    name: str
    folder: Path
    held_by: int | None  # the PID of the server holding its lock (0: unreadable), None: free


class Deployment:
    """Where each shop of a data folder lives; no database is opened here."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, name: str) -> Path:
        return self.root if name == DEFAULT_SHOP else self.root / "shops" / check_name(name)

    def exists(self, name: str) -> bool:
        folder = self.folder(name)
        return (folder / DB_NAME).exists() or (name != DEFAULT_SHOP and (folder / POLICY_FILE).exists())

    def names(self) -> list[str]:
        """The shops, ``default`` first (when ``DATA`` holds a store), then by name."""
        names = [DEFAULT_SHOP] if (self.root / DB_NAME).exists() else []
        shops = self.root / "shops"
        if shops.is_dir():
            for child in sorted(shops.iterdir()):
                if child.is_dir() and SHOP_NAME.match(child.name) and child.name != DEFAULT_SHOP \
                        and ((child / DB_NAME).exists() or (child / POLICY_FILE).exists()):
                    names.append(child.name)
        return names

    def shops(self) -> list[ShopInfo]:
        return [ShopInfo(name, self.folder(name), FolderLock.holder(self.folder(name))) for name in self.names()]

    def policy_file(self, name: str) -> Path | None:
        """The policy a shop was added with (None for ``default``, which starts as it always did)."""
        if name == DEFAULT_SHOP:
            return None
        path = self.folder(name) / POLICY_FILE
        return path if path.exists() else None

    def faq_file(self, name: str) -> Path | None:
        """The shop's own FAQ for its bot, when it was given one (``DATA/shops/NAME/faq.toml``)."""
        if name == DEFAULT_SHOP:
            return None
        path = self.folder(name) / FAQ_FILE
        return path if path.exists() else None

    def add(self, name: str, policy_text: str, faq_text: str | None = None) -> Path:
        """Make the shop's folder with its policy (and FAQ); the store is created by its first opener."""
        check_name(name)
        if name == DEFAULT_SHOP:
            raise ShopError(f"the shop {DEFAULT_SHOP!r} is the data folder itself ({self.root}); pick another name")
        if self.exists(name):
            raise ShopError(f"the shop {name!r} exists already ({self.folder(name)})")
        folder = self.folder(name)
        folder.mkdir(parents=True, exist_ok=True)
        if faq_text is not None:
            (folder / FAQ_FILE).write_text(faq_text, encoding="utf-8")
        staged = folder / (POLICY_FILE + ".new")
        staged.write_text(policy_text, encoding="utf-8")
        staged.replace(folder / POLICY_FILE)  # the shop exists once its policy is whole
        return folder

    def remove(self, name: str) -> Path:
        """Move the shop's folder to ``DATA/removed/<name>.<time>`` (kept, not deleted)."""
        check_name(name)
        if name == DEFAULT_SHOP:
            raise ShopError(f"the shop {DEFAULT_SHOP!r} is the data folder itself and cannot be removed")
        if not self.exists(name):
            raise ShopError(f"no shop {name!r} in {self.root}")
        folder = self.folder(name)
        lock = FolderLock(folder)
        try:
            lock.acquire()  # held while moving: no server can start on it meanwhile
        except FolderInUse as exc:
            raise ShopError(str(exc)) from None
        try:
            target = self.root / "removed" / f"{name}.{time.strftime('%Y%m%d-%H%M%S')}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(folder), str(target))
        finally:
            lock.release()
        return target


__all__ = ["DEFAULT_SHOP", "MAX_SHOPS", "Deployment", "ShopError", "ShopInfo", "check_name"]
