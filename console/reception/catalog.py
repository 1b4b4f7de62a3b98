"""The shop's catalogue (商品库, CONSOLE.md §6, issue 13) as a CSV file, without I/O.

``fenliu catalog import FILE.csv`` reads a shop's product list: columns ``id, title, price, image,
url`` (or 商品ID, 标题, 价格, 图片, 链接), UTF-8 (with or without BOM) or GBK, detected as the quick
replies' CSV is (``phrases.decode_csv``). Reading is all or nothing: every bad row is reported by
its line number and no product is returned, so a half-good file imports nothing. A price is in
yuan as a shop writes it (``159``, ``159.9``, ``¥159.00``) and kept in fen. ``image`` and ``url``
may be empty; when given they must be an ``http(s)`` address (the catalogue is shown to agents and
sent to buyers: no ``file:`` or ``javascript:`` link rides along).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from console.protocol.identifiers import is_clean_id
from console.protocol.messages import MAX_AMOUNT
from console.reception.phrases import CsvError, Problem, RowProblem, decode_csv

HEADER = ("id", "title", "price", "image", "url")
HEADER_ZH = ("商品id", "标题", "价格", "图片", "链接")
ID_MAX = 64
TITLE_MAX = 120
LINK_MAX = 500
MAX_PRODUCTS = 100_000
"""A shop's catalogue at most (a big Tmall shop lists a few thousand)."""

_LINK = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Product:
    """One catalogue entry; ``price`` in fen (分)."""

    id: str
    title: str
    price: int
    image: str = ""
    url: str = ""


def parse_price(text: str) -> int | None:
    """Yuan as written (``159``, ``159.9``, ``¥159.00``, ``1,299``) in fen; None if it is not a price."""
    cleaned = text.strip().lstrip("¥￥").replace(",", "").strip()
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        return None
    try:
        fen = int(Decimal(cleaned) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return None
    return fen if fen <= MAX_AMOUNT else None


def read_catalog(data: bytes) -> list[Product]:
    """The products of a catalogue file, or ``CsvError`` listing every bad row by line (then none).

    The header row is required (either spelling) so a file of another shape is not taken for a
    catalogue. An id given twice is an error on its second line (which one would win is a guess)."""
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header[:5]) not in (HEADER, HEADER_ZH):
        raise CsvError([RowProblem(1, Problem.HEADER)])
    problems: list[RowProblem] = []
    products: list[Product] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 5:
            problems.append(RowProblem(line, Problem.COLUMNS, str(len(row))))
            continue
        product_id, title, price_text, image, url = (cell.strip() for cell in row)
        why = _check(product_id, title, price_text, image, url)
        if why is not None:
            problems.append(RowProblem(line, *why))
            continue
        if product_id in seen:
            problems.append(RowProblem(line, Problem.DUPLICATE, f"{product_id} (line {seen[product_id]})"))
            continue
        seen[product_id] = line
        price = parse_price(price_text)
        assert price is not None  # _check said so
        products.append(Product(id=product_id, title=title, price=price, image=image, url=url))
    if not problems and not products:
        problems.append(RowProblem(1, Problem.EMPTY))
    if len(products) > MAX_PRODUCTS:
        problems.append(RowProblem(1, Problem.TOO_MANY, str(MAX_PRODUCTS)))
    if problems:
        raise CsvError(problems)
    return products


def _check(product_id: str, title: str, price: str, image: str, url: str) -> tuple[Problem, str] | None:
    if not product_id:
        return Problem.NO_ID, ""
    if len(product_id) > ID_MAX or not is_clean_id(product_id):
        return Problem.BAD_ID, product_id[:ID_MAX]
    if not title:
        return Problem.NO_TITLE, ""
    if len(title) > TITLE_MAX:
        return Problem.LONG_TITLE, str(TITLE_MAX)
    if parse_price(price) is None:
        return Problem.PRICE, price[:40]
    for link in (image, url):
        if link and (len(link) > LINK_MAX or not _LINK.match(link)):
            return Problem.LINK, link[:80]
    return None
