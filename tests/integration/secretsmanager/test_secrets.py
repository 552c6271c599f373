"""Secrets as resources: create, describe, update, ids (names, ARNs, partial ARNs), list, tags, policies, delete."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_code, error_message

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ],
    }
)


def test_create_answers_an_arn_with_a_six_character_suffix(sm, unique):
    name = unique("app/slack/signing")
    created = sm.create_secret(Name=name, SecretString="shh", Description="signing secret")
    assert created["Name"] == name
    assert re.fullmatch(rf"arn:aws:secretsmanager:us-east-1:\d{{12}}:secret:{re.escape(name)}-[A-Za-z0-9]{{6}}", created["ARN"])
    described = sm.describe_secret(SecretId=name)
    assert described["ARN"] == created["ARN"]
    assert described["Description"] == "signing secret"
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert "KmsKeyId" not in described  # the AWS managed key aws/secretsmanager is not reported
    assert "DeletedDate" not in described
    assert described["CreatedDate"] <= described["LastChangedDate"]


def test_secret_without_a_value_has_no_version(sm, make_secret):
    created = make_secret(empty=True)
    assert "VersionId" not in created
    assert sm.describe_secret(SecretId=created["ARN"])["VersionIdsToStages"] == {}
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId=created["ARN"])
    assert error_code(exc) == "ResourceNotFoundException"
    assert error_message(exc) == "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"


def test_create_existing_name_fails(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name=created["Name"], SecretString="other")
    assert error_code(exc) == "ResourceExistsException"
    assert created["Name"] in error_message(exc)


def test_create_with_both_string_and_binary_fails(sm, unique):
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name=unique("both"), SecretString="a", SecretBinary=b"b")
    assert error_code(exc) == "InvalidParameterException"


def test_create_invalid_name_fails(sm):
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name="bad name!", SecretString="x")
    assert error_code(exc) == "ValidationException"


def test_add_replica_regions_is_not_implemented_and_creates_nothing(sm, unique):
    name = unique("replica")
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name=name, SecretString="x", AddReplicaRegions=[{"Region": "eu-west-1"}])
    assert error_code(exc) == "NotImplemented"
    assert "AddReplicaRegions" in error_message(exc)
    with pytest.raises(ClientError) as exc:
        sm.describe_secret(SecretId=name)
    assert error_code(exc) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "operation,extra",
    [
        ("describe_secret", {}),
        ("get_secret_value", {}),
        ("put_secret_value", {"SecretString": "x"}),
        ("update_secret", {"Description": "d"}),
        ("delete_secret", {}),
        ("restore_secret", {}),
        ("tag_resource", {"Tags": [{"Key": "k", "Value": "v"}]}),
        ("untag_resource", {"TagKeys": ["k"]}),
        ("list_secret_version_ids", {}),
        ("get_resource_policy", {}),
        ("put_resource_policy", {"ResourcePolicy": POLICY}),
        ("delete_resource_policy", {}),
        ("update_secret_version_stage", {"VersionStage": "X", "MoveToVersionId": "a" * 32}),
        ("cancel_rotate_secret", {}),
    ],
)
def test_unknown_secret_is_resource_not_found(sm, unique, operation, extra):
    with pytest.raises(ClientError) as exc:
        getattr(sm, operation)(SecretId=unique("missing"), **extra)
    assert error_code(exc) == "ResourceNotFoundException"
    assert error_message(exc) == "Secrets Manager can't find the specified secret."


def test_full_and_partial_arns_find_the_secret(sm, unique):
    # A name that itself ends like a suffix ("-abcdef") is the ambiguous case AWS documents.
    for name in (unique("plain"), unique("tricky") + "-abcdef"):
        created = sm.create_secret(Name=name, SecretString="v")
        partial = created["ARN"][:-7]
        for secret_id in (name, created["ARN"], partial):
            assert sm.describe_secret(SecretId=secret_id)["ARN"] == created["ARN"]
    with pytest.raises(ClientError) as exc:
        sm.describe_secret(SecretId=created["ARN"][:-7] + "-zzzzzz")
    assert error_code(exc) == "ResourceNotFoundException"


def test_secrets_are_partitioned_by_region_and_account(endpoint, sm, make_secret):
    from tests.conftest import client_for

    created = make_secret()
    other_region = client_for(endpoint, "secretsmanager", region="eu-west-1")
    with pytest.raises(ClientError) as exc:
        other_region.describe_secret(SecretId=created["Name"])
    assert error_code(exc) == "ResourceNotFoundException"
    # An ARN names its home Region, whichever Region the client is in.
    assert other_region.describe_secret(SecretId=created["ARN"])["Name"] == created["Name"]


def test_update_description_and_value(sm, make_secret):
    created = make_secret(Description="old")
    answer = sm.update_secret(SecretId=created["ARN"], Description="new")
    assert "VersionId" not in answer
    assert sm.describe_secret(SecretId=created["ARN"])["Description"] == "new"
    answer = sm.update_secret(SecretId=created["ARN"], SecretString="v2")
    assert answer["VersionId"] != created["VersionId"]
    assert sm.get_secret_value(SecretId=created["ARN"])["SecretString"] == "v2"
    stages = sm.describe_secret(SecretId=created["ARN"])["VersionIdsToStages"]
    assert stages == {answer["VersionId"]: ["AWSCURRENT"], created["VersionId"]: ["AWSPREVIOUS"]}


def test_tags(sm, make_secret):
    created = make_secret(Tags=[{"Key": "team", "Value": "a"}])
    sm.tag_resource(SecretId=created["ARN"], Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=created["ARN"])["Tags"]}
    assert tags == {"team": "b", "env": "dev"}
    sm.untag_resource(SecretId=created["ARN"], TagKeys=["team", "absent"])
    assert sm.describe_secret(SecretId=created["ARN"])["Tags"] == [{"Key": "env", "Value": "dev"}]


def test_resource_policy_round_trip(sm, make_secret):
    created = make_secret()
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=created["ARN"])
    answer = sm.put_resource_policy(SecretId=created["ARN"], ResourcePolicy=POLICY)
    assert answer["ARN"] == created["ARN"]
    got = sm.get_resource_policy(SecretId=created["Name"])
    assert json.loads(got["ResourcePolicy"]) == json.loads(POLICY)
    sm.delete_resource_policy(SecretId=created["ARN"])
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=created["ARN"])


def test_malformed_and_public_policies_are_refused(sm, make_secret):
    created = make_secret()
    with pytest.raises(ClientError) as exc:
        sm.put_resource_policy(SecretId=created["ARN"], ResourcePolicy="{not json")
    assert error_code(exc) == "MalformedPolicyDocumentException"
    public = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}]}
    )
    with pytest.raises(ClientError) as exc:
        sm.put_resource_policy(SecretId=created["ARN"], ResourcePolicy=public, BlockPublicPolicy=True)
    assert error_code(exc) == "PublicPolicyException"
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=created["ARN"])


def test_validate_resource_policy(sm, make_secret):
    assert sm.validate_resource_policy(ResourcePolicy=POLICY)["PolicyValidationPassed"] is True
    bad = sm.validate_resource_policy(ResourcePolicy=json.dumps({"Statement": [{"Effect": "Maybe"}]}))
    assert bad["PolicyValidationPassed"] is False
    assert bad["ValidationErrors"]
    with pytest.raises(ClientError) as exc:
        sm.validate_resource_policy(SecretId="no-such-secret-here", ResourcePolicy=POLICY)
    assert error_code(exc) == "ResourceNotFoundException"


# --- ListSecrets ---------------------------------------------------------------------------


def _names(page: dict) -> list[str]:
    return [s["Name"] for s in page["SecretList"]]


def test_list_secrets_filters(sm, unique):
    prefix = unique("lf")
    a = sm.create_secret(Name=f"{prefix}/db/password", SecretString="x", Description="Database creds", Tags=[{"Key": "env", "Value": "prod"}])
    b = sm.create_secret(Name=f"{prefix}/api/token", SecretString="x", Description="api token", Tags=[{"Key": "env", "Value": "dev"}])
    name_filter = {"Key": "name", "Values": [prefix]}

    def listed(*filters: dict) -> set[str]:
        return set(_names(sm.list_secrets(Filters=[name_filter, *filters])))

    assert listed() == {a["Name"], b["Name"]}
    assert listed({"Key": "name", "Values": [f"{prefix}/db"]}) == {a["Name"]}
    assert listed({"Key": "description", "Values": ["database"]}) == {a["Name"]}  # not case-sensitive
    assert listed({"Key": "tag-key", "Values": ["env"]}) == {a["Name"], b["Name"]}
    assert listed({"Key": "tag-value", "Values": ["pro"]}) == {a["Name"]}
    assert listed({"Key": "tag-value", "Values": ["!prod"]}) == {b["Name"]}
    assert listed({"Key": "all", "Values": ["Token"]}) == {b["Name"]}
    assert listed({"Key": "primary-region", "Values": ["us-east-1"]}) == set()  # stratus does not replicate
    assert listed({"Key": "owning-service", "Values": ["rds"]}) == set()


def test_list_secrets_sorts_and_paginates(sm, unique):
    prefix = unique("lp")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        sm.create_secret(Name=name, SecretString="x")
    name_filter = [{"Key": "name", "Values": [prefix]}]
    seen: list[str] = []
    kwargs: dict = {"Filters": name_filter, "MaxResults": 2, "SortBy": "name", "SortOrder": "asc"}
    while True:
        page = sm.list_secrets(**kwargs)
        assert len(page["SecretList"]) <= 2
        seen += _names(page)
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == names
    assert _names(sm.list_secrets(Filters=name_filter, SortBy="name", SortOrder="desc")) == names[::-1]
    entry = sm.list_secrets(Filters=[{"Key": "name", "Values": [names[0]]}])["SecretList"][0]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    with pytest.raises(ClientError) as exc:
        sm.list_secrets(NextToken="!!garbage!!")
    assert error_code(exc) == "InvalidNextTokenException"


# --- GetRandomPassword ---------------------------------------------------------------------


def test_get_random_password(sm):
    default = sm.get_random_password()["RandomPassword"]
    assert len(default) == 32
    assert default != sm.get_random_password()["RandomPassword"]
    digits_only = sm.get_random_password(
        PasswordLength=50, ExcludeLowercase=True, ExcludeUppercase=True, ExcludePunctuation=True
    )["RandomPassword"]
    assert len(digits_only) == 50 and digits_only.isdigit()
    no_vowels = sm.get_random_password(PasswordLength=200, ExcludeCharacters="aeiouAEIOU")["RandomPassword"]
    assert not set(no_vowels) & set("aeiouAEIOU")
    each = sm.get_random_password(PasswordLength=4, IncludeSpace=False, RequireEachIncludedType=True)["RandomPassword"]
    assert any(c.islower() for c in each) and any(c.isupper() for c in each) and any(c.isdigit() for c in each)
    assert any(not c.isalnum() for c in each)
    spaced = sm.get_random_password(PasswordLength=4, IncludeSpace=True, ExcludeLowercase=True, ExcludeUppercase=True,
                                    ExcludeNumbers=True, ExcludePunctuation=True)["RandomPassword"]
    assert spaced == "    "


def test_get_random_password_unhappy(sm):
    with pytest.raises(ClientError) as exc:
        sm.get_random_password(PasswordLength=3, RequireEachIncludedType=True)
    assert error_code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        sm.get_random_password(ExcludeLowercase=True, ExcludeUppercase=True, ExcludeNumbers=True, ExcludePunctuation=True)
    assert error_code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        sm.get_random_password(PasswordLength=5000)
    assert error_code(exc) == "ValidationException"
