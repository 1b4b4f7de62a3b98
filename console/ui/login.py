"""The login window: server URL and account remembered, the password never stored.

Several shops (issue 15): a line per shop (店铺, 账号, 密码), the first one always there; "再添加一个
店铺" adds a line, and the console signs into every line's shop. The shops and accounts are
remembered (never the passwords)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

DEFAULT_SERVER = "ws://127.0.0.1:8765"
WIDE_SERVER = "wss://fenliu.shop-example.com:8765"  # the width the server field is made for


MAX_SHOP_LINES = 9  # Ctrl+1..9 switch between them


@dataclass(frozen=True, slots=True)
class Credentials:
    server: str
    account: str
    password: str
    shop: str | None = None  # None: the server's only shop


@dataclass
class _ShopLine:
    shop: QLineEdit
    account: QLineEdit
    password: QLineEdit


class LoginDialog(QDialog):
    """Asks for the credentials and stays open while they are tried: ``submitted`` when the
    agent asks to log in; whoever logs in calls ``show_error`` or ``accept``."""

    submitted = Signal()

    def __init__(self, settings: QSettings, server: str | None = None, parent: QWidget | None = None, *,
                 one_more: bool = False) -> None:
        super().__init__(parent)
        self.one_more = one_more  # 添加店铺 from the shops window: one new shop, nothing remembered
        self.setObjectName("loginDialog")
        self.setWindowTitle(self.tr("登录分流接待台"))
        self._settings = settings
        self.server = QLineEdit(server or str(settings.value("login/server", DEFAULT_SERVER)), self)
        # Wide enough for a shop's wss:// address, not only the loopback default (issue 12, defect 8).
        self.server.setMinimumWidth(self.server.fontMetrics().horizontalAdvance(WIDE_SERVER) + 24)
        self.shop = QLineEdit(str(settings.value("login/shop", "")), self)
        self.shop.setPlaceholderText(self.tr("服务器只有一个店铺时可不填"))
        self.account = QLineEdit(str(settings.value("login/account", "")), self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self)
        self.error.setObjectName("loginError")
        self.error.hide()
        self.more: list[_ShopLine] = []  # the lines of the other shops
        form = QFormLayout()
        form.addRow(self.tr("服务器"), self.server)
        form.addRow(self.tr("店铺"), self.shop)
        form.addRow(self.tr("账号"), self.account)
        form.addRow(self.tr("密码"), self.password)
        self.form = form
        self.add_shop_button = QPushButton(self.tr("＋ 再添加一个店铺"), self)
        self.add_shop_button.setObjectName("addShopLine")
        self.add_shop_button.setToolTip(self.tr("同时登录几个店铺的账号，Ctrl+1…9 切换店铺"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.add_shop_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.add_shop_button.clicked.connect(self._on_add_shop_button_clicked)
        saved = settings.value("login/more_shops", []) if not one_more else []
        entries = saved if isinstance(saved, list) else [saved] if isinstance(saved, str) and saved else []
        for entry in entries:  # (an INI file gives a one-item list back as a string)
            shop, _, account = str(entry).partition("\t")
            self.add_shop_line(shop, account)
        if one_more:
            self.setWindowTitle(self.tr("添加店铺"))
            self.shop.clear()
            self.shop.setPlaceholderText(self.tr("店铺名"))
            self.add_shop_button.hide()
            self.shop.setFocus()
            return
        (self.password if self.account.text() else self.account).setFocus()

    def add_shop_line(self, shop: str = "", account: str = "") -> _ShopLine | None:
        """One more shop to sign into (up to nine: Ctrl+1..9)."""
        if len(self.more) + 1 >= MAX_SHOP_LINES:
            return None
        line = _ShopLine(QLineEdit(shop, self), QLineEdit(account, self), QLineEdit(self))
        line.password.setEchoMode(QLineEdit.EchoMode.Password)
        n = str(len(self.more) + 2)
        self.form.addRow(self.tr("店铺 %1").replace("%1", n), line.shop)
        self.form.addRow(self.tr("账号 %1").replace("%1", n), line.account)
        self.form.addRow(self.tr("密码 %1").replace("%1", n), line.password)
        self.more.append(line)
        self.add_shop_button.setEnabled(len(self.more) + 1 < MAX_SHOP_LINES)
        return line

    def all_credentials(self) -> list[Credentials]:
        """The first line, then every other shop's line that is filled in."""
        server = self.server.text().strip()
        lines = [self.credentials()]
        for line in self.more:
            shop, account = line.shop.text().strip(), line.account.text().strip()
            if shop or account or line.password.text():
                lines.append(Credentials(server, account, line.password.text(), shop or None))
        return lines

    def _on_add_shop_button_clicked(self) -> None:
        line = self.add_shop_line("", self.account.text().strip())
        if line is not None:
            line.shop.setFocus()

    def credentials(self) -> Credentials:
        return Credentials(self.server.text().strip(), self.account.text().strip(), self.password.text(),
                           self.shop.text().strip() or None)

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
        for line in self.more:
            line.password.clear()
        self.password.setFocus()

    def _restyle_error(self) -> None:
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)
        self.error.show()

    def _on_buttons_accepted(self) -> None:
        lines = self.all_credentials()
        credentials = lines[0]
        if not credentials.server or not credentials.account or not credentials.password:
            self.show_error(self.tr("请填写服务器、账号和密码"))
            return
        if self.one_more and not credentials.shop:
            self.show_error(self.tr("请填写店铺"))
            return
        if self.one_more:
            self.show_connecting()
            self.submitted.emit()
            return
        if len(lines) > 1:
            if any(not line.shop or not line.account or not line.password for line in lines):
                self.show_error(self.tr("登录几个店铺时，每个店铺都要填写店铺、账号和密码"))
                return
            names = [line.shop for line in lines]
            if len(set(names)) != len(names):
                self.show_error(self.tr("同一个店铺填了两次"))
                return
        self._settings.setValue("login/server", credentials.server)  # the password is never written
        self._settings.setValue("login/account", credentials.account)
        for key, value in (("login/shop", credentials.shop),
                           ("login/more_shops", [f"{line.shop}\t{line.account}" for line in lines[1:]])):
            if value:  # one shop, as before: nothing more is written
                self._settings.setValue(key, value)
            else:
                self._settings.remove(key)
        self.show_connecting()  # at once: the dialog stays up while the credentials are tried
        self.submitted.emit()
