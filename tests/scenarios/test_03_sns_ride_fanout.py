"""Wild Rydes ride completions fanned out through SNS to back-office queues, one of them filtered.

From ``aws-blog/03-monitor-amazon-sns-based-applications-end-to-end-with-aws-x-ray-active-tracing``
and its sample (aws-samples/sns-xray-active-tracing-blog-source-code, template.yaml): the
SubmitRideCompletionFunction receives a ride (API Gateway proxy event), and publishes it to
RideCompletionTopic with ``fare`` and ``distance`` as Number message attributes. Three queues
subscribe with RawMessageDelivery: CustomerAccountingServiceQueue and
CustomerNotificationServiceQueue take every ride; ExtraordinaryRidesServiceQueue only rides
with ``fare >= 50`` and ``distance >= 20`` (its FilterPolicy). The topic has active tracing.
Left out: the RidesTable (DynamoDB) write and the Firehose archive, which stratus does not
run; the back-office functions behind each queue need SQS event source mappings.
"""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import bodies, nothing_arrives, receive

SUBMIT_RIDE_COMPLETION = '''
import json, os, uuid
import boto3

sns = boto3.client("sns")

def handler(event, context):
    request = json.loads(event["body"])
    request["id"] = str(uuid.uuid4())
    sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Message=json.dumps(request),
        MessageAttributes={
            "fare": {"DataType": "Number", "StringValue": str(request["fare"])},
            "distance": {"DataType": "Number", "StringValue": str(request["distance"])},
        },
    )
    return {"statusCode": 201, "body": json.dumps({"id": request["id"]})}
'''

EXTRAORDINARY = {"fare": [{"numeric": [">=", 50]}], "distance": [{"numeric": [">=", 20]}]}

RIDES = [
    {"from": "Berlin", "to": "Frankfurt", "duration": 420, "distance": 600, "customer": "cmr", "fare": 256.50},
    {"from": "Mitte", "to": "Kreuzberg", "duration": 15, "distance": 5, "customer": "cmr", "fare": 12.40},
    {"from": "Tegel", "to": "Spandau", "duration": 30, "distance": 12, "customer": "jdoe", "fare": 64.00},
    {"from": "Potsdam", "to": "Berlin", "duration": 55, "distance": 35, "customer": "jdoe", "fare": 88.10},
]


def submit(lam: Any, function: str, ride: dict[str, Any]) -> str:
    answer = lam.invoke(FunctionName=function, Payload=json.dumps({"httpMethod": "POST", "body": json.dumps(ride)}))
    assert "FunctionError" not in answer, answer["Payload"].read()
    reply = json.loads(answer["Payload"].read())
    assert reply["statusCode"] == 201
    return json.loads(reply["body"])["id"]


def test_ride_completions_fan_out_with_a_filtered_subscription(lam: Any, sns: Any, sqs: Any, make_queue: Any,
                                                                make_function: Any, unique: Any) -> None:
    topic_arn = sns.create_topic(Name=unique("RideCompletionTopic"), Attributes={"TracingConfig": "Active"})["TopicArn"]
    queues = {}
    for service in ("CustomerAccountingService", "CustomerNotificationService", "ExtraordinaryRidesService"):
        url, arn = make_queue(f"{service}Queue")
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": {
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": "*", "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}})})
        attributes = {"RawMessageDelivery": "true"}
        if service == "ExtraordinaryRidesService":
            attributes["FilterPolicy"] = json.dumps(EXTRAORDINARY)
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
        queues[service] = url
    submit_fn = make_function(SUBMIT_RIDE_COMPLETION, prefix="SubmitRideCompletionFunction",
                              Environment={"Variables": {"TOPIC_ARN": topic_arn}})["FunctionName"]

    ids = [submit(lam, submit_fn, ride) for ride in RIDES]

    for service in ("CustomerAccountingService", "CustomerNotificationService"):
        rides = bodies(receive(sqs, queues[service], len(RIDES)))
        assert sorted(r["id"] for r in rides) == sorted(ids)  # raw delivery: the ride itself, no SNS envelope
        assert all(set(r) == {"from", "to", "duration", "distance", "customer", "fare", "id"} for r in rides)
    extraordinary = bodies(receive(sqs, queues["ExtraordinaryRidesService"], 2))
    assert sorted((r["from"], r["to"]) for r in extraordinary) == [("Berlin", "Frankfurt"), ("Potsdam", "Berlin")]
    assert {r["id"] for r in extraordinary} == {ids[0], ids[3]}
    assert nothing_arrives(sqs, queues["ExtraordinaryRidesService"])  # 12.40 and 64.00/12 km stayed out


def test_raw_delivery_keeps_the_ride_attributes_for_the_consumers(lam: Any, sns: Any, sqs: Any, make_queue: Any,
                                                                   make_function: Any, unique: Any) -> None:
    topic_arn = sns.create_topic(Name=unique("RideCompletionTopic"))["TopicArn"]
    url, arn = make_queue("ExtraordinaryRidesServiceQueue")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(EXTRAORDINARY)})
    submit_fn = make_function(SUBMIT_RIDE_COMPLETION, prefix="SubmitRideCompletionFunction",
                              Environment={"Variables": {"TOPIC_ARN": topic_arn}})["FunctionName"]
    submit(lam, submit_fn, RIDES[0])

    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageAttributes"] == {
        "fare": {"DataType": "Number", "StringValue": "256.5"},
        "distance": {"DataType": "Number", "StringValue": "600"},
    }
