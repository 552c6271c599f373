"""The shared ARN builder and parser (stratus/aws/arns.py) and the internal client's home_of built on it."""

from __future__ import annotations

import pytest

from stratus.aws.arns import Arn, arn, home_of_url, is_account_id, parse_arn, parse_arn_strict, queue_url, root_arn
from stratus.aws.client import home_of


def test_parse_keeps_the_resource_whole_with_its_colons_and_slashes() -> None:
    parsed = parse_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*")
    assert parsed == Arn("aws", "logs", "eu-west-1", "123456789012", "log-group:/aws/lambda/f:*")
    assert parse_arn("arn:aws:events:us-east-1:123456789012:rule/bus/name") == Arn(
        "aws", "events", "us-east-1", "123456789012", "rule/bus/name")


def test_global_and_ownerless_arns_parse_with_empty_region_and_account() -> None:
    assert parse_arn("arn:aws:iam::123456789012:role/path/r") == Arn("aws", "iam", "", "123456789012", "role/path/r")
    assert parse_arn("arn:aws:s3:::bucket") == Arn("aws", "s3", "", "", "bucket")
    assert parse_arn("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q").partition == "aws-us-gov"


@pytest.mark.parametrize("text", [
    "", "queue-name", "arn:aws:sqs:us-east-1:123456789012",  # five parts
    "arn:aws:sqs:us-east-1:123456789012:",  # no resource
    "arn:aws::us-east-1:123456789012:q",  # no service
    "arn::sqs:us-east-1:123456789012:q", "arn:gcp:sqs:us-east-1:123456789012:q",  # no AWS partition
    "urn:aws:sqs:us-east-1:123456789012:q",
])
def test_what_is_not_an_arn_parses_to_none(text: str) -> None:
    assert parse_arn(text) is None
    with pytest.raises(ValueError):
        parse_arn_strict(text)


def test_a_service_filter_refuses_other_services() -> None:
    text = "arn:aws:sns:us-east-1:123456789012:topic"
    assert parse_arn(text, "sns") is not None
    assert parse_arn(text, "sqs") is None
    with pytest.raises(ValueError, match="sqs"):
        parse_arn_strict(text, "sqs")


def test_build_and_parse_round_trip() -> None:
    text = arn("lambda", "us-east-1", "123456789012", "function:f:1")
    assert text == "arn:aws:lambda:us-east-1:123456789012:function:f:1"
    parsed = parse_arn_strict(text)
    assert str(parsed) == text
    assert arn("sqs", "cn-north-1", "123456789012", "q", partition="aws-cn") == "arn:aws-cn:sqs:cn-north-1:123456789012:q"


def test_resource_after_a_kind() -> None:
    bus = parse_arn_strict("arn:aws:events:us-east-1:123456789012:event-bus/b")
    assert bus.resource_after("event-bus/") == "b"
    assert bus.resource_after("rule/") is None


def test_regional_needs_a_region_and_a_twelve_digit_account() -> None:
    assert parse_arn_strict("arn:aws:kms:us-east-1:123456789012:key/k").regional
    assert not parse_arn_strict("arn:aws:kms::123456789012:key/k").regional
    assert not parse_arn_strict("arn:aws:kms:us-east-1:12345:key/k").regional


def test_accounts_roots_and_queue_urls() -> None:
    assert is_account_id("000000000000") and not is_account_id("00000000000") and not is_account_id("AKIA12345678")
    assert root_arn("123456789012") == "arn:aws:iam::123456789012:root"
    assert queue_url("http://localhost:4566", "123456789012", "q") == "http://localhost:4566/123456789012/q"


def test_home_of_url_reads_the_account_and_a_region_in_the_host() -> None:
    assert home_of_url("http://localhost:4566/123456789012/q") == ("123456789012", None)
    assert home_of_url("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == ("123456789012", "eu-west-1")
    assert home_of_url("http://localhost:4566/not-an-account/q") is None


def test_home_of_takes_the_first_arn_or_url_with_an_account() -> None:
    assert home_of({"Name": "x", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:t"}) == ("123456789012", "eu-west-1")
    assert home_of({"QueueUrl": "http://localhost:4566/123456789012/q"}) == ("123456789012", None)
    # Global resources name no region; S3 bucket ARNs name no account and do not count.
    assert home_of({"RoleArn": "arn:aws:iam::123456789012:role/r"}) == ("123456789012", None)
    assert home_of({"Bucket": "arn:aws:s3:::b", "Count": 3}) == (None, None)
