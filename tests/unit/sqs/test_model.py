"""SQS's pure rules: digests, URLs, handles, attribute checks, batch rules."""

from __future__ import annotations

import json

import pytest

from stratus.aws.api.sqs import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)
from stratus.aws.errors import InvalidParameterValue, MissingParameter
from stratus.services.sqs import model


@pytest.mark.parametrize(
    ("name", "value", "digest"),
    [
        # Digests AWS answers, pinned by SDK and emulator test suites.
        ("timestamp", "1493147359900", "235c5c510d26fb653d073faed50ae77c"),
        ("timestamp", "1493147359901", "994258b45346a2cc3f9cbb611aa7af30"),
        ("SOME_Valid.attribute-Name", "1493147359900", "36655e7e9d7c0e8479fa3f3f42247ae7"),
    ],
)
def test_md5_of_attributes_matches_aws(name, value, digest):
    assert model.md5_of_attributes({name: {"DataType": "Number", "StringValue": value}}) == digest


def test_md5_of_attributes_is_order_independent_and_encodes_binary():
    a = {"b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}, "a": {"DataType": "String", "StringValue": "x"}}
    b = dict(reversed(list(a.items())))
    assert model.md5_of_attributes(a) == model.md5_of_attributes(b)
    expected = (
        b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x01x"
        + b"\x00\x00\x00\x01b" + b"\x00\x00\x00\x06Binary" + b"\x02" + b"\x00\x00\x00\x02\x00\x01"
    )
    assert model.md5_of_attributes(a) == model.md5_hex(expected)


@pytest.mark.parametrize(
    "url",
    [
        "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
        "https://queue.amazonaws.com/123456789012/my-queue",
        "http://localhost:4566/123456789012/my-queue",
        "http://127.0.0.1:9999/123456789012/my-queue/",
        "123456789012/my-queue",
    ],
)
def test_parse_queue_url_accepts_every_form(url):
    assert model.parse_queue_url(url, "000000000000") == ("123456789012", "my-queue")


def test_parse_queue_url_bare_name_is_the_callers_account():
    assert model.parse_queue_url("my-queue", "000000000000") == ("000000000000", "my-queue")


def test_receipt_handles_round_trip_and_are_bound_to_their_queue():
    handle = model.receipt_handle(7, 42, "abc123")
    assert model.parse_receipt_handle(handle, 7) == (42, "abc123")
    with pytest.raises(ReceiptHandleIsInvalid):
        model.parse_receipt_handle(handle, 8)
    for bad in ("", "garbage", "!!!", model.receipt_handle(7, 1, "")):
        with pytest.raises(ReceiptHandleIsInvalid):
            model.parse_receipt_handle(bad, 7)


def test_check_attributes_normalizes_and_rejects():
    assert model.check_attributes({"VisibilityTimeout": "060"}, fifo=False, creating=True) == {"VisibilityTimeout": "60"}
    assert model.check_attributes({"FifoQueue": "TRUE"}, fifo=True, creating=True) == {"FifoQueue": "true"}
    with pytest.raises(InvalidAttributeValue):
        model.check_attributes({"DelaySeconds": "901"}, fifo=False, creating=True)
    with pytest.raises(InvalidAttributeName):
        model.check_attributes({"ContentBasedDeduplication": "true"}, fifo=False, creating=True)
    # SetQueueAttributes: a FIFO queue accepts FifoQueue=true again but cannot become standard;
    # a standard queue does not know the attribute.
    assert model.check_attributes({"FifoQueue": "true"}, fifo=True, creating=False) == {"FifoQueue": "true"}
    with pytest.raises(InvalidAttributeValue, match="Modifying queue type is not supported"):
        model.check_attributes({"FifoQueue": "false"}, fifo=True, creating=False)
    with pytest.raises(InvalidAttributeName, match="Unknown Attribute FifoQueue"):
        model.check_attributes({"FifoQueue": "true"}, fifo=False, creating=False)
    with pytest.raises(InvalidAttributeName, match="one type of server-side encryption"):
        model.check_attributes({"SqsManagedSseEnabled": "true", "KmsMasterKeyId": "k"}, fifo=False, creating=True)
    with pytest.raises(InvalidAttributeName):
        model.check_attributes({"ApproximateNumberOfMessages": "1"}, fifo=False, creating=True)
    with pytest.raises(InvalidAttributeValue):
        model.check_attributes(
            {"DeduplicationScope": "queue", "FifoThroughputLimit": "perMessageGroupId"}, fifo=True, creating=True
        )


def test_redrive_policy_shape_and_allow_policy():
    arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
    normalized = model.check_attributes(
        {"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"})}, fifo=False, creating=True
    )
    assert json.loads(normalized["RedrivePolicy"]) == {"deadLetterTargetArn": arn, "maxReceiveCount": 5}
    for bad in ("[]", "{", json.dumps({"deadLetterTargetArn": arn}), json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 0})):
        with pytest.raises(InvalidParameterValue):
            model.check_attributes({"RedrivePolicy": bad}, fifo=False, creating=True)
    source = "arn:aws:sqs:us-east-1:000000000000:src"
    assert model.redrive_allowed(None, source)
    assert model.redrive_allowed(json.dumps({"redrivePermission": "allowAll"}), source)
    assert not model.redrive_allowed(json.dumps({"redrivePermission": "denyAll"}), source)
    assert model.redrive_allowed(json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [source]}), source)
    assert not model.redrive_allowed(json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}), source)
    with pytest.raises(InvalidParameterValue):
        model.check_attributes({"RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue"})}, fifo=False, creating=True)


