"""What-if in the room (issue 14, CONSOLE.md §7): edit the policy, replay today, compare, apply.

The editor starts from the policy in force (``get_policy``) or a file; 试运行 asks the server to
replay today's traffic under the text (``whatif_start``: a process of the server's own), with a
progress bar and 取消 (``whatif_cancel``). The result is shown next to what happened: per agent
received and the longest and average wait of buyers taken from a queue, per queue its peak and
waits, and the share of each routing reason. 应用此策略… is a separate step with a confirmation
(``apply_policy``, which the server's audit log records).

``ComparisonModel`` is one table model for the three tables: rows of text cells, the last two
columns being "实际" (what happened) and "推演" (the what-if).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.protocol.messages import WhatIfComparison, WhatIfDone, WhatIfFailed, WhatIfProgress
from console.ui.labels import wait_label
from console.ui.reasons import reason_text
from console.ui.team_models import queue_title

AnyIndex = QModelIndex | QPersistentModelIndex
MAX_POLICY_CHARS = 60_000  # the protocol's bound on a policy text (PolicyText)


class ComparisonModel(QAbstractTableModel):
    """Rows of text cells under fixed headers (replaced whole when a result comes)."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows: list[list[str]] = []

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        self.beginResetModel()
        self._rows = [list(r) for r in rows]
        self.endResetModel()

    def rows(self) -> list[list[str]]:
        return [list(r) for r in self._rows]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


def _pair(before: str, after: str) -> str:
    return before if before == after else f"{before} → {after}"


