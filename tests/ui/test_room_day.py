"""The rest of the room (issue 14): the audit log (live, filterable), shift timelines, the day in
pictures and the export's day picker. Models through qtmodeltester."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QDate, QSettings, Qt

from console.protocol.messages import AuditAction, AuditEntry, AuditLog
from console.reception.shifts import ONLINE, SUSPENDED
from console.ui.audit_view import AuditFilter, AuditModel, EntryRole
from console.ui.fake_backend import TEAM, TEAM_INFO, FakeBackend
from console.ui.state import ConsoleState
from console.ui.supervisor import SupervisorView


def _room(qtbot, settings: QSettings, state: ConsoleState, fake: FakeBackend, clock) -> SupervisorView:  # type: ignore[no-untyped-def]
    view = SupervisorView(settings, "boss", clock)
    qtbot.addWidget(view)
    state.team_updated.connect(view.show_team)
    view.audit_requested.connect(fake.audit)
    view.day_charts_requested.connect(fake.day_charts)
    state.audit_loaded.connect(view.show_audit)
    state.day_charts_loaded.connect(view.show_day_charts)
    state.set_team(TEAM_INFO)
    view.resize(1300, 850)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_audit_model_and_filter(qtmodeltester, fake: FakeBackend) -> None:  # type: ignore[no-untyped-def]
    model = AuditModel()
    qtmodeltester.check(model)
    entries = fake.audit_entries()
    model.reset(entries[:4])
    qtmodeltester.check(model)
    model.append(entries[2:])  # the overlap is not repeated
    qtmodeltester.check(model)
    assert [model.entry(r).id for r in range(model.rowCount())] == [e.id for e in entries]
    model.set_names({a.id: a.name for a in TEAM.agents})
    assert model.index(0, 1).data() == "阿美" and model.index(0, 2).data() == "状态"
    assert model.index(0, 4).data() == "离线 → 在线"
    transfer = next(r for r in range(model.rowCount()) if model.entry(r).action is AuditAction.TRANSFER)
    assert model.index(transfer, 4).data() == "从 阿美 转给 小林" and model.index(transfer, 3).data() == "b1003"
    model.add_names({"b1003": "平台小二客服", "b1005": "买家五"}, {"presale": "售前咨询"})  # the answer's names
    assert model.index(transfer, 3).data() == "平台小二客服"  # a name, never the internal id (issue 14)
    to_group = next(r for r in range(model.rowCount()) if model.entry(r).value == "group:presale")
    assert (model.index(to_group, 3).data(), model.index(to_group, 4).data()) == ("买家五", "从 大壮 转给 分组 售前咨询")
    proxy = AuditFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_action(AuditAction.STATUS)
    assert {proxy.index(r, 0).data(EntryRole).action for r in range(proxy.rowCount())} == {AuditAction.STATUS}
    proxy.set_text("大壮")
    assert [proxy.index(r, 0).data(EntryRole).value for r in range(proxy.rowCount())] == ["online", "suspended"]
    proxy.set_action(None)
    proxy.set_text("b1004")
    assert [proxy.index(r, 0).data(EntryRole).action for r in range(proxy.rowCount())] == [AuditAction.CLOSE]
    qtmodeltester.check(proxy)


def test_the_room_polls_the_audit_log_and_draws_shifts(qtbot, settings: QSettings, state: ConsoleState,  # type: ignore[no-untyped-def]
                                                       fake: FakeBackend, clock) -> None:
    view = _room(qtbot, settings, state, fake, clock)
    view.start_polling()
    assert fake.requests[-1] == ("audit", (None,))
    entries = fake.audit_entries()
    assert view.audit_view.model.rowCount() == len(entries)
    assert view.export_day.date().toString("yyyy-MM-dd") == view.audit_day == "2025-06-15"  # the shop's today
    assert view.audit_view.model.index(0, 0).data() == "08:30:00"  # the shop's time, whatever the machine's zone
    subjects = {view.audit_view.model.index(r, 3).data() for r in range(len(entries))}
    assert {"平台小二客服", "义乌小商品批发"} <= subjects and not any(s.startswith("b10") for s in subjects)
    # live: a new entry comes with the next poll, asked for after the last id held
    new = AuditEntry(id=entries[-1].id + 1, at=clock() - 60, by="amei", action=AuditAction.STATUS, subject="amei",
                     value="suspended", previous="online")
    view.show_audit(AuditLog(day=view.audit_day, timezone="Asia/Shanghai", entries=[new]))
    assert view.audit_view.model.rowCount() == len(entries) + 1
    view.refresh_room()
    assert fake.requests[-1] == ("audit", (new.id,))
    shifts = {s.agent: s for s in view.shifts_view.chart.shifts}
    assert list(shifts) == [a.id for a in TEAM.agents]
    amei = shifts["amei"]
    assert amei.breaks == 2 and amei.spans[-1].status == SUSPENDED and amei.spans[-1].end == clock()
    assert amei.seconds(ONLINE) == (clock() - 60) - amei.first_online - 0.25 * 3600  # less the 10:30 break
    view.audit_view.search.setText("老张")
    assert view.audit_view.filtered.rowCount() == 2
    assert "2 / " in view.audit_view.count.text()


def test_the_day_in_pictures_and_the_export_day(qtbot, settings: QSettings, state: ConsoleState,  # type: ignore[no-untyped-def]
                                                fake: FakeBackend, clock) -> None:
    view = _room(qtbot, settings, state, fake, clock)
    view.pages.setCurrentWidget(view.day_view)  # showing the page asks at once
    assert fake.requests[-1] == ("day_charts", ())
    charts = view.day_view.charts
    assert charts is not None
    x, height = view.day_view.arrivals_bars.opts["x"], view.day_view.arrivals_bars.opts["height"]
    assert len(x) == len(charts.arrivals) and list(height) == charts.arrivals
    assert set(view.day_view.load_lines) == {a.id for a in TEAM.agents}
    xs, ys = view.day_view.queue_line.getData()
    assert list(ys) == charts.queue
    view.report_requested.connect(fake.day_report)
    view.export_day.setDate(QDate(2025, 6, 1))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert fake.requests[-1] == ("day_report", ("2025-06-01",))
    assert "2025-06-01" in view.export_note.text()


def _whatif_room(qtbot, settings: QSettings, state: ConsoleState, fake: FakeBackend, clock):  # type: ignore[no-untyped-def]
    view = _room(qtbot, settings, state, fake, clock)
    w = view.whatif_view
    w.policy_requested.connect(fake.get_policy)
    w.run_requested.connect(fake.whatif_start)
    w.cancel_requested.connect(fake.whatif_cancel)
    w.apply_requested.connect(fake.apply_policy)
    state.policy_loaded.connect(w.show_policy)
    state.whatif_started.connect(w.started)
    state.whatif_refused.connect(w.refused)
    state.whatif_updated.connect(w.show_update)
    state.policy_applied.connect(w.applied)
    return view, w


def test_comparison_model(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from console.ui.whatif_view import ComparisonModel

    model = ComparisonModel(["a", "b", "c"])
    qtmodeltester.check(model)
    model.set_rows([["x", "1", "2"], ["y", "3", "3"]])
    qtmodeltester.check(model)
    assert model.index(1, 2).data() == "3" and model.headerData(0, Qt.Orientation.Horizontal) == "a"


def test_whatif_edit_run_compare_then_apply_after_confirming(qtbot, settings: QSettings, state: ConsoleState,  # type: ignore[no-untyped-def]
                                                            fake: FakeBackend, clock) -> None:
    from PySide6.QtWidgets import QMessageBox

    view, w = _whatif_room(qtbot, settings, state, fake, clock)
    view.pages.setCurrentWidget(w)  # the editor starts from the policy in force
    assert fake.requests[-1] == ("get_policy", ()) and w.editor.toPlainText() == FakeBackend.POLICY
    w.editor.setPlainText("[queue]\nmode = 'shop'\n")  # no preset: the server refuses, said beside the editor
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    assert "preset" in w.note.text() and w.run_button.isEnabled() and not w.apply_button.isEnabled()
    w.editor.setPlainText(FakeBackend.POLICY + "seed = 9\n")
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    assert w.progress.value() == 1000 and w.apply_button.isEnabled()
    rows = w.agents.rows()
    assert rows[0][0] == "阿美" and rows[0][1] == "20 → 22" and w.pools.rows()[0][1] == "9 → 3"
    assert [r[0] for r in w.pools.rows()] == ["全店排队", "售前咨询"]  # the group's name, never queue:presale
    assert w.reasons.rows() == [["按分组匹配和分配策略选中", "70.0%", "90.0%"], ["客服接待已满，进入排队", "30.0%", "10.0%"]]
    qtbot.mouseClick(w.apply_button, Qt.MouseButton.LeftButton)
    box = w.confirm_box
    assert box is not None and box.isVisible() and not any(r[0] == "apply_policy" for r in fake.requests)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert not any(r[0] == "apply_policy" for r in fake.requests)  # nothing applied without the confirmation
    qtbot.mouseClick(w.apply_button, Qt.MouseButton.LeftButton)
    w.confirm_box.button(QMessageBox.StandardButton.Ok).click()
    assert fake.requests[-1] == ("apply_policy", (FakeBackend.POLICY + "seed = 9\n",))
    assert not w.apply_button.isEnabled() and "审计日志" in w.note.text()


def test_whatif_progress_and_cancel(qtbot, settings: QSettings, state: ConsoleState, fake: FakeBackend,  # type: ignore[no-untyped-def]
                                    clock, tmp_path) -> None:
    from console.protocol.messages import WhatIfProgress

    view, w = _whatif_room(qtbot, settings, state, fake, clock)
    policy = tmp_path / "p.toml"
    policy.write_text("preset = 'douyin'\n", encoding="utf-8")
    w.load_file(str(policy))  # or a file
    assert w.editor.toPlainText() == "preset = 'douyin'\n" and "p.toml" in w.note.text()
    w.load_file(str(tmp_path / "missing.toml"))
    assert "missing.toml" in w.note.text() and w.editor.toPlainText() == "preset = 'douyin'\n"
    state.whatif_started.emit("w7")  # a run under way (the fake's finish at once: driven by hand here)
    w._running(True)
    w.show_update(WhatIfProgress(run="w7", fraction=0.25))
    assert w.progress.value() == 250 and w.cancel_button.isEnabled() and w.editor.isReadOnly()
    w.show_update(WhatIfProgress(run="other", fraction=0.9))  # another run's word is ignored
    assert w.progress.value() == 250
    qtbot.mouseClick(w.cancel_button, Qt.MouseButton.LeftButton)
    assert fake.requests[-1] == ("whatif_cancel", ("w7",))
    assert w.note.text() == "已取消" and w.run_button.isEnabled() and not w.editor.isReadOnly()


def test_day_view_redraw_touches_only_what_changed(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A redraw keeps every item, sets new data only on the series that changed, moves a y range
    only when a round ceiling is crossed, and the axes paint from a cache (bench/room_day.py)."""
    from PySide6.QtWidgets import QGraphicsItem

    from console.reception.day_charts import AgentLoad, DayCharts, ReasonCount
    from console.ui.day_view import DayView, ceiling

    assert [ceiling(v) for v in (0, 5, 6, 7, 10, 11, 21, 99, 101, 230, 1000)] == [5, 5, 6, 8, 10, 12, 25, 100, 120, 250,
                                                                                1000]
    view = DayView()
    qtbot.addWidget(view)
    reasons = [ReasonCount(reason="group", count=3), ReasonCount(reason="queued", count=1)]
    first = DayCharts(start=0.0, arrivals=[3, 7, 4], queue=[0, 2, 1], response_3min=[0.5],
                      load=[AgentLoad(agent="amei", name="阿美", load=[1, 2, 2])], reasons=reasons)
    view.show_charts("2025-06-15", first)
    items = [view.arrivals_bars, view.queue_line, view.rate_bars, view.reasons_bars, *view.load_lines.values()]
    calls: list[str] = []
    view.arrivals_bars.setOpts = lambda **kw: calls.append("arrivals")  # type: ignore[method-assign]
    view.queue_line.setData = lambda *a, **kw: calls.append("queue")  # type: ignore[method-assign]
    view.load_lines["amei"].setData = lambda *a, **kw: calls.append("amei")  # type: ignore[method-assign]
    view.reasons_bars.setOpts = lambda **kw: calls.append("reasons")  # type: ignore[method-assign]
    left = view.arrivals_plot.getAxis("left")
    assert left.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
    y_range = view.arrivals_plot.viewRange()[1]
    assert 8 <= y_range[1] < 9  # the round ceiling over 7, not 7
    # the queue moves, under the ceiling: only the queue's line gets data, the y range stays
    view.show_charts("2025-06-15", msgspec.structs.replace(first, queue=[0, 3, 1]))
    assert calls == ["queue"] and view.arrivals_plot.viewRange()[1] == y_range
    # arrivals cross the ceiling (8): the arrivals get data, the y range grows
    view.show_charts("2025-06-15", msgspec.structs.replace(first, arrivals=[3, 7, 14], queue=[0, 3, 1]))
    assert calls == ["queue", "arrivals"] and 15 <= view.arrivals_plot.viewRange()[1][1] < 16
    ticks = view.reasons_plot.getAxis("left")._tickLevels
    view.show_charts("2025-06-15", msgspec.structs.replace(first, reasons=[ReasonCount(reason="group", count=3),
                                                                          ReasonCount(reason="queued", count=2)]))
    assert calls[-1] == "reasons" and view.reasons_plot.getAxis("left")._tickLevels != ticks
    assert [view.arrivals_bars, view.queue_line, view.rate_bars, view.reasons_bars,
            *view.load_lines.values()] == items  # no item re-created
