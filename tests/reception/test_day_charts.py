"""The day in pictures from a day's records (issue 14): known days, figure by figure."""

from __future__ import annotations

from console.reception.day_charts import day_charts
from console.reception.kpi import DayRange
from console.reception.report import DayRecords, DecisionRecord, WaitRecord

M = 60.0
DAY = DayRange(start=0.0, end=86400.0)


def _d(buyer: str, event: str, target: str, why: str, at: float) -> DecisionRecord:
    return DecisionRecord(buyer=buyer, event=event, target=target, why=why, rule="R", at=at)


def _records(decisions: list[DecisionRecord], waits: list[WaitRecord] = ()) -> DayRecords:  # type: ignore[assignment]
    return DayRecords(day=DAY, decisions=decisions, messages=[], ratings=[], waits=list(waits), orders=[],
                      receptions=[], buyer_names={}, agents=[("a1", "小美"), ("a2", "")])


def test_arrivals_queue_load_and_reasons_per_five_minutes() -> None:
    decisions = [
        _d("old", "queued", "queue:presale", "queued", -10 * M),  # queued before midnight: still queued at 0
        _d("b1", "routed", "agent:a1", "recent", 1 * M),
        _d("b2", "routed", "agent:a1", "group", 2 * M),
        _d("b3", "queued", "queue:presale", "queued", 3 * M),
        _d("b1", "closed", "agent:a1", "agent_close", 6 * M),
        _d("b3", "routed", "agent:a2", "dequeued", 7 * M),
        _d("old", "routed", "agent:a2", "dequeued", 12 * M),
        _d("b2", "routed", "agent:a2", "transfer", 13 * M),
    ]
    charts = day_charts(_records(decisions), now=17 * M)
    assert charts.start == 0.0 and charts.bucket_s == 300.0
    assert charts.arrivals == [3, 0, 0, 0]  # b1, b2, b3 began in the first five minutes; old the day before
    assert charts.queue == [2, 2, 1, 0]  # the most at any moment: old and b3 until 7 min, old until 12
    by_agent = {a.agent: a for a in charts.load}
    assert by_agent["a1"].name == "小美" and by_agent["a2"].name == "a2"
    assert by_agent["a1"].load == [2, 2, 1, 0]  # b1 closed at 6, b2 transferred away at 13
    assert by_agent["a2"].load == [0, 1, 3, 3]
    assert [(r.reason, r.count) for r in charts.reasons] == [("group", 1), ("queued", 1), ("recent", 1)]


def test_the_three_minute_rate_per_hour_and_a_past_day_runs_to_midnight() -> None:
    waits = [WaitRecord(buyer="b1", agent="a1", started=10 * M, answered=11 * M),
             WaitRecord(buyer="b2", agent="a1", started=20 * M, answered=30 * M),
             WaitRecord(buyer="b3", agent="a1", started=130 * M, answered=None)]
    charts = day_charts(_records([], waits), now=10 * 86400.0)
    assert charts.response_3min[:3] == [0.5, None, 0.0] and len(charts.response_3min) == 24
    assert len(charts.arrivals) == len(charts.queue) == 288 and charts.queue == [0] * 288
    assert charts.reasons == []
