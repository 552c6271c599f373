"""Subscription filters delivering to a Lambda function (both stores).

User guide: "Real-time processing of log data with subscriptions", "Log group-level subscription
filters" (Lambda example: the function's resource policy lets logs.amazonaws.com invoke it) and
the Lambda developer guide's "Using Lambda with CloudWatch Logs" (the awslogs event). The
receiving function sends every event it gets to an SQS queue, where the test decodes it.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import client_for
from tests.helpers import error_code, error_message, nothing_arrives, receive, receive_until, server_now_ms
from tests.integration.lambda_.conftest import ROLE, python_zip

ACCOUNT = "000000000000"
PERMISSION_MESSAGE = (
    "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function."
)
RECEIVER = (
    "import boto3, json, os\n"
    "def handler(event, context):\n"
    "    boto3.client('sqs').send_message(QueueUrl=os.environ['OUT'], MessageBody=json.dumps(event))\n"
)


def decode(message: dict[str, Any]) -> dict[str, Any]:
    """The awslogs event the function received, decoded as a subscriber does."""
    event = json.loads(message["Body"])
    assert list(event) == ["awslogs"] and list(event["awslogs"]) == ["data"]
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def data_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in map(decode, messages) if d["messageType"] == "DATA_MESSAGE"]


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def ensure_role(iam: Any) -> None:
    """The execution role the functions name, made once per server."""
    try:
        iam.create_role(RoleName=ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument=TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        pass


@pytest.fixture
def lam(endpoint: str) -> Any:
    ensure_role(client_for(endpoint, "iam"))
    return client_for(endpoint, "lambda")


def create_receiver(lam: Any, sqs: Any, function: str, queue: str) -> tuple[str, str]:
    """A Python function that forwards each event it gets to a new queue; answer (function ARN, queue URL)."""
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = lam.create_function(
        FunctionName=function, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": python_zip(RECEIVER)}, Environment={"Variables": {"OUT": url}}, Timeout=30,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return arn, url


@pytest.fixture
def receiver(lam: Any, sqs: Any, unique: Callable[[str], str]) -> Callable[[], tuple[str, str]]:
    return lambda: create_receiver(lam, sqs, unique("receiver"), unique("received"))


def allow_logs(lam: Any, function_arn: str, source_arn: str | None = None, principal: str = "logs.amazonaws.com") -> None:
    extra = {"SourceArn": source_arn} if source_arn else {}
    lam.add_permission(FunctionName=function_arn, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal=principal, SourceAccount=ACCOUNT, **extra)


def group_arn(group: str) -> str:
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*"


def test_matching_events_of_one_put_reach_the_function_in_one_delivery(logs, lam, sqs, receiver, make_stream, clock_now):
    group, stream = make_stream()
    function, out = receiver()
    allow_logs(lam, function, group_arn(group))
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=function)

    # Creating the filter sends a control message, as AWS does to check the destination.
    control = decode(receive(sqs, out, 1)[0])
    assert control["messageType"] == "CONTROL_MESSAGE"
    assert control["owner"] == "CloudwatchLogs" and control["logGroup"] == "" and control["subscriptionFilters"] == []
    assert control["logEvents"][0]["id"] == "" and control["logEvents"][0]["message"].startswith("CWL CONTROL MESSAGE")

    now = int(clock_now() * 1000)
    lines = ["ERROR disk full", "INFO all good", "ERROR retrying", "WARN slow"]
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])

    [delivered] = [decode(m) for m in receive(sqs, out, 1)]
    assert delivered["messageType"] == "DATA_MESSAGE"
    assert (delivered["owner"], delivered["logGroup"], delivered["logStream"]) == (ACCOUNT, group, stream)
    assert delivered["subscriptionFilters"] == ["errors"]
    assert [(e["timestamp"], e["message"]) for e in delivered["logEvents"]] == [(now, "ERROR disk full"), (now + 2, "ERROR retrying")]
    # The ids are the events' own: FilterLogEvents answers the same ones.
    stored = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]
    assert [e["id"] for e in delivered["logEvents"]] == [e["eventId"] for e in stored]
    assert nothing_arrives(sqs, out)

    # A put with no matching event delivers nothing.
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now + 9, "message": "INFO fine"}])
    assert nothing_arrives(sqs, out, 2)


def test_describe_replace_and_delete(logs, lam, sqs, receiver, make_group):
    group = make_group()
    function, out = receiver()
    allow_logs(lam, function)  # no SourceArn: any log group of the account
    logs.put_subscription_filter(logGroupName=group, filterName="b-all", filterPattern="", destinationArn=function)
    logs.put_subscription_filter(logGroupName=group, filterName="a-json", filterPattern="{ $.level = \"error\" }",
                                 destinationArn=function, distribution="Random")
    filters = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [f["filterName"] for f in filters] == ["a-json", "b-all"]
    first = filters[1]
    assert first["logGroupName"] == group and first["filterPattern"] == "" and first["destinationArn"] == function
    assert first["distribution"] == "ByLogStream" and filters[0]["distribution"] == "Random"
    assert isinstance(first["creationTime"], int)
    assert [f["filterName"] for f in logs.describe_subscription_filters(logGroupName=group, filterNamePrefix="a")["subscriptionFilters"]] == ["a-json"]
    page = logs.describe_subscription_filters(logGroupName=group, limit=1)
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["a-json"] and page["nextToken"]

    # Two filters is the limit; a third name is refused, an existing name is replaced in place.
    with pytest.raises(logs.exceptions.LimitExceededException):
        logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="", destinationArn=function)
    logs.put_subscription_filter(logGroupName=group, filterName="b-all", filterPattern="WARN", destinationArn=function)
    replaced = logs.describe_subscription_filters(logGroupName=group, filterNamePrefix="b")["subscriptionFilters"][0]
    assert replaced["filterPattern"] == "WARN" and replaced["creationTime"] == first["creationTime"]

    logs.delete_subscription_filter(logGroupName=group, filterName="b-all")
    assert [f["filterName"] for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]] == ["a-json"]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_subscription_filter(logGroupName=group, filterName="b-all")
    assert len(receive_until(sqs, out, lambda got: len(got) >= 3)) == 3  # a control message per put


def test_refusals_change_nothing(logs, lam, receiver, make_group, unique):
    group = make_group()
    function, _ = receiver()

    def put(**overrides: Any) -> pytest.ExceptionInfo[Any]:
        request = {"logGroupName": group, "filterName": "f", "filterPattern": "", "destinationArn": function, **overrides}
        with pytest.raises(logs.exceptions.ClientError) as excinfo:
            logs.put_subscription_filter(**request)
        return excinfo

    # The function's policy does not let CloudWatch Logs invoke it: none yet, then another service only,
    # then Logs but for another log group.
    excinfo = put()
    assert error_code(excinfo) == "InvalidParameterException" and error_message(excinfo) == PERMISSION_MESSAGE
    allow_logs(lam, function, principal="events.amazonaws.com")
    assert error_message(put()) == PERMISSION_MESSAGE
    lam.add_permission(FunctionName=function, StatementId="other-group", Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com", SourceArn=group_arn(group + "-other"))
    assert error_message(put()) == PERMISSION_MESSAGE
    missing = function.rsplit(":", 1)[0] + ":" + unique("missing")
    assert error_message(put(destinationArn=missing)) == PERMISSION_MESSAGE

    assert error_code(put(logGroupName=unique("/no/such/group"))) == "ResourceNotFoundException"
    assert error_code(put(filterPattern="{ $.x = }")) == "InvalidParameterException"
    sqs_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    assert error_code(put(destinationArn=sqs_arn)) == "InvalidParameterException"

    # Kinesis and Firehose: AWS's own check first, then stratus says it cannot deliver there.
    kinesis = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"
    firehose = f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/d"
    excinfo = put(destinationArn=kinesis)
    assert error_code(excinfo) == "InvalidParameterException"
    assert error_message(excinfo) == "destinationArn for vendor kinesis cannot be used without roleArn"
    for arn in (kinesis, firehose):
        excinfo = put(destinationArn=arn, roleArn=f"arn:aws:iam::{ACCOUNT}:role/cwl")
        assert error_code(excinfo) == "NotImplemented"
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert "Lambda" in error_message(excinfo)
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_subscription_filters(logGroupName=unique("/no/such/group"))


FUNCTION_THAT_LOGS = (
    "def handler(event, context):\n"
    "    print('ALERT ' + event['what'])\n"
    "    print('all fine')\n"
    "    return 'done'\n"
)


def test_a_functions_own_logs_are_delivered(logs, lam, sqs, receiver, unique):
    name = unique("talker")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": python_zip(FUNCTION_THAT_LOGS)})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    group = f"/aws/lambda/{name}"
    logs.create_log_group(logGroupName=group)
    function, out = receiver()
    allow_logs(lam, function, group_arn(group))
    logs.put_subscription_filter(logGroupName=group, filterName="alerts", filterPattern="ALERT", destinationArn=function)
    assert decode(receive(sqs, out, 1)[0])["messageType"] == "CONTROL_MESSAGE"

    lam.invoke(FunctionName=name, Payload=json.dumps({"what": "disk full"}))
    got = receive_until(sqs, out, lambda messages: any(e["message"].startswith("ALERT") for d in data_messages(messages)
                                                        for e in d["logEvents"]))
    delivered = [e["message"] for d in data_messages(got) for e in d["logEvents"]]
    assert [m.strip() for m in delivered] == ["ALERT disk full"]  # not START, END, REPORT or "all fine"
    assert all(d["logGroup"] == group and d["subscriptionFilters"] == ["alerts"] for d in data_messages(got))


@pytest.mark.slow
def test_a_delivery_survives_a_crash(server_factory, unique):
    server = server_factory().start()
    logs, lam, sqs = (client_for(server.endpoint, s) for s in ("logs", "lambda", "sqs"))
    ensure_role(client_for(server.endpoint, "iam"))
    function, url = create_receiver(lam, sqs, "receiver", "received")
    allow_logs(lam, function, group_arn("/app"))
    logs.create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="s")
    logs.put_subscription_filter(logGroupName="/app", filterName="all", filterPattern="", destinationArn=function)
    messages = [f"event {i}" for i in range(50)]
    logs.put_log_events(logGroupName="/app", logStreamName="s",
                        logEvents=[{"timestamp": 1_000 * i + (server_now_ms(server.endpoint) - 60_000), "message": m} for i, m in enumerate(messages)])
    server.kill()  # acknowledged: the delivery is a timer written with the events
    server.start()
    sqs = client_for(server.endpoint, "sqs")

    def complete(got: list[dict[str, Any]]) -> bool:
        return any([e["message"] for e in d["logEvents"]] == messages for d in data_messages(got))

    # At least once: a delivery cut short by the kill may come twice, never not at all.
    assert complete(receive_until(sqs, url, complete, timeout=60))

