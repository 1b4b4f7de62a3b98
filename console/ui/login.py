"""The login window: server URL and account remembered, the password never stored."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

DEFAULT_SERVER = "ws://127.0.0.1:8765"
WIDE_SERVER = "wss://fenliu.shop-example.com:8765"  # the width the server field is made for


@dataclass(frozen=True, slots=True)
class Credentials:
    server: str
    account: str
    password: str


class LoginDialog(QDialog):
    """Asks for the credentials and stays open while they are tried: ``submitted`` when the
    agent asks to log in; whoever logs in calls ``show_error`` or ``accept``."""

    submitted = Signal()

    def __init__(self, settings: QSettings, server: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle(self.tr("登录分流接待台"))
        self._settings = settings
        self.server = QLineEdit(server or str(settings.value("login/server", DEFAULT_SERVER)), self)
        # Wide enough for a shop's wss:// address, not only the loopback default (issue 12, defect 8).
        self.server.setMinimumWidth(self.server.fontMetrics().horizontalAdvance(WIDE_SERVER) + 24)
        self.account = QLineEdit(str(settings.value("login/account", "")), self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self)
        self.error.setObjectName("loginError")
        self.error.hide()
        form = QFormLayout()
        form.addRow(self.tr("服务器"), self.server)
        form.addRow(self.tr("账号"), self.account)
        form.addRow(self.tr("密码"), self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        (self.password if self.account.text() else self.account).setFocus()

    def credentials(self) -> Credentials:
        return Credentials(self.server.text().strip(), self.account.text().strip(), self.password.text())

    def show_connecting(self) -> None:
        self.error.setProperty("kind", "progress")
        self.error.setText(self.tr("正在连接 %1 …").replace("%1", self.credentials().server))
        self._restyle_error()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

    def show_error(self, text: str) -> None:
        """The server refused or cannot be reached: say why, keep the dialog open, clear the password."""
        self.error.setProperty("kind", "error")
        self.error.setText(text)
        self._restyle_error()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        self.password.clear()
        self.password.setFocus()

    def _restyle_error(self) -> None:
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)
        self.error.show()

    def _on_buttons_accepted(self) -> None:
        credentials = self.credentials()
        if not credentials.server or not credentials.account or not credentials.password:
            self.show_error(self.tr("请填写服务器、账号和密码"))
            return
        self._settings.setValue("login/server", credentials.server)  # the password is never written
        self._settings.setValue("login/account", credentials.account)
        self.show_connecting()  # at once: the dialog stays up while the credentials are tried
        self.submitted.emit()
