"""Helpers for the EventBridge integration tests: clients, queues as targets, waiting for deliveries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def events(endpoint: str) -> Any:
    return client_for(endpoint, "events")


@pytest.fixture
def make_queue(sqs: Any, unique: Callable[[str], str]) -> Callable[..., tuple[str, str]]:
    """A queue with a unique name: answers ``(url, arn)``."""

    def make(prefix: str = "q", fifo: bool = False, client: Any = None) -> tuple[str, str]:
        client = client or sqs
        name = unique(prefix) + (".fifo" if fifo else "")
        attributes = {"FifoQueue": "true"} if fifo else {}
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    return make


def receive(sqs: Any, url: str, count: int, *, timeout: float = 20.0, tick: Callable[[], Any] | None = None,
            **kwargs: Any) -> list[dict[str, Any]]:
    """Receive until ``count`` messages arrived (or ``timeout`` real seconds passed); ``tick`` runs between polls."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        if tick:
            tick()
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs).get("Messages", [])
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        messages.extend(batch)
    return messages


def bodies(messages: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(m["Body"]) for m in messages]


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Code"]
