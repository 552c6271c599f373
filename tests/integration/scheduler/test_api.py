"""EventBridge Scheduler's control plane with boto3: groups, schedules, tags and the errors AWS gives.

No clock moves here: these run on the shared server. Sources: EventBridge Scheduler API
Reference (CreateSchedule, UpdateSchedule, DeleteScheduleGroup, TagResource).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.helpers import gone, wait_for
from tests.integration.scheduler.conftest import OFF, ROLE, error_of

TARGET = {"Arn": "arn:aws:sqs:us-east-1:000000000000:nowhere", "RoleArn": ROLE}


def create(scheduler: Any, name: str, expression: str = "rate(1 day)", **extra: Any) -> str:
    extra.setdefault("Target", TARGET)
    extra.setdefault("FlexibleTimeWindow", OFF)
    return scheduler.create_schedule(Name=name, ScheduleExpression=expression, **extra)["ScheduleArn"]


def test_schedule_lifecycle(scheduler: Any, unique: Callable[[str], str]) -> None:
    name = unique("s")
    arn = create(
        scheduler,
        name,
        "cron(0 18 ? * MON-FRI *)",
        ScheduleExpressionTimezone="America/New_York",
        Description="pause the environment",
        Target={**TARGET, "Input": '{"action":"pause"}', "RetryPolicy": {"MaximumRetryAttempts": 3}},
    )
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"

    got = scheduler.get_schedule(Name=name)
    assert got["Arn"] == arn and got["GroupName"] == "default" and got["State"] == "ENABLED"
    assert got["ScheduleExpression"] == "cron(0 18 ? * MON-FRI *)"
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert got["Description"] == "pause the environment"
    # The RetryPolicy member left out takes its default (24 hours).
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 3}
    assert got["FlexibleTimeWindow"] == OFF
    assert got["ActionAfterCompletion"] == "NONE"

    # UpdateSchedule replaces the schedule: what the request leaves out is gone.
    scheduler.update_schedule(
        Name=name, ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target=TARGET, State="DISABLED",
    )
    got = scheduler.get_schedule(Name=name)
    assert got["ScheduleExpression"] == "rate(5 minutes)" and got["State"] == "DISABLED"
    assert "Description" not in got and "ScheduleExpressionTimezone" not in got
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}

    scheduler.delete_schedule(Name=name)
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name=name)
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Schedule {name} does not exist.")
    with pytest.raises(ClientError) as excinfo:
        scheduler.delete_schedule(Name=name)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_list_schedules_filters_and_pages(scheduler: Any, unique: Callable[[str], str]) -> None:
    group = unique("g")
    scheduler.create_schedule_group(Name=group)
    prefix = unique("p")
    for i in range(3):
        create(scheduler, f"{prefix}-{i}", GroupName=group, State="DISABLED" if i == 2 else "ENABLED")
    create(scheduler, unique("other"), GroupName=group)

    listed = scheduler.list_schedules(GroupName=group, NamePrefix=prefix)["Schedules"]
    assert [s["Name"] for s in listed] == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]
    assert listed[0]["Target"] == {"Arn": TARGET["Arn"]} and listed[0]["GroupName"] == group
    disabled = scheduler.list_schedules(GroupName=group, State="DISABLED")["Schedules"]
    assert [s["Name"] for s in disabled] == [f"{prefix}-2"]

    names, token = [], None
    while True:
        page = scheduler.list_schedules(GroupName=group, MaxResults=1, **({"NextToken": token} if token else {}))
        assert len(page["Schedules"]) <= 1
        names += [s["Name"] for s in page["Schedules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(names) == 4 and len(set(names)) == 4

    paginated = [
        s["Name"] for p in scheduler.get_paginator("list_schedules").paginate(GroupName=group, NamePrefix=prefix) for s in p["Schedules"]
    ]
    assert paginated == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]


def test_client_token_makes_create_idempotent(scheduler: Any, unique: Callable[[str], str]) -> None:
    name = unique("s")
    first = create(scheduler, name, ClientToken="token-1")
    assert create(scheduler, name, ClientToken="token-1") == first
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, ClientToken="token-2")
    assert error_of(excinfo) == ("ConflictException", f"Schedule {name} already exists.")
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name)  # boto3 fills in a fresh token
    assert error_of(excinfo)[0] == "ConflictException"


def test_schedule_groups(scheduler: Any, unique: Callable[[str], str]) -> None:
    name = unique("g")
    arn = scheduler.create_schedule_group(Name=name, Tags=[{"Key": "team", "Value": "data"}])["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{name}"
    got = scheduler.get_schedule_group(Name=name)
    assert got["Arn"] == arn and got["Name"] == name and got["State"] == "ACTIVE"
    assert isinstance(got["CreationDate"], datetime)

    with pytest.raises(ClientError) as excinfo:
        scheduler.create_schedule_group(Name=name)
    assert error_of(excinfo) == ("ConflictException", f"Schedule group {name} already exists.")

    default = scheduler.get_schedule_group(Name="default")
    assert default["State"] == "ACTIVE"
    names = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and name in names
    assert [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix=name)["ScheduleGroups"]] == [name]

    # Tags: on schedule groups only.
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "ml"}])
    tags = scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "prod"), ("team", "ml")]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    schedule_arn = create(scheduler, unique("s"), GroupName=name)
    with pytest.raises(ClientError) as excinfo:
        scheduler.tag_resource(ResourceArn=schedule_arn, Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(excinfo)[0] == "ValidationException"
    missing = arn.rsplit("/", 1)[0] + "/" + unique("nope")
    with pytest.raises(ClientError) as excinfo:
        scheduler.list_tags_for_resource(ResourceArn=missing)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_deleting_a_group_deletes_its_schedules(scheduler: Any, unique: Callable[[str], str]) -> None:
    group = unique("g")
    scheduler.create_schedule_group(Name=group)
    name = unique("s")
    create(scheduler, name, GroupName=group)
    scheduler.delete_schedule_group(Name=group)

    def still_deleting() -> None:
        assert scheduler.get_schedule_group(Name=group)["State"] == "DELETING"  # as AWS, until its schedules are gone

    assert wait_for(lambda: gone(still_deleting, "ResourceNotFoundException"), timeout=15), "the group was never deleted"
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name=name, GroupName=group)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    # The name is free again.
    scheduler.create_schedule_group(Name=group)

    with pytest.raises(ClientError) as excinfo:
        scheduler.delete_schedule_group(Name="default")
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        scheduler.delete_schedule_group(Name=unique("nope"))
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "cron(0 0 * * * *)", "cron(0 18 ? * MON-FRI)",
     "at(2027-13-01T00:00:00)", "every 5 minutes"],
)
def test_bad_expressions_are_refused(scheduler: Any, unique: Callable[[str], str], expression: str) -> None:
    name = unique("s")
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, expression)
    assert error_of(excinfo) == ("ValidationException", f"Invalid Schedule Expression {expression}.")
    with pytest.raises(ClientError):
        scheduler.get_schedule(Name=name)


def test_unhappy_paths(scheduler: Any, endpoint: str, unique: Callable[[str], str]) -> None:
    # boto3 checks minimums itself; a client that does not shows the server's answer.
    raw = client_for(endpoint, "scheduler", parameter_validation=False)
    name = unique("s")
    missing_group = unique("g")
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, GroupName=missing_group)
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Schedule group {missing_group} does not exist.")

    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, ScheduleExpressionTimezone="Mars/Olympus_Mons")
    assert error_of(excinfo)[0] == "ValidationException"

    start = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, StartDate=start, EndDate=start - timedelta(days=1))
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, StartDate=datetime.now(UTC) - timedelta(hours=1))
    assert error_of(excinfo) == ("ValidationException", "The StartDate you specify cannot be earlier than 5 minutes ago.")

    for policy in ({"MaximumRetryAttempts": 186}, {"MaximumEventAgeInSeconds": 59}, {"MaximumEventAgeInSeconds": 86401}):
        with pytest.raises(ClientError) as excinfo:
            create(raw, name, Target={**TARGET, "RetryPolicy": policy})
        assert error_of(excinfo)[0] == "ValidationException"

    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, FlexibleTimeWindow={"Mode": "FLEXIBLE"})
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441})
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, Target={"Arn": "arn:aws:scheduler:::aws-sdk:sqs", "RoleArn": ROLE})
    assert error_of(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        create(scheduler, name, Target={"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default", "RoleArn": ROLE})
    assert error_of(excinfo)[0] == "ValidationException"

    # Nothing of the refused requests was kept.
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name=name)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        scheduler.update_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF, Target=TARGET)
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Schedule {name} does not exist.")
