"""SNS's pure rules: retry schedules, message attribute checks, subjects, canonical strings.

Docs: SNS developer guide "Amazon SNS message delivery retries", "Message attributes",
"Verifying the signatures of Amazon SNS messages".
"""

from __future__ import annotations

import pytest

from stratus.aws.errors import AwsError
from stratus.services.sns import model
from stratus.services.sns.signing import canonical_string


def test_default_http_policy_is_three_retries_twenty_seconds_apart():
    policy = model.DEFAULT_HEALTHY_RETRY_POLICY
    assert [model.retry_delay_s(policy, n) for n in (1, 2, 3)] == [20, 20, 20]
    assert model.retry_delay_s(policy, 4) is None


def test_retry_phases_and_backoff_functions():
    policy = {"numRetries": 6, "numNoDelayRetries": 1, "numMinDelayRetries": 1, "numMaxDelayRetries": 1,
              "minDelayTarget": 2, "maxDelayTarget": 32, "backoffFunction": "linear"}
    delays = [model.retry_delay_s(policy, n) for n in range(1, 7)]
    assert delays[0] == 0 and delays[1] == 2 and delays[-1] == 32
    assert delays[2] < delays[3] < delays[4] == 32
    for function in model.BACKOFF_FUNCTIONS:
        curve = [model.retry_delay_s({**policy, "backoffFunction": function}, n) for n in range(3, 6)]
        assert curve == sorted(curve) and curve[-1] == pytest.approx(32), function


def test_managed_endpoints_retry_for_a_long_time():
    assert model.retry_delay_s(model.MANAGED_RETRY_POLICY, 3) == 0
    assert model.retry_delay_s(model.MANAGED_RETRY_POLICY, 100_015) == 20
    assert model.retry_delay_s(model.MANAGED_RETRY_POLICY, 100_016) is None


@pytest.mark.parametrize("attribute", [
    {"DataType": "Number", "StringValue": "1e10"},
    {"DataType": "Number", "StringValue": "one"},
    {"DataType": "Float", "StringValue": "1"},
    {"DataType": "String"},
    {"DataType": "String.Array", "StringValue": "[{}]"},
])
def test_bad_message_attributes(attribute):
    with pytest.raises(AwsError):
        model.check_message_attributes({"a": attribute})


def test_good_message_attributes_are_normalised():
    checked = model.check_message_attributes({
        "n": {"DataType": "Number.int", "StringValue": "-1.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x01"},
        "s": {"DataType": "String.Array", "StringValue": '["a", 1, true, null]'},
    })
    assert checked["b"] == {"DataType": "Binary", "BinaryValue": "AQ=="}
    assert model.message_size("hi", checked) == 2 + len("nNumber.int-1.5") + len("bBinary") + 1 + len(
        's' + 'String.Array' + '["a", 1, true, null]')


@pytest.mark.parametrize("subject", ["", " lead", "a\nb", "x" * 101, "ünïcode"])
def test_bad_subjects(subject):
    with pytest.raises(AwsError):
        model.check_subject(subject)


def test_canonical_strings():
    notification = {"Type": "Notification", "MessageId": "1", "TopicArn": "t", "Message": "m", "Timestamp": "ts"}
    assert canonical_string(notification) == "Message\nm\nMessageId\n1\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"
    confirmation = {"Type": "SubscriptionConfirmation", "MessageId": "1", "Token": "k", "TopicArn": "t",
                    "Message": "m", "SubscribeURL": "u", "Timestamp": "ts"}
    assert canonical_string(confirmation) == (
        "Message\nm\nMessageId\n1\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n")
