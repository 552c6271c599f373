"""Schedule expressions: parsing and fire times, driven by the cases in tests/data/schedules."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stratus.services.scheduler.expressions import (
    AtSchedule,
    CronSchedule,
    RateSchedule,
    ScheduleError,
    flexible_fire_time,
    parse,
)

DATA = Path(__file__).parents[2] / "data" / "schedules"


def _cases(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / f"{name}.json").read_text())["cases"]


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _id(case: dict[str, Any]) -> str:
    return case.get("name") or case["expression"]


@pytest.mark.parametrize(
    ("expression", "flavour"),
    [(c["expression"], f) for c in _cases("parse_valid") for f in c["flavours"]],
)
def test_valid_expressions_parse(expression: str, flavour: str) -> None:
    schedule = parse(expression, flavour=flavour)  # type: ignore[arg-type]
    assert schedule.expression == expression
    assert schedule.kind == expression.split("(")[0]


@pytest.mark.parametrize(
    ("expression", "flavour"),
    [
        (c["expression"], f)
        for c in _cases("parse_invalid")
        for f in c.get("flavours", ["scheduler", "rule"])
    ],
)
def test_invalid_expressions_give_aws_message(expression: str, flavour: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse(expression, flavour=flavour)  # type: ignore[arg-type]
    expected = (
        "Parameter ScheduleExpression is not valid."
        if flavour == "rule"
        else f"Invalid Schedule Expression {expression}."
    )
    assert caught.value.message == expected
    assert str(caught.value) == expected


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="Mars/Olympus_Mons"):
        parse("rate(5 minutes)", timezone="Mars/Olympus_Mons")


def test_rules_are_always_utc() -> None:
    assert parse("cron(0 10 * * ? *)", flavour="rule").timezone.key == "UTC"
    with pytest.raises(ValueError):
        parse("cron(0 10 * * ? *)", timezone="Europe/London", flavour="rule")


def test_parse_gives_the_kind_of_schedule() -> None:
    assert isinstance(parse("at(2030-01-01T00:00:00)"), AtSchedule)
    assert isinstance(parse("rate(2 hours)"), RateSchedule)
    assert parse("rate(2 hours)").period == timedelta(hours=2)  # type: ignore[attr-defined]
    assert isinstance(parse("cron(0 10 * * ? *)"), CronSchedule)


@pytest.mark.parametrize("case", _cases("cron_next"), ids=_id)
def test_cron_next_fire_times(case: dict[str, Any]) -> None:
    schedule = parse(case["expression"], timezone=case.get("timezone", "UTC"))
    after = _instant(case["after"])
    fired: list[datetime | None] = []
    for _ in case["expected"]:
        assert after is not None
        after = schedule.next_after(after)
        fired.append(after)
    assert fired == [_instant(t) for t in case["expected"]]
    assert all(t is None or t.tzinfo is UTC for t in fired)


@pytest.mark.parametrize("case", _cases("rate_next"), ids=_id)
def test_rate_next_fire_times(case: dict[str, Any]) -> None:
    schedule = parse(case["expression"], timezone=case.get("timezone", "UTC"))
    anchor = _instant(case["anchor"])
    after = _instant(case["after"])
    fired = []
    for _ in case["expected"]:
        assert after is not None
        after = schedule.next_after(after, anchor=anchor)
        fired.append(after)
    assert fired == [_instant(t) for t in case["expected"]]


def test_rate_needs_an_anchor() -> None:
    with pytest.raises(ValueError):
        parse("rate(5 minutes)").next_after(datetime(2024, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("case", _cases("at"), ids=_id)
def test_at_is_a_wall_time_in_its_zone(case: dict[str, Any]) -> None:
    schedule = parse(case["expression"], timezone=case["timezone"])
    expected = _instant(case["expected"])
    assert expected is not None
    assert schedule.next_after(expected - timedelta(seconds=1)) == expected
    assert schedule.next_after(expected) is None


@pytest.mark.parametrize("case", _cases("windows"), ids=_id)
def test_next_in_window(case: dict[str, Any]) -> None:
    schedule = parse(case["expression"], timezone=case.get("timezone", "UTC"))
    found = schedule.next_in_window(
        _instant(case["after"]),  # type: ignore[arg-type]
        _instant(case.get("start")),
        _instant(case.get("end")),
        anchor=_instant(case.get("anchor")),
    )
    assert found == _instant(case["expected"])


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        parse("cron(0 10 * * ? *)").next_after(datetime(2024, 1, 1))


def test_parse_is_cached_per_expression_and_zone() -> None:
    first = parse("cron(0 9 * * ? *)", timezone="Asia/Kolkata")
    assert parse("cron(0 9 * * ? *)", timezone="Asia/Kolkata") is first
    assert parse("cron(0 9 * * ? *)", timezone="UTC") is not first


def test_flexible_window_picks_inside_the_window_deterministically() -> None:
    scheduled = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    picks = [flexible_fire_time(scheduled, 15, random.Random(seed)) for seed in range(200)]
    assert all(scheduled <= p < scheduled + timedelta(minutes=15) for p in picks)
    assert len(set(picks)) > 100  # spread over the window, not one fixed offset
    again = [flexible_fire_time(scheduled, 15, random.Random(seed)) for seed in range(200)]
    assert picks == again


@pytest.mark.parametrize("minutes", [0, 1441, -5])
def test_flexible_window_bounds(minutes: int) -> None:
    with pytest.raises(ValueError):
        flexible_fire_time(datetime(2024, 1, 1, tzinfo=UTC), minutes, random.Random(1))
