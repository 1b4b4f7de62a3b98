"""Policy and scenario files: arbitrary input gives the typed error or a valid object, nothing else.

``load_policy_toml`` (the server's ``--policy`` file, ``apply_policy``, ``fenliu policy check``)
must answer any text with a ``Policy`` or a ``PolicyError`` naming the problem; ``load_scenario``
(``fenliu replay``) any parsed JSON with a ``Scenario`` or a ``ScenarioError``. Hypothesis
generates arbitrary text and JSON, and mutations of the real files (lines dropped, doubled or
rewritten, values replaced by other TOML/JSON values, keys misspelt, trees pruned or retyped).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.routing.policy import Policy, PolicyError, load_policy_dict, load_policy_toml
from console.sim.scenario import Scenario, ScenarioError, load_scenario

pytestmark = pytest.mark.sqlite_only  # fuzzes files, not the store

REPO = Path(__file__).resolve().parents[2]
POLICY_TEXTS = [(REPO / "resources" / "policy.example.toml").read_text(encoding="utf-8")]
POLICY_TEXTS += [
    'preset = "douyin"\nseed = 3\n[queue]\nmode = "shop"\navg_handle = "2m"\n[[groups]]\nid = "presale"\ncap = 1\n'
    '[[agents]]\nid = "a1"\ngroups = ["presale"]\ncap = 1\n[[agents]]\nid = "sup"\nrole = "supervisor"\n',
    'preset = "taobao"\ntimezone = "Asia/Shanghai"\n[bot]\nshop_first = false\nhandoff_words = ["人工"]\n'
    '[questions]\nlive = ["几天发货"]\n[[groups]]\nid = "g"\nentries = ["dm"]\nbot = true\n'
    '[[agents]]\nid = "a1"\nname = "小美"\ngroups = ["g"]\n',
]
SCENARIO_FILES = sorted((REPO / "tests" / "scenarios").glob("*.json")) + sorted(
    (REPO / "resources" / "scenarios").glob("*.json"))
SCENARIOS = [json.loads(p.read_text(encoding="utf-8")) for p in SCENARIO_FILES]
LEAKS = ("Traceback", 'File "', ".py\"", "site-packages")

SETTINGS = settings(max_examples=1500, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

toml_literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("inf", "inf").replace("nan", "nan")),
    st.text(max_size=20).map(json.dumps),
    st.sampled_from(['""', "true", "false", "[]", "{}", '["a", 1]', '{ a = 1 }', "1979-05-27T07:32:00Z",
                     '"90s"', '"0s"', '"-1s"', '"1d2h"', '"99999999999d"', '"10x"', '"taobao"', '"douyin"',
                     '"kuaishou"', '"pinduoduo"', '"Mars/Base"', '"Asia/Shanghai"', "0", "-1", "1e400",
                     '"level"', '"random"', '"shop"', '"groups"', '"off"', '"main"', '"queue"', '"list"']),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=15),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def policy_text(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(POLICY_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 5))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            lines.append(draw(st.text(max_size=30)))
        elif op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(toml_literals)}"
        elif op == 3 and "=" in lines[i]:
            lines[i] = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=12)) + " =" + \
                lines[i].split("=", 1)[1]
        elif op == 4:
            lines.insert(i, draw(st.sampled_from(["[[agents]]", "[[groups]]", "[queue]", "[bot]", "[offline]",
                                                  "[recent]", "[exclusive]", "[questions]", "[x]", "[[x]]"])))
        else:
            lines.insert(i, draw(st.text(max_size=40)))
    text = "\n".join(lines)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _policy_outcome(call: Any) -> None:
    try:
        result = call()
    except PolicyError as exc:
        assert type(exc) is PolicyError
        assert str(exc) and not any(word in str(exc) for word in LEAKS), str(exc)
        return
    assert isinstance(result, Policy)


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_is_a_policy_or_a_policy_error(text: str) -> None:
    _policy_outcome(lambda: load_policy_toml(text))


@SETTINGS
@given(text=policy_text())
def test_mutated_policy_files(text: str) -> None:
    _policy_outcome(lambda: load_policy_toml(text))


@st.composite
def mutated_tree(draw: st.DrawFn, bases: list[Any]) -> Any:
    """A deep copy of one of ``bases`` with one to four nodes deleted, replaced or retyped."""
    tree = json.loads(json.dumps(draw(st.sampled_from(bases))))
    for _ in range(draw(st.integers(1, 4))):
        node = tree
        path: list[Any] = []
        while isinstance(node, dict | list) and node and draw(st.integers(0, 3)) > 0:
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append(key)
            node = node[key]
        if not path:
            continue
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.integers(0, 2))
        if op == 0:
            del parent[path[-1]]
        elif op == 1:
            parent[path[-1]] = draw(json_values)
        else:
            parent[path[-1]] = draw(st.sampled_from([None, 0, -1, 1.5, "", "x", [], {}, True, 10**30, "a1",
                                                     "agent:a1", "2026-11-11T09:00:00+08:00", "not a time"]))
    return tree


@SETTINGS
@given(data=mutated_tree([tomllib.loads(t) for t in POLICY_TEXTS]))
def test_mutated_policy_tables(data: Any) -> None:
    _policy_outcome(lambda: load_policy_dict(data))


def _scenario_outcome(data: Any) -> None:
    try:
        result = load_scenario(data)
    except ScenarioError as exc:
        assert type(exc) is ScenarioError
        assert str(exc) and not any(word in str(exc) for word in LEAKS), str(exc)
        return
    assert isinstance(result, Scenario)


@SETTINGS
@given(data=json_values)
def test_any_json_is_a_scenario_or_a_scenario_error(data: Any) -> None:
    _scenario_outcome(data)


@SETTINGS
@given(data=mutated_tree(SCENARIOS))
def test_mutated_scenario_files(data: Any) -> None:
    _scenario_outcome(data)


@pytest.mark.parametrize("where", ["do", "status", "why"])
def test_unhashable_values_in_a_scenario_are_a_scenario_error(where: str) -> None:
    data = json.loads(json.dumps(SCENARIOS[0]))
    step = {"do": {"t": 0, "do": [], "buyer": "b9"},
            "status": {"t": 0, "do": "status", "agent": "a1", "status": []},
            "why": {"t": 0, "expect": {"buyer": "b1", "why": {}}}}[where]
    data["steps"].append(step)
    _scenario_outcome(data)


def test_the_real_files_load() -> None:
    """The bases of the mutations are valid, so the mutations start from something real."""
    assert len(SCENARIOS) >= 10
    for text in POLICY_TEXTS:
        assert isinstance(load_policy_toml(text), Policy)
    for data in SCENARIOS:
        assert isinstance(load_scenario(data), Scenario)
