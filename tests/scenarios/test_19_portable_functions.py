"""Portable Lambda functions: one business-logic module behind Lambda handlers and behind a
container's SQS poller, unchanged.

From ``aws-blog/19-developing-portable-aws-lambda-functions``: the business logic
(``business_logic.py``: ``initialize()``, ``do_some_logic()``, ``handle_message()``) prices orders
and knows nothing about who calls it. Its static data (the pricing configuration, from SSM
Parameter Store) is loaded by ``initialize()`` once per process, outside the handler; its work
files in ``/tmp`` get unique names. The Lambda handlers (``app.py``) are driving adapters: an API
Gateway proxy handler, an SQS handler answering ``batchItemFailures``, and an asynchronous
handler whose errors reach Lambda's destinations. The container (``app.py`` of the
``FROM python`` image, ``CMD ["python", "./app.py"]``) runs the post's poller loop on the same
queue shape, several messages at once in threads, deleting what succeeded; it gets
``business_logic.py`` from the deployed Lambda package, byte for byte.

Skipped or changed:
- API Gateway: stratus has none, so the API handler is invoked directly with the proxy event API
  Gateway would send.
- Lambda's SQS poller: one test plays the poller's part (receive, build the ``aws:sqs`` event as
  the developer guide shows it, invoke, delete what the function did not report as failed); another
  takes the same path through CreateEventSourceMapping.
- Container images: stratus runs .zip packages, so the Lambda side is a .zip on python3.12 (the
  post's images are python:3.9, a runtime Lambda has deprecated) and the "container" is a process
  on this host running the container's ``app.py``. The poller reads ``ReceiptHandle``: the
  post's ``message['receiptHandle']`` is the Lambda event's spelling, not the SDK's.
- RDS Proxy and the one-connection pool (no database in stratus) and the Lambda Web Adapter.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client_for
from tests.helpers import bodies, receive, wait_for
from tests.scenarios.support import deploy, log_events, reports, wait_updated

BUSINESS_LOGIC = '''"""Pricing orders. This is the business logic: it knows nothing about who invokes it."""

import json
import os
import tempfile
import uuid

import boto3

# Global variables used to store static data
config = None
sqs_client = None


class InvalidOrder(Exception):
    """The order cannot be priced."""


def initialize():
    """Load the static data once per process: the pricing configuration in Parameter Store."""
    global config, sqs_client
    parameter = boto3.client("ssm").get_parameter(Name=os.environ["CONFIG_PARAMETER"])["Parameter"]
    config = json.loads(parameter["Value"])
    sqs_client = boto3.client("sqs")
    print(f"configuration {parameter['Name']} version {parameter['Version']} loaded", flush=True)


def do_some_logic(order):
    items = order.get("items") or []
    if not items:
        raise InvalidOrder(f"order {order.get('orderId')} has no items")
    subtotal = sum(item["qty"] * item["unitPrice"] for item in items)
    total = round(subtotal * (1 + config["taxRate"]), 2)
    return {"orderId": order["orderId"], "total": total, "currency": config["currency"],
            "invoice": render_invoice(order["orderId"], items, total)}


def render_invoice(order_id, items, total):
    # A unique file name per call: in a container several threads run this at once.
    path = os.path.join(tempfile.gettempdir(), f"invoice-{uuid.uuid4()}.txt")
    try:
        with open(path, "w") as invoice:
            invoice.write(f"Invoice {order_id}\\n")
            for item in items:
                invoice.write(f"{item['qty']} x {item['sku']}\\n")
            invoice.write(f"Total {total:.2f} {config['currency']}\\n")
        with open(path) as invoice:
            return invoice.read()
    finally:
        os.remove(path)  # done with it: /tmp is not endless


def handle_message(body):
    """Price the order one message carries and publish the result; False when it cannot be processed."""
    try:
        result = do_some_logic(json.loads(body))
    except (InvalidOrder, ValueError, KeyError, TypeError) as error:
        print(f"order rejected: {error}", flush=True)
        return False
    sqs_client.send_message(QueueUrl=config["resultsQueueUrl"], MessageBody=json.dumps(result))
    return True
'''

LAMBDA_APP = '''import json

import business_logic

# Call the initialization code: once per execution environment, not per request.
business_logic.initialize()


def api_handler(event, context):
    """API Gateway proxy integration: extract the order, call the logic, answer in API Gateway's shape."""
    order = json.loads(event["body"])
    try:
        result = business_logic.do_some_logic(order)
    except business_logic.InvalidOrder as error:
        return {"statusCode": 400, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"message": str(error)})}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(result)}


