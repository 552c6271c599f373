"""EventBridge Scheduler's domain: groups, schedules and the pure rules around them.

What CreateSchedule / UpdateSchedule accept beyond the model's shape rules, when a schedule
fires, what its target receives (context attributes), how failed invocations are retried and
what a dead-letter message carries. No store, no clock: callers pass the times.

Sources: EventBridge Scheduler API Reference (CreateSchedule, Target, RetryPolicy,
FlexibleTimeWindow), User Guide "Managing targets" (templated and universal targets),
"Adding context attributes", "Configuring a dead-letter queue".
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stratus.aws.api.scheduler import ValidationException
from stratus.aws.arns import parse_arn
from stratus.services.scheduler.expressions import Schedule as Expression
from stratus.services.scheduler.expressions import ScheduleError, flexible_fire_time, parse

DEFAULT_GROUP = "default"
FIRE_TIMER = "scheduler.fire"
RETRY_TIMER = "scheduler.retry"
GROUP_DELETE_TIMER = "scheduler.group-delete"

# RetryPolicy defaults (API Reference, RetryPolicy): 24 hours and 185 retries. GetSchedule
# shows them when the caller set none.
DEFAULT_MAX_AGE_S = 86_400
DEFAULT_MAX_RETRIES = 185
# AWS documents exponential backoff without its constants: doubling from 1 s, capped so
# that 185 retries fit in the 24-hour default age.
_BACKOFF_CAP_S = 300
# CreateSchedule, StartDate: a recurring schedule's StartDate may lie at most 5 minutes back.
_START_DATE_SLACK_MS = 5 * 60_000

_UNIVERSAL = re.compile(r"arn:aws[a-z-]*:scheduler:::aws-sdk:([a-z0-9-]+):([a-zA-Z0-9]+)")
# SDK service ids whose botocore name differs.
_SDK_SERVICES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}
_CONTEXT = re.compile(r"<aws\.scheduler\.(schedule-arn|scheduled-time|execution-id|attempt-number)>")

_rng = random.Random()


def group_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule-group/{name}"


def schedule_arn(region: str, account: str, group: str, name: str) -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}"


def seconds(ms: int) -> float:
    """Milliseconds as the epoch seconds the protocol layer writes as a timestamp."""
    return ms / 1000


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(slots=True)
class Group:
    account: str
    region: str
    name: str
    state: str
    tags: dict[str, str]
    client_token: str | None
    created_ms: int
    modified_ms: int

    @property
    def arn(self) -> str:
        return group_arn(self.region, self.account, self.name)

    def describe(self) -> dict[str, Any]:
        return {
            "Arn": self.arn,
            "Name": self.name,
            "State": self.state,
            "CreationDate": seconds(self.created_ms),
            "LastModificationDate": seconds(self.modified_ms),
        }


@dataclass(slots=True)
class Schedule:
    account: str
    region: str
    group: str
    name: str
    state: str
    config: dict[str, Any]  # what GetSchedule describes; StartDate / EndDate in ms
    anchor_ms: int
    client_token: str | None
    version: int
    created_ms: int
    modified_ms: int

    @property
    def arn(self) -> str:
        return schedule_arn(self.region, self.account, self.group, self.name)

    @property
    def key(self) -> str:
        """The schedule's timer key: one fire timer per schedule."""
        return f"{self.account}/{self.region}/{self.group}/{self.name}"

    def expression(self) -> Expression:
        return parse(self.config["ScheduleExpression"], timezone=self.config.get("ScheduleExpressionTimezone", "UTC"))

    def next_fire_ms(self, after_ms: int) -> int | None:
        """The first scheduled time strictly after ``after_ms`` inside [StartDate, EndDate)."""
        start, end = self.config.get("StartDate"), self.config.get("EndDate")
        moment = self.expression().next_in_window(
            _moment(after_ms),
            _moment(start) if start is not None else None,
            _moment(end) if end is not None else None,
            anchor=_moment(self.anchor_ms),
        )
        return None if moment is None else to_ms(moment)

    def due_ms(self, scheduled_ms: int) -> int:
        """When to invoke for ``scheduled_ms``: at once, or somewhere in the flexible window."""
        window = self.config["FlexibleTimeWindow"]
        if window["Mode"] != "FLEXIBLE":
            return scheduled_ms
        return to_ms(flexible_fire_time(_moment(scheduled_ms), window["MaximumWindowInMinutes"], _rng))

    def window_ms(self) -> int:
        window = self.config["FlexibleTimeWindow"]
        return window.get("MaximumWindowInMinutes", 0) * 60_000 if window["Mode"] == "FLEXIBLE" else 0

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Arn": self.arn, "GroupName": self.group, "Name": self.name, "State": self.state}
        for key, value in self.config.items():
            out[key] = seconds(value) if key in ("StartDate", "EndDate") else value
        out["CreationDate"] = seconds(self.created_ms)
        out["LastModificationDate"] = seconds(self.modified_ms)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "Arn": self.arn,
            "Name": self.name,
            "GroupName": self.group,
            "State": self.state,
            "CreationDate": seconds(self.created_ms),
            "LastModificationDate": seconds(self.modified_ms),
            "Target": {"Arn": self.config["Target"]["Arn"]},
        }


