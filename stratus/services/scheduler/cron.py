"""AWS's six-field cron: parsing and the search for the next matching wall-clock minute.

The grammar is the one both EventBridge Scheduler ("Schedule types", cron-based) and
EventBridge rules ("Cron expressions reference") document:

    field         values              wildcards
    minutes       0-59                , - * /
    hours         0-23                , - * /
    day-of-month  1-31                , - * ? / L W
    month         1-12 or JAN-DEC     , - * /
    day-of-week   1-7 or SUN-SAT      , - * ? L #
    year          1970-2199           , - * /

Day-of-week counts 1 = SUN .. 7 = SAT (Quartz's numbering, not Unix's 0 = SUN). One of
day-of-month / day-of-week must be ``?`` and the other must not. A ``#`` day-of-week holds
a single expression ("3#1,6#3" is invalid). ``L``, ``LW``, ``nW``, ``nL`` and ``n#k`` stand
alone in their field, as in Quartz, the engine AWS's syntax comes from. Ranges may wrap
(``FRI-MON``, ``22-2``) as they do in Quartz, except in the year field.

This module knows nothing of time zones: ``CronSpec.next_wall`` finds the next naive
wall-clock minute matching the fields; the caller maps wall time to instants.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

MIN_YEAR = 1970
MAX_YEAR = 2199

# Spelled out rather than taken from calendar.month_abbr, which follows the process locale.
_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

_NUMBER = re.compile(r"\d{1,4}")


class CronSyntaxError(ValueError):
    """The expression breaks AWS's cron grammar. The message says where, for debugging: AWS's
    own answer names no detail, so ``parse`` replaces it with AWS's message."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None
    wraps: bool = True


_MINUTES = _Field("minutes", 0, 59)
_HOURS = _Field("hours", 0, 23)
_DOM = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTH_NAMES)
_DOW = _Field("day-of-week", 1, 7, _DAY_NAMES)
_YEAR = _Field("year", MIN_YEAR, MAX_YEAR, wraps=False)


def _value(field: _Field, token: str) -> int:
    upper = token.upper()
    if field.names and upper in field.names:
        return field.names[upper]
    if not _NUMBER.fullmatch(token):
        raise CronSyntaxError(f"{field.name}: {token!r} is not a value")
    number = int(token)
    if not field.low <= number <= field.high:
        raise CronSyntaxError(f"{field.name}: {number} is outside {field.low}-{field.high}")
    return number


def _range(field: _Field, first: int, last: int) -> list[int]:
    if first <= last:
        return list(range(first, last + 1))
    if not field.wraps:
        raise CronSyntaxError(f"{field.name}: range {first}-{last} runs backwards")
    return list(range(first, field.high + 1)) + list(range(field.low, last + 1))


def _values(field: _Field, text: str, *, steps: bool = True) -> frozenset[int]:
    """A field of values, ranges, increments and lists (no special characters)."""
    result: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        if slash:
            if not steps:
                raise CronSyntaxError(f"{field.name}: increments are not allowed")
            if not _NUMBER.fullmatch(step_text):
                raise CronSyntaxError(f"{field.name}: bad increment {step_text!r}")
            step = int(step_text)
            # Quartz (and AWS with it) refuses increments beyond the field's span, which is
            # why cron(*/60 * * * ? *) is rejected.
            if not 1 <= step <= max(field.high, field.high - field.low):
                raise CronSyntaxError(f"{field.name}: increment {step} is out of range")
        else:
            step = 1
        if base == "*":
            span = list(range(field.low, field.high + 1))
        elif "-" in base:
            first, _, last = base.partition("-")
            span = _range(field, _value(field, first), _value(field, last))
        else:
            start = _value(field, base)
            # "a/n" runs from a to the end of the field; a lone "a" is just a.
            span = list(range(start, field.high + 1)) if slash else [start]
        result.update(span[::step])
    return frozenset(result)


@dataclass(frozen=True)
class _DaySpec:
    """How days of a month are chosen: by day-of-month, or by day-of-week."""

    # day-of-month forms
    days: frozenset[int] | None = None  # plain values
    last_day: bool = False  # L
    nearest_weekday: int | None = None  # nW; 0 stands for LW
    # day-of-week forms (1 = SUN .. 7 = SAT)
    weekdays: frozenset[int] | None = None
    last_weekday: int | None = None  # nL: the last such weekday of the month
    nth_weekday: tuple[int, int] | None = None  # n#k: the k-th such weekday

    def days_in(self, year: int, month: int) -> tuple[int, ...]:
        return _days_in(self, year, month)


def _aws_weekday(year: int, month: int, day: int) -> int:
    return (date(year, month, day).weekday() + 1) % 7 + 1  # Monday=0 -> 2 ... Sunday=6 -> 1


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """Quartz's ``W``: the weekday nearest ``day`` without leaving the month."""
    month_end = calendar.monthrange(year, month)[1]
    if day > month_end:
        return 0  # 31W in a 30-day month: no such day, so no fire that month
    weekday = _aws_weekday(year, month, day)
    if weekday == 7:  # Saturday: the Friday before, or the Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday: the Monday after, or the Friday before at month end
        return day + 1 if day < month_end else day - 2
    return day


