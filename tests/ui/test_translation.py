"""Every text of the console is translated: the texts are taken from the code itself (an AST walk
over ``self.tr`` and ``QCoreApplication.translate`` calls), not from the committed ``.ts``, and
looked up in the compiled English ``.qm`` the console loads (issue 12, defect 9)."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import Qt, QTranslator
from PySide6.QtWidgets import QApplication

from console.client.errors import ClientError, ConnectionLost
from console.protocol.messages import ErrorCode
from console.ui.app import RESOURCES, install_translator
from console.ui.errors import error_text
from console.ui.labels import language, wait_label
from console.ui.reception_model import section_title
from console.ui.status_controls import StatusControls
from tests.conftest import REPO_ROOT

UI = REPO_ROOT / "console" / "ui"


def extract(path: Path) -> tuple[set[tuple[str, str]], list[str]]:
    """The (context, source text) pairs a file asks to translate, and the calls whose context or
    text cannot be known without running the code (each one a fault: the text would be missed)."""
    found: set[tuple[str, str]] = set()
    faults: list[str] = []
    marked: set[str] = set()  # contexts with QT_TRANSLATE_NOOP texts (translated later by variable)
    variable: list[tuple[str, str]] = []  # (context, where) of translate() calls of a variable

    def literal(node: ast.expr) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    def visit(node: ast.AST, cls: str | None) -> None:
        if isinstance(node, ast.ClassDef):
            cls = node.name
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "QT_TRANSLATE_NOOP":
            context, text = (literal(node.args[0]), literal(node.args[1])) if len(node.args) >= 2 else (None, None)
            if context is None or text is None:
                faults.append(f"{path.name}:{node.lineno}: QT_TRANSLATE_NOOP without literals")
            else:
                found.add((context, text))
                marked.add(context)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            where = f"{path.name}:{node.lineno}"
            if node.func.attr == "tr":
                text = literal(node.args[0]) if node.args else None
                owner = node.func.value
                if not (isinstance(owner, ast.Name) and owner.id == "self" and cls is not None):
                    faults.append(f"{where}: tr() on another object (its context is that object's class)")
                elif text is None:
                    faults.append(f"{where}: tr() of a text that is not a literal")
                else:
                    found.add((cls, text))
            elif node.func.attr == "translate" and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "QCoreApplication":
                context = literal(node.args[0]) if len(node.args) >= 2 else None
                text = literal(node.args[1]) if len(node.args) >= 2 else None
                if context is not None and text is None:
                    variable.append((context, where))  # fine if its texts are marked with QT_TRANSLATE_NOOP
                elif context is None or text is None:
                    faults.append(f"{where}: translate() without a literal context and text")
                else:
                    found.add((context, text))
        for child in ast.iter_child_nodes(node):
            visit(child, cls)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    faults += [f"{where}: translate() of a variable with no QT_TRANSLATE_NOOP texts in its context"
               for context, where in variable if context not in marked]
    return found, faults


def all_texts() -> tuple[set[tuple[str, str]], list[str]]:
    texts: set[tuple[str, str]] = set()
    faults: list[str] = []
    for path in sorted(UI.glob("*.py")):
        found, wrong = extract(path)
        texts |= found
        faults += wrong
    return texts, faults


def test_the_extractor_finds_what_it_must(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('class A:\n    def f(self):\n        self.tr("甲")\n        self.state.tr("乙")\n'
                      '        QCoreApplication.translate("B", "丙")\n        self.tr(name)\n', encoding="utf-8")
    found, faults = extract(sample)
    assert found == {("A", "甲"), ("B", "丙")}
    assert len(faults) == 2  # the other object's tr(), the variable


def test_every_text_in_the_code_is_in_the_english_translation(qapp: QApplication) -> None:
    texts, faults = all_texts()
    assert faults == []
    assert len(texts) > 100
    translator = QTranslator()
    assert translator.load("fenliu_en", str(RESOURCES / "translations"))
    missing = sorted(f"{context}: {text}" for context, text in texts if not translator.translate(context, text))
    assert missing == []
    tree = ET.parse(RESOURCES / "translations" / "fenliu_en.ts")
    unfinished = [m.findtext("source") for m in tree.iter("message")
                  if m.find("translation") is not None and m.find("translation").get("type") == "unfinished"]
    assert unfinished == []


def test_english_is_loaded_on_request(qtbot, qapp: QApplication) -> None:
    assert section_title(None) == "全部" and language() == "zh"
    assert error_text(ClientError(ErrorCode.FORBIDDEN, "not your conversation")).startswith("无权操作")
    translators = install_translator(qapp, "en")
    try:
        assert section_title(None) == "All"
        assert language() == "en" and wait_label(190) == "3m"
        controls = StatusControls(lambda: 0)
        qtbot.addWidget(controls)
        assert controls.buttons["suspended"].text() == "Suspended"
        assert controls.load_label.text() == "Serving 0/0"
        assert error_text(ClientError(ErrorCode.FORBIDDEN, "x")).startswith("Not allowed")
        assert error_text(ConnectionLost()) == "The connection dropped; the outcome is unknown"
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
    assert section_title(None) == "全部"


def test_every_server_error_code_has_a_chinese_text() -> None:
    for code in ErrorCode:
        text = error_text(ClientError(code, "english words from the server"))
        assert "english" not in text and any("\u4e00" <= ch <= "\u9fff" for ch in text), code


def test_image_and_card_previews_read_in_the_ui_language(qapp: QApplication, state, fake) -> None:
    """Issue 13: the row preview of an image or a card is stored in Chinese (search and the buyer's
    fallback read it) and shown in the console's language."""
    from console.protocol.cards import OrderCard
    from console.ui.fake_backend import CATALOG, demo_picture
    from console.ui.labels import preview_text
    from console.ui.reception_model import ConversationRole, ReceptionModel

    fake.buyer_sends_image("b1001", demo_picture(40, 30))
    fake.buyer_card("b1002", CATALOG[0])
    fake.buyer_card("b1003", OrderCard(order="TB1", state="paid"))
    model = ReceptionModel()
    model.load(state.conversations.values())

    def tips() -> dict[str, str]:
        found = {}
        for section in range(model.rowCount()):
            parent = model.index(section, 0)
            for row in range(model.rowCount(parent)):
                index = model.index(row, 0, parent)
                found[index.data(ConversationRole).id] = index.data(Qt.ItemDataRole.ToolTipRole).split("\n", 1)[1]
        return found

    assert state.conversations["b1001"].last_text == "[图片]"
    assert [tips()[c] for c in ("b1001", "b1002", "b1003")] == ["[图片]", "[商品] 碎花连衣裙 M码", "[订单] TB1"]
    translators = install_translator(qapp, "en")
    try:
        assert [tips()[c] for c in ("b1001", "b1002", "b1003")] == ["[Image]", "[Product] 碎花连衣裙 M码", "[Order] TB1"]
        assert preview_text("[催付] TB1") == "[Payment reminder] TB1"
        assert preview_text("[商品]没有空格") == "[商品]没有空格"  # a buyer's own words, not a card
        assert state.conversations["b1002"].last_text == "[商品] 碎花连衣裙 M码"  # stored as it was
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
