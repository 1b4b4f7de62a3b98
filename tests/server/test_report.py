"""`fenliu report` on a data folder a real server wrote: XLSX and CSV checked cell by cell."""

from __future__ import annotations

import csv
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from console.cli import main
from console.protocol.messages import (
    Arrive,
    BuyerHello,
    CloseSession,
    Entry,
    Ok,
    OrderState,
    OrderUpdate,
    Rate,
    Reply,
    ReplyAck,
    Routed,
    Say,
    SayAck,
    SessionClosed,
    SetStatus,
    StatusChanged,
)
from console.routing.events import Status

from .helpers import Client, run, running_server

ZONE = ZoneInfo("Asia/Shanghai")


def _local(at: float) -> datetime:
    return datetime.fromtimestamp(at, ZONE).replace(tzinfo=None, microsecond=0)


@pytest.fixture(scope="module")
def served_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder with one buyer served end to end by 小美 (a1): asked, answered, closed,
    rated 5, paid. Returns the folder and the local day."""
    folder = tmp_path_factory.mktemp("served")

    async def scenario() -> None:
        async with running_server(folder) as server:
            a1 = await Client.agent(server)
            await a1.login("a1")
            assert isinstance(await a1.request(SetStatus(status=Status.ONLINE)), Ok)
            await a1.expect(StatusChanged, lambda e: e.status is Status.ONLINE)
            b1 = await Client.buyer(server)
            assert isinstance(await b1.request(BuyerHello(buyer="b1", name="王小姐")), Ok)
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1"))
            assert isinstance(routed, Routed) and routed.name == "小美"
            assert isinstance(await b1.request(Say(text="有现货吗", client_id="m1")), SayAck)
            assert isinstance(await b1.request(OrderUpdate(order="o1", state=OrderState.UNPAID)), Ok)
            assert isinstance(await a1.request(Reply(conversation="b1", text="有的亲", client_id="c1")), ReplyAck)
            assert isinstance(await b1.request(OrderUpdate(order="o1", state=OrderState.PAID)), Ok)
            assert isinstance(await a1.request(CloseSession(conversation="b1")), Ok)
            await b1.expect(SessionClosed)
            assert isinstance(await b1.request(Rate(score=5)), Ok)
            await a1.close()
            await b1.close()

    run(scenario())
    first = sqlite3.connect(folder / "data" / "fenliu.db").execute("SELECT MIN(at) FROM decisions").fetchone()[0]
    return folder, datetime.fromtimestamp(first, ZONE).date().isoformat()


def _db_times(folder: Path) -> dict[str, float]:
    db = sqlite3.connect(folder / "data" / "fenliu.db")
    try:
        return {
            "arrived": db.execute("SELECT MIN(at) FROM decisions WHERE buyer = 'b1'").fetchone()[0],
            "asked": db.execute("SELECT at FROM messages WHERE author = 'buyer'").fetchone()[0],
            "answered": db.execute("SELECT at FROM messages WHERE author = 'agent'").fetchone()[0],
            "closed": db.execute("SELECT at FROM decisions WHERE event = 'closed'").fetchone()[0],
        }
    finally:
        db.close()


def test_the_xlsx_report_of_a_served_day(served_day: tuple[Path, str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    folder, day = served_day
    out = tmp_path / "day.xlsx"
    assert main(["report", "--day", day, "--data", str(folder / "data"), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    book = load_workbook(out)
    assert book.sheetnames == ["会话", "客服"]
    conv = [[c.value for c in row] for row in book["会话"].iter_rows()]
    assert conv[0][:4] == ["买家ID", "买家", "客服", "进线时间"]
    assert len(conv) == 2  # the header and the one conversation
    row = dict(zip(conv[0], conv[1], strict=True))
    t = _db_times(folder)
    assert row["买家ID"] == "b1" and row["买家"] == "王小姐" and row["客服"] == "a1"
    assert row["进线时间"] == _local(t["arrived"]) and row["结束时间"] == _local(t["closed"])
    assert row["分配原因"] == "group" and row["规则"].startswith("R8")
    assert row["买家首条消息"] == _local(t["asked"]) and row["首次人工回复"] == _local(t["answered"])
    assert row["首次响应(秒)"] == round(t["answered"] - t["asked"], 1)
    assert row["等待次数"] == 1 and row["3分钟内回复"] == 1 and row["结束原因"] == "agent_close"
    assert row["买家消息数"] == 1 and row["客服消息数"] == 1 and row["评价"] == 5 and row["订单结果"] == "paid"
    assert row["曾排队"] == 0 and row["转接次数"] == 0

    agents = [[c.value for c in row] for row in book["客服"].iter_rows()]
    by_id = {r[0]: dict(zip(agents[0], r, strict=True)) for r in agents[1:]}
    assert list(by_id) == ["a1", "a2", "sup"]  # policy order, everyone listed
    a1 = by_id["a1"]
    assert (a1["客服"], a1["接待人数"], a1["已付款"], a1["询单转化率"], a1["满意度"], a1["3分钟响应率"]) == \
        ("小美", 1, 1, 1.0, 1.0, 1.0)
    assert a1["结束会话数"] == 1 and a1["发送消息数"] == 1
    assert by_id["a2"]["接待人数"] == 0 and by_id["a2"]["询单转化率"] is None


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_the_csv_report_in_english_and_both_encodings(served_day: tuple[Path, str], tmp_path: Path,
                                                      encoding: str) -> None:
    folder, day = served_day
    base = tmp_path / "day"
    assert main(["report", "--day", day, "--data", str(folder / "data"), "--format", "csv", "--out", str(base),
                 "--lang", "en", "--encoding", encoding]) == 0
    with (tmp_path / "day-conversations.csv").open(encoding=encoding, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and rows[0]["Buyer"] == "王小姐" and rows[0]["Rating"] == "5"
    assert rows[0]["Arrived"] == _local(_db_times(folder)["arrived"]).strftime("%Y-%m-%d %H:%M:%S")
    with (tmp_path / "day-agents.csv").open(encoding=encoding, newline="") as f:
        agents = {r["Agent ID"]: r for r in csv.DictReader(f)}
    assert agents["a1"]["Received"] == "1" and agents["a1"]["Inquiry conversion"] == "1.0"


def test_another_day_is_empty_and_bad_input_is_said(served_day: tuple[Path, str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = served_day
    out = tmp_path / "empty.xlsx"
    assert main(["report", "--day", "2020-01-01", "--data", str(folder / "data"), "--out", str(out)]) == 0
    assert [[c.value for c in r] for r in load_workbook(out)["会话"].iter_rows()][1:] == []
    assert main(["report", "--day", "11/11", "--data", str(folder / "data")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert main(["report", "--day", "2020-01-01", "--data", str(tmp_path / "nowhere")]) == 1
    assert "--data" in capsys.readouterr().err
    before = (folder / "data" / "fenliu.db").read_bytes()
    assert main(["report", "--day", "2020-01-01", "--data", str(folder / "data"), "--timezone", "Mars/Base"]) == 2
    assert (folder / "data" / "fenliu.db").read_bytes() == before  # read-only: nothing written


def test_the_audit_sheet_and_csv(served_day: tuple[Path, str], tmp_path: Path) -> None:
    """`--audit`: the day's audit log as a third sheet (XLSX) or file (CSV), cell by cell."""
    folder, day = served_day
    db = sqlite3.connect(folder / "data" / "fenliu.db")
    try:
        stored = db.execute("SELECT id, at, by, action, subject, value, previous FROM audit ORDER BY id").fetchall()
    finally:
        db.close()
    online = [r for r in stored if r[3] == "status"]
    assert [(r[2], r[4], r[5], r[6]) for r in online] == [("a1", "a1", "online", "offline")]
    out = tmp_path / "day.xlsx"
    assert main(["report", "--day", day, "--data", str(folder / "data"), "--out", str(out), "--audit"]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["会话", "客服", "审计日志"]
    sheet = [[c.value for c in row] for row in book["审计日志"].iter_rows()]
    assert sheet[0] == ["序号", "时间", "操作人ID", "操作人", "操作", "对象ID", "对象", "内容", "之前"]
    on_day = [r for r in stored if _local(r[1]).date().isoformat() == day]
    names = {"a1": "小美", "a2": "阿杰", "sup": "主管"}  # the policy's agents (no transfer or close this day)
    assert sheet[1:] == [[r[0], _local(r[1]), r[2], names.get(r[2], r[2]), r[3], r[4] or None,
                          names.get(r[4], r[4]) or None, r[5] or None, r[6] or None] for r in on_day]
    assert any(row[3] == "小美" and row[6] == "小美" for row in sheet[1:])  # a1 went online: named twice
    base = tmp_path / "day"
    assert main(["report", "--day", day, "--data", str(folder / "data"), "--format", "csv", "--out", str(base),
                 "--lang", "en", "--audit"]) == 0
    with (tmp_path / "day-audit.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["By (ID)"], r["By"], r["Action"], r["Subject (ID)"], r["Subject"], r["Value"], r["Before"])
            for r in rows if r["Action"] == "status"] == [("a1", "小美", "status", "a1", "小美", "online", "offline")]
