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
from typing import Any

import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from console.client.agent import AgentClient, ConnectionState, StateChange
from console.client.errors import ClientError
from console.protocol.messages import ErrorCode, Status
from console.ui.app import apply_style, create_application, install_translator, wanted_language
from console.ui.bridge import ClientBackend
from console.ui.collector import MainThreadCollector
from console.ui.errors import error_text
from console.ui.login import Credentials, LoginDialog
from console.ui.main_window import MainWindow
from console.ui.phrase_book import ClientPhrases
from console.ui.search_bridge import ClientSearch
from console.ui.shops_window import ShopPage, ShopsWindow
from console.ui.state import ConsoleState
from console.ui.stop_signals import SignalStop

LOGIN_TIMEOUT = 15.0
PREFERRED_SIZE = (1360, 900)
TITLE_BAR_GUESS = 32  # before the window is shown its frame is unknown
CLOSE_TIMEOUT = 5.0
BUSY_RETRIES = 4  # a login refused as "too many logins at once" is tried again, BUSY_PAUSE apart
BUSY_PAUSE = 2.0


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
        if isinstance(self.window.phrases, ClientPhrases):
            self.window.phrases.detach()
        with contextlib.suppress(TimeoutError, ClientError):
            await asyncio.wait_for(self.client.close(), CLOSE_TIMEOUT)
        await delete_window(self.window)


async def delete_window(window: QWidget) -> None:
    """Destroy a closed window by Qt, parents before children, while the application and the loop
    still run. Left to Python, a window in a reference cycle was destroyed by the last garbage
    collection after the loop had ended, wrapper by wrapper in no particular order: the room's
    pyqtgraph charts were freed twice and the supervisor console died at exit (signal 11)."""
    if not shiboken6.isValid(window):
        return
    gone = asyncio.Event()
    window.destroyed.connect(gone.set)
    window.deleteLater()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(gone.wait(), CLOSE_TIMEOUT)


async def log_in(credentials: Credentials, state_dir: Path, tls: ssl.SSLContext | None = None) -> AgentClient:
    """Connect and log in; a refusal or an unreachable server raises ClientError, readable.

    The first failed connection attempt ends it at once (issue 12, defect 3): at the login window
    an agent wants to hear that the server is down, not wait for the backoff to give up. Once
    logged in, the client retries by itself. ``tls`` verifies a wss:// server (default: the
    system's certificate authorities)."""
    client = AgentClient(credentials.server, credentials.account, credentials.password, state_dir=state_dir,
                         ssl=tls, shop=credentials.shop)
    unreachable = asyncio.Event()

    def on_state(change: StateChange) -> None:
        if change.state is ConnectionState.CONNECTING and change.error:
            unreachable.set()

    disconnect = client.state_changed.connect(on_state)
    starting = asyncio.ensure_future(client.start())
    failing = asyncio.ensure_future(unreachable.wait())
    try:
        await asyncio.wait({starting, failing}, timeout=LOGIN_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # raises the refusal (wrong password, bad certificate)
            return client
        text = QCoreApplication.translate("Login", "无法连接服务器 %1：服务器没有运行，或地址不对") if failing.done() \
            else QCoreApplication.translate("Login", "无法连接服务器 %1（%2 秒内没有应答）").replace(
                "%2", f"{LOGIN_TIMEOUT:.0f}")
        raise ClientError(None, text.replace("%1", credentials.server))
    except BaseException:
        starting.cancel()
        await _quietly_close(client)
        raise
    finally:
        failing.cancel()
        disconnect()


async def _quietly_close(client: AgentClient) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), CLOSE_TIMEOUT)


