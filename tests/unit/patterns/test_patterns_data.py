"""The pattern engine against our cases as data (tests/data/patterns/*.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stratus.services.events.patterns import PatternError, compile

DATA = Path(__file__).resolve().parents[2] / "data" / "patterns"


def _load(name: str, key: str = "cases") -> list[Any]:
    cases = json.loads((DATA / name).read_text())[key]
    return [pytest.param(case, id=case["name"]) for case in cases]


@pytest.mark.parametrize("case", _load("eventbridge_match.json"))
def test_eventbridge_match(case: dict[str, Any]) -> None:
    pattern = compile(json.dumps(case["pattern"]))
    assert pattern.matches(case["event"]) is case["match"]


@pytest.mark.parametrize("case", _load("eventbridge_invalid.json"))
def test_eventbridge_invalid(case: dict[str, Any]) -> None:
    with pytest.raises(PatternError) as raised:
        compile(case["pattern"])
    if "error" in case:
        assert raised.value.message == case["error"]
    else:
        assert raised.value.reason == case["reason"]
        assert raised.value.message.startswith(f"Event pattern is not valid. Reason: {case['reason']}\n at [Source: ")


@pytest.mark.parametrize("case", _load("sns.json"))
def test_sns_match(case: dict[str, Any]) -> None:
    scope = case.get("scope", "MessageAttributes")
    pattern = compile(json.dumps(case["policy"]), dialect="sns", scope=scope)
    if scope == "MessageBody":
        assert pattern.matches_message_body(case["body"]) is case["match"]
    else:
        assert pattern.matches_attributes(case["attributes"]) is case["match"]


@pytest.mark.parametrize("case", _load("sns.json", "invalid"))
def test_sns_invalid(case: dict[str, Any]) -> None:
    scope = case.get("scope", "MessageAttributes")
    if case["error"] is None:
        compile(case["policy"], dialect="sns", scope=scope)
        return
    with pytest.raises(PatternError) as raised:
        compile(case["policy"], dialect="sns", scope=scope)
    assert raised.value.message == case["error"]
    assert "at [Source" not in raised.value.message
