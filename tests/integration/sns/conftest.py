"""Helpers for the SNS integration tests: topics and SQS subscriber queues on the shared server."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def sns(endpoint: str) -> Any:
    return client_for(endpoint, "sns")


@pytest.fixture
def make_topic(sns: Any, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create a topic with a unique name; answer its ARN. ``fifo=True`` makes a FIFO topic."""

    def make(prefix: str = "topic", fifo: bool = False, **attributes: str) -> str:
        name = unique(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoTopic"] = "true"
        return sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]

    return make


@pytest.fixture
def make_queue(sqs: Any, unique: Callable[[str], str]) -> Callable[..., tuple[str, str]]:
    """Create a queue; answer (URL, ARN)."""

    def make(prefix: str = "q", fifo: bool = False, **attributes: str) -> tuple[str, str]:
        name = unique(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    return make


def receive(sqs: Any, url: str, count: int, timeout: float = 10.0, **options: Any) -> list[dict[str, Any]]:
    """Receive (and delete) messages until ``count`` arrived or ``timeout`` seconds passed."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **options)
        for m in got.get("Messages", []):
            messages.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return messages


def nothing_arrives(sqs: Any, url: str, seconds: float = 1.0) -> bool:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=int(seconds))
    return not got.get("Messages")


def captured(server: str, /, **filters: str) -> list[dict[str, Any]]:
    url = f"{server}/_stratus/sns/messages?{urllib.parse.urlencode(filters)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["messages"]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def subscribe_queue(sns: Any, topic_arn: str, queue_arn: str, **attributes: str) -> str:
    return sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes,
                         ReturnSubscriptionArn=True)["SubscriptionArn"]


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Code"]


def error_message(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Message"]
