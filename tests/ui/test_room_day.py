"""The rest of the room (issue 14): the audit log (live, filterable), shift timelines, the day in
pictures and the export's day picker. Models through qtmodeltester."""

from __future__ import annotations

from PySide6.QtCore import QDate, QSettings, Qt

from console.protocol.messages import AuditAction, AuditEntry, AuditLog
from console.reception.shifts import ONLINE, SUSPENDED
from console.ui.audit_view import AuditFilter, AuditModel, EntryRole
from console.ui.fake_backend import TEAM, FakeBackend
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
    state.set_team(TEAM)
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
