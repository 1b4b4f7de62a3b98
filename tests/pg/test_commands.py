"""The commands on PostgreSQL (issue 15): ``fenliu shops add/list/remove``, ``catalog import``,
``report`` and ``backup`` with ``--store URL``, each on the shop's schema."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from console.cli import main as fenliu
from console.client.buyer import BuyerClient
from console.protocol.messages import Arrive, CloseSession, Entry, Ok, Reply, ReplyAck, Say
from console.server import backup as backup_module
from console.server.app import Server, ServerConfig
from console.server.images import clean
from console.server.limits import Limits
from console.server.pgstore import PgStore, shop_names
from console.server.repository.reports import PgShop, open_read_only
from tests.pg.test_ownership import _seed
from tests.server.helpers import POLICY, Client, run, write_policy
from tests.server.test_images import png
from tests.server.test_reception import buyer, online

UTC_POLICY = POLICY.replace('timezone = "Asia/Shanghai"', 'timezone = "UTC"')


def _server(url: str, shop: str, folder: Path, policy_file: Path) -> Server:
    return Server(ServerConfig(port=0, data_dir=folder / "data", policy_file=policy_file, limits=Limits(),
                               store=url, shops=(shop,)))


def _unique(tmp_path: Path, prefix: str) -> str:
    return prefix + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:10]


def test_shops_add_list_remove_on_postgresql(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A shop added with its policy and FAQ starts with them (not the server's); the list names the
    process serving it; remove is refused while it is served, then renames the schema aside."""
    shop = _unique(tmp_path, "s")
    store = ["--store", pg_url]
    added = tmp_path / "added.toml"
    added.write_text(UTC_POLICY, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("preset = 3\n", encoding="utf-8")
    assert fenliu(["shops", "add", shop, "--policy", str(bad), *store]) == 2
    assert shop not in shop_names(pg_url)  # a refused shop leaves nothing behind
    assert fenliu(["shops", "add", "Bad-Name", "--policy", str(added), *store]) == 1
    assert "cannot be used" in capsys.readouterr().err
    bad_faq = tmp_path / "bad-faq.toml"
    bad_faq.write_text("[[faq]]\nkeywords = 3\n", encoding="utf-8")
    assert fenliu(["shops", "add", shop, "--policy", str(added), "--faq", str(bad_faq), *store]) == 2
    assert shop not in shop_names(pg_url)
    faq = tmp_path / "faq.toml"
    faq.write_text('[[faq]]\nkeywords = ["发货"]\nanswer = "本店：今天下单明天发"\n', encoding="utf-8")
    assert fenliu(["shops", "add", shop, "--policy", str(added), "--faq", str(faq), *store]) == 0
    assert f"fenliu accounts add a1 --role agent --shop {shop}" in capsys.readouterr().out
    assert fenliu(["shops", "add", shop, "--policy", str(added), *store]) == 1
    assert "exists already" in capsys.readouterr().err
    assert fenliu(["shops", "list", *store]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith(shop + "\t")]
    assert line.endswith("not served")
    _seed(pg_url, shop, tmp_path)  # its accounts (fenliu accounts add ... --store URL)

    async def serving() -> None:
        server = _server(pg_url, shop, tmp_path, write_policy(tmp_path))  # the server's --policy: Asia/Shanghai
        await server.start()
        try:
            assert server.hosts[shop].shop.policy.timezone == "UTC"  # the policy it was added with
            assert server.hosts[shop].shop.bot.answer("几天发货", ()).text == "本店：今天下单明天发"  # and its FAQ
            assert fenliu(["shops", "list", *store]) == 0
            [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith(shop + "\t")]
            import os
            import socket

            assert f"served by fenliu {socket.gethostname()} pid {os.getpid()}" in line, line
            assert fenliu(["shops", "remove", shop, *store]) == 1
            assert "stop that server first" in capsys.readouterr().err
        finally:
            await server.stop()

    run(serving())
    assert fenliu(["shops", "remove", shop, *store]) == 0
    assert shop not in shop_names(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # kept, not deleted
        kept = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"removed_{shop}_%",)).fetchall()
    assert len(kept) == 1
    assert fenliu(["shops", "remove", shop, *store]) == 1
    assert "no shop" in capsys.readouterr().err


