"""``fenliu catalog import``: all or nothing with lines named, GBK detected, a re-import updates."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from console.server.repository.catalog import Catalog
from console.server.store import Store


def _catalog(data: Path) -> dict[str, tuple[str, int]]:
    store = Store.open(data)
    try:
        return {p.id: (p.title, p.price) for p in Catalog(store).search("", limit=1000)}
    finally:
        store.close()


def test_import_then_reimport_updates_and_a_bad_file_changes_nothing(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    first = tmp_path / "first.csv"
    first.write_bytes("商品ID,标题,价格,图片,链接\np1,碎花连衣裙,159,,\np2,纯棉T恤,59,,\n".encode("gbk"))
    assert main(["catalog", "import", str(first), "--data", str(data)]) == 0
    assert "2 added, 0 updated" in capsys.readouterr().out
    assert _catalog(data) == {"p1": ("碎花连衣裙", 15900), "p2": ("纯棉T恤", 5900)}

    again = tmp_path / "again.csv"
    again.write_text("id,title,price,image,url\np2,纯棉T恤 白色,49.9,,\np3,真丝围巾,88,,\n", encoding="utf-8-sig")
    assert main(["catalog", "import", str(again), "--data", str(data)]) == 0
    assert "1 added, 1 updated" in capsys.readouterr().out
    assert _catalog(data) == {"p1": ("碎花连衣裙", 15900), "p2": ("纯棉T恤 白色", 4990), "p3": ("真丝围巾", 8800)}

    bad = tmp_path / "bad.csv"
    bad.write_text("id,title,price,image,url\np1,改了标题,1,,\np9,新商品,九块九,,\n", encoding="utf-8")
    assert main(["catalog", "import", str(bad), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "nothing was changed" in err and "line 3: the price is not an amount in yuan" in err
    assert _catalog(data)["p1"] == ("碎花连衣裙", 15900) and "p9" not in _catalog(data)  # all or nothing

    assert main(["catalog", "import", str(tmp_path / "missing.csv"), "--data", str(data)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_titles_are_found_by_text_and_by_pinyin_initials(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        from console.reception.catalog import Product
        Catalog(store).put([Product("p1", "碎花连衣裙", 100), Product("p2", "连衣裙 长款", 100),
                            Product("p3", "纯棉T恤", 100)], 0.0)
        store.flush(now=True)
        assert [p.id for p in Catalog(store).search("连衣裙")] == ["p2", "p1"]  # starting with it first
        assert [p.id for p in Catalog(store).search("lyq")] == ["p2", "p1"]
        assert [p.id for p in Catalog(store).search("cm")] == ["p3"]
        assert [p.id for p in Catalog(store).search("100%")] == []  # LIKE's wildcards are text
    finally:
        store.close()