def _table(model: ComparisonModel, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.verticalHeader().hide()
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return view


class WhatIfView(QWidget):
    policy_requested = Signal()  # the policy in force, into the editor
    run_requested = Signal(str)  # the policy text to try on today's traffic
    cancel_requested = Signal(str)  # run id
    apply_requested = Signal(str)  # the policy text, confirmed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whatIfView")
        self.run: str | None = None
        self.tried: str | None = None  # the text of the last finished run
        self.comparison: WhatIfComparison | None = None
        self.confirm_box: QMessageBox | None = None
        self.file_dialog: QFileDialog | None = None
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("policyEditor")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.editor.setFont(font)
        self.editor.setPlaceholderText(self.tr("当前策略（TOML）：载入中…"))
        self.reload_button = QPushButton(self.tr("载入当前策略"), self)
        self.open_button = QPushButton(self.tr("打开文件…"), self)
        self.run_button = QPushButton(self.tr("用今天的流量试运行"), self)
        self.run_button.setObjectName("whatIfRun")
        self.cancel_button = QPushButton(self.tr("取消"), self)
        self.cancel_button.setEnabled(False)
        self.apply_button = QPushButton(self.tr("应用此策略…"), self)
        self.apply_button.setObjectName("whatIfApply")
        self.apply_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        actual, tried = self.tr("实际"), self.tr("推演")
        self.agents = ComparisonModel([self.tr("客服"), self.tr("接待") + f" {actual} → {tried}",
                                       self.tr("排队后接入"), self.tr("最长等待"), self.tr("平均等待")], self)
        self.pools = ComparisonModel([self.tr("队列"), self.tr("峰值"), self.tr("排队人数"), self.tr("最长等待"),
                                      self.tr("平均等待")], self)
        self.reasons = ComparisonModel([self.tr("分配原因"), actual, tried], self)

        editor_box = QGroupBox(self.tr("策略"), self)
        editor_layout = QVBoxLayout(editor_box)
        files = QHBoxLayout()
        files.addWidget(self.reload_button)
        files.addWidget(self.open_button)
        files.addStretch(1)
        editor_layout.addLayout(files)
        editor_layout.addWidget(self.editor, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.run_button)
        controls.addWidget(self.cancel_button)
        controls.addWidget(self.progress, 1)
        editor_layout.addLayout(controls)
        editor_layout.addWidget(self.note)
        editor_layout.addWidget(self.apply_button)
        results = QWidget(self)
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        for title, model, stretch in ((self.tr("每位客服：实际 → 推演"), self.agents, 3),
                                      (self.tr("队列：实际 → 推演"), self.pools, 2),
                                      (self.tr("分配原因占比"), self.reasons, 2)):
            box = QGroupBox(title, results)
            QVBoxLayout(box).addWidget(_table(model, box))
            results_layout.addWidget(box, stretch)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(editor_box)
        splitter.addWidget(results)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        # scrolled when the window is small (a 1600x1000 screen at 150%): the room's other pages
        # decide the window's smallest size, not this one
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.reload_button.clicked.connect(self.policy_requested)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.editor.textChanged.connect(self._on_editor_text_changed)

    # -- fed by the room -------------------------------------------------------------------------------

    def show_policy(self, text: str) -> None:
        self.editor.setPlainText(text)
        self.note.setText(self.tr("已载入当前策略"))

    def started(self, run: str) -> None:
        self.run = run
        self.progress.setValue(0)
        self.note.setText(self.tr("正在用今天的流量试运行…"))

    def refused(self, text: str) -> None:
        """The server refused the run (a bad policy, another run going): said, controls back."""
        self.run = None
        self._running(False)
        self.note.setText(text)

    def show_update(self, message: WhatIfProgress | WhatIfDone | WhatIfFailed) -> None:
        if self.run is not None and message.run != self.run:
            return  # another run's late word
        if isinstance(message, WhatIfProgress):
            self.progress.setValue(round(1000 * message.fraction))
            return
        self.run = None
        self._running(False)
        if isinstance(message, WhatIfFailed):
            self.progress.setValue(0)
            self.note.setText(self.tr("已取消") if message.cancelled else self.tr("试运行失败：%1").replace(
                "%1", message.message))
            return
        self.progress.setValue(1000)
        self.show_comparison(message.comparison)

    def show_comparison(self, c: WhatIfComparison) -> None:
        self.comparison = c
        self.agents.set_rows([
            [a.name or a.id, _pair(str(a.baseline.received), str(a.whatif.received)),
             _pair(str(a.baseline.taken_from_queue), str(a.whatif.taken_from_queue)),
             _pair(wait_label(a.baseline.longest_wait_s), wait_label(a.whatif.longest_wait_s)),
             _pair(wait_label(a.baseline.average_wait_s), wait_label(a.whatif.average_wait_s))]
            for a in c.agents])
        self.pools.set_rows([
            [queue_title(p.pool, p.name), _pair(str(p.baseline.peak), str(p.whatif.peak)),
             _pair(str(p.baseline.queued), str(p.whatif.queued)),
             _pair(wait_label(p.baseline.longest_wait_s), wait_label(p.whatif.longest_wait_s)),
             _pair(wait_label(p.baseline.average_wait_s), wait_label(p.whatif.average_wait_s))]
            for p in c.pools])
        reasons = sorted(set(c.reasons.baseline) | set(c.reasons.whatif),
                         key=lambda r: -max(c.reasons.baseline.get(r, 0.0), c.reasons.whatif.get(r, 0.0)))
        self.reasons.set_rows([[reason_text(r), f"{100 * c.reasons.baseline.get(r, 0.0):.1f}%",
                                f"{100 * c.reasons.whatif.get(r, 0.0):.1f}%"] for r in reasons])
        note = self.tr("%1：重放 %2 条输入").replace("%1", c.day).replace("%2", str(c.inputs))
        if c.baseline_matches_record is False:
            note += self.tr("；注意：按原策略重放与记录不一致（%1）").replace("%1", c.mismatch or "")
        self.note.setText(note)
        self.tried = self.editor.toPlainText()
        self.apply_button.setEnabled(True)

    def applied(self) -> None:
        self.note.setText(self.tr("已应用新策略（已记入审计日志）"))
        self.apply_button.setEnabled(False)

    # -- slots -------------------------------------------------------------------------------------------

    def _running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.editor.setReadOnly(running)

    def _on_run_button_clicked(self) -> None:
        text = self.editor.toPlainText()
        if not text.strip():
            self.note.setText(self.tr("策略是空的"))
            return
        if len(text) > MAX_POLICY_CHARS:
            self.note.setText(self.tr("策略太长（最多 %1 个字符）").replace("%1", str(MAX_POLICY_CHARS)))
            return
        self._running(True)
        self.apply_button.setEnabled(False)
        self.progress.setValue(0)
        self.note.setText(self.tr("正在启动试运行…"))
        self.run_requested.emit(text)

    def _on_cancel_button_clicked(self) -> None:
        if self.run is not None:
            self.cancel_requested.emit(self.run)

    def _on_editor_text_changed(self) -> None:
        if self.tried is not None and self.editor.toPlainText() != self.tried:
            self.apply_button.setEnabled(False)  # apply only what was tried

    def _on_open_button_clicked(self) -> None:
        dialog = QFileDialog(self, self.tr("打开策略文件"))
        dialog.setObjectName("policyFileDialog")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.setNameFilters([self.tr("策略文件 (*.toml)"), self.tr("所有文件 (*)")])
        dialog.fileSelected.connect(self.load_file)
        self.file_dialog = dialog
        dialog.open()

    def load_file(self, path: str) -> None:
        try:
            raw = Path(path).read_bytes()
            if len(raw) > 4 * MAX_POLICY_CHARS:
                raise ValueError(self.tr("文件太大"))
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.note.setText(self.tr("无法读取 %1：%2").replace("%1", Path(path).name).replace("%2", str(exc)))
            return
        self.editor.setPlainText(text)
        self.note.setText(self.tr("已载入 %1").replace("%1", Path(path).name))

    def _on_apply_button_clicked(self) -> None:
        text = self.tried
        if text is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("应用策略"),
                          self.tr("用这份策略替换当前策略？新进线的买家立即按它分配，此操作会记入审计日志。"),
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Ok).setText(self.tr("应用"))
        box.button(QMessageBox.StandardButton.Cancel).setText(self.tr("取消"))
        box.accepted.connect(lambda: self.apply_requested.emit(text))
        self.confirm_box = box
        box.open()
