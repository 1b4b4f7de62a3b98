from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt

from console.reception.model import KPI_TILES, KpiTiles
from console.ui.fake_backend import TEAM, TEAM_INFO, FakeBackend
from console.ui.kpi_tiles import KpiTilesBar
from console.ui.login import LoginDialog
from console.ui.message_model import MessageModel
from console.ui.state import ConsoleState
from console.ui.supervisor import SupervisorView
from console.ui.team_models import AgentTableModel, QueueTableModel


def _bar(qtbot, settings: QSettings) -> KpiTilesBar:
    bar = KpiTilesBar(settings, "amei")
    qtbot.addWidget(bar)
    bar.resize(1100, 80)
    bar.show()
    qtbot.waitExposed(bar)
    return bar


def test_tiles_show_dash_without_data(qtbot, settings: QSettings) -> None:
    bar = _bar(qtbot, settings)
    bar.show_tiles(KpiTiles())
    assert {t.value.text() for t in bar.tiles.values()} == {"-"}
    bar.show_tiles(KpiTiles(received_today=3, conversion=0.5, avg_response_yesterday=65))
    assert bar.tiles["received_today"].value.text() == "3"
    assert bar.tiles["conversion"].value.text() == "50.0%"
    assert bar.tiles["avg_response_yesterday"].value.text() == "1分05秒"
    assert bar.tiles["not_paid"].title.text() == "未付款"


def test_drag_reorders_tiles_and_remembers(qtbot, settings: QSettings) -> None:
    bar = _bar(qtbot, settings)
    assert bar.order() == list(KPI_TILES)
    paid = bar.tiles["paid"]
    target = bar.tiles["received_today"]
    clicked: list[str] = []
    bar.filter_requested.connect(clicked.append)
    qtbot.mousePress(paid, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    goal = target.mapToGlobal(QPoint(5, 10))  # over the left half of the first tile
    for step in (QPoint(-30, 0), QPoint(0, 0)):
        qtbot.mouseMove(paid, paid.mapFromGlobal(goal + step))
    qtbot.mouseRelease(paid, Qt.MouseButton.LeftButton, pos=paid.mapFromGlobal(goal))
    assert bar.order()[0] == "paid"
    assert clicked == []  # a drag is not a click
    again = KpiTilesBar(settings, "amei")
    qtbot.addWidget(again)
    assert again.order() == bar.order()
    other_user = KpiTilesBar(settings, "xiaolin")
    qtbot.addWidget(other_user)
    assert other_user.order() == list(KPI_TILES)


def test_only_the_order_tiles_filter(qtbot, settings: QSettings) -> None:
    bar = _bar(qtbot, settings)
    clicked: list[str] = []
    bar.filter_requested.connect(clicked.append)
    for name in ("paid", "not_ordered", "conversion", "not_paid"):
        qtbot.mouseClick(bar.tiles[name], Qt.MouseButton.LeftButton)
    assert clicked == ["not_ordered", "not_paid"]
    with qtbot.waitSignal(bar.refresh_requested):
        qtbot.mouseClick(bar.refresh_button, Qt.MouseButton.LeftButton)


def test_message_and_team_models(qtmodeltester, state: ConsoleState, fake: FakeBackend) -> None:
    messages = MessageModel(state.delivery)
    qtmodeltester.check(messages)
    messages.set_messages(state.messages["b1007"])
    state.add_local_reply("b1007", "好的", "cid-1", 1.0)
    messages.add(state.messages["b1007"][-1])
    qtmodeltester.check(messages)
    agents, queues = AgentTableModel(), QueueTableModel()
    qtmodeltester.check(agents)
    qtmodeltester.check(queues)
    agents.set_rows(TEAM.agents)
    queues.set_rows(TEAM.queues)
    agents.set_rows(TEAM.agents[:3])
    qtmodeltester.check(agents)
    qtmodeltester.check(queues)
    assert agents.index(1, 4).data() == "100%"  # 小林 is saturated
    assert queues.index(2, 0).data() == "留言池"


def test_supervisor_why_and_transfer(qtbot, settings: QSettings, state: ConsoleState, fake: FakeBackend, clock) -> None:
    """Picked, never typed (issue 14): click the 售前 queue, click a buyer, why, transfer."""
    view = SupervisorView(settings, "boss", clock)
    qtbot.addWidget(view)
    view.show_team(TEAM)
    state.set_team(TEAM_INFO)
    state.decisions_loaded.connect(view.show_decisions)
    state.queue_loaded.connect(view.show_queue)
    view.why_requested.connect(fake.why)
    view.queue_picked.connect(fake.queue_buyers)
    qtbot.mouseClick(view.queue_table.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.queue_table.visualRect(view.queues.index(0, 0)).center())
    assert fake.requests[-1] == ("queue_buyers", ("queue:售前",))
    assert view.picker.visible_names() == ["小张", "阿玲", "王先生"]
    table = view.picker.table
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualRect(view.picker.proxy.index(1, 1)).center())
    qtbot.mouseClick(view.picker.why_button, Qt.MouseButton.LeftButton)
    dialog = view.why_dialog
    assert dialog is not None and dialog.windowTitle() == "分配原因：阿玲"  # the name, not the id
    texts = [dialog.table.item(r, 3).text() for r in range(dialog.table.rowCount())]
    assert texts[-1] == "24小时内最近联系人（挂起也分配）" and dialog.table.item(4, 4).text() == "R4.1"
    assert dialog.table.item(0, 2).text() == "机器人" and dialog.table.item(1, 2).text() == "小林"
    transfers: list[tuple[str, str]] = []
    view.transfer_requested.connect(lambda c, a: transfers.append((c, a)))
    qtbot.mouseClick(view.picker.transfer_button, Qt.MouseButton.LeftButton)
    assert view.transfer_dialog is not None
    view.transfer_dialog.agents.setCurrentIndex(1)
    view.transfer_dialog.accept()
    assert transfers == [("q2", "xiaolin")]


