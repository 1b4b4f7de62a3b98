"""The shop policy: presets (ROUTING.md §11), settings, groups and agents, validated as a whole.

A policy comes from a TOML file or from a scenario's ``shop`` object; both have the same keys.
Loading either gives a complete, immutable :class:`Policy` or raises :class:`PolicyError` whose
message starts with the key path of the first problem (``shop.queue.mode: ...``). Nothing is
half-applied: the engine only ever sees a policy that passed every check.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.routing.durations import parse_duration

T = TypeVar("T")


class PolicyError(ValueError):
    """A policy that cannot be used. ``path`` is the key path, ``problem`` the readable reason."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


class Pick(StrEnum):
    LEVEL = "level"  # R8.1
    CONVERSION = "conversion"  # R8.2
    LEAST_SATURATED = "least_saturated"  # R8.3
    EVEN_DAILY = "even_daily"  # R8.4
    RANDOM = "random"  # R8.5


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MAIN = "main"
    PROXY = "proxy"


class QueueMode(StrEnum):
    OFF = "off"
    SHOP = "shop"
    GROUPS = "groups"


class OfflineMode(StrEnum):
    MAIN = "main"
    PROXY = "proxy"
    POOL = "pool"
    LIST = "list"
    QUEUE = "queue"


ENTRIES = ("product_detail", "order_detail", "dm", "live", "after_sale", "other")
ORDER_STATES = ("none", "unpaid", "paid", "shipped", "success", "after_sale")  # R7.4, derived
ORDER_EVENTS = ("unpaid", "paid", "shipped", "success", "closed", "after_sale")  # what an order can become
DIMENSIONS = ("crowd", "product", "entry", "intent", "order")  # R7.3
PRESETS = ("taobao", "douyin", "kuaishou", "pinduoduo")

# R11: what each preset sets; everything else is shared.
PRESET_VALUES: dict[str, dict[str, Any]] = {
    "taobao": {"recent.any_status": "24h", "recent.window": "72h", "recent.respect_cap": True,
               "pick": "level", "queue.mode": "off", "offline.mode": "pool"},
    "douyin": {"recent.any_status": 0, "recent.window": "48h", "recent.respect_cap": True,
               "pick": "least_saturated", "queue.mode": "shop", "offline.mode": "pool"},
    "kuaishou": {"recent.any_status": 0, "recent.window": "72h", "recent.respect_cap": False,
                 "pick": "even_daily", "queue.mode": "shop", "offline.mode": "queue"},
    "pinduoduo": {"recent.any_status": 0, "recent.window": "72h", "recent.respect_cap": False,
                  "pick": "random", "queue.mode": "off", "offline.mode": "list"},
}

DEFAULTS: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "seed": 0,
    "recent": {"same_group_first": True},
    "exclusive": {"direct": False},
    "bot": {"shop_first": False, "handoff_words": ["人工", "转人工"], "assist": False},
    "offline": {"main": None, "proxy": None, "agents": []},
    "session": {"close_after": "10m"},
    "queue": {"groups": [], "avg_handle": "3m", "repeat_window": "30m", "tip_threshold": 20,
              "overflow": False, "tip_text": "排队中，您前面还有 {ahead} 位", "busy_text": "咨询人数较多，请耐心等待"},
    "matching": {"order": list(DIMENSIONS), "after_sale_window": "3d"},
    "reroute_on_offline": True,
    "disconnect_grace": "60s",
}

DEFAULT_GROUP_CAP = 10


@dataclass(frozen=True, slots=True)
class RecentPolicy:
    any_status: float  # R4.1
    window: float  # R4.2
    respect_cap: bool  # R4.5
    same_group_first: bool  # R4.3


@dataclass(frozen=True, slots=True)
class BotPolicy:
    shop_first: bool  # R7.2
    handoff_words: tuple[str, ...]  # R7.7
    assist: bool = False  # 店小蜜 辅助: the bot answers FAQ questions inside an agent's session (issue 12)


@dataclass(frozen=True, slots=True)
class OfflinePolicy:
    mode: OfflineMode  # R6.1
    main: str | None
    proxy: str | None
    agents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    mode: QueueMode  # R10.1
    groups: tuple[str, ...]
    avg_handle: float  # R10.4
    repeat_window: float  # R5
    tip_threshold: int  # R10.5
    overflow: bool  # R10.6
    tip_text: str
    busy_text: str


@dataclass(frozen=True, slots=True)
class GroupSpec:
    id: str
    name: str
    pick: Pick
    bot: bool
    cap: int
    crowd: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentSpec:
    id: str
    name: str
    role: Role
    level: int
    groups: tuple[str, ...]
    cap: int
    routable: bool