def sqs_handler(event, context):
    entries = []
    # Iterate over all the messages in the event object
    for message in event["Records"]:
        # Call the business logic to process a single message
        success = business_logic.handle_message(message["body"])
        if not success:
            entries.append({"itemIdentifier": message["messageId"]})
    # Notify Lambda about failed items.
    if len(entries) > 0:
        return {"batchItemFailures": entries}


def event_handler(event, context):
    """Asynchronous invocations: a business error propagates, so Lambda's destinations see it."""
    return business_logic.do_some_logic(event)
'''

CONTAINER_APP = '''import os
from concurrent.futures import ThreadPoolExecutor

import boto3

import business_logic

QUEUE_URL = os.environ["QUEUE_URL"]
BATCH_SIZE = int(os.environ.get("BATCH_SIZE", 1))
sqs_client = boto3.client("sqs")


def main():
    # Infinite loop to poll for messages from SQS
    while True:
        # Receive a batch of messages from the queue
        response = sqs_client.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=20)
        messages = response.get("Messages", [])
        # Process the batch in threads, as a container would, with the same business logic
        with ThreadPoolExecutor(max_workers=BATCH_SIZE) as pool:
            outcomes = list(pool.map(lambda message: business_logic.handle_message(message["Body"]), messages))
        # Delete the processed messages; the others come back after their visibility timeout
        entries = [{"Id": f"index{i}", "ReceiptHandle": message["ReceiptHandle"]}
                   for i, (message, success) in enumerate(zip(messages, outcomes)) if success]
        if len(entries) > 0:
            sqs_client.delete_message_batch(QueueUrl=QUEUE_URL, Entries=entries)


if __name__ == "__main__":
    # Call the initialization code before starting the main loop
    business_logic.initialize()
    main()
