"""Cron schedules in a time zone across a daylight-saving change, and schedules surviving a crash.

Each test starts a server of its own: it moves the clock to an exact position. The cron is
the one the MWAA blog post pauses its environment with, ``0 18 ? * MON-FRI *``.
Daylight saving: Scheduler User Guide, "Schedule types", "Daylight savings time": a wall
time skipped by the spring change does not fire that day.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.integration.scheduler.conftest import OFF, ROLE, Cloud

NEW_YORK = ZoneInfo("America/New_York")
AT = '{"at":"<aws.scheduler.scheduled-time>"}'


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _move_to(cloud: Cloud, moment: datetime) -> None:
    now = cloud.now_ms()
    assert _ms(moment) > now, "the test's dates must lie ahead of the real clock"
    cloud.advance((_ms(moment) - now) / 1000)


def test_cron_in_new_york_across_the_spring_change(own_cloud: Callable[[], tuple[object, Cloud]], unique: Callable[[str], str]) -> None:
    _, cloud = own_cloud()
    # Saturday 13 March 2027, noon in New York (EST, UTC-5). Clocks go forward on Sunday 14 March
    # at 02:00 to 03:00 (EDT, UTC-4).
    _move_to(cloud, datetime(2027, 3, 13, 12, 0, tzinfo=NEW_YORK))
    pause_url, pause_arn = cloud.queue(unique("pause"))
    gap_url, gap_arn = cloud.queue(unique("gap"))
    for name, expression, arn in (
        ("pause", "cron(0 18 ? * MON-FRI *)", pause_arn),
        ("gap", "cron(30 2 * * ? *)", gap_arn),  # 02:30 does not exist on 14 March
    ):
        cloud.scheduler.create_schedule(
            Name=unique(name), ScheduleExpression=expression, ScheduleExpressionTimezone="America/New_York",
            FlexibleTimeWindow=OFF, Target={"Arn": arn, "RoleArn": ROLE, "Input": AT},
        )

    # Just past 02:30 EDT on Monday: the 02:30 schedule skipped Sunday's non-existent 02:30.
    _move_to(cloud, datetime(2027, 3, 15, 6, 30, 30, tzinfo=UTC))
    fired = [json.loads(m["Body"])["at"] for m in cloud.messages(gap_url)]
    assert fired == ["2027-03-15T06:30:00Z"]  # 02:30 EDT; EST would have been 07:30Z

    # Monday 18:00 in New York is 22:00Z now that daylight saving time is on.
    _move_to(cloud, datetime(2027, 3, 15, 22, 0, 30, tzinfo=UTC))
    fired = [json.loads(m["Body"])["at"] for m in cloud.messages(pause_url)]
    assert fired == ["2027-03-15T22:00:00Z"]

    # The next weekday, same wall time.
    _move_to(cloud, datetime(2027, 3, 16, 22, 0, 30, tzinfo=UTC))
    assert [json.loads(m["Body"])["at"] for m in cloud.messages(pause_url)] == ["2027-03-16T22:00:00Z"]


def test_pending_schedule_fires_after_a_crash(own_cloud: Callable[[], tuple[object, Cloud]], unique: Callable[[str], str]) -> None:
    server, cloud = own_cloud()
    url, arn = cloud.queue(unique("after-crash"))
    when = cloud.now_ms() + 600_000
    at = datetime.fromtimestamp(when / 1000, UTC)
    cloud.scheduler.create_schedule(
        Name=unique("pending"), ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        FlexibleTimeWindow=OFF, Target={"Arn": arn, "RoleArn": ROLE, "Input": AT},
    )
    rate_url, rate_arn = cloud.queue(unique("rate"))
    cloud.scheduler.create_schedule(
        Name=unique("hourly"), ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
        Target={"Arn": rate_arn, "RoleArn": ROLE, "Input": AT},
    )
    assert len(cloud.messages(rate_url)) == 1  # a rate schedule starts at once

    server.restart()  # SIGKILL, then start on the same store
    cloud = Cloud(cloud.endpoint)
    cloud.advance(601)
    assert [json.loads(m["Body"])["at"] for m in cloud.messages(url)] == [at.strftime("%Y-%m-%dT%H:%M:%SZ")]
    cloud.advance(3600)
    assert len(cloud.messages(rate_url)) == 1
