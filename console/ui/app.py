"""Starting the console's Qt side: the application, its look, its language."""

from __future__ import annotations

import sys

from PySide6.QtCore import QLibraryInfo, QLocale, QSettings, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from console.paths import resources_dir

RESOURCES = resources_dir()
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei")


def create_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName("Fenliu")
    app.setApplicationName("fenliu-console")
    apply_style(app)
    return app


def apply_style(app: QApplication) -> None:
    """A CJK font first, then the calm light style sheet."""
    families = set(QFontDatabase.families())
    chosen = [f for f in CJK_FAMILIES if f in families]
    font = QFont(app.font())
    font.setFamilies([*chosen, *font.families()])
    font.setPointSizeF(10.5)
    app.setFont(font)
    sheet = RESOURCES / "styles" / "console.qss"
    if sheet.exists():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))


def wanted_language(option: str | None, settings: QSettings) -> str:
    """``--lang`` wins, then the language picked in the menu, then the system locale; zh_CN by default."""
    if option:
        return option
    saved = str(settings.value("language", ""))
    if saved:
        return saved
    return "en" if QLocale.system().language() == QLocale.Language.English else "zh_CN"


def install_translator(app: QApplication, language: str) -> list[QTranslator]:
    """Qt's own texts (dialog buttons) in the language, and ours: Chinese is the source text;
    other languages load ``resources/translations/fenliu_<lang>.qm``."""
    installed: list[QTranslator] = []
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    if not language.startswith("zh"):
        ours = QTranslator(app)
        if ours.load(f"fenliu_{language.split('_')[0]}", str(RESOURCES / "translations")):
            app.installTranslator(ours)
            installed.append(ours)
    return installed
