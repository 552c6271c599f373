"""query protocol round trips: SQS over query (through our patch) and SNS."""

from datetime import UTC, datetime

import pytest

from stratus.aws.errors import AwsError, MissingParameter
from stratus.aws.protocol import HttpRequest, codec_for


def test_sqs_codec_speaks_query_although_the_model_says_json():
    codec = codec_for("sqs", "query")
    assert codec.service_model.metadata["protocol"] == "json"
    assert "query" in codec.service_model.metadata["protocols"]


def test_sqs_query_flattened_maps_and_lists(roundtrip):
    rt = roundtrip("sqs", "query")
    req = rt.request("CreateQueue", {"QueueName": "q", "Attributes": {"DelaySeconds": "5"}, "tags": {"team": "a b"}})
    assert "Attribute.1.Name=DelaySeconds" in req.body.decode()
    assert "Tag.1.Key=team" in req.body.decode()
    params = {"QueueName": "q", "Attributes": {"DelaySeconds": "5", "Policy": '{"a":"é"}'}, "tags": {"team": "a b"}}
    assert rt.parse("CreateQueue", params) == params


def test_sqs_query_message_attributes_and_batches(roundtrip):
    rt = roundtrip("sqs", "query")
    params = {
        "QueueUrl": "http://localhost:4566/000000000000/q",
        "Entries": [
            {
                "Id": "1",
                "MessageBody": "one\r\ntwo",
                "MessageAttributes": {
                    "s": {"DataType": "String", "StringValue": "v"},
                    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
                },
            },
            {"Id": "2", "MessageBody": "", "DelaySeconds": 0},
        ],
    }
    req = rt.request("SendMessageBatch", params)
    assert "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v" in req.body.decode()
    assert rt.parse("SendMessageBatch", params) == params
    receive = {"QueueUrl": "u", "AttributeNames": ["All"], "MessageAttributeNames": ["a", "b"], "MaxNumberOfMessages": 10}
    assert rt.parse("ReceiveMessage", receive) == receive


