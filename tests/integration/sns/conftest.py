"""Helpers for the SNS integration tests: topics, SQS subscriptions and what the server captured."""

from __future__ import annotations

import json
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


def captured(server: str, /, **filters: str) -> list[dict[str, Any]]:
    url = f"{server}/_stratus/sns/messages?{urllib.parse.urlencode(filters)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["messages"]


def subscribe_queue(sns: Any, topic_arn: str, queue_arn: str, **attributes: str) -> str:
    return sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes,
                         ReturnSubscriptionArn=True)["SubscriptionArn"]
