"""Key life cycle: CreateKey, DescribeKey, ListKeys, states, scheduled deletion, policies, tags, rotation.

AWS references: API_CreateKey (KeySpec / KeyUsage table), API_ScheduleKeyDeletion (7-30 days),
API_CancelKeyDeletion (the key comes back Disabled), developerguide/key-policy-default.html,
developerguide/rotate-keys.html.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, gone, wait_for


def test_create_and_describe_a_symmetric_key(kms):
    meta = kms.create_key(Description="orders", Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]
    assert meta["KeySpec"] == meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
    assert meta["KeyManager"] == "CUSTOMER" and meta["Origin"] == "AWS_KMS"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:000000000000:key/{meta['KeyId']}"
    assert meta["AWSAccountId"] == "000000000000"
    described = kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]
    assert described["Description"] == "orders"
    assert described["CreationDate"] == meta["CreationDate"]
    assert kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"] == [{"TagKey": "team", "TagValue": "a"}]


@pytest.mark.parametrize(
    ("spec", "usage", "member", "algorithms"),
    [
        ("RSA_3072", "SIGN_VERIFY", "SigningAlgorithms", 6),
        ("RSA_2048", "ENCRYPT_DECRYPT", "EncryptionAlgorithms", 2),
        ("ECC_NIST_P384", "SIGN_VERIFY", "SigningAlgorithms", 1),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", "SigningAlgorithms", 1),
        ("HMAC_256", "GENERATE_VERIFY_MAC", "MacAlgorithms", 1),
    ],
)
def test_asymmetric_and_hmac_key_specs(kms, spec, usage, member, algorithms):
    meta = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"]) == (spec, usage)
    assert len(meta[member]) == algorithms


@pytest.mark.parametrize(
    ("spec", "usage"),
    [("ECC_NIST_P256", "ENCRYPT_DECRYPT"), ("SYMMETRIC_DEFAULT", "SIGN_VERIFY"), ("HMAC_224", "ENCRYPT_DECRYPT")],
)
def test_key_usage_must_suit_the_key_spec(kms, spec, usage):
    with pytest.raises(ClientError) as exc:
        kms.create_key(KeySpec=spec, KeyUsage=usage)
    assert error_code(exc) == "ValidationException"
    assert exc.value.response["Error"]["Message"] == f"KeyUsage {usage} is not compatible with KeySpec {spec}"


def test_bad_policies_and_tags_at_creation(kms):
    with pytest.raises(ClientError) as exc:
        kms.create_key(Policy="{not json")
    assert error_code(exc) == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as exc:
        kms.create_key(Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
    assert error_code(exc) == "TagException"
    with pytest.raises(ClientError) as exc:
        kms.create_key(Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)])
    assert error_code(exc) == "TagException"


def test_multi_region_keys_have_mrk_ids(kms):
    meta = kms.create_key(MultiRegion=True)["KeyMetadata"]
    assert meta["KeyId"].startswith("mrk-") and meta["MultiRegion"] is True
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"p")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"


def test_list_keys_pages_with_limit_and_marker(endpoint):
    from tests.conftest import client_for

    kms = client_for(endpoint, "kms", access_key="222233334444")  # an account of its own
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    seen, marker = [], None
    while True:
        page = kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
        assert len(page["Keys"]) <= 2
        seen += page["Keys"]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert {k["KeyId"] for k in seen} == created
    assert all(k["KeyArn"].endswith(k["KeyId"]) and ":222233334444:" in k["KeyArn"] for k in seen)
    with pytest.raises(ClientError) as exc:
        kms.list_keys(Marker="not-a-marker")
    assert error_code(exc) == "InvalidMarkerException"


def test_update_description_and_enable_disable(kms, make_key):
    key_id = make_key()
    kms.update_key_description(KeyId=key_id, Description="new")
    kms.disable_key(KeyId=key_id)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["Description"], meta["KeyState"], meta["Enabled"]) == ("new", "Disabled", False)
    kms.enable_key(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_schedule_key_deletion_window_limits(kms, raw_kms, make_key):
    key_id = make_key()
    for days in (6, 31):
        with pytest.raises(ClientError) as exc:
            raw_kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)
        assert error_code(exc) == "ValidationException"
    out = kms.schedule_key_deletion(KeyId=key_id)
    assert out["PendingWindowInDays"] == 30 and out["KeyState"] == "PendingDeletion"
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["Enabled"] is False
    # AWS shows PendingDeletionWindowInDays only for a multi-Region primary in PendingReplicaDeletion.
    assert "PendingDeletionWindowInDays" not in meta
    assert meta["DeletionDate"] == out["DeletionDate"]
    for call in (
        lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7),
        lambda: kms.enable_key(KeyId=key_id),
        lambda: kms.disable_key(KeyId=key_id),
        lambda: kms.update_key_description(KeyId=key_id, Description="x"),
        lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "b"}]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "KMSInvalidStateException"


def test_cancel_key_deletion_leaves_the_key_disabled(kms, make_key):
    key_id = make_key()
    with pytest.raises(ClientError) as exc:
        kms.cancel_key_deletion(KeyId=key_id)
    assert error_code(exc) == "KMSInvalidStateException"
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"].endswith(key_id)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "Disabled" and "DeletionDate" not in meta


def test_the_deletion_happens_when_the_window_ends(kms, make_key, unique, advance_clock):
    key_id, kept = make_key(), make_key()
    alias = f"alias/{unique('doomed')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.schedule_key_deletion(KeyId=kept, PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=kept)
    advance_clock(7 * 86400 + 1)
    assert wait_for(lambda: gone(lambda: kms.describe_key(KeyId=key_id), "NotFoundException")), f"{key_id} was not deleted"
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"p")
    assert error_code(exc) == "NotFoundException"
    assert alias not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    assert kms.describe_key(KeyId=kept)["KeyMetadata"]["KeyState"] == "Disabled"


def test_default_key_policy_and_put_key_policy(kms, make_key):
    key_id = make_key()
    policy = json.loads(kms.get_key_policy(KeyId=key_id)["Policy"])
    assert policy["Id"] == "key-default-1"
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::000000000000:root"}
    assert statement["Action"] == "kms:*"
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    new = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]})
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=new)
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == new
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key_id, Policy="[]")
    assert error_code(exc) == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as exc:
        kms.get_key_policy(KeyId=key_id, PolicyName="other")
    assert error_code(exc) == "NotFoundException"


def test_tags(kms, make_key):
    key_id = make_key()
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "3"}])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [
        {"TagKey": "a", "TagValue": "3"},
        {"TagKey": "b", "TagValue": "2"},
    ]
    page = kms.list_resource_tags(KeyId=key_id, Limit=1)
    assert page["Truncated"] and len(page["Tags"]) == 1
    rest = kms.list_resource_tags(KeyId=key_id, Limit=1, Marker=page["NextMarker"])
    assert rest["Tags"] == [{"TagKey": "b", "TagValue": "2"}] and not rest["Truncated"]
    kms.untag_resource(KeyId=key_id, TagKeys=["a", "missing"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "b", "TagValue": "2"}]
    with pytest.raises(ClientError) as exc:
        kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    assert error_code(exc) == "TagException"


def test_rotation_settings(kms, make_key):
    key_id = make_key()
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert "NextRotationDate" in status
    kms.disable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    asymmetric = make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    with pytest.raises(ClientError) as exc:
        kms.enable_key_rotation(KeyId=asymmetric)
    assert error_code(exc) == "UnsupportedOperationException"
    kms.disable_key(KeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.enable_key_rotation(KeyId=key_id)
    assert error_code(exc) == "DisabledException"


def test_on_demand_rotation_keeps_old_ciphertexts_readable(kms, make_key):
    key_id = make_key()
    before = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    old = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=key_id)
    after = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert after != before
    new = kms.encrypt(KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"new"
    (rotation,) = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert rotation["RotationType"] == "ON_DEMAND" and rotation["KeyMaterialId"] == after
    assert "OnDemandRotationStartDate" in kms.get_key_rotation_status(KeyId=key_id)


def test_automatic_rotation_runs_on_the_stratus_clock(kms, make_key, advance_clock):
    key_id = make_key()
    old = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    advance_clock(90 * 86400 + 1)
    rotations = wait_for(lambda: kms.list_key_rotations(KeyId=key_id)["Rotations"])
    assert rotations, "the rotation did not happen"
    (rotation,) = rotations
    assert rotation["RotationType"] == "AUTOMATIC"
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"


def test_aws_managed_keys_are_created_on_first_use(endpoint, unique):
    from tests.conftest import client_for

    kms = client_for(endpoint, "kms", access_key="333344445555")
    blob = kms.encrypt(KeyId="alias/aws/secretsmanager", Plaintext=b"s")["CiphertextBlob"]
    meta = kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert meta["Description"] == "Default key that protects my Secrets Manager data when no other key is defined"
    assert kms.decrypt(CiphertextBlob=blob)["KeyId"] == meta["Arn"]
    # The same key every time, and its alias is listed.
    assert kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]["KeyId"] == meta["KeyId"]
    aliases = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/aws/secretsmanager"]["TargetKeyId"] == meta["KeyId"]
    # AWS rotates its managed keys every year.
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["RotationPeriodInDays"] == 365
    policy = json.loads(kms.get_key_policy(KeyId=meta["KeyId"])["Policy"])
    assert policy["Statement"][0]["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.us-east-1.amazonaws.com"


def test_aws_managed_keys_cannot_be_changed_by_customers(kms, unique):
    key_id = kms.describe_key(KeyId="alias/aws/sqs")["KeyMetadata"]["KeyId"]
    for call in (
        lambda: kms.disable_key(KeyId=key_id),
        lambda: kms.schedule_key_deletion(KeyId="alias/aws/sqs", PendingWindowInDays=7),
        lambda: kms.put_key_policy(KeyId=key_id, Policy='{"Statement": [{}]}'),
        lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "b"}]),
        lambda: kms.create_alias(AliasName=f"alias/{unique('mine')}", TargetKeyId=key_id),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "AccessDeniedException"
        assert "because no resource-based policy allows the kms:" in exc.value.response["Error"]["Message"]
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