def fit_to_screen(window: QWidget, preferred: tuple[int, int] = PREFERRED_SIZE) -> None:
    """The preferred size, shrunk to the screen's free area (a 1600×1000 screen at 1.5x scaling
    has 1066×666 logical pixels, less the panels), and centred in it."""
    # Not window.screen(): PySide's return-value heuristic makes the window the owner of that
    # QScreen wrapper, and deleting the window then deletes the screen (a crash later on).
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*preferred)
        return
    free = screen.availableGeometry()
    frame = window.frameGeometry().size() - window.geometry().size()  # the title bar and borders, if known
    width = min(preferred[0], free.width() - frame.width())
    height = min(preferred[1], free.height() - max(frame.height(), TITLE_BAR_GUESS))
    window.resize(max(width, window.minimumSizeHint().width()), max(height, window.minimumSizeHint().height()))
    window.move(free.left() + max(0, (free.width() - window.width()) // 2),
                free.top() + max(0, (free.height() - window.height() - TITLE_BAR_GUESS) // 2))


def open_window(client: AgentClient, settings: QSettings, *, several_shops: bool = False) -> Session:
    account = client.account
    name = account.name if account is not None else client.user
    role = account.role.value if account is not None else "agent"
    state = ConsoleState(client.user, name, role)
    backend = ClientBackend(client, state)
    phrases = ClientPhrases(client, may_keep_team=role in ("supervisor", "main"))
    window = MainWindow(state, backend, settings, time.time, search=ClientSearch(client), phrases=phrases,
                        several_shops=several_shops)
    phrases.setParent(window)
    phrases.refresh()
    backend.attach()
    if not several_shops:
        fit_to_screen(window)
        window.show()
    return Session(client, state, backend, window)


def shop_of(client: AgentClient) -> str:
    account = client.account
    return (account.shop if account is not None and account.shop else None) or client.shop or "?"


@dataclass
class ShopsSession:
    """A console signed into several shops (issue 15): one session per shop, one window."""

    sessions: list[Session]
    window: ShopsWindow

    def add(self, client: AgentClient, settings: QSettings) -> Session:
        session = open_window(client, settings, several_shops=True)
        self.sessions.append(session)
        self.window.add_page(ShopPage(shop_of(client), session.state, session.backend, session.window))
        return session

    async def close(self) -> None:
        self.window.close()
        for session in self.sessions:
            await session.close()  # each shop's page is deleted here, then the window holding them
        await delete_window(self.window)


def open_shops(clients: list[AgentClient], settings: QSettings) -> ShopsSession:
    shops = ShopsSession([], ShopsWindow())
    for client in clients:
        shops.add(client, settings)
    fit_to_screen(shops.window)
    shops.window.show()
    return shops


async def _log_in_patiently(credentials: Credentials, state_dir: Path, tls: ssl.SSLContext | None) -> AgentClient:
    """``log_in``, tried again a few times while the server says too many logins are being
    checked at once (several shops from one address sign in together)."""
    for _ in range(BUSY_RETRIES):
        try:
            return await log_in(credentials, state_dir, tls)
        except ClientError as exc:
            if exc.code is not ErrorCode.RATE_LIMITED or "at once" not in exc.message:
                raise
        await asyncio.sleep(BUSY_PAUSE)
    return await log_in(credentials, state_dir, tls)


async def add_shop(shops: ShopsSession, settings: QSettings, state_dir: Path,
                   tls: ssl.SSLContext | None = None) -> None:
    """＋ 添加店铺: the login dialog for one more shop, then its page (a shop already signed into
    is shown instead)."""
    server = shops.sessions[0].client.url.removesuffix("/agent") if shops.sessions else None
    more = await _ask_credentials(settings, server, state_dir, tls, one_more=True)
    for client in more or []:
        signed = [page.shop for page in shops.window.pages]
        if shop_of(client) in signed:
            await _quietly_close(client)
            shops.window.switch_to(signed.index(shop_of(client)))
            continue
        shops.add(client, settings)
        shops.window.switch_to(len(shops.sessions) - 1)


async def log_in_all(lines: list[Credentials], state_dir: Path,
                     tls: ssl.SSLContext | None = None) -> list[AgentClient]:
    """Every shop of the login dialog, one after the other; all of them or none (a refusal closes
    the ones already signed in and says which shop refused)."""
    clients: list[AgentClient] = []
    try:
        for credentials in lines:
            clients.append(await _log_in_patiently(credentials, state_dir, tls))
    except ClientError as exc:
        for client in clients:
            await _quietly_close(client)
        if len(lines) > 1 and credentials.shop is not None:  # several shops: say which one refused
            raise ClientError(None, QCoreApplication.translate("Login", "店铺 %1：").replace("%1", credentials.shop)
                              + (error_text(exc) if exc.code is not None else exc.message)) from exc
        raise
    except BaseException:
        for client in clients:
            await _quietly_close(client)
        raise
    return clients


async def _ask_credentials(settings: QSettings, server: str | None, state_dir: Path,
                           tls: ssl.SSLContext | None = None, *, one_more: bool = False) -> list[AgentClient] | None:
    """The login dialog, non-modal (no nested event loop): retried until it works or is cancelled.
    ``one_more``: 添加店铺 from the shops window, a single new shop line."""
    dialog = LoginDialog(settings, server, one_more=one_more)
    answers: asyncio.Queue[bool] = asyncio.Queue()
    dialog.submitted.connect(lambda: answers.put_nowait(True))
    dialog.rejected.connect(lambda: answers.put_nowait(False))
    dialog.show()
    try:
        while True:
            if not await answers.get():
                return None
            try:
                clients = await log_in_all(dialog.all_credentials(), state_dir, tls)
            except ClientError as exc:
                # say why and ask again; the password is cleared. A refusal by the server in words
                # chosen by its code; our own (unreachable) message as it is.
                dialog.show_error(error_text(exc) if exc.code is not None else exc.message)
                continue
            dialog.accept()
            return clients
    finally:
        dialog.hide()
        dialog.deleteLater()  # by Qt's loop, not whenever the garbage collector meets the wrapper


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
    credentials: Credentials | list[Credentials] | None = None,
    go_online: bool = False,
    until: Callable[[Any], Awaitable[int]] | None = None,
    tls: ssl.SSLContext | None = None,
) -> int:
    """Log in, show the console, wait until it closes (or ``until`` returns); the exit code.

    One shop: the main window (``until`` gets the ``Session``). Several (issue 15): the shops
    window (``until`` gets the ``ShopsSession``)."""
    if credentials is not None:
        try:
            clients = await log_in_all(credentials if isinstance(credentials, list) else [credentials], state_dir, tls)
        except ClientError as exc:
            print(f"fenliu console: {exc}")
            return 1
    else:
        maybe = await _ask_credentials(settings, server, state_dir, tls)
        if maybe is None:
            return 0
        clients = maybe
    session: Session | ShopsSession
    adding: set[asyncio.Task[None]] = set()
    if len(clients) == 1:
        session = open_window(clients[0], settings)
    else:
        shops = session = open_shops(clients, settings)

        def on_add_shop_requested() -> None:
            task = asyncio.ensure_future(add_shop(shops, settings, state_dir, tls))
            adding.add(task)
            task.add_done_callback(adding.discard)

        shops.window.add_shop_requested.connect(on_add_shop_requested)
    try:
        if go_online:
            for client in clients:
                await client.set_status(Status.ONLINE)
        if until is not None:
            return await until(session)
        await _until_closed(session.window)
        return 0
    finally:
        for task in list(adding):
            task.cancel()
        await session.close()


def run_console(
    lang: str | None,
    state_dir: Path,
    *,
    server: str | None = None,
    credentials: Credentials | list[Credentials] | None = None,
    go_online: bool = False,
    until: Callable[[Any], Awaitable[int]] | None = None,
    settings: QSettings | None = None,
    tls: ssl.SSLContext | None = None,
    stopped: Callable[[], int | None] | None = None,
) -> int:
    """Create the application and run ``console_main`` on a qasync loop; returns the exit code.

    ``stopped``: the stop signal the caller received before this console's own handling was
    installed, if any (then it stops at once, as if that signal came now)."""
    app = create_application([])
    settings = settings or QSettings()
    apply_style(app)
    translators = install_translator(app, wanted_language(lang, settings))
    app.setQuitOnLastWindowClosed(False)  # the coroutine decides when to stop, after closing in order
    collector = MainThreadCollector(app)  # cyclic garbage with Qt objects dies on the GUI thread
    collector.start()

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        stop = SignalStop(task)
        with stop.installed():
            early = stopped() if stopped is not None else None
            if early is not None:
                return 128 + early
            try:
                return await console_main(settings, state_dir, server=server, credentials=credentials,
                                          go_online=go_online, until=until, tls=tls)
            except asyncio.CancelledError:
                if stop.received is None:
                    raise
                return 128 + stop.received  # stopped by a signal, everything closed in order

    try:
        return int(qasync.run(main()))
    finally:
        collector.stop()
        del translators
