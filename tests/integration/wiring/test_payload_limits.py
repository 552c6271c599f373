"""Invocation payload limits at their boundaries.

Lambda API reference, Invoke: "For synchronous invocations, the maximum payload size is 6 MB.
For asynchronous invocations, the maximum payload size is 1 MB." InvokeAsync (deprecated):
"The payload limit is 256KB." Over the limit Lambda answers 413 RequestTooLargeException.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import bodies, receive

SIZE_RECORDER = '''
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["RECORD"], MessageBody=json.dumps({"size": len(json.dumps(event))}))
'''

ONE_MB = 1024 * 1024


def json_of_size(size: int) -> bytes:
    """A JSON document (one string) of exactly ``size`` bytes."""
    return b'"' + b"x" * (size - 2) + b'"'


def test_async_invoke_takes_up_to_one_megabyte(lam: Any, sqs: Any, make_function: Any, make_queue: Any) -> None:
    url, _ = make_queue("sizes")
    name = make_function(SIZE_RECORDER, Environment={"Variables": {"RECORD": url}})["FunctionName"]
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json_of_size(ONE_MB))["StatusCode"] == 202
    assert bodies(receive(sqs, url, 1))[0] == {"size": ONE_MB}  # the whole event reached the function

    with pytest.raises(lam.exceptions.RequestTooLargeException) as exc:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json_of_size(ONE_MB + 1))
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert f"Request must be smaller than {ONE_MB} bytes for the InvokeFunction operation" in str(exc.value)


def test_invoke_async_keeps_its_256_kb_limit(lam: Any, make_function: Any, make_queue: Any) -> None:
    url, _ = make_queue("sizes")
    name = make_function(SIZE_RECORDER, Environment={"Variables": {"RECORD": url}})["FunctionName"]
    assert lam.invoke_async(FunctionName=name, InvokeArgs=json_of_size(256 * 1024))["Status"] == 202
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke_async(FunctionName=name, InvokeArgs=json_of_size(256 * 1024 + 1))


def test_sync_invoke_boundary(lam: Any, make_function: Any, make_queue: Any) -> None:
    url, _ = make_queue("sizes")
    name = make_function(SIZE_RECORDER, Environment={"Variables": {"RECORD": url}})["FunctionName"]
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName=name, Payload=json_of_size(6 * ONE_MB + 1))
    assert lam.invoke(FunctionName=name, Payload=json_of_size(2 * ONE_MB))["StatusCode"] == 200
