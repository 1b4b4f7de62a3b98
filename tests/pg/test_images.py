"""Images on PostgreSQL (issue 15): rows of the shop's schema, written in the transaction of the
message that shows them, so a standby on another machine (another data folder here) serves what
the owner stored, and a request that fails leaves no image behind."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest

from console.client.buyer import BuyerClient
from console.client.errors import ClientError
from console.protocol.messages import Entry, ErrorCode
from console.server.images import DatabaseImageStore, clean
from console.server.pgstore import PgStore
from console.server.shop import Shop
from tests.pg.test_ownership import _listening, _seed, _spawn
from tests.server.helpers import run, running_server, write_policy
from tests.server.test_images import png

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


def _rows(url: str, shop: str, folder: Path) -> list[str]:
    store = PgStore(url, shop=shop, own=False, local_dir=folder)
    try:
        return [str(r[0]) for r in store.all("SELECT sha256 FROM images ORDER BY sha256")]
    finally:
        store.close()


def test_a_standby_on_another_machine_serves_the_images_the_owner_stored(pg_url: str, tmp_path: Path) -> None:
    """The owner (data folder A) stores a buyer's photo and is killed (-9); the standby (data
    folder B: nothing of A's on its disk) takes the shop and serves the photo and its thumbnail,
    byte for byte as the owner served them."""
    shop = "pictures"
    owner_dir, standby_dir = tmp_path / "a", tmp_path / "b"
    for folder in (owner_dir, standby_dir):
        folder.mkdir()
        write_policy(folder)
    _seed(pg_url, shop, owner_dir)
    photo = png((400, 300), (200, 40, 90))

    async def scenario() -> None:
        owner = await _spawn(pg_url, shop, owner_dir)
        standby: asyncio.subprocess.Process | None = None
        try:
            served = await _listening(owner)
            standby = await _spawn(pg_url, shop, standby_dir, "--standby")
            async with BuyerClient(served.url, "b1", name="小王") as client:
                await client.arrive(Entry.PRODUCT_DETAIL)
                ack = await client.send_image(photo, client_id="pic-1")
                assert not ack.duplicate
                sha = clean(photo).ref.sha256
                full = await client.fetch_image(sha)
                thumb = await client.fetch_image(sha, thumb=True)
            owner.send_signal(signal.SIGKILL)
            await owner.wait()

            taken = await _listening(standby)
            async with BuyerClient(taken.url, "b1", name="小王") as client:
                assert await client.fetch_image(sha) == full
                assert await client.fetch_image(sha, thumb=True) == thumb
            assert not list(standby_dir.rglob("images"))  # from the database, not a folder
        finally:
            for process in (owner, standby):
                if process is not None and process.returncode is None:
                    process.kill()
                    await process.wait()

    run(scenario())


def test_an_image_whose_message_fails_is_not_stored(pg_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The image's row is in the request's transaction: the message failing halfway takes it
    back too; the resend stores both."""
    from tests.server.helpers import shop_of

    monkeypatch.setenv("FENLIU_TEST_STORE", pg_url)
    original = Shop.buyer_says

    def failing(self: Shop, *args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    async def scenario() -> None:
        async with running_server(tmp_path) as server, BuyerClient(server.url, "b1", name="小王") as client:
            assert isinstance(server.host.images.store, DatabaseImageStore)
            await client.arrive(Entry.PRODUCT_DETAIL)
            monkeypatch.setattr(Shop, "buyer_says", failing)
            with pytest.raises(ClientError) as refused:
                await client.send_image(png(), client_id="pic-1")
            assert refused.value.code is ErrorCode.INTERNAL, refused.value
            assert server.store is not None
            await server.store.committed()
            assert _rows(pg_url, shop_of(tmp_path / "data"), tmp_path) == []
            monkeypatch.setattr(Shop, "buyer_says", original)
            ack = await client.send_image(png(), client_id="pic-1")
            assert not ack.duplicate
            assert _rows(pg_url, shop_of(tmp_path / "data"), tmp_path) == [clean(png()).ref.sha256]

    run(scenario())


def test_at_start_image_rows_no_message_shows_go_once_an_hour_old(pg_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A row no message shows (a resend under a used client id can leave one) goes at the next
    start once an hour old; a shown one stays whatever its age, and so does a fresh orphan."""
    from tests.server.helpers import shop_of

    monkeypatch.setenv("FENLIU_TEST_STORE", pg_url)
    shop = shop_of(tmp_path / "data")

    async def first() -> str:
        async with running_server(tmp_path) as server, BuyerClient(server.url, "b1", name="小王") as client:
            await client.arrive(Entry.PRODUCT_DETAIL)
            await client.send_image(png((50, 40)), client_id="pic-1")
        return clean(png((50, 40))).ref.sha256

    shown = run(first())
    store = PgStore(pg_url, shop=shop, own=True, local_dir=tmp_path)
    images = DatabaseImageStore(store)
    orphan, fresh = clean(png((30, 30), (1, 2, 3))), clean(png((30, 30), (4, 5, 6)))
    images.save(orphan)
    images.save(fresh)
    store.execute("UPDATE images SET at = ? WHERE sha256 IN (?, ?)", (time.time() - 7200, shown, orphan.ref.sha256))
    store.close()

    async def again() -> None:
        async with running_server(tmp_path) as server, BuyerClient(server.url, "b1", name="小王") as client:
            await client.arrive(Entry.PRODUCT_DETAIL)
            assert await client.fetch_image(shown)

    run(again())
    assert _rows(pg_url, shop, tmp_path) == sorted([shown, fresh.ref.sha256])
