"""Rotation driven by a real rotation function, end to end.

The function follows AWS's rotation templates (Secrets Manager user guide, "Lambda rotation
functions" / "Rotation function template"): four steps, each told the version id in
``ClientRequestToken``; createSecret puts a new value under AWSPENDING, finishSecret moves
AWSCURRENT to it with UpdateSecretVersionStage (which moves AWSPREVIOUS to the old version).
boto3 inside the handler reaches this stratus through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.helpers import error_code, error_message, wait_for
from tests.integration.lambda_.conftest import ROLE, ensure_role, python_zip

# AWS's template, reduced to what a generic secret needs. The new value records the step
# that made it, so a test can tell a rotated value from any other.
ROTATION_FUNCTION = '''
import os
import boto3

def handler(event, context):
    client = boto3.client("secretsmanager")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in stages:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in stages[token]:
        return
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for rotation of secret {arn}.")
    if step == "createSecret":
        current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            if os.environ.get("FAIL_AT") == "createSecret":
                raise RuntimeError("cannot reach the database")
            password = client.get_random_password(PasswordLength=20, ExcludePunctuation=True)["RandomPassword"]
            client.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                    SecretString=f"rotated:{password}:from:{current}", VersionStages=["AWSPENDING"])
    elif step == "setSecret":
        pass  # a real function sets the new password in the database here
    elif step == "testSecret":
        pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
        if os.environ.get("FAIL_AT") == "testSecret" or not pending.startswith("rotated:"):
            raise RuntimeError("the new password does not work")
    elif step == "finishSecret":
        current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
        client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                           MoveToVersionId=token, RemoveFromVersionId=current)
    else:
        raise ValueError(f"Invalid step parameter {step}")
'''


@pytest.fixture
def lam(endpoint: str) -> Any:
    ensure_role(endpoint)  # Lambda refuses an execution role that does not exist in IAM
    return client_for(endpoint, "lambda")


@pytest.fixture
def rotation_function(lam: Any, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create the rotation function (failing at ``fail_at`` when given); answer its ARN."""

    def make(fail_at: str | None = None) -> str:
        name = unique("rotate")
        env = {"Variables": {"FAIL_AT": fail_at}} if fail_at else {}
        arn = lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": python_zip(ROTATION_FUNCTION)}, Timeout=30, Environment=env,
        )["FunctionArn"]
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
        return arn

    return make


def stages(sm: Any, arn: str) -> dict[str, list[str]]:
    return sm.describe_secret(SecretId=arn)["VersionIdsToStages"]


def current_is(sm: Any, arn: str, version_id: str) -> bool:
    return "AWSCURRENT" in stages(sm, arn).get(version_id, [])


def test_rotate_immediately_runs_the_four_steps(sm: Any, make_secret: Any, rotation_function: Any) -> None:
    created = make_secret(SecretString="initial")
    function_arn = rotation_function()
    answer = sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=function_arn,
                              RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=True)
    new_version = answer["VersionId"]
    assert new_version != created["VersionId"]
    assert wait_for(lambda: current_is(sm, created["ARN"], new_version))

    current = sm.get_secret_value(SecretId=created["ARN"])
    assert current["VersionId"] == new_version
    assert current["SecretString"].startswith("rotated:") and current["SecretString"].endswith(":from:initial")
    previous = sm.get_secret_value(SecretId=created["ARN"], VersionStage="AWSPREVIOUS")
    assert previous["VersionId"] == created["VersionId"] and previous["SecretString"] == "initial"
    described = sm.describe_secret(SecretId=created["ARN"])
    assert described["RotationEnabled"] is True and described["RotationLambdaARN"] == function_arn
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert "LastRotatedDate" in described and described["NextRotationDate"] > described["LastRotatedDate"]


def test_failing_rotation_keeps_the_current_value(sm: Any, make_secret: Any, rotation_function: Any, lam: Any) -> None:
    created = make_secret(SecretString="initial")
    function_arn = rotation_function(fail_at="testSecret")
    new_version = sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=function_arn)["VersionId"]
    # createSecret ran (the pending version has a value), testSecret failed: nothing more happens.
    assert wait_for(lambda: _has_value(sm, created["ARN"], new_version))
    _settle_rotation(sm, created["ARN"])

    assert stages(sm, created["ARN"]) == {created["VersionId"]: ["AWSCURRENT"], new_version: ["AWSPENDING"]}
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "initial"
    # The next RotateSecret reattempts the same pending version; with a working function it finishes.
    lam.update_function_configuration(FunctionName=function_arn, Environment={"Variables": {}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_arn, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    assert sm.rotate_secret(SecretId=created["ARN"])["VersionId"] == new_version
    assert wait_for(lambda: current_is(sm, created["ARN"], new_version))
    assert sm.get_secret_value(SecretId=created["ARN"], VersionStage="AWSPREVIOUS")["SecretString"] == "initial"


def test_failing_create_step_leaves_awspending_without_a_value(sm: Any, make_secret: Any, rotation_function: Any) -> None:
    created = make_secret(SecretString="initial")
    new_version = sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=rotation_function(fail_at="createSecret"))["VersionId"]
    _settle_rotation(sm, created["ARN"])
    assert stages(sm, created["ARN"]) == {created["VersionId"]: ["AWSCURRENT"], new_version: ["AWSPENDING"]}
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId=created["ARN"], VersionStage="AWSPENDING")
    assert error_code(exc) == "ResourceNotFoundException"
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "initial"


