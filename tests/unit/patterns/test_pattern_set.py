"""PatternSet (many patterns, one event) and the TestEventPattern helper."""

from __future__ import annotations

import json

import pytest

from stratus.services.events.patterns import (
    EventEnvelopeError,
    PatternError,
    compile,
    parse_test_event,
    run_test_event_pattern,
)
from stratus.services.events.patterns_set import PatternSet, anchor


def _event(source: str, detail_type: str = "t", **detail: object) -> dict[str, object]:
    return {"id": "1", "account": "123456789012", "source": source, "time": "2024-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail-type": detail_type, "detail": detail}


def test_anchor_prefers_fewest_values() -> None:
    p = compile({"source": ["a", "b"], "detail-type": ["x"], "detail": {"n": [{"numeric": [">", 1]}]}})
    assert anchor(p) == (("detail-type",), frozenset({"x"}))
    assert anchor(compile({"detail": {"state": ["on"]}})) == (("detail", "state"), frozenset({"on"}))
    assert anchor(compile({"source": [{"prefix": "a"}]})) is None
    assert anchor(compile({"$or": [{"source": ["a"]}, {"source": ["b"]}]})) is None


def test_many_patterns_correct_ids() -> None:
    rules = PatternSet()
    for i in range(1000):
        rules.add(f"source-{i}", compile({"source": [f"app.{i}"], "detail": {"action": ["go"]}}))
    rules.add("prefix", compile({"source": [{"prefix": "app.1"}]}))
    rules.add("or", compile({"$or": [{"source": ["app.7"]}, {"detail": {"action": ["stop"]}}]}))
    rules.add("any-stop", compile({"detail": {"action": [{"anything-but": "go"}]}}))
    assert len(rules) == 1003

    assert rules.matching(_event("app.7", action="go")) == ["source-7", "or"]
    assert rules.matching(_event("app.10", action="go")) == ["source-10", "prefix"]
    assert rules.matching(_event("app.5", action="stop")) == ["or", "any-stop"]
    assert rules.matching(_event("other", action="go")) == []


def test_candidates_skip_unrelated_patterns() -> None:
    rules = PatternSet((f"r{i}", compile({"source": [f"s{i}"]})) for i in range(500))
    assert rules.candidates(_event("s42")) == {"r42"}


def test_replace_and_remove() -> None:
    rules = PatternSet()
    rules.add("r", compile({"source": ["a"]}))
    rules.add("r", compile({"source": ["b"]}))
    assert rules.matching(_event("a")) == []
    assert rules.matching(_event("b")) == ["r"]
    rules.remove("r")
    rules.remove("missing")
    assert rules.matching(_event("b")) == [] and "r" not in rules


def test_anchor_through_event_arrays() -> None:
    rules = PatternSet([("r", compile({"detail": {"items": {"kind": ["book"]}}}))])
    assert rules.matching(_event("s", items=[{"kind": "pen"}, {"kind": "book"}])) == ["r"]
    assert rules.matching(_event("s", items=[{"kind": "pen"}])) == []


def test_test_event_pattern_envelope() -> None:
    event = json.dumps(_event("aws.ec2"))
    assert run_test_event_pattern('{"source": ["aws.ec2"]}', event) is True
    assert run_test_event_pattern('{"source": ["aws.s3"]}', event) is False
    missing = _event("aws.ec2")
    del missing["detail-type"]
    for bad in ("not json", "[]", json.dumps(missing)):
        with pytest.raises(EventEnvelopeError) as raised:
            parse_test_event(bad)
        assert raised.value.message == "Parameter Event is not valid."
    no_resources = _event("x")
    del no_resources["resources"]
    assert parse_test_event(json.dumps(no_resources))["source"] == "x"
    with pytest.raises(PatternError):
        run_test_event_pattern('{"source": "aws.ec2"}', event)


def test_sns_subscribe_detail() -> None:
    with pytest.raises(PatternError) as raised:
        compile({"a": "x"}, dialect="sns")
    assert raised.value.detail == 'FilterPolicy: "a" must be an object or an array'
