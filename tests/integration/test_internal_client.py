"""The internal client: in-process calls get the model's validation, the provider's errors and the target's account."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, NotImplementedOperation
from stratus.node import Node
from tests.helpers import run_in_node


def test_calls_run_validation_and_the_provider(tmp_path: Path, store_url: str) -> None:
    async def body(node: Node) -> None:
        sqs = node.client().sqs
        url = (await sqs.create_queue({"QueueName": "internal"}))["QueueUrl"]
        sent = await sqs.send_message({"QueueUrl": url, "MessageBody": "from inside"})
        assert len(sent["MD5OfMessageBody"]) == 32
        got = await sqs.receive_message({"QueueUrl": url})
        assert [m["Body"] for m in got["Messages"]] == ["from inside"]
        # The model's validation runs as for an HTTP call: nothing is sent.
        with pytest.raises(AwsError) as info:
            await sqs.send_message({"QueueUrl": url})
        assert "MessageBody" in info.value.message
        with pytest.raises(AwsError) as missing:
            await sqs.get_queue_url({"QueueName": "no-such-queue"})
        assert missing.value.code == "QueueDoesNotExist"

    run_in_node(tmp_path / "data", store_url, body)


def test_target_account_comes_from_the_queue_url(tmp_path: Path, store_url: str) -> None:
    async def body(node: Node) -> None:
        owner = node.client(RequestContext(account="444455556666", request_id="r1")).sqs
        url = (await owner.create_queue({"QueueName": "shared"}))["QueueUrl"]
        assert "/444455556666/" in url
        # A caller in the default account sends to the owner's queue by its URL.
        caller = node.client().sqs
        await caller.send_message({"QueueUrl": url, "MessageBody": "cross-account"})
        got = await owner.receive_message({"QueueUrl": url})
        assert got["Messages"][0]["Body"] == "cross-account"
        listed = await caller.list_queues({})
        assert url not in listed.get("QueueUrls", [])

    run_in_node(tmp_path / "data", store_url, body)


def test_unknown_operation_and_service(tmp_path: Path, store_url: str) -> None:
    async def body(node: Node) -> None:
        with pytest.raises(AttributeError):
            node.client().sqs.launch_rockets
        with pytest.raises(AttributeError):
            node.client().dynamodb
        with pytest.raises(NotImplementedOperation):
            await node.dispatcher.call(RequestContext(), "sqs", "NoSuchOperation", {})

    run_in_node(tmp_path / "data", store_url, body)
