"""A delivery that fails for good disables its subscription filter for 10 minutes (both stores, in-process node).

User guide, "Real-time processing of log data with subscriptions": for a non-retryable error such
as AccessDeniedException "the subscription filter is disabled for up to 10 minutes, and then
CloudWatch Logs retries sending logs to the destination. During this disabled period, logs are
skipped." The node runs in this process so the test can read the filter's state in the store.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from stratus.aws.context import RequestContext
from stratus.node import Node
from stratus.services.logs.subscriptions import DELIVER_TIMER, DISABLED_FOR_MS
from tests.helpers import run_in_node
from tests.integration.logs.test_subscriptions import TRUST
from tests.integration.lambda_.conftest import ECHO, ROLE, python_zip

ACCOUNT, GROUP = "000000000000", "/app/failing"


async def disabled_until(node: Node) -> int | None:
    async with node.store.transaction() as tx:
        row = await tx.fetchone("SELECT disabled_until_ms FROM logs_filters WHERE kind = 'subscription' AND name = 'all'")
    assert row is not None
    return row[0]


async def pending_deliveries(node: Node) -> int:
    async with node.store.transaction() as tx:
        row = await tx.fetchone("SELECT COUNT(*) FROM stratus_timers WHERE kind = ?", (DELIVER_TIMER,))
    assert row is not None
    return int(row[0])


async def eventually(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


def test_a_denied_delivery_disables_the_filter_for_ten_minutes(tmp_path: Path, store_url: str) -> None:
    async def body(node: Node) -> None:
        client = node.client(RequestContext(account=ACCOUNT, region="us-east-1", request_id="r"))
        lam, logs = client.lambda_, client.logs
        await client.iam.create_role({"RoleName": ROLE.rsplit("/", 1)[1], "AssumeRolePolicyDocument": TRUST})
        function = (await lam.create_function({"FunctionName": "sink", "Runtime": "python3.12", "Role": ROLE,
                                                "Handler": "app.handler", "Code": {"ZipFile": python_zip(ECHO)}}))["FunctionArn"]
        # Never run: the test is about what Logs does, and throttled async events just wait in Lambda's queue.
        await lam.put_function_concurrency({"FunctionName": "sink", "ReservedConcurrentExecutions": 0})
        await lam.add_permission({"FunctionName": "sink", "StatementId": "logs", "Action": "lambda:InvokeFunction",
                                  "Principal": "logs.amazonaws.com"})
        await logs.create_log_group({"logGroupName": GROUP})
        await logs.create_log_stream({"logGroupName": GROUP, "logStreamName": "s"})
        await logs.put_subscription_filter({"logGroupName": GROUP, "filterName": "all", "filterPattern": "",
                                            "destinationArn": function})
        assert await eventually(lambda: _none_pending(node))  # the control message went to Lambda's queue

        async def put(message: str) -> None:
            now = node.clock.now_ms()
            await logs.put_log_events({"logGroupName": GROUP, "logStreamName": "s",
                                       "logEvents": [{"timestamp": now, "message": message}]})

        # Logs may no longer invoke the function: the next delivery fails and disables the filter.
        await lam.remove_permission({"FunctionName": "sink", "StatementId": "logs"})
        assert await disabled_until(node) is None
        failed_at = node.clock.now_ms()
        await put("first")
        until = await eventually(lambda: disabled_until(node))
        assert failed_at + DISABLED_FOR_MS <= until <= node.clock.now_ms() + DISABLED_FOR_MS

        # Meanwhile matching events are skipped: no delivery is even written.
        await put("skipped")
        assert await pending_deliveries(node) == 0

        # Ten minutes later the filter delivers again (and, still denied, is disabled anew).
        await node.clock.advance(DISABLED_FOR_MS / 1000)
        await put("after")
        assert await eventually(lambda: _later(node, until))

    run_in_node(tmp_path / "data", store_url, body)


async def _none_pending(node: Node) -> bool:
    return await pending_deliveries(node) == 0


async def _later(node: Node, previous: int) -> bool:
    return (await disabled_until(node) or 0) > previous