@lru_cache(maxsize=4096)
def _days_in(spec: _DaySpec, year: int, month: int) -> tuple[int, ...]:
    month_end = calendar.monthrange(year, month)[1]
    if spec.last_day:
        return (month_end,)
    if spec.nearest_weekday is not None:
        target = spec.nearest_weekday or month_end
        day = _nearest_weekday(year, month, target)
        return (day,) if day else ()
    if spec.days is not None:
        return tuple(d for d in sorted(spec.days) if d <= month_end)
    first_weekday = _aws_weekday(year, month, 1)
    if spec.nth_weekday is not None:
        weekday, nth = spec.nth_weekday
        day = 1 + (weekday - first_weekday) % 7 + 7 * (nth - 1)
        return (day,) if day <= month_end else ()
    if spec.last_weekday is not None:
        last_weekday = _aws_weekday(year, month, month_end)
        return (month_end - (last_weekday - spec.last_weekday) % 7,)
    assert spec.weekdays is not None
    return tuple(
        d for d in range(1, month_end + 1) if (first_weekday + d - 2) % 7 + 1 in spec.weekdays
    )


_NEAREST_WEEKDAY = re.compile(r"(\d{1,2})W", re.IGNORECASE)
_LAST_WEEKDAY = re.compile(r"(\w+?)L", re.IGNORECASE)
_NTH_WEEKDAY = re.compile(r"(\w+)#(\d+)")


def _day_of_month(text: str) -> _DaySpec:
    upper = text.upper()
    if upper == "L":
        return _DaySpec(last_day=True)
    if upper == "LW":
        return _DaySpec(nearest_weekday=0)
    if match := _NEAREST_WEEKDAY.fullmatch(text):
        return _DaySpec(nearest_weekday=_value(_DOM, match.group(1)))
    if "L" in upper or "W" in upper:
        raise CronSyntaxError(f"day-of-month: {text!r} misuses L or W")
    return _DaySpec(days=_values(_DOM, text))


def _day_of_week(text: str) -> _DaySpec:
    upper = text.upper()
    if upper == "L":  # the last day of the week: Saturday
        return _DaySpec(weekdays=frozenset({7}))
    if "#" in text:
        match = _NTH_WEEKDAY.fullmatch(text)
        if not match:
            raise CronSyntaxError("day-of-week: '#' allows a single expression")
        nth = int(match.group(2))
        if not 1 <= nth <= 5:
            raise CronSyntaxError(f"day-of-week: there is no {nth}th weekday in a month")
        return _DaySpec(nth_weekday=(_value(_DOW, match.group(1)), nth))
    if match := _LAST_WEEKDAY.fullmatch(text):
        return _DaySpec(last_weekday=_value(_DOW, match.group(1)))
    # AWS's table gives day-of-week no "/" wildcard.
    return _DaySpec(weekdays=_values(_DOW, text, steps=False))


@dataclass(frozen=True)
class CronSpec:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    days: _DaySpec

    @classmethod
    def parse(cls, body: str) -> CronSpec:
        """Parse the six fields between ``cron(`` and ``)``."""
        fields = body.split()
        if len(fields) != 6:
            raise CronSyntaxError(f"cron needs 6 fields, got {len(fields)}")
        minutes, hours, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise CronSyntaxError("exactly one of day-of-month and day-of-week must be '?'")
        days = _day_of_week(dow) if dom == "?" else _day_of_month(dom)
        return cls(
            minutes=tuple(sorted(_values(_MINUTES, minutes))),
            hours=tuple(sorted(_values(_HOURS, hours))),
            months=tuple(sorted(_values(_MONTH, month))),
            years=tuple(sorted(_values(_YEAR, year))),
            days=days,
        )

    def next_wall(self, start: datetime) -> datetime | None:
        """The first naive wall-clock minute at or after ``start`` (seconds ignored) that
        matches every field, or None when none is left before the end of year 2199.

        Field by field, largest first: each level jumps straight to its next allowed value,
        so a cron for a Monday 29 February costs a few hundred month look-ups, not a walk
        over every minute.
        """
        years = self.years
        for yi in range(bisect_left(years, start.year), len(years)):
            year = years[yi]
            same_year = year == start.year
            for month in self.months[bisect_left(self.months, start.month) if same_year else 0 :]:
                same_month = same_year and month == start.month
                days = self.days.days_in(year, month)
                for day in days[bisect_left(days, start.day) if same_month else 0 :]:
                    same_day = same_month and day == start.day
                    hours = self.hours[bisect_left(self.hours, start.hour) if same_day else 0 :]
                    for hour in hours:
                        same_hour = same_day and hour == start.hour
                        mi = bisect_left(self.minutes, start.minute) if same_hour else 0
                        if mi < len(self.minutes):
                            return datetime(year, month, day, hour, self.minutes[mi])
        return None

