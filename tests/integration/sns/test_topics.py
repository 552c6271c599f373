"""Topics and subscriptions through boto3, on both stores, and the errors SNS answers.

Docs: SNS API reference CreateTopic, GetTopicAttributes, SetTopicAttributes, ListTopics,
AddPermission, Subscribe, SetSubscriptionAttributes, Publish; developer guide "Filter policy
constraints" and "Publishing large messages".
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, error_message
from tests.integration.sns.conftest import subscribe_queue


def test_create_topic_is_idempotent_and_has_aws_defaults(sns, unique):
    name = unique("t")
    arn = sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["SubscriptionsConfirmed"] == "0" and attributes["SubscriptionsPending"] == "0"
    assert attributes["SubscriptionsDeleted"] == "0" and attributes["Owner"] == "000000000000"
    policy = json.loads(attributes["Policy"])
    assert policy["Id"] == "__default_policy_ID"
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": "000000000000"}}
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name=name, Attributes={"DisplayName": "other"})
    assert error_code(excinfo) == "InvalidParameter"
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]


def test_fifo_topic_attributes_and_name_rules(sns, unique):
    name = unique("f") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true" and attributes["ContentBasedDeduplication"] == "true"
    for bad in ({"Name": unique("x") + ".fifo"}, {"Name": unique("x"), "Attributes": {"FifoTopic": "true"}},
                {"Name": "bad name"}):
        with pytest.raises(ClientError) as excinfo:
            sns.create_topic(**bad)
        assert error_code(excinfo) == "InvalidParameter"


def test_set_attributes_tracing_and_data_protection(sns, make_topic):
    arn = make_topic()
    sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Rides")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TracingConfig"] == "Active" and attributes["DisplayName"] == "Rides"
    with pytest.raises(ClientError) as excinfo:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Nope", AttributeValue="x")
    assert error_message(excinfo) == "Invalid parameter: AttributeName"
    policy = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=policy)
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == policy


def test_list_topics_pages_by_100(sns, endpoint, unique):
    from tests.conftest import client_for

    # A fresh region keeps this listing to our own topics.
    regional = client_for(endpoint, "sns", region="eu-west-3")
    arns = {regional.create_topic(Name=unique("p"))["TopicArn"] for _ in range(101)}
    first = regional.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = regional.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} >= arns
    for arn in arns:
        regional.delete_topic(TopicArn=arn)


def test_tags_and_permissions(sns, make_topic):
    arn = make_topic()
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    sns.add_permission(TopicArn=arn, Label="friend", AWSAccountId=["111122223333"], ActionName=["Publish"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    assert statements[-1] == {"Sid": "friend", "Effect": "Allow",
                              "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "SNS:Publish",
                              "Resource": arn}
    with pytest.raises(ClientError) as excinfo:
        sns.add_permission(TopicArn=arn, Label="friend", AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert error_code(excinfo) == "InvalidParameter"
    sns.remove_permission(TopicArn=arn, Label="friend")
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["__default_statement_ID"]
    with pytest.raises(ClientError) as excinfo:
        sns.tag_resource(ResourceArn=arn + "x", Tags=[{"Key": "a", "Value": "1"}])
    assert error_code(excinfo) == "ResourceNotFound"


def test_subscriptions_listing_attributes_and_counts(sns, make_topic, make_queue):
    topic = make_topic()
    _, arn = make_queue()
    sub = subscribe_queue(sns, topic, arn, RawMessageDelivery="true")
    assert subscribe_queue(sns, topic, arn, RawMessageDelivery="true") == sub
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["Protocol"] == "sqs" and attributes["Endpoint"] == arn
    assert attributes["RawMessageDelivery"] == "true" and attributes["PendingConfirmation"] == "false"
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"color": ["red"]}))
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed == [{"SubscriptionArn": sub, "Owner": "000000000000", "Protocol": "sqs", "Endpoint": arn,
                       "TopicArn": topic}]
    assert sub in {s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]}
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "1"
    sns.unsubscribe(SubscriptionArn=sub)
    counts = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert counts["SubscriptionsConfirmed"] == "0" and counts["SubscriptionsDeleted"] == "1"
    with pytest.raises(ClientError) as excinfo:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    assert error_code(excinfo) == "NotFound"


@pytest.mark.parametrize(("protocol", "target", "message"), [
    ("sqs", "not-an-arn", "Invalid parameter: SQS endpoint ARN"),
    ("http", "https://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
    ("email", "nobody", "Invalid parameter: Email address"),
    ("carrier-pigeon", "x", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
])
def test_subscribe_validates_the_endpoint(sns, make_topic, protocol, target, message):
    with pytest.raises(ClientError) as excinfo:
        sns.subscribe(TopicArn=make_topic(), Protocol=protocol, Endpoint=target)
    assert error_code(excinfo) == "InvalidParameter"
    assert error_message(excinfo) == message


def test_bad_filter_policies_are_refused(sns, make_topic, make_queue):
    topic = make_topic()
    _, arn = make_queue()
    with pytest.raises(ClientError) as excinfo:
        subscribe_queue(sns, topic, arn, FilterPolicy=json.dumps({"price": [{"numeric": [">", "x"]}]}))
    assert error_code(excinfo) == "InvalidParameter"
    # Subscribe words attribute errors "Attributes Reason: ..."; SetSubscriptionAttributes does not.
    assert error_message(excinfo).startswith("Invalid parameter: Attributes Reason: FilterPolicy: ")
    sub = subscribe_queue(sns, topic, arn)
    with pytest.raises(ClientError) as excinfo:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue="{not json")
    assert error_message(excinfo).startswith("Invalid parameter: FilterPolicy: ")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]


def test_publish_unhappy_paths(sns, make_topic):
    topic = make_topic()
    fifo = make_topic(fifo=True)

    def fails(code: str, **request) -> str:
        with pytest.raises(ClientError) as excinfo:
            sns.publish(**request)
        assert error_code(excinfo) == code
        return error_message(excinfo)

    assert fails("NotFound", TopicArn=topic + "-missing", Message="m") == "Topic does not exist"
    assert fails("InvalidParameter", TopicArn=fifo, Message="m") == \
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    assert "ContentBasedDeduplication" in fails("InvalidParameter", TopicArn=fifo, Message="m", MessageGroupId="g")
    assert fails("InvalidParameter", TopicArn=topic, Message="x" * 262_145) == "Invalid parameter: Message too long"
    fails("ParameterValueInvalid", TopicArn=topic, Message="m",
          MessageAttributes={"n": {"DataType": "Number", "StringValue": "12abc"}})
    fails("ParameterValueInvalid", TopicArn=topic, Message="m",
          MessageAttributes={"n": {"DataType": "Decimal", "StringValue": "1"}})
    assert fails("InvalidParameter", TopicArn=topic, Message="m", Subject="a\nb") == "Invalid parameter: Subject"
    assert fails("InvalidParameter", TopicArn=topic, Message="{}", MessageStructure="json") == \
        "Invalid parameter: Message Structure - No default entry in JSON message body"
    # A topic whose MaximumMessageSize allows 1 MiB accepts what the default refuses.
    sns.set_topic_attributes(TopicArn=topic, AttributeName="MaximumMessageSize", AttributeValue="1048576")
    assert sns.publish(TopicArn=topic, Message="x" * 262_145)["MessageId"]


def test_publish_batch_request_errors(sns, make_topic):
    topic = make_topic()

    def fails(entries) -> str:
        with pytest.raises(ClientError) as excinfo:
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        return error_code(excinfo)

    assert fails([{"Id": str(i), "Message": "m"} for i in range(11)]) == "TooManyEntriesInBatchRequest"
    assert fails([{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}]) == "BatchEntryIdsNotDistinct"
    assert fails([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "y" * 70_000}]) == \
        "BatchRequestTooLong"
