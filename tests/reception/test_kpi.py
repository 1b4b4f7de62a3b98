"""KPI tiles (CONSOLE.md §3): worked examples by hand, and incremental == batch == definition."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.reception.kpi import (
    Accumulator,
    BuyerTile,
    DayRange,
    OrderEvent,
    Rating,
    Reception,
    Wait,
    accumulate,
    agent_tiles,
    team_tiles,
    tiles,
    waits_from_messages,
)
from console.reception.model import Author, KpiTiles, Message

YESTERDAY = DayRange(0.0, 1000.0)
TODAY = DayRange(1000.0, 2000.0)


def _msg(i: int, author: Author, at: float, agent: str | None = None) -> Message:
    return Message(id=i, conversation="b1", author=author, text="t", at=at, agent=agent)


# Example 1: one agent's day, every tile worked out by hand --------------------------------------

RECEPTIONS = [
    Reception("a1", "b1", 1100),
    Reception("a1", "b2", 1200),
    Reception("a1", "b3", 1300),
    Reception("a1", "b1", 1500),  # received again: still one buyer, received at 1100
    Reception("a2", "b4", 1100),
    Reception("a1", "b5", 900),  # yesterday
]
ORDERS = [
    OrderEvent("b1", "unpaid", 1000),  # before b1 was received: does not count
    OrderEvent("b1", "paid", 1600),  # b1 paid
    OrderEvent("b2", "unpaid", 1250),  # b2 ordered, not paid
    OrderEvent("b5", "paid", 1400),  # b5 not received by anyone today
]
RATINGS = [
    Rating("a1", 5, 100),
    Rating("a1", 4, 200),
    Rating("a1", 2, 300),
    Rating("a1", 3, 400),
    Rating("a1", 1, 1500),  # today: not yesterday's satisfaction
    Rating("a2", 5, 500),
]
MESSAGES = [
    _msg(1, Author.BUYER, 100),
    _msg(2, Author.BUYER, 130),  # same wait
    _msg(3, Author.BOT, 140),  # the bot does not end it
    _msg(4, Author.AGENT, 250, "a1"),  # 150 s: within 3 minutes
    _msg(5, Author.BUYER, 300),
    _msg(6, Author.AGENT, 500, "a1"),  # 200 s
    _msg(7, Author.AGENT, 510, "a1"),  # no wait open
    _msg(8, Author.BUYER, 600),
    _msg(9, Author.AGENT, 780, "a1"),  # exactly 180 s: not "within" (less than)
    _msg(10, Author.SYSTEM, 800),
    _msg(11, Author.BUYER, 900),  # never answered while a1 holds the buyer
]


def test_waits_from_messages() -> None:
    assert waits_from_messages(MESSAGES, holder="a1") == [
        Wait("a1", 100, 250),
        Wait("a1", 300, 500),
        Wait("a1", 600, 780),
        Wait("a1", 900, None),
    ]
    assert waits_from_messages(MESSAGES[:3], holder=None) == [Wait(None, 100, None)]


def test_example_one_agent() -> None:
    waits = waits_from_messages(MESSAGES, holder="a1")
    got = agent_tiles("a1", TODAY, YESTERDAY, RECEPTIONS, ORDERS, RATINGS, waits)
    assert got == KpiTiles(
        received_today=3,  # b1, b2, b3
        not_ordered=1,  # b3
        not_paid=1,  # b2
        paid=1,  # b1
        conversion=1 / 3,
        satisfaction_yesterday=2 / 4,  # 5 and 4 of 5, 2, 3
        response_3min_yesterday=1 / 4,  # only the 150 s wait of four
        avg_response_yesterday=(150 + 200 + 180) / 3,  # the unanswered wait has no time
    )


def test_example_two_team() -> None:
    waits = waits_from_messages(MESSAGES, holder="a1")
    got = team_tiles(TODAY, YESTERDAY, RECEPTIONS, ORDERS, RATINGS, waits)
    assert got.received_today == 4  # b1..b4
    assert (got.not_ordered, got.not_paid, got.paid) == (2, 1, 1)  # b3 b4 / b2 / b1
    assert got.conversion == 1 / 4
    assert got.satisfaction_yesterday == 3 / 5  # a2's 5 counts for the team


def test_example_three_no_data_is_none() -> None:
    assert agent_tiles("a9", TODAY, YESTERDAY, RECEPTIONS, ORDERS, RATINGS, []) == KpiTiles()
    assert tiles(Accumulator(), None) == KpiTiles()
    unanswered = [Wait("a1", 100, None), Wait("a1", 200, None)]
    got = agent_tiles("a1", TODAY, YESTERDAY, waits=unanswered)
    assert got.response_3min_yesterday == 0.0
    assert got.avg_response_yesterday is None
    assert got.received_today is None and got.conversion is None


def test_example_four_order_paths() -> None:
    receptions = [Reception("a1", b, 1100) for b in ("tie", "closed", "repaid", "reorder", "shipped")]
    orders = [
        OrderEvent("tie", "unpaid", 1100),  # at the reception instant: counts as since
        OrderEvent("closed", "unpaid", 1200),
        OrderEvent("closed", "closed", 1300),  # ordered, then cancelled: none of the three
        OrderEvent("repaid", "paid", 1200),
        OrderEvent("repaid", "unpaid", 1300),  # paid once: stays paid, not "not paid"
        OrderEvent("reorder", "unpaid", 1200),
        OrderEvent("reorder", "unpaid", 1900),
        OrderEvent("shipped", "shipped", 1200),  # an old order shipping is not an order placed
    ]
    got = agent_tiles("a1", TODAY, YESTERDAY, receptions, orders)
    assert (got.received_today, got.not_ordered, got.not_paid, got.paid) == (5, 1, 2, 1)
    assert got.conversion == 1 / 5


def test_buyer_lists_latest_first_and_bounded() -> None:
    acc = Accumulator()
    for i in range(250):
        acc.add_reception(f"b{i:03d}", 1000 + i)
    acc.order_changed("b249", "unpaid", 1300)
    acc.order_changed("b248", "paid", 1300)
    not_ordered = acc.buyer_list(BuyerTile.NOT_ORDERED)
    assert len(not_ordered) == 200
    assert not_ordered[:2] == ["b247", "b246"]
    assert acc.buyer_list(BuyerTile.NOT_PAID) == ["b249"]
    assert acc.buyer_list(BuyerTile.NOT_ORDERED, limit=1) == ["b247"]


# Properties ----------------------------------------------------------------------------------

agents = st.sampled_from(["a1", "a2", "a3"])
buyers = st.sampled_from([f"b{i}" for i in range(6)])
instants = st.integers(0, 2000).map(float)
states = st.sampled_from(["unpaid", "paid", "shipped", "success", "closed", "after_sale"])

receptions_st = st.lists(st.builds(Reception, agents, buyers, instants), max_size=25)
orders_st = st.lists(st.builds(OrderEvent, buyers, states, instants), max_size=25)
ratings_st = st.lists(st.builds(Rating, agents, st.integers(1, 5), instants), max_size=15)
waits_st = st.lists(
    st.builds(
        lambda a, s, d: Wait(a, s, None if d is None else s + d),
        st.none() | agents,
        instants,
        st.none() | st.integers(0, 400).map(float),
    ),
    max_size=15,
)


def _incremental(
    agent: str | None,
    receptions: list[Reception],
    orders: list[OrderEvent],
    ratings: list[Rating],
    waits: list[Wait],
) -> KpiTiles:
    """What the server does: one accumulator per day, fed as things happen."""
    days = {"today": Accumulator(), "yesterday": Accumulator()}

    def day_of(at: float) -> Accumulator | None:
        return days["today"] if at in TODAY else days["yesterday"] if at in YESTERDAY else None

    timeline: list[tuple[float, int, object]] = [(r.at, 0, r) for r in receptions]
    timeline += (
        [(o.at, 1, o) for o in orders] + [(g.at, 1, g) for g in ratings] + [(w.start, 1, w) for w in waits]
    )
    for _, _, item in sorted(timeline, key=lambda t: (t[0], t[1])):
        if isinstance(item, Reception) and (agent is None or item.agent == agent):
            if (acc := day_of(item.at)) is not None:
                acc.add_reception(item.buyer, item.at)
        elif isinstance(item, OrderEvent):
            if (acc := day_of(item.at)) is not None:
                acc.order_changed(item.buyer, item.state, item.at)
        elif isinstance(item, Rating) and (agent is None or item.agent == agent):
            if (acc := day_of(item.at)) is not None:
                acc.add_rating(item.score)
        elif isinstance(item, Wait) and item.agent is not None and (agent is None or item.agent == agent):
            if (acc := day_of(item.start)) is not None:
                acc.add_wait(item)
    return tiles(days["today"], days["yesterday"])


def _definition(
    agent: str | None,
    receptions: list[Reception],
    orders: list[OrderEvent],
    ratings: list[Rating],
    waits: list[Wait],
) -> KpiTiles:
    """CONSOLE.md §3 written out with sets, independently of the accumulator."""
    mine = [r for r in receptions if (agent is None or r.agent == agent) and r.at in TODAY]
    got = {r.buyer: min(x.at for x in mine if x.buyer == r.buyer) for r in mine}
    since = {
        b: sorted((o for o in orders if o.buyer == b and r <= o.at < TODAY.end), key=lambda o: o.at)
        for b, r in got.items()
    }
    ordered = {b for b, os in since.items() if any(o.state in ("unpaid", "paid") for o in os)}
    paid = {b for b, os in since.items() if any(o.state == "paid" for o in os)}
    not_paid = {b for b in ordered - paid if since[b][-1].state == "unpaid"}
    rated = [g.score for g in ratings if (agent is None or g.agent == agent) and g.at in YESTERDAY]
    ws = [
        w
        for w in waits
        if w.agent is not None and (agent is None or w.agent == agent) and w.start in YESTERDAY
    ]
    answered = [w.answered - w.start for w in ws if w.answered is not None]
    n = len(got)
    return KpiTiles(
        received_today=n or None,
        not_ordered=len(set(got) - ordered) if n else None,
        not_paid=len(not_paid) if n else None,
        paid=len(paid) if n else None,
        conversion=len(paid) / n if n else None,
        satisfaction_yesterday=sum(s >= 4 for s in rated) / len(rated) if rated else None,
        response_3min_yesterday=sum(a < 180 for a in answered) / len(ws) if ws else None,
        avg_response_yesterday=sum(answered) / len(answered) if answered else None,
    )


def _close(a: KpiTiles, b: KpiTiles) -> bool:
    for name in KpiTiles.__struct_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-9):
            return False
    return True


@settings(max_examples=300)
@given(st.none() | agents, receptions_st, orders_st, ratings_st, waits_st)
def test_incremental_equals_batch_equals_definition(
    agent: str | None,
    receptions: list[Reception],
    orders: list[OrderEvent],
    ratings: list[Rating],
    waits: list[Wait],
) -> None:
    if agent is None:
        batch = team_tiles(TODAY, YESTERDAY, receptions, orders, ratings, waits)
    else:
        batch = agent_tiles(agent, TODAY, YESTERDAY, receptions, orders, ratings, waits)
    assert _close(batch, _definition(agent, receptions, orders, ratings, waits))
    assert _close(batch, _incremental(agent, receptions, orders, ratings, waits))


@given(receptions_st, orders_st)
def test_tiles_are_consistent(receptions: list[Reception], orders: list[OrderEvent]) -> None:
    acc = accumulate(None, TODAY, receptions, orders)
    t = tiles(acc, None)
    if t.received_today is None:
        assert (t.not_ordered, t.not_paid, t.paid, t.conversion) == (None, None, None, None)
    else:
        assert t.not_ordered is not None and t.not_paid is not None and t.paid is not None
        assert t.not_ordered + t.not_paid + t.paid <= t.received_today
        assert 0 <= (t.conversion or 0) <= 1
        assert len(acc.buyer_list(BuyerTile.NOT_ORDERED)) == t.not_ordered
        assert len(acc.buyer_list(BuyerTile.NOT_PAID)) == t.not_paid


@given(agents, receptions_st, orders_st)
def test_team_receives_at_least_each_agent(
    agent: str, receptions: list[Reception], orders: list[OrderEvent]
) -> None:
    team = team_tiles(TODAY, YESTERDAY, receptions, orders)
    one = agent_tiles(agent, TODAY, YESTERDAY, receptions, orders)
    assert (team.received_today or 0) >= (one.received_today or 0)
