"""Error handling for asynchronous invocations: retries, destinations and dead-letter queues.

From ``aws-blog/09-implementing-error-handling-for-aws-lambda-asynchronous-invocations``:
ProcessOrderForShipping is invoked asynchronously; its EventInvokeConfig sends successes to
the ShipmentsJobsQueue (SQS) and failures, after Lambda's two retries, to the
ErrorHandlingFunction (Lambda). SendOrderToShipping has a dead-letter queue,
OrderShippingFunctionDLQ, which receives only the event, with the error in message
attributes. Two variants the post describes in prose: an OnFailure SQS destination with
fewer retry attempts, and an OnSuccess EventBridge destination routed by a rule to a queue.
Function errors are retried about one and two minutes later: the tests move the stratus clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import bodies, nothing_arrives, receive
from tests.integration.wiring.conftest import RECORDER

PROCESS_ORDER = '''
import json, os
import boto3

sqs = boto3.client("sqs")

def handler(event, context):
    # Every run leaves a trace, so the test can count Lambda's retries.
    sqs.send_message(QueueUrl=os.environ["RUNS"], MessageBody=json.dumps({"orderId": event["orderId"]}))
    if not event.get("shippingAddress"):
        raise ValueError(f"Order {event['orderId']} has no shipping address")
    return {"orderId": event["orderId"], "status": "READY_FOR_SHIPPING"}
'''

GOOD_ORDER = {"orderId": "ord-1001", "items": [{"sku": "UNICORN-PLUSH", "qty": 2}], "shippingAddress": "1 Main St, Seattle"}
BAD_ORDER = {"orderId": "ord-1002", "items": [{"sku": "UNICORN-MUG", "qty": 1}]}


@pytest.fixture
def order_function(make_function: Any, make_queue: Any) -> Callable[..., tuple[dict[str, Any], str]]:
    """A function in the shape of the post's order functions; answer (configuration, runs queue URL)."""

    def make(prefix: str, **extra: Any) -> tuple[dict[str, Any], str]:
        runs_url, _ = make_queue("runs")
        config = make_function(PROCESS_ORDER, prefix=prefix, Environment={"Variables": {"RUNS": runs_url}}, **extra)
        return config, runs_url

    return make


def invoke_async(lam: Any, name: str, order: dict[str, Any]) -> str:
    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(order))
    assert answer["StatusCode"] == 202
    return answer["ResponseMetadata"]["RequestId"]


def count_runs(sqs: Any, runs_url: str, advance_clock: Callable[[float], Any], expected: int) -> int:
    """Runs of a failing function: the first at once, each retry after moving the clock past its delay."""
    runs = len(receive(sqs, runs_url, 1))
    for delay in (61, 121)[: expected - 1]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # The run is recorded before the function fails, so its retry may not be scheduled
            # yet: moving the clock again until the retry runs changes nothing else.
            advance_clock(delay)
            got = sqs.receive_message(QueueUrl=runs_url, WaitTimeSeconds=1).get("Messages", [])
            for message in got:
                sqs.delete_message(QueueUrl=runs_url, ReceiptHandle=message["ReceiptHandle"])
            if got:
                runs += len(got)
                break
    advance_clock(300)  # no retry left: nothing more runs however long we wait
    assert nothing_arrives(sqs, runs_url)
    return runs


