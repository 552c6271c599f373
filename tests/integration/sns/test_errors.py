"""The errors SNS answers, with AWS's codes, HTTP statuses and wording, through boto3 on both stores.

The wording follows responses recorded against AWS (ARN checks, Unsubscribe's idempotency,
ConfirmSubscription, message attribute checks, the Subscribe vs SetSubscriptionAttributes
prefixes, FIFO subscription rules) and the API reference (Publish, PublishBatch, TagResource).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, error_message
from tests.integration.sns.conftest import subscribe_queue

_UUID = "8a21d249-4329-4871-acc6-7be709c6ea7f"


def fails(call: Any, **request: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(**request)
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], error_code(excinfo), error_message(excinfo)


def test_topic_arn_checks(sns, make_topic):
    topic = make_topic()
    assert fails(sns.get_topic_attributes, TopicArn="foo") == (
        400, "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
    assert fails(sns.publish, TopicArn="arn:aws:sns", Message="m")[2] == \
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 3"
    assert fails(sns.publish, TopicArn="", Message="m")[2] == \
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"
    assert fails(sns.get_topic_attributes, TopicArn=topic + "-gone") == (404, "NotFound", "Topic does not exist")
    # Another region's topic is an invalid parameter, for every operation (DeleteTopic included).
    elsewhere = topic.replace(":us-east-1:", ":eu-west-1:")
    for call, request in ((sns.get_topic_attributes, {}), (sns.delete_topic, {}),
                          (sns.publish, {"Message": "m"}), (sns.list_subscriptions_by_topic, {}),
                          (sns.set_topic_attributes, {"AttributeName": "DisplayName", "AttributeValue": "x"})):
        assert fails(call, TopicArn=elsewhere, **request) == (400, "InvalidParameter", "Invalid parameter: TopicArn")
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == ""


def test_subscription_arn_checks_and_idempotent_unsubscribe(sns, make_topic, make_queue):
    topic = make_topic()
    _, queue = make_queue()
    sub = subscribe_queue(sns, topic, queue)
    assert fails(sns.unsubscribe, SubscriptionArn="foo")[2] == \
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    assert fails(sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:000000000000")[2] == \
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"
    assert fails(sns.unsubscribe, SubscriptionArn=topic)[2] == "Invalid parameter: SubscriptionId"
    assert fails(sns.unsubscribe, SubscriptionArn="")[2] == \
        "Invalid parameter: SubscriptionArn Reason: no value for required parameter"
    assert fails(sns.get_subscription_attributes, SubscriptionArn=f"{topic}:{_UUID}") == (
        404, "NotFound", "Subscription does not exist")
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # unsubscribing twice succeeds
    sns.unsubscribe(SubscriptionArn=f"{topic}:{_UUID}")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_confirm_subscription_errors(sns, make_topic):
    topic = make_topic()
    assert fails(sns.confirm_subscription, TopicArn=topic, Token="abc") == (
        400, "InvalidParameter", "Invalid parameter: Token")
    assert fails(sns.confirm_subscription, TopicArn=topic + "-gone", Token="abc")[2] == "Invalid parameter: Token"
    assert fails(sns.confirm_subscription, TopicArn="x", Token="abc")[2] == "Invalid parameter: Topic"
    assert fails(sns.confirm_subscription, TopicArn=topic.replace(":us-east-1:", ":eu-west-1:"), Token="abc")[2] \
        == "Invalid parameter: Topic"


def test_subscribe_and_set_attributes_word_errors_differently(sns, make_topic, make_queue):
    topic = make_topic()
    _, queue = make_queue()
    assert fails(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=queue,
                 Attributes={"RawMessageDelivery": "wrongvalue"})[2] == \
        "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false."
    sub = subscribe_queue(sns, topic, queue)

    def set_fails(name: str, value: str) -> str:
        return fails(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName=name,
                     AttributeValue=value)[2]

    assert set_fails("RawMessageDelivery", "test-ValUe") == \
        "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false."
    assert set_fails("RawMessageDelivery", "") == \
        "Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."
    assert set_fails("Fake", "x") == "Invalid parameter: AttributeName"
    assert set_fails("RedrivePolicy", json.dumps({"deadLetterTargetArn": "fake"})) == \
        "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"
    assert set_fails("RedrivePolicy", "{invalid").startswith("Invalid parameter: RedrivePolicy: failed to parse JSON.")
    assert set_fails("FilterPolicy", "{invalid").startswith("Invalid parameter: FilterPolicy: ")
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "false" and "RedrivePolicy" not in attributes


def test_subscribe_endpoint_wording(sns, make_topic):
    topic = make_topic()
    assert fails(sns.subscribe, TopicArn=topic, Protocol="sms", Endpoint="invalid-number") == (
        400, "InvalidParameter", "Invalid SMS endpoint: invalid-number")
    assert fails(sns.subscribe, TopicArn=topic + "-gone", Protocol="sqs",
                 Endpoint="arn:aws:sqs:us-east-1:000000000000:q") == (404, "NotFound", "Topic does not exist")


def test_fifo_subscription_rules(sns, make_topic, make_queue):
    standard, fifo = make_topic(), make_topic(fifo=True)
    _, fifo_queue = make_queue(fifo=True)
    _, queue = make_queue()
    assert fails(sns.subscribe, TopicArn=standard, Protocol="sqs", Endpoint=fifo_queue)[2] == (
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
        "standard SNS topics")
    assert fails(sns.subscribe, TopicArn=fifo, Protocol="sqs", Endpoint=fifo_queue,
                 Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue})})[2] == (
        "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
        "Subscription to a FIFO Topic.")
    # A standard queue may subscribe to a FIFO topic.
    sub = subscribe_queue(sns, fifo, queue)
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false" and attributes["ConfirmationWasAuthenticated"] == "true"
    assert sns.list_subscriptions_by_topic(TopicArn=standard)["Subscriptions"] == []


@pytest.mark.parametrize(("name", "attribute", "message"), [
    ("attr1", {"DataType": "String", "StringValue": ""},
     "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type "
     "'String'."),
    ("attr1", {"DataType": "Binary", "BinaryValue": b""},
     "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type "
     "'Binary'."),
    ("attr1", {"DataType": "String", "BinaryValue": b"x"},
     "The message attribute 'attr1' with type 'String' must use field 'String'."),
    ("attr1", {"DataType": "Number", "BinaryValue": b"x"},
     "The message attribute 'attr1' with type 'Number' must use field 'String'."),
    ("attr1", {"DataType": "Binary", "StringValue": "x"},
     "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."),
    ("attr1", {"DataType": "Int", "StringValue": "1"},
     "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes "
     "is Binary, Number, and String."),
    ("a" * 257, {"DataType": "String", "StringValue": "x"},
     "Length of message attribute name must be less than 256 bytes."),
    ("a^b", {"DataType": "String", "StringValue": "x"},
     "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include "
     "alphanumeric characters, hyphens, underscores, or dots."),
    (".ab", {"DataType": "String", "StringValue": "x"},
     "Invalid message attribute name starting with character '.' was found."),
    ("ab.", {"DataType": "String", "StringValue": "x"},
     "Invalid message attribute name ending with character '.' was found."),
    ("a..b", {"DataType": "String", "StringValue": "x"},
     "Message attribute name can not have successive '.' character."),
])
def test_message_attribute_errors_in_publish_and_publish_batch(sns, make_topic, name, attribute, message):
    topic = make_topic()
    attributes = {name: attribute}
    assert fails(sns.publish, TopicArn=topic, Message="m", MessageAttributes=attributes) == (
        400, "ParameterValueInvalid", message)
    assert fails(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "fine"}, {"Id": "2", "Message": "m", "MessageAttributes": attributes}]) == (
        400, "ParameterValueInvalid", message)


def test_publish_errors(sns, make_topic):
    topic, fifo = make_topic(), make_topic(fifo=True)
    assert fails(sns.publish, TopicArn=topic, Message="") == (
        400, "InvalidParameter", "Invalid parameter: Empty message")
    assert fails(sns.publish, TopicArn=topic, Message="m", Subject="")[2] == "Invalid parameter: Subject"
    assert fails(sns.publish, PhoneNumber="+1a234", Message="m")[2] == \
        "Invalid parameter: PhoneNumber Reason: +1a234 is not valid to publish to"
    assert fails(sns.publish, TargetArn="arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/abc", Message="m") == (
        400, "InvalidParameter", "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified")
    assert fails(sns.publish, TopicArn=topic, Message="m", MessageDeduplicationId="d")[2] == (
        "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
        "that is not valid for this topic type")
    assert fails(sns.publish_batch, TopicArn=fifo, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}])[2] == \
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    assert fails(sns.publish_batch, TopicArn=fifo, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "m", "MessageGroupId": "g"}])[2] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly")
    assert fails(sns.publish_batch, TopicArn=topic + "-gone", PublishBatchRequestEntries=[
        {"Id": "1", "Message": "m"}]) == (404, "NotFound", "Topic does not exist")


def test_publish_batch_size_counts_message_attributes(sns, make_topic):
    # The sum of the bodies and attributes may not exceed the topic's MaximumMessageSize (256 KiB by default).
    topic = make_topic()
    attributes = {"a": {"DataType": "String", "StringValue": "y" * 200}}
    assert fails(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "x" * 262_000, "MessageAttributes": attributes}]) == (
        400, "BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
    assert fails(sns.publish, TopicArn=topic, Message="x" * 262_000, MessageAttributes=attributes)[2] == \
        "Invalid parameter: Message too long"
    assert sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "x" * 262_000}])["Failed"] == []


def test_duplicated_tag_keys(sns, make_topic, unique):
    topic = make_topic()
    duplicated = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    assert fails(sns.tag_resource, ResourceArn=topic, Tags=duplicated) == (
        400, "InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.")
    assert fails(sns.create_topic, Name=unique("t"), Tags=duplicated)[2] == \
        "Invalid parameter: Duplicated keys are not allowed."
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == []


def test_effective_delivery_policy_fills_in_the_defaults(sns, make_topic):
    topic = make_topic()
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1},
                       "disableSubscriptionOverrides": False}}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert json.loads(attributes["DeliveryPolicy"]) == policy
    assert json.loads(attributes["EffectiveDeliveryPolicy"]) == {"http": {
        "defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1,
                                      "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                      "backoffFunction": "linear"},
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}
    assert fails(sns.set_topic_attributes, TopicArn=topic, AttributeName="FifoTopic", AttributeValue="false")[2] \
        == "Invalid parameter: AttributeName"
