"""Helpers for the EventBridge Scheduler tests: clients, SQS queues as targets, a server of their own.

Firing tests move the stratus clock, which is global to a server; they run on ``sched_server``
(one per module and backend) so the shared server's clock stays where other tests expect it,
and tests that need an exact clock position start their own with ``server_factory``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, advance, client_for, live_server
from tests.helpers import nothing_arrives, queue_arn, receive

ROLE = "arn:aws:iam::000000000000:role/scheduler"
OFF = {"Mode": "OFF"}


@pytest.fixture
def scheduler(endpoint: str) -> Any:
    return client_for(endpoint, "scheduler")


@pytest.fixture(scope="module")
def sched_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with live_server(backend, tmp_path_factory.mktemp(f"scheduler-{backend}")) as server:
        yield server


class Cloud:
    """boto3 clients of one server, and its clock."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.scheduler = client_for(endpoint, "scheduler")
        self.sqs = client_for(endpoint, "sqs")

    def now_ms(self) -> int:
        return int(advance(self.endpoint, 0)["now_ms"])

    def advance(self, seconds: float) -> int:
        return int(advance(self.endpoint, seconds)["now_ms"])

    def queue(self, name: str, **attributes: str) -> tuple[str, str]:
        """A new queue: (url, arn)."""
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, queue_arn(self.sqs, url)

    def messages(self, url: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Receive (and delete) until ``count`` messages arrived or ``timeout`` passed."""
        return receive(self.sqs, url, count, timeout=timeout, MessageAttributeNames=["All"], AttributeNames=["All"])

    def empty(self, url: str) -> bool:
        """No message is waiting in the queue right now (callers first wait for a control event)."""
        return nothing_arrives(self.sqs, url, wait_s=0)


@pytest.fixture(scope="module")
def cloud(sched_server: ServerProcess) -> Cloud:
    return Cloud(sched_server.endpoint)


@pytest.fixture
def own_cloud(server_factory: Callable[..., ServerProcess]) -> Callable[[], tuple[ServerProcess, Cloud]]:
    """A fresh server with its own clock (and store) for one test."""

    def make(data_dir: Path | None = None) -> tuple[ServerProcess, Cloud]:
        server = server_factory(data_dir).start()
        return server, Cloud(server.endpoint)

    return make


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]
