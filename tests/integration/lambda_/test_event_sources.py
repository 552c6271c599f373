"""Event source mappings for Amazon SQS: batches, deletes, failures to a dead-letter queue, partial
batch responses, FIFO groups, filters, disable/enable, delete, errors, restarts.

Developer guide: "Using Lambda with Amazon SQS" (and its pages on configuring, scaling and
batching, error handling, parameters and event filtering); API reference of
CreateEventSourceMapping and its siblings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.helpers import error_message, gone, nothing_arrives, receive, wait_for
from tests.integration.lambda_.conftest import ROLE, ensure_role, error_code, python_zip
from stratus.services.lambda_.event_sources import failed_items

# Records every batch it gets in the RUNS queue, then answers as MODE says.
RECORDER = """
import json, os
import boto3

sqs = boto3.client("sqs")

def handler(event, context):
    records = event["Records"]
    sqs.send_message(QueueUrl=os.environ["RUNS"], MessageBody=json.dumps(event))
    mode = os.environ.get("MODE", "ok")
    if mode == "fail":
        raise RuntimeError("cannot process this batch")
    if mode == "report":
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"].startswith("bad")]}
    return {"processed": len(records)}
"""


@pytest.fixture
def recorder(make_function: Any, make_queue: Any) -> Callable[..., tuple[str, str]]:
    """A recording function (``mode``: ok, fail, report); answer (function name, runs queue URL)."""

    def make(mode: str = "ok", **extra: Any) -> tuple[str, str]:
        runs_url, _ = make_queue("runs")
        name = make_function(python_zip(RECORDER), Environment={"Variables": {"RUNS": runs_url, "MODE": mode}}, **extra)
        return name, runs_url

    return make


@pytest.fixture
def mappings(lam: Any) -> Any:
    """Create mappings through this; each is deleted after the test (a poller left running would
    keep reading its queue)."""
    made: list[str] = []

    def create(**request: Any) -> dict[str, Any]:
        answer = lam.create_event_source_mapping(**request)
        made.append(answer["UUID"])
        return answer

    yield create
    for uuid in made:
        try:
            lam.delete_event_source_mapping(UUID=uuid)
        except ClientError:
            pass


def enabled(lam: Any, uuid: str, state: str = "Enabled") -> bool:
    return bool(wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == state))


def runs(sqs: Any, runs_url: str, records: int, *, tick: Callable[[], Any] | None = None) -> list[list[dict[str, Any]]]:
    """The batches the function got (each its list of records) until ``records`` records arrived."""
    got: list[list[dict[str, Any]]] = []
    for message in receive(sqs, runs_url, 1, tick=tick):
        got.append(json.loads(message["Body"])["Records"])
    while sum(map(len, got)) < records:
        more = receive(sqs, runs_url, 1, tick=tick)
        if not more:
            break
        got.extend(json.loads(m["Body"])["Records"] for m in more)
    return got


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_messages_reach_the_function_in_batches_and_are_deleted(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                                 mappings: Any) -> None:
    name, runs_url = recorder()
    url, arn = make_queue("orders")
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "order"}, "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"message {i}"} for i in range(4)])

    created = mappings(EventSourceArn=arn, FunctionName=name)
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 10 and created["MaximumBatchingWindowInSeconds"] == 0
    assert created["EventSourceArn"] == arn and created["StateTransitionReason"] == "USER_INITIATED"
    assert created["FunctionArn"] == lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    assert created["FunctionResponseTypes"] == []
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{created['UUID']}")
    assert enabled(lam, created["UUID"])

    batches = runs(sqs, runs_url, 5)
    records = [r for batch in batches for r in batch]
    assert sorted(r["body"] for r in records) == ["first", "message 0", "message 1", "message 2", "message 3"]
    assert len(batches) < 5  # batched, not one invocation per message
    first = next(r for r in records if r["body"] == "first")
    assert set(first) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                          "eventSource", "eventSourceARN", "awsRegion"}
    assert (first["eventSource"], first["eventSourceARN"], first["awsRegion"]) == ("aws:sqs", arn, "us-east-1")
    assert first["md5OfBody"] == hashlib.md5(b"first").hexdigest()
    assert set(first["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert first["messageAttributes"] == {
        "kind": {"stringValue": "order", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "raw": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0))  # processed batches are deleted
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=created["UUID"]).get("LastProcessingResult") == "OK")


def test_failing_function_leaves_messages_to_the_dead_letter_queue(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                                   mappings: Any, advance_clock: Any) -> None:
    name, runs_url = recorder("fail")
    dlq_url, dlq_arn = make_queue("dlq")
    url, arn = make_queue("work", VisibilityTimeout="5", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
    uuid = mappings(EventSourceArn=arn, FunctionName=name)["UUID"]
    assert enabled(lam, uuid)

    sqs.send_message(QueueUrl=url, MessageBody="poison")
    [[first]] = runs(sqs, runs_url, 1)
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    # Each visibility timeout that ends brings it back; its third receive moves it to the dead-letter queue.
    [dead] = receive(sqs, dlq_url, 1, timeout=60, tick=lambda: advance_clock(6))
    assert dead["Body"] == "poison"
    batches = [first]
    while more := receive(sqs, runs_url, 1, timeout=2):
        batches.extend(r for m in more for r in json.loads(m["Body"])["Records"])
    assert [r["attributes"]["ApproximateReceiveCount"] for r in batches] == ["1", "2"]
    assert lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "PROBLEM: Function call failed."


def test_report_batch_item_failures_keeps_only_the_failed_ones(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                               mappings: Any, advance_clock: Any) -> None:
    name, runs_url = recorder("report")
    url, arn = make_queue("work", VisibilityTimeout="5")
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": body} for i, body in enumerate(["good-1", "bad-2", "good-3"])])
    uuid = mappings(EventSourceArn=arn, FunctionName=name, FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    [batch] = runs(sqs, runs_url, 3)
    assert sorted(r["body"] for r in batch) == ["bad-2", "good-1", "good-3"]
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 1))  # the two good ones deleted, the bad one in flight
    [again] = runs(sqs, runs_url, 1, tick=lambda: advance_clock(6))
    assert [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in again] == [("bad-2", "2")]


def test_a_throttled_batch_comes_back_after_the_visibility_timeout(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                                   mappings: Any, advance_clock: Any) -> None:
    name, runs_url = recorder()
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    url, arn = make_queue("work", VisibilityTimeout="5")
    uuid = mappings(EventSourceArn=arn, FunctionName=name)["UUID"]
    assert enabled(lam, uuid)

    sqs.send_message(QueueUrl=url, MessageBody="throttled")
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 1))  # received, and left in flight
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult")
                    == "PROBLEM: Function call failed due to throttling.")
    assert nothing_arrives(sqs, runs_url, 0)

    lam.delete_function_concurrency(FunctionName=name)
    [[again]] = runs(sqs, runs_url, 1, tick=lambda: advance_clock(6))
    assert again["body"] == "throttled" and int(again["attributes"]["ApproximateReceiveCount"]) >= 2


@pytest.mark.parametrize("answer, failed", [
    (b"", set()), (b"null", set()), (b"{}", set()), (b'{"batchItemFailures": null}', set()),
    (b'{"batchItemFailures": []}', set()), (b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"b"}),
    (b"not json", {"a", "b"}), (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', {"a", "b"}),
    (b'{"batchItemFailures": [{"itemIdentifier": null}]}', {"a", "b"}),
    (b'{"batchItemFailures": [{"itemId": "b"}]}', {"a", "b"}),
    (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', {"a", "b"}),
])
def test_partial_batch_answers_as_the_developer_guide_lists_them(answer: bytes, failed: set[str]) -> None:
    assert failed_items(answer, ["a", "b"]) == failed


def test_fifo_queue_gets_one_batch_per_message_group_in_order(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                              mappings: Any) -> None:
    name, runs_url = recorder()
    url, arn = make_queue("orders", fifo=True, ContentBasedDeduplication="true")
    sent = [("g1", "a1"), ("g2", "b1"), ("g1", "a2"), ("g1", "a3"), ("g2", "b2")]
    for group, body in sent:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    uuid = mappings(EventSourceArn=arn, FunctionName=name)["UUID"]
    assert enabled(lam, uuid)

    batches = runs(sqs, runs_url, len(sent))
    for batch in batches:
        assert len({r["attributes"]["MessageGroupId"] for r in batch}) == 1
        assert {"SequenceNumber", "MessageGroupId", "MessageDeduplicationId"} <= set(batch[0]["attributes"])
    order = [(r["attributes"]["MessageGroupId"], r["body"]) for batch in batches for r in batch]
    for group in ("g1", "g2"):
        assert [b for g, b in order if g == group] == [b for g, b in sent if g == group]
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0))


def test_filter_criteria_drop_non_matching_messages_without_invoking(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                                     mappings: Any) -> None:
    name, runs_url = recorder()
    url, arn = make_queue("events")
    uuid = mappings(EventSourceArn=arn, FunctionName=name, FilterCriteria={"Filters": [
        {"Pattern": json.dumps({"body": {"kind": ["keep"]}})}, {"Pattern": json.dumps({"body": ["plain keep"]})}]})["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["FilterCriteria"]["Filters"][1] == {"Pattern": '{"body": ["plain keep"]}'}
    assert enabled(lam, uuid)

    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate([
        json.dumps({"kind": "keep", "n": 1}), json.dumps({"kind": "drop", "n": 2}), "plain keep", "plain drop",
        json.dumps({"n": 3})])])
    kept = [r["body"] for batch in runs(sqs, runs_url, 2) for r in batch]
    assert sorted(kept) == sorted([json.dumps({"kind": "keep", "n": 1}), "plain keep"])
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0))  # the dropped ones are deleted too

    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "drop"}))
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0))
    assert nothing_arrives(sqs, runs_url, 2)  # no invocation for a batch the filters emptied


def test_disable_stops_delivery_and_enable_resumes_it(lam: Any, sqs: Any, recorder: Any, make_queue: Any,
                                                      mappings: Any) -> None:
    name, runs_url = recorder()
    url, arn = make_queue("work")
    uuid = mappings(EventSourceArn=arn, FunctionName=name)["UUID"]
    assert enabled(lam, uuid)

    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert enabled(lam, uuid, "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody="held")
    assert nothing_arrives(sqs, runs_url, 2)
    assert queue_counts(sqs, url) == (1, 0)  # never received while disabled

    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    assert enabled(lam, uuid)
    assert [[r["body"] for r in batch] for batch in runs(sqs, runs_url, 1)] == [["held"]]

    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=50, MaximumBatchingWindowInSeconds=1)
    assert (updated["State"], updated["BatchSize"], updated["MaximumBatchingWindowInSeconds"]) == ("Updating", 50, 1)
    assert enabled(lam, uuid)


def test_created_disabled_and_deleted(lam: Any, sqs: Any, recorder: Any, make_queue: Any) -> None:
    name, runs_url = recorder()
    url, arn = make_queue("work")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, Enabled=False)["UUID"]
    assert enabled(lam, uuid, "Disabled")
    [listed] = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert listed["UUID"] == uuid
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [uuid]

    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    assert wait_for(lambda: gone(lambda: lam.get_event_source_mapping(UUID=uuid), "ResourceNotFoundException"))
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []
    sqs.send_message(QueueUrl=url, MessageBody="nobody reads this")
    assert nothing_arrives(sqs, runs_url, 1)

    # The same queue and function may be mapped again once the old mapping is gone.
    again = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    try:
        assert [[r["body"] for r in batch] for batch in runs(sqs, runs_url, 1)] == [["nobody reads this"]]
    finally:
        lam.delete_event_source_mapping(UUID=again)


def test_unhappy_paths_change_nothing(endpoint: str, lam: Any, recorder: Any, make_queue: Any, make_function: Any,
                                      mappings: Any, unique: Any) -> None:
    name, _ = recorder()
    url, arn = make_queue("work")
    _, fifo_arn = make_queue("work", fifo=True)
    unchecked = client_for(endpoint, "lambda", parameter_validation=False)

    def refused(call: Callable[..., Any], **request: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            call(**request)
        return error_code(excinfo), error_message(excinfo)

    create = lam.create_event_source_mapping
    missing = unique("missing")
    assert refused(create, EventSourceArn=arn, FunctionName=missing) == (
        "ResourceNotFoundException", f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{missing}")
    assert refused(create, EventSourceArn=arn, FunctionName=f"{name}:7")[0] == "ResourceNotFoundException"
    assert refused(create, EventSourceArn=arn + "-gone", FunctionName=name) == (
        "InvalidParameterValueException",
        "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
        "SQS Error Message: The specified queue does not exist or you do not have access to it.")
    assert refused(create, EventSourceArn=arn, FunctionName=name, BatchSize=11) == (
        "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
    assert refused(unchecked.create_event_source_mapping, EventSourceArn=arn, FunctionName=name, BatchSize=0)[0] == "ValidationException"
    assert refused(create, EventSourceArn=arn, FunctionName=name, BatchSize=10001, MaximumBatchingWindowInSeconds=1)[0] == (
        "ValidationException")
    assert refused(create, EventSourceArn=arn, FunctionName=name, MaximumBatchingWindowInSeconds=301)[0] == "ValidationException"
    assert refused(unchecked.create_event_source_mapping, EventSourceArn=arn, FunctionName=name,
                   ScalingConfig={"MaximumConcurrency": 1})[0] == "ValidationException"
    assert refused(create, EventSourceArn=fifo_arn, FunctionName=name, MaximumBatchingWindowInSeconds=1) == (
        "InvalidParameterValueException", "Batching window is not supported for FIFO queues")
    assert refused(create, EventSourceArn=arn, FunctionName=name, FilterCriteria={"Filters": [{"Pattern": "{not json"}]}) == (
        "InvalidParameterValueException", "Invalid filter pattern definition.")
    assert refused(create, EventSourceArn=arn, FunctionName=name, StartingPosition="LATEST")[0] == "InvalidParameterValueException"
    slow = make_function(python_zip(RECORDER), Timeout=31)
    assert refused(create, EventSourceArn=arn, FunctionName=slow) == (
        "InvalidParameterValueException", "Queue visibility timeout: 30 seconds is less than Function timeout: 31 seconds")
    code, message = refused(create, EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/orders", FunctionName=name,
                            StartingPosition="LATEST")
    assert code == "NotImplemented" and "Amazon SQS queues only" in message
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []  # none of those made one

    uuid = mappings(EventSourceArn=arn, FunctionName=name)["UUID"]
    assert refused(create, EventSourceArn=arn, FunctionName=name) == (
        "ResourceConflictException",
        f'An event source mapping with SQS arn (" {arn} ") and function (" {name} ") already exists. '
        f"Please update or delete the existing mapping with UUID {uuid}")
    assert refused(lam.update_event_source_mapping, UUID=uuid, BatchSize=100)[0] == "InvalidParameterValueException"
    assert refused(lam.update_event_source_mapping, UUID=uuid, FunctionName=slow)[0] == "InvalidParameterValueException"
    assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 10  # the refused updates changed nothing
    unknown = "00000000-0000-0000-0000-000000000000"
    for call in (lam.get_event_source_mapping, lam.delete_event_source_mapping, lam.update_event_source_mapping):
        assert refused(call, UUID=unknown) == ("ResourceNotFoundException", "The resource you requested does not exist.")
    assert len(lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]) == 1


def map_recorder(lam: Any, sqs: Any, unique: Any) -> tuple[str, str, str]:
    """On a server of a test's own: a work queue mapped to a recorder function; (runs URL, work URL, UUID)."""
    runs_url = sqs.create_queue(QueueName=unique("runs"))["QueueUrl"]
    url = sqs.create_queue(QueueName=unique("work"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = unique("fn")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": python_zip(RECORDER)}, Environment={"Variables": {"RUNS": runs_url}})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
    return runs_url, url, uuid


def test_a_mapping_survives_a_restart(server_factory: Any, tmp_path: Path, unique: Any) -> None:
    server = server_factory(tmp_path / "node").start()
    ensure_role(server.endpoint)
    lam, sqs = client_for(server.endpoint, "lambda"), client_for(server.endpoint, "sqs")
    runs_url, url, uuid = map_recorder(lam, sqs, unique)
    assert enabled(lam, uuid)
    sqs.send_message(QueueUrl=url, MessageBody="before")
    assert [[r["body"] for r in batch] for batch in runs(sqs, runs_url, 1)] == [["before"]]

    server.restart()  # a crash: no shutdown work at all
    lam, sqs = client_for(server.endpoint, "lambda"), client_for(server.endpoint, "sqs")
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert [[r["body"] for r in batch] for batch in runs(sqs, runs_url, 1)] == [["after"]]


def test_two_nodes_share_the_mappings_and_one_takes_over_from_a_dead_one(backend: str, server_factory: Any, tmp_path: Path,
                                                                          unique: Any) -> None:
    if backend == "sqlite":
        pytest.skip("several nodes share PostgreSQL, never SQLite")
    first, second = server_factory(tmp_path / "a").start(), server_factory(tmp_path / "b").start()
    ensure_role(first.endpoint)
    lam, sqs = client_for(first.endpoint, "lambda"), client_for(second.endpoint, "sqs")
    runs_url, url, uuid = map_recorder(lam, sqs, unique)
    assert enabled(client_for(second.endpoint, "lambda"), uuid)

    for i in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    delivered = sorted(r["body"] for batch in runs(sqs, runs_url, 20) for r in batch)
    assert delivered == sorted(f"m{i}" for i in range(20))  # each once: one node polls for the mapping

    first.kill()  # whichever node held the mapping, the survivor polls the queue (at once, or when the lease ends)
    sqs.send_message(QueueUrl=url, MessageBody="after the crash")
    got: list[str] = []
    assert wait_for(lambda: got.extend(m["Body"] for m in receive(sqs, runs_url, 1, timeout=1)) or got, timeout=60)
    assert [r["body"] for r in json.loads(got[0])["Records"]] == ["after the crash"]
