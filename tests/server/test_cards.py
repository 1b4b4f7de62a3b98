"""Product, order and 催付 cards (issue 13) through a real server: built from the shop's facts,
checked (product exists, the order is this buyer's, 催付 only on an unpaid order), received by the
buyer side as typed messages, stored with their payload, and the buyer's own product cards."""

from __future__ import annotations

import typing
from pathlib import Path

from console.protocol.cards import CardOrderState
from console.protocol.messages import (
    AgentMessage,
    Arrive,
    CardItem,
    CardKind,
    CatalogAnswer,
    Entry,
    Error,
    ErrorCode,
    History,
    MessageAdded,
    MessageKind,
    Ok,
    Open,
    OrderCard,
    OrderItem,
    OrderState,
    OrderUpdate,
    PayReminderCard,
    ProductCard,
    ReplyAck,
    Routed,
    SayAck,
    SearchCatalog,
    SendCard,
    ShareProduct,
)
from console.reception.catalog import Product
from console.server.repository.catalog import Catalog

from .helpers import Client, open_store, run, running_server
from .test_reception import buyer, online

TEE = Product("p1002", "纯棉T恤 白色 L", 5900, url="https://item.example.com/p1002")


def _seed(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")  # the test's store (SQLite or its shop on PostgreSQL)
    Catalog(store).put([TEE, Product("p1001", "碎花连衣裙 M码", 15900)], 0.0)
    store.close()


async def _refused(client: Client, request: object) -> Error:
    answer = await client.request(request)  # type: ignore[arg-type]
    assert isinstance(answer, Error), answer
    return answer


def test_order_states_on_cards_are_the_routing_order_states() -> None:
    assert set(typing.get_args(CardOrderState)) == {s.value for s in OrderState}


def test_cards_are_built_checked_delivered_and_kept(tmp_path: Path) -> None:
    _seed(tmp_path)

    async def first_life() -> None:
        async with running_server(tmp_path) as server:
            agents = {"a1": await online(server, "a1"), "a2": await online(server, "a2")}
            b1 = await buyer(server, "b1", "王小姐")
            routed = await b1.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1002"))
            assert isinstance(routed, Routed)
            holder = "a1" if routed.name == "小美" else "a2"
            mine, theirs = agents[holder], agents["a2" if holder == "a1" else "a1"]
            b2 = await buyer(server, "b2", "李先生")
            assert isinstance(await b2.request(Arrive(entry=Entry.PRODUCT_DETAIL, product="p1001")), Routed)
            assert isinstance(await b1.request(OrderUpdate(order="TB1", state=OrderState.UNPAID, amount=11800,
                                                           items=[OrderItem(title="纯棉T恤 白色 L", quantity=2)])), Ok)
            assert isinstance(await b1.request(OrderUpdate(order="TB2", state=OrderState.PAID)), Ok)
            assert isinstance(await b2.request(OrderUpdate(order="TB9", state=OrderState.UNPAID)), Ok)

            # a product card: what the catalogue says, to the buyer side as a typed message
            ack = await mine.request(SendCard(conversation="b1", card=CardKind.PRODUCT, ref="p1002", client_id="k1"))
            assert isinstance(ack, ReplyAck) and not ack.duplicate
            to_buyer = await b1.expect(AgentMessage)
            assert to_buyer.kind is MessageKind.CARD and to_buyer.text == "[商品] 纯棉T恤 白色 L"
            assert to_buyer.card == ProductCard(id="p1002", title="纯棉T恤 白色 L", price=5900,
                                                url="https://item.example.com/p1002")
            shown = await mine.expect(MessageAdded, lambda e: e.message.id == ack.message_id)
            assert shown.message.card == to_buyer.card and shown.message.client_id == "k1"
            again = await mine.request(SendCard(conversation="b1", card=CardKind.PRODUCT, ref="p1002", client_id="k1"))
            assert isinstance(again, ReplyAck) and again.duplicate and again.message_id == ack.message_id

            # an order card and 催付 of the buyer's own orders
            ack = await mine.request(SendCard(conversation="b1", card=CardKind.ORDER, ref="TB1", client_id="k2"))
            assert isinstance(ack, ReplyAck)
            order = (await b1.expect(AgentMessage)).card
            assert order == OrderCard(order="TB1", state="unpaid", amount=11800,
                                      items=[CardItem(title="纯棉T恤 白色 L", quantity=2)])
            ack = await mine.request(SendCard(conversation="b1", card=CardKind.PAY_REMINDER, ref="TB1", client_id="k3"))
            assert isinstance(ack, ReplyAck)
            reminder = await b1.expect(AgentMessage)
            assert reminder.text == "[催付] TB1" and isinstance(reminder.card, PayReminderCard)
            assert reminder.card.amount == 11800

            # typed refusals, nothing stored
            refused = await _refused(mine, SendCard(conversation="b1", card=CardKind.PRODUCT, ref="p-none", client_id="x1"))
            assert (refused.code, refused.field) == (ErrorCode.NOT_FOUND, "ref")
            refused = await _refused(mine, SendCard(conversation="b1", card=CardKind.ORDER, ref="TB-none", client_id="x2"))
            assert (refused.code, refused.field) == (ErrorCode.NOT_FOUND, "ref")
            refused = await _refused(mine, SendCard(conversation="b1", card=CardKind.ORDER, ref="TB9", client_id="x3"))
            assert (refused.code, refused.field) == (ErrorCode.FORBIDDEN, "ref")  # b2's order
            refused = await _refused(mine, SendCard(conversation="b1", card=CardKind.PAY_REMINDER, ref="TB2",
                                                    client_id="x4"))
            assert (refused.code, refused.field) == (ErrorCode.CONFLICT, "ref")  # paid: nothing to remind
            refused = await _refused(theirs, SendCard(conversation="b1", card=CardKind.PRODUCT, ref="p1002",
                                                      client_id="x5"))
            assert refused.code is ErrorCode.FORBIDDEN  # not the holder: an agent gets forbidden
            await mine.send_raw('{"type":"send_card","rid":"z","conversation":"b1","card":"coupon","ref":"p1",'
                                '"client_id":"x6"}')
            bad = await mine.expect(Error, lambda e: e.rid == "z")
            assert (bad.code, bad.field) == (ErrorCode.INVALID, "card")

            # the buyer shares a product: a card made from the catalogue
            said = await b1.request(ShareProduct(product="p1001", client_id="s1"))
            assert isinstance(said, SayAck)
            shared = await mine.expect(MessageAdded, lambda e: e.message.id == said.message_id)
            assert shared.message.card == ProductCard(id="p1001", title="碎花连衣裙 M码", price=15900)
            assert shared.message.text == "[商品] 碎花连衣裙 M码"
            unknown = await _refused(b1, ShareProduct(product="p-fake", client_id="s2"))
            assert (unknown.code, unknown.field) == (ErrorCode.NOT_FOUND, "product")

            found = await theirs.request(SearchCatalog(query="shlyq"))  # any agent may search: 碎花连衣裙
            assert isinstance(found, CatalogAnswer) and [p.id for p in found.products] == ["p1001"]

    async def second_life() -> None:
        async with running_server(tmp_path) as server:
            agent = await online(server, "a1")
            history = await agent.request(Open(conversation="b1"))
            if not isinstance(history, History):  # the other agent held b1
                agent = await online(server, "a2")
                history = await agent.request(Open(conversation="b1"))
            assert isinstance(history, History)
            cards = [m.card for m in history.messages if m.kind is MessageKind.CARD]
            assert [type(c).__name__ for c in cards] == ["ProductCard", "OrderCard", "PayReminderCard", "ProductCard"]
            assert len(history.messages) == 4  # the refusals stored nothing
            assert history.conversation.last_text == "[商品] 碎花连衣裙 M码"

    run(first_life())
    run(second_life())
