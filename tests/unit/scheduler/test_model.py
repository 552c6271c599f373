"""Scheduler's pure rules: request checks, fire times, context attributes, retries, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stratus.aws.api.scheduler import ValidationException
from stratus.services.scheduler.model import (
    Invocation,
    Schedule,
    fire_after_ms,
    schedule_config,
    universal_operation,
)

NOW = int(datetime(2027, 3, 13, 17, 0, tzinfo=UTC).timestamp() * 1000)
TARGET = {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"}


def _request(**extra: Any) -> dict[str, Any]:
    return {"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": TARGET, **extra}


def _schedule(config: dict[str, Any], anchor_ms: int = NOW) -> Schedule:
    return Schedule("000000000000", "us-east-1", "default", "s", "ENABLED", config, anchor_ms, None, 1, NOW, NOW)


def test_config_fills_defaults_and_drops_what_is_absent() -> None:
    config = schedule_config(_request(), NOW)
    assert config["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert config["ActionAfterCompletion"] == "NONE"
    assert "StartDate" not in config and "ScheduleExpressionTimezone" not in config


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ScheduleExpression": "rate(1 minutes)"}, "Invalid Schedule Expression rate(1 minutes)."),
        ({"StartDate": datetime(2027, 3, 13, 16, 0, tzinfo=UTC)}, "The StartDate you specify cannot be earlier than 5 minutes ago."),
        (
            {"StartDate": datetime(2027, 3, 20, tzinfo=UTC), "EndDate": datetime(2027, 3, 19, tzinfo=UTC)},
            "The EndDate you specify must be after the StartDate.",
        ),
        ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}}, "MaximumWindowInMinutes must be provided when Mode is FLEXIBLE."),
        ({"Target": {**TARGET, "SqsParameters": {"MessageGroupId": "g"}, "Arn": "arn:aws:sns:us-east-1:000000000000:t"}},
         "SqsParameters can only be used with an Amazon SQS target."),
    ],
)
def test_config_refuses(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as excinfo:
        schedule_config(_request(**extra), NOW)
    assert excinfo.value.message == message


def test_one_time_schedules_ignore_start_and_end_dates() -> None:
    past = datetime(2020, 1, 1, tzinfo=UTC)
    config = schedule_config(_request(ScheduleExpression="at(2027-03-14T12:00:00)", StartDate=past, EndDate=past), NOW)
    assert _schedule(config).next_fire_ms(NOW) == int(datetime(2027, 3, 14, 12, tzinfo=UTC).timestamp() * 1000)


def test_rate_starts_at_its_anchor_and_stops_before_the_end_date() -> None:
    end = datetime(2027, 3, 13, 19, 30, tzinfo=UTC)
    schedule = _schedule(schedule_config(_request(EndDate=end), NOW))
    assert schedule.next_fire_ms(NOW - 1) == NOW
    assert schedule.next_fire_ms(NOW) == NOW + 3_600_000
    assert schedule.next_fire_ms(NOW + 3_600_000) == NOW + 7_200_000  # 19:00
    assert schedule.next_fire_ms(NOW + 7_200_000) is None  # 20:00 is past the 19:30 end


def test_context_attributes_are_filled_in() -> None:
    invocation = Invocation(
        "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s", "000000000000", "us-east-1",
        {**TARGET, "Input": '{"a":"<aws.scheduler.scheduled-time>","b":"<aws.scheduler.attempt-number>",'
                            '"c":"<aws.scheduler.execution-id>","d":"<aws.scheduler.schedule-arn>"}'},
        NOW, "d32c5kddcf5bb8c3", attempt=2,
    )
    assert invocation.payload() == (
        '{"a":"2027-03-13T17:00:00Z","b":"2","c":"d32c5kddcf5bb8c3",'
        '"d":"arn:aws:scheduler:us-east-1:000000000000:schedule/default/s"}'
    )


def test_retries_stop_at_the_attempts_or_the_age_limit() -> None:
    target = {**TARGET, "RetryPolicy": {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 3}}
    invocation = Invocation("arn", "000000000000", "us-east-1", target, NOW, "x")
    assert invocation.retry_due_ms(NOW) == (NOW + 1000, "")
    invocation.attempt = 4
    assert invocation.retry_due_ms(NOW) == (None, "MaximumRetryAttempts")
    invocation.attempt = 2
    assert invocation.retry_due_ms(NOW + 59_000) == (None, "MaximumEventAgeInSeconds")
    attributes = invocation.dead_letter_attributes("Throttling", "slow down", "MaximumEventAgeInSeconds")
    assert attributes["RETRY_ATTEMPTS"] == {"DataType": "String", "StringValue": "1"}
    assert "EXHAUSTED_RETRY_CONDITION" not in invocation.dead_letter_attributes("AccessDenied", "no", "")


def test_universal_target_arns() -> None:
    assert universal_operation("arn:aws:scheduler:::aws-sdk:sqs:sendMessage") == ("sqs", "sendMessage")
    assert universal_operation("arn:aws:scheduler:::aws-sdk:sfn:startExecution") == ("stepfunctions", "startExecution")
    assert universal_operation("arn:aws:scheduler:::aws-sdk:sqs") is None


def test_a_clock_jump_does_not_replay_missed_fires() -> None:
    assert fire_after_ms(NOW, NOW + 5, 0) == NOW + 4
    assert fire_after_ms(NOW, NOW + 86_400_000, 0) == NOW + 86_400_000 - 1
    assert fire_after_ms(NOW, NOW + 60_000, 15 * 60_000) == NOW  # still inside the flexible window
