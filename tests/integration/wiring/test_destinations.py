"""Lambda OnSuccess destinations that are another function or an EventBridge bus.

Developer guide, "Capturing records of Lambda asynchronous invocations": the destination
function is invoked asynchronously with the invocation record as its event; to an event bus
Lambda sends an event with source ``lambda``, detail-type ``Lambda Function Invocation Result -
Success`` and the record as its detail.
"""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import bodies, receive

DOUBLER = "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n"


def test_on_success_destination_is_a_function(lam: Any, sqs: Any, make_function: Any, make_recorder: Any) -> None:
    recorder = make_recorder()
    source = make_function(DOUBLER, prefix="doubler")
    lam.put_function_event_invoke_config(FunctionName=source["FunctionName"],
                                         DestinationConfig={"OnSuccess": {"Destination": recorder.arn}})
    answer = lam.invoke(FunctionName=source["FunctionName"], InvocationType="Event", Payload=json.dumps({"n": 21}))
    assert answer["StatusCode"] == 202

    [got] = bodies(receive(sqs, recorder.queue_url, 1))
    record = got["event"]
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": answer["ResponseMetadata"]["RequestId"], "functionArn": f"{source['FunctionArn']}:$LATEST",
        "condition": "Success", "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"n": 21}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"doubled": 42}


def test_on_success_destination_is_an_event_bus(lam: Any, events: Any, sqs: Any, make_function: Any,
                                                 make_queue: Any, unique: Any) -> None:
    results_url, results_arn = make_queue("results")
    bus = unique("results-bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    rule = unique("succeeded")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(
        {"source": ["lambda"], "detail-type": ["Lambda Function Invocation Result - Success"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": results_arn}])
    source = make_function(DOUBLER, prefix="doubler")
    lam.put_function_event_invoke_config(FunctionName=source["FunctionName"],
                                         DestinationConfig={"OnSuccess": {"Destination": bus_arn}})
    answer = lam.invoke(FunctionName=source["FunctionName"], InvocationType="Event", Payload=json.dumps({"n": 5}))

    [event] = bodies(receive(sqs, results_url, 1))
    assert event["source"] == "lambda" and event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["resources"] == [f"{source['FunctionArn']}:$LATEST"]
    assert event["detail"]["requestContext"]["requestId"] == answer["ResponseMetadata"]["RequestId"]
    assert event["detail"]["requestContext"]["condition"] == "Success"
    assert event["detail"]["requestPayload"] == {"n": 5} and event["detail"]["responsePayload"] == {"doubled": 10}
