"""Realistic buyer traffic on the buyer side of the protocol (``fenliu sim``), bounded and seeded.

Two halves, as everywhere in Fenliu:

- ``plan_traffic(config)`` is pure: from the seed alone it draws every visit of the run (who
  arrives when, from which entry, about which product, what they write and when, whether they
  order and pay, how they rate). The same seed gives the same plan, visit for visit.
- ``run_traffic(config)`` plays a plan against a server: one ``BuyerClient`` connection per
  visit, each step at its planned offset, and counts what happened (``TrafficReport``). It stops
  by itself: no visit starts after ``duration``, no step is taken after ``duration``, visits
  still busy ``grace`` seconds later are cancelled, and at most ``max_visits`` visits are made.

Arrivals are a Poisson process of ``rate`` arrivals **per minute** (a shop's figure: 30 per minute
is a busy afternoon for a small team). Some visits are returning buyers (a buyer who wrote before
comes back, R4 recent contacts), some come from platform staff (小二) or group chats, and one in
a while a consumer nicknamed "平台小二": the server decides who is who from its own account data
(``fenliu accounts buyer ID --kind staff``), never from the name, so the simulator only uses
ids the operator declared (``staff_ids``, ``group_ids``; ``fenliu sim --data`` declares them).

Only loopback servers are accepted: this is a load generator, not a tool to point elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from console.client import BuyerClient, BuyerPushed, ClientError
from console.protocol.messages import AgentMessage, Author, Entry, OrderItem, OrderState, Routed, SessionClosed
from console.sim import phrases
from console.sim.pictures import picture

log = logging.getLogger(__name__)

POLICY_PRODUCTS = ("p1001", "p1002", "p1003", "p2001")
"""The example policy's presale products, and one no group is bound to."""
PRODUCTS = POLICY_PRODUCTS * 6 + tuple(p.id for p in phrases.DEMO_CATALOG if p.id not in POLICY_PRODUCTS)
"""What a buyer arrives from: any product of the demo catalogue, the policy's own ones about as often
as all the others together (so the presale groups still see their buyers)."""
STAFF_IDS = ("xiaoer-001", "xiaoer-002")
GROUP_IDS = ("group-fans-01", "group-vip-02")
MAX_VISITS = 1_000_000
"""A demo may run all day; the plan is drawn lazily, so this bounds work, not memory."""
MAX_DURATION = 24 * 3600.0


class Persona(StrEnum):
    """Which script a visit follows (the server, not this, decides the account's kind)."""

    CONSUMER = "consumer"
    IMPOSTOR = "impostor"  # a consumer whose nickname claims to be platform staff
    STAFF = "staff"
    GROUP = "group"


class Action(StrEnum):
    SAY = "say"
    SHARE = "share"  # share a product card (the visit's product): "I am asking about this one"
    ORDER = "order"  # place an order (unpaid)
    PAY = "pay"
    RATE = "rate"
    PICTURE = "picture"  # send a photo (issue 13): ``text`` seeds the drawing (console.sim.pictures)


@dataclass(frozen=True, slots=True)
class Step:
    at: float  # seconds after the visit's arrival
    action: Action
    text: str = ""
    order: str = ""
    score: int = 0
    items: tuple[OrderItem, ...] = ()  # what an ORDER holds (the agent's buyer panel shows it)
    amount: int | None = None  # the order's total, fen


def order_lines(order: str, product: str | None) -> tuple[tuple[OrderItem, ...], int]:
    """An order's items and total, drawn from its id alone (the visit's own draws stay as they were):
    the product the buyer came from (or another one), a quantity, sometimes an extra."""
    rng = random.Random(order)
    title, price = phrases.CATALOGUE.get(product or "", rng.choice(list(phrases.CATALOGUE.values())))
    items = [OrderItem(title=title, quantity=rng.choice((1, 1, 1, 2, 3)), price=price)]
    if rng.random() < 0.4:
        extra, extra_price = rng.choice(phrases.EXTRAS)
        items.append(OrderItem(title=extra, quantity=1, price=extra_price))
    return tuple(items), sum(i.quantity * (i.price or 0) for i in items)


