"""json protocol round trips: sqs, dynamodb, events, logs."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from stratus.aws.errors import AwsError, ValidationException
from stratus.aws.protocol import HttpRequest, codec_for


def test_sqs_send_message_with_attributes(roundtrip):
    rt = roundtrip("sqs", "json")
    params = {
        "QueueUrl": "http://localhost:4566/000000000000/q",
        "MessageBody": "héllo ✓\r\n",
        "DelaySeconds": 5,
        "MessageAttributes": {
            "s": {"DataType": "String", "StringValue": "v"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\xffbin"},
        },
    }
    assert rt.parse("SendMessage", params) == params


def test_sqs_receive_output_and_empty_output(roundtrip):
    rt = roundtrip("sqs", "json")
    output = {
        "Messages": [
            {
                "MessageId": "m1",
                "ReceiptHandle": "rh",
                "Body": "ünïcode",
                "Attributes": {"SentTimestamp": "1700000000000"},
                "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}},
            }
        ]
    }
    assert rt.output("ReceiveMessage", output) == output
    assert rt.output("DeleteMessage", {}) == {}


def test_sqs_json_error_maps_to_boto3_modeled_exception():
    codec = codec_for("sqs", "json")
    client = boto3.client(
        "sqs", region_name="us-east-1", endpoint_url="http://localhost:4566",
        aws_access_key_id="test", aws_secret_access_key="test",
    )

    def reply(request, **kwargs):
        from stratus.aws.context import RequestContext

        err = AwsError("The specified queue does not exist.", code="QueueDoesNotExist")
        response = codec.serialize_error(err, RequestContext(request_id="rid-1"), "GetQueueUrl")
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))

    client.meta.events.register("before-send.sqs.GetQueueUrl", reply)
    with pytest.raises(client.exceptions.QueueDoesNotExist) as caught:
        client.get_queue_url(QueueName="missing")
    error = caught.value.response["Error"]
    # As real SQS: the legacy query code is what boto3 reports as the code.
    assert error["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error["Message"] == "The specified queue does not exist."
    assert caught.value.response["ResponseMetadata"]["RequestId"] == "rid-1"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs):
        yield self._body


def test_dynamodb_recursive_attribute_values_with_blobs(roundtrip):
    rt = roundtrip("dynamodb", "json")
    item = {
        "pk": {"S": "k"},
        "n": {"N": "1.5"},
        "bin": {"B": b"\x00\x01"},
        "set": {"BS": [b"a", b"b"]},
        "nested": {"M": {"deep": {"L": [{"B": b"\xfe"}, {"NULL": True}, {"BOOL": False}]}}},
        "empty": {"L": []},
    }
    params = {"TableName": "t", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    assert rt.parse("PutItem", params) == params
    assert rt.output("GetItem", {"Item": item}) == {"Item": item}


def test_dynamodb_timestamps_are_epoch_seconds_with_fractions(roundtrip):
    rt = roundtrip("dynamodb", "json")
    created = datetime(2024, 2, 29, 12, 30, 45, 123000, tzinfo=UTC)
    output = {"Table": {"TableName": "t", "CreationDateTime": created, "ItemCount": 0}}
    assert rt.output("DescribeTable", output) == output
    body = rt.codec.serialize("DescribeTable", output, rt.ctx).body
    assert b'"CreationDateTime":1709209845.123' in body


def test_events_put_events_time_and_logs_filter(roundtrip):
    events = roundtrip("events", "json")
    when = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    params = {"Entries": [{"Source": "app", "DetailType": "t", "Detail": '{"a": 1}', "Time": when}]}
    parsed = events.parse("PutEvents", params)
    assert parsed == params
    assert parsed["Entries"][0]["Time"].tzinfo is not None

    logs = roundtrip("logs", "json")
    params = {"logGroupName": "/aws/lambda/f", "startTime": 1, "filterPattern": "", "logStreamNames": ["a", "b"]}
    assert logs.parse("FilterLogEvents", params) == params
    output = {"events": [{"logStreamName": "a", "timestamp": 5, "message": "m", "ingestionTime": 6}], "searchedLogStreams": []}
    assert logs.output("FilterLogEvents", output) == output


def test_json_errors_read_back_by_botocore(roundtrip):
    rt = roundtrip("dynamodb", "json")
    parsed = rt.error(ValidationException("1 validation error detected: x"), "PutItem")
    assert parsed["Error"]["Code"] == "ValidationException"
    assert parsed["Error"]["Message"] == "1 validation error detected: x"
    assert parsed["status"] == 400


def test_json_unknown_target_and_malformed_body():
    codec = codec_for("dynamodb", "json")
    with pytest.raises(AwsError) as caught:
        codec.operation_from_request(HttpRequest("POST", "/", headers={"x-amz-target": "DynamoDB_20120810.Nope"}))
    assert caught.value.code == "UnknownOperationException"
    with pytest.raises(AwsError) as caught:
        codec.parse("PutItem", HttpRequest("POST", "/", body=b"{not json"))
    assert caught.value.code == "SerializationException"
    with pytest.raises(AwsError) as caught:
        codec.parse("PutItem", HttpRequest("POST", "/", body=b'{"Item": {"b": {"B": "%%%"}}}'))
    assert caught.value.code == "SerializationException"


def test_json_codec_without_conversions_uses_loads_output_as_is():
    # Inputs with no blob or timestamp anywhere get no converter at all.
    codec = codec_for("logs", "json")
    assert codec.operation("PutRetentionPolicy")._reader is None
    assert codec.operation("PutLogEvents")._reader is None
    assert codec_for("dynamodb", "json").operation("PutItem")._reader is not None
