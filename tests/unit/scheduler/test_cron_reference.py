"""The field-by-field cron search against a slow, obvious reference: walk every UTC minute,
look at its wall time in the zone, and fire when the wall time matches the fields and this
instant is the wall time's first occurrence (AWS's daylight-saving rule)."""

from __future__ import annotations

import calendar
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stratus.services.scheduler.expressions import parse

DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}


def _number(token: str, names: dict[str, int]) -> int:
    return names.get(token.upper()) or int(token)


def _plain(text: str, low: int, high: int, value: int, names: dict[str, int]) -> bool:
    for item in text.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-")
            first, last = _number(a, names), _number(b, names)
        else:
            first = _number(base, names)
            last = high if step else first
        size = high - low + 1
        length = (last - first) % size
        offset = (value - first) % size
        if offset <= length and offset % int(step or 1) == 0:
            return True
    return False


def _aws_weekday(day: date) -> int:
    return day.isoweekday() % 7 + 1


def _day_matches(dom: str, dow: str, day: date) -> bool:
    month_end = calendar.monthrange(day.year, day.month)[1]
    if dom == "?":
        weekday = _aws_weekday(day)
        if dow == "L":
            return weekday == 7
        if "#" in dow:
            name, nth = dow.split("#")
            return weekday == _number(name, DAYS) and (day.day - 1) // 7 + 1 == int(nth)
        if dow.endswith("L"):
            return weekday == _number(dow[:-1], DAYS) and day.day + 7 > month_end
        return _plain(dow, 1, 7, weekday, DAYS)
    if dom == "L":
        return day.day == month_end
    if dom.endswith("W"):
        target = month_end if dom == "LW" else int(dom[:-1])
        if target > month_end:
            return False
        # the weekday nearest target without leaving the month
        weekdays = [
            d for d in range(1, month_end + 1)
            if _aws_weekday(date(day.year, day.month, d)) not in (1, 7)
        ]
        return day.day == min(weekdays, key=lambda d: abs(d - target))
    return _plain(dom, 1, 31, day.day, {})


def reference_next(expression: str, zone: ZoneInfo, after: datetime, horizon: timedelta):
    minutes, hours, dom, month, dow, year = expression[5:-1].split()
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= after + horizon:
        wall = t.astimezone(zone)
        naive = wall.replace(tzinfo=None)
        first_occurrence = naive.replace(tzinfo=zone, fold=0).astimezone(UTC) == t
        if (
            first_occurrence
            and _plain(minutes, 0, 59, wall.minute, {})
            and _plain(hours, 0, 23, wall.hour, {})
            and _plain(month, 1, 12, wall.month, MONTHS)
            and _plain(year, 1970, 2199, wall.year, {})
            and _day_matches(dom, dow, wall.date())
        ):
            return t
        t += timedelta(minutes=1)
    return None


def _random_expression(rng: random.Random) -> str:
    minutes = rng.choice(["*", "0", "*/7", "5/20", "10-20", "0,30", "50-10", "15-45/15"])
    hours = rng.choice(["*", "1", "2", "1-3", "0/6", "22-2", "1,2,3", "*/5"])
    day = rng.choice(
        [
            ("*", "?"), ("?", "*"), ("L", "?"), ("LW", "?"), ("15W", "?"), ("1W", "?"),
            ("31", "?"), ("1-10/3", "?"), ("?", "MON-FRI"), ("?", "FRI-MON"), ("?", "L"),
            ("?", "6L"), ("?", "SUNL"), ("?", "3#2"), ("?", "1#1"), ("?", "2,4,6"),
        ]
    )
    # every month list covers the months of AFTERS, so most cases fire within the horizon
    month = rng.choice(["*", "*", "1,3,4,10,11", "MAR-APR,OCT-NOV,JAN", "10-4"])
    return f"cron({minutes} {hours} {day[0]} {month} {day[1]} *)"


ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata",
         "Australia/Lord_Howe"]
# Instants close before daylight-saving changes in those zones (2024), and a plain one.
AFTERS = [
    datetime(2024, 3, 9, 22, 0, tzinfo=UTC),
    datetime(2024, 11, 2, 23, 0, tzinfo=UTC),
    datetime(2024, 3, 30, 20, 0, tzinfo=UTC),
    datetime(2024, 10, 26, 20, 0, tzinfo=UTC),
    datetime(2024, 4, 6, 10, 0, tzinfo=UTC),
    datetime(2024, 10, 5, 10, 0, tzinfo=UTC),
    datetime(2024, 1, 30, 17, 29, 30, tzinfo=UTC),
]


@pytest.mark.parametrize("seed", range(40))
def test_matches_the_minute_by_minute_reference(seed: int) -> None:
    rng = random.Random(seed)
    expression = _random_expression(rng)
    zone = ZoneInfo(rng.choice(ZONES))
    schedule = parse(expression, timezone=zone.key)
    after = rng.choice(AFTERS)
    horizon = timedelta(days=40)
    for _ in range(3):  # a few consecutive fires
        expected = reference_next(expression, zone, after, horizon)
        found = schedule.next_after(after)
        if expected is None:
            assert found is None or found > after + horizon, (expression, zone, after)
            break
        assert found == expected, (expression, zone.key, after)
        after = found