def test_destinations_from_the_post(lam: Any, sqs: Any, make_function: Any, make_queue: Any,
                                    order_function: Any, advance_clock: Any) -> None:
    shipments_url, shipments_arn = make_queue("ShipmentsJobsQueue")
    errors_url, _ = make_queue("ErrorHandlingRecords")
    error_handler = make_function(RECORDER, prefix="ErrorHandlingFunction", Environment={"Variables": {"RECORD": errors_url}})
    process, runs_url = order_function("ProcessOrderForShipping")
    lam.put_function_event_invoke_config(FunctionName=process["FunctionName"], DestinationConfig={
        "OnSuccess": {"Destination": shipments_arn},
        "OnFailure": {"Destination": error_handler["FunctionArn"]},
    })

    good = invoke_async(lam, process["FunctionName"], GOOD_ORDER)
    [job] = bodies(receive(sqs, shipments_url, 1))
    assert job["requestContext"]["requestId"] == good and job["requestContext"]["condition"] == "Success"
    assert job["requestPayload"] == GOOD_ORDER
    assert job["responsePayload"] == {"orderId": "ord-1001", "status": "READY_FOR_SHIPPING"}
    bodies(receive(sqs, runs_url, 1))

    bad = invoke_async(lam, process["FunctionName"], BAD_ORDER)
    assert count_runs(sqs, runs_url, advance_clock, expected=3) == 3  # the first try and Lambda's two retries
    [handled] = bodies(receive(sqs, errors_url, 1))
    record = handled["event"]  # the ErrorHandlingFunction was invoked with the invocation record
    assert handled["function"] == error_handler["FunctionName"]
    assert record["requestContext"] == {
        "requestId": bad, "functionArn": f"{process['FunctionArn']}:$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == BAD_ORDER
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    error = record["responsePayload"]  # "the failure condition, error message, stack trace, request, and response"
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "Order ord-1002 has no shipping address"
    assert error["stackTrace"]
    assert nothing_arrives(sqs, shipments_url)


def test_failure_destination_queue_with_one_retry(lam: Any, sqs: Any, make_queue: Any,
                                                  order_function: Any, advance_clock: Any) -> None:
    failures_url, failures_arn = make_queue("OrderFailures")
    process, runs_url = order_function("ProcessOrderForShipping")
    lam.put_function_event_invoke_config(FunctionName=process["FunctionName"], MaximumRetryAttempts=1,
                                         DestinationConfig={"OnFailure": {"Destination": failures_arn}})
    request_id = invoke_async(lam, process["FunctionName"], BAD_ORDER)
    assert count_runs(sqs, runs_url, advance_clock, expected=2) == 2
    [record] = bodies(receive(sqs, failures_url, 1))
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == BAD_ORDER


def test_dead_letter_queue_gets_the_event_and_error_attributes(lam: Any, sqs: Any, make_queue: Any,
                                                               order_function: Any, advance_clock: Any) -> None:
    dlq_url, dlq_arn = make_queue("OrderShippingFunctionDLQ")
    send, runs_url = order_function("SendOrderToShipping", DeadLetterConfig={"TargetArn": dlq_arn})
    request_id = invoke_async(lam, send["FunctionName"], BAD_ORDER)
    assert count_runs(sqs, runs_url, advance_clock, expected=3) == 3

    [message] = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=10, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"]) == BAD_ORDER  # "Lambda only sends the content of the event"
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {"RequestID": request_id, "ErrorCode": "200",
                          "ErrorMessage": "Order ord-1002 has no shipping address"}


def test_success_destination_event_bus_routed_to_a_queue(lam: Any, events: Any, sqs: Any, make_queue: Any,
                                                         order_function: Any, unique: Any) -> None:
    shipments_url, shipments_arn = make_queue("ShipmentsJobsQueue")
    bus = unique("orders-bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    process, _ = order_function("ProcessOrderForShipping")
    rule = unique("ShipReadyOrders")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({
        "source": ["lambda"], "detail-type": ["Lambda Function Invocation Result - Success"],
        "resources": [{"prefix": process["FunctionArn"]}],
        "detail": {"responsePayload": {"status": ["READY_FOR_SHIPPING"]}},
    }))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "shipments", "Arn": shipments_arn,
                                                              "InputPath": "$.detail.responsePayload"}])
    lam.put_function_event_invoke_config(FunctionName=process["FunctionName"],
                                         DestinationConfig={"OnSuccess": {"Destination": bus_arn}})
    invoke_async(lam, process["FunctionName"], GOOD_ORDER)
    assert bodies(receive(sqs, shipments_url, 1)) == [{"orderId": "ord-1001", "status": "READY_FOR_SHIPPING"}]
