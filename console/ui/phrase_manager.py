"""快捷短语管理: the team's and one's own quick replies, in groups; add, edit, pin, order, CSV.

A tree: the two sets (团队短语, 我的短语), their groups, the phrases in order. Agents see the
team's set read-only (supervisors and the main account keep it; the server refuses the others
anyway). Import reads a CSV file (UTF-8 or GBK) and adds all its rows in one request, or shows
every bad row by line and adds nothing; export writes the selected set as UTF-8 (with BOM) or GBK.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import MAX_PHRASE_TEXT, PhraseDraft, PhraseInfo, PhraseScope
from console.reception.phrases import (
    GROUP_MAX,
    TITLE_MAX,
    CsvEncoding,
    CsvError,
    Problem,
    RowProblem,
    read_csv,
    write_csv,
)
from console.ui.phrase_book import PhraseBook

PhraseIdRole = Qt.ItemDataRole.UserRole
ScopeRole = Qt.ItemDataRole.UserRole + 1


def scope_text(scope: PhraseScope) -> str:
    if scope is PhraseScope.TEAM:
        return QCoreApplication.translate("PhraseManager", "团队短语")
    return QCoreApplication.translate("PhraseManager", "我的短语")


def problem_text(problem: RowProblem) -> str:
    """A bad CSV row in the console's language."""
    texts = {
        Problem.ENCODING: QCoreApplication.translate("PhraseManager", "既不是 UTF-8 也不是 GBK 编码"),
        Problem.HEADER: QCoreApplication.translate("PhraseManager", "第一行须为表头：分组,标题,内容,置顶"),
        Problem.COLUMNS: QCoreApplication.translate("PhraseManager", "应为 3 或 4 列，实际 %1 列"),
        Problem.NO_TITLE: QCoreApplication.translate("PhraseManager", "标题为空"),
        Problem.NO_TEXT: QCoreApplication.translate("PhraseManager", "内容为空"),
        Problem.LONG_TITLE: QCoreApplication.translate("PhraseManager", "标题超过 %1 个字"),
        Problem.LONG_GROUP: QCoreApplication.translate("PhraseManager", "分组名超过 %1 个字"),
        Problem.LONG_TEXT: QCoreApplication.translate("PhraseManager", "内容超过 %1 个字"),
        Problem.PINNED: QCoreApplication.translate("PhraseManager", "置顶一列只能填“是”或留空，不能是“%1”"),
        Problem.EMPTY: QCoreApplication.translate("PhraseManager", "文件中没有短语"),
        Problem.TOO_MANY: QCoreApplication.translate("PhraseManager", "一次最多导入 %1 条"),
    }
    line = QCoreApplication.translate("PhraseManager", "第 %1 行：").replace("%1", str(problem.line))
    return line + texts[problem.problem].replace("%1", problem.detail)


def _pin_text(phrase: PhraseInfo, keys: dict[int, int]) -> str:
    """The key of a pinned phrase (only the first nine pinned have one)."""
    if not phrase.pinned:
        return ""
    key = keys.get(phrase.id)
    return f"Ctrl+{key}" if key is not None else "✓"


