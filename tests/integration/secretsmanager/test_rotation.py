"""Rotation without AWS Lambda: stratus answers a clear error and changes nothing.

The rotation state machine (createSecret/setSecret/testSecret/finishSecret over durable timers)
is exercised end to end with a real rotation function once Lambda exists.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.integration.secretsmanager.conftest import error_code, error_message

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:rotate"


def test_rotate_secret_without_lambda_is_a_clear_error_and_changes_nothing(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=FUNCTION, RotationRules={"AutomaticallyAfterDays": 30})
    assert error_code(exc) == "NotImplemented"
    assert "Lambda" in error_message(exc)
    described = sm.describe_secret(SecretId=created["ARN"])
    assert "RotationEnabled" not in described and "RotationRules" not in described
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}


def test_rotate_secret_needs_a_function(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(SecretId=created["ARN"])
    assert error_code(exc) == "InvalidRequestException"


@pytest.mark.parametrize(
    "rules",
    [
        {"AutomaticallyAfterDays": 1001},
        {"AutomaticallyAfterDays": 2, "ScheduleExpression": "rate(2 days)"},
        {"ScheduleExpression": "every tuesday"},
        {"ScheduleExpression": "rate(1 hours)"},
    ],
)
def test_rotation_rules_are_validated(sm, make_secret, rules):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=FUNCTION, RotationRules=rules)
    assert error_code(exc) in ("InvalidParameterException", "ValidationException")


def test_cancel_rotation_of_a_secret_without_rotation(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.cancel_rotate_secret(SecretId=created["ARN"])
    assert error_code(exc) == "InvalidRequestException"
