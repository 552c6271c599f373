"""IAM resources and STS credentials survive a crash; keys issued on one node work on another."""

from __future__ import annotations

import json

import pytest

from tests.conftest import POSTGRES, client_for
from tests.integration.iam.conftest import ALLOW_ALL, TRUST
from tests.integration.sts.conftest import client_with

pytestmark = pytest.mark.slow
ACCOUNT = "555555555555"


def test_iam_and_sts_state_survive_sigkill(server_factory):
    server = server_factory().start()
    iam = client_for(server.endpoint, "iam", access_key=ACCOUNT)
    user = iam.create_user(UserName="keeper", Tags=[{"Key": "k", "Value": "v"}])["User"]
    key = iam.create_access_key(UserName="keeper")["AccessKey"]
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200)["Role"]
    arn = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_ALL, SetAsDefault=True)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    iam.put_user_policy(UserName="keeper", PolicyName="inline", PolicyDocument=ALLOW_ALL)
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="keeper")
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    credentials = client_for(server.endpoint, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]

    server.kill()
    server.start()
    iam = client_for(server.endpoint, "iam", access_key=ACCOUNT)

    got = iam.get_user(UserName="keeper")["User"]
    assert (got["UserId"], got["Tags"]) == (user["UserId"], [{"Key": "k", "Value": "v"}])
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="keeper")["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    assert iam.get_role(RoleName="r")["Role"]["MaxSessionDuration"] == 7200
    assert iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [{"PolicyName": "p", "PolicyArn": arn}]
    assert iam.list_user_policies(UserName="keeper")["PolicyNames"] == ["inline"]
    assert [u["UserName"] for u in iam.get_group(GroupName="g")["Users"]] == ["keeper"]
    roles = iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"]
    assert [r["RoleName"] for r in roles] == ["r"]

    # Issued keys and temporary credentials still act as who they did.
    identity = client_for(server.endpoint, "sts", access_key=key["AccessKeyId"]).get_caller_identity()
    assert identity["Arn"] == user["Arn"]
    identity = client_with(server.endpoint, "sts", credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s1"


def test_keys_issued_on_one_node_work_on_another_at_once(server_factory, backend):
    if backend != "postgresql" or not POSTGRES:
        pytest.skip("several nodes share state only on PostgreSQL")
    a, b = server_factory().start(), server_factory().start()
    iam_a = client_for(a.endpoint, "iam", access_key=ACCOUNT)
    iam_a.create_user(UserName="roamer")
    key = iam_a.create_access_key(UserName="roamer")["AccessKey"]
    role = iam_a.create_role(RoleName="roaming", AssumeRolePolicyDocument=TRUST)["Role"]
    credentials = client_for(a.endpoint, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    identity = client_for(b.endpoint, "sts", access_key=key["AccessKeyId"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/roamer"
    assert client_with(b.endpoint, "sts", credentials).get_caller_identity()["Account"] == ACCOUNT
