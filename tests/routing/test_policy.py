"""Policy loading: presets (R11), defaults (SCENARIOS.md), and errors that name the key path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.policy_file import load_policy_file
from console.routing.durations import format_duration, parse_duration
from console.routing.policy import PolicyError, load_policy_dict, load_policy_toml
from console.sim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("1d2h", 93600), ("25h", 90000), ("10m", 600), (0, 0), (45, 45), (2.5, 2.5), ("1h30m", 5400),
])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "3x", "1.5h", "h", "-5s", -1, True, None, "2h1d", [], "1 h"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(bad)


def test_format_duration_round_trips() -> None:
    for seconds in (0, 59, 60, 3600, 86400 + 61):
        assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(("preset", "any_status", "window", "respect_cap", "pick", "queue", "offline"), [
    ("taobao", 86400, 259200, True, "level", "off", "pool"),
    ("douyin", 0, 172800, True, "least_saturated", "shop", "pool"),
    ("kuaishou", 0, 259200, False, "even_daily", "shop", "queue"),
    ("pinduoduo", 0, 259200, False, "random", "off", "list"),
])
def test_presets(preset: str, any_status: float, window: float, respect_cap: bool, pick: str, queue: str,
                 offline: str) -> None:
    policy = load_policy_dict({"preset": preset, "agents": [{"id": "a"}]})
    assert (policy.recent.any_status, policy.recent.window, policy.recent.respect_cap) == (any_status, window, respect_cap)
    assert (policy.pick.value, policy.queue.mode.value, policy.offline.mode.value) == (pick, queue, offline)
    assert policy.overridden == ()


def test_defaults_from_the_contract() -> None:
    policy = load_policy_dict({"agents": [{"id": "a1", "groups": ["g"]}, {"id": "boss", "role": "main"}],
                               "groups": [{"id": "g", "cap": 6}]})
    assert policy.preset == "taobao" and policy.timezone == "Asia/Shanghai" and policy.seed == 0
    a1, boss = policy.agents
    assert (a1.level, a1.role.value, a1.cap, a1.routable) == (3, "agent", 6, True)  # cap: largest of its groups
    assert (boss.cap, boss.routable) == (10, False)
    group = policy.groups[0]
    assert (group.name, group.pick.value, group.bot, group.cap) == ("g", "level", False, 6)
    assert policy.offline.main == "boss"  # first agent with role main
    assert policy.queue.tip_text == "排队中，您前面还有 {ahead} 位" and policy.close_after == 600
    assert policy.bot.handoff_words == ("人工", "转人工")


def test_overrides_are_listed() -> None:
    policy = load_policy_dict({"preset": "douyin", "pick": "random", "queue": {"overflow": True}, "agents": []})
    assert policy.overridden == ("pick", "queue.overflow")
    assert policy.queue.mode.value == "shop"  # the preset's value survives a partial override


@pytest.mark.parametrize(("data", "message"), [
    ({"agents": [{"id": "a"}], "queue": {"mode": "x"}}, "shop.queue.mode: unknown value 'x'"),
    ({"agents": [{"id": "a"}], "colour": 1}, "shop.colour: unknown key"),
    ({"agents": [{"id": "a"}], "queue": {"size": 1}}, "shop.queue.size: unknown key"),
    ({"agents": [{"id": "a", "groups": ["g"]}]}, "shop.agents[0].groups[0]: unknown group 'g'"),
    ({"agents": [{"id": "a", "level": 6}]}, "shop.agents[0].level: 6 is out of range"),
    ({"agents": [{"id": "a", "level": 0}]}, "shop.agents[0].level: 0 is out of range"),
    ({"preset": "jd", "agents": []}, "shop.preset: unknown value 'jd'"),
    ({"pick": "fastest", "agents": []}, "shop.pick: unknown value 'fastest'"),
    ({"agents": [], "groups": [{"id": "g", "pick": "x"}]}, "shop.groups[0].pick: unknown value 'x'"),
    ({"agents": [], "recent": {"window": "3 days"}}, "shop.recent.window: bad duration"),
    ({"agents": [], "offline": {"mode": "main"}}, "shop.offline.main: offline mode 'main' needs a main account"),
    ({"agents": [], "offline": {"mode": "list", "agents": ["ghost"]}}, "shop.offline.agents[0]: unknown agent 'ghost'"),
    ({"agents": [], "queue": {"mode": "groups", "groups": ["ghost"]}}, "shop.queue.groups[0]: unknown group 'ghost'"),
    ({"agents": [{"id": "a"}, {"id": "a"}]}, "shop.agents[1].id: duplicate id 'a'"),
    ({"agents": [], "groups": [{"id": "g"}, {"id": "g"}]}, "shop.groups[1].id: duplicate id 'g'"),
    ({"agents": [{"id": "a", "groups": ["g1", "g2", "g1"]}], "groups": [{"id": "g1"}, {"id": "g2"}]},
     "shop.agents[0].groups[2]: group 'g1' is listed twice"),
    ({"agents": [], "groups": [{"id": "g", "entries": ["shelf"]}]}, "shop.groups[0].entries[0]: unknown entry 'shelf'"),
    ({"agents": [], "groups": [{"id": "g", "orders": ["refunded"]}]}, "shop.groups[0].orders[0]: unknown value"),
    ({"agents": [], "matching": {"order": ["crowd", "crowd"]}}, "shop.matching.order: a dimension is listed twice"),
    ({"agents": [], "timezone": "Mars/Olympus"}, "shop.timezone: unknown time zone"),
    ({"agents": [], "recent": "24h"}, "shop.recent: expected a table"),
    ({"agents": "a1"}, "shop.agents: expected a list"),
    ({}, "shop.agents: missing"),
    ({"agents": [{"id": "a", "cap": 0}]}, "shop.agents[0].cap: 0 is out of range"),
    ({"agents": [{"id": "a", "routable": "yes"}]}, "shop.agents[0].routable: expected true or false"),
    ({"agents": [{"id": "a"}], "bot": {"assist": "yes"}}, "shop.bot.assist: expected true or false"),
])
def test_bad_policies_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_dict(data, "shop")
    assert str(caught.value).startswith(message)


def test_policy_check_refuses_a_group_listed_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SCENARIOS.md: an agent that lists the same group twice makes the policy invalid (it would
    count its cap twice in R10.4's slots); ``fenliu policy check`` names the key path."""
    from console.cli import main

    path = tmp_path / "policy.toml"
    path.write_text('[[groups]]\nid = "g1"\n\n[[agents]]\nid = "a1"\ngroups = ["g1", "g1"]\n', encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "agents[0].groups[1]: group 'g1' is listed twice" in err


def test_toml_syntax_errors_are_policy_errors() -> None:
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy_toml("preset = ")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy_file(tmp_path / "missing.toml")


def test_example_policy_and_demo_scenario_are_valid() -> None:
    policy = load_policy_file(REPO / "resources" / "policy.example.toml")
    assert {g.id for g in policy.groups} == {"presale", "aftersale", "live"}
    assert policy.entry_questions("live")  # R7.5: a question menu for the live entry
    load_scenario(json.loads((REPO / "resources" / "scenarios" / "demo.json").read_text(encoding="utf-8")))


def test_entry_questions_fall_back_to_group_bindings() -> None:
    policy = load_policy_dict({"agents": [], "groups": [
        {"id": "g1", "entries": ["live:几天发货", "live", "dm:发票"]}, {"id": "g2", "entries": ["live:有优惠券吗", "live:几天发货"]}]})
    assert policy.entry_questions("live") == ("几天发货", "有优惠券吗")
    assert policy.entry_questions("dm") == ("发票",)
    assert policy.entry_questions("other") == ()


def test_bot_assist_is_off_unless_the_policy_turns_it_on() -> None:
    assert not load_policy_dict({"agents": [{"id": "a"}]}, "shop").bot.assist
    assert load_policy_dict({"agents": [{"id": "a"}], "bot": {"assist": True}}, "shop").bot.assist
    example = (REPO / "resources" / "policy.example.toml").read_text(encoding="utf-8")
    assert load_policy_toml(example).bot.assist  # the demo's policy turns it on