def test_message_checks():
    model.check_body("tab\tnewline\n\U0001f600")
    with pytest.raises(MissingParameter):
        model.check_body("")
    with pytest.raises(InvalidMessageContents):
        model.check_body("\x00")
    size = model.check_message_attributes({"n": {"DataType": "Number", "StringValue": "-1.5e3"}})
    assert size == len("n") + len("Number") + len("-1.5e3")
    for bad in (
        {"n": {"DataType": "Number", "StringValue": "one"}},
        {"x": {"DataType": "Other", "StringValue": "1"}},
        {"amazon.x": {"DataType": "String", "StringValue": "1"}},
        {"a..b": {"DataType": "String", "StringValue": "1"}},
        {"b": {"DataType": "Binary", "BinaryValue": b""}},
        {"l": {"DataType": "String", "StringListValues": ["a"]}},
    ):
        with pytest.raises(InvalidParameterValue):
            model.check_message_attributes(bad)


def test_select_attributes():
    attrs = {"a.x": {}, "a.y": {}, "b": {}}
    assert model.select_attributes(attrs, ["All"]) == attrs
    assert model.select_attributes(attrs, [".*"]) == attrs
    assert set(model.select_attributes(attrs, ["a.*"])) == {"a.x", "a.y"}
    assert set(model.select_attributes(attrs, ["b", "c"])) == {"b"}
    assert model.select_attributes(attrs, []) == {}


def test_batch_rules():
    with pytest.raises(EmptyBatchRequest):
        model.check_batch([], "SendMessageBatchRequestEntry")
    with pytest.raises(TooManyEntriesInBatchRequest):
        model.check_batch([{"Id": str(i)} for i in range(11)], "X")
    with pytest.raises(BatchEntryIdsNotDistinct):
        model.check_batch([{"Id": "a"}, {"Id": "a"}], "X")
    with pytest.raises(InvalidBatchEntryId):
        model.check_batch([{"Id": "a b"}], "X")
    model.check_batch([{"Id": "a-1_B"}, {"Id": "x" * 80}], "X")


def test_queue_names():
    model.validate_queue_name("a-b_c", fifo=False)
    model.validate_queue_name("a" * 75 + ".fifo", fifo=True)
    for name, fifo in (("a.fifo", False), ("a", True), ("a" * 81, False), ("", False), ("a b", False)):
        with pytest.raises(InvalidParameterValue):
            model.validate_queue_name(name, fifo)


def test_task_handles():
    handle = model.task_handle("id-1", "arn:aws:sqs:us-east-1:000000000000:dlq")
    assert model.parse_task_handle(handle) == "id-1"
    assert model.parse_task_handle("not a handle") is None
    assert model.parse_task_handle("bm90IGpzb24=") is None


def test_total_visibility_counts_whole_seconds_from_the_receive():
    model.check_total_visibility(43_200, 999)  # under a second elapsed: the full 12 hours remain
    model.check_total_visibility(39_600, 3_600_000)
    with pytest.raises(InvalidParameterValue, match=r"beyond the limit \[43200 seconds\]"):
        model.check_total_visibility(39_601, 3_600_000)


def test_receipt_handle_errors_name_the_handle():
    assert "Value h for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired." == (
        model.receipt_handle_expired("h").message
    )
    assert model.not_available_for_visibility_change("h").code == "InvalidParameterValue"
