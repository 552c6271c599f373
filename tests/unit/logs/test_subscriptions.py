"""Subscription filters without a server: the Lambda policy check, destination kinds, payloads, batching."""

from __future__ import annotations

import base64
import gzip
import json
import random
from typing import Any

import pytest

from stratus.aws.errors import AwsError
from stratus.services.logs import destinations, subscriptions
from stratus.services.logs.destinations import allows_logs

REGION, ACCOUNT = "us-east-1", "123456789012"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/api:*"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}


def allow(principal: Any = None, action: Any = "lambda:InvokeFunction", condition: dict[str, Any] | None = None,
          effect: str = "Allow") -> dict[str, Any]:
    statement = {"Sid": "s", "Effect": effect, "Principal": principal or {"Service": "logs.amazonaws.com"},
                 "Action": action, "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"}
    if condition:
        statement["Condition"] = condition
    return statement


def logs_may(document: dict[str, Any]) -> bool:
    return allows_logs(document, REGION, source_arn=GROUP_ARN, source_account=ACCOUNT)


@pytest.mark.parametrize("statement", [
    allow(),
    allow({"Service": f"logs.{REGION}.amazonaws.com"}),
    allow("*"),
    allow({"Service": ["events.amazonaws.com", "logs.amazonaws.com"]}),
    allow(action="lambda:*"),
    allow(action=["lambda:GetFunction", "lambda:invokefunction"]),
    allow(condition={"ArnLike": {"AWS:SourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/*"}}),
    allow(condition={"ArnLike": {"AWS:SourceArn": GROUP_ARN}, "StringEquals": {"AWS:SourceAccount": ACCOUNT}}),
    allow(condition={"ArnLike": {"aws:SourceArn": f"arn:aws:logs:*:{ACCOUNT}:log-group:/app/api:*"}}),
    allow(condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}),
])
def test_statements_that_let_logs_invoke(statement: dict[str, Any]) -> None:
    assert logs_may(policy(statement))


@pytest.mark.parametrize("statement", [
    allow({"Service": "events.amazonaws.com"}),
    allow({"Service": "logs.eu-west-1.amazonaws.com"}),
    allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    allow(action="lambda:GetFunction"),
    allow(condition={"ArnLike": {"AWS:SourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/other/*"}}),
    # Without ":*" the ARN is not the one Logs presents.
    allow(condition={"ArnLike": {"AWS:SourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/api"}}),
    allow(condition={"StringEquals": {"AWS:SourceAccount": "999999999999"}}),
    allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),  # Logs' request has no such key
    allow(condition={"NumericLessThan": {"AWS:SourceAccount": "1"}}),
])
def test_statements_that_do_not(statement: dict[str, Any]) -> None:
    assert not logs_may(policy(statement))


def test_a_deny_wins_and_no_statement_denies() -> None:
    assert not logs_may(policy(allow(), allow(effect="Deny")))
    assert not logs_may(policy())


def test_destination_kinds() -> None:
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live"
    assert destinations.check_kind(function, None).resource == "function:f:live"
    with pytest.raises(AwsError) as excinfo:
        destinations.check_kind(f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s", None)
    assert excinfo.value.code == "InvalidParameterException"
    with pytest.raises(AwsError) as excinfo:
        destinations.check_kind(f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/d", "arn:aws:iam::1:role/r")
    assert (excinfo.value.code, excinfo.value.status) == ("NotImplemented", 501)
    with pytest.raises(AwsError) as excinfo:
        destinations.check_kind(f"arn:aws:logs:{REGION}:{ACCOUNT}:destination:d", None)
    assert excinfo.value.code == "NotImplemented"
    for bad in (f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", "not-an-arn"):
        with pytest.raises(AwsError) as excinfo:
            destinations.check_kind(bad, None)
        assert excinfo.value.code == "InvalidParameterException"


def decoded(body: bytes) -> dict[str, Any]:
    return json.loads(gzip.decompress(base64.b64decode(json.loads(body)["awslogs"]["data"])))


def test_matching_and_the_data_message() -> None:
    events = [("1", 10, "ERROR a"), ("2", 11, "INFO b"), ("3", 12, '{"level": "error"}')]
    filters = [("errors", "ERROR", {"destinationArn": "arn:f"}), ("json", '{ $.level = "error" }', {"destinationArn": "arn:g"}),
               ("none", "NOPE", {"destinationArn": "arn:h"})]
    found = subscriptions.matching(filters, events)
    assert found == [("errors", "arn:f", [events[0]]), ("json", "arn:g", [events[2]])]
    [(count, body)] = subscriptions.lambda_events(ACCOUNT, "/app", "s", "errors", found[0][2])
    assert count == 1
    assert decoded(body) == {
        "messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "/app", "logStream": "s",
        "subscriptionFilters": ["errors"], "logEvents": [{"id": "1", "timestamp": 10, "message": "ERROR a"}],
    }
    control = decoded(subscriptions.lambda_event(subscriptions.control_message(5)))
    assert control["messageType"] == "CONTROL_MESSAGE" and control["logEvents"][0]["timestamp"] == 5


def test_a_batch_too_large_for_one_invocation_is_split_in_order() -> None:
    # Random (incompressible) messages, so the payload grows with the events.
    noise = random.Random(7)
    events = [(str(i), i, base64.b64encode(noise.randbytes(3000)).decode()) for i in range(40)]
    parts = subscriptions.lambda_events(ACCOUNT, "/app", "s", "all", events, limit=20_000)
    assert len(parts) > 1 and all(len(body) <= 20_000 for _, body in parts)
    assert sum(count for count, _ in parts) == len(events)
    assert [e["id"] for _, body in parts for e in decoded(body)["logEvents"]] == [e[0] for e in events]
