"""Publish -> SQS subscribers through boto3, on both stores: fan-out, filters, envelope, FIFO, batches, DLQ.

Docs: SNS developer guide "Fanout to Amazon SQS queues", "Amazon SNS message filtering",
"Amazon SNS raw message delivery", "Message ordering and grouping for FIFO topics",
"Amazon SNS dead-letter queues (DLQs)", "Verifying the signatures of Amazon SNS messages".
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.helpers import error_code, nothing_arrives, receive, wait_for
from tests.integration.sns.conftest import captured, subscribe_queue


def test_fan_out_to_three_queues_with_one_filtered(sns, sqs, make_topic, make_queue):
    topic = make_topic("rides")
    queues = [make_queue(f"svc{i}") for i in range(3)]
    for url, arn in queues[:2]:
        subscribe_queue(sns, topic, arn)
    subscribe_queue(sns, topic, queues[2][1], FilterPolicy=json.dumps({"fare": [{"numeric": [">", 100]}]}))

    def ride(fare: int) -> None:
        sns.publish(TopicArn=topic, Message=json.dumps({"fare": fare}),
                    MessageAttributes={"fare": {"DataType": "Number", "StringValue": str(fare)}})

    ride(20)
    ride(500)
    for url, _ in queues[:2]:
        bodies = sorted(json.loads(json.loads(m["Body"])["Message"])["fare"] for m in receive(sqs, url, 2))
        assert bodies == [20, 500]
    extraordinary = receive(sqs, queues[2][0], 1)
    assert [json.loads(json.loads(m["Body"])["Message"])["fare"] for m in extraordinary] == [500]
    assert nothing_arrives(sqs, queues[2][0])


def test_filter_on_message_body(sns, sqs, make_topic, make_queue):
    topic = make_topic()
    url, arn = make_queue()
    subscribe_queue(sns, topic, arn, FilterPolicyScope="MessageBody",
                    FilterPolicy=json.dumps({"ride": {"type": [{"prefix": "lux"}]}}))
    sns.publish(TopicArn=topic, Message=json.dumps({"ride": {"type": "economy"}}))
    sns.publish(TopicArn=topic, Message=json.dumps({"ride": {"type": "luxury"}}))
    sns.publish(TopicArn=topic, Message="not json")
    got = receive(sqs, url, 1)
    assert [json.loads(json.loads(m["Body"])["Message"]) for m in got] == [{"ride": {"type": "luxury"}}]
    assert nothing_arrives(sqs, url)


def _verify(envelope: dict, endpoint: str) -> None:
    """Check the signature as AWS tells subscribers to: fetch SigningCertURL, rebuild the canonical string."""
    assert envelope["SigningCertURL"].startswith(f"{endpoint}/_stratus/sns/SimpleNotificationService-")
    with urllib.request.urlopen(envelope["SigningCertURL"], timeout=10) as response:
        cert = x509.load_pem_x509_certificate(response.read())
    fields = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type") \
        if envelope["Type"] == "Notification" \
        else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    canonical = "".join(f"{k}\n{envelope[k]}\n" for k in fields if k in envelope)
    cert.public_key().verify(base64.b64decode(envelope["Signature"]), canonical.encode(), padding.PKCS1v15(),
                             hashes.SHA1())


def test_envelope_fields_attributes_and_signature(sns, sqs, make_topic, make_queue, endpoint):
    topic = make_topic()
    url, arn = make_queue()
    sub = subscribe_queue(sns, topic, arn)
    message_id = sns.publish(
        TopicArn=topic, Message="hello", Subject="Greeting",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"},
            "n": {"DataType": "Number", "StringValue": "7"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            "tags": {"DataType": "String.Array", "StringValue": '["a", 1]'},
        },
    )["MessageId"]
    [received] = receive(sqs, url, 1)
    envelope = json.loads(received["Body"])
    assert list(envelope)[:4] == ["Type", "MessageId", "TopicArn", "Subject"]
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == "Greeting"
    assert envelope["Message"] == "hello"
    assert envelope["SignatureVersion"] == "1"
    assert envelope["Timestamp"].endswith("Z")
    assert envelope["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "red"},
        "n": {"Type": "Number", "Value": "7"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
        "tags": {"Type": "String.Array", "Value": '["a", 1]'},
    }
    _verify(envelope, endpoint)
    tampered = dict(envelope, Message="evil")
    try:
        _verify(tampered, endpoint)
    except Exception as error:  # cryptography's InvalidSignature
        assert type(error).__name__ == "InvalidSignature"
    else:
        raise AssertionError("a tampered envelope verified")
    # The UnsubscribeURL really unsubscribes.
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(envelope["UnsubscribeURL"]).query)
    assert query["SubscriptionArn"] == [sub]
    with urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=10) as response:
        assert b"UnsubscribeResponse" in response.read()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_raw_delivery_maps_attributes(sns, sqs, make_topic, make_queue):
    topic = make_topic()
    url, arn = make_queue()
    subscribe_queue(sns, topic, arn, RawMessageDelivery="true")
    sns.publish(TopicArn=topic, Message="raw body",
                MessageAttributes={"color": {"DataType": "String", "StringValue": "red"},
                                   "blob": {"DataType": "Binary", "BinaryValue": b"\x02"}})
    [received] = receive(sqs, url, 1, MessageAttributeNames=["All"])
    assert received["Body"] == "raw body"
    assert received["MessageAttributes"]["color"] == {"StringValue": "red", "DataType": "String"}
    assert received["MessageAttributes"]["blob"] == {"BinaryValue": b"\x02", "DataType": "Binary"}


def test_message_structure_json_per_protocol(sns, sqs, make_topic, make_queue):
    topic = make_topic()
    url, arn = make_queue()
    subscribe_queue(sns, topic, arn, RawMessageDelivery="true")
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "sqs": "for queues"}))
    assert [m["Body"] for m in receive(sqs, url, 1)] == ["for queues"]


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(sns, sqs, make_topic, make_queue):
    topic = make_topic("orders", fifo=True)
    url, arn = make_queue("orders", fifo=True)
    subscribe_queue(sns, topic, arn, RawMessageDelivery="true")
    sequence_numbers = []
    for i in range(6):
        result = sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g1", MessageDeduplicationId=f"d{i}")
        sequence_numbers.append(int(result["SequenceNumber"]))
    duplicate = sns.publish(TopicArn=topic, Message="again", MessageGroupId="g1", MessageDeduplicationId="d0")
    assert sequence_numbers == sorted(sequence_numbers)
    bodies = []
    for _ in range(10):
        got = receive(sqs, url, 1, timeout=3, AttributeNames=["MessageGroupId"])
        bodies += [m["Body"] for m in got]
        assert all(m["Attributes"]["MessageGroupId"] == "g1" for m in got)
        if len(bodies) >= 6:
            break
    assert bodies == [f"m{i}" for i in range(6)]
    assert duplicate["MessageId"]
    assert nothing_arrives(sqs, url)


def test_fifo_content_based_deduplication(sns, sqs, make_topic, make_queue):
    topic = make_topic(fifo=True, ContentBasedDeduplication="true")
    url, arn = make_queue(fifo=True)
    subscribe_queue(sns, topic, arn)
    first = sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    second = sns.publish(TopicArn=topic, Message="same", MessageGroupId="g")
    assert first["MessageId"] == second["MessageId"]
    got = receive(sqs, url, 1, AttributeNames=["MessageDeduplicationId"])
    envelope = json.loads(got[0]["Body"])
    assert envelope["Message"] == "same" and envelope["SequenceNumber"] == first["SequenceNumber"]
    # A FIFO topic's envelope is not signed (AWS-recorded field list, in AWS's order).
    assert list(envelope) == ["Type", "MessageId", "SequenceNumber", "TopicArn", "Message", "Timestamp",
                              "UnsubscribeURL"]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    assert nothing_arrives(sqs, url)


def test_publish_batch_with_an_invalid_entry_publishes_nothing(sns, sqs, make_topic, make_queue):
    # SNS checks every entry first: an invalid one fails the whole request with Publish's error
    # (AWS-recorded: PublishBatch with a bad message attribute answers ParameterValueInvalid).
    topic = make_topic()
    url, arn = make_queue()
    subscribe_queue(sns, topic, arn, RawMessageDelivery="true")
    for bad, code in (
        ({"Id": "bad", "Message": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "abc"}}},
         "ParameterValueInvalid"),
        ({"Id": "badsubject", "Message": "y", "Subject": "line\nbreak"}, "InvalidParameter"),
    ):
        with pytest.raises(ClientError) as excinfo:
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "ok1", "Message": "one"}, bad])
        assert error_code(excinfo) == code
    result = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "ok1", "Message": "one"}, {"Id": "ok2", "Message": "two", "Subject": "s"}])
    assert sorted(e["Id"] for e in result["Successful"]) == ["ok1", "ok2"] and result["Failed"] == []
    assert sorted(m["Body"] for m in receive(sqs, url, 2)) == ["one", "two"]
    assert nothing_arrives(sqs, url)


def test_deleted_queue_goes_to_dead_letter_queue(sns, sqs, make_topic, make_queue):
    topic = make_topic()
    url, arn = make_queue("gone")
    dlq_url, dlq_arn = make_queue("dlq")
    subscribe_queue(sns, topic, arn, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}))
    sqs.delete_queue(QueueUrl=url)
    message_id = sns.publish(TopicArn=topic, Message="lost?")["MessageId"]
    [dead] = receive(sqs, dlq_url, 1, MessageAttributeNames=["All"])
    assert json.loads(dead["Body"])["MessageId"] == message_id
    attributes = dead["MessageAttributes"]
    assert attributes["ErrorCode"]["StringValue"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert {"RequestID", "ErrorMessage"} <= set(attributes)


def test_email_and_sms_are_captured(sns, make_topic, endpoint, unique):
    topic = make_topic()
    address = f"{unique('user')}@example.com"
    phone = "+1555" + str(abs(hash(address)) % 10_000_000).zfill(7)
    pending = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    assert pending["SubscriptionArn"] == "pending confirmation"
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=phone)
    [confirmation] = captured(endpoint, endpoint=address)
    assert confirmation["message_type"] == "SubscriptionConfirmation"
    subscribe_url = confirmation["body"].splitlines()[-1]
    sns.publish(TopicArn=topic, Message="before confirming", Subject="s0")
    with urllib.request.urlopen(subscribe_url, timeout=10) as response:
        assert b"<SubscriptionArn>" in response.read()
    sns.publish(TopicArn=topic, Message="after confirming", Subject="s1")
    emails = wait_for(lambda: [m for m in captured(endpoint, endpoint=address, message_type="Notification")])
    assert [(m["subject"], m["body"]) for m in emails] == [("s1", "after confirming")]
    texts = wait_for(lambda: len(captured(endpoint, endpoint=phone)) == 2 and captured(endpoint, endpoint=phone))
    assert [m["body"] for m in texts] == ["before confirming", "after confirming"]
    sns.publish(PhoneNumber=phone, Message="direct")
    assert captured(endpoint, endpoint=phone)[-1]["body"] == "direct"


def test_active_tracing_passes_a_trace_header_to_sqs(sns, sqs, make_topic, make_queue):
    topic = make_topic(TracingConfig="Active")
    url, arn = make_queue()
    subscribe_queue(sns, topic, arn)
    sns.publish(TopicArn=topic, Message="traced")
    [received] = receive(sqs, url, 1, AttributeNames=["AWSTraceHeader"])
    assert received["Attributes"]["AWSTraceHeader"].startswith("Root=1-")