@dataclass(frozen=True, slots=True)
class Policy:
    preset: str
    timezone: str
    seed: int
    pick: Pick
    recent: RecentPolicy
    exclusive_direct: bool  # R7.1
    bot: BotPolicy
    offline: OfflinePolicy
    close_after: float  # R9.2
    queue: QueuePolicy
    matching_order: tuple[str, ...]  # R7.3
    after_sale_window: float  # R7.4
    reroute_on_offline: bool  # R3.3
    disconnect_grace: float  # R3.4
    groups: tuple[GroupSpec, ...]
    agents: tuple[AgentSpec, ...]
    questions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # R7.5 entry menus
    overridden: tuple[str, ...] = ()  # key paths set by the file rather than by the preset

    def group(self, group_id: str) -> GroupSpec:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def agent(self, agent_id: str) -> AgentSpec:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(agent_id)

    def queuing_group_ids(self) -> tuple[str, ...]:
        """R10.1: the groups whose buyers queue, in policy order (never a set: its iteration
        order changes with the hash seed, and replay must not, R8.7)."""
        if self.queue.mode is QueueMode.SHOP:
            return tuple(g.id for g in self.groups)
        if self.queue.mode is QueueMode.GROUPS:
            listed = set(self.queue.groups)
            return tuple(g.id for g in self.groups if g.id in listed)
        return ()

    def entry_questions(self, entry: str) -> tuple[str, ...]:
        """R7.5: the question menu for an entry: the ``questions`` table, else the groups' bindings."""
        if entry in self.questions:
            return self.questions[entry]
        seen: dict[str, None] = {}
        for group in self.groups:
            for binding in group.entries:
                name, _, question = binding.partition(":")
                if name == entry and question:
                    seen.setdefault(question, None)
        return tuple(seen)


# ---------------------------------------------------------------------------------------------
# Loading


