"""Sending, receiving and acknowledging SQS messages through boto3, on both stores.

Visibility timeouts, delays and retention are driven by advancing the stratus clock.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from stratus.services.sqs.model import md5_of_attributes
from tests.helpers import error_message
from tests.integration.sqs.conftest import error_code


def receive_all(sqs, url, **kwargs):
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])


def counters(sqs, url):
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        int(attrs["ApproximateNumberOfMessagesDelayed"]),
    )


def test_send_receive_delete_with_exact_md5s(sqs, make_queue):
    url = make_queue("basic")
    attributes = {
        "s": {"DataType": "String", "StringValue": "héllo"},
        "n": {"DataType": "Number", "StringValue": "1493147359900"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xffdata"},
        "c": {"DataType": "String.custom", "StringValue": "x"},
    }
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello wörld",
        MessageAttributes=attributes,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}},
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5("hello wörld".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert "MD5OfMessageSystemAttributes" in sent
    (message,) = receive_all(sqs, url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello wörld"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    attrs = message["Attributes"]
    assert attrs["ApproximateReceiveCount"] == "1"
    assert attrs["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert int(attrs["SentTimestamp"]) <= int(attrs["ApproximateFirstReceiveTimestamp"])
    assert attrs["SenderId"]
    assert counters(sqs, url) == (0, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert counters(sqs, url) == (0, 0, 0)


def test_md5_matches_a_known_aws_digest(sqs, make_queue):
    # The digest AWS answers for this attribute (pinned by several SDKs' and emulators' tests).
    url = make_queue("md5")
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes={"timestamp": {"DataType": "Number", "StringValue": "1493147359900"}},
    )
    assert sent["MD5OfMessageAttributes"] == "235c5c510d26fb653d073faed50ae77c"


def test_receive_filters_message_attributes_and_system_attributes(sqs, make_queue):
    url = make_queue("filter")
    attributes = {
        "a.one": {"DataType": "String", "StringValue": "1"},
        "a.two": {"DataType": "String", "StringValue": "2"},
        "b": {"DataType": "String", "StringValue": "3"},
    }
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    (message,) = receive_all(sqs, url, MessageAttributeNames=["a.*"], AttributeNames=["SentTimestamp"], VisibilityTimeout=0)
    assert set(message["MessageAttributes"]) == {"a.one", "a.two"}
    assert message["MD5OfMessageAttributes"] == md5_of_attributes({k: attributes[k] for k in ("a.one", "a.two")})
    assert set(message["Attributes"]) == {"SentTimestamp"}
    (message,) = receive_all(sqs, url, VisibilityTimeout=0)
    assert "MessageAttributes" not in message and "Attributes" not in message
    (message,) = receive_all(sqs, url, MessageAttributeNames=["b"])
    assert list(message["MessageAttributes"]) == ["b"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"MessageBody": "bad \x01 char"}, "InvalidMessageContents"),
        ({"MessageBody": "x" * 1_048_577}, "InvalidParameterValue"),
        ({"MessageBody": "x", "DelaySeconds": 901}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "abc"}}}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"n": {"DataType": "Float", "StringValue": "1"}}}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "1"}}}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageAttributes": {"s": {"DataType": "String", "StringValue": ""}}}, "InvalidParameterValue"),
        (
            {"MessageBody": "x", "MessageAttributes": {f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}},
            "InvalidParameterValue",
        ),
        (
            {"MessageBody": "x", "MessageSystemAttributes": {"Other": {"DataType": "String", "StringValue": "v"}}},
            "InvalidParameterValue",
        ),
        ({"MessageBody": "x", "MessageDeduplicationId": "d"}, "InvalidParameterValue"),  # FIFO only
    ],
)
def test_send_message_rejects_invalid_messages(sqs, make_queue, kwargs, code):
    url = make_queue("badmsg")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, **kwargs)
    assert error_code(excinfo) == code
    assert counters(sqs, url) == (0, 0, 0)


def test_message_size_counts_attributes_and_follows_the_queue_maximum(sqs, make_queue):
    url = make_queue("size", MaximumMessageSize="1024")
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(
            QueueUrl=url, MessageBody="x" * 1000, MessageAttributes={"attr": {"DataType": "String", "StringValue": "y" * 30}}
        )
    assert error_code(excinfo) == "InvalidParameterValue"
    big = make_queue("big")
    sqs.send_message(QueueUrl=big, MessageBody="x" * 1_048_576)  # 1 MiB is the default and the maximum
    (message,) = receive_all(sqs, big)
    assert len(message["Body"]) == 1_048_576


def test_visibility_timeout_hides_a_message_until_it_expires(sqs, make_queue, advance_clock):
    url = make_queue("vis", VisibilityTimeout="30")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (first,) = receive_all(sqs, url)
    assert receive_all(sqs, url) == []
    advance_clock(31)
    (second,) = receive_all(sqs, url, AttributeNames=["ApproximateReceiveCount"])
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # The first handle is stale: deleting with it succeeds but leaves the message (API reference).
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counters(sqs, url) == (0, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert counters(sqs, url) == (0, 0, 0)


def test_receive_visibility_timeout_override(sqs, make_queue, advance_clock):
    url = make_queue("visover", VisibilityTimeout="600")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert len(receive_all(sqs, url, VisibilityTimeout=5)) == 1
    advance_clock(6)
    assert len(receive_all(sqs, url)) == 1


def test_change_message_visibility(sqs, make_queue, advance_clock):
    url = make_queue("chvis")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    (message,) = receive_all(sqs, url)
    handle = message["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=300)
    advance_clock(60)
    assert receive_all(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    (again,) = receive_all(sqs, url)
    assert again["MessageId"] == message["MessageId"]
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=43201)
    assert error_code(excinfo) == "InvalidParameterValue"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    # A deleted message: AWS answers InvalidParameterValue naming the handle.
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=10)
    assert error_code(excinfo) == "InvalidParameterValue"
    assert excinfo.value.response["Error"]["Message"] == (
        f"Value {again['ReceiptHandle']} for parameter ReceiptHandle is invalid. Reason: Message does not exist or "
        "is not available for visibility timeout change."
    )


def test_malformed_receipt_handles_are_rejected(sqs, make_queue):
    url = make_queue("badhandle")
    other = make_queue("other")
    sqs.send_message(QueueUrl=other, MessageBody="m")
    (message,) = receive_all(sqs, other)
    for handle in ("garbage", message["ReceiptHandle"]):  # the second belongs to another queue
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=1)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"MaxNumberOfMessages": 11}, "Must be between 1 and 10, if provided."),
        ({"MaxNumberOfMessages": 0}, "Must be between 1 and 10, if provided."),
        ({"WaitTimeSeconds": 21}, "Must be >= 0 and <= 20, if provided."),
        ({"VisibilityTimeout": 43201}, "Must be >= 0 and <= 43200, if provided."),
    ],
)
def test_receive_rejects_out_of_range_parameters(sqs, make_queue, kwargs, reason):
    url = make_queue("recvrange")
    sqs.send_message(QueueUrl=url, MessageBody="stays")
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, **kwargs)
    ((name, value),) = kwargs.items()
    assert error_code(excinfo) == "InvalidParameterValue"
    assert error_message(excinfo) == f"Value {value} for parameter {name} is invalid. Reason: {reason}"
    assert counters(sqs, url) == (1, 0, 0)  # nothing was received


@pytest.mark.parametrize("delay", [-1, 901])
def test_send_rejects_an_out_of_range_delay(sqs, make_queue, delay):
    url = make_queue("delayrange")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="m", DelaySeconds=delay)
    assert error_code(excinfo) == "InvalidParameterValue"
    assert error_message(excinfo) == (
        f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
    )
    assert counters(sqs, url) == (0, 0, 0)


def test_queue_and_message_delays(sqs, make_queue, advance_clock):
    url = make_queue("delay", DelaySeconds="20", VisibilityTimeout="600")
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="long-delay", DelaySeconds=100)
    assert [m["Body"] for m in receive_all(sqs, url)] == ["no-delay"]
    assert counters(sqs, url) == (0, 1, 2)
    advance_clock(21)
    assert [m["Body"] for m in receive_all(sqs, url)] == ["queue-delay"]
    advance_clock(80)
    assert [m["Body"] for m in receive_all(sqs, url)] == ["long-delay"]


def test_retention_period_expires_messages(sqs, make_queue, advance_clock):
    url = make_queue("retain", MessageRetentionPeriod="60")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    advance_clock(61)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    assert [m["Body"] for m in receive_all(sqs, url)] == ["new"]


def test_long_poll_returns_when_a_message_is_sent(sqs, make_queue, endpoint):
    from tests.conftest import client_for

    url = make_queue("longpoll")
    result: dict = {}

    def poll():
        result["messages"] = client_for(endpoint, "sqs", read_timeout=15).receive_message(
            QueueUrl=url, WaitTimeSeconds=20
        ).get("Messages")

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    poller.join(25)
    # The client gives up after 15 s of a 20 s wait: only a poll the send woke answers in time.
    assert [m["Body"] for m in result["messages"]] == ["wake up"]


def test_long_poll_ends_empty_after_its_wait_time(sqs, make_queue):
    url = make_queue("emptypoll", ReceiveMessageWaitTimeSeconds="1")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_send_message_batch_with_per_entry_failures(sqs, make_queue):
    url = make_queue("batch")
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok1", "MessageBody": "one"},
            {"Id": "bad", "MessageBody": "bad \x02"},
            {"Id": "ok2", "MessageBody": "two", "DelaySeconds": 0,
             "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["ok1", "ok2"]
    assert result["Successful"][1]["MD5OfMessageAttributes"] == md5_of_attributes(
        {"k": {"DataType": "String", "StringValue": "v"}}
    )
    (failure,) = result["Failed"]
    assert failure["Id"] == "bad" and failure["SenderFault"] is True and failure["Code"] == "InvalidMessageContents"
    assert sorted(m["Body"] for m in receive_all(sqs, url)) == ["one", "two"]


@pytest.mark.parametrize(
    ("entries", "exception", "message"),
    [
        ([], "EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request."),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "TooManyEntriesInBatchRequest",
         "Maximum number of entries per request are 10. You have sent 11."),
        ([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], "BatchEntryIdsNotDistinct",
         "Id a repeated."),
        ([{"Id": "not valid!", "MessageBody": "x"}], "InvalidBatchEntryId",
         "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
         "It can be at most 80 letters long."),
        ([{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "y" * 600_000}], "BatchRequestTooLong",
         "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes."),
    ],
)
def test_send_message_batch_request_errors(sqs, make_queue, entries, exception, message):
    url = make_queue("batcherr")
    with pytest.raises(getattr(sqs.exceptions, exception)) as excinfo:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    # boto3 reads the legacy query code from the x-amzn-query-error header, as real SQS sends it.
    assert error_code(excinfo) == f"AWS.SimpleQueueService.{exception}"
    assert error_message(excinfo) == message
    assert counters(sqs, url) == (0, 0, 0)


def test_delete_and_change_visibility_batches(sqs, make_queue):
    url = make_queue("ackbatch")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    messages = receive_all(sqs, url)
    assert len(messages) == 3
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "m0", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "bad", "ReceiptHandle": "nope", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["m0"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[1:])]
        + [{"Id": "junk", "ReceiptHandle": "junk"}],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["d0", "d1"]
    assert deleted["Failed"][0]["Id"] == "junk" and deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    (left,) = receive_all(sqs, url)
    assert left["Body"] == messages[0]["Body"]
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message_batch(QueueUrl=url, Entries=[])
    assert "EmptyBatchRequest" in error_code(excinfo)


# --- FIFO -----------------------------------------------------------------------------------


def test_fifo_requires_group_id_and_deduplication_id(sqs, make_queue):
    url = make_queue("fifoerr", fifo=True)
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error_code(excinfo) == "MissingParameter"
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert error_code(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=5)
    assert error_code(excinfo) == "InvalidParameterValue"
    # A batch fails as a whole, and with InvalidParameterValue even for the missing group id.
    for entry, message in (
        ({"MessageDeduplicationId": "d"}, "The request must contain the parameter MessageGroupId."),
        ({"MessageGroupId": "g"}, "The queue should either have ContentBasedDeduplication enabled or "
                                  "MessageDeduplicationId provided explicitly"),
    ):
        entries = [{"Id": "ok", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "ok"},
                   {"Id": "a", "MessageBody": "x", **entry}]
        with pytest.raises(ClientError) as excinfo:
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert excinfo.value.response["Error"] == {**excinfo.value.response["Error"], "Code": "InvalidParameterValue",
                                                   "Message": message}
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_fifo_deduplicates_within_five_minutes(sqs, make_queue, advance_clock):
    url = make_queue("dedup", fifo=True)
    first = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    again = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    (message,) = receive_all(sqs, url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    assert receive_all(sqs, url) == []  # still a duplicate after the first was deleted
    advance_clock(301)
    later = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    assert len(receive_all(sqs, url)) == 1


def test_fifo_content_based_deduplication(sqs, make_queue):
    url = make_queue("cbd", fifo=True, ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    c = sqs.send_message(QueueUrl=url, MessageBody="other", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"] != c["MessageId"]
    messages = receive_all(sqs, url, AttributeNames=["MessageDeduplicationId"])
    assert [m["Body"] for m in messages] == ["same", "other"]
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_fifo_deduplication_scope_message_group(sqs, make_queue):
    url = make_queue("dedupgroup", fifo=True, DeduplicationScope="messageGroup")
    a = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="d")
    b = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g2", MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"]


def test_fifo_orders_within_a_group_and_blocks_a_group_in_flight(sqs, make_queue, advance_clock):
    url = make_queue("order", fifo=True, ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
    sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in first] == ["a0"]
    assert first[0]["Attributes"]["MessageGroupId"] == "A"
    assert len(first[0]["Attributes"]["SequenceNumber"]) >= 20
    # Group A has a message in flight: only group B can be delivered now.
    assert [m["Body"] for m in receive_all(sqs, url)] == ["b0"]
    assert receive_all(sqs, url) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert [m["Body"] for m in receive_all(sqs, url)] == ["a1", "a2"]
    advance_clock(31)
    assert [m["Body"] for m in receive_all(sqs, url)] == ["a1", "a2", "b0"]


def test_fifo_receive_request_attempt_id_returns_the_same_messages(sqs, make_queue):
    url = make_queue("attempt", fifo=True, ContentBasedDeduplication="true")
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId=f"g{i}")
    first = receive_all(sqs, url, ReceiveRequestAttemptId="attempt-1")
    retry = receive_all(sqs, url, ReceiveRequestAttemptId="attempt-1")
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retry] == [(m["MessageId"], m["ReceiptHandle"]) for m in first]
    assert receive_all(sqs, url, ReceiveRequestAttemptId="attempt-2") == []


# --- dead-letter queues and message move tasks ---------------------------------------------------


def _redrive(sqs, source_url, dlq_arn, max_receives=2):
    import json

    sqs.set_queue_attributes(
        QueueUrl=source_url,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})},
    )


def test_redrive_to_dead_letter_queue_after_max_receive_count(sqs, make_queue, advance_clock):
    from tests.integration.sqs.conftest import arn_of

    dlq = make_queue("dlq")
    source = make_queue("src", VisibilityTimeout="10")
    _redrive(sqs, source, arn_of(sqs, dlq), 2)
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _ in range(2):
        assert len(receive_all(sqs, source)) == 1
        advance_clock(11)
    assert receive_all(sqs, source) == []  # the third receive moves it instead
    (dead,) = receive_all(sqs, dlq, MessageSystemAttributeNames=["DeadLetterQueueSourceArn"])
    assert dead["Body"] == "poison"
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, source)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]


def test_redrive_policy_validation(sqs, make_queue, unique):
    import json

    from tests.integration.sqs.conftest import arn_of

    source = make_queue("rsrc")
    missing = f"arn:aws:sqs:us-east-1:000000000000:{unique('missing')}"
    fifo_dlq = make_queue("fdlq", fifo=True)
    closed = make_queue("closed", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    for policy in (
        "not json",
        json.dumps({"deadLetterTargetArn": missing, "maxReceiveCount": 1}),
        json.dumps({"deadLetterTargetArn": arn_of(sqs, fifo_dlq), "maxReceiveCount": 1}),
        json.dumps({"deadLetterTargetArn": arn_of(sqs, closed), "maxReceiveCount": 1}),
        json.dumps({"deadLetterTargetArn": arn_of(sqs, make_queue("okdlq")), "maxReceiveCount": 1001}),
    ):
        with pytest.raises(ClientError) as excinfo:
            sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": policy})
        assert error_code(excinfo) == "InvalidParameterValue", policy
    allowed = make_queue(
        "byq", RedriveAllowPolicy=json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn_of(sqs, source)]})
    )
    _redrive(sqs, source, arn_of(sqs, allowed), 3)
    assert sqs.list_dead_letter_source_queues(QueueUrl=allowed, MaxResults=1)["queueUrls"] == [source]
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": ""})
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])


def test_message_move_task_moves_dead_letters_back_to_their_source(sqs, make_queue, advance_clock):
    from tests.integration.sqs.conftest import arn_of

    dlq = make_queue("mdlq")
    source = make_queue("msrc", VisibilityTimeout="5")
    _redrive(sqs, source, arn_of(sqs, dlq), 1)
    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=f"m{i}")
    assert len(receive_all(sqs, source)) == 3
    advance_clock(6)
    assert receive_all(sqs, source) == []  # all three moved to the dead-letter queue
    assert counters(sqs, dlq) == (3, 0, 0)

    handle = sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq), MaxNumberOfMessagesPerSecond=2)["TaskHandle"]
    with pytest.raises(ClientError) as excinfo:  # one active task per source
        sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    assert error_code(excinfo) == "InvalidParameterValue"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        (task,) = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq))["Results"]
        if task["Status"] != "RUNNING":
            break
        advance_clock(1)
        time.sleep(0.2)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 3
    assert task["ApproximateNumberOfMessagesToMove"] == 3
    assert task["MaxNumberOfMessagesPerSecond"] == 2
    assert "TaskHandle" not in task
    assert sorted(m["Body"] for m in receive_all(sqs, source)) == ["m0", "m1", "m2"]
    with pytest.raises(sqs.exceptions.UnsupportedOperation) as excinfo:  # only a RUNNING task can be cancelled
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert error_code(excinfo) == "AWS.SimpleQueueService.UnsupportedOperation"


def test_message_move_task_to_a_destination_and_cancel(sqs, make_queue):
    from tests.integration.sqs.conftest import arn_of

    dlq = make_queue("cdlq")
    source = make_queue("csrc")
    target = make_queue("ctarget")
    _redrive(sqs, source, arn_of(sqs, dlq), 1)
    for i in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"d{i}")
    handle = sqs.start_message_move_task(
        SourceArn=arn_of(sqs, dlq), DestinationArn=arn_of(sqs, target), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
    # The task moves one message a second on the shared clock, so how many left before the cancel
    # depends on timing; what the answer says must be what happened, and nothing moves after it.
    moved = cancelled["ApproximateNumberOfMessagesMoved"]
    (task,) = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq), MaxResults=10)["Results"]
    assert task["Status"] == "CANCELLED"
    assert task["ApproximateNumberOfMessagesMoved"] == moved
    assert task["DestinationArn"] == arn_of(sqs, target)
    assert len(receive_all(sqs, target)) == moved
    assert counters(sqs, dlq) == (3 - moved, 0, 0)


def test_message_move_task_errors(sqs, make_queue, unique):
    from tests.integration.sqs.conftest import arn_of

    plain = make_queue("plain")
    with pytest.raises(sqs.exceptions.ResourceNotFoundException):
        sqs.start_message_move_task(SourceArn=f"arn:aws:sqs:us-east-1:000000000000:{unique('none')}")
    with pytest.raises(ClientError) as excinfo:
        sqs.start_message_move_task(SourceArn=arn_of(sqs, plain))
    assert error_code(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:  # "not a task": no handle at all
        sqs.cancel_message_move_task(TaskHandle="bm90IGEgdGFzaw==")
    assert (error_code(excinfo), error_message(excinfo)) == (
        "InvalidParameterValue", "Value for parameter TaskHandle is invalid.")
    unknown = base64.b64encode(json.dumps({"taskId": "no-such-task", "sourceArn": arn_of(sqs, plain)}).encode())
    with pytest.raises(sqs.exceptions.ResourceNotFoundException) as excinfo:
        sqs.cancel_message_move_task(TaskHandle=unknown.decode())
    assert error_message(excinfo) == "Task does not exist."
    with pytest.raises(sqs.exceptions.ResourceNotFoundException):
        sqs.list_message_move_tasks(SourceArn=f"arn:aws:sqs:us-east-1:000000000000:{unique('none')}")
