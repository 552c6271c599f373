"""Lambda as the target of EventBridge rules, SNS subscriptions and Scheduler schedules.

Each service invokes the function asynchronously through the internal client, the way AWS
does; the function records the event it received, so the tests check the event shapes AWS
documents: EventBridge "Amazon EventBridge events" (the envelope), SNS "Invoking Lambda
functions using Amazon SNS notifications" (the ``aws:sns`` Records event), Scheduler
"Managing targets" (a templated Lambda target receives the target's Input).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from tests.helpers import bodies, nothing_arrives, receive

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


def test_eventbridge_rule_invokes_function(events: Any, lam: Any, sqs: Any, make_recorder: Any, unique: Any) -> None:
    recorder = make_recorder()
    bus = unique("orders")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    rule_arn = events.put_rule(Name=unique("shipped"), EventBusName=bus,
                               EventPattern=json.dumps({"source": ["com.example.orders"], "detail": {"status": ["SHIPPED"]}}))["RuleArn"]
    lam.add_permission(FunctionName=recorder.name, StatementId="events", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule_arn)
    events.put_targets(Rule=rule_arn.rsplit("/", 1)[1], EventBusName=bus, Targets=[{"Id": "fn", "Arn": recorder.arn}])

    answer = events.put_events(Entries=[
        {"EventBusName": bus, "Source": "com.example.orders", "DetailType": "Order Status", "Resources": ["order/7"],
         "Detail": json.dumps({"orderId": 7, "status": "SHIPPED"})},
        {"EventBusName": bus, "Source": "com.example.orders", "DetailType": "Order Status",
         "Detail": json.dumps({"orderId": 8, "status": "PENDING"})},
    ])
    assert answer["FailedEntryCount"] == 0

    [got] = bodies(receive(sqs, recorder.queue_url, 1))
    event = got["event"]
    assert got["function"] == recorder.name
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["version"] == "0" and event["source"] == "com.example.orders" and event["detail-type"] == "Order Status"
    assert event["account"] == "000000000000" and event["region"] == "us-east-1"
    assert event["resources"] == ["order/7"] and event["detail"] == {"orderId": 7, "status": "SHIPPED"}
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", event["time"])
    assert nothing_arrives(sqs, recorder.queue_url)  # the PENDING event matched no rule
    assert bus_arn.endswith(f":event-bus/{bus}")


def test_sns_subscription_invokes_function(sns: Any, lam: Any, sqs: Any, make_recorder: Any, unique: Any) -> None:
    recorder = make_recorder()
    topic_arn = sns.create_topic(Name=unique("alerts"))["TopicArn"]
    lam.add_permission(FunctionName=recorder.name, StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic_arn)
    sub_arn = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=recorder.arn, ReturnSubscriptionArn=True)["SubscriptionArn"]

    message_id = sns.publish(
        TopicArn=topic_arn, Subject="Disk", Message="disk almost full",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "high"},
                           "percent": {"DataType": "Number", "StringValue": "97"}},
    )["MessageId"]

    [got] = bodies(receive(sqs, recorder.queue_url, 1))
    [record] = got["event"]["Records"]
    assert set(record) == {"EventSource", "EventVersion", "EventSubscriptionArn", "Sns"}
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub_arn
    message = record["Sns"]
    assert set(message) == {"Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                            "Signature", "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes"}
    assert message["Type"] == "Notification" and message["MessageId"] == message_id
    assert message["TopicArn"] == topic_arn and message["Subject"] == "Disk" and message["Message"] == "disk almost full"
    assert ISO_MS.match(message["Timestamp"]) and message["SignatureVersion"] == "1" and message["Signature"]
    assert message["SigningCertUrl"].endswith(".pem") and sub_arn in unquote(message["UnsubscribeUrl"])
    assert message["MessageAttributes"] == {"severity": {"Type": "String", "Value": "high"},
                                            "percent": {"Type": "Number", "Value": "97"}}

    # Without a subject or attributes, Subject is null and MessageAttributes is empty, as AWS sends them.
    sns.publish(TopicArn=topic_arn, Message="plain")
    [plain] = bodies(receive(sqs, recorder.queue_url, 1))
    assert plain["event"]["Records"][0]["Sns"]["Subject"] is None
    assert plain["event"]["Records"][0]["Sns"]["MessageAttributes"] == {}


def test_schedule_invokes_function(scheduler: Any, sqs: Any, make_recorder: Any, unique: Any) -> None:
    recorder = make_recorder()
    name = unique("nightly")
    # A rate schedule without a StartDate fires at once, then every hour.
    scheduler.create_schedule(
        Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": recorder.arn, "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
                "Input": json.dumps({"job": "cleanup", "scope": "tmp"})},
    )
    try:
        [got] = bodies(receive(sqs, recorder.queue_url, 1))
        assert got["event"] == {"job": "cleanup", "scope": "tmp"}
        assert got["function"] == recorder.name
    finally:
        scheduler.delete_schedule(Name=name)