# --- what CreateSchedule / UpdateSchedule accept -------------------------------------------


def schedule_config(request: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """The stored description of a schedule from a Create/UpdateSchedule request (a full
    replacement: UpdateSchedule resets what it leaves out). Raises ValidationException."""
    expression = request["ScheduleExpression"]
    timezone = request.get("ScheduleExpressionTimezone")
    try:
        parsed = parse(expression, timezone=timezone or "UTC")
    except ScheduleError as exc:
        raise ValidationException(exc.message) from None
    start = request.get("StartDate")
    end = request.get("EndDate")
    start_ms = to_ms(start) if start is not None else None
    end_ms = to_ms(end) if end is not None else None
    # CreateSchedule ignores StartDate and EndDate for one-time schedules.
    if parsed.kind != "at":
        if start_ms is not None and start_ms < now_ms - _START_DATE_SLACK_MS:
            raise ValidationException("The StartDate you specify cannot be earlier than 5 minutes ago.")
        if start_ms is not None and end_ms is not None and end_ms <= start_ms:
            raise ValidationException("The EndDate you specify must be after the StartDate.")
        if end_ms is not None and end_ms <= now_ms:
            raise ValidationException("The EndDate you specify cannot be earlier than the current time.")
    window = dict(request["FlexibleTimeWindow"])
    if window["Mode"] == "FLEXIBLE" and "MaximumWindowInMinutes" not in window:
        raise ValidationException("MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.")
    if window["Mode"] == "OFF" and "MaximumWindowInMinutes" in window:
        raise ValidationException("MaximumWindowInMinutes must not be provided when Mode is OFF.")
    config: dict[str, Any] = {
        "ScheduleExpression": expression,
        "FlexibleTimeWindow": window,
        "Target": target_config(request["Target"]),
        "ActionAfterCompletion": request.get("ActionAfterCompletion", "NONE"),
    }
    optional = {
        "ScheduleExpressionTimezone": timezone,
        "StartDate": start_ms,
        "EndDate": end_ms,
        "Description": request.get("Description"),
        "KmsKeyArn": request.get("KmsKeyArn"),
    }
    config.update({k: v for k, v in optional.items() if v is not None})
    return config


def target_config(target: dict[str, Any]) -> dict[str, Any]:
    """The target as stored and described, with RetryPolicy's defaults filled in."""
    arn = target["Arn"]
    parsed = parse_arn(arn)
    service = parsed.service if parsed else ""
    if service == "scheduler":
        if universal_operation(arn) is None:
            raise ValidationException(f"Invalid universal target ARN {arn}.")
        if "Input" in target:
            try:
                json.loads(target["Input"])
            except ValueError:
                raise ValidationException("Input of a universal target must be valid JSON.") from None
    elif parsed is None:
        raise ValidationException(f"Invalid target ARN {arn}.")
    if "SqsParameters" in target and service != "sqs":
        raise ValidationException("SqsParameters can only be used with an Amazon SQS target.")
    if "EventBridgeParameters" in target and service != "events":
        raise ValidationException("EventBridgeParameters can only be used with an EventBridge event bus target.")
    if service == "events" and "EventBridgeParameters" not in target:
        raise ValidationException("EventBridgeParameters are required for an EventBridge event bus target.")
    config = dict(target)
    policy = dict(target.get("RetryPolicy") or {})
    policy.setdefault("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)
    policy.setdefault("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)
    config["RetryPolicy"] = policy
    return config


def universal_operation(arn: str) -> tuple[str, str] | None:
    """``arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`` -> (botocore service, apiAction)."""
    match = _UNIVERSAL.fullmatch(arn)
    if match is None:
        return None
    service, action = match.groups()
    return _SDK_SERVICES.get(service, service), action


# --- invocations ---------------------------------------------------------------------------


def iso_seconds(ms: int) -> str:
    return _moment(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Invocation:
    """One scheduled invocation of a target and where it stands; the payload of its retry timer,
    so retries go on even when the schedule is updated or deleted meanwhile."""

    schedule_arn: str
    account: str
    region: str
    target: dict[str, Any]
    scheduled_ms: int
    execution_id: str
    attempt: int = 1

    def payload(self) -> str:
        """The target's input with the context attributes filled in."""
        values = {
            "schedule-arn": self.schedule_arn,
            "scheduled-time": iso_seconds(self.scheduled_ms),
            "execution-id": self.execution_id,
            "attempt-number": str(self.attempt),
        }
        return _CONTEXT.sub(lambda m: values[m.group(1)], self.target.get("Input", "{}"))

    def to_json(self) -> dict[str, Any]:
        return {
            "arn": self.schedule_arn,
            "account": self.account,
            "region": self.region,
            "target": self.target,
            "at": self.scheduled_ms,
            "exec": self.execution_id,
            "attempt": self.attempt,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Invocation:
        return cls(data["arn"], data["account"], data["region"], data["target"], data["at"], data["exec"], data["attempt"])

    def retry_due_ms(self, now_ms: int) -> tuple[int | None, str]:
        """When to try again after attempt ``attempt`` failed, or (None, the condition that ran out)."""
        policy = self.target["RetryPolicy"]
        if self.attempt - 1 >= policy["MaximumRetryAttempts"]:
            return None, "MaximumRetryAttempts"
        due = now_ms + min(2 ** (self.attempt - 1), _BACKOFF_CAP_S) * 1000
        if due - self.scheduled_ms > policy["MaximumEventAgeInSeconds"] * 1000:
            return None, "MaximumEventAgeInSeconds"
        return due, ""

    def dead_letter_attributes(self, error_code: str, error_message: str, condition: str) -> dict[str, dict[str, str]]:
        """The message attributes of a dead-letter event (User Guide, "Configuring a dead-letter
        queue", "Retrieve the dead-letter event")."""
        values = {
            "ERROR_CODE": error_code,
            "ERROR_MESSAGE": error_message or error_code,
            "EXECUTION_ID": self.execution_id,
            "EXHAUSTED_RETRY_CONDITION": condition,
            "IS_PAYLOAD_TRUNCATED": "false",
            "RETRY_ATTEMPTS": str(self.attempt - 1),
            "SCHEDULED_TIME": iso_seconds(self.scheduled_ms),
            "SCHEDULE_ARN": self.schedule_arn,
            "TARGET_ARN": self.target["Arn"],
        }
        # EXHAUSTED_RETRY_CONDITION names the limit that ran out; a failure that is not
        # retried at all (the target is gone, access denied) has none.
        return {name: {"DataType": "String", "StringValue": value} for name, value in values.items() if value}


def fire_after_ms(scheduled_ms: int, now_ms: int, window_ms: int) -> int:
    """Where to look for the next fire time after firing ``scheduled_ms`` at ``now_ms``.

    From the fire just made, so no occurrence is skipped; but never from further back than
    the flexible window, so a clock moved forward by a day does not replay a day of missed
    minutes (Scheduler does not catch up on invocations it missed).
    """
    return max(scheduled_ms, now_ms - window_ms - 1)

