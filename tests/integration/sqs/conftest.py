"""Helpers for the SQS integration tests: queues with unique names on the shared server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def make_queue(sqs: Any, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create a queue with a unique name; answer its URL. ``fifo=True`` makes a FIFO queue."""

    def make(prefix: str = "q", fifo: bool = False, **attributes: str) -> str:
        name = unique(prefix) + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoQueue"] = "true"
        return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    return make


def arn_of(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Code"]
