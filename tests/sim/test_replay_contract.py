"""The replay contract of SCENARIOS.md: output lines, step indices, closes, exit codes.

Each test writes a small scenario to a temporary file and runs ``fenliu replay`` in-process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.cli import main

START = "2026-11-11T09:00:00+08:00"
BASE_FIELDS = ["step", "t", "buyer", "event", "to", "why"]
QUEUED_FIELDS = BASE_FIELDS + ["position", "eta", "tip"]


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], shop: dict[str, Any], steps: list[dict[str, Any]],
         *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"name": "contract", "rules": [], "start": START, "shop": shop, "steps": steps},
                               ensure_ascii=False), encoding="utf-8")
    code = main(["replay", str(path), *extra])
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def _status(t: Any, agent: str, status: str = "online") -> dict[str, Any]:
    return {"t": t, "do": "status", "agent": agent, "status": status}


def _arrive(t: Any, buyer: str, **kw: Any) -> dict[str, Any]:
    return {"t": t, "do": "arrive", "buyer": buyer, **kw}


QUEUE_SHOP = {"preset": "taobao", "seed": 7, "queue": {"mode": "shop", "tip_threshold": 1,
                                                       "tip_text": "前面还有{ahead}位", "busy_text": "请耐心等待"},
              "groups": [{"id": "g"}], "agents": [{"id": "a1", "groups": ["g"], "cap": 1}]}


def test_line_fields_and_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [_status(0, "a1"), _arrive("1s", "b1"), _arrive("2s", "b2"), {"t": "3s", "do": "close", "buyer": "b1"}]
    code, lines, _ = _run(tmp_path, capsys, QUEUE_SHOP, steps)
    assert code == 0
    events = [(line["buyer"], line["event"]) for line in lines]
    assert events == [("b1", "routed"), ("b2", "queued"), ("b1", "closed"), ("b2", "routed")]
    for line in lines:
        assert list(line) == (QUEUED_FIELDS if line["event"] == "queued" else BASE_FIELDS)
        assert isinstance(line["t"], float)
    queued = lines[1]
    assert queued == {"step": 2, "t": 2.0, "buyer": "b2", "event": "queued", "to": "queue:g", "why": "queued",
                      "position": 1, "eta": 180, "tip": "前面还有0位"}
    assert lines[3]["why"] == "dequeued" and lines[3]["to"] == "agent:a1" and lines[3]["step"] == 3


def test_tip_text_up_to_threshold_then_busy_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [_status(0, "a1"), _arrive("1s", "b1"), _arrive("2s", "b2"), _arrive("3s", "b3")]
    _, lines, _ = _run(tmp_path, capsys, QUEUE_SHOP, steps)
    tips = {line["buyer"]: (line["position"], line["tip"]) for line in lines if line["event"] == "queued"}
    assert tips == {"b2": (1, "前面还有0位"), "b3": (2, "请耐心等待")}


def test_later_position_changes_print_no_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [_status(0, "a1"), _arrive("1s", "b1"), _arrive("2s", "b2"), _arrive("3s", "b3"),
             {"t": "4s", "do": "close", "buyer": "b1"}]
    _, lines, _ = _run(tmp_path, capsys, QUEUE_SHOP, steps)
    assert [line for line in lines if line["buyer"] == "b3"] == [
        {"step": 3, "t": 3.0, "buyer": "b3", "event": "queued", "to": "queue:g", "why": "queued",
         "position": 2, "eta": 360, "tip": "请耐心等待"}]


def test_closed_lines_name_the_holder_and_use_agent_close_or_idle(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "groups": [{"id": "g", "products": ["p1"]}, {"id": "bots", "bot": True}],
            "agents": [{"id": "a1", "groups": ["g"]}]}
    steps = [_status(0, "a1"), _arrive("1s", "b1", product="p1"), _arrive("2s", "b2", product="p1"),
             _arrive("3s", "b3", product="p9"),
             {"t": "4s", "do": "close", "buyer": "b1"}, {"t": "1h", "do": "close", "buyer": "b9"}]
    code, lines, _ = _run(tmp_path, capsys, shop, steps)
    assert code == 0
    closed = [(line["buyer"], line["to"], line["why"], line["step"], line["t"]) for line in lines
              if line["event"] == "closed"]
    # b3: no product match keeps both groups; a human group wins over the bot group (R7.6) -> a1
    assert ("b1", "agent:a1", "agent_close", 4, 4.0) in closed
    assert ("b2", "agent:a1", "idle", 5, 602.0) in closed
    assert all(why in ("agent_close", "idle") for _, _, why, _, _ in closed)


def test_bot_close_names_the_bot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "bot": {"shop_first": True}, "agents": [{"id": "a1"}]}
    steps = [_status(0, "a1"), _arrive("1s", "b1"), _arrive("2s", "b2"), {"t": "3s", "do": "close", "buyer": "b1"},
             {"t": "1h", "do": "close", "buyer": "nobody"}]
    _, lines, _ = _run(tmp_path, capsys, shop, steps)
    closed = [(line["buyer"], line["to"], line["why"]) for line in lines if line["event"] == "closed"]
    assert closed == [("b1", "bot", "agent_close"), ("b2", "bot", "idle")]


def test_reroute_and_handoff_print_no_closed_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "bot": {"shop_first": True}, "agents": [{"id": "a1"}, {"id": "a2"}]}
    steps = [_status(0, "a1"), _status(0, "a2"),
             _arrive("1s", "b1"), {"t": "2s", "do": "say", "buyer": "b1", "text": "转人工"},
             {"t": "3s", "do": "say", "buyer": "b1", "text": "在吗"},
             _status("4s", "a1", "offline"), _status("4s", "a2", "offline"), _status("4s", "a1"),
             _arrive("5s", "b2")]
    code, lines, _ = _run(tmp_path, capsys, shop, steps)
    assert code == 0
    b1 = [(line["event"], line["why"], line["step"]) for line in lines if line["buyer"] == "b1"]
    assert b1[0] == ("routed", "shop_bot", 2)
    assert b1[1] == ("routed", "handoff", 3)
    assert all(event != "closed" for event, _, _ in b1)
    assert [why for _, why, _ in b1[2:]] == ["reroute_offline"] * len(b1[2:]) and len(b1) >= 3


def test_timer_events_carry_the_index_of_the_step_being_reached(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "agents": [{"id": "a1"}]}
    steps = [_status(0, "a1"), _arrive(0, "b1"), _arrive("1m", "b2"), _arrive("1h", "b3")]
    _, lines, _ = _run(tmp_path, capsys, shop, steps)
    closes = [(line["buyer"], line["step"], line["t"]) for line in lines if line["event"] == "closed"]
    assert closes == [("b1", 3, 600.0), ("b2", 3, 660.0)]
    # the timers fire before step 3's own event
    assert [line["buyer"] for line in lines][-1] == "b3"


def test_arrive_many_after_the_last_step_still_prints_with_the_last_index(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "agents": [{"id": "a1"}]}
    steps = [_status(0, "a1"), {"t": "10s", "do": "arrive_many", "prefix": "m", "count": 4, "every": "1m"},
             _arrive("1m30s", "x"), {"t": "2m", "do": "reply", "buyer": "x", "text": "您好"}]
    code, lines, _ = _run(tmp_path, capsys, shop, steps)
    assert code == 0
    arrivals = [(line["buyer"], line["step"], line["t"]) for line in lines if line["event"] == "routed"]
    # m1 during its own step; m2 (70s) while the clock moves to step 2; m3 (130s) and m4 (190s) after the
    # last step (index 3)
    assert arrivals == [("m1", 1, 10.0), ("m2", 2, 70.0), ("x", 2, 90.0), ("m3", 3, 130.0), ("m4", 3, 190.0)]


def test_steps_at_the_same_time_run_in_file_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "agents": [{"id": "a1"}]}
    steps = [_arrive(0, "b1"), _status(0, "a1"), _arrive(0, "b2")]
    _, lines, _ = _run(tmp_path, capsys, shop, steps)
    assert [(line["buyer"], line["to"], line["step"]) for line in lines] == [("b1", "pool", 0), ("b2", "agent:a1", 2)]


def test_exit_1_reports_the_failed_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "agents": [{"id": "a1"}]}
    steps = [_status(0, "a1"), _arrive("1s", "b1"),
             {"t": "1s", "expect": {"buyer": "b1", "to": "agent:a1"}},
             {"t": "2s", "expect": {"buyer": "b1", "to": "pool"}},
             {"t": "3s", "expect": {"buyer": "b1", "why": "recent"}}]
    code, lines, err = _run(tmp_path, capsys, shop, steps, "--check")
    assert code == 1
    assert lines, "the events are still printed"
    assert "step 3" in err and "step 4" in err and "step 2" not in err
    assert "pool" in err and "recent" in err
    # without --check the expectations only advance the clock
    code, _, _ = _run(tmp_path, capsys, shop, steps)
    assert code == 0


def test_invalid_file_prints_nothing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shop = {"preset": "taobao", "seed": 7, "agents": [{"id": "a1"}]}
    steps = [_status(0, "a1"), _arrive("1s", "b1"), {"t": "2s", "do": "arrive", "buyer": "b2", "colour": "red"}]
    code, lines, err = _run(tmp_path, capsys, shop, steps, "--check")
    assert code == 2 and lines == []
    assert err.splitlines()[0].startswith("step 2: ")