@dataclass(frozen=True, slots=True)
class Visit:
    start: float  # seconds after the run starts
    buyer: str
    name: str
    persona: Persona
    entry: Entry
    product: str | None = None
    question_pick: float | None = None  # which item of the entry's menu (get_questions), 0..1
    crowd: tuple[str, ...] = ()
    returning: bool = False
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class TrafficConfig:
    server: str
    rate: float = 20.0  # arrivals per minute
    duration: float = 60.0  # seconds during which visits start and act
    seed: int = 1
    max_visits: int = 500
    grace: float = 5.0  # seconds after ``duration`` for visits to finish their last request
    concurrency: int = 300  # open buyer connections at most
    key: str | None = None  # the gateway key, when the server has one
    shop: str | None = None  # the shop the buyers write to (issue 15); None: the server's only shop
    staff_ids: tuple[str, ...] = STAFF_IDS
    group_ids: tuple[str, ...] = GROUP_IDS
    staff_share: float = 0.04
    group_share: float = 0.04
    returning_share: float = 0.2
    share_products: bool = False  # some visits share a product card (the server needs the demo catalogue)
    product_share: float = 0.3  # of visits from a product page or a DM, when share_products

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 60_000:
            raise ValueError("rate must be between 0 and 60000 arrivals per minute")
        if not 0 < self.duration <= MAX_DURATION:
            raise ValueError(f"duration must be between 0 and {MAX_DURATION:.0f} seconds")
        if not 0 < self.max_visits <= MAX_VISITS:
            raise ValueError(f"max_visits must be between 1 and {MAX_VISITS}")
        if self.grace < 0 or self.concurrency < 1:
            raise ValueError("grace must be >= 0 and concurrency >= 1")
        require_loopback(self.server)


