"""The scenario suite (SCENARIOS.md): every scenario file replays with all expectations holding.

Scenarios come from the shared examples (``$FENLIU_SHARED/scenarios`` or ``../shared/scenarios``)
and from ``tests/scenarios``. Each runs in-process through ``fenliu replay FILE --check``. Invalid
files under ``tests/scenarios/invalid`` must exit 2 with the expected first line and print nothing
on stdout. A coverage test makes sure every numbered rule of ROUTING.md is named by some scenario.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from console.cli import main
from tests.conftest import REPO_ROOT, shared_dir

LOCAL = REPO_ROOT / "tests" / "scenarios"
SHARED = shared_dir() / "scenarios"
ROUTING = shared_dir() / "spec" / "ROUTING.md"

# Rules that a replay cannot show: they are about live connections and server restarts.
NOT_REPLAYABLE = {
    "R3.4": "disconnect grace: a server behaviour, replay has no connections (ROUTING.md says so)",
    "R10.7": "queued buyers kept across a server restart: a server test, replay has no restart",
    "R3.5": "explicit transfer: a request through the server (SCENARIOS.md has no transfer verb)",
}
# Reasons only those rules give: no replay can produce them.
NOT_REPLAYABLE_REASONS = {"transfer": "R3.5"}

# invalid file -> the start of the one line the replay must print on stderr (exit 2)
INVALID = {
    "01_unknown_verb.json": "step 2: unknown verb 'teleport'",
    "02_unknown_agent.json": "step 2: unknown agent 'zz'",
    "03_unknown_group_agent.json": "shop.agents[0].groups[0]: unknown group 'nope'",
    "04_unknown_group_target.json": "step 2: unknown group 'nope'",
    "05_bad_duration_step.json": "step 2: bad duration '5 minutes'",
    "06_bad_duration_policy.json": "shop.session.close_after: bad duration '10 min'",
    "07_missing_field.json": "step 2: missing field 'buyer'",
    "08_unknown_policy_key.json": "shop.queue.moed: unknown key",
    "09_time_backwards.json": "step 3: time goes backwards",
    "10_main_mode_without_main.json": "shop.offline.main: ",
    "11_unknown_policy_value.json": "shop.queue.mode: unknown value 'everywhere'",
    "12_unknown_status.json": "step 2: unknown status 'asleep'",
    "13_unknown_offline_agent.json": "shop.offline.agents[0]: unknown agent 'ghost'",
    "14_unknown_top_key.json": "shop.sede: unknown key",
    "15_group_listed_twice.json": "shop.agents[0].groups[1]: group 'g1' is listed twice",
}


def _valid_files() -> list[Path]:
    files = sorted(LOCAL.glob("*.json"))
    if SHARED.is_dir():
        files = sorted(SHARED.glob("*.json")) + files
    return files


def _id(path: Path) -> str:
    return f"{'local' if path.parent == LOCAL else 'shared'}/{path.stem}"


def _replay(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["replay", str(path), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("path", _valid_files(), ids=_id)
def test_scenario_expectations_hold(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _replay(capsys, path, "--check")
    assert code == 0, f"{path.name}:\n{err}"
    assert out, "a scenario prints its events"
    for line in out.splitlines():
        json.loads(line)


@pytest.mark.parametrize("path", _valid_files(), ids=_id)
def test_scenario_replay_is_byte_identical(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _replay(capsys, path)
    second = _replay(capsys, path)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_scenario_exits_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _replay(capsys, LOCAL / "invalid" / name, "--check")
    assert code == 2
    assert out == ""
    first = err.splitlines()[0] if err else ""
    assert first.startswith(INVALID[name]), first


def test_every_invalid_file_has_an_expected_line() -> None:
    assert {p.name for p in (LOCAL / "invalid").glob("*.json")} == set(INVALID)


def test_local_scenarios_have_name_and_rules() -> None:
    for path in sorted(LOCAL.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data.get("name"), str) and data["name"], path.name
        assert isinstance(data.get("rules"), list) and data["rules"], path.name


def _spec_rules() -> list[str]:
    if not ROUTING.is_file():
        pytest.skip(f"ROUTING.md not found at {ROUTING} (set FENLIU_SHARED)")
    return re.findall(r"\*\*(R\d+\.\d+)\*\*", ROUTING.read_text(encoding="utf-8"))


def _named_rules() -> set[str]:
    named: set[str] = set()
    for path in _valid_files():
        named.update(json.loads(path.read_text(encoding="utf-8")).get("rules", []))
    return named


def test_every_rule_is_named_by_a_scenario() -> None:
    spec = _spec_rules()
    families = {int(r[1:].split(".")[0]) for r in spec}
    assert families >= set(range(2, 11)), "ROUTING.md should number R2..R10"
    missing = [r for r in spec if r not in _named_rules() and r not in NOT_REPLAYABLE]
    assert not missing, f"rules no scenario names: {missing}"


def test_exemptions_are_real_rules() -> None:
    assert set(NOT_REPLAYABLE) <= set(_spec_rules())


def test_sections_without_numbered_rules_are_covered() -> None:
    """§11 presets and §12 reasons have no sub-rules: every preset is used, and R11/R12 are named."""
    named = _named_rules()
    assert {"R11", "R12"} <= named
    presets = {json.loads(p.read_text(encoding="utf-8"))["shop"].get("preset", "taobao") for p in _valid_files()}
    assert presets >= {"taobao", "douyin", "kuaishou", "pinduoduo"}


def test_every_reason_is_expected_somewhere() -> None:
    """Each decision reason of §12 is checked by at least one expectation."""
    text = ROUTING.read_text(encoding="utf-8") if ROUTING.is_file() else pytest.skip("no ROUTING.md")
    section = text.split("## 12. Decision reasons", 1)[1]
    reasons = set(re.findall(r"`([a-z_]+)`", section)) - {"closed"} - set(NOT_REPLAYABLE_REASONS)
    expected: set[str] = set()
    for path in _valid_files():
        for step in json.loads(path.read_text(encoding="utf-8"))["steps"]:
            why = step.get("expect", {}).get("why")
            if why:
                expected.add(why)
    assert not sorted(reasons - expected), f"reasons no scenario expects: {sorted(reasons - expected)}"
