"""Fixtures for the cross-service tests: clients, queues and a function that records its events.

The recording function sends each event it receives to an SQS queue in stratus with boto3
(reaching stratus through AWS_ENDPOINT_URL, as a deployed function would reach AWS), so a
test sees exactly what the calling service delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import client_for
from tests.helpers import queue_arn
from tests.integration.lambda_.conftest import ROLE, ensure_role, python_zip

RECORDER = '''
import json, os
import boto3

sqs = boto3.client("sqs")

def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["RECORD"], MessageBody=json.dumps(
        {"event": event, "function": context.function_name, "request_id": context.aws_request_id}))
    return {"recorded": context.function_name}
'''


@dataclass(frozen=True)
class Recorder:
    """A function that writes every event it gets to ``queue_url``."""

    name: str
    arn: str
    queue_url: str


@pytest.fixture
def lam(endpoint: str) -> Any:
    ensure_role(endpoint)  # Lambda refuses an execution role that does not exist in IAM
    return client_for(endpoint, "lambda")


@pytest.fixture
def events(endpoint: str) -> Any:
    return client_for(endpoint, "events")


@pytest.fixture
def sns(endpoint: str) -> Any:
    return client_for(endpoint, "sns")


@pytest.fixture
def scheduler(endpoint: str) -> Any:
    return client_for(endpoint, "scheduler")


@pytest.fixture
def make_queue(sqs: Any, unique: Callable[[str], str]) -> Callable[[str], tuple[str, str]]:
    """Create a queue; answer (url, arn)."""

    def make(prefix: str = "q") -> tuple[str, str]:
        url = sqs.create_queue(QueueName=unique(prefix))["QueueUrl"]
        return url, queue_arn(sqs, url)

    return make


@pytest.fixture
def make_function(lam: Any, unique: Callable[[str], str]) -> Callable[..., dict[str, Any]]:
    """Create a Python function from handler source, wait until it is Active; answer its configuration."""

    def make(source: str, prefix: str = "fn", **extra: Any) -> dict[str, Any]:
        name = unique(prefix)
        config = lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": python_zip(source)}, Timeout=30, **extra,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
        return config

    return make


@pytest.fixture
def make_recorder(make_function: Any, make_queue: Any) -> Callable[[], Recorder]:
    def make() -> Recorder:
        url, _ = make_queue("record")
        config = make_function(RECORDER, prefix="recorder", Environment={"Variables": {"RECORD": url}})
        return Recorder(config["FunctionName"], config["FunctionArn"], url)

    return make
