"""Synchronous invocation: runtimes, errors, limits, qualifiers, alias weights, throttling, logs."""

from __future__ import annotations

import base64
import json
import shutil
import time
from typing import Any

import pytest

from tests.conftest import client_for
from tests.integration.lambda_.conftest import make_zip, python_zip


def invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs)
    return answer, json.loads(answer["Payload"].read() or b"null")


def test_python_echo_tail_and_qualifiers(lam: Any, make_function: Any) -> None:
    name = make_function(python_zip("def handler(event, context):\n    print('hello from', context.function_name)\n    return {'got': event, 'id': context.aws_request_id}\n"))
    answer, body = invoke(lam, name, {"a": 1}, LogType="Tail")
    assert answer["StatusCode"] == 200 and answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    assert body["got"] == {"a": 1} and body["id"] == answer["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "hello from " + name in tail
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert invoke(lam, name, Qualifier="1")[0]["ExecutedVersion"] == "1"
    assert invoke(lam, f"{name}:live")[0]["ExecutedVersion"] == "1"
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    assert invoke(lam, f"{arn}:live")[0]["ExecutedVersion"] == "1"
    assert invoke(lam, f"000000000000:function:{name}")[0]["StatusCode"] == 200
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


def test_invoke_request_errors(lam: Any, make_function: Any, unique: Any) -> None:
    name = make_function()
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=name, Payload=b"{not json")
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"x": "y" * 1_100_000}))
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=name, ClientContext="%%%not base64")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=unique("missing"))
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=name, Qualifier="nope")


def test_handler_raises(lam: Any, make_function: Any) -> None:
    name = make_function(python_zip("def handler(event, context):\n    raise ValueError('boom')\n"))
    answer, body = invoke(lam, name)
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom"
    assert isinstance(body["stackTrace"], list)


def test_timeout(lam: Any, make_function: Any) -> None:
    name = make_function(python_zip("import time\ndef handler(event, context):\n    time.sleep(10)\n"), Timeout=1)
    answer, body = invoke(lam, name)
    assert answer["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]


def test_out_of_memory(lam: Any, make_function: Any) -> None:
    code = "def handler(event, context):\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 * 1024 * 1024))\n"
    name = make_function(python_zip(code), MemorySize=128, Timeout=30)
    answer, body = invoke(lam, name)
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"].startswith("Runtime.")


def test_boto3_inside_handler_writes_to_sqs(lam: Any, make_function: Any, sqs: Any, unique: Any) -> None:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    code = (
        "import boto3, os\n"
        "def handler(event, context):\n"
        "    boto3.client('sqs').send_message(QueueUrl=event['url'], MessageBody='from ' + os.environ['AWS_LAMBDA_FUNCTION_NAME'])\n"
        "    return 'sent'\n"
    )
    name = make_function(python_zip(code), Timeout=30)
    answer, body = invoke(lam, name, {"url": url})
    assert body == "sent", body
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert messages[0]["Body"] == f"from {name}"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_nodejs(lam: Any, make_function: Any) -> None:
    code = make_zip({"index.js": "exports.handler = async (event) => ({ node: process.version, doubled: event.n * 2 });\n"})
    name = make_function(code, runtime="nodejs20.x", handler="index.handler")
    _, body = invoke(lam, name, {"n": 21})
    assert body["doubled"] == 42 and body["node"].startswith("v")


def test_provided_shell_bootstrap(lam: Any, make_function: Any) -> None:
    bootstrap = """#!/bin/sh
set -eu
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d "{\\"shell\\": $EVENT}" > /dev/null
done
"""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    name = make_function(make_zip({"bootstrap": bootstrap}, executable=("bootstrap",)), runtime="provided.al2023", handler="none")
    _, body = invoke(lam, name, {"k": "v"})
    assert body == {"shell": {"k": "v"}}


def test_alias_weights_split(lam: Any, make_function: Any) -> None:
    name = make_function(python_zip("def handler(event, context):\n    return 1\n"))
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Timeout=4)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    counts = {"1": 0, "2": 0}
    for _ in range(1000):
        counts[lam.invoke(FunctionName=name, Qualifier="canary")["ExecutedVersion"]] += 1
    # 300 expected; the binomial's standard deviation is about 14.5, so 5 of them either side.
    assert 227 <= counts["2"] <= 373, counts


def test_reserved_concurrency_zero_throttles(lam: Any, make_function: Any) -> None:
    name = make_function()
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as excinfo:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert excinfo.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_logs_start_end_report(lam: Any, make_function: Any, endpoint: str) -> None:
    logs = client_for(endpoint, "logs")
    name = make_function(python_zip("def handler(event, context):\n    print('marker-line')\n    return 1\n"))
    answer, _ = invoke(lam, name)
    request_id = answer["ResponseMetadata"]["RequestId"]
    group = f"/aws/lambda/{name}"
    lines: list[str] = []
    for _ in range(100):
        try:
            lines = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        except logs.exceptions.ResourceNotFoundException:
            lines = []
        if any(line.startswith("REPORT") for line in lines):
            break
        time.sleep(0.1)
    text = "\n".join(lines)
    assert f"START RequestId: {request_id}" in text
    assert f"END RequestId: {request_id}" in text
    assert f"REPORT RequestId: {request_id}" in text and "Billed Duration" in text and "Max Memory Used" in text
    assert "marker-line" in text


def test_provisioned_concurrency(lam: Any, make_function: Any) -> None:
    name = make_function()
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    lam.publish_version(FunctionName=name)
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert put["RequestedProvisionedConcurrentExecutions"] == 2 and put["Status"] == "IN_PROGRESS"
    status = ""
    for _ in range(100):
        status = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"]
        if status != "IN_PROGRESS":
            break
        time.sleep(0.1)
    assert status == "READY"
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert listed[0]["FunctionArn"].endswith(":1") and listed[0]["AllocatedProvisionedConcurrentExecutions"] == 2
    assert invoke(lam, name, Qualifier="1")[0]["StatusCode"] == 200
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
