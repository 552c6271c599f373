"""EventBridge answers checked against the API reference and AWS's recorded responses.

Docs: EventBridge API reference PutEvents, PutRule (Tags), PutTargets, DescribeEventBus,
ListEventBuses, ListArchives, StartReplay.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import error_code, error_message, nothing_arrives

PATTERN = json.dumps({"source": ["conformance.test"]})


def test_put_events_to_a_missing_bus_is_accepted_and_goes_nowhere(events, sqs, make_queue, unique):
    url, arn = make_queue()
    rule = unique("r")
    events.put_rule(Name=rule, EventPattern=PATTERN)
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    missing = unique("nobus")
    result = events.put_events(Entries=[
        {"Source": "conformance.test", "DetailType": "x", "Detail": "{}", "EventBusName": missing},
        {"Source": "conformance.test", "DetailType": "x", "Detail": "{}",
         "EventBusName": f"arn:aws:events:us-east-1:000000000000:event-bus/{missing}"},
    ])
    assert result["FailedEntryCount"] == 0
    assert all("EventId" in entry and "ErrorCode" not in entry for entry in result["Entries"])
    assert nothing_arrives(sqs, url)
    with pytest.raises(events.exceptions.ResourceNotFoundException) as excinfo:
        events.describe_event_bus(Name=missing)
    assert error_message(excinfo) == f"Event bus {missing} does not exist."
    events.remove_targets(Rule=rule, Ids=["q"])
    events.delete_rule(Name=rule)


def test_put_rule_update_replaces_the_rule_but_ignores_tags(events, unique):
    rule = unique("r")
    arn = events.put_rule(Name=rule, EventPattern=PATTERN, Description="first",
                          Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    again = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["other"]}),
                            Tags=[{"Key": "extra", "Value": "b"}])
    assert again["RuleArn"] == arn
    described = events.describe_rule(Name=rule)
    assert described["EventPattern"] == json.dumps({"source": ["other"]})
    assert "Description" not in described  # left out of the update: not kept
    assert described["State"] == "ENABLED" and described["CreatedBy"] == "000000000000"
    assert described["EventBusName"] == "default" and described["Arn"] == arn
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    events.delete_rule(Name=rule)


def test_put_targets_refuses_bad_targets_whole_and_stores_nothing(events, make_queue, unique):
    rule = unique("r")
    events.put_rule(Name=rule, EventPattern=PATTERN)
    _, arn = make_queue()
    _, fifo_arn = make_queue(fifo=True)
    cases = [
        ([{"Id": "ok", "Arn": arn}, {"Id": "bad", "Arn": "not-an-arn"}],
         "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format."),
        ([{"Id": "ok", "Arn": arn}, {"Id": "fifo", "Arn": fifo_arn}],
         "Parameter(s) SqsParameters must be specified for target: fifo."),
        ([{"Id": "t", "Arn": arn, "InputTransformer": {"InputPathsMap": {"a b": "$.detail"}, "InputTemplate": "<x>"}}],
         "1 validation error detected: Value '{a b=$.detail}' at 'targets.1.member.inputTransformer.inputPathsMap' "
         "failed to satisfy constraint: Map keys must satisfy constraint: "
         "[Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]"),
    ]
    for targets, message in cases:
        with pytest.raises(events.exceptions.ClientError) as excinfo:
            events.put_targets(Rule=rule, Targets=targets)
        assert (error_code(excinfo), error_message(excinfo)) == ("ValidationException", message)
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []

    done = events.put_targets(Rule=rule, Targets=[
        {"Id": "fifo", "Arn": fifo_arn, "SqsParameters": {"MessageGroupId": "g"}},
        {"Id": "t", "Arn": arn, "InputTransformer": {"InputPathsMap": {"d_1-x": "$.detail"}, "InputTemplate": "<d_1-x>"}},
    ])
    assert done["FailedEntryCount"] == 0 and done["FailedEntries"] == []
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]] == ["fifo", "t"]
    events.remove_targets(Rule=rule, Ids=["fifo", "t"])
    events.delete_rule(Name=rule)


def test_list_targets_by_rule_pages(events, make_queue, unique):
    rule = unique("r")
    events.put_rule(Name=rule, EventPattern=PATTERN)
    _, arn = make_queue()
    ids = [f"t{i}" for i in range(5)]
    events.put_targets(Rule=rule, Targets=[{"Id": i, "Arn": arn} for i in ids])
    first = events.list_targets_by_rule(Rule=rule, Limit=3)
    second = events.list_targets_by_rule(Rule=rule, Limit=3, NextToken=first["NextToken"])
    assert [t["Id"] for t in first["Targets"]] == ids[:3]
    assert [t["Id"] for t in second["Targets"]] == ids[3:] and "NextToken" not in second
    events.remove_targets(Rule=rule, Ids=ids)
    events.delete_rule(Name=rule)


def test_default_bus_is_described_with_its_times(events):
    described = events.describe_event_bus()
    assert described["Name"] == "default"
    assert described["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    assert isinstance(described["CreationTime"], datetime) and isinstance(described["LastModifiedTime"], datetime)
    (listed,) = [b for b in events.list_event_buses(NamePrefix="default")["EventBuses"] if b["Name"] == "default"]
    assert listed["CreationTime"] == described["CreationTime"]


def test_archive_and_replay_errors(events, unique):
    default_arn = "arn:aws:events:us-east-1:000000000000:event-bus/default"
    missing_bus = unique("nobus")
    with pytest.raises(events.exceptions.ResourceNotFoundException) as excinfo:
        events.list_archives(EventSourceArn=f"arn:aws:events:us-east-1:000000000000:event-bus/{missing_bus}")
    assert error_message(excinfo) == f"Event bus {missing_bus} does not exist."

    other = unique("bus")
    other_arn = events.create_event_bus(Name=other)["EventBusArn"]
    archive = unique("a")
    archive_arn = events.create_archive(ArchiveName=archive, EventSourceArn=default_arn)["ArchiveArn"]
    now = datetime.now(UTC)
    window = {"EventStartTime": now - timedelta(hours=1), "EventEndTime": now - timedelta(minutes=1)}

    missing_archive = unique("a")
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.start_replay(ReplayName=unique("rp"), Destination={"Arn": default_arn}, **window,
                            EventSourceArn=f"arn:aws:events:us-east-1:000000000000:archive/{missing_archive}")
    assert (error_code(excinfo), error_message(excinfo)) == (
        "ValidationException", f"Parameter EventSourceArn is not valid. Reason: Archive {missing_archive} does not exist.")
    with pytest.raises(events.exceptions.ResourceNotFoundException) as excinfo:
        events.start_replay(ReplayName=unique("rp"), EventSourceArn=archive_arn, **window,
                            Destination={"Arn": f"arn:aws:events:us-east-1:000000000000:event-bus/{missing_bus}"})
    assert error_message(excinfo) == f"Event bus {missing_bus} does not exist."
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.start_replay(ReplayName=unique("rp"), EventSourceArn=archive_arn, **window, Destination={"Arn": other_arn})
    assert error_message(excinfo) == "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted."
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.start_replay(ReplayName=unique("rp"), EventSourceArn=archive_arn, Destination={"Arn": default_arn},
                            EventStartTime=window["EventEndTime"], EventEndTime=window["EventStartTime"])
    assert error_message(excinfo) == "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime."
    assert not [r for r in events.list_replays()["Replays"] if r["EventSourceArn"] == archive_arn]
    events.delete_archive(ArchiveName=archive)
    events.delete_event_bus(Name=other)