def test_sqs_query_outputs(roundtrip):
    rt = roundtrip("sqs", "query")
    message = {
        "MessageId": "m",
        "ReceiptHandle": "r",
        "MD5OfBody": "x",
        "Body": "a <b> & \"c\"\r\nline",
        "Attributes": {"SentTimestamp": "1", "SenderId": "s"},
        "MessageAttributes": {
            "n": {"DataType": "Number", "StringValue": "1"},
            "b": {"DataType": "Binary", "BinaryValue": b"\xff"},
        },
    }
    assert rt.output("ReceiveMessage", {"Messages": [message, {"MessageId": "2", "Body": "ü"}]}) == {
        "Messages": [message, {"MessageId": "2", "Body": "ü"}]
    }
    assert rt.output("ReceiveMessage", {}) == {}
    urls = {"QueueUrls": ["http://a/1", "http://a/2"], "NextToken": "t"}
    assert rt.output("ListQueues", urls) == urls
    attrs = {"Attributes": {"VisibilityTimeout": "30", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q"}}
    assert rt.output("GetQueueAttributes", attrs) == attrs
    assert rt.output("DeleteQueue", {}) == {}
    batch = {"Successful": [{"Id": "1", "MessageId": "m", "MD5OfMessageBody": "x"}],
             "Failed": [{"Id": "2", "SenderFault": True, "Code": "c", "Message": "m"}]}
    assert rt.output("SendMessageBatch", batch) == batch


def test_sqs_query_error_uses_legacy_code(roundtrip):
    rt = roundtrip("sqs", "query")
    parsed = rt.error(AwsError("The specified queue does not exist.", code="QueueDoesNotExist"), "GetQueueUrl")
    # SQS ends <Error> with an empty <Detail/>, which botocore reads as None (SQS Developer Guide,
    # "Interpreting Amazon SQS XML API responses").
    assert parsed["Error"] == {
        "Type": "Sender",
        "Code": "AWS.SimpleQueueService.NonExistentQueue",
        "Message": "The specified queue does not exist.",
        "Detail": None,
    }
    assert parsed["ResponseMetadata"]["RequestId"]
    assert parsed["status"] == 400
    parsed = rt.error(MissingParameter("The request must contain the parameter QueueUrl."), "SendMessage")
    assert parsed["Error"]["Code"] == "MissingParameter"


def test_sns_non_flattened_lists_maps_and_binary(roundtrip):
    rt = roundtrip("sns", "query")
    params = {
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
        "Message": "hello ✓",
        "MessageAttributes": {
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x10"},
            "s": {"DataType": "String", "StringValue": ""},
        },
    }
    req = rt.request("Publish", params)
    assert "MessageAttributes.entry.1.Name=" in req.body.decode()
    assert rt.parse("Publish", params) == params
    tags = {"ResourceArn": "arn", "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}]}
    assert rt.parse("TagResource", tags) == tags
    create = {"Name": "t", "Attributes": {"DisplayName": "d"}, "Tags": []}
    assert rt.parse("CreateTopic", create) == create


def test_sns_outputs(roundtrip):
    rt = roundtrip("sns", "query")
    topics = {"Topics": [{"TopicArn": "arn:1"}, {"TopicArn": "arn:2"}], "NextToken": "n"}
    assert rt.output("ListTopics", topics) == topics
    assert rt.output("ListTopics", {"Topics": []}) == {"Topics": []}
    attrs = {"Attributes": {"Policy": "{\"Version\": \"2012-10-17\"}", "Owner": "0"}}
    assert rt.output("GetTopicAttributes", attrs) == attrs
    parsed = rt.error(AwsError("Topic does not exist", code="NotFound", status=404), "GetTopicAttributes")
    # SNS's <Error> has no <Detail/>, unlike SQS's.
    assert parsed["Error"] == {"Type": "Sender", "Code": "NotFound", "Message": "Topic does not exist"}
    assert parsed["status"] == 404


@pytest.mark.parametrize(("service", "detail"), [("sqs", b"<Detail/>"), ("sns", b""), ("iam", b""), ("sts", b"")])
def test_query_error_documents_per_service(service, detail):
    """The exact <ErrorResponse> each query service sends: only SQS adds an empty <Detail/>."""
    from stratus.aws.context import RequestContext

    ctx = RequestContext(request_id="rid", service=service, protocol="query")
    body = codec_for(service, "query").serialize_error(AwsError("m", code="C"), ctx, None).body
    assert b"<Error><Type>Sender</Type><Code>C</Code><Message>m</Message>" + detail + b"</Error>" in body
    assert body.endswith(b"</Error><RequestId>rid</RequestId></ErrorResponse>")


def test_query_timestamps_and_get_parameters(roundtrip):
    rt = roundtrip("cloudwatch", "query")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2024, 1, 1, 1, 0, 0, 500000, tzinfo=UTC)
    params = {"Namespace": "n", "MetricName": "m", "StartTime": start, "EndTime": end, "Period": 60,
              "Statistics": ["Sum", "Average"]}
    assert rt.parse("GetMetricStatistics", params) == params
    out = {"Label": "m", "Datapoints": [{"Timestamp": end, "Sum": 1.5, "Unit": "Count"}]}
    assert rt.output("GetMetricStatistics", out) == out
    # Query parameters may come in the URL of a GET as well.
    codec = codec_for("sns", "query")
    req = HttpRequest("GET", "/", "Action=ListTopics&NextToken=abc")
    assert codec.operation_from_request(req) == "ListTopics"
    assert codec.parse("ListTopics", req) == {"NextToken": "abc"}


def test_query_unknown_action():
    with pytest.raises(AwsError) as caught:
        codec_for("sns", "query").operation_from_request(HttpRequest("POST", "/", body=b"Action=Nope"))
    assert caught.value.code == "InvalidAction"