class _Reader:
    """Reads one mapping strictly: every key must be used, unknown keys are errors."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise PolicyError(path, f"expected a table of settings, got {_kind(data)}")
        self.data: Mapping[str, Any] = data
        self.path = path
        self.used: set[str] = set()

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, default: object, convert: Callable[[object, str], T]) -> T:
        self.used.add(key)
        value = self.data.get(key, default)
        return convert(value, self.sub(key))

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                raise PolicyError(self.sub(str(key)), "unknown key")


def _kind(value: object) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "nothing"}.get(type(value), type(value).__name__)


def _duration(value: object, path: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PolicyError(path, str(exc)) from None


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(path, f"expected true or false, got {value!r}")
    return value


def _int(low: int, high: int | None = None) -> Callable[[object, str], int]:
    def convert(value: object, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(path, f"expected a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise PolicyError(path, f"{value} is out of range ({bound})")
        return value
    return convert


def _str(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise PolicyError(path, f"expected a non-empty string, got {value!r}")
    return value


def _opt_str(value: object, path: str) -> str | None:
    return None if value is None else _str(value, path)


def _choice(options: Sequence[str]) -> Callable[[object, str], str]:
    def convert(value: object, path: str) -> str:
        if value not in options:
            raise PolicyError(path, f"unknown value {value!r} (one of: {', '.join(options)})")
        return str(value)
    return convert


def _str_list(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise PolicyError(path, f"expected a list of strings, got {_kind(value)}")
    return tuple(_str(item, f"{path}[{i}]") for i, item in enumerate(value))


def _choice_list(options: Sequence[str]) -> Callable[[object, str], tuple[str, ...]]:
    pick_one = _choice(options)

    def convert(value: object, path: str) -> tuple[str, ...]:
        items = _str_list(value, path)
        return tuple(pick_one(item, f"{path}[{i}]") for i, item in enumerate(items))
    return convert


def _entries(value: object, path: str) -> tuple[str, ...]:
    items = _str_list(value, path)
    for i, item in enumerate(items):  # R7.5: ENTRY or ENTRY:QUESTION
        entry, _, _question = item.partition(":")
        if entry not in ENTRIES:
            raise PolicyError(f"{path}[{i}]", f"unknown entry {entry!r} (one of: {', '.join(ENTRIES)})")
    return items


def _unique_ids(items: Sequence[Any], path: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise PolicyError(f"{path}[{i}].id", f"duplicate id {item.id!r}")
        seen.add(item.id)


def _merged(section: str, data: Mapping[str, Any], preset: str) -> dict[str, Any]:
    """Defaults, then the preset's values, then the file's values, for one settings table."""
    merged: dict[str, Any] = dict(DEFAULTS.get(section, {}))
    for key, value in PRESET_VALUES[preset].items():
        head, _, tail = key.partition(".")
        if head == section and tail:
            merged[tail] = value
    given = data.get(section, {})
    if isinstance(given, Mapping):
        merged.update(given)
        return merged
    return given  # type: ignore[no-any-return]  # not a table: _Reader reports it


def load_policy_dict(data: object, root: str = "") -> Policy:
    """Build a policy from the mapping a TOML file or a scenario's ``shop`` object holds.

    ``root`` is the key path prefix used in error messages (``"shop"`` for scenarios).
    """
    top = _Reader(data, root)
    preset = top.get("preset", "taobao", _choice(PRESETS))
    raw = top.data
    overridden: list[str] = []

    def table(section: str) -> _Reader:
        """One settings table: defaults, the preset's values, then the file's (noted as overrides)."""
        top.used.add(section)
        given = raw.get(section)
        if isinstance(given, Mapping):
            overridden.extend(f"{section}.{key}" for key in given)
        return _Reader(_merged(section, raw, preset), top.sub(section))

    timezone = top.get("timezone", DEFAULTS["timezone"], _str)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(top.sub("timezone"), f"unknown time zone {timezone!r}") from None
    seed = top.get("seed", DEFAULTS["seed"], _int(0))
    pick = Pick(top.get("pick", PRESET_VALUES[preset]["pick"], _choice(tuple(Pick))))
    overridden.extend(key for key in ("timezone", "seed", "pick") if key in raw)

    r = table("recent")
    recent = RecentPolicy(
        any_status=r.get("any_status", None, _duration),
        window=r.get("window", None, _duration),
        respect_cap=r.get("respect_cap", None, _bool),
        same_group_first=r.get("same_group_first", None, _bool),
    )
    r.finish()

    e = table("exclusive")
    exclusive_direct = e.get("direct", None, _bool)
    e.finish()

    b = table("bot")
    bot = BotPolicy(shop_first=b.get("shop_first", None, _bool), handoff_words=b.get("handoff_words", None, _str_list),
                    assist=b.get("assist", None, _bool))
    b.finish()

    s = table("session")
    close_after = s.get("close_after", None, _duration)
    s.finish()

    m = table("matching")
    matching_order = m.get("order", None, _choice_list(DIMENSIONS))
    if len(set(matching_order)) != len(matching_order):
        raise PolicyError(m.sub("order"), "a dimension is listed twice")
    after_sale_window = m.get("after_sale_window", None, _duration)
    m.finish()

    reroute_on_offline = top.get("reroute_on_offline", DEFAULTS["reroute_on_offline"], _bool)
    disconnect_grace = top.get("disconnect_grace", DEFAULTS["disconnect_grace"], _duration)
    overridden.extend(key for key in ("reroute_on_offline", "disconnect_grace") if key in raw)

    groups = _load_groups(top, pick)
    group_ids = {g.id for g in groups}
    agents = _load_agents(top, groups)
    agent_ids = {a.id for a in agents}

    q = table("queue")
    queue = QueuePolicy(
        mode=QueueMode(q.get("mode", None, _choice(tuple(QueueMode)))),
        groups=q.get("groups", None, _str_list),
        avg_handle=q.get("avg_handle", None, _duration),
        repeat_window=q.get("repeat_window", None, _duration),
        tip_threshold=q.get("tip_threshold", None, _int(0)),
        overflow=q.get("overflow", None, _bool),
        tip_text=q.get("tip_text", None, _str),
        busy_text=q.get("busy_text", None, _str),
    )
    q.finish()
    for i, gid in enumerate(queue.groups):
        if gid not in group_ids:
            raise PolicyError(f"{q.sub('groups')}[{i}]", f"unknown group {gid!r}")

    o = table("offline")
    offline = OfflinePolicy(
        mode=OfflineMode(o.get("mode", None, _choice(tuple(OfflineMode)))),
        main=o.get("main", None, _opt_str),
        proxy=o.get("proxy", None, _opt_str),
        agents=o.get("agents", None, _str_list),
    )
    o.finish()
    offline = _check_offline(offline, agents, agent_ids, o)

    questions = _load_questions(top)
    top.finish()
    return Policy(
        preset=preset, timezone=timezone, seed=seed, pick=pick, recent=recent,
        exclusive_direct=exclusive_direct, bot=bot, offline=offline, close_after=close_after,
        queue=queue, matching_order=matching_order, after_sale_window=after_sale_window,
        reroute_on_offline=reroute_on_offline, disconnect_grace=disconnect_grace,
        groups=groups, agents=agents, questions=questions, overridden=tuple(overridden),
    )


def _load_groups(top: _Reader, shop_pick: Pick) -> tuple[GroupSpec, ...]:
    items = top.get("groups", [], lambda v, p: v)
    path = top.sub("groups")
    if not isinstance(items, list | tuple):
        raise PolicyError(path, f"expected a list of groups, got {_kind(items)}")
    groups = []
    for i, item in enumerate(items):
        g = _Reader(item, f"{path}[{i}]")
        gid = g.get("id", None, _str)
        groups.append(GroupSpec(
            id=gid,
            name=g.get("name", gid, _str),
            pick=Pick(g.get("pick", shop_pick.value, _choice(tuple(Pick)))),
            bot=g.get("bot", False, _bool),
            cap=g.get("cap", DEFAULT_GROUP_CAP, _int(1)),
            crowd=g.get("crowd", [], _str_list),
            products=g.get("products", [], _str_list),
            entries=g.get("entries", [], _entries),
            intents=g.get("intents", [], _str_list),
            orders=g.get("orders", [], _choice_list(ORDER_STATES)),
        ))
        g.finish()
    _unique_ids(groups, path)
    return tuple(groups)


def _load_agents(top: _Reader, groups: tuple[GroupSpec, ...]) -> tuple[AgentSpec, ...]:
    caps = {g.id: g.cap for g in groups}
    items = top.get("agents", None, lambda v, p: v)
    path = top.sub("agents")
    if items is None:
        raise PolicyError(path, "missing: a policy names its agents")
    if not isinstance(items, list | tuple):
        raise PolicyError(path, f"expected a list of agents, got {_kind(items)}")
    agents = []
    for i, item in enumerate(items):
        a = _Reader(item, f"{path}[{i}]")
        aid = a.get("id", None, _str)
        role = Role(a.get("role", "agent", _choice(tuple(Role))))
        member_of = a.get("groups", [], _str_list)
        for j, gid in enumerate(member_of):
            if gid not in caps:
                raise PolicyError(f"{a.sub('groups')}[{j}]", f"unknown group {gid!r}")
            if gid in member_of[:j]:  # SCENARIOS.md: it would count the cap twice in R10.4's slots
                raise PolicyError(f"{a.sub('groups')}[{j}]", f"group {gid!r} is listed twice")
        default_cap = max((caps[gid] for gid in member_of), default=DEFAULT_GROUP_CAP)
        agents.append(AgentSpec(
            id=aid,
            name=a.get("name", aid, _str),
            role=role,
            level=a.get("level", 3, _int(1, 5)),
            groups=member_of,
            cap=a.get("cap", default_cap, _int(1)),
            routable=a.get("routable", role is Role.AGENT, _bool),
        ))
        a.finish()
    _unique_ids(agents, path)
    return tuple(agents)


def _check_offline(offline: OfflinePolicy, agents: tuple[AgentSpec, ...], agent_ids: set[str],
                   reader: _Reader) -> OfflinePolicy:
    """R6.1: the named accounts exist; main/proxy mode needs its account (default: first of the role)."""
    for key in ("main", "proxy"):
        named = getattr(offline, key)
        if named is not None and named not in agent_ids:
            raise PolicyError(reader.sub(key), f"unknown agent {named!r}")
    for i, aid in enumerate(offline.agents):
        if aid not in agent_ids:
            raise PolicyError(f"{reader.sub('agents')}[{i}]", f"unknown agent {aid!r}")
    main = offline.main or next((a.id for a in agents if a.role is Role.MAIN), None)
    proxy = offline.proxy or next((a.id for a in agents if a.role is Role.PROXY), None)
    if offline.mode is OfflineMode.MAIN and main is None:
        raise PolicyError(reader.sub("main"), "offline mode 'main' needs a main account (none named, none with role main)")
    if offline.mode is OfflineMode.PROXY and proxy is None:
        raise PolicyError(reader.sub("proxy"), "offline mode 'proxy' needs a proxy account (none named, none with role proxy)")
    return OfflinePolicy(mode=offline.mode, main=main, proxy=proxy, agents=offline.agents)


def _load_questions(top: _Reader) -> dict[str, tuple[str, ...]]:
    table = top.get("questions", {}, lambda v, p: v)
    path = top.sub("questions")
    if not isinstance(table, Mapping):
        raise PolicyError(path, f"expected a table of entry = [questions], got {_kind(table)}")
    menus = {}
    for entry, questions in table.items():
        if entry not in ENTRIES:
            raise PolicyError(f"{path}.{entry}", f"unknown entry (one of: {', '.join(ENTRIES)})")
        menus[str(entry)] = _str_list(questions, f"{path}.{entry}")
    return menus


def load_policy_toml(text: str, root: str = "") -> Policy:
    """Parse TOML text and build the policy; TOML syntax errors become a PolicyError too."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(root, f"not valid TOML: {exc}") from None
    return load_policy_dict(data, root)

