"""Failed deliveries (retry policy, dead-letter queues) and the errors EventBridge answers.

Docs: EventBridge user guide "Event retry policy and using dead-letter queues"; API reference
PutEvents, PutRule, PutTargets, DeleteRule.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import error_code, receive

ATTRIBUTES = ["RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE", "EXHAUSTED_RETRY_CONDITION", "RETRY_ATTEMPTS"]


def _attributes(message):
    return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}


def test_a_failing_target_is_retried_then_dead_lettered(events, sqs, make_queue, unique, advance_clock):
    # Step Functions is not in stratus yet: StartExecution fails with a server error, which
    # EventBridge retries (on the stratus clock) until MaximumRetryAttempts.
    dlq_url, dlq_arn = make_queue("dlq")
    rule = unique("flaky")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["retry.test"]}))["RuleArn"]
    target_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:processor"
    events.put_targets(Rule=rule, Targets=[{
        "Id": "sfn", "Arn": target_arn, "RoleArn": "arn:aws:iam::000000000000:role/events",
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }])
    event_id = events.put_events(Entries=[{"Source": "retry.test", "DetailType": "x", "Detail": '{"k": 1}'}])["Entries"][0]["EventId"]

    (message,) = receive(sqs, dlq_url, 1, timeout=30, tick=lambda: advance_clock(5), MessageAttributeNames=["All"])
    body = json.loads(message["Body"])
    assert body["id"] == event_id and body["detail"] == {"k": 1}
    attributes = _attributes(message)
    assert sorted(attributes) == sorted(ATTRIBUTES)
    assert attributes["RULE_ARN"] == rule_arn and attributes["TARGET_ARN"] == target_arn
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["ERROR_CODE"] and attributes["ERROR_MESSAGE"]
    assert message["MessageAttributes"]["RETRY_ATTEMPTS"]["DataType"] == "Number"


def test_a_deleted_queue_is_dead_lettered_without_retries(events, sqs, make_queue, unique):
    dlq_url, dlq_arn = make_queue("dlq")
    gone_url, gone_arn = make_queue("gone")
    sqs.delete_queue(QueueUrl=gone_url)
    rule = unique("gone")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["gone.test"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": gone_arn, "DeadLetterConfig": {"Arn": dlq_arn}}])
    events.put_events(Entries=[{"Source": "gone.test", "DetailType": "x", "Detail": "{}"}])
    (message,) = receive(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    attributes = _attributes(message)
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    assert attributes["RETRY_ATTEMPTS"] == "0"
    assert attributes["TARGET_ARN"] == gone_arn


def test_put_events_entry_errors_and_limits(events, unique):
    result = events.put_events(Entries=[
        {"Source": "ok", "DetailType": "x", "Detail": "{}"},
        {"Source": "bad", "DetailType": "x", "Detail": "[1, 2]"},
        {"Source": "bad", "DetailType": "x", "Detail": "{not json"},
        {"DetailType": "x", "Detail": "{}"},
        {"Source": "aws.s3", "DetailType": "x", "Detail": "{}"},
        {"Source": "ok", "DetailType": "x", "Detail": "{}", "EventBusName": unique("nobus")},
    ])
    # An entry for a bus that does not exist is accepted (and dropped), as AWS answers it.
    assert result["FailedEntryCount"] == 4
    codes = [e.get("ErrorCode") for e in result["Entries"]]
    assert codes == [None, "MalformedDetail", "MalformedDetail", "InvalidArgument", "NotAuthorizedForSourceException", None]
    assert "EventId" in result["Entries"][5]
    assert result["Entries"][3]["ErrorMessage"] == "Parameter Source is not valid. Reason: Source is a required argument."

    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}] * 11)
    assert error_code(excinfo) == "ValidationException"

    big = json.dumps({"blob": "x" * (256 * 1024)})
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": big}])
    assert error_code(excinfo) == "ValidationException"
    assert "over the limit" in excinfo.value.response["Error"]["Message"]


def test_rule_and_target_errors(events, make_queue, unique):
    with pytest.raises(events.exceptions.InvalidEventPatternException) as excinfo:
        events.put_rule(Name=unique("r"), EventPattern='{"source": "not-a-list"}')
    assert excinfo.value.response["Error"]["Message"].startswith("Event pattern is not valid. Reason: ")

    with pytest.raises(events.exceptions.ResourceNotFoundException) as excinfo:
        events.describe_rule(Name=unique("missing"))
    assert "does not exist" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.put_rule(Name=unique("r"), EventPattern='{"source": ["a"]}', EventBusName=unique("nobus"))
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name=unique("nobus"))

    bus = unique("bus")
    events.create_event_bus(Name=bus)
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=bus)
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.put_rule(Name=unique("r"), EventBusName=bus, ScheduleExpression="rate(5 minutes)")
    assert error_code(excinfo) == "ValidationException"
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.put_rule(Name=unique("r"), ScheduleExpression="rate(5 minute)")
    assert error_code(excinfo) == "ValidationException"

    rule = unique("withtargets")
    events.put_rule(Name=rule, EventPattern='{"source": ["a"]}')
    _, arn = make_queue()
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.delete_rule(Name=rule)
    assert error_code(excinfo) == "ValidationException"
    assert excinfo.value.response["Error"]["Message"] == "Rule can't be deleted since it has targets."
    with pytest.raises(events.exceptions.LimitExceededException):
        events.put_targets(Rule=rule, Targets=[{"Id": str(i), "Arn": arn} for i in range(5)])
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": arn, "Input": "{}", "InputPath": "$.detail"}])
    assert error_code(excinfo) == "ValidationException"
    assert events.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == [rule]
    events.remove_targets(Rule=rule, Ids=["q"])
    events.delete_rule(Name=rule)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name=rule)


def test_rules_list_with_prefix_and_pages(events, unique):
    bus = unique("pages")
    events.create_event_bus(Name=bus, Tags=[{"Key": "team", "Value": "a"}])
    for i in range(5):
        events.put_rule(Name=f"r{i}", EventBusName=bus, EventPattern='{"source": ["a"]}',
                        State="DISABLED" if i == 4 else "ENABLED", Description=f"rule {i}")
    first = events.list_rules(EventBusName=bus, Limit=3)
    assert [r["Name"] for r in first["Rules"]] == ["r0", "r1", "r2"]
    second = events.list_rules(EventBusName=bus, Limit=3, NextToken=first["NextToken"])
    assert [r["Name"] for r in second["Rules"]] == ["r3", "r4"] and "NextToken" not in second
    assert second["Rules"][1]["State"] == "DISABLED" and second["Rules"][1]["EventBusName"] == bus
    assert [r["Name"] for r in events.list_rules(EventBusName=bus, NamePrefix="r3")["Rules"]] == ["r3"]
    described = events.describe_rule(Name="r1", EventBusName=bus)
    assert described["Description"] == "rule 1" and described["Arn"].endswith(f":rule/{bus}/r1")
    bus_arn = events.describe_event_bus(Name=bus)["Arn"]
    assert events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    assert any(b["Name"] == "default" for b in events.list_event_buses()["EventBuses"])
    assert events.test_event_pattern(EventPattern='{"detail": {"n": [{"numeric": [">", 5]}]}}', Event=json.dumps({
        "id": "1", "account": "000000000000", "source": "s", "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
        "detail-type": "d", "detail": {"n": 6}}))["Result"] is True
    events.delete_event_bus(Name=bus)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.list_rules(EventBusName=bus)


def test_tags_on_rules_and_buses_and_missing_resources(events, unique):
    bus = unique("tagbus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    rule_arn = events.put_rule(Name="r", EventBusName=bus, EventPattern='{"source": ["s"]}')["RuleArn"]
    default_rule_arn = events.put_rule(Name=unique("r"), EventPattern='{"source": ["s"]}')["RuleArn"]
    for arn in (bus_arn, rule_arn, default_rule_arn):
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": arn[-6:]}])
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": arn[-6:]}]
    events.untag_resource(ResourceARN=rule_arn, TagKeys=["k"])
    assert events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"] == []
    for missing in (bus_arn + "-gone", rule_arn + "-gone", bus_arn.replace(":event-bus/", ":archive/")):
        with pytest.raises(events.exceptions.ResourceNotFoundException):
            events.tag_resource(ResourceARN=missing, Tags=[{"Key": "k", "Value": "v"}])
    events.delete_rule(Name="r", EventBusName=bus)
    events.delete_rule(Name=default_rule_arn.rsplit("/", 1)[1])
    events.delete_event_bus(Name=bus)
