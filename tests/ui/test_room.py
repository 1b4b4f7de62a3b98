"""The supervisor's room (issue 14): pick lists by clicks and keys, the filter, the monitor,
close from the room, and the per-agent table's columns and sorting. Models through qtmodeltester."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from console.protocol.messages import QueuedBuyer
from console.reception.model import KpiTiles
from console.ui.fake_backend import ME, TEAM_INFO, FakeBackend
from console.ui.room_models import PickKind, PickModel, picks_from_conversations, picks_from_queue
from console.ui.state import ConsoleState
from console.ui.supervisor import SupervisorView
from console.ui.team_data import AgentLine
from console.ui.team_models import AgentTableModel, SortRole


def _view(qtbot, settings: QSettings, state: ConsoleState, fake: FakeBackend, clock) -> SupervisorView:  # type: ignore[no-untyped-def]
    view = SupervisorView(settings, "boss", clock)
    qtbot.addWidget(view)
    state.team_updated.connect(view.show_team)
    state.queue_loaded.connect(view.show_queue)
    state.agent_conversations_loaded.connect(view.show_agent_conversations)
    view.queue_picked.connect(fake.queue_buyers)
    view.agent_picked.connect(fake.agent_conversations)
    state.set_team(TEAM_INFO)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_pick_model(qtmodeltester, clock) -> None:  # type: ignore[no-untyped-def]
    model = PickModel(clock)
    qtmodeltester.check(model)
    buyers = [QueuedBuyer(id="q1", name="小张", position=1, waited=90.0, eta=60.0),
              QueuedBuyer(id="q2", name="阿玲", position=2, waited=30.0, eta=120.0)]
    model.show(PickKind.QUEUE, "queue:售前", picks_from_queue(buyers, clock()))
    qtmodeltester.check(model)
    assert [model.index(r, 1).data() for r in range(2)] == ["小张", "阿玲"]
    assert model.index(0, 2).data() == "1分" and model.index(0, 2).data(SortRole) == 90.0
    clock.now += 60
    model.tick()
    assert model.index(0, 2).data() == "2分"  # it ages without asking the server
    model.show(PickKind.QUEUE, "queue:售前", picks_from_queue(buyers[1:], clock()))
    qtmodeltester.check(model)
    assert model.rowCount() == 1


def test_pick_model_for_an_agent(qtmodeltester, clock, state: ConsoleState, fake: FakeBackend) -> None:  # type: ignore[no-untyped-def]
    model = PickModel(clock)
    held = [c for c in state.conversations.values() if c.open and c.holder == f"agent:{ME}"]
    model.show(PickKind.AGENT, ME, picks_from_conversations(held))
    qtmodeltester.check(model)
    waits = [model.pick(r).waiting_since for r in range(model.rowCount())]
    waiting = [w for w in waits if w is not None]
    assert waiting == sorted(waiting) and waits[:len(waiting)] == waiting  # the longest wait first
    assert model.headerData(0, Qt.Orientation.Horizontal) == "买家"


def test_agent_table_model_columns_and_sorting(qtmodeltester, clock) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSortFilterProxyModel

    model = AgentTableModel(clock=clock)
    qtmodeltester.check(model)
    rows = (
        AgentLine("a", "甲", "online", 2, 8, KpiTiles(satisfaction_yesterday=0.9, response_3min_yesterday=0.8,
                                                     avg_response_yesterday=42.0), clock() - 3700, clock() - 30),
        AgentLine("b", "乙", "suspended", 1, 8, KpiTiles(satisfaction_yesterday=0.7), clock() - 65, clock() - 400),
        AgentLine("c", "丙", "offline", 0, 8, KpiTiles(), None, None),
    )
    model.set_rows(rows)
    qtmodeltester.check(model)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    status, satisfaction, wait = headers.index("状态时长"), headers.index("昨日满意度"), headers.index("最长等待")
    assert {"昨日3分钟响应率", "昨日平均响应", "接待中/上限"} <= set(headers)
    assert model.index(0, status).data() == "1时1分" and model.index(2, status).data() == "-"
    assert model.index(0, satisfaction).data() == "90.0%" and model.index(1, wait).data() == "6分"
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    proxy.sort(wait, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["乙", "甲", "丙"]
    proxy.sort(satisfaction, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["甲", "乙", "丙"]
    clock.now += 60
    model.tick()
    assert model.index(1, wait).data() == "7分"


def test_click_an_agent_filter_by_name_monitor_and_close(qtbot, settings: QSettings, state: ConsoleState,
                                                         fake: FakeBackend, clock) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot, settings, state, fake, clock)
    closes: list[str] = []
    view.close_requested.connect(closes.append)
    view.monitor_requested.connect(lambda c, name: (view.open_monitor(c, name, state), fake.monitor(c)))
    agents = view.agent_table
    row_of_me = next(r for r in range(view.agents_sorted.rowCount())
                     if view.agents_sorted.index(r, 0).data() == "阿美")
    qtbot.mouseClick(agents.viewport(), Qt.MouseButton.LeftButton,
                     pos=agents.visualRect(view.agents_sorted.index(row_of_me, 0)).center())
    assert fake.requests[-1] == ("agent_conversations", (ME,))
    held = {c.name for c in state.conversations.values() if c.open and c.holder == f"agent:{ME}"}
    assert set(view.picker.visible_names()) == held and len(held) > 2
    assert view.picker.heading.text().startswith("客服：阿美")
    view.picker.filter.insert("李女")  # typed (QTest types ASCII only; an input method types Chinese)
    assert view.picker.visible_names() == ["李女士"]
    table = view.picker.table
    where = table.visualRect(view.picker.proxy.index(0, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)  # a view needs the press first
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    dialog = view.monitor_dialog
    assert dialog is not None and dialog.windowTitle() == "查看会话：李女士"
    qtbot.waitUntil(lambda: dialog.messages.rowCount() == 4)
    fake.buyer_writes("b1007", "还有别的颜色吗")  # live: a new message shows in the monitor
    assert dialog.messages.rowCount() == 5
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    box = view.close_box
    assert box is not None and "李女士" in box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    assert closes == ["b1007"]


def test_keys_move_between_queues_and_the_list_stays_live(qtbot, settings: QSettings, state: ConsoleState,
                                                          fake: FakeBackend, clock) -> None:  # type: ignore[no-untyped-def]
    view = _view(qtbot, settings, state, fake, clock)
    view.queue_table.setFocus()
    qtbot.keyClick(view.queue_table, Qt.Key.Key_Down)  # the first row becomes current
    assert ("queue_buyers", ("queue:售前",)) in fake.requests
    assert view.picker.visible_names() == ["小张", "阿玲", "王先生"]
    assert not view.picker.close_button.isEnabled()  # a queue place is not a session to close
    qtbot.keyClick(view.queue_table, Qt.Key.Key_Down)
    qtbot.keyClick(view.queue_table, Qt.Key.Key_Down)
    assert fake.requests[-1] == ("queue_buyers", ("pool",))
    assert len(view.picker.visible_names()) == 4
    asked = len(fake.requests)
    state.set_team(msgspec.structs.replace(TEAM_INFO))  # a team update: the same room, pushed again
    assert fake.requests[asked:] == [("queue_buyers", ("pool",))]  # the shown list is asked again


def test_export_writes_the_days_rows_as_xlsx_and_csv(qtbot, settings: QSettings, state: ConsoleState,
                                                     fake: FakeBackend, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv

    from openpyxl import load_workbook

    view = _view(qtbot, settings, state, fake, clock)
    view.report_requested.connect(fake.day_report)
    state.report_loaded.connect(view.save_report)
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    dialog = view.report_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.selectedFiles()[0].endswith(".xlsx")
    with qtbot.waitSignal(view.report_written) as written:
        dialog.selectFile(str(tmp_path / "day.xlsx"))
        dialog.accept()
    [path] = written.args[0]
    report = fake.last_report
    book = load_workbook(path)
    sheet = book["会话"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("买家ID", "买家", "客服")
    assert [r[0] for r in rows[1:]] == [c.buyer for c in report.conversations]
    assert [r[1] for r in rows[1:]] == [c.buyer_name for c in report.conversations]
    agents = list(book["客服"].iter_rows(values_only=True))
    assert [r[1] for r in agents[1:]] == [a.name for a in report.agents]
    csv_paths = view.write_report(report, tmp_path / "day.csv", "csv")
    assert [p.name for p in csv_paths] == ["day-conversations.csv", "day-agents.csv", "day-audit.csv"]
    with csv_paths[0].open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert [line[:2] for line in lines[1:]] == [[c.buyer, c.buyer_name] for c in report.conversations]
    assert "day-conversations.csv" in view.export_note.text()
    with csv_paths[2].open(encoding="utf-8-sig", newline="") as f:
        audit = list(csv.DictReader(f))
    assert len(audit) == len(report.audit) > 0
    for line, entry in zip(audit, report.audit, strict=True):  # who and whom by name, beside their ids
        assert line["操作人ID"] == entry.by and line["操作人"] == report.agent_names.get(entry.by, entry.by)
        about = report.buyers if entry.action.value in ("transfer", "close") else report.agent_names
        assert line["对象ID"] == entry.subject and line["对象"] == about[entry.subject]