class PhraseEditor(QDialog):
    """One phrase: set (only supervisors may choose the team's), group, title, text, pinned."""

    def __init__(self, parent: QWidget, *, may_keep_team: bool, groups: list[str],
                 phrase: PhraseInfo | None = None, scope: PhraseScope = PhraseScope.PERSONAL,
                 pinned_key: str = "Ctrl") -> None:
        super().__init__(parent)
        self.setObjectName("phraseEditor")
        self.setWindowTitle(self.tr("编辑快捷短语") if phrase is not None else self.tr("新建快捷短语"))
        self.scope = QComboBox(self)
        for choice in (PhraseScope.PERSONAL, PhraseScope.TEAM):
            if choice is PhraseScope.PERSONAL or may_keep_team:
                self.scope.addItem(scope_text(choice), choice)
        self.scope.setCurrentIndex(max(0, self.scope.findData(phrase.scope if phrase is not None else scope)))
        self.scope.setEnabled(phrase is None)  # a phrase keeps its set
        self.group = QComboBox(self)
        self.group.setEditable(True)
        self.group.addItems(groups)
        self.group.setCurrentText(phrase.group if phrase is not None else "")
        line = self.group.lineEdit()
        if line is not None:
            line.setMaxLength(GROUP_MAX)
        self.title = QLineEdit(phrase.title if phrase is not None else "", self)
        self.title.setMaxLength(TITLE_MAX)
        self.text = QPlainTextEdit(phrase.text if phrase is not None else "", self)
        self.text.setTabChangesFocus(True)
        self.text.setPlaceholderText(self.tr("可用变量：{买家} {客服} {订单号}"))
        self.pinned = QCheckBox(self.tr("置顶（回复框中 Alt+1…9 插入）") if pinned_key == "Alt"
                                else self.tr("置顶（回复框中 Ctrl+1…9 插入）"), self)
        self.pinned.setChecked(phrase.pinned if phrase is not None else False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("保存"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        form = QFormLayout(self)
        form.addRow(self.tr("所属"), self.scope)
        form.addRow(self.tr("分组"), self.group)
        form.addRow(self.tr("标题"), self.title)
        form.addRow(self.tr("内容"), self.text)
        form.addRow("", self.pinned)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.resize(460, 320)

    def draft(self) -> PhraseDraft:
        return PhraseDraft(scope=PhraseScope(self.scope.currentData()), group=self.group.currentText().strip(),
                           title=self.title.text().strip(), text=self.text.toPlainText().strip(),
                           pinned=self.pinned.isChecked())

    def _on_buttons_accepted(self) -> None:
        draft_text = self.text.toPlainText().strip()
        if not self.title.text().strip() or not draft_text:
            QMessageBox.warning(self, self.windowTitle(), self.tr("标题和内容都不能为空"))
            return
        if len(draft_text) > MAX_PHRASE_TEXT:
            QMessageBox.warning(self, self.windowTitle(),
                                self.tr("内容超过 %1 个字").replace("%1", str(MAX_PHRASE_TEXT)))
            return
        self.accept()


class PhraseManager(QDialog):
    """The manager dialog over a ``PhraseBook``; the tree is rebuilt from each new list."""

    csv_written = Signal(str)  # the path of an export

    def __init__(self, book: PhraseBook, parent: QWidget | None = None, *, pinned_key: str = "Ctrl") -> None:
        super().__init__(parent)
        self.setObjectName("phraseManager")
        self.pinned_key = pinned_key  # "Alt" when signed into several shops (issue 15)
        self.setWindowTitle(self.tr("快捷短语管理"))
        self.book = book
        self.editor: PhraseEditor | None = None
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("phraseTree")
        self.tree.setHeaderLabels([self.tr("标题"), self.tr("内容"), self.tr("置顶")])
        self.tree.setColumnWidth(0, 200)
        self.tree.setColumnWidth(1, 360)
        self.add_button = QPushButton(self.tr("新建"), self)
        self.edit_button = QPushButton(self.tr("编辑"), self)
        self.pin_button = QPushButton(self.tr("置顶/取消"), self)
        self.up_button = QPushButton(self.tr("上移"), self)
        self.down_button = QPushButton(self.tr("下移"), self)
        self.delete_button = QPushButton(self.tr("删除"), self)
        self.import_button = QPushButton(self.tr("导入 CSV…"), self)
        self.export_button = QPushButton(self.tr("导出 CSV…"), self)
        self.encoding = QComboBox(self)
        self.encoding.addItem(self.tr("UTF-8 编码"), CsvEncoding.UTF8)
        self.encoding.addItem(self.tr("GBK 编码（旧版 Excel）"), CsvEncoding.GBK)
        side = QVBoxLayout()
        for button in (self.add_button, self.edit_button, self.pin_button, self.up_button, self.down_button,
                       self.delete_button):
            side.addWidget(button)
        side.addStretch(1)
        side.addWidget(self.import_button)
        side.addWidget(self.export_button)
        side.addWidget(self.encoding)
        body = QHBoxLayout(self)
        body.addWidget(self.tree, 1)
        body.addLayout(side)
        self.resize(820, 480)

        self.book.changed.connect(self._on_book_changed)
        self.tree.currentItemChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(self._on_edit_clicked)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.edit_button.clicked.connect(self._on_edit_clicked)
        self.pin_button.clicked.connect(self._on_pin_clicked)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self._on_book_changed()

    # -- the tree -----------------------------------------------------------------------------------

    def _on_book_changed(self) -> None:
        current = self.current()
        self.tree.clear()
        keys = {p.id: n for n, p in enumerate(self.book.index.pinned(), 1)}
        for scope in (PhraseScope.TEAM, PhraseScope.PERSONAL):
            title = scope_text(scope)
            if scope is PhraseScope.TEAM and not self.book.may_keep_team:
                title += self.tr("（主管维护，只读）")
            top = QTreeWidgetItem(self.tree, [title])
            top.setData(0, ScopeRole, scope.value)
            groups: dict[str, QTreeWidgetItem] = {}
            for p in self.book.phrases:
                if p.scope is not scope:
                    continue
                parent = top
                if p.group:
                    if p.group not in groups:
                        groups[p.group] = QTreeWidgetItem(top, [p.group])
                        groups[p.group].setData(0, ScopeRole, scope.value)
                    parent = groups[p.group]
                item = QTreeWidgetItem(parent, [p.title, " ".join(p.text.split()), _pin_text(p, keys)])
                item.setData(0, PhraseIdRole, p.id)
                item.setData(0, ScopeRole, scope.value)
                item.setToolTip(1, p.text)
                if current is not None and p.id == current.id:
                    self.tree.setCurrentItem(item)
        self.tree.expandAll()
        self._update_buttons()

    def current(self) -> PhraseInfo | None:
        item = self.tree.currentItem()
        phrase = item.data(0, PhraseIdRole) if item is not None else None
        return self.book.get(int(phrase)) if phrase is not None else None

    def current_scope(self) -> PhraseScope:
        item = self.tree.currentItem()
        value = item.data(0, ScopeRole) if item is not None else None
        return PhraseScope(value) if value else PhraseScope.PERSONAL

    def select(self, phrase: int) -> None:
        for item in self._items():
            if item.data(0, PhraseIdRole) == phrase:
                self.tree.setCurrentItem(item)

    def _items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item is None:
                continue
            found.append(item)
            stack.extend(item.child(i) for i in range(item.childCount()))
        return found

    def _update_buttons(self) -> None:
        phrase = self.current()
        changeable = phrase is not None and self.book.may_change(phrase)
        for button in (self.edit_button, self.pin_button, self.up_button, self.down_button, self.delete_button):
            button.setEnabled(changeable)

    # -- actions ------------------------------------------------------------------------------------

    def _groups(self, scope: PhraseScope) -> list[str]:
        return [g for g in self.book.index.groups(scope) if g]

    def _on_add_clicked(self) -> None:
        scope = self.current_scope() if self.book.may_keep_team else PhraseScope.PERSONAL
        self._edit(PhraseEditor(self, may_keep_team=self.book.may_keep_team, groups=self._groups(scope),
                                scope=scope, pinned_key=self.pinned_key), None)

    def _on_edit_clicked(self) -> None:
        phrase = self.current()
        if phrase is None or not self.book.may_change(phrase):
            return
        self._edit(PhraseEditor(self, may_keep_team=self.book.may_keep_team, groups=self._groups(phrase.scope),
                                phrase=phrase, pinned_key=self.pinned_key), phrase)

    def _edit(self, editor: PhraseEditor, phrase: PhraseInfo | None) -> None:
        self.editor = editor
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.accepted.connect(lambda: self._on_editor_accepted(editor, phrase))
        editor.finished.connect(lambda _: setattr(self, "editor", None))
        editor.open()  # not exec(): no nested event loop under qasync

    def _on_editor_accepted(self, editor: PhraseEditor, phrase: PhraseInfo | None) -> None:
        draft = editor.draft()
        if phrase is None:
            self.book.add([draft])
        else:
            self.book.edit(phrase.id, group=draft.group, title=draft.title, text=draft.text, pinned=draft.pinned)

    def _on_pin_clicked(self) -> None:
        phrase = self.current()
        if phrase is not None:
            self.book.pin(phrase.id, not phrase.pinned)

    def _move(self, step: int) -> None:
        phrase = self.current()
        if phrase is None:
            return
        ids = [p.id for p in self.book.phrases if p.scope is phrase.scope]
        at = ids.index(phrase.id)
        to = at + step
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
            self.book.reorder(phrase.scope, ids)

    def _on_delete_clicked(self) -> None:
        phrase = self.current()
        if phrase is None:
            return
        answer = QMessageBox.question(self, self.tr("删除快捷短语"),
                                      self.tr("删除“%1”吗？").replace("%1", phrase.title))
        if answer == QMessageBox.StandardButton.Yes:
            self.book.delete(phrase.id)

    # -- CSV ----------------------------------------------------------------------------------------

    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("导入快捷短语"), "", self.tr("CSV 文件 (*.csv)"))
        if path:
            scope = self.current_scope() if self.book.may_keep_team else PhraseScope.PERSONAL
            self.import_file(Path(path), scope)

    def import_file(self, path: Path, scope: PhraseScope) -> list[str]:
        """Add every row of the file to ``scope``, or none: the problems, by line, are returned and shown."""
        try:
            drafts = read_csv(path.read_bytes(), scope)
        except OSError as exc:
            problems = [self.tr("无法读取文件：%1").replace("%1", exc.strerror or str(exc))]
        except CsvError as exc:
            problems = [problem_text(p) for p in exc.problems]
        else:
            self.book.add(drafts)
            return []
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("导入快捷短语"),
                          self.tr("文件有误，未导入任何短语。"), QMessageBox.StandardButton.Ok, self)
        box.setDetailedText("\n".join(problems))
        box.setInformativeText("\n".join(problems[:10]))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return problems

    def _on_export_clicked(self) -> None:
        scope = self.current_scope()
        name = "team-phrases.csv" if scope is PhraseScope.TEAM else "my-phrases.csv"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("导出快捷短语"), name, self.tr("CSV 文件 (*.csv)"))
        if path:
            self.export_file(Path(path), scope, CsvEncoding(self.encoding.currentData()))

    def export_file(self, path: Path, scope: PhraseScope, encoding: CsvEncoding) -> bool:
        phrases = [p for p in self.book.phrases if p.scope is scope]
        try:
            data = write_csv(phrases, encoding)
        except UnicodeEncodeError:
            QMessageBox.warning(self, self.tr("导出快捷短语"),
                                self.tr("有的字 GBK 编码写不下（如表情符号），请改用 UTF-8 编码导出"))
            return False
        try:
            path.write_bytes(data)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("导出快捷短语"),
                                self.tr("无法写入文件：%1").replace("%1", exc.strerror or str(exc)))
            return False
        self.csv_written.emit(str(path))
        return True