def test_automatic_rotation_after_days(sm: Any, make_secret: Any, rotation_function: Any, advance_clock: Any) -> None:
    created = make_secret(SecretString="initial")
    sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=rotation_function(),
                     RotationRules={"AutomaticallyAfterDays": 2}, RotateImmediately=False)
    described = sm.describe_secret(SecretId=created["ARN"])
    assert described["RotationEnabled"] is True and "NextRotationDate" in described
    assert stages(sm, created["ARN"]) == {created["VersionId"]: ["AWSCURRENT"]}  # nothing rotated yet

    advance_clock(2 * 86_400 + 60)
    rotated = wait_for(lambda: next((v for v, s in stages(sm, created["ARN"]).items()
                                     if "AWSCURRENT" in s and v != created["VersionId"]), None))
    assert rotated
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"].endswith(":from:initial")
    assert "AWSPREVIOUS" in stages(sm, created["ARN"])[created["VersionId"]]
    # The next automatic rotation is scheduled two days after this one.
    again = sm.describe_secret(SecretId=created["ARN"])
    assert (again["NextRotationDate"] - again["LastRotatedDate"]).total_seconds() == pytest.approx(2 * 86_400, abs=5)
    assert rotated in again["VersionIdsToStages"]


def test_cron_rotation_schedule(sm: Any, make_secret: Any, rotation_function: Any, advance_clock: Any) -> None:
    created = make_secret(SecretString="initial")
    sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=rotation_function(),
                     RotationRules={"ScheduleExpression": "cron(0 16 ? * SUN *)"}, RotateImmediately=False)
    described = sm.describe_secret(SecretId=created["ARN"])
    assert described["RotationRules"]["ScheduleExpression"] == "cron(0 16 ? * SUN *)"
    due = described["NextRotationDate"].astimezone(UTC)
    assert (due.weekday(), due.hour, due.minute) == (6, 16, 0)  # a Sunday, 16:00 UTC

    advance_clock(7 * 86_400 + 60)  # at least one Sunday 16:00 UTC has passed
    assert wait_for(lambda: any("AWSCURRENT" in s and v != created["VersionId"] for v, s in stages(sm, created["ARN"]).items()))
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"].startswith("rotated:")
    after = sm.describe_secret(SecretId=created["ARN"])["NextRotationDate"].astimezone(UTC)
    assert (after.weekday(), after.hour) == (6, 16) and after > due


def test_rotate_with_a_function_that_does_not_exist(sm: Any, make_secret: Any, unique: Any) -> None:
    created = make_secret()
    missing = f"arn:aws:lambda:us-east-1:000000000000:function:{unique('missing')}"
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=missing, RotationRules={"AutomaticallyAfterDays": 30})
    assert error_code(exc) == "AccessDeniedException"
    assert "cannot invoke the specified Lambda function" in error_message(exc)
    described = sm.describe_secret(SecretId=created["ARN"])
    assert "RotationEnabled" not in described and "RotationRules" not in described
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}


def test_rotate_secret_needs_a_function(sm: Any, make_secret: Any) -> None:
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(SecretId=created["ARN"])
    assert error_code(exc) == "InvalidRequestException"


@pytest.mark.parametrize(
    ("rules", "code", "message"),
    [
        # The model's range (1-1000): checked before the operation, as every model constraint.
        ({"AutomaticallyAfterDays": 1001}, "ValidationException",
         "1 validation error detected: Value '1001' at 'rotationRules.automaticallyAfterDays' failed to satisfy "
         "constraint: Member must have value less than or equal to 1000"),
        # Words AWS answers with (terraform-provider-aws issue 33329 quotes them).
        ({"AutomaticallyAfterDays": 2, "ScheduleExpression": "rate(2 days)"}, "InvalidParameterException",
         "You cannot specify both rotation frequency and schedule expression together."),
        # AWS documents no wording for these: the code only.
        ({"ScheduleExpression": "every tuesday"}, "InvalidParameterException", None),
        ({"ScheduleExpression": "rate(1 hours)"}, "InvalidParameterException", None),
        ({"ScheduleExpression": "cron(0 * * * ? *)"}, "InvalidParameterException", None),  # more often than every 4 hours
        ({"ScheduleExpression": "cron(0 16 ? * SUN)"}, "InvalidParameterException", None),  # five fields
    ],
)
def test_rotation_rules_are_validated(sm: Any, make_secret: Any, rotation_function: Any, rules: dict[str, Any],
                                      code: str, message: str | None) -> None:
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.rotate_secret(SecretId=created["ARN"], RotationLambdaARN=rotation_function(), RotationRules=rules)
    assert error_code(exc) == code
    if message is not None:
        assert error_message(exc) == message
    assert "RotationEnabled" not in sm.describe_secret(SecretId=created["ARN"])


def test_cancel_rotation_of_a_secret_without_rotation(sm: Any, make_secret: Any) -> None:
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.cancel_rotate_secret(SecretId=created["ARN"])
    assert error_code(exc) == "InvalidRequestException"


def _has_value(sm: Any, arn: str, version_id: str) -> bool:
    try:
        sm.get_secret_value(SecretId=arn, VersionId=version_id)
    except ClientError:
        return False
    return True


def _settle_rotation(sm: Any, arn: str) -> None:
    """Wait until the failed rotation stopped: a second RotateSecret is refused while one runs."""

    def stopped() -> bool:
        try:
            sm.rotate_secret(SecretId=arn, RotateImmediately=False)
        except ClientError as exc:
            if "isn't complete" in exc.response["Error"]["Message"]:
                return False
            raise
        return True

    assert wait_for(stopped, timeout=30)
