"""Rules route events to targets: patterns, input shaping, other buses and accounts, schedules.

Docs: EventBridge user guide "Event patterns", "Amazon EventBridge input transformation",
"Sending and receiving events between AWS accounts", "Creating a rule that runs on a schedule".
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import client_for
from tests.helpers import bodies, error_message, receive


def test_a_rule_routes_by_detail_action_to_two_queues(events, sqs, make_queue, unique):
    # The Slack app (aws-blog 01): the Command bus routes a request by its action.
    bus = unique("command")
    events.create_event_bus(Name=bus)
    (create_url, create_arn), (delete_url, delete_arn) = make_queue("create"), make_queue("delete")
    for action, arn in (("create", create_arn), ("delete", delete_arn)):
        events.put_rule(Name=f"{action}-processor", EventBusName=bus,
                        EventPattern=json.dumps({"source": ["slack.app"], "detail": {"action": [action]}}))
        events.put_targets(Rule=f"{action}-processor", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    entries = [
        {"Source": "slack.app", "DetailType": "Command", "Detail": json.dumps({"action": a, "n": i}), "EventBusName": bus}
        for i, a in enumerate(["create", "delete", "create", "other"])
    ]
    result = events.put_events(Entries=entries)
    assert result["FailedEntryCount"] == 0
    assert all("EventId" in e for e in result["Entries"])

    created = bodies(receive(sqs, create_url, 2))
    deleted = bodies(receive(sqs, delete_url, 1))
    assert sorted(e["detail"]["n"] for e in created) == [0, 2]
    assert [e["detail"]["n"] for e in deleted] == [1]
    event = deleted[0]
    assert event["source"] == "slack.app" and event["detail-type"] == "Command"
    assert event["account"] == "000000000000" and event["region"] == "us-east-1"
    assert event["id"] == result["Entries"][1]["EventId"]
    assert event["resources"] == [] and event["version"] == "0"
    # The unmatched event went nowhere.
    assert receive(sqs, create_url, 1, timeout=1.5) == []


def test_fraud_not_detected_reaches_the_settlement_queue_on_the_default_bus(events, sqs, make_queue, unique):
    # aws-blog 06: the settlement service subscribes to Fraud.Not.Detected.
    url, arn = make_queue("settlement")
    rule = unique("settlement")
    events.put_rule(Name=rule, EventPattern=json.dumps({"detail-type": ["Fraud.Not.Detected"], "source": ["fraud.service"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "settlement", "Arn": arn}])
    events.put_events(Entries=[
        {"Source": "fraud.service", "DetailType": "Fraud.Not.Detected", "Detail": json.dumps({"claimId": "c-1"}),
         "Resources": ["arn:aws:s3:::claims/c-1"], "Time": "2024-03-01T10:00:00Z"},
        {"Source": "fraud.service", "DetailType": "Fraud.Detected", "Detail": json.dumps({"claimId": "c-2"})},
    ])
    (event,) = bodies(receive(sqs, url, 1))
    assert event["detail"] == {"claimId": "c-1"}
    assert event["resources"] == ["arn:aws:s3:::claims/c-1"]
    assert event["time"] == "2024-03-01T10:00:00Z"


def test_input_transformer_quotes_strings_outside_string_literals(events, sqs, make_queue, unique):
    (json_url, json_arn), (text_url, text_arn) = make_queue("json"), make_queue("text")
    rule = unique("transform")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["ec2.test"]}))
    paths = {"instance": "$.detail.instance-id", "state": "$.detail.state", "count": "$.detail.count",
             "tags": "$.detail.tags", "first": "$.resources[0]", "missing": "$.detail.nope"}
    events.put_targets(Rule=rule, Targets=[
        {"Id": "json", "Arn": json_arn, "InputTransformer": {
            "InputPathsMap": paths,
            "InputTemplate": '{"instance": <instance>, "message": "instance <instance> is in <state>", "count": <count>,'
                             ' "tags": <tags>, "first": <first>, "missing": <missing>, "rule": <aws.events.rule-name>,'
                             ' "original": <aws.events.event>}'}},
        {"Id": "text", "Arn": text_arn, "InputTransformer": {
            "InputPathsMap": paths, "InputTemplate": "<instance> is in state <state> (<count>)"}},
    ])
    events.put_events(Entries=[{
        "Source": "ec2.test", "DetailType": "EC2 Instance State-change Notification",
        "Resources": ["arn:aws:ec2:us-east-1:000000000000:instance/i-1"],
        "Detail": json.dumps({"instance-id": "i-0123456789", "state": "RUNNING", "count": 3, "tags": {"a": "b"}}),
    }])
    (shaped,) = bodies(receive(sqs, json_url, 1))
    assert shaped == {
        "instance": "i-0123456789", "message": "instance i-0123456789 is in RUNNING", "count": 3, "tags": {"a": "b"},
        "first": "arn:aws:ec2:us-east-1:000000000000:instance/i-1", "missing": None, "rule": rule,
        "original": shaped["original"],
    }
    assert "detail" not in shaped["original"] and shaped["original"]["source"] == "ec2.test"
    (text,) = receive(sqs, text_url, 1)
    assert text["Body"] == "i-0123456789 is in state RUNNING (3)"


def test_input_path_and_constant_input(events, sqs, make_queue, unique):
    (path_url, path_arn), (const_url, const_arn) = make_queue("path"), make_queue("const")
    rule = unique("paths")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["orders"]}))
    events.put_targets(Rule=rule, Targets=[
        {"Id": "path", "Arn": path_arn, "InputPath": "$.detail.order"},
        {"Id": "const", "Arn": const_arn, "Input": '{"fixed": true}'},
    ])
    events.put_events(Entries=[{"Source": "orders", "DetailType": "Order", "Detail": json.dumps({"order": {"id": 7}})}])
    assert bodies(receive(sqs, path_url, 1)) == [{"id": 7}]
    assert bodies(receive(sqs, const_url, 1)) == [{"fixed": True}]


def test_fifo_queue_target_gets_the_message_group(events, sqs, make_queue, unique):
    url, arn = make_queue("ordered", fifo=True)
    rule = unique("fifo")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["fifo.test"]}))
    # A FIFO queue without a message group fails the whole request, as on AWS.
    with pytest.raises(events.exceptions.ClientError) as excinfo:
        events.put_targets(Rule=rule, Targets=[{"Id": "f", "Arn": arn}])
    assert error_message(excinfo) == "Parameter(s) SqsParameters must be specified for target: f."
    assert events.put_targets(Rule=rule, Targets=[{"Id": "f", "Arn": arn, "SqsParameters": {"MessageGroupId": "g1"}}])[
        "FailedEntryCount"] == 0
    events.put_events(Entries=[{"Source": "fifo.test", "DetailType": "x", "Detail": "{}"}])
    (message,) = receive(sqs, url, 1, AttributeNames=["MessageGroupId"])
    assert message["Attributes"]["MessageGroupId"] == "g1"


def test_a_bus_in_another_account_is_a_target(endpoint, events, make_queue, unique):
    other = "111111111111"
    other_events = client_for(endpoint, "events", access_key=other)
    other_sqs = client_for(endpoint, "sqs", access_key=other)
    receiving = unique("central")
    bus_arn = other_events.create_event_bus(Name=receiving)["EventBusArn"]
    assert f":{other}:" in bus_arn
    other_events.put_permission(EventBusName=receiving, Action="events:PutEvents", Principal="000000000000",
                                StatementId="from-dev")
    url, queue_arn = make_queue("central", client=other_sqs)
    other_events.put_rule(Name="collect", EventBusName=receiving, EventPattern=json.dumps({"source": ["app.orders"]}))
    other_events.put_targets(Rule="collect", EventBusName=receiving, Targets=[{"Id": "q", "Arn": queue_arn}])

    rule = unique("forward")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app.orders"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "central", "Arn": bus_arn}])
    events.put_events(Entries=[{"Source": "app.orders", "DetailType": "Order Placed", "Detail": json.dumps({"id": 1})}])

    (event,) = bodies(receive(other_sqs, url, 1))
    assert event["source"] == "app.orders" and event["detail"] == {"id": 1} and event["detail-type"] == "Order Placed"
    policy = json.loads(other_events.describe_event_bus(Name=receiving)["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::000000000000:root"}


def test_a_rate_rule_fires_when_the_clock_moves(events, sqs, make_queue, unique, advance_clock):
    url, arn = make_queue("cleanup")
    rule = unique("every5")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    assert receive(sqs, url, 1, timeout=1.5) == []
    advance_clock(301)
    (event,) = bodies(receive(sqs, url, 1))
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [rule_arn] and event["detail"] == {}
    # Disabled, it stays quiet.
    events.disable_rule(Name=rule)
    advance_clock(301)
    assert receive(sqs, url, 1, timeout=2) == []
