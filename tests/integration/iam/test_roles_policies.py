"""IAM roles, managed policies with versions, attachments, inline policies and instance profiles.

AWS references: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html,
API_CreatePolicyVersion.html (at most five versions), API_DeletePolicy.html,
API_DeleteRole.html, API_AddRoleToInstanceProfile.html, reference_iam-quotas.html.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.integration.iam.conftest import ALLOW_ALL, TRUST, error_of, new_account

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _doc(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})


# --- roles --------------------------------------------------------------------------------


def test_role_life_cycle(iam, account):
    role = iam.create_role(
        RoleName="fn", Path="/service-role/", AssumeRolePolicyDocument=TRUST, Description="for a function",
        MaxSessionDuration=7200, Tags=[{"Key": "app", "Value": "a"}],
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account}:role/service-role/fn"
    assert role["RoleId"].startswith("AROA")
    # Stored URL-encoded, as IAM answers it: boto3 decodes it back into a dict.
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST)
    got = iam.get_role(RoleName="fn")["Role"]
    assert (got["Description"], got["MaxSessionDuration"], got["Tags"]) == (
        "for a function", 7200, [{"Key": "app", "Value": "a"}],
    )
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=TRUST)
    assert iam.get_role(RoleName="other")["Role"]["MaxSessionDuration"] == 3600
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["fn", "other"]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/service-role/")["Roles"]] == ["fn"]

    iam.update_role(RoleName="fn", Description="changed", MaxSessionDuration=3600)
    assert iam.update_role_description(RoleName="fn", Description="again")["Role"]["Description"] == "again"
    assert iam.get_role(RoleName="fn")["Role"]["MaxSessionDuration"] == 3600
    new_trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]})
    iam.update_assume_role_policy(RoleName="fn", PolicyDocument=new_trust)
    assert iam.get_role(RoleName="fn")["Role"]["AssumeRolePolicyDocument"] == json.loads(new_trust)

    iam.tag_role(RoleName="fn", Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_role(RoleName="fn", TagKeys=["app"])
    assert iam.list_role_tags(RoleName="fn")["Tags"] == [{"Key": "env", "Value": "prod"}]

    iam.delete_role(RoleName="fn")
    with pytest.raises(ClientError) as excinfo:
        iam.get_role(RoleName="fn")
    assert error_of(excinfo) == ("NoSuchEntity", "The role with name fn cannot be found.", 404)


def test_role_errors(iam, endpoint, account):
    iam.create_role(RoleName="dup", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName="Dup", AssumeRolePolicyDocument=TRUST)
    assert error_of(excinfo) == ("EntityAlreadyExists", "Role with name Dup already exists.", 409)
    with pytest.raises(ClientError) as excinfo:
        iam.create_role(RoleName="bad", AssumeRolePolicyDocument="{not json")
    assert error_of(excinfo) == ("MalformedPolicyDocument", "This policy contains invalid Json", 400)
    with pytest.raises(ClientError) as excinfo:
        iam.update_assume_role_policy(RoleName="dup", PolicyDocument="[]")
    assert error_of(excinfo)[0] == "MalformedPolicyDocument"
    raw = client_for(endpoint, "iam", access_key=account, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.create_role(RoleName="long", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=43201)
    assert error_of(excinfo)[0] == "ValidationError"
    with pytest.raises(ClientError) as excinfo:
        iam.update_role(RoleName="missing", Description="x")
    assert error_of(excinfo)[0] == "NoSuchEntity"
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["dup"]


def test_deleting_a_role_needs_it_bare(iam):
    iam.create_role(RoleName="busy", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="busy", PolicyArn=BASIC_EXECUTION)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName="busy")
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
    iam.detach_role_policy(RoleName="busy", PolicyArn=BASIC_EXECUTION)
    iam.put_role_policy(RoleName="busy", PolicyName="inline", PolicyDocument=ALLOW_ALL)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName="busy")
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    iam.delete_role_policy(RoleName="busy", PolicyName="inline")
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="busy")
    with pytest.raises(ClientError) as excinfo:
        iam.delete_role(RoleName="busy")
    assert error_of(excinfo) == (
        "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409,
    )
    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="busy")
    iam.delete_role(RoleName="busy")
    with pytest.raises(ClientError) as excinfo:
        iam.get_role(RoleName="busy")
    assert error_of(excinfo)[0] == "NoSuchEntity"


# --- managed policies ---------------------------------------------------------------------


def test_managed_policy_life_cycle(iam, account):
    policy = iam.create_policy(PolicyName="read", Path="/app/", PolicyDocument=_doc("s3:Get*"), Description="d")["Policy"]
    arn = f"arn:aws:iam::{account}:policy/app/read"
    assert policy["Arn"] == arn and policy["PolicyId"].startswith("ANPA")
    assert (policy["DefaultVersionId"], policy["AttachmentCount"], policy["IsAttachable"]) == ("v1", 0, True)
    with pytest.raises(ClientError) as excinfo:
        iam.create_policy(PolicyName="read", PolicyDocument=_doc("s3:Get*"))
    assert error_of(excinfo) == (
        "EntityAlreadyExists", "A policy called read already exists. Duplicate names are not allowed.", 409,
    )
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "d"
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == json.loads(_doc("s3:Get*")) and version["IsDefaultVersion"]

    local = iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in local] == [arn]
    assert iam.list_policies(Scope="Local", PathPrefix="/other/")["Policies"] == []
    assert iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"] == []
    aws = [p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    assert BASIC_EXECUTION in aws and arn not in aws

    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    assert [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == [arn]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as excinfo:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as excinfo:
        iam.get_policy(PolicyArn=arn)
    assert error_of(excinfo) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


def test_policy_versions(iam, account):
    arn = iam.create_policy(PolicyName="v", PolicyDocument=_doc("a:1"))["Policy"]["Arn"]
    for n in range(2, 6):
        created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc(f"a:{n}"))["PolicyVersion"]
        assert created["VersionId"] == f"v{n}" and not created["IsDefaultVersion"]
    with pytest.raises(ClientError) as excinfo:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc("a:6"))
    assert error_of(excinfo) == (
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing "
        "version.",
        409,
    )
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False] * 4 + [True]

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    with pytest.raises(ClientError) as excinfo:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    with pytest.raises(ClientError) as excinfo:
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    assert error_of(excinfo) == ("NoSuchEntity", f"Policy {arn} version v1 does not exist or is not attachable.", 404)
    with pytest.raises(ClientError) as excinfo:
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v9")
    assert error_of(excinfo)[0] == "NoSuchEntity"
    # Numbers are not reused; SetAsDefault makes the new version the default at once.
    latest = iam.create_policy_version(PolicyArn=arn, PolicyDocument=_doc("a:7"), SetAsDefault=True)["PolicyVersion"]
    assert latest["VersionId"] == "v6" and latest["IsDefaultVersion"]
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v6")["PolicyVersion"]["Document"]["Statement"][0][
        "Action"
    ] == "a:7"

    with pytest.raises(ClientError) as excinfo:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(excinfo)[0] == "DeleteConflict"
    for version in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)
    iam.delete_policy(PolicyArn=arn)


@pytest.mark.parametrize(
    "document",
    ["{not json", "[]", '{"Version": "2099-01-01", "Statement": []}', '{"Version": "2012-10-17"}',
     '{"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}'],
)
def test_malformed_policy_documents(iam, document):
    with pytest.raises(ClientError) as excinfo:
        iam.create_policy(PolicyName="bad", PolicyDocument=document)
    assert error_of(excinfo)[0] == "MalformedPolicyDocument"
    iam.create_user(UserName="u")
    with pytest.raises(ClientError) as excinfo:
        iam.put_user_policy(UserName="u", PolicyName="bad", PolicyDocument=document)
    assert error_of(excinfo)[0] == "MalformedPolicyDocument"
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_policy_tags(iam):
    arn = iam.create_policy(PolicyName="t", PolicyDocument=ALLOW_ALL, Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


# --- attachments --------------------------------------------------------------------------


def test_attach_and_detach_for_users_roles_and_groups(iam, account):
    arn = iam.create_policy(PolicyName="mine", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_group(GroupName="g")
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=BASIC_EXECUTION)
    iam.attach_group_policy(GroupName="g", PolicyArn=ADMIN)
    iam.attach_group_policy(GroupName="g", PolicyArn=ADMIN)  # idempotent

    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == [{"PolicyName": "mine", "PolicyArn": arn}]
    assert sorted(p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]) == [
        "AWSLambdaBasicExecutionRole", "mine",
    ]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="r", PathPrefix="/service-role/")[
        "AttachedPolicies"]] == [BASIC_EXECUTION]
    assert iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"] == [
        {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}
    ]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["u"]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["r"]
    assert entities["PolicyGroups"] == []
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")["PolicyUsers"] == []
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["AttachmentCount"] == 1

    for call, kwargs in (
        (iam.attach_role_policy, {"RoleName": "r"}),
        (iam.attach_user_policy, {"UserName": "u"}),
    ):
        missing = f"arn:aws:iam::{account}:policy/nope"
        with pytest.raises(ClientError) as excinfo:
            call(PolicyArn=missing, **kwargs)
        assert error_of(excinfo) == ("NoSuchEntity", f"Policy {missing} does not exist or is not attachable.", 404)
    with pytest.raises(ClientError) as excinfo:
        iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/NotARealPolicy")
    assert error_of(excinfo)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as excinfo:
        iam.attach_role_policy(RoleName="nobody", PolicyArn=arn)
    assert error_of(excinfo) == ("NoSuchEntity", "The role with name nobody cannot be found.", 404)
    with pytest.raises(ClientError) as excinfo:
        iam.detach_user_policy(UserName="u", PolicyArn=ADMIN)
    assert error_of(excinfo) == ("NoSuchEntity", f"Policy {ADMIN} was not found.", 404)

    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.detach_group_policy(GroupName="g", PolicyArn=ADMIN)
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == []
    assert iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"] == []


def test_a_role_holds_at_most_ten_managed_policies(iam):
    iam.create_role(RoleName="full", AssumeRolePolicyDocument=TRUST)
    for i in range(10):
        arn = iam.create_policy(PolicyName=f"p{i}", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="full", PolicyArn=arn)
    with pytest.raises(ClientError) as excinfo:
        iam.attach_role_policy(RoleName="full", PolicyArn=ADMIN)
    assert error_of(excinfo) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10", 409)


def test_policies_of_another_account_are_not_attachable(endpoint, iam):
    other = client_for(endpoint, "iam", access_key=new_account())
    arn = other.create_policy(PolicyName="theirs", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.create_user(UserName="u")
    with pytest.raises(ClientError) as excinfo:
        iam.attach_user_policy(UserName="u", PolicyArn=arn)
    assert error_of(excinfo)[0] == "NoSuchEntity"


# --- inline policies ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["User", "Role", "Group"])
def test_inline_policies(iam, kind):
    name_key = f"{kind}Name"
    if kind == "User":
        iam.create_user(UserName="e")
    elif kind == "Role":
        iam.create_role(RoleName="e", AssumeRolePolicyDocument=TRUST)
    else:
        iam.create_group(GroupName="e")
    put = getattr(iam, f"put_{kind.lower()}_policy")
    get = getattr(iam, f"get_{kind.lower()}_policy")
    listing = getattr(iam, f"list_{kind.lower()}_policies")
    delete = getattr(iam, f"delete_{kind.lower()}_policy")

    put(**{name_key: "e"}, PolicyName="one", PolicyDocument=_doc("s3:*"))
    put(**{name_key: "e"}, PolicyName="two", PolicyDocument=_doc("sqs:*"))
    put(**{name_key: "e"}, PolicyName="one", PolicyDocument=_doc("sns:*"))  # replaces
    got = get(**{name_key: "e"}, PolicyName="one")
    assert got[name_key] == "e" and got["PolicyName"] == "one"
    assert got["PolicyDocument"] == json.loads(_doc("sns:*"))
    assert sorted(listing(**{name_key: "e"})["PolicyNames"]) == ["one", "two"]
    delete(**{name_key: "e"}, PolicyName="one")
    with pytest.raises(ClientError) as excinfo:
        get(**{name_key: "e"}, PolicyName="one")
    assert error_of(excinfo) == ("NoSuchEntity", f"The {kind.lower()} policy with name one cannot be found.", 404)
    with pytest.raises(ClientError) as excinfo:
        delete(**{name_key: "e"}, PolicyName="one")
    assert error_of(excinfo)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as excinfo:
        put(**{name_key: "missing"}, PolicyName="x", PolicyDocument=ALLOW_ALL)
    assert error_of(excinfo)[0] == "NoSuchEntity"


# --- instance profiles --------------------------------------------------------------------


def test_instance_profiles(iam, account):
    profile = iam.create_instance_profile(InstanceProfileName="web", Path="/app/")["InstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{account}:instance-profile/app/web"
    assert profile["InstanceProfileId"].startswith("AIPA") and profile["Roles"] == []
    with pytest.raises(ClientError) as excinfo:
        iam.create_instance_profile(InstanceProfileName="web")
    assert error_of(excinfo) == ("EntityAlreadyExists", "Instance Profile web already exists.", 409)
    iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="ec2b", AssumeRolePolicyDocument=TRUST)
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2")
    with pytest.raises(ClientError) as excinfo:
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2b")
    assert error_of(excinfo) == ("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", 409)
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["ec2"]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/app/")["InstanceProfiles"]] == [
        "web"
    ]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="ec2")[
        "InstanceProfiles"]] == ["web"]
    with pytest.raises(ClientError) as excinfo:
        iam.delete_instance_profile(InstanceProfileName="web")
    assert error_of(excinfo) == (
        "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.", 409,
    )
    with pytest.raises(ClientError) as excinfo:
        iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2b")
    assert error_of(excinfo)[0] == "NoSuchEntity"
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2")
    iam.delete_instance_profile(InstanceProfileName="web")
    with pytest.raises(ClientError) as excinfo:
        iam.get_instance_profile(InstanceProfileName="web")
    assert error_of(excinfo) == ("NoSuchEntity", "Instance Profile web cannot be found.", 404)


def test_account_summary(iam):
    iam.create_user(UserName="u")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_ALL)
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Roles"], summary["Policies"], summary["Groups"]) == (1, 1, 1, 0)
    assert summary["AccessKeysPerUserQuota"] == 2 and summary["VersionsPerPolicyQuota"] == 5


def test_iam_is_global(endpoint, account):
    east = client_for(endpoint, "iam", access_key=account, region="us-east-1")
    west = client_for(endpoint, "iam", access_key=account, region="eu-west-1")
    east.create_user(UserName="everywhere")
    assert west.get_user(UserName="everywhere")["User"]["UserName"] == "everywhere"


def test_simulate_principal_policy_is_not_implemented(iam, account):
    with pytest.raises(ClientError) as excinfo:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/x", ActionNames=["s3:GetObject"])
    assert error_of(excinfo)[0] == "NotImplemented"
