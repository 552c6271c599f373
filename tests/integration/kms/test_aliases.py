"""Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and the reserved alias/aws/ prefix.

AWS references: API_CreateAlias, API_UpdateAlias (same key type and usage), developerguide/alias-create.html.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code


def test_create_list_update_delete(kms, make_key, unique):
    first, second = make_key(), make_key()
    name = f"alias/{unique('app')}"
    kms.create_alias(AliasName=name, TargetKeyId=first)
    (entry,) = kms.list_aliases(KeyId=first)["Aliases"]
    assert entry["AliasName"] == name and entry["TargetKeyId"] == first
    assert entry["AliasArn"] == f"arn:aws:kms:us-east-1:000000000000:{name}"
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == first
    kms.update_alias(AliasName=name, TargetKeyId=second)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == second
    assert kms.list_aliases(KeyId=first)["Aliases"] == []
    kms.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=name)
    assert error_code(exc) == "NotFoundException"


def test_alias_names(kms, make_key, unique):
    key_id = make_key()
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=unique("no-prefix"), TargetKeyId=key_id)
    assert error_code(exc) == "InvalidAliasNameException"
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/bad name!", TargetKeyId=key_id)
    assert error_code(exc) == "ValidationException"
    for call in (
        lambda: kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key_id),
        lambda: kms.update_alias(AliasName="alias/aws/ssm", TargetKeyId=key_id),
        lambda: kms.delete_alias(AliasName="alias/aws/ssm"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "NotAuthorizedException"


def test_alias_conflicts_and_missing_targets(kms, make_key, unique):
    key_id = make_key()
    name = f"alias/{unique('dup')}"
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=name, TargetKeyId=make_key())
    assert error_code(exc) == "AlreadyExistsException"
    assert "already exists" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=f"alias/{unique('x')}", TargetKeyId="11111111-2222-3333-4444-555555555555")
    assert error_code(exc) == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=f"alias/{unique('x')}", TargetKeyId=name)  # an alias cannot target an alias
    assert error_code(exc) == "NotFoundException"
    for call in (
        lambda: kms.update_alias(AliasName=f"alias/{unique('missing')}", TargetKeyId=key_id),
        lambda: kms.delete_alias(AliasName=f"alias/{unique('missing')}"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "NotFoundException"


def test_update_alias_needs_the_same_kind_of_key(kms, make_key, unique):
    name = f"alias/{unique('kind')}"
    kms.create_alias(AliasName=name, TargetKeyId=make_key())
    with pytest.raises(ClientError) as exc:
        kms.update_alias(AliasName=name, TargetKeyId=make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"))
    assert error_code(exc) == "ValidationException"


def test_no_alias_for_a_key_pending_deletion(kms, make_key, unique):
    key_id = make_key()
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=f"alias/{unique('late')}", TargetKeyId=key_id)
    assert error_code(exc) == "KMSInvalidStateException"


def test_list_aliases_pages(endpoint):
    from tests.conftest import client_for

    kms = client_for(endpoint, "kms", access_key="444455556666")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    names = [f"alias/page-{i}" for i in range(5)]
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    seen, marker = [], None
    while True:
        page = kms.list_aliases(Limit=2, **({"Marker": marker} if marker else {}))
        seen += [a["AliasName"] for a in page["Aliases"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert seen == names
    with pytest.raises(ClientError) as exc:
        kms.list_aliases(Marker="not-a-marker")
    assert error_code(exc) == "InvalidMarkerException"


def test_aliases_are_per_account_and_region(endpoint, kms, make_key, unique):
    from tests.conftest import client_for

    name = f"alias/{unique('home')}"
    kms.create_alias(AliasName=name, TargetKeyId=make_key())
    for other in (client_for(endpoint, "kms", region="eu-west-1"), client_for(endpoint, "kms", access_key="555566667777")):
        with pytest.raises(ClientError) as exc:
            other.describe_key(KeyId=name)
        assert error_code(exc) == "NotFoundException"
