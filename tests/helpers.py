"""Helpers the integration tests share: waiting for what happens after an answer, reading SQS
queues the services deliver to, the AWS CLI, and the parts of a botocore error.

Fixtures live in tests/conftest.py; these are plain functions, imported by the tests that use them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stratus.config import Config
from stratus.node import Node


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Code"]


def error_message(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return excinfo.value.response["Error"]["Message"]


def wait_for(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll ``check()`` until it answers something truthy, and answer that; at ``timeout`` answer its last value.

    The caller asserts on the result (``assert wait_for(...)``), or on its falsehood when nothing
    should happen (``assert not wait_for(..., timeout=1)``); the timeout only guards against a hang.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def gone(describe: Callable[[], Any], code: str) -> bool:
    """Whether ``describe()`` now fails with ``code`` (the resource is gone); any other error fails the test."""
    try:
        describe()
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == code
        return True
    return False


def queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive(sqs: Any, url: str, count: int, *, timeout: float = 20.0, tick: Callable[[], Any] | None = None,
            **options: Any) -> list[dict[str, Any]]:
    """Receive (and delete) until ``count`` messages arrived or ``timeout`` real seconds passed; ``tick`` runs between polls."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        if tick:
            tick()
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **options).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(batch)
    return messages


def receive_until(sqs: Any, url: str, done: Callable[[list[dict[str, Any]]], bool], *,
                  timeout: float = 20.0) -> list[dict[str, Any]]:
    """Receive (and delete) until ``done(all messages so far)`` or ``timeout`` real seconds passed.

    For deliveries that are at least once (after a crash, a duplicate is allowed), where a
    count of messages would stop early on a duplicate.
    """
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(messages) and time.monotonic() < deadline:
        messages.extend(receive(sqs, url, 10, timeout=min(5.0, max(deadline - time.monotonic(), 0.1))))
    return messages


def bodies(messages: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(m["Body"]) for m in messages]


def nothing_arrives(sqs: Any, url: str, wait_s: int = 1) -> bool:
    """No message reaches the queue within ``wait_s`` seconds (0: none is waiting right now)."""
    return not sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s).get("Messages")


def run_in_node(data_dir: Path, store_url: str, body: Callable[[Node], Awaitable[None]]) -> None:
    """Start a stratus node in this process (no HTTP), run ``await body(node)``, stop the node."""

    async def run() -> None:
        node = Node(Config(data_dir=data_dir, store=store_url))
        await node.start()
        try:
            await body(node)
        finally:
            await node.stop()

    asyncio.run(run())


def server_now_ms(endpoint: str) -> int:
    """The stratus clock of a server (tests that advance it move it for every test on that server)."""
    with urllib.request.urlopen(f"{endpoint}/_stratus/clock", timeout=10) as resp:
        return int(json.load(resp)["now_ms"])


def aws_cli(endpoint: str, *args: str, region: str = "us-east-1", access_key: str = "test") -> Any:
    """Run the AWS CLI of the venv against ``endpoint`` with dummy credentials and no user config; answer its JSON."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    aws = Path(sys.executable).parent / "aws"
    out = subprocess.run([str(aws), *args, "--endpoint-url", endpoint, "--output", "json"],
                         env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout) if out.stdout.strip() else None
