"""What a routing snapshot pickles per buyer: every field comes back, and equal arrival
attributes load as one shared object (issue 9: a faster snapshot load)."""

from __future__ import annotations

import dataclasses
import pickle

from console.routing.matching import BuyerAttributes, OrderRecord
from console.routing.state import BuyerState, HolderKind, Session, Speaker


def _full_buyer(buyer: str) -> BuyerState:
    """A buyer with no field at its default."""
    session = Session(7, buyer, HolderKind.AGENT, "a1", 10.0, Speaker.BUYER, 11.0)
    return BuyerState(
        id=buyer, attrs=BuyerAttributes("live", "p9", "size", "presale", ("vip",)), role="merchant",
        exclusive="a2", recent=("a1", 12.0), last_closed=("a3", 5.0),
        orders={"o1": OrderRecord("paid", 3.0, 4, None)}, receivers={"a1": 10.0}, paid_serial=4, session=session)


def test_every_buyer_field_survives_a_snapshot() -> None:
    before = _full_buyer("b1")
    defaults = BuyerState("someone else")
    for f in dataclasses.fields(BuyerState):  # the example really sets each field
        assert getattr(before, f.name) != getattr(defaults, f.name), f.name
    after = pickle.loads(pickle.dumps(before, protocol=pickle.HIGHEST_PROTOCOL))
    for f in dataclasses.fields(BuyerState):
        if f.name != "session":
            assert getattr(after, f.name) == getattr(before, f.name), f.name
    assert after.session is not None and before.session is not None
    assert {s: getattr(after.session, s) for s in Session.__slots__} == {
        s: getattr(before.session, s) for s in Session.__slots__}


def test_equal_arrival_attributes_load_as_one_object() -> None:
    buyers = [_full_buyer("b1"), _full_buyer("b2"), dataclasses.replace(_full_buyer("b3"), attrs=BuyerAttributes("other"))]
    loaded = pickle.loads(pickle.dumps(buyers, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded[0].attrs is loaded[1].attrs and loaded[0].attrs == buyers[0].attrs
    assert loaded[2].attrs == BuyerAttributes("other") and loaded[2].attrs is not loaded[0].attrs
