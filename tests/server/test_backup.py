"""``fenliu backup`` copies a live data folder with its images (issue 13): a server started on the
copy has the conversations and serves the images."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.protocol.messages import Arrive, ConversationUpdated, Entry, Open, SayAck
from console.reception.model import MessageKind
from console.server.backup import backup

from .helpers import Client, run, running_server
from .test_images import fetch, png, upload
from .test_reception import buyer, online, row_of

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.sqlite_only  # fenliu backup copies the SQLite file (PostgreSQL: pg_dump)
def test_a_backup_taken_while_serving_restores_messages_and_images(tmp_path: Path) -> None:
    live = tmp_path / "live"
    copy = tmp_path / "copy"
    live.mkdir()

    async def scenario() -> None:
        async with running_server(live) as server:
            a1 = await online(server, "a1")
            b1 = await buyer(server, "b1")
            await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL))
            await a1.expect(ConversationUpdated, row_of("b1"))
            ack = await upload(b1, png(), "p1")
            assert isinstance(ack, SayAck)
            await server.shop.committed()
            report = backup(live / "data", copy / "data")  # beside the running server
            assert report.images == 2 and report.missing == 0 and report.database_bytes > 0
        async with running_server(copy, seed=False) as server:  # the copy, as a data folder of its own
            a1 = await Client.agent(server)
            await a1.login("a1")
            history = await a1.request(Open(conversation="b1"))
            [message] = history.messages
            assert message.kind is MessageKind.IMAGE and message.image is not None
            assert isinstance(await fetch(a1, message.image.sha256, "b1"), bytes)

    run(scenario())


def test_the_command_refuses_a_destination_inside_the_data_folder_or_holding_a_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()

    def fenliu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "console", "backup", *args], capture_output=True, text=True,
                              cwd=REPO, timeout=60)

    missing = fenliu(str(tmp_path / "out"), "--data", str(data))
    assert missing.returncode == 1 and "no database" in missing.stderr
    (data / "fenliu.db").write_bytes(b"")
    inside = fenliu(str(data / "backup"), "--data", str(data))
    assert inside.returncode == 1 and "inside the data folder" in inside.stderr


@pytest.mark.sqlite_only  # shops as folders of one data folder
def test_every_shop_of_the_folder_is_copied_to_its_place_or_one_with_shop(tmp_path: Path) -> None:
    from console.server.backup import BackupError, backup_shops
    from console.server.store import Store

    data = tmp_path / "data"
    for folder, mark in ((data, "default"), (data / "shops" / "s2", "s2")):
        store = Store(folder / "fenliu.db")
        store.set_meta("mark", mark)
        store.flush(now=True)
        store.close()
    (data / "shops" / "s2" / "policy.toml").write_text("# s2\n", encoding="utf-8")
    (data / "shops" / "s3").mkdir(parents=True)
    (data / "shops" / "s3" / "policy.toml").write_text("# s3, added, not served yet\n", encoding="utf-8")

    def mark(folder: Path) -> str | None:
        store = Store(folder / "fenliu.db")
        try:
            return store.get_meta("mark")
        finally:
            store.close()

    reports = backup_shops(data, tmp_path / "all")
    assert [name for name, _ in reports] == ["default", "s2", "s3"]
    assert mark(tmp_path / "all") == "default" and mark(tmp_path / "all" / "shops" / "s2") == "s2"
    assert (tmp_path / "all" / "shops" / "s2" / "policy.toml").read_text(encoding="utf-8") == "# s2\n"
    assert (tmp_path / "all" / "shops" / "s3" / "policy.toml").is_file()

    [(name, report)] = backup_shops(data, tmp_path / "one", "s2")
    assert name == "s2" and report.database_bytes > 0 and mark(tmp_path / "one") == "s2"
    with pytest.raises(BackupError, match="no shop 'nope'.*default, s2, s3"):
        backup_shops(data, tmp_path / "none", "nope")
