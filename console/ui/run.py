"""Running the console: the qasync loop, login, the main window, and an orderly shutdown.

``run_console`` is what ``fenliu console`` and ``fenliu demo`` call: it owns the QApplication for
its lifetime, logs in (through the login dialog unless credentials are given), shows the window
and returns when the window closes, closing in order: the UI, then the client (with a timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import qasync
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication

from console.client.agent import AgentClient
from console.client.errors import ClientError
from console.routing.events import Status
from console.ui.app import apply_style, create_application, install_translator, wanted_language
from console.ui.backend import ConsoleState
from console.ui.bridge import ClientBackend
from console.ui.collector import MainThreadCollector
from console.ui.login import Credentials, LoginDialog
from console.ui.main_window import MainWindow
from console.ui.search_bridge import ClientSearch

LOGIN_TIMEOUT = 15.0
CLOSE_TIMEOUT = 5.0


@dataclass
class Session:
    """A logged-in console: the client, the state it feeds, and the window showing it."""

    client: AgentClient
    state: ConsoleState
    backend: ClientBackend
    window: MainWindow

    async def close(self) -> None:
        """UI first, then the client; each bounded in time."""
        self.window.close()
        await self.backend.drain(timeout=1.0)
        self.backend.detach()
        with contextlib.suppress(TimeoutError, ClientError):
            await asyncio.wait_for(self.client.close(), CLOSE_TIMEOUT)


async def log_in(credentials: Credentials, state_dir: Path, tls: ssl.SSLContext | None = None) -> AgentClient:
    """Connect and log in; a refusal or an unreachable server raises ClientError, readable.

    ``tls`` verifies a wss:// server (default: the system's certificate authorities)."""
    client = AgentClient(credentials.server, credentials.account, credentials.password, state_dir=state_dir,
                         ssl=tls)
    try:
        await client.start()
        await client.wait_online(timeout=LOGIN_TIMEOUT)
    except TimeoutError:
        await _quietly_close(client)
        raise ClientError(None, f"无法连接服务器 {credentials.server}（{LOGIN_TIMEOUT:.0f} 秒内没有应答）") from None
    except BaseException:
        await _quietly_close(client)
        raise
    return client


async def _quietly_close(client: AgentClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), CLOSE_TIMEOUT)


def open_window(client: AgentClient, settings: QSettings) -> Session:
    account = client.account
    name = account.name if account is not None else client.user
    role = account.role.value if account is not None else "agent"
    state = ConsoleState(client.user, name, role)
    backend = ClientBackend(client, state)
    window = MainWindow(state, backend, settings, time.time, search=ClientSearch(client))
    window.resize(1360, 900)
    backend.attach()
    window.show()
    return Session(client, state, backend, window)


async def _ask_credentials(settings: QSettings, server: str | None, state_dir: Path,
                           tls: ssl.SSLContext | None = None) -> AgentClient | None:
    """The login dialog, non-modal (no nested event loop): retried until it works or is cancelled."""
    dialog = LoginDialog(settings, server)
    answers: asyncio.Queue[bool] = asyncio.Queue()
    dialog.accepted.connect(lambda: answers.put_nowait(True))
    dialog.rejected.connect(lambda: answers.put_nowait(False))
    while True:
        dialog.show()
        if not await answers.get():
            return None
        try:
            client = await log_in(dialog.credentials(), state_dir, tls)
        except ClientError as exc:
            dialog.show_error(str(exc))  # say why and ask again; the password is cleared
            continue
        dialog.close()
        return client


async def _until_closed(window: QObject) -> None:
    closed = asyncio.Event()
    window.destroyed.connect(closed.set)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.lastWindowClosed.connect(closed.set)
    await closed.wait()


async def console_main(
    settings: QSettings,
    state_dir: Path,
    *,
    server: str | None = None,
    credentials: Credentials | None = None,
    go_online: bool = False,
    until: Callable[[Session], Awaitable[int]] | None = None,
    tls: ssl.SSLContext | None = None,
) -> int:
    """Log in, show the console, wait until it closes (or ``until`` returns); the exit code."""
    if credentials is not None:
        try:
            client = await log_in(credentials, state_dir, tls)
        except ClientError as exc:
            print(f"fenliu console: {exc}")
            return 1
    else:
        maybe = await _ask_credentials(settings, server, state_dir, tls)
        if maybe is None:
            return 0
        client = maybe
    session = open_window(client, settings)
    try:
        if go_online:
            await client.set_status(Status.ONLINE)
        if until is not None:
            return await until(session)
        await _until_closed(session.window)
        return 0
    finally:
        await session.close()


def run_console(
    lang: str | None,
    state_dir: Path,
    *,
    server: str | None = None,
    credentials: Credentials | None = None,
    go_online: bool = False,
    until: Callable[[Session], Awaitable[int]] | None = None,
    settings: QSettings | None = None,
    tls: ssl.SSLContext | None = None,
) -> int:
    """Create the application and run ``console_main`` on a qasync loop; returns the exit code."""
    app = create_application([])
    settings = settings or QSettings()
    apply_style(app)
    translators = install_translator(app, wanted_language(lang, settings))
    app.setQuitOnLastWindowClosed(False)  # the coroutine decides when to stop, after closing in order
    collector = MainThreadCollector(app)  # cyclic garbage with Qt objects dies on the GUI thread
    collector.start()
    try:
        return int(qasync.run(console_main(settings, state_dir, server=server, credentials=credentials,
                                           go_online=go_online, until=until, tls=tls)))
    finally:
        collector.stop()
        del translators
