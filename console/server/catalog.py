"""The shop's catalogue on the server (issue 13): importing it (the ``catalog`` table's SQL is
``console.server.repository.catalog``'s, imported from there).

Written by ``fenliu catalog import`` (all rows of a file in one transaction: a bad file was already
refused whole by ``console.reception.catalog.read_catalog``) and by the demo's seed; read by the
buyer panel (the entry product's title and price), by product cards (the product must exist) and
by search (a product's title finds buyers who arrived from it). The pinyin initials of each title
are computed once, at import, so the agent's product picker can find 连衣裙 by ``lyq``.
"""

from __future__ import annotations

from pathlib import Path

from console.reception.catalog import read_catalog
from console.server.repository.catalog import Catalog
from console.server.store import Store


def import_file(store: Store, path: Path, at: float) -> tuple[int, int]:
    """Read ``path`` and put all its products in one transaction; (added, updated).

    ``CsvError`` (every bad row by line) or ``OSError`` before anything is written."""
    products = read_catalog(path.read_bytes())
    added, updated = Catalog(store).put(products, at)
    store.flush(now=True)
    return added, updated


def seed_demo_catalog(store: Store, csv_file: Path, at: float) -> int:
    """Give a shop with an empty catalogue the demo's (resources/catalog.csv); how many were added."""
    catalog = Catalog(store)
    if catalog.count():
        return 0
    added, _ = catalog.put(read_catalog(csv_file.read_bytes()), at)
    return added
