"""Schedule expressions of EventBridge Scheduler and of EventBridge schedule rules.

``parse(expression, timezone=..., flavour=...)`` turns ``at(...)``, ``rate(...)`` or
``cron(...)`` into a ``Schedule`` whose ``next_after`` / ``next_in_window`` give fire times
as aware UTC datetimes. Pure code: no clock, no store.

Sources: EventBridge Scheduler User Guide, "Schedule types in EventBridge Scheduler"
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html), the
EventBridge User Guide "Cron expressions reference" / "Setting a schedule pattern for
scheduled rules" (https://docs.aws.amazon.com/eventbridge/latest/userguide/
eb-scheduled-rule-pattern.html) and the CreateSchedule API reference (StartDate, EndDate,
FlexibleTimeWindow).
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stratus.services.scheduler.cron import CronSpec, CronSyntaxError

Flavour = Literal["scheduler", "rule"]

_ONE_MINUTE = timedelta(minutes=1)
# Added to a bound to make an exclusive "after" include the bound itself.
_TICK = timedelta(microseconds=1)

_RULE_MESSAGE = "Parameter ScheduleExpression is not valid."

_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_RATE = re.compile(r"rate\((\d+) +(minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    """An invalid schedule expression or time zone; ``message`` is what AWS answers in its
    ValidationException (the provider raises its own ValidationException with it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


class Schedule(ABC):
    """A parsed schedule expression bound to the time zone it is evaluated in."""

    kind: ClassVar[Literal["at", "rate", "cron"]]
    expression: str
    timezone: ZoneInfo

    @abstractmethod
    def next_after(self, after: datetime, *, anchor: datetime | None = None) -> datetime | None:
        """The first fire time strictly after ``after`` (aware), in UTC; None if none is left.

        ``anchor`` is the instant a rate schedule counts from; the others ignore it.
        """

    def next_in_window(
        self,
        after: datetime,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        anchor: datetime | None = None,
    ) -> datetime | None:
        """The first fire time strictly after ``after`` that lies in [start, end).

        CreateSchedule: StartDate is "the date after which the schedule can begin invoking
        its target ... invocations might occur on, or after, the StartDate" (inclusive) and
        EndDate "the date before which the schedule can invoke its target" (exclusive). A
        rate schedule counts from ``anchor``, else from ``start``.
        """
        _require_aware(after, "after")
        if start is not None:
            _require_aware(start, "start")
            if start > after:
                after = start - _TICK
        candidate = self.next_after(after, anchor=anchor if anchor is not None else start)
        if candidate is None or (end is not None and candidate >= end):
            return None
        return candidate


@dataclass(frozen=True)
class AtSchedule(Schedule):
    """``at(yyyy-mm-ddThh:mm:ss)``: one invocation at that wall time in ``timezone``."""

    kind: ClassVar[Literal["at"]] = "at"
    expression: str
    timezone: ZoneInfo
    when: datetime  # aware, UTC

    def next_after(self, after: datetime, *, anchor: datetime | None = None) -> datetime | None:
        _require_aware(after, "after")
        return self.when if self.when > after else None

    def next_in_window(
        self,
        after: datetime,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        anchor: datetime | None = None,
    ) -> datetime | None:
        # CreateSchedule: "EventBridge Scheduler ignores StartDate [and EndDate] for
        # one-time schedules."
        return self.next_after(after)


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """``rate(value unit)``: fire times are ``anchor + k * period`` for k >= 0.

    The anchor is the StartDate, or the creation time when there is none (Scheduler: "If you
    don't provide a StartDate for a rate-based schedule, your schedule starts invoking the
    target immediately"). Periods are exact durations, blind to daylight saving: AWS
    ("How can I adjust my Amazon EventBridge schedule for daylight saving?") says a day is
    24 hours and the next run is "24 hours after the schedule's last invocation" even when
    the local day is 23 or 25 hours long. To include the anchor itself as the first fire,
    ask for ``next_after(anchor - tiny, anchor=anchor)``; for EventBridge rules, whose rate
    "starts when you create the rule", ask for ``next_after(created, anchor=created)``.
    """

    kind: ClassVar[Literal["rate"]] = "rate"
    expression: str
    timezone: ZoneInfo
    period: timedelta

    def next_after(self, after: datetime, *, anchor: datetime | None = None) -> datetime | None:
        _require_aware(after, "after")
        if anchor is None:
            raise ValueError("a rate schedule needs an anchor (start date or creation time)")
        _require_aware(anchor, "anchor")
        anchor = anchor.astimezone(UTC)
        if after < anchor:
            return anchor
        periods = (after - anchor) // self.period + 1
        return anchor + periods * self.period


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """``cron(minutes hours day-of-month month day-of-week year)`` in ``timezone``.

    Daylight saving, as AWS documents it (Scheduler User Guide, "Schedule types", section
    "Daylight savings time on EventBridge Scheduler"; AWS knowledge center
    "eventbridge-scheduler-adjust-dst"): "When the time shifts forward in Spring, your
    schedule invocation gets skipped if the cron expression falls on a non-existent date and
    time. When the time shifts back in the Fall, your schedule runs only once and doesn't
    repeat its invocation." So a wall time inside the gap never fires, and a wall time that
    occurs twice fires at its first occurrence (the earlier UTC instant, fold=0) only.
    """

    kind: ClassVar[Literal["cron"]] = "cron"
    expression: str
    timezone: ZoneInfo
    spec: CronSpec

    def next_after(self, after: datetime, *, anchor: datetime | None = None) -> datetime | None:
        _require_aware(after, "after")
        tz = self.timezone
        after_utc = after.astimezone(UTC)
        wall = after_utc.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0, fold=0)
        wall += _ONE_MINUTE
        # Wall times map to instants monotonically once gaps are dropped and repeats take
        # fold=0, so the first matching wall time whose instant is past ``after`` is the
        # answer. Only inside a repeated hour (``after`` in its second pass) does an
        # earlier-mapped wall time need skipping: at most an hour of matches.
        while (candidate := self.spec.next_wall(wall)) is not None:
            instant = _instant(candidate, tz)
            if instant is not None and instant > after_utc:
                return instant
            wall = candidate + _ONE_MINUTE
        return None


