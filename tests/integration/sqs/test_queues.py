"""SQS queue operations through boto3 against a live server, on both stores.

Behaviour and errors as the SQS API reference documents them (CreateQueue, GetQueueUrl,
ListQueues, Get/SetQueueAttributes, PurgeQueue, DeleteQueue, tags, permissions).
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_message
from tests.integration.sqs.conftest import arn_of, error_code


def test_create_queue_answers_an_aws_style_url_on_this_host(sqs, endpoint, unique):
    name = unique("create")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{endpoint}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_create_queue_is_idempotent_with_same_attributes_and_fails_with_different(sqs, unique):
    name = unique("idem")
    first = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == first
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == first
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})


INVALID_NAME = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"


@pytest.mark.parametrize(
    ("name", "message"),
    [("has space", INVALID_NAME), ("x" * 81, INVALID_NAME), ("dot.name", INVALID_NAME), ("", "Queue name cannot be empty")],
)
def test_create_queue_rejects_invalid_names(sqs, name, message):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=name)
    assert (error_code(excinfo), error_message(excinfo)) == ("InvalidParameterValue", message)
    if name:
        assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=name)


def test_fifo_queue_needs_the_fifo_suffix_and_attribute(sqs, unique):
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique("nofifo"), Attributes={"FifoQueue": "true"})
    assert error_code(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=unique("suffix") + ".fifo")
    assert error_code(excinfo) == "InvalidParameterValue"


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
        ({"DelaySeconds": "901"}, "InvalidAttributeValue"),
        ({"MaximumMessageSize": "1048577"}, "InvalidAttributeValue"),
        ({"MaximumMessageSize": "1023"}, "InvalidAttributeValue"),
        ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
        ({"ReceiveMessageWaitTimeSeconds": "21"}, "InvalidAttributeValue"),
        ({"VisibilityTimeout": "abc"}, "InvalidAttributeValue"),
        ({"NoSuchAttribute": "1"}, "InvalidAttributeName"),
        ({"ContentBasedDeduplication": "true"}, "InvalidAttributeName"),  # FIFO only
        ({"QueueArn": "arn:aws:sqs:us-east-1:000000000000:x"}, "InvalidAttributeName"),  # read-only
    ],
)
def test_create_queue_rejects_bad_attributes(sqs, unique, attributes, code):
    name = unique("badattr")
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName=name, Attributes=attributes)
    assert error_code(excinfo) == code
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)  # bad input changes nothing


def test_get_queue_attributes_defaults_and_all(sqs, make_queue, endpoint):
    url = make_queue("attrs")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["DelaySeconds"] == "0"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "0"
    assert attrs["SqsManagedSseEnabled"] == "true"
    name = urlparse(url).path.rsplit("/", 1)[1]
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert int(attrs["CreatedTimestamp"]) > 1_600_000_000
    assert "FifoQueue" not in attrs and "RedrivePolicy" not in attrs
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert only == {"VisibilityTimeout": "30"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)


def test_fifo_queue_attributes(sqs, make_queue):
    url = make_queue("fifoattrs", fifo=True, ContentBasedDeduplication="true")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "true"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoThroughputLimit"] == "perMessageGroupId"


def test_get_queue_attributes_rejects_unknown_names(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as excinfo:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert isinstance(excinfo.value, sqs.exceptions.InvalidAttributeName)
    assert (error_code(excinfo), error_message(excinfo)) == ("InvalidAttributeName", "Unknown Attribute Bogus.")


def test_set_queue_attributes_changes_and_validates(sqs, make_queue):
    url = make_queue("set")
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"VisibilityTimeout": "60", "DelaySeconds": "5", "KmsMasterKeyId": "alias/aws/sqs",
                    "KmsDataKeyReusePeriodSeconds": "300"},
    )
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "60"
    assert attrs["DelaySeconds"] == "5"
    assert attrs["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attrs["KmsDataKeyReusePeriodSeconds"] == "300"
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "-1"})
    assert error_code(excinfo) == "InvalidAttributeValue"
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert error_code(excinfo) == "InvalidAttributeName"
    with pytest.raises(ClientError) as excinfo:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "{not json"})
    assert error_code(excinfo) == "InvalidAttributeValue"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "60"
    }


def test_operations_on_an_unknown_queue_fail_with_queue_does_not_exist(sqs, endpoint):
    url = f"{endpoint}/000000000000/no-such-queue"
    for call in (
        lambda: sqs.get_queue_url(QueueName="no-such-queue"),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.list_queue_tags(QueueUrl=url),
    ):
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as excinfo:
            call()
        assert error_code(excinfo) == "AWS.SimpleQueueService.NonExistentQueue"


def test_queue_url_in_any_host_form_is_accepted(sqs, make_queue):
    url = make_queue("forms")
    path = urlparse(url).path
    for form in (
        f"https://sqs.us-east-1.amazonaws.com{path}",
        f"https://queue.amazonaws.com{path}",
        f"http://localhost:4566{path}",
    ):
        sqs.send_message(QueueUrl=form, MessageBody="via " + form)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "3"


def test_list_queues_by_prefix_with_pagination(sqs, unique):
    prefix = unique("list")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)]
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == sorted(urls)
    seen, token = [], None
    while True:
        kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_queues(**kwargs)
        assert len(page["QueueUrls"]) <= 2
        seen += page["QueueUrls"]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sorted(urls)
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("none"))
    with pytest.raises(ClientError) as excinfo:
        sqs.list_queues(MaxResults=1001)
    assert (error_code(excinfo), error_message(excinfo)) == (
        "InvalidParameterValue",
        "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.",
    )


def test_get_queue_url_with_owner_account(sqs, unique, endpoint):
    name = unique("owner")
    sqs.create_queue(QueueName=name)
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"].endswith(name)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="111111111111")


def test_delete_queue_then_queue_deleted_recently_for_60_seconds(sqs, unique, advance_clock):
    name = unique("del")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="gone")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)
    with pytest.raises(sqs.exceptions.QueueDeletedRecently):
        sqs.create_queue(QueueName=name)
    advance_clock(61)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_purge_queue_deletes_messages_and_only_once_per_60_seconds(sqs, make_queue, advance_clock):
    url = make_queue("purge")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)
    advance_clock(61)
    sqs.send_message(QueueUrl=url, MessageBody="after")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_tags_on_create_and_tag_untag_list(sqs, unique):
    url = sqs.create_queue(QueueName=unique("tags"), tags={"team": "a", "env": "dev"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": "1"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "prod", "cost": "1"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod", "cost": "1"}
    with pytest.raises(ClientError) as excinfo:
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    assert error_code(excinfo) == "InvalidParameterValue"
    sqs.untag_queue(QueueUrl=url, TagKeys=["env", "cost"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_add_and_remove_permission_maintain_the_policy(sqs, make_queue):
    url = make_queue("perm")
    arn = arn_of(sqs, url)
    sqs.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sqs.add_permission(
        QueueUrl=url, Label="both", AWSAccountIds=["111111111111", "222222222222"], Actions=["ReceiveMessage", "*"]
    )
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Version"] == "2008-10-17"  # what AWS's AddPermission writes
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["send"] == {
        "Sid": "send",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SQS:SendMessage",
        "Resource": arn,
    }
    assert statements["both"]["Action"] == ["SQS:ReceiveMessage", "SQS:*"]
    with pytest.raises(ClientError) as excinfo:
        sqs.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    assert error_code(excinfo) == "InvalidParameterValue"
    with pytest.raises(ClientError) as excinfo:
        sqs.add_permission(QueueUrl=url, Label="bad", AWSAccountIds=["111111111111"], Actions=["Fly"])
    assert error_code(excinfo) == "InvalidParameterValue"
    sqs.remove_permission(QueueUrl=url, Label="send")
    sqs.remove_permission(QueueUrl=url, Label="both")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    with pytest.raises(ClientError) as excinfo:
        sqs.remove_permission(QueueUrl=url, Label="send")
    assert error_code(excinfo) == "InvalidParameterValue"


def test_missing_required_parameters_are_rejected(sqs, make_queue, endpoint):
    import botocore.session

    # Bypass boto3's own client-side checks to see the server's answer.
    raw = botocore.session.get_session().create_client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=__import__("botocore.config").config.Config(parameter_validation=False, retries={"max_attempts": 1}),
    )
    url = make_queue("missing")
    with pytest.raises(ClientError) as excinfo:
        raw.send_message(QueueUrl=url)
    assert (error_code(excinfo), error_message(excinfo)) == (
        "MissingParameter", "The request must contain the parameter MessageBody.")
    with pytest.raises(ClientError):
        raw.create_queue()
    with pytest.raises(ClientError):
        raw.receive_message(QueueUrl=url, MaxNumberOfMessages="ten")