def require_loopback(url: str) -> None:
    """Refuse a server that is not on this machine (``ValueError``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"{url!r}: the server URL must start with ws:// or wss://")
    host = parts.hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"{url!r}: the simulator only talks to a server on this machine (127.0.0.1, ::1, localhost)")


# -- the plan (pure) ------------------------------------------------------------------------------


def plan_traffic(config: TrafficConfig) -> list[Visit]:
    """Every visit of the run, in arrival order, drawn from ``config.seed`` alone."""
    return list(iter_traffic(config))


def iter_traffic(config: TrafficConfig) -> Iterator[Visit]:
    """The visits of ``plan_traffic`` one at a time (a day-long demo need not hold them all)."""
    rng = random.Random(config.seed)
    count = 0
    seen: list[tuple[str, str]] = []  # consumers so far: (id, name), for returning buyers
    t = 0.0
    while count < config.max_visits:
        t += rng.expovariate(config.rate / 60.0)
        if t >= config.duration:
            break
        roll = rng.random()
        if roll < config.staff_share and config.staff_ids:
            visit = _staff_visit(rng, t, rng.choice(config.staff_ids))
        elif roll < config.staff_share + config.group_share and config.group_ids:
            visit = _group_visit(rng, t, rng.choice(config.group_ids))
        else:
            returning = bool(seen) and rng.random() < config.returning_share
            if returning:
                buyer, name = rng.choice(seen)
                persona = Persona.CONSUMER
            else:
                buyer = f"s{config.seed}-b{len(seen) + 1:04d}"
                persona = Persona.IMPOSTOR if rng.random() < 0.03 else Persona.CONSUMER
                name = rng.choice(phrases.IMPOSTOR_NAMES) if persona is Persona.IMPOSTOR else _nickname(rng)
                seen.append((buyer, name))
            visit = _consumer_visit(rng, t, buyer, name, persona, returning, order_prefix=f"o{config.seed}-{count + 1}",
                                    share=config.product_share if config.share_products else None)
        count += 1
        yield visit


def _nickname(rng: random.Random) -> str:
    return rng.choice(phrases.NICKNAMES).format(rng.choice(phrases.SURNAMES))


def _gaps(rng: random.Random, count: int, first: tuple[float, float] = (0.5, 3.0)) -> list[float]:
    """Offsets of ``count`` steps: a quick first line, then human pauses of a few seconds."""
    at = rng.uniform(*first)
    out = [at]
    for _ in range(count - 1):
        at += rng.uniform(2.0, 12.0)
        out.append(at)
    return out


def _consumer_visit(rng: random.Random, start: float, buyer: str, name: str, persona: Persona, returning: bool,
                    order_prefix: str, share: float | None = None) -> Visit:
    entry = rng.choices(
        [Entry.PRODUCT_DETAIL, Entry.ORDER_DETAIL, Entry.DM, Entry.LIVE, Entry.AFTER_SALE, Entry.OTHER],
        weights=[45, 12, 12, 16, 12, 3],
    )[0]
    product = rng.choice(PRODUCTS) if entry in (Entry.PRODUCT_DETAIL, Entry.LIVE, Entry.DM) else None
    question_pick = rng.random() if entry in (Entry.LIVE, Entry.AFTER_SALE, Entry.PRODUCT_DETAIL) and rng.random() < 0.7 else None
    crowd = ("fans",) if entry is Entry.LIVE and rng.random() < 0.5 else ()
    lines = [rng.choice(phrases.GREETINGS)] if rng.random() < 0.6 else []
    greeted = bool(lines)
    lines.append(rng.choice(phrases.QUESTIONS[entry]))
    if rng.random() < 0.12:
        lines.append(rng.choice(phrases.HANDOFF))
    lines.extend(rng.choice(phrases.FOLLOW_UPS) for _ in range(rng.choice((0, 1, 1, 2))))
    offsets = _gaps(rng, len(lines))
    steps = [Step(at, Action.SAY, text=text) for at, text in zip(offsets, lines, strict=True)]
    if product is not None and share is not None and entry in (Entry.PRODUCT_DETAIL, Entry.DM) \
            and random.Random(f"share:{buyer}:{start}").random() < share:  # its own draw: plans stay as they were
        asked = int(greeted)  # the card goes just before the question about it
        steps.insert(asked, Step(max(0.05, offsets[asked] - 0.3), Action.SHARE, text=product))
    pictures = random.Random(f"picture-{buyer}-{start!r}")  # its own draws: the visit's stay as they were
    if pictures.random() < (0.5 if entry is Entry.AFTER_SALE else 0.15):  # a flaw, a size chart
        steps.append(Step(offsets[0] + pictures.uniform(1.0, 4.0), Action.PICTURE, text=f"{buyer}-{start!r}"))
        steps.sort(key=lambda step: step.at)
    end = offsets[-1]
    if entry in (Entry.PRODUCT_DETAIL, Entry.LIVE, Entry.DM) and rng.random() < 0.4:
        order = f"{order_prefix}-{rng.randrange(10_000):04d}"
        end += rng.uniform(2.0, 10.0)
        items, amount = order_lines(order, product)
        steps.append(Step(end, Action.ORDER, order=order, items=items, amount=amount))
        steps.append(Step(end + 0.2, Action.SAY, text=rng.choice(phrases.ORDERED)))
        if rng.random() < 0.65:  # the rest leave it unpaid: the 未付款 tile
            end += rng.uniform(2.0, 15.0)
            steps.append(Step(end, Action.PAY, order=order, amount=amount))
            if rng.random() < 0.5:
                steps.append(Step(end + 0.2, Action.SAY, text=rng.choice(phrases.PAID)))
    if rng.random() < 0.55:
        score = rng.choices([5, 4, 3, 2, 1], weights=[62, 22, 8, 4, 4])[0]
        steps.append(Step(end + rng.uniform(1.0, 5.0), Action.RATE, score=score))
    return Visit(start=start, buyer=buyer, name=name, persona=persona, entry=entry, product=product,
                 question_pick=question_pick, crowd=crowd, returning=returning, steps=tuple(steps))


def _staff_visit(rng: random.Random, start: float, buyer: str) -> Visit:
    lines = [rng.choice(phrases.STAFF_LINES)]
    steps = tuple(Step(at, Action.SAY, text=text) for at, text in zip(_gaps(rng, 1), lines, strict=True))
    return Visit(start=start, buyer=buyer, name="平台小二", persona=Persona.STAFF, entry=Entry.DM, steps=steps)


def _group_visit(rng: random.Random, start: float, buyer: str) -> Visit:
    lines = [rng.choice(phrases.GROUP_LINES) for _ in range(rng.choice((1, 2, 3)))]
    steps = tuple(Step(at, Action.SAY, text=text) for at, text in zip(_gaps(rng, len(lines)), lines, strict=True))
    return Visit(start=start, buyer=buyer, name="粉丝群", persona=Persona.GROUP, entry=Entry.DM, steps=steps)


# -- playing it ---------------------------------------------------------------------------------


@dataclass
class TrafficReport:
    """What a run did, as counted by the simulator."""

    planned: int = 0  # visits whose time came within the run
    visits: int = 0  # visits that said hello
    finished: int = 0  # visits that took all their steps (those past ``duration`` are cut)
    arrivals: int = 0
    messages: int = 0  # buyer messages acknowledged
    duplicates: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # agent / bot / system messages received
    routed: Counter[str] = field(default_factory=Counter)  # routing outcomes: agent, bot, pool, queue
    orders: int = 0
    paid: int = 0
    ratings: int = 0
    pictures: int = 0  # images sent and acknowledged
    closed: int = 0  # session_closed pushes
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "planned": self.planned, "visits": self.visits, "finished": self.finished, "arrivals": self.arrivals,
            "messages": self.messages, "answers": dict(self.answers), "routed": dict(self.routed),
            "orders": self.orders, "paid": self.paid, "ratings": self.ratings, "pictures": self.pictures,
            "closed": self.closed,
            "errors": dict(self.errors),
        }


class TrafficRun:
    """Plays one plan; ``await TrafficRun(config).run()`` returns its report."""

    def __init__(self, config: TrafficConfig, plan: Iterable[Visit] | None = None) -> None:
        self.config = config
        self.plan = plan if plan is not None else iter_traffic(config)
        self.report = TrafficReport()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._busy: dict[str, tuple[asyncio.Lock, int]] = {}  # one connection per buyer at a time, and users
        self._t0 = 0.0

    def _now(self) -> float:
        return asyncio.get_running_loop().time() - self._t0

    async def run(self) -> TrafficReport:
        self._t0 = asyncio.get_running_loop().time()
        try:
            for visit in self.plan:
                await self._sleep_until(visit.start)
                if self._now() >= self.config.duration:
                    break
                self.report.planned += 1
                task = asyncio.create_task(self._visit(visit), name=f"sim-{visit.buyer}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            remaining = self.config.duration + self.config.grace - self._now()
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=max(0.0, remaining))
        finally:
            await self._cancel_all()
        return self.report

    async def _cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5.0)

    async def _sleep_until(self, offset: float) -> None:
        delay = offset - self._now()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _visit(self, visit: Visit) -> None:
        lock, users = self._busy.get(visit.buyer, (asyncio.Lock(), 0))
        self._busy[visit.buyer] = (lock, users + 1)
        try:
            async with self._slots, lock:
                await self._play(visit)
        except ClientError as exc:
            self.report.errors[exc.code.value if exc.code else type(exc).__name__] += 1
            log.debug("visit %s: %s", visit.buyer, exc)
        except (OSError, TimeoutError) as exc:
            self.report.errors["connect"] += 1
            log.debug("visit %s: %s", visit.buyer, exc)
        finally:
            lock, users = self._busy[visit.buyer]
            if users <= 1:
                del self._busy[visit.buyer]
            else:
                self._busy[visit.buyer] = (lock, users - 1)

    async def _play(self, visit: Visit) -> None:
        report = self.report
        answered = asyncio.Event()
        async with BuyerClient(self.config.server, visit.buyer, visit.name, key=self.config.key,
                               shop=self.config.shop, move_check=require_loopback) as buyer:
            report.visits += 1

            def on_push(push: BuyerPushed) -> None:
                if isinstance(push, AgentMessage):
                    report.answers[push.author.value] += 1
                    if push.author in (Author.AGENT, Author.BOT):
                        answered.set()
                elif isinstance(push, SessionClosed):
                    report.closed += 1
                    answered.set()
                elif isinstance(push, Routed):
                    report.routed[push.to] += 1

            buyer.pushes.connect(on_push)
            question = None
            if visit.question_pick is not None:
                menu = await buyer.get_questions(visit.entry)
                if menu:
                    question = menu[min(len(menu) - 1, int(visit.question_pick * len(menu)))]
            routed = await buyer.arrive(visit.entry, product=visit.product, question=question, crowd=visit.crowd)
            report.arrivals += 1
            report.routed[routed.to] += 1
            begin = self._now()
            for step in visit.steps:
                if begin + step.at >= self.config.duration:
                    return  # the run is over: the rest of this visit never happens
                await self._sleep_until(begin + step.at)
                await self._step(buyer, step, answered)
            report.finished += 1

    async def _step(self, buyer: BuyerClient, step: Step, answered: asyncio.Event) -> None:
        report = self.report
        if step.action is Action.SAY:
            ack = await buyer.say(step.text)
            report.messages += 1
            report.duplicates += int(ack.duplicate)
        elif step.action is Action.PICTURE:
            ack = await buyer.send_image(picture(step.text))
            report.messages += 1
            report.pictures += 1
            report.duplicates += int(ack.duplicate)
        elif step.action is Action.SHARE:
            await buyer.share_product(step.text)
            report.messages += 1
        elif step.action is Action.ORDER:
            await buyer.order(step.order, OrderState.UNPAID, items=list(step.items), amount=step.amount)
            report.orders += 1
        elif step.action is Action.PAY:
            await buyer.order(step.order, OrderState.PAID)
            report.paid += 1
        elif step.action is Action.RATE and answered.is_set():  # only someone who got an answer rates
            await buyer.rate(step.score)
            report.ratings += 1


async def run_traffic(config: TrafficConfig) -> TrafficReport:
    """Plan and play a run (see the module docstring)."""
    return await TrafficRun(config).run()