'''

PACKAGE = {"business_logic.py": BUSINESS_LOGIC, "app.py": LAMBDA_APP}

ORDERS = [
    {"orderId": "ord-1", "items": [{"sku": "UNICORN-PLUSH", "qty": 2, "unitPrice": 15.0}]},
    {"orderId": "ord-2", "items": [{"sku": "UNICORN-MUG", "qty": 1, "unitPrice": 9.5}, {"sku": "STICKER", "qty": 4, "unitPrice": 0.5}]},
    {"orderId": "ord-3", "items": []},
    {"orderId": "ord-4", "items": [{"sku": "HOODIE", "qty": 1, "unitPrice": 45.0}]},
]
TOTALS = {"ord-1": 36.0, "ord-2": 13.8, "ord-4": 54.0}  # with the configured 20 % tax


def check_priced(result: dict[str, Any], tax_rate_total: float | None = None) -> None:
    """A priced order: its total and an invoice that names this order and no other."""
    order_id = result["orderId"]
    assert result["total"] == (tax_rate_total if tax_rate_total is not None else TOTALS[order_id])
    assert result["currency"] == "EUR"
    assert result["invoice"].startswith(f"Invoice {order_id}\n")
    assert result["invoice"].endswith(f"Total {result['total']:.2f} EUR\n")


@pytest.fixture
def ssm(endpoint: str) -> Any:
    return client_for(endpoint, "ssm")


@pytest.fixture
def logs(endpoint: str) -> Any:
    return client_for(endpoint, "logs")


@pytest.fixture
def pricing(ssm: Any, make_queue: Any, unique: Any) -> dict[str, str]:
    """The pricing configuration in Parameter Store and the results queue it names."""
    results_url, _ = make_queue("priced-orders")
    name = f"/{unique('orders')}/pricing"
    ssm.put_parameter(Name=name, Type="String", Value=json.dumps(
        {"taxRate": 0.2, "currency": "EUR", "resultsQueueUrl": results_url}))
    return {"parameter": name, "results_url": results_url}


def orders_function(lam: Any, unique: Any, pricing: dict[str, str], handler: str, prefix: str) -> str:
    name = unique(prefix)
    deploy(lam, name, PACKAGE, runtime="python3.12", handler=handler, Timeout=30,
           Environment={"Variables": {"CONFIG_PARAMETER": pricing["parameter"]}})
    return name


def api_event(order: dict[str, Any]) -> dict[str, Any]:
    """What an API Gateway REST API sends a proxy integration for ``POST /orders``."""
    return {
        "resource": "/orders", "path": "/orders", "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
        "stageVariables": None, "isBase64Encoded": False, "body": json.dumps(order),
        "requestContext": {"resourcePath": "/orders", "httpMethod": "POST", "path": "/prod/orders", "stage": "prod",
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"sourceIp": "192.0.2.1"}},
    }


def call_api(lam: Any, name: str, order: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(api_event(order)))
    response = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, response
    return response["statusCode"], json.loads(response["body"])


def test_api_adapter_with_static_configuration(lam: Any, ssm: Any, logs: Any, unique: Any, pricing: dict[str, str]) -> None:
    name = orders_function(lam, unique, pricing, "app.api_handler", "OrdersApiFunction")
    for order in (ORDERS[0], ORDERS[1]):
        status, result = call_api(lam, name, order)
        assert status == 200
        check_priced(result)
    assert call_api(lam, name, ORDERS[2]) == (400, {"message": "order ord-3 has no items"})

    # initialize() ran once, outside the handler, for the three requests.
    group = f"/aws/lambda/{name}"
    assert len(reports(logs, group, at_least=3)) == 3  # every line of the three requests is in
    assert len(log_events(logs, group, f'"configuration {pricing["parameter"]} version 1 loaded"')) == 1

    # Static data stays what the environment loaded until a new environment starts.
    config = json.loads(ssm.get_parameter(Name=pricing["parameter"])["Parameter"]["Value"])
    ssm.put_parameter(Name=pricing["parameter"], Type="String", Overwrite=True, Value=json.dumps({**config, "taxRate": 0.1}))
    check_priced(call_api(lam, name, ORDERS[0])[1])
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {
        "CONFIG_PARAMETER": pricing["parameter"], "LOG_LEVEL": "INFO"}})
    wait_updated(lam, name)
    check_priced(call_api(lam, name, ORDERS[0])[1], tax_rate_total=33.0)
    assert log_events(logs, group, f'"configuration {pricing["parameter"]} version 2 loaded"')


def receive_all(sqs: Any, url: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Receive ``count`` messages without deleting them, as Lambda's poller holds a batch in flight."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        messages.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"],
                                            MessageAttributeNames=["All"]).get("Messages", []))
    return messages


def sqs_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS poller invokes a function with (developer guide, "Using Lambda with Amazon SQS")."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m["Attributes"], "messageAttributes": m.get("MessageAttributes", {}), "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3],
    } for m in messages]}


def send_orders(sqs: Any, url: str) -> None:
    answer = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": order["orderId"], "MessageBody": json.dumps(order)} for order in ORDERS])
    assert len(answer["Successful"]) == len(ORDERS)


def test_sqs_adapter_reports_the_failed_message_of_a_batch(lam: Any, sqs: Any, make_queue: Any, unique: Any,
                                                            pricing: dict[str, str], advance_clock: Any) -> None:
    name = orders_function(lam, unique, pricing, "app.sqs_handler", "OrdersQueueFunction")
    url, arn = make_queue("orders")
    send_orders(sqs, url)

    # Lambda's part: a batch in flight, the function invoked with it, the successes deleted.
    batch = receive_all(sqs, url, len(ORDERS))
    assert len(batch) == len(ORDERS)
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(sqs_event(arn, batch)))
    response = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, response
    [bad] = [m for m in batch if json.loads(m["Body"])["orderId"] == "ord-3"]
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    done = [m for m in batch if m is not bad]
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])

    results = bodies(receive(sqs, pricing["results_url"], 3))
    assert sorted(r["orderId"] for r in results) == ["ord-1", "ord-2", "ord-4"]
    for result in results:
        check_priced(result)
    # The reported message stays in the queue and comes back after its visibility timeout.
    advance_clock(31)
    [again] = receive_all(sqs, url, 1)
    assert again["MessageId"] == bad["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"


@pytest.fixture
def orders_queue(sqs: Any, make_queue: Any) -> tuple[str, str, str]:
    """The orders queue, whose messages move to a dead-letter queue after two failed receives; (url, arn, dlq url)."""
    dlq_url, dlq_arn = make_queue("orders-dlq")
    url, arn = make_queue("orders")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})
    return url, arn, dlq_url


def expect_dead_lettered_order(sqs: Any, dlq_url: str, advance_clock: Callable[[float], Any]) -> None:
    """ord-3 fails on every receive: after its second, the queue moves it to the dead-letter queue."""
    [dead] = bodies(receive(sqs, dlq_url, 1, timeout=60, tick=lambda: advance_clock(31)))
    assert dead == ORDERS[2]


def test_sqs_event_source_mapping_with_partial_batch_responses(lam: Any, sqs: Any, unique: Any, pricing: dict[str, str],
                                                               orders_queue: tuple[str, str, str], advance_clock: Any) -> None:
    url, arn, dlq_url = orders_queue
    name = orders_function(lam, unique, pricing, "app.sqs_handler", "OrdersQueueFunction")
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    try:
        assert wait_for(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
        send_orders(sqs, url)
        results = bodies(receive(sqs, pricing["results_url"], 3))
        assert sorted(r["orderId"] for r in results) == ["ord-1", "ord-2", "ord-4"]
        expect_dead_lettered_order(sqs, dlq_url, advance_clock)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def business_logic_of(lam: Any, name: str) -> str:
    """``business_logic.py`` as deployed: from the package GetFunction's Code.Location serves."""
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as response:
        package = zipfile.ZipFile(io.BytesIO(response.read()))
    return package.read("business_logic.py").decode()


@pytest.fixture
def container(endpoint: str, tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Run the container's ``app.py`` with the given business logic and environment; answer its log file."""
    started: list[subprocess.Popen[bytes]] = []

    def run(business_logic: str, **variables: str) -> Path:
        workdir = tmp_path / f"container{len(started)}"
        workdir.mkdir()
        (workdir / "app.py").write_text(CONTAINER_APP)
        (workdir / "business_logic.py").write_text(business_logic)
        log = workdir / "container.log"
        env = {"PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "TMPDIR": str(workdir), **variables}
        with open(log, "wb") as out:
            started.append(subprocess.Popen([sys.executable, "./app.py"], cwd=workdir, env=env,
                                            stdout=out, stderr=subprocess.STDOUT))
        return log

    yield run
    for process in started:
        process.kill()
        process.wait(10)


def test_container_runs_the_same_business_logic(lam: Any, sqs: Any, unique: Any, pricing: dict[str, str],
                                                orders_queue: tuple[str, str, str], container: Any,
                                                advance_clock: Any) -> None:
    url, _, dlq_url = orders_queue
    deployed = orders_function(lam, unique, pricing, "app.sqs_handler", "OrdersQueueFunction")
    business_logic = business_logic_of(lam, deployed)
    assert business_logic == BUSINESS_LOGIC  # migrated with no changes
    log = container(business_logic, QUEUE_URL=url, BATCH_SIZE="10", CONFIG_PARAMETER=pricing["parameter"])

    send_orders(sqs, url)
    results = bodies(receive(sqs, pricing["results_url"], 3))
    assert sorted(r["orderId"] for r in results) == ["ord-1", "ord-2", "ord-4"]
    for result in results:
        check_priced(result)  # threads did not mix up their invoices in /tmp
    expect_dead_lettered_order(sqs, dlq_url, advance_clock)

    lines = log.read_text().splitlines()
    assert lines.count(f"configuration {pricing['parameter']} version 1 loaded") == 1  # before the loop, once
    assert lines.count("order rejected: order ord-3 has no items") == 2  # received twice, then dead-lettered
    assert not [p for p in log.parent.iterdir() if p.name.startswith("invoice-")]  # work files cleaned up


def test_async_business_errors_reach_the_failure_destination(lam: Any, sqs: Any, make_queue: Any, unique: Any,
                                                             pricing: dict[str, str]) -> None:
    succeeded_url, succeeded_arn = make_queue("priced")
    failed_url, failed_arn = make_queue("unpriced")
    name = orders_function(lam, unique, pricing, "app.event_handler", "OrdersEventFunction")
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={
        "OnSuccess": {"Destination": succeeded_arn}, "OnFailure": {"Destination": failed_arn}})
    for order in (ORDERS[1], ORDERS[2]):
        assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(order))["StatusCode"] == 202

    [success] = bodies(receive(sqs, succeeded_url, 1))
    assert success["requestContext"]["condition"] == "Success" and success["requestPayload"] == ORDERS[1]
    check_priced(success["responsePayload"])
    [failure] = bodies(receive(sqs, failed_url, 1))
    assert failure["requestContext"]["condition"] == "RetriesExhausted" and failure["requestPayload"] == ORDERS[2]
    assert failure["responseContext"]["functionError"] == "Unhandled"
    error = failure["responsePayload"]
    assert (error["errorType"], error["errorMessage"]) == ("InvalidOrder", "order ord-3 has no items")
