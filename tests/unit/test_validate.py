"""Server-side input validation and its wording per service flavour.

Wording follows AWS's own messages, e.g. DynamoDB's
"1 validation error detected: Value null at 'tableName' failed to satisfy constraint:
Member must not be null" and SQS's "The request must contain the parameter QueueUrl."
(SQS API reference, Common Errors: MissingParameter).
"""

from datetime import UTC, datetime

import pytest

from stratus.aws.errors import AwsError
from stratus.aws.validate import validate


def _error(service: str, operation: str, params: dict) -> AwsError:
    with pytest.raises(AwsError) as caught:
        validate(service, operation, params)
    return caught.value


def test_valid_input_passes():
    validate("dynamodb", "GetItem", {"TableName": "table", "Key": {"pk": {"S": "a"}}})
    validate("sqs", "SendMessage", {"QueueUrl": "u", "MessageBody": "b", "DelaySeconds": 0})
    validate("events", "PutEvents", {"Entries": [{"Source": "s", "Time": datetime.now(UTC)}]})
    validate("s3", "PutObject", {"Bucket": "b", "Key": "k", "Body": b"x"})


def test_json_service_missing_member_wording():
    err = _error("dynamodb", "GetItem", {"Key": {"pk": {"S": "a"}}})
    assert err.code == "ValidationException"
    assert err.status == 400
    assert err.message == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_json_service_lists_every_violation_with_nested_paths():
    err = _error(
        "dynamodb",
        "CreateTable",
        {"TableName": "t", "AttributeDefinitions": [{"AttributeName": "a"}], "KeySchema": [], "BillingMode": "FREE"},
    )
    assert err.message.startswith("3 validation errors detected: ")
    assert "Value null at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must not be null" in err.message
    assert "Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1" in err.message
    assert "Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]" in err.message


def test_ranges_lengths_and_patterns():
    err = _error("logs", "PutRetentionPolicy", {"logGroupName": "", "retentionInDays": 1})
    assert "Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1" in err.message
    err = _error("logs", "DescribeLogGroups", {"limit": 0})
    assert err.message == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    err = _error("logs", "CreateLogGroup", {"logGroupName": "bad name!"})
    assert "Member must satisfy regular expression pattern: " in err.message


def test_wrong_types_are_reported():
    err = _error("dynamodb", "Scan", {"TableName": "t", "Limit": "ten"})
    assert "Value 'ten' at 'limit' failed to satisfy constraint" in err.message


def test_sqs_missing_parameter_and_invalid_value():
    err = _error("sqs", "SendMessage", {"MessageBody": "b"})
    assert (err.code, err.message) == ("MissingParameter", "The request must contain the parameter QueueUrl.")
    err = _error("sqs", "ReceiveMessage", {"QueueUrl": "u", "MaxNumberOfMessages": "many"})
    assert err.code == "InvalidParameterValue"
    assert err.message.startswith("Value many for parameter MaxNumberOfMessages is invalid.")
    # SQS leaves attribute names to the provider (its own error codes).
    validate("sqs", "GetQueueAttributes", {"QueueUrl": "u", "AttributeNames": ["NotAnAttribute"]})


def test_query_service_uses_validation_error_code():
    err = _error("sns", "CreateTopic", {})
    assert err.code == "ValidationError"
    assert err.message == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    )


def test_recursive_shapes_are_validated_deeply():
    err = _error("dynamodb", "PutItem", {"TableName": "t", "Item": {"a": {"M": {"b": {"L": [{"N": 5}]}}}}})
    assert "at 'item.a.m.b.l.1.member.n'" in err.message


def test_map_keys_are_checked_against_their_shape() -> None:
    # EventBridge's InputPathsMap keys must match [A-Za-z0-9\_\-]+ (InputTransformerPathKey).
    request = {
        "Rule": "r",
        "Targets": [
            {
                "Id": "t",
                "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                "InputTransformer": {"InputPathsMap": {"bad key": "$.detail"}, "InputTemplate": "<x>"},
            }
        ],
    }
    with pytest.raises(AwsError) as info:
        validate("events", "PutTargets", request)
    message = info.value.message
    assert info.value.code == "ValidationException"
    assert "at 'targets.1.member.inputTransformer.inputPathsMap'" in message
    assert "Map keys must satisfy constraint: [Member must satisfy regular expression pattern" in message
    request["Targets"][0]["InputTransformer"]["InputPathsMap"] = {"good_key-1": "$.detail"}
    validate("events", "PutTargets", request)
