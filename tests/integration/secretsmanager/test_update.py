"""UpdateSecret is one change: description, type, KMS key and a new value land together or not at all.

AWS reference: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecret.html
(a new value creates a version labelled AWSCURRENT; ClientRequestToken makes retries idempotent,
another value under an existing version id is ResourceExistsException; a KMS key that cannot
encrypt is EncryptionFailure).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.helpers import error_code


def _state(sm: Any, secret_id: str) -> dict[str, Any]:
    """What an UpdateSecret could change: metadata, versions and labels, the current value."""
    described = sm.describe_secret(SecretId=secret_id)
    return {
        "description": described.get("Description"),
        "kms_key": described.get("KmsKeyId"),
        "changed": described.get("LastChangedDate"),
        "stages": {k: sorted(v) for k, v in described["VersionIdsToStages"].items()},
        "value": sm.get_secret_value(SecretId=secret_id)["SecretString"],
    }


def test_metadata_key_and_value_in_one_update(endpoint, sm, make_secret):
    kms = client_for(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    created = make_secret(Description="old")
    token = str(uuid.uuid4())
    answer = sm.update_secret(SecretId=created["ARN"], Description="new", KmsKeyId=key, SecretString="v2",
                              ClientRequestToken=token)
    assert (answer["ARN"], answer["VersionId"]) == (created["ARN"], token)
    state = _state(sm, created["ARN"])
    assert (state["description"], state["kms_key"], state["value"]) == ("new", key, "v2")
    assert state["stages"] == {created["VersionId"]: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    # Both versions are under the new key, and both still open.
    versions = sm.list_secret_version_ids(SecretId=created["ARN"])["Versions"]
    assert {k for v in versions for k in v["KmsKeyIds"]} == {key}
    assert sm.get_secret_value(SecretId=created["ARN"], VersionStage="AWSPREVIOUS")["SecretString"] == "v1"


def test_a_version_id_taken_by_another_value_changes_nothing(sm, make_secret):
    created = make_secret(Description="old")
    before = _state(sm, created["ARN"])
    with pytest.raises(ClientError) as exc:
        sm.update_secret(SecretId=created["ARN"], Description="new", SecretString="other",
                         ClientRequestToken=created["VersionId"])
    assert error_code(exc) == "ResourceExistsException"
    assert _state(sm, created["ARN"]) == before


def test_a_key_that_cannot_encrypt_changes_nothing(endpoint, sm, make_secret):
    kms = client_for(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]
    created = make_secret(Description="old", KmsKeyId=key["Arn"])
    before = _state(sm, created["ARN"])
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        sm.update_secret(SecretId=created["ARN"], Description="new", SecretString="v2")
    assert error_code(exc) == "EncryptionFailure"
    kms.enable_key(KeyId=key["KeyId"])
    assert _state(sm, created["ARN"]) == before


def test_moving_to_a_disabled_key_changes_nothing(endpoint, sm, make_secret):
    kms = client_for(endpoint, "kms")
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    created = make_secret(Description="old")
    before = _state(sm, created["ARN"])
    with pytest.raises(ClientError) as exc:
        sm.update_secret(SecretId=created["ARN"], Description="new", KmsKeyId=disabled["Arn"], SecretString="v2")
    assert error_code(exc) == "EncryptionFailure"
    assert _state(sm, created["ARN"]) == before


def test_a_retried_update_adds_one_version(sm, make_secret):
    created = make_secret()
    token = str(uuid.uuid4())
    first = sm.update_secret(SecretId=created["ARN"], Description="d", SecretString="v2", ClientRequestToken=token)
    second = sm.update_secret(SecretId=created["ARN"], Description="d", SecretString="v2", ClientRequestToken=token)
    assert first["VersionId"] == second["VersionId"] == token
    state = _state(sm, created["ARN"])
    assert state["stages"] == {created["VersionId"]: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    assert (state["description"], state["value"]) == ("d", "v2")


def test_update_without_a_value_adds_no_version(sm, make_secret):
    created = make_secret()
    answer = sm.update_secret(SecretId=created["ARN"], Description="only metadata")
    assert "VersionId" not in answer
    state = _state(sm, created["ARN"])
    assert state["stages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert state["description"] == "only metadata"


def test_update_of_a_secret_scheduled_for_deletion_changes_nothing(sm, make_secret):
    created = make_secret(Description="old")
    sm.delete_secret(SecretId=created["ARN"], RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        sm.update_secret(SecretId=created["ARN"], Description="new", SecretString="v2")
    assert error_code(exc) == "InvalidRequestException"
    sm.restore_secret(SecretId=created["ARN"])
    state = _state(sm, created["ARN"])
    assert (state["description"], state["value"]) == ("old", "v1")
