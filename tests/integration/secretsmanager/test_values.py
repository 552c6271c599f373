"""Secret values: versions, staging labels, idempotency tokens, BatchGetSecretValue.

Behaviour as the Secrets Manager API reference describes PutSecretValue, UpdateSecretVersionStage,
GetSecretValue, ListSecretVersionIds and BatchGetSecretValue.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, error_message


def _stages(sm, secret_id: str) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"].items()}


def test_string_and_binary_values_round_trip(sm, make_secret):
    text = make_secret(SecretString='{"token": "xoxb-1"}')
    got = sm.get_secret_value(SecretId=text["ARN"])
    assert got["SecretString"] == '{"token": "xoxb-1"}'
    assert "SecretBinary" not in got
    assert got["VersionId"] == text["VersionId"]
    assert got["VersionStages"] == ["AWSCURRENT"]
    assert got["Name"] == text["Name"] and got["ARN"] == text["ARN"]

    blob = bytes(range(256))
    binary = make_secret(SecretBinary=blob)
    got = sm.get_secret_value(SecretId=binary["Name"])
    assert got["SecretBinary"] == blob
    assert "SecretString" not in got


def test_put_secret_value_moves_current_and_previous(sm, make_secret):
    created = make_secret()
    v1 = created["VersionId"]
    v2 = sm.put_secret_value(SecretId=created["ARN"], SecretString="v2")
    assert v2["VersionStages"] == ["AWSCURRENT"]
    v3 = sm.put_secret_value(SecretId=created["ARN"], SecretBinary=b"v3")["VersionId"]
    assert _stages(sm, created["ARN"]) == {v3: ["AWSCURRENT"], v2["VersionId"]: ["AWSPREVIOUS"]}
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretBinary"] == b"v3"
    assert sm.get_secret_value(SecretId=created["ARN"], VersionStage="AWSPREVIOUS")["SecretString"] == "v2"
    assert sm.get_secret_value(SecretId=created["ARN"], VersionId=v1)["SecretString"] == "v1"
    # v1 has no label left: deprecated, listed only on request.
    listed = sm.list_secret_version_ids(SecretId=created["ARN"])["Versions"]
    assert {v["VersionId"] for v in listed} == {v2["VersionId"], v3}
    everything = sm.list_secret_version_ids(SecretId=created["ARN"], IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in everything} == {v1, v2["VersionId"], v3}
    assert all(v["KmsKeyIds"] for v in everything)
    assert "VersionStages" not in next(v for v in everything if v["VersionId"] == v1)


def test_put_with_custom_stages_leaves_current_alone(sm, make_secret):
    created = make_secret()
    staged = sm.put_secret_value(SecretId=created["ARN"], SecretString="next", VersionStages=["NEXT", "BLUE"])
    assert sorted(staged["VersionStages"]) == ["BLUE", "NEXT"]
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "v1"
    assert sm.get_secret_value(SecretId=created["ARN"], VersionStage="NEXT")["SecretString"] == "next"
    # A label moves: attaching BLUE elsewhere takes it from the version that had it.
    other = sm.put_secret_value(SecretId=created["ARN"], SecretString="other", VersionStages=["BLUE"])
    assert _stages(sm, created["ARN"]) == {
        created["VersionId"]: ["AWSCURRENT"],
        staged["VersionId"]: ["NEXT"],
        other["VersionId"]: ["BLUE"],
    }


def test_first_value_of_an_empty_secret_becomes_current(sm, make_secret):
    created = make_secret(empty=True)
    put = sm.put_secret_value(SecretId=created["ARN"], SecretString="first", VersionStages=["CUSTOM"])
    assert sorted(put["VersionStages"]) == ["AWSCURRENT", "CUSTOM"]
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "first"


def test_client_request_token_idempotency(sm, make_secret, unique):
    token = str(uuid.uuid4())
    created = make_secret()
    first = sm.put_secret_value(SecretId=created["ARN"], SecretString="same", ClientRequestToken=token)
    again = sm.put_secret_value(SecretId=created["ARN"], SecretString="same", ClientRequestToken=token)
    assert first["VersionId"] == again["VersionId"] == token
    with pytest.raises(ClientError) as exc:
        sm.put_secret_value(SecretId=created["ARN"], SecretString="different", ClientRequestToken=token)
    assert error_code(exc) == "ResourceExistsException"
    with pytest.raises(ClientError) as exc:
        sm.put_secret_value(SecretId=created["ARN"], SecretBinary=b"same", ClientRequestToken=token)
    assert error_code(exc) == "ResourceExistsException"
    assert len(sm.list_secret_version_ids(SecretId=created["ARN"], IncludeDeprecated=True)["Versions"]) == 2

    # CreateSecret retried with its token and value answers the same version.
    name, create_token = unique("idem"), str(uuid.uuid4())
    one = sm.create_secret(Name=name, SecretString="x", ClientRequestToken=create_token)
    two = sm.create_secret(Name=name, SecretString="x", ClientRequestToken=create_token)
    assert (two["ARN"], two["VersionId"]) == (one["ARN"], create_token)
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name=name, SecretString="y", ClientRequestToken=create_token)
    assert error_code(exc) == "ResourceExistsException"


def test_put_secret_value_unhappy(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.put_secret_value(SecretId=created["ARN"])
    assert error_code(exc) == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        sm.put_secret_value(SecretId=created["ARN"], SecretString="a", SecretBinary=b"b")
    assert error_code(exc) == "InvalidParameterException"
    assert list(_stages(sm, created["ARN"])) == [created["VersionId"]]


def test_get_secret_value_selectors(sm, make_secret):
    created = make_secret()
    v1 = created["VersionId"]
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId=created["ARN"], VersionId="f" * 32)
    assert error_code(exc) == "ResourceNotFoundException"
    assert error_message(exc) == f"Secrets Manager can't find the specified secret value for VersionId: {'f' * 32}"
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId=created["ARN"], VersionStage="NOPE")
    assert error_message(exc) == "Secrets Manager can't find the specified secret value for staging label: NOPE"
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId=created["ARN"], VersionId=v1, VersionStage="AWSPREVIOUS")
    assert error_code(exc) == "InvalidRequestException"
    assert sm.get_secret_value(SecretId=created["ARN"], VersionId=v1, VersionStage="AWSCURRENT")["SecretString"] == "v1"


def test_last_accessed_date_is_recorded_by_day(sm, make_secret):
    created = make_secret()
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=created["ARN"])
    sm.get_secret_value(SecretId=created["ARN"])
    accessed = sm.describe_secret(SecretId=created["ARN"])["LastAccessedDate"]
    assert (accessed.hour, accessed.minute, accessed.second) == (0, 0, 0)


# --- UpdateSecretVersionStage ----------------------------------------------------------------


def test_move_awscurrent_moves_awsprevious(sm, make_secret):
    created = make_secret()
    v1 = created["VersionId"]
    v2 = sm.put_secret_value(SecretId=created["ARN"], SecretString="v2", VersionStages=["AWSPENDING"])["VersionId"]
    sm.update_secret_version_stage(SecretId=created["ARN"], VersionStage="AWSCURRENT", MoveToVersionId=v2, RemoveFromVersionId=v1)
    assert _stages(sm, created["ARN"]) == {v2: ["AWSCURRENT", "AWSPENDING"], v1: ["AWSPREVIOUS"]}
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "v2"
    # Removing a custom label from a version.
    sm.update_secret_version_stage(SecretId=created["ARN"], VersionStage="AWSPENDING", RemoveFromVersionId=v2)
    assert _stages(sm, created["ARN"]) == {v2: ["AWSCURRENT"], v1: ["AWSPREVIOUS"]}
    # Adding a new label to a version.
    sm.update_secret_version_stage(SecretId=created["ARN"], VersionStage="PINNED", MoveToVersionId=v1)
    assert _stages(sm, created["ARN"]) == {v2: ["AWSCURRENT"], v1: ["AWSPREVIOUS", "PINNED"]}


def test_wrong_stage_moves_are_refused(sm, make_secret):
    created = make_secret()
    v1 = created["VersionId"]
    v2 = sm.put_secret_value(SecretId=created["ARN"], SecretString="v2", VersionStages=["NEXT"])["VersionId"]
    before = _stages(sm, created["ARN"])
    cases = [
        # AWSCURRENT is on v1: moving it needs RemoveFromVersionId=v1.
        {"VersionStage": "AWSCURRENT", "MoveToVersionId": v2},
        # RemoveFromVersionId must be the version that has the label.
        {"VersionStage": "AWSCURRENT", "MoveToVersionId": v2, "RemoveFromVersionId": v2},
        {"VersionStage": "NEXT", "RemoveFromVersionId": v1},
        # Unknown versions.
        {"VersionStage": "NEXT", "MoveToVersionId": "0" * 32},
        {"VersionStage": "X", "RemoveFromVersionId": "0" * 32},
        # AWSCURRENT cannot just be removed.
        {"VersionStage": "AWSCURRENT", "RemoveFromVersionId": v1},
    ]
    for case in cases:
        with pytest.raises(ClientError) as exc:
            sm.update_secret_version_stage(SecretId=created["ARN"], **case)
        assert error_code(exc) == "InvalidParameterException", case
    assert _stages(sm, created["ARN"]) == before


def test_list_secret_version_ids_paginates(sm, make_secret):
    created = make_secret()
    ids = {created["VersionId"]}
    for i in range(4):
        ids.add(sm.put_secret_value(SecretId=created["ARN"], SecretString=f"v{i}", VersionStages=[f"L{i}"])["VersionId"])
    seen: list[str] = []
    kwargs = {"SecretId": created["ARN"], "MaxResults": 2}
    while True:
        page = sm.list_secret_version_ids(**kwargs)
        seen += [v["VersionId"] for v in page["Versions"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert sorted(seen) == sorted(ids)


# --- BatchGetSecretValue ---------------------------------------------------------------------


def test_batch_get_by_ids_reports_errors(sm, make_secret, unique):
    a = make_secret(SecretString="a")
    b = make_secret(SecretBinary=b"b")
    missing = unique("missing")
    answer = sm.batch_get_secret_value(SecretIdList=[a["ARN"], b["Name"], missing])
    values = {v["Name"]: v for v in answer["SecretValues"]}
    assert values[a["Name"]]["SecretString"] == "a"
    assert values[b["Name"]]["SecretBinary"] == b"b"
    assert answer["Errors"] == [
        {"SecretId": missing, "ErrorCode": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}
    ]


def test_batch_get_by_filters_paginates(sm, unique):
    prefix = unique("batch")
    for i in range(3):
        sm.create_secret(Name=f"{prefix}-{i}", SecretString=str(i))
    got: dict[str, str] = {}
    kwargs: dict = {"Filters": [{"Key": "name", "Values": [prefix]}], "MaxResults": 2}
    while True:
        page = sm.batch_get_secret_value(**kwargs)
        got.update({v["Name"]: v["SecretString"] for v in page["SecretValues"]})
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert got == {f"{prefix}-{i}": str(i) for i in range(3)}


def test_batch_get_needs_exactly_one_selector(sm, make_secret):
    created = make_secret()
    for kwargs in ({}, {"SecretIdList": [created["ARN"]], "Filters": [{"Key": "name", "Values": ["x"]}]}, {"SecretIdList": [created["ARN"]], "MaxResults": 5}):
        with pytest.raises(ClientError) as exc:
            sm.batch_get_secret_value(**kwargs)
        assert error_code(exc) == "InvalidParameterException"


# --- customer managed KMS keys ---------------------------------------------------------------


def test_customer_key_encrypts_and_its_state_is_enforced(endpoint, sm, make_secret):
    from tests.conftest import client_for

    kms = client_for(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]
    created = make_secret(KmsKeyId=key["Arn"], SecretString="under my key")
    assert sm.describe_secret(SecretId=created["ARN"])["KmsKeyId"] == key["Arn"]
    (version,) = sm.list_secret_version_ids(SecretId=created["ARN"])["Versions"]
    assert version["KmsKeyIds"] == [key["Arn"]]
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId=created["ARN"])
    assert error_code(exc) == "DecryptionFailure"
    with pytest.raises(ClientError) as exc:
        sm.put_secret_value(SecretId=created["ARN"], SecretString="new")
    assert error_code(exc) == "EncryptionFailure"
    kms.enable_key(KeyId=key["KeyId"])
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "under my key"


def test_unknown_kms_key_is_an_encryption_failure_and_creates_nothing(sm, unique):
    name = unique("badkey")
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name=name, SecretString="x", KmsKeyId="alias/no-such-key")
    assert error_code(exc) == "EncryptionFailure"
    with pytest.raises(ClientError) as exc:
        sm.describe_secret(SecretId=name)
    assert error_code(exc) == "ResourceNotFoundException"


def test_changing_the_key_re_encrypts_labelled_versions(endpoint, sm, make_secret):
    from tests.conftest import client_for

    kms = client_for(endpoint, "kms")
    key = kms.create_key()["KeyMetadata"]
    created = make_secret()
    previous = created["VersionId"]
    sm.put_secret_value(SecretId=created["ARN"], SecretString="v2")
    sm.update_secret(SecretId=created["ARN"], KmsKeyId=key["Arn"])
    described = sm.describe_secret(SecretId=created["ARN"])
    assert described["KmsKeyId"] == key["Arn"]
    versions = sm.list_secret_version_ids(SecretId=created["ARN"])["Versions"]
    assert {k for v in versions for k in v["KmsKeyIds"]} == {key["Arn"]}
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "v2"
    assert sm.get_secret_value(SecretId=created["ARN"], VersionId=previous)["SecretString"] == "v1"