def _instant(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of naive wall time ``wall`` in ``tz``: the first one when the wall
    time repeats, None when it falls in a daylight-saving gap."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # AWS documents no message for an unknown ScheduleExpressionTimezone; this one is ours.
        raise ScheduleError(f"Invalid time zone {name}.") from None


def parse(expression: str, *, timezone: str = "UTC", flavour: Flavour = "scheduler") -> Schedule:
    """Parse ``expression`` as EventBridge Scheduler (``flavour="scheduler"``: at/rate/cron,
    evaluated in ``timezone``) or an EventBridge rule (``flavour="rule"``: rate/cron, always
    UTC) does; raise ``ScheduleError`` with AWS's message if it is invalid."""
    if flavour == "rule" and timezone != "UTC":
        raise ValueError("EventBridge rules evaluate schedules in UTC")
    return _parse(expression, timezone, flavour)


@lru_cache(maxsize=2048)
def _parse(expression: str, timezone: str, flavour: Flavour) -> Schedule:
    zone = _zone(timezone)
    invalid = ScheduleError(
        _RULE_MESSAGE if flavour == "rule" else f"Invalid Schedule Expression {expression}."
    )
    if match := _RATE.fullmatch(expression):
        value, unit = int(match.group(1)), match.group(2)
        # AWS: a value of 1 takes the singular unit and any other value the plural one
        # (rate(1 minutes) and rate(5 minute) are both rejected).
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise invalid
        period = timedelta(seconds=value * _RATE_UNITS[unit.rstrip("s")])
        return RateSchedule(expression=expression, timezone=zone, period=period)
    if match := _CRON.fullmatch(expression):
        try:
            spec = CronSpec.parse(match.group(1))
        except CronSyntaxError:
            raise invalid from None
        return CronSchedule(expression=expression, timezone=zone, spec=spec)
    if flavour == "scheduler" and (match := _AT.fullmatch(expression)):
        try:
            wall = datetime(*(int(part) for part in match.groups()))
        except ValueError:
            raise invalid from None
        # AWS documents nothing for an at() inside a daylight-saving gap or repeated hour;
        # a one-time schedule that silently never fires would be worse than firing, so the
        # wall time takes the offset in force before the change (fold=0): 02:30 on a
        # spring-forward night fires at 03:30 new time, a repeated 01:30 at its first pass.
        when = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        return AtSchedule(expression=expression, timezone=zone, when=when)
    raise invalid


def flexible_fire_time(
    scheduled: datetime, maximum_window_minutes: int, rng: random.Random
) -> datetime:
    """The moment to invoke within a FLEXIBLE time window.

    Scheduler User Guide ("Configuring flexible time windows"): with a 15 minute window the
    schedule "invokes the target within 15 minutes after the scheduled time", to disperse
    invocations; MaximumWindowInMinutes is 1-1440. Here a uniform pick at second precision,
    drawn from ``rng`` so tests can fix it.
    """
    if not 1 <= maximum_window_minutes <= 1440:
        raise ValueError("MaximumWindowInMinutes must be between 1 and 1440")
    return scheduled + timedelta(seconds=rng.randrange(maximum_window_minutes * 60))
