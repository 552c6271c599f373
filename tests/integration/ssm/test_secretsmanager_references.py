"""GetParameter(s) of ``/aws/reference/secretsmanager/<secret>``: Parameter Store reading Secrets Manager.

AWS page: Systems Manager user guide, "Referencing AWS Secrets Manager secrets from Parameter Store
parameters" (WithDecryption required, ``:<version id>`` and ``:<version stage>`` selectors, the
SourceResult and ARN of the secret, no state kept by Parameter Store).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.helpers import error_code, error_message

PREFIX = "/aws/reference/secretsmanager/"


@pytest.fixture
def secret(endpoint: str, unique: Callable[[str], str]) -> dict[str, Any]:
    """A secret with two versions: "v1" (AWSPREVIOUS) and "v2" (AWSCURRENT)."""
    sm = client_for(endpoint, "secretsmanager")
    created = sm.create_secret(Name=unique("ref"), SecretString="v1")
    current = sm.put_secret_value(SecretId=created["ARN"], SecretString="v2")
    return {"sm": sm, "name": created["Name"], "arn": created["ARN"], "v1": created["VersionId"], "v2": current["VersionId"]}


def test_get_parameter_reads_the_current_secret(ssm: Any, secret: dict[str, Any]) -> None:
    parameter = ssm.get_parameter(Name=PREFIX + secret["name"], WithDecryption=True)["Parameter"]
    assert parameter["Name"] == PREFIX + secret["name"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", "v2")
    assert parameter["ARN"] == secret["arn"]
    assert "Selector" not in parameter
    source = json.loads(parameter["SourceResult"])
    assert (source["Name"], source["ARN"], source["VersionId"]) == (secret["name"], secret["arn"], secret["v2"])
    assert (source["SecretString"], source["VersionStages"]) == ("v2", ["AWSCURRENT"])
    assert parameter["LastModifiedDate"].timestamp() == pytest.approx(source["CreatedDate"], abs=0.001)


def test_selectors_name_a_version_stage_or_a_version_id(ssm: Any, secret: dict[str, Any]) -> None:
    by_stage = ssm.get_parameter(Name=f"{PREFIX}{secret['name']}:AWSPREVIOUS", WithDecryption=True)["Parameter"]
    assert (by_stage["Value"], by_stage["Selector"]) == ("v1", ":AWSPREVIOUS")
    assert by_stage["Name"] == PREFIX + secret["name"]
    by_id = ssm.get_parameter(Name=f"{PREFIX}{secret['name']}:{secret['v1']}", WithDecryption=True)["Parameter"]
    assert (by_id["Value"], by_id["Selector"]) == ("v1", f":{secret['v1']}")
    assert json.loads(by_id["SourceResult"])["VersionId"] == secret["v1"]


def test_decryption_is_required_and_missing_secrets_are_not_found(ssm: Any, secret: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=PREFIX + secret["name"])
    assert error_code(exc) == "ValidationException"
    assert error_message(exc) == "WithDecryption flag must be True for retrieving a Secret Manager secret."
    for missing in (f"{PREFIX}{secret['name']}-absent", f"{PREFIX}{secret['name']}:NOSUCHSTAGE"):
        with pytest.raises(ClientError) as exc:
            ssm.get_parameter(Name=missing, WithDecryption=True)
        assert error_code(exc) == "ParameterNotFound"


def test_get_parameters_mixes_references_with_parameters(ssm: Any, root: str, secret: dict[str, Any]) -> None:
    ssm.put_parameter(Name=f"{root}/plain", Value="p", Type="String")
    missing = f"{PREFIX}{secret['name']}-absent"
    answer = ssm.get_parameters(Names=[f"{root}/plain", PREFIX + secret["name"], missing], WithDecryption=True)
    assert {p["Name"]: p["Value"] for p in answer["Parameters"]} == {f"{root}/plain": "p", PREFIX + secret["name"]: "v2"}
    assert answer["InvalidParameters"] == [missing]


def test_a_secret_scheduled_for_deletion_is_not_found(ssm: Any, secret: dict[str, Any]) -> None:
    secret["sm"].delete_secret(SecretId=secret["arn"], RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=PREFIX + secret["name"], WithDecryption=True)
    assert error_code(exc) == "ParameterNotFound"
