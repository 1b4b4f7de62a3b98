from __future__ import annotations

import xml.etree.ElementTree as ET

from PySide6.QtWidgets import QApplication

from console.ui.app import RESOURCES, install_translator
from console.ui.labels import language, wait_label
from console.ui.reception_model import section_title
from console.ui.status_controls import StatusControls


def test_every_text_has_an_english_translation() -> None:
    tree = ET.parse(RESOURCES / "translations" / "fenliu_en.ts")
    unfinished = [m.findtext("source") for m in tree.iter("message")
                  if m.find("translation") is not None and m.find("translation").get("type") == "unfinished"]
    assert unfinished == []
    assert (RESOURCES / "translations" / "fenliu_en.qm").exists()


def test_english_is_loaded_on_request(qtbot, qapp: QApplication) -> None:
    assert section_title(None) == "全部" and language() == "zh"
    translators = install_translator(qapp, "en")
    try:
        assert section_title(None) == "All"
        assert language() == "en" and wait_label(190) == "3m"
        controls = StatusControls(lambda: 0)
        qtbot.addWidget(controls)
        assert controls.buttons["suspended"].text() == "Suspended"
        assert controls.load_label.text() == "Serving 0/0"
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
    assert section_title(None) == "全部"