def test_catalog_import_and_report_on_postgresql(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  resources: Path) -> None:
    shop = _unique(tmp_path, "c")
    _seed(pg_url, shop, tmp_path)
    args = ["--store", pg_url, "--shop", shop]
    assert fenliu(["catalog", "import", str(resources / "catalog.csv"), *args]) == 0
    assert "added" in capsys.readouterr().out
    broken = tmp_path / "broken.csv"
    broken.write_text("id,title,price,image,url\np9,新品,abc,,\n", encoding="utf-8")
    assert fenliu(["catalog", "import", str(broken), *args]) == 1  # all or nothing, the row named
    assert "line 2" in capsys.readouterr().err
    assert fenliu(["catalog", "list", "p9", *args]) == 0
    assert capsys.readouterr().out == ""
    assert fenliu(["catalog", "list", "p1001", *args]) == 0
    assert "碎花连衣裙" in capsys.readouterr().out

    async def day() -> str:
        server = _server(pg_url, shop, tmp_path, write_policy(tmp_path))
        await server.start()
        try:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1", "买家一")
            await b1.request(Arrive(entry="product_detail"))
            await b1.request(Say(text="在吗", client_id="m1"))
            assert isinstance(await a1.request(Reply(conversation="b1", text="在的", client_id="r1")), ReplyAck)
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            from console.protocol.messages import DayReport, GetReport

            sup = await Client.agent(server)
            await sup.login("sup")
            report = await sup.request(GetReport())
            assert isinstance(report, DayReport)
            return report.day
        finally:
            await server.stop()

    when = run(day())
    out = tmp_path / "day"
    assert fenliu(["report", "--day", when, "--format", "csv", "--out", str(out), *args]) == 0
    assert "1 conversations" in capsys.readouterr().err
    rows = (tmp_path / "day-conversations.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 2 and "b1" in rows[1] and "买家一" in rows[1]
    assert fenliu(["report", "--day", when, "--store", pg_url, "--shop", "nosuchshop"]) == 1
    assert "no shop 'nosuchshop'" in capsys.readouterr().err
    db = open_read_only(PgShop(pg_url, shop))  # read-only: a write is refused by PostgreSQL
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            db.execute("DELETE FROM messages")
    finally:
        db.close()


def test_backup_on_postgresql_restores_messages_and_images(pg_url: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """pg_dump of the shop's schema taken while serving; pg_restore into another database; a
    server there has the conversation and serves its image."""
    shop = _unique(tmp_path, "b")
    _seed(pg_url, shop, tmp_path)
    dest = tmp_path / "backup"
    photo = png((60, 40), (9, 99, 199))

    async def serve_and_back_up() -> None:
        server = _server(pg_url, shop, tmp_path, write_policy(tmp_path))
        await server.start()
        try:
            async with BuyerClient(server.url, "b1", name="小王") as client:
                await client.arrive(Entry.PRODUCT_DETAIL)
                await client.send_image(photo, client_id="pic-1")
            assert fenliu(["backup", str(dest), "--store", pg_url, "--shop", shop]) == 0  # beside the server
        finally:
            await server.stop()

    run(serve_and_back_up())
    assert "restore with pg_restore" in capsys.readouterr().out
    dump = dest / f"shop_{shop}.dump"
    assert dump.is_file() and not list(dest.glob(".tmp-*"))
    assert fenliu(["backup", str(dest), "--store", pg_url, "--shop", shop]) == 1  # never over a dump
    assert "exists already" in capsys.readouterr().err

    restored = _unique(tmp_path, "restored")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {restored}")
    other = pg_url.replace("/fenliu?", f"/{restored}?")
    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
    binary = backup_module.pg_dump_binary()
    assert binary is not None
    pg_restore = shutil.which("pg_restore") or str(Path(binary).with_name("pg_restore"))
    subprocess.run([pg_restore, "--no-owner", f"--dbname={other}", str(dump)], check=True, capture_output=True,
                   timeout=120)

    async def on_the_copy() -> None:
        server = _server(other, shop, tmp_path / "copy", write_policy(tmp_path))
        await server.start()
        try:
            async with BuyerClient(server.url, "b1", name="小王") as client:
                assert await client.fetch_image(clean(photo).ref.sha256) == clean(photo).data
        finally:
            await server.stop()

    (tmp_path / "copy").mkdir()
    run(on_the_copy())
    store = PgStore(other, shop=shop, own=False, local_dir=tmp_path)
    try:
        assert store.one("SELECT COUNT(*) FROM messages WHERE kind = 'image'")[0] == 1
    finally:
        store.close()

    monkeypatch.setattr(backup_module, "pg_dump_binary", lambda: None)
    assert fenliu(["backup", str(tmp_path / "again"), "--store", pg_url, "--shop", shop]) == 1
    assert "pg_dump was not found" in capsys.readouterr().err
