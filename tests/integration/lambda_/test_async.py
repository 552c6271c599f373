"""Asynchronous invocation: retries on the stratus clock, destinations, dead-letter queues, restarts.

Developer guide: "Asynchronous invocation", "Error handling and automatic retries" (function
errors retried twice, about 1 and 2 minutes apart) and "Capturing records of asynchronous
invocations" (the invocation record).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import advance, client_for
from tests.integration.lambda_.conftest import ROLE, ensure_role, python_zip

FAILING = "def handler(event, context):\n    raise RuntimeError('always fails')\n"


def queue_with_arn(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive(sqs: Any, url: str, wait_s: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages", [])
        if got:
            return got
    return []


def take_runs(sqs: Any, runs_url: str, wait_s: float) -> int:
    """Runs recorded by the counting handler (one message each), deleted as they are counted:
    advancing the stratus clock also ends SQS visibility timeouts."""
    got = sqs.receive_message(QueueUrl=runs_url, WaitTimeSeconds=int(wait_s), MaxNumberOfMessages=10).get("Messages", [])
    for message in got:
        sqs.delete_message(QueueUrl=runs_url, ReceiptHandle=message["ReceiptHandle"])
    return len(got)


def next_run(sqs: Any, runs_url: str, step: Callable[[float], Any] | None, seconds: float = 0) -> None:
    """Wait for the handler's next run, moving the clock by ``seconds`` until it comes.

    The handler records its run before it fails, so the retry may not be scheduled yet when the
    run is seen: the clock moves again until the retry runs (a few extra seconds change nothing).
    """
    for _ in range(20):
        if step is not None:
            step(seconds)
        if take_runs(sqs, runs_url, 1):
            return
    raise AssertionError("the function did not run again")


COUNTING_FAILURE = (
    "import boto3, os\n"
    "def handler(event, context):\n"
    "    boto3.client('sqs').send_message(QueueUrl=os.environ['RUNS'], MessageBody='run')\n"
    "    raise RuntimeError('always fails')\n"
)


def run_failing_twice_retried(lam: Any, sqs: Any, name: str, runs_url: str, step: Callable[[float], Any]) -> str:
    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 7}))
    assert answer["StatusCode"] == 202
    next_run(sqs, runs_url, None)
    next_run(sqs, runs_url, step, 61)
    next_run(sqs, runs_url, step, 121)
    assert take_runs(sqs, runs_url, 1) == 0
    return answer["ResponseMetadata"]["RequestId"]


def test_failure_record_in_sqs_destination(lam: Any, sqs: Any, make_function: Any, unique: Any, advance_clock: Any) -> None:
    runs_url, _ = queue_with_arn(sqs, unique("runs"))
    failures_url, failures_arn = queue_with_arn(sqs, unique("failures"))
    name = make_function(python_zip(COUNTING_FAILURE), Environment={"Variables": {"RUNS": runs_url}}, Timeout=30)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": failures_arn}})
    request_id = run_failing_twice_retried(lam, sqs, name, runs_url, advance_clock)
    record = json.loads(receive(sqs, failures_url)[0]["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "always fails"
    assert record["timestamp"].endswith("Z")


def test_failure_in_dead_letter_queue(lam: Any, sqs: Any, make_function: Any, unique: Any, advance_clock: Any) -> None:
    runs_url, _ = queue_with_arn(sqs, unique("runs"))
    dlq_url, dlq_arn = queue_with_arn(sqs, unique("dlq"))
    name = make_function(
        python_zip(COUNTING_FAILURE), Environment={"Variables": {"RUNS": runs_url}}, Timeout=30, DeadLetterConfig={"TargetArn": dlq_arn},
    )
    request_id = run_failing_twice_retried(lam, sqs, name, runs_url, advance_clock)
    message = receive(sqs, dlq_url)[0]
    assert json.loads(message["Body"]) == {"order": 7}
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"RequestID": request_id, "ErrorCode": "200", "ErrorMessage": "always fails"}


def test_success_record_and_retry_setting(lam: Any, sqs: Any, make_function: Any, unique: Any) -> None:
    ok_url, ok_arn = queue_with_arn(sqs, unique("ok"))
    name = make_function(python_zip("def handler(event, context):\n    return {'doubled': event['n'] * 2}\n"))
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": ok_arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": 4}))
    record = json.loads(receive(sqs, ok_url)[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"doubled": 8}


def test_no_retries_when_zero(lam: Any, sqs: Any, make_function: Any, unique: Any) -> None:
    failures_url, failures_arn = queue_with_arn(sqs, unique("failures"))
    name = make_function(python_zip(FAILING))
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    record = json.loads(receive(sqs, failures_url)[0]["Body"])
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["condition"] == "RetriesExhausted"


def test_async_event_survives_sigkill(server_factory: Any, unique: Any) -> None:
    server = server_factory().start()
    ensure_role(server.endpoint)
    lam = client_for(server.endpoint, "lambda")
    sqs = client_for(server.endpoint, "sqs")
    runs_url, _ = queue_with_arn(sqs, unique("runs"))
    failures_url, failures_arn = queue_with_arn(sqs, unique("failures"))
    name = unique("fn")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": python_zip(COUNTING_FAILURE)},
        Environment={"Variables": {"RUNS": runs_url}}, Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": failures_arn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"survives": true}')
    next_run(sqs, runs_url, None)
    server.restart()  # SIGKILL, then start again: the retry is a durable timer
    next_run(sqs, runs_url, lambda s: advance(server.endpoint, s), 61)
    record = json.loads(receive(sqs, failures_url)[0]["Body"])
    assert record["requestPayload"] == {"survives": True}
    assert record["requestContext"]["approximateInvokeCount"] == 2
