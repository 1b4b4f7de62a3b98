"""Wiring: open the database, load and check the policy, rebuild routing, listen, shut down.

``Server`` is what ``fenliu server``, the demo and the tests start. It binds ``host:port``
(port 0 picks a free one; ``port`` tells which), serves ``/agent`` and ``/buyer``, refuses other
paths and connections past ``Limits.max_connections`` at the handshake, and on ``stop`` closes
every connection, flushes the last batch and closes the database, so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import http
import ipaddress
import logging
import sqlite3
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from console.paths import resource
from console.protocol.codec import MAX_MESSAGE_BYTES
from console.protocol.messages import Role
from console.routing.policy import Policy, PolicyError, load_policy_toml
from console.server.accounts import AccountError, Accounts
from console.server.agents import AgentSide
from console.server.bot import DEFAULT_FAQ, Bot
from console.server.buyers import BuyerSide
from console.server.driver import EngineDriver
from console.server.hub import Hub
from console.server.limits import Doorway, Limits
from console.server.logins import LoginGate
from console.server.policy_log import Applied, PolicyLog
from console.server.revocation import Revocations
from console.server.shop import Shop
from console.server.store import (
    FolderLock,
    Store,
    StoreError,
    StoreFailed,
    corrupt,
    default_data_dir,
    is_fatal,
)

log = logging.getLogger("fenliu.server")

DEFAULT_POLICY = resource("policy.example.toml")
STOP_TIMEOUT = 5.0  # seconds to wait for connections to close after the database failed
STANDBY_POLL = 0.25  # seconds between a standby's tries of its shop's lock (PostgreSQL)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # loopback unless told otherwise (issue 6)
    port: int = 8765
    data_dir: Path | None = None  # None: the per-user data folder
    store: str | None = None  # a postgresql:// URL: the shop lives there (pgstore.py), not in data_dir
    shop: str = "default"  # the shop's name on PostgreSQL (its schema is shop_<name>)
    standby: bool = False  # PostgreSQL: wait for the shop's lock instead of refusing to start
    policy_file: Path | None = None  # None: the policy in force in the data folder, else the example
    cert: Path | None = None  # TLS (wss) when both are given
    key: Path | None = None
    gateway_key: str | None = None  # required on /buyer hello when set; "" is an error
    no_gateway_key: bool = False  # beyond loopback, run without one on purpose (logged at every start)
    faq_file: Path = DEFAULT_FAQ
    limits: Limits = field(default_factory=Limits)
    synchronous: str = "FULL"  # see store.py
    ping_interval: float = 20.0  # keepalive; a console that stops answering is dropped
    clock: Callable[[], float] = time.time  # the wall clock; tests move it (midnight, token expiry)


class ServerError(Exception):
    """The server cannot start (bad policy, unknown accounts, unreadable files)."""


def read_policy(path: Path | None) -> tuple[Policy, str]:
    file = path or DEFAULT_POLICY
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ServerError(f"cannot read policy file {file}: {exc}") from None
    try:
        return load_policy_toml(text), text
    except PolicyError as exc:
        raise ServerError(f"{file}: {exc}") from None


def ensure_demo_accounts(store: Store, policy: Policy, password: str) -> list[str]:
    """Create an account for every agent of ``policy`` that has none (demo and tests only).

    Returns the ids created. The role is the policy's (agent, supervisor, main, proxy).
    """
    accounts = Accounts(store)
    created = []
    for spec in policy.agents:
        if accounts.get(spec.id) is None:
            accounts.add(spec.id, Role(spec.role.value), password)
            created.append(spec.id)
    if not _loop_running():
        store.flush()  # in a running loop the batch commits on the next turn
    return created


def _when(at: float) -> str:
    return datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name or "" (every interface)
        return False


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _NoLock:
    """No folder lock (PostgreSQL: the store holds the shop's advisory lock)."""

    def release(self) -> None:
        pass


class Server:
    """One running routing server."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store: Store | None = None
        self.shop: Shop | None = None
        self.logins: LoginGate | None = None
        self.revocations: Revocations | None = None
        self._revocation_task: asyncio.Task[None] | None = None
        self._ws: WsServer | None = None
        self._closed = asyncio.Event()
        self._open = 0  # connections being served
        self.failure: BaseException | None = None  # the database stopped taking writes
        self._lock: FolderLock | _NoLock | None = None
        self.failed = asyncio.Event()

    @property
    def port(self) -> int:
        assert self._ws is not None
        return int(self._ws.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "wss" if self.config.cert else "ws"
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        cfg = self.config
        self._check_gateway_key()
        try:
            bot = Bot.from_file(cfg.faq_file)
        except ValueError as exc:
            raise ServerError(str(exc)) from None
        tls = self._tls()
        lock: FolderLock | _NoLock
        if cfg.store is not None:
            lock = _NoLock()  # PostgreSQL: the shop's advisory lock, taken by the store, says who routes it
            store = await self._open_pg(cfg)
        else:
            lock = folder_lock = FolderLock(cfg.data_dir if cfg.data_dir is not None else default_data_dir())
            try:
                folder_lock.acquire()  # before the database is opened: a second server touches nothing
            except StoreError as exc:
                raise ServerError(str(exc)) from None
            except OSError as exc:
                raise ServerError(f"the data folder {folder_lock.folder} cannot be used ({exc.strerror}): the server must "
                                  "create files in it. Make it writable by this user, or start the server with "
                                  "--data pointing at a folder you can write.") from None
            try:
                store = Store.open(folder_lock.folder, synchronous=cfg.synchronous)
            except StoreError as exc:
                lock.release()
                raise ServerError(str(exc)) from None
            except BaseException:
                lock.release()
                raise
        self._lock = lock
        try:
            policies = PolicyLog(store)
            before = policies.latest()
            policy, policy_text, source = self._choose_policy(before)
            accounts = Accounts(store)
            try:
                accounts.check_policy(policy)
            except PolicyError as exc:
                raise ServerError(f"{source}: {exc}") from None
            hub = Hub(store)
            shop = Shop(store, hub, EngineDriver(store, clock=cfg.clock), bot)
            try:
                shop.start(policy, policy_text)
            except PolicyError as exc:  # e.g. the new file drops an agent that holds sessions
                raise ServerError(f"{source}: {exc}") from None
            after = policies.latest()
            if after is not None and (before is None or after.seq != before.seq):
                policies.record_latest(by="fenliu server", source=source)
            store.flush()
        except StoreError as exc:  # e.g. no usable snapshot for a pruned engine log
            store.abandon()
            lock.release()
            raise ServerError(str(exc)) from None
        except sqlite3.DatabaseError as exc:  # damage found past the header, while rebuilding
            store.abandon()
            lock.release()
            if not is_fatal(exc):
                raise
            raise ServerError(str(corrupt(store.path, exc))) from None
        except BaseException:
            store.close()
            lock.release()
            raise
        self.store, self.shop = store, shop
        store.on_failure(self._store_failed)
        if store.dialect == "postgresql":
            store.watch()  # type: ignore[attr-defined]  # a lost connection (and lock) is noticed while idle
        self.logins = LoginGate(cfg.limits, Accounts.verify_password)
        doorway = Doorway(cfg.limits.prelogin_per_address)
        self._agents = AgentSide(shop, accounts, cfg.limits, self.logins, doorway)
        self._buyers = BuyerSide(shop, cfg.limits, doorway, cfg.gateway_key)
        self.revocations = Revocations(store, accounts, shop.hub, shop)  # issue 10: disabled means cut off
        self._revocation_task = asyncio.get_running_loop().create_task(self.revocations.watch(), name="revocations")
        self._ws = await serve(
            self._handler,
            cfg.host,
            cfg.port,
            process_request=self._process_request,
            ssl=tls,
            # frames up to 4x the protocol limit get a typed "oversized" error and the connection
            # goes on; larger ones are cut off by the websocket layer (close code 1009).
            max_size=4 * MAX_MESSAGE_BYTES,
            ping_interval=cfg.ping_interval,
            ping_timeout=cfg.ping_interval,
            compression=None,  # small JSON frames: compression costs more CPU than it saves
            close_timeout=2.0,  # a silent peer is given up on soon, so its grace period starts (R3.4)
        )
        if cfg.gateway_key is None and not _loopback(cfg.host):
            log.warning("listening on %s without a gateway key (--no-gateway-key): anyone who can reach "
                        "/buyer can speak for any buyer id", cfg.host)
        log.info("fenliu server listening on %s (data %s)", self.url,
                 store.where if store.dialect == "postgresql" else store.path.parent)  # type: ignore[attr-defined]

    @staticmethod
    async def _open_pg(cfg: ServerConfig) -> Store:
        """The shop's store on PostgreSQL, its lock taken. A standby tries the lock every
        ``STANDBY_POLL`` seconds (on the loop, so a stop interrupts the wait)."""
        from console.server.pgstore import PgStore, ShopOwned, is_url

        assert cfg.store is not None
        if not is_url(cfg.store):
            raise ServerError(f"--store {cfg.store!r}: give a postgresql://user@host/database URL "
                              "(or leave --store out to use the SQLite data folder)")
        told = False
        while True:
            try:
                return PgStore(cfg.store, shop=cfg.shop, synchronous=cfg.synchronous, local_dir=cfg.data_dir)
            except ShopOwned as exc:
                if not cfg.standby:
                    raise ServerError(str(exc)) from None
                if not told:
                    log.info("standing by: %s; this server takes the shop when that one stops", exc.holder_text)
                    told = True
                await asyncio.sleep(STANDBY_POLL)  # a stop (SIGTERM, Ctrl+C) cancels the wait here
            except StoreError as exc:
                raise ServerError(str(exc)) from None

    def _choose_policy(self, stored: Applied | None) -> tuple[Policy, str, str]:
        """Issue 10: the policy in force (the last applied, kept in the data folder) unless
        ``--policy`` names a file; then the file, saying when it replaces a different one."""
        file = self.config.policy_file
        if file is None and stored is not None:
            try:
                policy = load_policy_toml(stored.text)
            except PolicyError as exc:
                raise ServerError(f"the policy in force in the data folder: {exc}") from None
            log.info("policy: the one in force in the data folder (%s), applied %s by %s; --policy FILE "
                     "replaces it", stored.digest, _when(stored.at), stored.by or "?")
            return policy, stored.text, "the data folder"
        policy, text = read_policy(file)
        source = str(file or DEFAULT_POLICY)
        if stored is not None and stored.text != text:
            log.warning("policy: %s (given with --policy) replaces the one in force (%s), applied %s by %s",
                        source, stored.digest, _when(stored.at), stored.by or "?")
        else:
            log.info("policy: %s", source)
        return policy, text, source

    def _check_gateway_key(self) -> None:
        """Issue 10: an empty key is a mistake, not "no key"; beyond loopback a key is needed
        unless ``no_gateway_key`` says the operator means it."""
        cfg = self.config
        if cfg.gateway_key is not None and not cfg.gateway_key:
            raise ServerError("the gateway key (FENLIU_GATEWAY_KEY) is empty: set a key, or unset the variable")
        if cfg.gateway_key is None and not cfg.no_gateway_key and not _loopback(cfg.host):
            raise ServerError(f"listening on {cfg.host} needs a gateway key (FENLIU_GATEWAY_KEY), or "
                              "--no-gateway-key to let anyone who reaches /buyer speak for any buyer")

    def _tls(self) -> ssl.SSLContext | None:
        cfg = self.config
        if cfg.cert is None and cfg.key is None:
            return None
        if cfg.cert is None or cfg.key is None:
            raise ServerError("--cert and --key go together")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(cfg.cert, cfg.key)
        except (OSError, ssl.SSLError) as exc:
            raise ServerError(f"cannot load TLS certificate: {exc}") from None
        return context

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path not in ("/agent", "/buyer"):
            return conn.respond(http.HTTPStatus.NOT_FOUND, "fenliu: connect to /agent or /buyer\n")
        assert self._ws is not None
        if self._open >= self.config.limits.max_connections:
            response = conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "fenliu: too many connections\n")
            response.headers["Retry-After"] = "5"
            return response
        return None

    async def _handler(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        path = conn.request.path.split("?", 1)[0]
        self._open += 1  # counted here: len(server.connections) builds a set per handshake (O(n^2))
        try:
            if path == "/agent":
                await self._agents.serve(conn)
            else:
                await self._buyers.serve(conn)
        finally:
            self._open -= 1

    def _store_failed(self, error: BaseException) -> None:
        """A write, commit or fsync failed: serve nothing more (fail-stop, see store.py).

        The engine, rows and sequence counters in memory may hold changes SQLite rolled back, so
        no further request may see them; ``run`` stops the server and the command exits non-zero
        for a supervisor (or a person) to start it again, from the database."""
        self.failure = error
        self.failed.set()
        if self._ws is not None:
            self._ws.close()  # refuses new connections and closes the open ones

    async def stop(self) -> None:
        """Close connections, stop timers, commit the last batch, close the database (always)."""
        try:
            if self._revocation_task is not None:
                self._revocation_task.cancel()
                self._revocation_task = None
            if self._ws is not None:
                self._ws.close()
                if self.failure is None:
                    await self._ws.wait_closed()
                else:  # a handler may wait for a commit that will never come: do not wait for ever
                    try:
                        await asyncio.wait_for(asyncio.shield(self._ws.wait_closed()), STOP_TIMEOUT)
                    except TimeoutError:
                        log.warning("connections still open %.0f s after the failure; stopping anyway", STOP_TIMEOUT)
            if self.logins is not None:
                self.logins.close()
            if self.shop is not None:
                try:
                    self.shop.stop()
                except StoreFailed:
                    if self.failure is None:
                        raise
        finally:
            try:
                if self.store is not None:
                    self.store.close()
                    self.store = None
            finally:
                if self._lock is not None:
                    self._lock.release()
                    self._lock = None
                self._closed.set()
        log.info("fenliu server stopped")

    def failure_message(self) -> str:
        assert self.failure is not None
        if self.config.store is not None:
            return (
                f"the shop's database could not be written ({self.failure}), so the server stopped routing "
                f"shop {self.config.shop!r}: its connection to PostgreSQL, and with it the shop's lock, may be "
                "gone, and another server may own the shop now. Every acknowledged message is in the database; "
                "the request that hit the failure was not acknowledged and left nothing behind. Start `fenliu "
                "server` again (with --standby if another server took the shop): it rebuilds routing from the "
                "database. Run it under a supervisor (systemd Restart=always) to have that done automatically."
            )
        return (
            f"the database could not be written ({self.failure}), so the server stopped: it never "
            "serves ahead of what is on disk. Every acknowledged message is in the database; the "
            "request that hit the failure was not acknowledged and left nothing behind. Free disk "
            "space (or repair the disk) and start `fenliu server` again with the same --data: it "
            "rebuilds routing from the database. Run it under a supervisor (systemd "
            "Restart=on-failure) to have that done automatically."
        )


async def run(config: ServerConfig, stop: asyncio.Event) -> None:
    """Start, wait for ``stop``, shut down (the ``fenliu server`` command's body)."""
    server = Server(config)
    starting = asyncio.ensure_future(server.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([starting, stopping], return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # stopped while starting (a standby waiting for its shop): nothing opened
        starting.cancel()
        try:
            await starting
        except asyncio.CancelledError:
            return
    stopping.cancel()
    starting.result()  # a failed start raises here
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(server.failed.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await server.stop()
    if server.failure is not None:
        raise ServerError(server.failure_message())


__all__ = ["AccountError", "Server", "ServerConfig", "ServerError", "ensure_demo_accounts", "read_policy", "run"]
