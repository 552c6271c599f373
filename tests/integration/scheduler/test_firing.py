"""Schedules invoking their targets as the stratus clock moves: SQS queues in stratus as targets.

These run on a server of their own (``cloud``), whose clock they advance. Sources: User
Guide "Schedule types", "Managing targets" (templated and universal), "Adding context
attributes", "Configuring a dead-letter queue"; API Reference RetryPolicy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.conftest import client_for
from tests.helpers import gone, wait_for
from tests.integration.scheduler.conftest import OFF, ROLE, Cloud

CONTEXT = (
    '{"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>",'
    '"id":"<aws.scheduler.execution-id>","attempt":"<aws.scheduler.attempt-number>"}'
)


def _at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_rate_schedule_fires_repeatedly(cloud: Cloud, unique: Callable[[str], str]) -> None:
    url, arn = cloud.queue(unique("rate"))
    name = unique("every-minute")
    schedule_arn = cloud.scheduler.create_schedule(
        Name=name, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
        Target={"Arn": arn, "RoleArn": ROLE, "Input": CONTEXT},
    )["ScheduleArn"]

    # Without a StartDate a rate schedule starts at once.
    first = json.loads(cloud.messages(url)[0]["Body"])
    assert first["arn"] == schedule_arn and first["attempt"] == "1"
    times = [first["at"]]
    for _ in range(2):
        cloud.advance(60)
        times.append(json.loads(cloud.messages(url)[0]["Body"])["at"])
    stamps = [datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ") for t in times]
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [timedelta(minutes=1)] * 2
    cloud.scheduler.delete_schedule(Name=name)


def test_at_schedule_fires_once_and_deletes_itself(cloud: Cloud, unique: Callable[[str], str]) -> None:
    url, arn = cloud.queue(unique("once"))
    name = unique("once")
    when = cloud.now_ms() + 120_000
    # The at() time is wall time in ScheduleExpressionTimezone: the same instant in Tokyo.
    tokyo = datetime.fromtimestamp(when / 1000, UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    cloud.scheduler.create_schedule(
        Name=name, ScheduleExpression=f"at({tokyo.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="Asia/Tokyo", FlexibleTimeWindow=OFF, ActionAfterCompletion="DELETE",
        Target={"Arn": arn, "RoleArn": ROLE, "Input": CONTEXT},
    )
    cloud.advance(130)
    body = json.loads(cloud.messages(url)[0]["Body"])
    assert body["at"] == datetime.fromtimestamp(when // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert wait_for(lambda: gone(lambda: cloud.scheduler.get_schedule(Name=name), "ResourceNotFoundException")), \
        "the completed at() schedule was not deleted"

    # No second invocation: a control schedule fires later, and the at() queue stays empty.
    control_url, control_arn = cloud.queue(unique("control"))
    cloud.scheduler.create_schedule(
        Name=unique("control"), ScheduleExpression=f"at({_at(cloud.now_ms() + 60_000)})", FlexibleTimeWindow=OFF,
        Target={"Arn": control_arn, "RoleArn": ROLE},
    )
    cloud.advance(3600)
    assert len(cloud.messages(control_url)) == 1
    assert cloud.empty(url)


def test_universal_target_calls_sqs_send_message(cloud: Cloud, unique: Callable[[str], str]) -> None:
    url, _ = cloud.queue(unique("universal"))
    name = unique("sdk")
    request = {"QueueUrl": url, "MessageBody": "scheduled at <aws.scheduler.scheduled-time>",
               "MessageAttributes": {"source": {"DataType": "String", "StringValue": "scheduler"}}}
    cloud.scheduler.create_schedule(
        Name=name, ScheduleExpression=f"at({_at(cloud.now_ms() + 60_000)})", FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": ROLE, "Input": json.dumps(request)},
    )
    cloud.advance(61)
    message = cloud.messages(url)[0]
    assert message["Body"].startswith("scheduled at 20") and message["Body"].endswith("Z")
    assert message["MessageAttributes"]["source"]["StringValue"] == "scheduler"


def test_fifo_target_gets_the_message_group(cloud: Cloud, unique: Callable[[str], str]) -> None:
    url, arn = cloud.queue(unique("orders") + ".fifo", FifoQueue="true", ContentBasedDeduplication="true")
    cloud.scheduler.create_schedule(
        Name=unique("fifo"), ScheduleExpression=f"at({_at(cloud.now_ms() + 60_000)})", FlexibleTimeWindow=OFF,
        Target={"Arn": arn, "RoleArn": ROLE, "Input": CONTEXT, "SqsParameters": {"MessageGroupId": "tenant-7"}},
    )
    cloud.advance(61)
    message = cloud.messages(url)[0]
    assert message["Attributes"]["MessageGroupId"] == "tenant-7"


def test_failed_target_is_retried_then_dead_lettered(cloud: Cloud, unique: Callable[[str], str]) -> None:
    dlq_url, dlq_arn = cloud.queue(unique("dlq"))
    name = unique("failing")
    # A universal target on a service stratus does not run: a server-side failure, retried.
    target = "arn:aws:scheduler:::aws-sdk:gamelift:listFleets"
    schedule_arn = cloud.scheduler.create_schedule(
        Name=name, ScheduleExpression=f"at({_at(cloud.now_ms() + 60_000)})", FlexibleTimeWindow=OFF,
        Target={"Arn": target, "RoleArn": ROLE, "Input": CONTEXT, "DeadLetterConfig": {"Arn": dlq_arn},
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}},
    )["ScheduleArn"]
    cloud.advance(61)
    dead: list[dict] = []
    for _ in range(10):  # each advance makes the next backoff due
        dead = cloud.messages(dlq_url, timeout=2)
        if dead:
            break
        cloud.advance(30)
    assert len(dead) == 1
    attributes = {k: v["StringValue"] for k, v in dead[0]["MessageAttributes"].items()}
    body = json.loads(dead[0]["Body"])
    assert body["attempt"] == "3"  # the payload of the last attempt: one try and two retries
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["ERROR_CODE"] == "NotImplemented"
    assert attributes["SCHEDULE_ARN"] == schedule_arn
    assert attributes["TARGET_ARN"] == target
    assert attributes["SCHEDULED_TIME"] == body["at"]
    assert attributes["EXECUTION_ID"] == body["id"]


def test_missing_target_goes_to_the_dead_letter_queue_at_once(cloud: Cloud, unique: Callable[[str], str]) -> None:
    dlq_url, dlq_arn = cloud.queue(unique("dlq"))
    missing = f"arn:aws:sqs:us-east-1:000000000000:{unique('gone')}"
    cloud.scheduler.create_schedule(
        Name=unique("gone"), ScheduleExpression=f"at({_at(cloud.now_ms() + 60_000)})", FlexibleTimeWindow=OFF,
        Target={"Arn": missing, "RoleArn": ROLE, "Input": '{"k":1}', "DeadLetterConfig": {"Arn": dlq_arn}},
    )
    cloud.advance(61)
    dead = cloud.messages(dlq_url)
    assert len(dead) == 1 and dead[0]["Body"] == '{"k":1}'
    attributes = {k: v["StringValue"] for k, v in dead[0]["MessageAttributes"].items()}
    # A target that does not exist is not retried, so no retry condition ran out.
    assert attributes["RETRY_ATTEMPTS"] == "0" and "EXHAUSTED_RETRY_CONDITION" not in attributes
    # SQS's code as its clients read it (the Scheduler User Guide's dead-letter event shows it so).
    assert attributes["ERROR_CODE"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert attributes["ERROR_MESSAGE"] == "The specified queue does not exist."
    assert attributes["TARGET_ARN"] == missing


def test_disabled_schedule_does_not_fire_until_enabled(cloud: Cloud, unique: Callable[[str], str]) -> None:
    url, arn = cloud.queue(unique("disabled"))
    control_url, control_arn = cloud.queue(unique("control"))
    name = unique("off")
    at = f"at({_at(cloud.now_ms() + 60_000)})"
    target = {"Arn": arn, "RoleArn": ROLE, "Input": "disabled"}
    cloud.scheduler.create_schedule(Name=name, ScheduleExpression=at, FlexibleTimeWindow=OFF, Target=target, State="DISABLED")
    cloud.scheduler.create_schedule(
        Name=unique("on"), ScheduleExpression=at, FlexibleTimeWindow=OFF, Target={"Arn": control_arn, "RoleArn": ROLE}
    )
    cloud.advance(61)
    assert len(cloud.messages(control_url)) == 1  # both were due at the same moment
    assert cloud.empty(url)

    rate = cloud.scheduler.get_schedule(Name=name)
    cloud.scheduler.update_schedule(
        Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF, Target=rate["Target"], State="ENABLED"
    )
    assert [m["Body"] for m in cloud.messages(url)] == ["disabled"]
    cloud.scheduler.delete_schedule(Name=name)


def test_event_bus_target_puts_an_event(cloud: Cloud, unique: Callable[[str], str]) -> None:
    """A templated EventBridge target: PutEvents with EventBridgeParameters, Input as the detail."""
    url, arn = cloud.queue(unique("bus"))
    events = client_for(cloud.endpoint, "events")
    source = unique("my.scheduler")
    rule = unique("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    cloud.scheduler.create_schedule(
        Name=unique("bus"), ScheduleExpression=f"at({_at(cloud.now_ms() + 60_000)})", FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default", "RoleArn": ROLE,
                "Input": '{"environment":"mwaa","action":"pause"}',
                "EventBridgeParameters": {"Source": source, "DetailType": "Pause Environment"}},
    )
    cloud.advance(61)
    event = json.loads(cloud.messages(url)[0]["Body"])
    assert event["source"] == source and event["detail-type"] == "Pause Environment"
    assert event["detail"] == {"environment": "mwaa", "action": "pause"}
