"""SQS answers checked against what AWS answers (the SQS API Reference's Errors sections, the
developer guide's quotas, and responses recorded from AWS), through boto3 on both stores."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.integration.sqs.conftest import error_code


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def receive_one(sqs, url, **kwargs):
    (message,) = sqs.receive_message(QueueUrl=url, **kwargs)["Messages"]
    return message


def test_change_visibility_may_not_extend_past_12_hours_from_the_receive(sqs, make_queue, advance_clock):
    url = make_queue("twelvehours")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = receive_one(sqs, url, VisibilityTimeout=600)["ReceiptHandle"]
    advance_clock(3600)  # timeout passed; not received again, so the handle still works (standard)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43200 - 3600)
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43200 - 3599)
    assert error(excinfo) == (
        "InvalidParameterValue",
        f"Value {43200 - 3599} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the "
        "message is beyond the limit [43200 seconds]",
        400,
    )


def test_standard_change_visibility_after_the_timeout_passed_hides_it_again(sqs, make_queue, advance_clock):
    url = make_queue("expiredvis")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = receive_one(sqs, url, VisibilityTimeout=1)["ReceiptHandle"]
    advance_clock(2)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=60)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    advance_clock(61)  # hidden, not lost: it comes back once the new timeout passes
    again = receive_one(sqs, url, AttributeNames=["ApproximateReceiveCount"])
    assert (again["Body"], again["Attributes"]["ApproximateReceiveCount"]) == ("m", "2")


def test_a_replaced_handle_cannot_change_visibility(sqs, make_queue, advance_clock):
    url = make_queue("replaced")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    first = receive_one(sqs, url, VisibilityTimeout=1)["ReceiptHandle"]
    advance_clock(2)
    receive_one(sqs, url)
    with pytest.raises(ClientError) as excinfo:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first, VisibilityTimeout=5)
    assert error(excinfo)[0] == "InvalidParameterValue"
    result = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": first, "VisibilityTimeout": 5}]
    )
    assert result["Failed"][0]["Code"] == "InvalidParameterValue"
    assert result["Failed"][0]["SenderFault"] is True


def test_fifo_delete_with_an_expired_handle_fails(sqs, make_queue, advance_clock):
    url = make_queue("fifoexpired", fifo=True)
    sqs.send_message(QueueUrl=url, MessageBody="g1-m1", MessageGroupId="g1", MessageDeduplicationId="d1")
    handle = receive_one(sqs, url, VisibilityTimeout=1)["ReceiptHandle"]
    advance_clock(2)
    with pytest.raises(ClientError) as excinfo:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert error(excinfo) == (
        "InvalidParameterValue",
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
        400,
    )
    with pytest.raises(sqs.exceptions.MessageNotInflight):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=5)
    fresh = receive_one(sqs, url)["ReceiptHandle"]
    result = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": "old", "ReceiptHandle": handle}, {"Id": "new", "ReceiptHandle": fresh}]
    )
    assert [e["Id"] for e in result["Successful"]] == ["new"]
    assert result["Failed"][0]["Id"] == "old" and result["Failed"][0]["Code"] == "InvalidParameterValue"


def test_set_queue_attributes_fifo_queue_type_is_fixed(sqs, make_queue):
    standard = make_queue("settype")
    fifo = make_queue("settype", fifo=True)
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=standard, Attributes={"FifoQueue": "true"})
    assert error(excinfo) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.", 400)
    sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "true"})
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "false"})
    assert error(excinfo) == (
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
        400,
    )


def test_kms_and_sqs_managed_encryption_are_exclusive(sqs, make_queue):
    url = make_queue("sse")
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true", "KmsMasterKeyId": "k"})
    assert error(excinfo) == (
        "InvalidAttributeName",
        "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
        400,
    )
    names = ["SqsManagedSseEnabled", "KmsMasterKeyId"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"] == {
        "SqsManagedSseEnabled": "false",
        "KmsMasterKeyId": "alias/aws/sqs",
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"] == {"SqsManagedSseEnabled": "true"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1e126", True), ("-1.5E-128", True), ("0", True), ("1" * 38, True), ("1e127", False), ("1e-129", False),
     ("1" * 39, False), ("NaN", False), ("12abc", False)],
)
def test_number_attributes_follow_the_documented_range_and_precision(sqs, make_queue, value, ok):
    url = make_queue("number")
    send = lambda: sqs.send_message(  # noqa: E731
        QueueUrl=url, MessageBody="m", MessageAttributes={"n": {"DataType": "Number", "StringValue": value}}
    )
    if ok:
        send()
        return
    with pytest.raises(ClientError) as excinfo:
        send()
    assert error(excinfo) == (
        "InvalidParameterValue", "Can't cast the value of message (user) attribute 'n' to a number.", 400
    )


def test_receive_request_attempt_id_is_checked(sqs, make_queue):
    url = make_queue("attempt", fifo=True)
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a" * 129)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_standard_queue_rejects_a_deduplication_id(sqs, make_queue):
    url = make_queue("stddedup")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="m", MessageDeduplicationId="d")
    assert error(excinfo) == (
        "InvalidParameterValue",
        "Value d for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not "
        "valid for this queue type.",
        400,
    )


def test_permissions_policy_and_unknown_label(sqs, make_queue):
    url = make_queue("perm")
    sqs.add_permission(QueueUrl=url, Label="crossaccountpermission", AWSAccountIds=["111111111111"],
                       Actions=["ReceiveMessage"])
    with pytest.raises(ClientError) as excinfo:
        sqs.remove_permission(QueueUrl=url, Label="crossaccountpermission2")
    assert error(excinfo) == (
        "InvalidParameterValue",
        "Value crossaccountpermission2 for parameter Label is invalid. Reason: can't find label.",
        400,
    )


def test_sender_id_is_the_callers_unique_id(endpoint, sqs, make_queue, unique):
    url = make_queue("sender")
    sqs.send_message(QueueUrl=url, MessageBody="root")
    assert receive_one(sqs, url, MessageSystemAttributeNames=["SenderId"])["Attributes"]["SenderId"] == "000000000000"
    iam = client_for(endpoint, "iam")
    user = iam.create_user(UserName=unique("sender"))["User"]
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    as_user = client_for(endpoint, "sqs", access_key=key["AccessKeyId"])
    as_user.send_message(QueueUrl=url, MessageBody="user")
    message = receive_one(sqs, url, AttributeNames=["SenderId"])  # the legacy parameter name
    assert message["Body"] == "user"
    assert message["Attributes"]["SenderId"] == user["UserId"]
