"""Wiring: open the database, load and check the policy, rebuild routing, listen, shut down.

``Server`` is what ``fenliu server``, the demo and the tests start. It binds ``host:port``
(port 0 picks a free one; ``port`` tells which), serves ``/agent`` and ``/buyer``, refuses other
paths and connections past ``Limits.max_connections`` at the handshake, and on ``stop`` closes
every connection, flushes the last batch and closes the database, so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import gc
import http
import ipaddress
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from console.paths import resource
from console.protocol.codec import MAX_MESSAGE_BYTES, ProtocolError
from console.protocol.messages import ErrorCode, Role, ServerUrl
from console.routing.policy import Policy, PolicyError, load_policy_toml
from console.server.accounts import AccountError, Accounts
from console.server.agents import AgentSide, serve_agent
from console.server.bot import DEFAULT_FAQ, Bot
from console.server.buyers import BuyerSide, serve_buyer
from console.server.collector import PacedCollector
from console.server.deployment import DEFAULT_SHOP, MAX_SHOPS, Deployment, ShopError
from console.server.driver import EngineDriver
from console.server.frames import ServedConnection, ShopMoved
from console.server.hub import Hub
from console.server.images import DatabaseImageStore, ImageDesk, ImageStore
from console.server.keepalive import Keepalive
from console.server.limits import Doorway, Limits
from console.server.logins import LoginGate
from console.server.policy_log import PolicyLog
from console.server.repository.policy import Applied
from console.server.revocation import Revocations
from console.server.shop import Shop
from console.server.stalls import StallWatch
from console.server.store import (
    DatabaseError,
    FolderInUse,
    FolderLock,
    Store,
    StoreError,
    StoreFailed,
    corrupt,
    default_data_dir,
    is_fatal,
)

if TYPE_CHECKING:
    from console.server.pgstore import LockWatch

log = logging.getLogger("fenliu.server")

DEFAULT_POLICY = resource("policy.example.toml")
STOP_TIMEOUT = 5.0  # seconds to wait for connections to close after the database failed
CLOSE_TIMEOUT = 2.0  # a silent peer is given up on soon, so its grace period starts (R3.4)
STANDBY_POLL = 0.1  # seconds between looks at the shops' locks (PostgreSQL: one pg_locks query)
SHOPS_POLL = 2.0  # seconds between looks for shops added while the server runs (issue 15)
RETRY_REFUSED = 5.0  # seconds before a shop that could not be served (bad policy, no accounts) is tried again
OWNER_TTL = 1.0  # seconds a looked-up owner's address is reused (issue 15)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # loopback unless told otherwise (issue 6)
    port: int = 8765
    data_dir: Path | None = None  # None: the per-user data folder
    store: str | None = None  # a postgresql:// URL: the shop lives there (pgstore.py), not in data_dir
    standby: bool = False  # PostgreSQL: wait for shops' locks (and keep trying those others hold)
    policy_file: Path | None = None  # None: the policy in force in the data folder, else the example
    cert: Path | None = None  # TLS (wss) when both are given
    key: Path | None = None
    gateway_key: str | None = None  # required on /buyer hello when set; "" is an error
    no_gateway_key: bool = False  # beyond loopback, run without one on purpose (logged at every start)
    faq_file: Path = DEFAULT_FAQ
    limits: Limits = field(default_factory=Limits)
    synchronous: str = "FULL"  # see store.py
    ping_interval: float = 20.0  # keepalive (keepalive.py); a console that stops answering is dropped
    clock: Callable[[], float] = time.time  # the wall clock; tests move it (midnight, token expiry)
    shops: tuple[str, ...] = ()  # the shops to serve (issue 15); () every shop of the data folder (or database)
    max_shops: int = MAX_SHOPS  # at most this many; shops another server holds are left to it
    advertise: str | None = None  # PostgreSQL: where clients reach this server (None: Server.url, after binding)


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
            accounts.add(spec.id, Role(spec.role.value), password, by="fenliu demo")
            created.append(spec.id)
    if not _loop_running():
        store.flush()  # in a running loop the batch commits on the next turn
    return created


def check_advertise(url: str, *, tls: bool) -> str:
    """``--advertise``: a ``ws://`` or ``wss://`` address clients can be sent to (issue 15); a server
    serving wss must not send its clients to ws (they would refuse it: a downgrade)."""
    try:
        msgspec.convert(url, ServerUrl)
    except msgspec.ValidationError:
        raise ServerError(f"--advertise {url!r}: give the address clients reach this server at, "
                          "ws://host:port or wss://host:port (printable, no spaces, at most 512 characters)") from None
    if tls and url.startswith("ws://"):
        raise ServerError(f"--advertise {url!r}: this server serves wss (--cert): advertise a wss:// address")
    return url


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
    """No folder lock (PostgreSQL: the store holds the shop's advisory lock). ``folder``: where
    this process keeps the shop's local files (images), none of its database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def release(self) -> None:
        pass


@dataclass
class ShopHost:
    """One shop a server serves: its folder lock, store, live shop and endpoints (issue 15)."""

    name: str
    lock: FolderLock | _NoLock
    store: Store
    shop: Shop
    accounts: Accounts
    agents: AgentSide
    buyers: BuyerSide
    revocations: Revocations
    images: ImageDesk
    revocation_task: asyncio.Task[None] | None = None


class Server:
    """One running routing server: every shop of its data folder it could take (up to
    ``ServerConfig.max_shops``), each with its own store, engine, queues, KPIs and bot."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.hosts: dict[str, ShopHost] = {}
        # the first shop's, as a one-shop server always had them (None once stopped)
        self.store: Store | None = None
        self.shop: Shop | None = None
        self.revocations: Revocations | None = None
        self.logins: LoginGate | None = None
        self._ws: WsServer | None = None
        self._closed = asyncio.Event()
        self.keepalive = Keepalive(config.ping_interval, close_timeout=CLOSE_TIMEOUT)  # and the served connections' count
        self.failure: BaseException | None = None  # the database stopped taking writes
        self._standby_task: asyncio.Task[None] | None = None  # PostgreSQL --standby: takes shops that free up
        self.failed = asyncio.Event()
        self._owners: dict[str, tuple[float, str | None]] = {}  # shop -> (good until, owner's address)
        self._owner_lookup = asyncio.Lock()

    @property
    def host(self) -> ShopHost:
        """The first shop (``default`` on a one-shop folder): what one-shop callers use."""
        return next(iter(self.hosts.values()))

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
        # A start allocates the shop's whole state (the routing snapshot is millions of small
        # objects, then the log tail, the rows, the KPI book) and frees next to nothing: the
        # collector's passes over it are wasted (unpickling a 100,000-buyer engine: 0.9 s of CPU
        # with them, 0.3 s without). Paused for the start, on again after, whatever happens.
        paused = gc.isenabled()
        gc.disable()
        try:
            await self._start()
        finally:
            if paused:
                gc.enable()

    async def _start(self) -> None:
        cfg = self.config
        self._check_gateway_key()
        if cfg.advertise is not None:
            check_advertise(cfg.advertise, tls=cfg.cert is not None)
        try:
            Bot.from_file(cfg.faq_file)  # checked once, before any shop is opened
        except ValueError as exc:
            raise ServerError(str(exc)) from None
        tls = self._tls()
        deployment = Deployment(cfg.data_dir if cfg.data_dir is not None else default_data_dir())
        held: tuple[type[BaseException], ...] = (FolderInUse,)
        try:
            if cfg.store is not None:  # one schema and one advisory lock per shop (pgstore.py)
                from console.server.pgstore import ShopOwned, is_url, shop_names

                if not is_url(cfg.store):
                    raise ServerError(f"--store {cfg.store!r}: give a postgresql://user@host/database URL "
                                      "(or leave --store out to use the SQLite data folder)")
                held = (ShopOwned,)
                try:
                    names = list(cfg.shops) if cfg.shops else (shop_names(cfg.store) or [DEFAULT_SHOP])
                except StoreError as exc:
                    raise ServerError(str(exc)) from None
            else:
                names = list(cfg.shops) if cfg.shops else (deployment.names() or [DEFAULT_SHOP])
                if cfg.policy_file is not None and DEFAULT_SHOP not in names:
                    raise ServerError(f"--policy is the policy of the shop {DEFAULT_SHOP!r}, which is not served here "
                                      f"(shops: {', '.join(names)}); change another shop's policy with "
                                      "fenliu policy apply FILE --shop NAME")
                for name in names:
                    if not deployment.exists(name) and name != DEFAULT_SHOP:
                        raise ServerError(f"no shop {name!r} in {deployment.root} (add it: fenliu shops add {name} "
                                          "--policy FILE)")
        except ShopError as exc:
            raise ServerError(str(exc)) from None
        self.logins = LoginGate(cfg.limits, Accounts.verify_password)
        doorway = Doorway(cfg.limits.prelogin_per_address)
        busy: list[str] = []
        told = False
        standby = cfg.store is not None and cfg.standby
        watch: LockWatch | None = None
        try:
            candidates = names
            while True:
                # A standby listens once it has one shop and takes the others on the loop, one by one,
                # each served as soon as it is rebuilt (_stand_by): not after a pass over all of them.
                busy = self._take_shops(deployment, candidates, doorway, held, limit=1 if standby else None)
                if self.hosts or not standby:
                    break
                if not told:  # a standby with nothing to serve yet: keep trying (a stop cancels the wait)
                    log.info("standing by: %s; this server takes a shop when its owner stops", busy[0])
                    told = True
                await asyncio.sleep(STANDBY_POLL)
                if watch is None:
                    from console.server.pgstore import LockWatch

                    assert cfg.store is not None
                    watch = LockWatch(cfg.store)
                try:  # one query for the locks, then a store opened only for a shop whose lock is free
                    others = await asyncio.to_thread(watch.held, names)
                except StoreError as exc:
                    raise ServerError(str(exc)) from None
                candidates = [n for n in names if n not in others]
            if not self.hosts:
                raise ServerError(busy[0] if busy else f"no shop to serve in {deployment.root}")
        except BaseException:
            self._close_hosts()
            raise
        finally:
            if watch is not None:
                watch.close()
        self.store, self.shop, self.revocations = self.host.store, self.host.shop, self.host.revocations
        for host in self.hosts.values():
            self._serve_host(host)
        self._ws = await serve(
            self._handler,
            cfg.host,
            cfg.port,
            process_request=self._process_request,
            ssl=tls,
            # frames up to 4x the protocol limit get a typed "oversized" error and the connection
            # goes on; larger ones are cut off by the websocket layer (close code 1009).
            max_size=4 * MAX_MESSAGE_BYTES,
            # one sweep pings every connection (keepalive.py), not a task per connection
            ping_interval=None,
            create_connection=ServedConnection,
            compression=None,  # small JSON frames: compression costs more CPU than it saves
            close_timeout=CLOSE_TIMEOUT,
        )
        self.keepalive.start()
        if cfg.gateway_key is None and not _loopback(cfg.host):
            log.warning("listening on %s without a gateway key (--no-gateway-key): anyone who can reach "
                        "/buyer can speak for any buyer id", cfg.host)
        if cfg.store is not None:
            if cfg.advertise is None and cfg.host in ("", "0.0.0.0", "::"):
                log.warning("listening on every interface without --advertise: other servers send this server's "
                            "clients to %s, which they cannot reach; give --advertise wss://NAME:PORT", self.url)
            await self._record_owner(list(self.hosts))
        # shops to take over (held by others, or a standby's not taken yet), or shops that may be added (issue 15)
        if busy or not cfg.shops or (standby and len(self.hosts) < len(names)):
            self._standby_task = asyncio.get_running_loop().create_task(
                self._stand_by(deployment, names, doorway, held), name="standby")
        if cfg.store is not None:
            from console.server.pgstore import redact

            where = f"PostgreSQL {redact(cfg.store)}"
        else:
            where = f"data {deployment.root}"
        log.info("fenliu server listening on %s (%s; shops %s)", self.url, where, ", ".join(self.hosts))

    def _take_shops(self, deployment: Deployment, names: list[str], doorway: Doorway,
                    held: tuple[type[BaseException], ...], limit: int | None = None) -> list[str]:
        """Open every shop of ``names`` not served here and not held by another process, up to
        ``--max-shops`` (issue 15: processes sharing one database spread the shops), or ``limit``
        of them. Returns why each of the others is not served (held by another server)."""
        cfg = self.config
        busy: list[str] = []
        for name in names:
            if name in self.hosts:
                continue
            if limit is not None and len(self.hosts) >= limit:
                break
            if len(self.hosts) >= cfg.max_shops:
                busy.append(f"shop {name}: left to another server (--max-shops {cfg.max_shops})")
                continue
            try:
                self.hosts[name] = self._open_shop(deployment, name, doorway)
            except held as exc:  # another process serves it (issue 15: one owner per shop)
                busy.append(str(exc))
                log.debug("shop %s: served by another server", name)
        return busy

    def _serve_host(self, host: ShopHost) -> None:
        """A shop just opened starts serving: failures stop the server, revocations are watched."""
        host.store.on_failure(self._store_failed)
        if host.store.dialect == "postgresql":
            host.store.watch()  # type: ignore[attr-defined]  # a lost connection (and lock) is noticed while idle
        host.revocation_task = asyncio.get_running_loop().create_task(host.revocations.watch(),
                                                                      name=f"revocations {host.name}")

    async def _stand_by(self, deployment: Deployment, names: list[str], doorway: Doorway,
                        held: tuple[type[BaseException], ...]) -> None:
        """Take the shops this server could serve and does not, up to ``--max-shops`` (issue 15).

        On PostgreSQL: every ``STANDBY_POLL`` seconds, one look at which shops' locks are held (one
        ``pg_locks`` query on a kept connection), and the shops added since the start (the schemas,
        listed every ``SHOPS_POLL`` seconds when no ``--shop`` was named). On SQLite: every
        ``SHOPS_POLL`` seconds, the shop folders ``fenliu shops add`` made since the start. The free
        ones are taken by ``_take_one``, each served as soon as it is rebuilt, so a takeover of one
        shop does not wait for the rebuild of every other. A shop that cannot be served yet (its
        policy names agents with no account) is tried again every ``RETRY_REFUSED`` seconds, said
        once in the log."""
        cfg = self.config
        watch: LockWatch | None = None
        if cfg.store is not None:
            from console.server.pgstore import LockWatch

            watch = LockWatch(cfg.store)
        pause = STANDBY_POLL if watch is not None else SHOPS_POLL
        listed = time.monotonic()
        refused: dict[str, tuple[float, str]] = {}  # shop -> (not before, why)
        known = set(names)  # the shops there were at the start (the others were added since)
        taking: dict[str, asyncio.Task[None]] = {}  # shops being opened: the loop goes on looking meanwhile
        try:
            while self.failure is None and len(self.hosts) < cfg.max_shops:
                now = time.monotonic()
                try:
                    if not cfg.shops and now - listed >= SHOPS_POLL:
                        listed = now
                        names = await asyncio.to_thread(self._shop_names, deployment)
                    free = [n for n in names if n not in self.hosts and n not in taking
                            and refused.get(n, (0.0, ""))[0] <= now]
                    if watch is not None and free:
                        others = await asyncio.to_thread(watch.held, free)
                        free = [n for n in free if n not in others]
                except StoreError as exc:  # the database unreachable for a moment: try again
                    log.warning("looking for shops to serve: %s", exc)
                    await asyncio.sleep(pause)
                    continue
                # each free shop opened in its own task: one slow to open holds up no other, not even
                # those freed after it (--max-shops counts the ones being opened)
                for name in free[:max(0, cfg.max_shops - len(self.hosts) - len(taking))]:
                    task = asyncio.get_running_loop().create_task(
                        self._take_one(deployment, name, doorway, held, refused, known), name=f"take {name}")
                    taking[name] = task
                    task.add_done_callback(partial(_taken, taking, name))
                await asyncio.sleep(pause)
        finally:
            for task in list(taking.values()):
                task.cancel()
            if watch is not None:
                await asyncio.shield(asyncio.to_thread(watch.close))

    async def _take_one(self, deployment: Deployment, name: str, doorway: Doorway,
                         held: tuple[type[BaseException], ...], refused: dict[str, tuple[float, str]],
                         known: set[str]) -> None:
        """Take shop ``name`` (its lock was free a moment ago): open its store in a thread, then
        rebuild it on the loop, serve it, and say this server owns it (PostgreSQL)."""
        opening = asyncio.ensure_future(asyncio.to_thread(self._open_store, deployment, name))
        try:
            opened = await asyncio.shield(opening)
        except asyncio.CancelledError:  # the server stops: what the thread opens is closed
            opening.add_done_callback(_close_opened)
            raise
        except held:  # taken by another server between the look and the lock
            return
        except (ServerError, StoreError) as exc:
            self._refuse(name, exc, refused)
            return
        if self.failure is not None or len(self.hosts) >= self.config.max_shops:  # stopping, or full
            _give_back(opened)
            return
        try:
            host = self._open_shop(deployment, name, doorway, opened)
        except held:
            return
        except (ServerError, StoreError) as exc:  # cannot be served yet: said once, the others go on
            self._refuse(name, exc, refused)
            return
        refused.pop(name, None)
        self.hosts[name] = host
        if self.store is None:
            self.store, self.shop, self.revocations = host.store, host.shop, host.revocations
        self._serve_host(host)
        log.info("shop %s: %s; this server routes it now", name,
                 "taken over" if name in known else "added while this server runs")
        if self.config.store is not None:
            await self._record_owner([name])

    @staticmethod
    def _refuse(name: str, exc: BaseException, refused: dict[str, tuple[float, str]]) -> None:
        """A shop that cannot be served yet (bad policy, no accounts): said once, tried again later."""
        if refused.get(name, (0.0, ""))[1] != str(exc):
            log.error("%s (tried again every %.0f s)", exc, RETRY_REFUSED)
        refused[name] = (time.monotonic() + RETRY_REFUSED, str(exc))

    def _shop_names(self, deployment: Deployment) -> list[str]:
        """The deployment's shops now: the database's schemas, or the data folder's shop folders."""
        if self.config.store is not None:
            from console.server.pgstore import shop_names

            return shop_names(self.config.store) or [DEFAULT_SHOP]
        try:
            return deployment.names() or [DEFAULT_SHOP]
        except OSError as exc:
            raise StoreError(f"{deployment.root}: cannot list the shops: {exc}") from None

    def _open_store(self, deployment: Deployment, name: str) -> tuple[Store, FolderLock | _NoLock]:
        """Open shop ``name``'s store and take it (its advisory lock on PostgreSQL, its folder lock
        on SQLite): the part of ``_open_shop`` that waits on the database or the disk, run in a
        worker thread by the standby. ``ShopOwned`` / ``FolderInUse`` when another process has it."""
        cfg = self.config
        if cfg.store is not None:
            from console.server.pgstore import PgStore, ShopOwned

            try:
                store: Store = PgStore(cfg.store, shop=name, synchronous=cfg.synchronous, local_dir=cfg.data_dir)
            except ShopOwned:
                raise
            except StoreError as exc:
                raise ServerError(str(exc)) from None
            return store, _NoLock(store.path.parent)
        lock = FolderLock(deployment.folder(name))
        try:
            lock.acquire()  # before the database is opened: a second server touches nothing
        except FolderInUse:
            raise
        except StoreError as exc:
            raise ServerError(str(exc)) from None
        except OSError as exc:
            raise ServerError(f"the data folder {lock.folder} cannot be used ({exc.strerror}): the server "
                              "must create files in it. Make it writable by this user, or start the server with "
                              "--data pointing at a folder you can write.") from None
        try:
            store = Store.open(lock.folder, synchronous=cfg.synchronous)
        except StoreError as exc:
            lock.release()
            raise ServerError(str(exc)) from None
        except BaseException:
            lock.release()
            raise
        return store, lock

    def _open_shop(self, deployment: Deployment, name: str, doorway: Doorway,
                   opened: tuple[Store, FolderLock | _NoLock] | None = None) -> ShopHost:
        """The one place a shop's store is chosen and opened (``_open_store``: on SQLite, lock the
        shop's folder and open its file; on PostgreSQL (``--store``), open its schema, taking its
        advisory lock), unless ``opened`` already holds it. Then rebuild its routing, as one server
        of old did. ``FolderInUse`` / ``ShopOwned`` when another process holds it."""
        cfg = self.config
        faq = (deployment.faq_file(name) if cfg.store is None else None) or cfg.faq_file  # the shop's own, else the server's
        try:
            bot = Bot.from_file(faq)
        except ValueError as exc:
            if opened is not None:
                _give_back(opened)
            raise ServerError(f"shop {name}: {exc}") from None
        store, lock = opened if opened is not None else self._open_store(deployment, name)
        try:
            policies = PolicyLog(store)
            before = policies.latest()
            if cfg.store is not None:  # on PostgreSQL --policy is the policy of the shops this server serves,
                # but a shop added with its own (fenliu shops add --store) starts with that one
                from console.server.pgstore import ADDED_FAQ, ADDED_POLICY

                own_faq = store.get_meta(ADDED_FAQ)  # the shop's own FAQ, else the server's (as on SQLite)
                if own_faq is not None:
                    try:
                        bot = Bot.from_text(own_faq, f"shop {name}: its FAQ (fenliu shops add --faq)")
                    except ValueError as exc:
                        raise ServerError(str(exc)) from None
                added = store.get_meta(ADDED_POLICY) if before is None else None
                policy, policy_text, source = self._choose_policy(before, None if added else cfg.policy_file, added)
            else:
                file = cfg.policy_file if name == DEFAULT_SHOP else None
                policy, policy_text, source = self._choose_policy(before, file, deployment.policy_file(name))
            if name != DEFAULT_SHOP or (cfg.store is None and len(deployment.names()) > 1):
                source = f"shop {name}: {source}"
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
        except DatabaseError as exc:  # damage found past the header, while rebuilding
            store.abandon()
            lock.release()
            if not is_fatal(exc):
                raise
            raise ServerError(str(corrupt(store.path, exc))) from None
        except BaseException:
            store.close()
            lock.release()
            raise
        assert self.logins is not None
        # the shop's images (issue 13): in its own folder; on PostgreSQL in its schema (issue 15)
        store_of_images = DatabaseImageStore(store) if store.dialect == "postgresql" else ImageStore(lock.folder)
        try:  # images no committed message shows, older than an hour, go before anything is served
            swept = store_of_images.remove_unreferenced(shop.repo.image_hashes, time.time())
        except OSError as exc:
            log.error("%s: cannot sweep unreferenced images: %s", lock.folder, exc)
            swept = 0
        if swept:
            log.info("%s: removed %d images no message shows", lock.folder, swept)
        images = ImageDesk(store_of_images)
        agents = AgentSide(shop, accounts, cfg.limits, self.logins, doorway, images, name=name)
        buyers = BuyerSide(shop, cfg.limits, doorway, images, cfg.gateway_key)
        revocations = Revocations(store, accounts, shop.hub, shop)  # issue 10: disabled means cut off
        return ShopHost(name, lock, store, shop, accounts, agents, buyers, revocations, images)

    def shop_named(self, name: str | None, field: str = "shop") -> ShopHost:
        """The shop a login or a gateway's hello names (issue 15); None is the only one served."""
        if name is None:
            if len(self.hosts) == 1:
                return self.host
            raise ProtocolError(ErrorCode.NOT_FOUND, "this server serves several shops: name one ("
                                + ", ".join(self.hosts) + ")", field)
        host = self.hosts.get(name)
        if host is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no shop {name!r} here", field)
        return host

    async def pick(self, name: str | None) -> ShopHost:
        """``shop_named``, and on PostgreSQL, for a shop another process owns, ``ShopMoved`` with
        that process's address (issue 15: the client goes there). A shop no process owns now
        (its owner died, no standby has it yet) stays ``not_found``: the client tries later."""
        try:
            return self.shop_named(name)
        except ProtocolError:
            if name is None or self.config.store is None:
                raise
        url = await self._owner_of(name)
        if url is not None and url != self.address:
            raise ShopMoved(name, url)
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no server serves the shop {name!r} now (if it exists, its "
                            "server stopped and another takes it over within seconds): try again shortly", "shop")

    async def _owner_of(self, name: str) -> str | None:
        """The owner's address, looked up once per ``OWNER_TTL`` seconds per shop, one lookup at a
        time (a flood of logins naming shops does not open a flood of database connections)."""
        now = time.monotonic()
        known = self._owners.get(name)
        if known is not None and known[0] > now:
            return known[1]
        async with self._owner_lookup:
            known = self._owners.get(name)
            if known is not None and known[0] > time.monotonic():
                return known[1]
            from console.server.pgstore import owner_of

            assert self.config.store is not None
            try:
                url = await asyncio.to_thread(owner_of, self.config.store, name)
            except StoreError as exc:
                log.warning("%s", exc)
                url = None
            if len(self._owners) > 10_000:
                self._owners.clear()
            self._owners[name] = (time.monotonic() + OWNER_TTL, url)
            return url

    @property
    def address(self) -> str:
        """Where clients reach this server: ``--advertise``, else its own scheme, host and port."""
        return self.config.advertise or self.url

    async def _record_owner(self, names: list[str]) -> None:
        """Write this process's address as the owner of ``names`` (just taken; PostgreSQL), so that
        the other processes send those shops' clients here (issue 15)."""
        from console.server.pgstore import PgStore, record_owner

        assert self.config.store is not None
        for name in names:
            store = self.hosts[name].store
            assert isinstance(store, PgStore)
            try:
                await asyncio.to_thread(record_owner, self.config.store, name, store.backend, self.address,
                                        os.getpid(), socket.gethostname())
            except StoreError as exc:  # the shop is served; other processes answer not_found for it meanwhile
                log.error("%s", exc)

    def _choose_policy(self, stored: Applied | None, file: Path | None,
                       added: Path | str | None = None) -> tuple[Policy, str, str]:
        """Issue 10: the policy in force (the last applied, kept in the data folder) unless
        ``--policy`` names a file; then the file, saying when it replaces a different one.
        ``added``: the policy a shop was added with, for its first start (issue 15): its file on
        SQLite, its text (kept in the shop's schema) on PostgreSQL."""
        if file is None and stored is None and isinstance(added, str):
            try:
                policy = load_policy_toml(added)
            except PolicyError as exc:
                raise ServerError(f"the policy the shop was added with: {exc}") from None
            log.info("policy: the one the shop was added with (fenliu shops add)")
            return policy, added, "the policy the shop was added with"
        if file is None and stored is None and not isinstance(added, str):  # a str returned above
            file = added
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
        if len(self.keepalive) >= self.config.limits.max_connections:
            response = conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "fenliu: too many connections\n")
            response.headers["Retry-After"] = "5"
            return response
        return None

    async def _handler(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        path = conn.request.path.split("?", 1)[0]
        # counted by the sweep (not len(server.connections): that builds a set per handshake, O(n^2))
        self.keepalive.add(conn)
        try:
            if path == "/agent":
                async def agents(name: str | None) -> AgentSide:
                    return (await self.pick(name)).agents

                await serve_agent(conn, agents, self.host.agents)
            else:
                async def buyers(name: str | None) -> BuyerSide:
                    return (await self.pick(name)).buyers

                await serve_buyer(conn, buyers, self.host.buyers)
        finally:
            self.keepalive.discard(conn)

    def _store_failed(self, error: BaseException) -> None:
        """A write, commit or fsync failed: serve nothing more (fail-stop, see store.py).

        The engine, rows and sequence counters in memory may hold changes SQLite rolled back, so
        no further request may see them; ``run`` stops the server and the command exits non-zero
        for a supervisor (or a person) to start it again, from the database."""
        self.failure = error
        self.failed.set()
        if self._ws is not None:
            self._stop_batching()
            self._ws.close()  # refuses new connections and closes the open ones

    def _stop_batching(self) -> None:
        """Write what every hub has queued, and from now on at once: the close of the
        connections that follows would drop a frame still queued (hub.py)."""
        for host in self.hosts.values():
            host.shop.hub.stop_batching()

    async def stop(self) -> None:
        """Close connections, stop timers, commit the last batch, close the databases (always)."""
        try:
            self.keepalive.stop()
            if self._standby_task is not None:
                self._standby_task.cancel()
                self._standby_task = None
            for host in self.hosts.values():
                if host.revocation_task is not None:
                    host.revocation_task.cancel()
                    host.revocation_task = None
            if self._ws is not None:
                self._stop_batching()
                self._ws.close()
                if self.failure is None:
                    await self._ws.wait_closed()
                else:  # a handler may wait for a commit that will never come: do not wait for ever
                    try:
                        await asyncio.wait_for(asyncio.shield(self._ws.wait_closed()), STOP_TIMEOUT)
                    except TimeoutError:
                        log.warning("connections still open %.0f s after the failure; stopping anyway", STOP_TIMEOUT)
            for host in self.hosts.values():
                await host.agents.whatifs.stop()  # what-if children reaped, not left behind
                host.agents.charts.stop()  # the day-in-pictures worker too
            if self.logins is not None:
                self.logins.close()
            for host in self.hosts.values():
                host.images.close()
                host.agents.search.close()  # the searches' read-only connection, before the store closes
            first: BaseException | None = None
            for host in self.hosts.values():  # every shop snapshots and commits, whatever one does
                try:
                    host.shop.stop()
                except StoreFailed as exc:
                    if self.failure is None and first is None:
                        first = exc
                except Exception as exc:  # noqa: BLE001 - raised below, after the other shops
                    first = first or exc
            if first is not None:
                raise first
        finally:
            self._close_hosts()
            self._closed.set()
        log.info("fenliu server stopped")

    def _close_hosts(self) -> None:
        """Close every shop's database, then release its folder (each one, whatever fails)."""
        errors: list[BaseException] = []
        for host in self.hosts.values():
            try:
                host.store.close()
            except BaseException as exc:  # noqa: BLE001 - the other shops still close
                errors.append(exc)
            finally:
                host.lock.release()
        self.hosts = {}
        self.store = self.shop = self.revocations = None
        if errors:
            raise errors[0]

    def failure_message(self) -> str:
        assert self.failure is not None
        if self.config.store is not None:
            return (
                f"a shop's database could not be written ({self.failure}), so the server stopped routing "
                "its shops: its connection to PostgreSQL, and with it the shops' locks, may be "
                "gone, and another server may own them now. Every acknowledged message is in the database; "
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


def _taken(taking: dict[str, asyncio.Task[None]], name: str, task: asyncio.Task[None]) -> None:
    """A shop's take is over (served, refused or given up): the shop loop may look at it again."""
    taking.pop(name, None)
    if not task.cancelled() and task.exception() is not None:
        log.error("taking the shop %s failed", name, exc_info=task.exception())


def _close_opened(future: asyncio.Future[tuple[Store, FolderLock | _NoLock]]) -> None:
    """A store a worker thread opened for a takeover that was given up (the server stopping)."""
    if future.cancelled() or future.exception() is not None:
        return
    _give_back(future.result())


def _give_back(opened: tuple[Store, FolderLock | _NoLock]) -> None:
    """Close a shop's store this server opened and will not serve, and let go of its lock."""
    store, lock = opened
    try:
        store.close()
    finally:
        lock.release()


async def run(config: ServerConfig, stop: asyncio.Event) -> None:
    """Start, wait for ``stop``, shut down (the ``fenliu server`` command's body)."""
    server = Server(config)
    starting = asyncio.ensure_future(server.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([starting, stopping], return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # stopped while starting (a standby waiting for a shop): nothing opened
        starting.cancel()
        try:
            await starting
        except asyncio.CancelledError:
            return
    stopping.cancel()
    starting.result()  # a failed start raises here
    gc.freeze()  # what the start loaded lives as long as the server: the collector's full passes skip it
    collector = asyncio.ensure_future(PacedCollector().run())  # the full pass when quiet (collector.py)
    stalls = asyncio.ensure_future(StallWatch().run())  # a loop held past 50 ms is logged (stalls.py)
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(server.failed.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        collector.cancel()
        stalls.cancel()
        await server.stop()
    if server.failure is not None:
        raise ServerError(server.failure_message())


__all__ = ["AccountError", "Server", "ServerConfig", "ServerError", "ensure_demo_accounts", "read_policy", "run"]
