"""Group matching (R7.3-R7.5): the indexed matcher agrees with the plain definition."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.routing.matching import BuyerAttributes, GroupMatcher, OrderRecord, match_groups, order_state
from console.routing.policy import DIMENSIONS, ORDER_STATES, GroupSpec, Pick

SEED_GROUPS = [  # seed 000's example (ROUTING.md R7.3)
    GroupSpec(id="A", name="A", pick=Pick.LEVEL, bot=False, cap=10, products=("a",), orders=("none", "unpaid")),
    GroupSpec(id="B", name="B", pick=Pick.LEVEL, bot=False, cap=10, products=("a",), orders=("paid", "shipped", "success")),
    GroupSpec(id="C", name="C", pick=Pick.LEVEL, bot=False, cap=10, products=("a",)),
    GroupSpec(id="D", name="D", pick=Pick.LEVEL, bot=False, cap=10, products=("b",), orders=("after_sale",)),
]


def ids(groups: list[GroupSpec]) -> list[str]:
    return [g.id for g in groups]


def test_seed_examples() -> None:
    order = list(DIMENSIONS)
    assert ids(match_groups(SEED_GROUPS, order, BuyerAttributes(product="a"), "unpaid")) == ["A"]
    assert ids(match_groups(SEED_GROUPS, order, BuyerAttributes(product="a"), "after_sale")) == ["A", "B", "C"]
    assert ids(match_groups(SEED_GROUPS, order, BuyerAttributes(product="c"), "unpaid")) == ["A"]
    assert ids(match_groups(SEED_GROUPS, order, BuyerAttributes(product="c"), "after_sale")) == ["D"]


def test_entry_question_bindings() -> None:
    groups = [GroupSpec(id="any", name="", pick=Pick.LEVEL, bot=False, cap=1, entries=("live",)),
              GroupSpec(id="ship", name="", pick=Pick.LEVEL, bot=False, cap=1, entries=("live:几天发货",))]
    order = ["entry"]
    assert ids(match_groups(groups, order, BuyerAttributes(entry="live", question="几天发货"), "none")) == ["any", "ship"]
    assert ids(match_groups(groups, order, BuyerAttributes(entry="live", question="尺码"), "none")) == ["any"]
    assert ids(match_groups(groups, order, BuyerAttributes(entry="dm"), "none")) == ["any", "ship"]  # a miss


def test_order_state_latest_and_success_window() -> None:
    orders = {"o1": OrderRecord("unpaid", 0, 1), "o2": OrderRecord("shipped", 60, 2)}
    assert order_state(orders, 100, 3 * 86400) == "shipped"
    assert order_state({"o": OrderRecord("success", 0, 1)}, 86400, 3 * 86400) == "success"
    assert order_state({"o": OrderRecord("success", 0, 1)}, 3 * 86400, 3 * 86400) == "none"  # within = less than
    assert order_state({"o": OrderRecord("closed", 0, 1)}, 1, 1) == "none"
    assert order_state({}, 0, 1) == "none"
    same_time = {"o1": OrderRecord("paid", 5, 1), "o2": OrderRecord("after_sale", 5, 2)}
    assert order_state(same_time, 6, 1) == "after_sale"  # the later event wins a tie


values = st.sampled_from(["x", "y", "z"])
group_specs = st.builds(
    GroupSpec, id=st.just(""), name=st.just(""), pick=st.just(Pick.LEVEL), bot=st.just(False), cap=st.just(1),
    crowd=st.lists(values, max_size=2).map(tuple), products=st.lists(values, max_size=2).map(tuple),
    entries=st.lists(st.sampled_from(["live", "dm", "live:x", "live:y"]), max_size=2).map(tuple),
    intents=st.lists(values, max_size=2).map(tuple), orders=st.lists(st.sampled_from(ORDER_STATES), max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(group_specs, min_size=1, max_size=6), st.permutations(DIMENSIONS),
       st.builds(BuyerAttributes, entry=st.sampled_from(["live", "dm", "other"]), product=st.none() | values,
                 question=st.none() | values, intent=st.none() | values, crowd=st.lists(values, max_size=2).map(tuple)),
       st.sampled_from(ORDER_STATES))
def test_indexed_matcher_agrees(groups: list[GroupSpec], order: list[str], buyer: BuyerAttributes, state: str) -> None:
    groups = [GroupSpec(**{**{f: getattr(g, f) for f in GroupSpec.__slots__}, "id": f"g{i}"}) for i, g in enumerate(groups)]
    assert GroupMatcher(groups).match(order, buyer, state) == match_groups(groups, order, buyer, state)


def test_repeated_success_does_not_restart_the_window() -> None:
    """R7.4: the success window counts from the first time the order became success."""
    from console.routing.engine import Engine
    from console.routing.events import OrderChange
    from console.routing.policy import load_policy_dict

    engine = Engine(load_policy_dict({"agents": [{"id": "a1"}]}), start=0.0)
    engine.apply(OrderChange(buyer="b1", order="o1", state="success"), 0.0)
    engine.apply(OrderChange(buyer="b1", order="o1", state="success"), 2 * 86400.0)
    assert engine.order_state("b1") == "success"
    engine.advance(3 * 86400.0)
    assert engine.order_state("b1") == "none"  # 3 days after the first success, not the second
