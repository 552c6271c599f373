"""STS answers checked against the API reference: PackedPolicySize, and the ValidationError
wording for DurationSeconds and RoleSessionName.

AWS references: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
(PackedPolicySize "when session policies or tags are passed"; DurationSeconds 900..43200 and
the role's MaxSessionDuration; RoleSessionName 2..64 of [\\w+=,.@-]),
API_GetFederationToken.html, and the PackedPolicyTooLarge error.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.integration.iam.conftest import TRUST, error_of

SESSION_POLICY = json.dumps(
    {"Version": "2012-10-17",
     "Statement": [{"Sid": "Stmt1", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
)
TAGS = [{"Key": "Project", "Value": "Unicorn"}, {"Key": "Team", "Value": "Automation"},
        {"Key": "Cost-Center", "Value": "12345"}]


@pytest.fixture
def role_arn(iam, unique) -> str:
    return iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]


def test_packed_policy_size_only_with_session_policies_or_tags(sts, role_arn):
    plain = sts.assume_role(RoleArn=role_arn, RoleSessionName="plain")
    assert "PackedPolicySize" not in plain
    credentials = plain["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert len(credentials["SecretAccessKey"]) == 40 and credentials["SessionToken"]

    with_both = sts.assume_role(RoleArn=role_arn, RoleSessionName="both", Policy=SESSION_POLICY, Tags=TAGS)
    # The API reference's example (this policy and these tags) answers 8.
    assert with_both["PackedPolicySize"] == 8
    tags_only = sts.assume_role(RoleArn=role_arn, RoleSessionName="tags", Tags=TAGS)
    policy_only = sts.assume_role(RoleArn=role_arn, RoleSessionName="policy", Policy=SESSION_POLICY)
    arns_only = sts.assume_role(RoleArn=role_arn, RoleSessionName="arns",
                                PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    for answer in (tags_only, policy_only, arns_only):
        assert 0 < answer["PackedPolicySize"] <= with_both["PackedPolicySize"]


def test_expiration_follows_duration_seconds(sts, role_arn):
    first = sts.assume_role(RoleArn=role_arn, RoleSessionName="default")["Credentials"]["Expiration"]
    shorter = sts.assume_role(RoleArn=role_arn, RoleSessionName="short", DurationSeconds=900)["Credentials"]["Expiration"]
    # Both issued moments apart: one hour by default, fifteen minutes when asked.
    assert timedelta(minutes=44) < first - shorter < timedelta(minutes=46)


def test_packed_policy_too_large(sts, role_arn):
    # Fifty random tags do not compress: far past the packed space.
    tags = [{"Key": f"k{i}-" + secrets.token_hex(40), "Value": secrets.token_hex(120)} for i in range(50)]
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="big", Tags=tags)
    code, message, status = error_of(exc)
    assert (code, status) == ("PackedPolicyTooLarge", 400)
    assert message.startswith("Packed size of session tags consumes ") and message.endswith("% of allotted space.")


def test_get_federation_token_packed_policy_size(sts):
    plain = sts.get_federation_token(Name="dave")
    assert "PackedPolicySize" not in plain
    scoped = sts.get_federation_token(Name="erin", Policy=SESSION_POLICY)
    assert 0 < scoped["PackedPolicySize"] < 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"RoleSessionName": "a"},
         "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: "
         "Member must have length greater than or equal to 2"),
        ({"RoleSessionName": "x" * 65},
         f"1 validation error detected: Value '{'x' * 65}' at 'roleSessionName' failed to satisfy constraint: "
         "Member must have length less than or equal to 64"),
        ({"RoleSessionName": "has space"},
         "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
        ({"RoleSessionName": "ok", "DurationSeconds": 899},
         "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: "
         "Member must have value greater than or equal to 900"),
        ({"RoleSessionName": "ok", "DurationSeconds": 43201},
         "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: "
         "Member must have value less than or equal to 43200"),
        ({"RoleSessionName": "ok", "DurationSeconds": 7200},
         "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
    ],
)
def test_validation_error_wording(sts, role_arn, account, kwargs, message):
    unchecked = client_for(sts.meta.endpoint_url, "sts", access_key=account, parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        unchecked.assume_role(RoleArn=role_arn, **kwargs)
    assert error_of(exc) == ("ValidationError", message, 400)
