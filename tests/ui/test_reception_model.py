from __future__ import annotations

import msgspec
from PySide6.QtCore import QModelIndex

from console.reception.model import SECTION_ORDER, Conversation, Kind, Section
from console.ui.fake_backend import FakeBackend
from console.ui.reception_model import ConversationRole, CountRole, ReceptionModel
from console.ui.state import ConsoleState


def _ids(model: ReceptionModel, section: Section) -> list[str]:
    parent = model.section_index(section)
    return [model.index(r, 0, parent).data(ConversationRole).id for r in range(model.rowCount(parent))]


def _model(state: ConsoleState) -> ReceptionModel:
    model = ReceptionModel()
    model.load(state.conversations.values())
    return model


def test_sections_in_fixed_order_and_sorted(state: ConsoleState, fake: FakeBackend) -> None:
    model = _model(state)
    assert [model.index(r, 0).data(CountRole) for r in range(5)] == [4, 2, 3, 1, 2]
    assert [model.index(r, 0).data() for r in range(5)] == ["待回复", "已被自动回复", "已回复", "小二", "群聊"]
    assert _ids(model, Section.PENDING) == ["b1001", "b1002", "b1003", "b1004"]  # oldest waiting first
    assert _ids(model, Section.REPLIED) == ["b1007", "b1008", "b1009"]  # latest activity first


def test_model_contract_through_live_updates(qtmodeltester, state: ConsoleState, fake: FakeBackend, clock) -> None:
    model = _model(state)
    qtmodeltester.check(model)
    state.conversation_updated.connect(model.queue_update)
    state.conversation_removed.connect(model.queue_remove)
    clock.now += 5
    fake.buyer_writes("b1007", "还有一个问题")  # replied -> pending (cross-section move)
    fake.buyer_writes("b9999", "新来的买家", name="新买家")  # insert
    state.add_local_reply("b1001", "有的亲", "c-1", clock.now)  # pending -> replied
    clock.now += 1
    fake.buyer_writes("b1008", "在吗")
    model.flush()
    qtmodeltester.check(model)
    assert _ids(model, Section.PENDING) == ["b1002", "b1003", "b1004", "b1007", "b9999", "b1008"]
    assert _ids(model, Section.REPLIED)[0] == "b1001"
    clock.now += 5
    fake.buyer_writes("b1002", "催一下")  # stays first: waiting since its first message
    state.remove_conversation("b1003")
    fake.clear_section(Section.BOT_REPLIED)
    model.flush()
    qtmodeltester.check(model)
    assert _ids(model, Section.PENDING) == ["b1002", "b1004", "b1007", "b9999", "b1008"]
    assert model.rowCount(model.section_index(Section.BOT_REPLIED)) == 0


def test_same_section_moves_both_ways(qtmodeltester, state: ConsoleState, fake: FakeBackend, clock) -> None:
    model = _model(state)
    qtmodeltester.check(model)
    replied = {c.id: c for c in state.conversations.values() if c.section == Section.REPLIED}
    model.queue_update(msgspec.structs.replace(replied["b1009"], last_at=clock.now))  # last -> first
    model.flush()
    assert _ids(model, Section.REPLIED) == ["b1009", "b1007", "b1008"]
    model.queue_update(msgspec.structs.replace(replied["b1009"], last_at=0.0))  # first -> last
    model.flush()
    assert _ids(model, Section.REPLIED) == ["b1007", "b1008", "b1009"]


def test_burst_is_merged_by_timer(qtbot, state: ConsoleState, fake: FakeBackend, clock) -> None:
    model = _model(state)
    moves: list[object] = []
    model.rowsMoved.connect(lambda *a: moves.append(a))
    state.conversation_updated.connect(model.queue_update)
    for i in range(10):
        clock.now += 1
        fake.buyer_writes("b1007", f"消息{i}")
    assert moves == []  # nothing applied yet
    with qtbot.waitSignal(model.updates_applied):
        pass
    assert len(moves) == 1  # ten updates of one row, one move


def test_no_reset_on_live_updates(state: ConsoleState, fake: FakeBackend, clock) -> None:
    model = _model(state)
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))
    state.conversation_updated.connect(model.queue_update)
    for i in range(20):
        clock.now += 1
        fake.buyer_writes(f"n{i}", "你好", name=f"买家{i}")
    model.flush()
    assert resets == []
    assert model.rowCount(model.section_index(Section.PENDING)) == 24


def test_flat_list_by_last_activity(qtmodeltester, state: ConsoleState, fake: FakeBackend, clock) -> None:
    model = _model(state)
    model.set_grouped(False)
    qtmodeltester.check(model)
    root = model.root_index()
    ids = [model.index(r, 0, root).data(ConversationRole).id for r in range(model.rowCount(root))]
    assert len(ids) == 12 and ids[0] == "b1004"  # the latest message first
    model.queue_update(msgspec.structs.replace(state.conversations["b1009"], last_at=clock.now + 1))
    model.flush()
    assert model.index(0, 0, root).data(ConversationRole).id == "b1009"
    assert model.first_pending().data(ConversationRole).id == "b1001"


def test_filter_to_buyers(qtmodeltester, state: ConsoleState, fake: FakeBackend) -> None:
    model = _model(state)
    qtmodeltester.check(model)
    model.set_filter("not_paid", ["b1004", "b1007"])
    assert model.visible_ids() == ["b1004", "b1007"]
    model.queue_update(msgspec.structs.replace(state.conversations["b1001"], unread=5))
    model.flush()
    assert model.visible_ids() == ["b1004", "b1007"]  # outside the filter, still hidden
    model.clear_filter()
    assert len(model.visible_ids()) == 12


def test_impostor_is_a_consumer(state: ConsoleState, fake: FakeBackend) -> None:
    model = _model(state)
    impostor: Conversation = model.index_of("b1003").data(ConversationRole)
    assert impostor.name == "平台小二客服" and impostor.kind == Kind.CONSUMER
    assert model.index_of("b1003").parent() == model.section_index(Section.PENDING)
    assert model.index_of("nobody") == QModelIndex()
    assert len(SECTION_ORDER) == model.rowCount()


def test_order_tiles_never_show_staff_or_group_chats(qtmodeltester, state: ConsoleState, fake: FakeBackend) -> None:
    """Issue 12 defect 6: 未下单 / 未付款 are about buyers; a 小二 or a group chat in the server's
    list (an older server counted them) is not shown by the filter. The impostor is a buyer."""
    model = _model(state)
    model.set_filter("not_ordered", ["b1003", "s2001", "g3001", "b1004"])
    qtmodeltester.check(model)
    assert model.visible_ids() == ["b1003", "b1004"]
    model.clear_filter()
    assert "s2001" in model.visible_ids()
