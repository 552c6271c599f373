"""SQS over its two wire protocols: the query protocol (older SDKs, the AWS CLI v1 of old) and
json (current boto3), and the AWS CLI itself."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


def query(endpoint: str, params: dict[str, str], path: str = "/") -> tuple[int, ET.Element]:
    """A SigV4-signed form POST, as a query-protocol SDK sends it; answers (status, XML root)."""
    status, raw = query_raw(endpoint, params, path)
    return status, ET.fromstring(raw)


def query_raw(endpoint: str, params: dict[str, str], path: str = "/") -> tuple[int, bytes]:
    """As ``query``, answering the raw body."""
    body = urllib.parse.urlencode({"Version": "2012-11-05", **params})
    request = AWSRequest(
        method="POST",
        url=endpoint + path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(
        endpoint + path, data=body.encode(), headers=dict(request.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def local(element: ET.Element, name: str) -> list[ET.Element]:
    """Elements named ``name`` anywhere below, in any namespace."""
    return [e for e in element.iter() if e.tag.rsplit("}", 1)[-1] == name]


def text(element: ET.Element, name: str) -> str:
    found = local(element, name)
    assert found, f"no <{name}> in {ET.tostring(element)!r}"
    return found[0].text or ""


def test_query_protocol_round_trip(endpoint, unique, sqs):
    name = unique("query")
    status, root = query(endpoint, {"Action": "CreateQueue", "QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                                    "Attribute.1.Value": "40"})
    assert status == 200, ET.tostring(root)
    url = text(root, "QueueUrl")
    assert url.endswith(f"/000000000000/{name}")
    status, root = query(
        endpoint,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": "über query",
            "MessageAttribute.1.Name": "timestamp",
            "MessageAttribute.1.Value.DataType": "Number",
            "MessageAttribute.1.Value.StringValue": "1493147359900",
        },
    )
    assert status == 200, ET.tostring(root)
    assert text(root, "MD5OfMessageAttributes") == "235c5c510d26fb653d073faed50ae77c"
    message_id = text(root, "MessageId")
    status, root = query(
        endpoint,
        {"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "All", "MessageAttributeName.1": "All"},
    )
    assert status == 200, ET.tostring(root)
    assert text(root, "MessageId") == message_id
    assert text(root, "Body") == "über query"
    attributes = {text(a, "Name"): text(a, "Value") for a in local(root, "Attribute")}
    assert attributes["ApproximateReceiveCount"] == "1"
    status, root = query(
        endpoint, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "VisibilityTimeout"}
    )
    assert {text(a, "Name"): text(a, "Value") for a in local(root, "Attribute")} == {"VisibilityTimeout": "40"}
    # The same queue through json (boto3) sees the message in flight.
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert counts["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_query_protocol_errors_use_the_legacy_codes(endpoint, unique):
    status, root = query(endpoint, {"Action": "GetQueueUrl", "QueueName": unique("absent")})
    assert status == 400
    assert text(root, "Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert text(root, "Type") == "Sender"
    assert root.tag == "{http://queue.amazonaws.com/doc/2012-11-05/}ErrorResponse"
    status, root = query(endpoint, {"Action": "CreateQueue", "QueueName": unique("bad"),
                                    "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "99999"})
    assert status == 400
    assert text(root, "Code") == "InvalidAttributeValue"


def test_query_protocol_error_document_is_awss(endpoint, unique):
    """<ErrorResponse><Error>Type, Code, Message, an empty Detail</Error><RequestId/></ErrorResponse>,
    as the SQS Developer Guide ("Interpreting Amazon SQS XML API responses") lays it out."""
    from botocore.parsers import QueryParser

    status, raw = query_raw(endpoint, {"Action": "GetQueueUrl", "QueueName": unique("absent")})
    assert status == 400
    root = ET.fromstring(raw)
    assert root.tag == "{http://queue.amazonaws.com/doc/2012-11-05/}ErrorResponse"
    assert [child.tag for child in root] == [f"{{{NS['sqs']}}}Error", f"{{{NS['sqs']}}}RequestId"]
    error = root.find("sqs:Error", NS)
    assert [(child.tag.rsplit("}", 1)[-1], child.text) for child in error] == [
        ("Type", "Sender"),
        ("Code", "AWS.SimpleQueueService.NonExistentQueue"),
        ("Message", "The specified queue does not exist for this wsdl version."),
        ("Detail", None),
    ]
    assert len(error.find("sqs:Detail", NS)) == 0
    parsed = QueryParser().parse({"status_code": status, "headers": {}, "body": raw}, None)
    assert parsed["Error"] == {
        "Type": "Sender",
        "Code": "AWS.SimpleQueueService.NonExistentQueue",
        "Message": "The specified queue does not exist for this wsdl version.",
        "Detail": None,
    }
    assert parsed["ResponseMetadata"]["RequestId"] == root.find("sqs:RequestId", NS).text


def test_json_errors_carry_the_query_code_header(endpoint, unique):
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=json.dumps({"QueueName": unique("absent")}),
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueUrl"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(
        endpoint + "/", data=request.body, headers=dict(request.headers.items()), method="POST"
    )
    try:
        urllib.request.urlopen(prepared, timeout=10)
        raise AssertionError("expected an error")
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        assert body["__type"].endswith("QueueDoesNotExist")
        assert error.headers["x-amzn-query-error"].startswith("AWS.SimpleQueueService.NonExistentQueue;Sender")


def test_aws_cli_send_and_receive(endpoint, make_queue):
    url = make_queue("cli")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    cli = [sys.executable, "-m", "awscli", "sqs", "--endpoint-url", endpoint, "--output", "json"]
    sent = subprocess.run(
        [*cli, "send-message", "--queue-url", url, "--message-body", "from the cli"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    message_id = json.loads(sent.stdout)["MessageId"]
    received = subprocess.run(
        [*cli, "receive-message", "--queue-url", url, "--attribute-names", "All"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    (message,) = json.loads(received.stdout)["Messages"]
    assert message["MessageId"] == message_id
    assert message["Body"] == "from the cli"
    subprocess.run(
        [*cli, "delete-message", "--queue-url", url, "--receipt-handle", message["ReceiptHandle"]],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )


def test_query_protocol_words_an_unknown_queue_as_aws_does(endpoint, unique, make_queue):
    # AWS's query API (the old WSDL one) says "for this wsdl version"; json says it without.
    status, root = query(endpoint, {"Action": "GetQueueUrl", "QueueName": unique("absent")})
    assert (status, text(root, "Code")) == (400, "AWS.SimpleQueueService.NonExistentQueue")
    assert text(root, "Message") == "The specified queue does not exist for this wsdl version."
    url = make_queue("wsdl", fifo=True)
    status, root = query(
        endpoint,
        {
            "Action": "SendMessageBatch",
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "x",
            "SendMessageBatchRequestEntry.1.MessageDeduplicationId": "d",
        },
    )
    assert (status, text(root, "Code")) == (400, "InvalidParameterValue")
    assert text(root, "Message") == "The request must contain the parameter MessageGroupId."


def test_query_requests_may_address_the_queue_by_path(endpoint, unique, sqs):
    """Query SDKs POST to the queue URL itself; the path then stands for QueueUrl."""
    url = sqs.create_queue(QueueName=unique("bypath"))["QueueUrl"]
    path = urllib.parse.urlparse(url).path
    status, root = query(endpoint, {"Action": "SendMessage", "MessageBody": "addressed by path"}, path=path)
    assert status == 200
    assert text(root, "MD5OfMessageBody") == hashlib.md5(b"addressed by path").hexdigest()
    got = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == ["addressed by path"]
    status, root = query(endpoint, {"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"}, path=path)
    assert status == 200
    assert text(root, "Value").endswith(":" + url.rsplit("/", 1)[1])
    status, root = query(endpoint, {"Action": "SendMessage", "MessageBody": "x"}, path="/000000000000/" + unique("none"))
    assert status == 400
    assert text(root, "Code") == "AWS.SimpleQueueService.NonExistentQueue"
