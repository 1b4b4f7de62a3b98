"""Simulated colleague agents for a demo: they go online, answer their buyers, close sessions.

A demo has one human at the console; the rest of the team is simulated here so buyers get
answered, loads move, the team view has something to show and response times exist. Each
``Colleague`` is an ordinary ``AgentClient`` (the same client the console uses): it answers a
buyer's latest line after a human pause, claims buyers from the message pool, and closes a
session after a thank-you, often leaving a note or a tag on the buyer first (the buyer panel:
a returning buyer brings them to whoever gets it next). Now and then (``transfer_rate``) it
transfers a new buyer to an available colleague with a note instead of answering (转接, issue 12),
so the demo's console receives transferred buyers with their note. It stops with the run.

Like an agent at 40 buyers an hour, a colleague answers with one of the shop's team quick replies
(快捷短语) when one fits the topic (``QUICK_SHARE`` of the time), variables filled as the console
fills them, the order number asked of the server: so the demo's phrases are used, not only shown.
"""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

from console.client import AgentClient, ClientError
from console.protocol.messages import AgentEvent, Author, ConversationUpdated, Entry, MessageAdded, PhraseInfo
from console.reception.phrases import fill
from console.routing.events import Status
from console.sim import phrases

log = logging.getLogger(__name__)

THANKS = ("谢谢", "好的", "下单了", "拍了", "付好了", "知道了", "嗯嗯")
TOPICS: tuple[tuple[tuple[str, ...], Entry], ...] = (
    (("退", "破损", "少发", "发票"), Entry.AFTER_SALE),
    (("订单", "物流", "地址", "催"), Entry.ORDER_DETAIL),
    (("主播", "直播", "链接"), Entry.LIVE),
)

QUICK_SHARE = 0.4
QUICK_GROUPS = {  # the demo set's groups (resources/quick_replies.csv) for each topic
    Entry.PRODUCT_DETAIL: "售前", Entry.LIVE: "售前", Entry.DM: "售前", Entry.OTHER: "售前",
    Entry.ORDER_DETAIL: "物流", Entry.AFTER_SALE: "售后",
}
QUICK_CLOSING = "结束"


class Colleague:
    """One simulated agent on an ``AgentClient``."""

    def __init__(self, url: str, user: str, password: str, *, state_dir: Path, rng: random.Random,
                 pause: tuple[float, float] = (2.0, 15.0), transfer_rate: float = 0.1,
                 shop: str | None = None) -> None:
        self.client = AgentClient(url, user, password, state_dir=state_dir, shop=shop)
        self.user = user
        self.rng = rng
        self.pause = pause
        self.transfer_rate = transfer_rate
        self.replies = 0
        self.closes = 0
        self.transfers = 0
        self._answered: set[str] = set()  # buyers this colleague has written to (never transferred)
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.quick: list[PhraseInfo] = []  # the team's and own quick replies, as the server has them
        self.quick_used = 0

    async def start(self) -> None:
        await self.client.start()
        self.client.events.connect(self._on_event)
        self.client.phrase_updates.connect(self._on_phrase_updates)
        await self.client.set_status(Status.ONLINE)
        try:
            self.quick = await self.client.get_phrases()
        except ClientError as exc:
            log.debug("%s: no quick replies: %s", self.user, exc)

    def _on_phrase_updates(self, phrases: list[PhraseInfo]) -> None:
        self.quick = phrases

    async def stop(self) -> None:
        for task in [*self._pending.values(), *self._tasks]:
            task.cancel()
        pending = [*self._pending.values(), *self._tasks]
        if pending:
            await asyncio.wait(pending, timeout=3.0)
        await self.client.close()

    def _spawn(self, coro: object, key: str | None = None) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        if key is not None:
            self._pending[key] = task
            task.add_done_callback(lambda _t: self._pending.pop(key, None))
        else:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _on_event(self, event: AgentEvent) -> None:
        row = event.conversation if isinstance(event, (ConversationUpdated, MessageAdded)) else None
        if row is not None and row.holder == "pool":
            self._spawn(self._claim(row.id))
        if isinstance(event, MessageAdded) and event.message.author is Author.BUYER:
            buyer = event.message.conversation
            if buyer not in self._pending:  # one answer for a burst of lines
                self._spawn(self._answer(buyer), key=buyer)

    async def _claim(self, buyer: str) -> None:
        await asyncio.sleep(self.rng.uniform(*self.pause))
        try:
            await self.client.claim(buyer)
        except ClientError:
            pass  # someone was faster

    async def _answer(self, buyer: str) -> None:
        await asyncio.sleep(self.rng.uniform(*self.pause))
        row = self.client.view.conversations.get(buyer)
        if row is None or row.holder != f"agent:{self.user}":
            return
        text = row.last_text
        thanks = any(word in text for word in THANKS)
        topic = next((entry for words, entry in TOPICS if any(w in text for w in words)), Entry.PRODUCT_DETAIL)
        if buyer not in self._answered and not thanks and self.rng.random() < self.transfer_rate:
            if await self._transfer(buyer, topic):
                return
        self._answered.add(buyer)
        answer = self.rng.choice(phrases.AGENT_CLOSINGS if thanks else phrases.AGENT_ANSWERS[topic])
        group = QUICK_CLOSING if thanks else QUICK_GROUPS.get(topic, "")
        fitting = [p for p in self.quick if p.group == group]
        if fitting and self.rng.random() < QUICK_SHARE:
            phrase = self.rng.choice(fitting)
            try:
                order = await self.client.latest_order(buyer) if "{订单号}" in phrase.text else None
            except ClientError:
                order = None
            account = self.client.account
            answer = fill(phrase.text, buyer=row.name, agent=account.name if account else self.user, order=order)
            self.quick_used += 1
        try:
            await self.client.reply(buyer, answer)
            self.replies += 1
            if thanks and self.rng.random() < 0.7:
                await asyncio.sleep(self.rng.uniform(*self.pause))
                await self._annotate(buyer)
                await self.client.close_conversation(buyer)
                self.closes += 1
        except ClientError as exc:
            log.debug("%s could not answer %s: %s", self.user, buyer, exc)

    async def _annotate(self, buyer: str) -> None:
        """What an agent writes down about a buyer for the shop (CONSOLE.md §6: notes and tags)."""
        if self.rng.random() < 0.5:
            await self.client.add_note(buyer, self.rng.choice(phrases.NOTES))
        if self.rng.random() < 0.4:
            await self.client.add_tag(buyer, self.rng.choice(phrases.BUYER_TAGS))

    async def _transfer(self, buyer: str, topic: Entry) -> bool:
        """Give a new buyer to an available colleague with a note; False when nobody can take it."""
        try:
            colleagues = await self.client.colleagues()
            free = [c for c in colleagues.agents if c.status is Status.ONLINE and c.load < c.cap]
            if not free:
                return False
            target = self.rng.choice(free)
            await self.client.transfer(buyer, target.id, note=self.rng.choice(phrases.TRANSFER_NOTES[topic]))
        except ClientError as exc:
            log.debug("%s could not transfer %s: %s", self.user, buyer, exc)
            return False
        self.transfers += 1
        return True
