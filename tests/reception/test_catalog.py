"""The catalogue's CSV (issue 13): columns, encodings, prices, links, all or nothing by line."""

from __future__ import annotations

import pytest

from console.reception.catalog import Product, parse_price, read_catalog
from console.reception.phrases import CsvError, Problem
from console.sim.phrases import DEMO_CATALOG

GOOD = "id,title,price,image,url\np1,碎花连衣裙,159,,https://item.example.com/p1\np2,纯棉T恤,59.9,https://img.example.com/p2.jpg,\n"


def test_a_good_file_reads_in_utf8_with_or_without_bom_and_in_gbk() -> None:
    expected = [Product("p1", "碎花连衣裙", 15900, "", "https://item.example.com/p1"),
                Product("p2", "纯棉T恤", 5990, "https://img.example.com/p2.jpg", "")]
    assert read_catalog(GOOD.encode("utf-8")) == expected
    assert read_catalog(GOOD.encode("utf-8-sig")) == expected
    assert read_catalog(GOOD.encode("gbk")) == expected
    chinese = GOOD.replace("id,title,price,image,url", "商品ID,标题,价格,图片,链接")
    assert read_catalog(chinese.encode("gbk")) == expected


@pytest.mark.parametrize(("text", "fen"), [("159", 15900), ("159.9", 15990), ("¥159.00", 15900), ("1,299", 129900),
                                           ("￥0.5", 50), ("abc", None), ("-1", None), ("1.234", None), ("", None),
                                           ("99999999999", None)])
def test_prices_are_yuan_as_shops_write_them(text: str, fen: int | None) -> None:
    assert parse_price(text) == fen


def test_every_bad_row_is_named_by_its_line_and_nothing_is_returned() -> None:
    data = ("id,title,price,image,url\n"
            "p1,好商品,10,,\n"            # line 2: fine
            "p2,,10,,\n"                  # 3: no title
            "p3,价格不对,十元,,\n"          # 4: price
            "p4,链接,10,javascript:alert(1),\n"  # 5: link
            "p1,又是p1,10,,\n"            # 6: duplicate
            "p5,少一列,10,\n"             # 7: columns
            ",没有id,10,,\n"              # 8: no id
            "p\u202e6,隐藏字符,10,,\n")    # 9: bad id
    with pytest.raises(CsvError) as caught:
        read_catalog(data.encode())
    assert [(p.line, p.problem) for p in caught.value.problems] == [
        (3, Problem.NO_TITLE), (4, Problem.PRICE), (5, Problem.LINK), (6, Problem.DUPLICATE),
        (7, Problem.COLUMNS), (8, Problem.NO_ID), (9, Problem.BAD_ID)]


@pytest.mark.parametrize("data", [b"", b"title,price\nx,1\n", b"id,title,price,image,url\n",
                                  b"\xff\xfe\x00bad"])
def test_a_file_that_is_no_catalogue_is_refused_whole(data: bytes) -> None:
    with pytest.raises(CsvError) as caught:
        read_catalog(data)
    assert caught.value.problems[0].problem in (Problem.HEADER, Problem.EMPTY, Problem.ENCODING)


def test_the_demo_catalogue_is_a_plausible_shop() -> None:
    assert 30 <= len(DEMO_CATALOG) <= 50
    assert {"p1001", "p1002", "p1003", "p2001"} <= {p.id for p in DEMO_CATALOG}  # the example policy's
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.title) and p.price > 0 for p in DEMO_CATALOG)