def test_login_remembers_server_and_account_not_password(qtbot, settings: QSettings) -> None:
    dialog = LoginDialog(settings)
    qtbot.addWidget(dialog)
    dialog.server.setText("ws://127.0.0.1:9000")
    dialog.account.setText("amei")
    dialog.password.setText("secret-pass")
    with qtbot.waitSignal(dialog.submitted):
        dialog.buttons.accepted.emit()
    assert dialog.credentials().password == "secret-pass"
    settings.sync()
    stored = {key: settings.value(key) for key in settings.allKeys()}
    assert stored == {"login/server": "ws://127.0.0.1:9000", "login/account": "amei"}
    again = LoginDialog(settings)
    qtbot.addWidget(again)
    assert again.server.text() == "ws://127.0.0.1:9000" and again.account.text() == "amei"
    assert again.password.text() == ""


def test_protocol_team_and_decisions_convert() -> None:
    import msgspec

    from console.protocol.messages import AgentRow, DecisionInfo, QueueRow, TeamInfo
    from console.ui.team_data import decisions_from_protocol, team_from_protocol
    from console.ui.team_models import QueueTableModel

    info = TeamInfo(
        kpis=KpiTiles(received_today=3),
        agents=[AgentRow(id="amei", name="阿美", status="online", load=2, cap=8, saturation=0.25, kpis=KpiTiles())],
        queues=[QueueRow(pool="queue:售前", length=1, longest_wait=30.0, eta=60.0)],
    )
    team = team_from_protocol(info)
    assert team.agents[0].status == "online" and team.agents[0].saturation == 0.25
    assert team.queues[0].name == "queue:售前" and team.tiles.received_today == 3
    named = team_from_protocol(msgspec.structs.replace(info, queues=[
        QueueRow(pool="queue:presale", length=1, longest_wait=30.0, eta=60.0, name="售前咨询"),
        QueueRow(pool="queue:shop", length=0, longest_wait=None, eta=None), QueueRow(pool="queue:x", length=0,
                                                                                    longest_wait=None, eta=None)]))
    model = QueueTableModel()
    model.set_rows(named.queues)
    assert [model.index(r, 0).data() for r in range(3)] == ["售前咨询", "全店排队", "x"]  # the name; the id if none
    lines = decisions_from_protocol([DecisionInfo(at=1.0, event="routed", to="agent:amei", why="recent_any_status",
                                                  rule="R4.1")])
    assert lines[0].why == "recent_any_status" and lines[0].t == 1.0
