"""IAM users, access keys and groups. Each test runs in an account of its own.

AWS references: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html,
API_CreateAccessKey.html, API_DeleteUser.html (what must go first), reference_iam-quotas.html.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.integration.iam.conftest import ALLOW_ALL, error_of


def test_user_life_cycle_with_path_and_tags(iam, account):
    user = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::{account}:user/eng/alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["Tags"] == [{"Key": "team", "Value": "core"}]
    got = iam.get_user(UserName="alice")["User"]
    assert (got["UserId"], got["Path"], got["Tags"]) == (user["UserId"], "/eng/", user["Tags"])
    iam.create_user(UserName="bob")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice", "bob"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/eng/")["Users"]] == ["alice"]

    iam.tag_user(UserName="alice", Tags=[{"Key": "team", "Value": "infra"}, {"Key": "x", "Value": "1"}])
    iam.untag_user(UserName="alice", TagKeys=["x"])
    assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "team", "Value": "infra"}]

    iam.update_user(UserName="alice", NewUserName="alicia", NewPath="/ops/")
    renamed = iam.get_user(UserName="alicia")["User"]
    assert renamed["UserId"] == user["UserId"]
    assert renamed["Arn"] == f"arn:aws:iam::{account}:user/ops/alicia"
    with pytest.raises(ClientError) as excinfo:
        iam.get_user(UserName="alice")
    assert error_of(excinfo) == ("NoSuchEntity", "The user with name alice cannot be found.", 404)

    iam.delete_user(UserName="alicia")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["bob"]


def test_user_names_are_unique_ignoring_case(iam):
    iam.create_user(UserName="Carol")
    with pytest.raises(ClientError) as excinfo:
        iam.create_user(UserName="carol")
    assert error_of(excinfo) == ("EntityAlreadyExists", "User with name carol already exists.", 409)
    assert iam.get_user(UserName="CAROL")["User"]["UserName"] == "Carol"
    iam.create_user(UserName="dave")
    with pytest.raises(ClientError) as excinfo:
        iam.update_user(UserName="dave", NewUserName="carol")
    assert error_of(excinfo)[0] == "EntityAlreadyExists"


def test_missing_users(iam):
    for call in (
        lambda: iam.delete_user(UserName="ghost"),
        lambda: iam.update_user(UserName="ghost", NewPath="/x/"),
        lambda: iam.tag_user(UserName="ghost", Tags=[{"Key": "k", "Value": "v"}]),
        lambda: iam.create_access_key(UserName="ghost"),
        lambda: iam.list_access_keys(UserName="ghost"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("NoSuchEntity", "The user with name ghost cannot be found.", 404)


def test_invalid_user_input(iam, endpoint, account):
    raw = client_for(endpoint, "iam", access_key=account, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.create_user(UserName="bad name!")
    assert error_of(excinfo)[0] == "ValidationError"
    with pytest.raises(ClientError) as excinfo:
        raw.create_user(UserName="u", Path="no-slashes")
    assert error_of(excinfo)[0] == "ValidationError"
    with pytest.raises(ClientError) as excinfo:
        iam.create_user(UserName="u", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert error_of(excinfo)[0] == "InvalidInput"
    assert iam.list_users()["Users"] == []


def test_get_user_without_a_name(iam, endpoint, account):
    root = iam.get_user()["User"]
    assert root["Arn"] == f"arn:aws:iam::{account}:root" and root["UserId"] == account
    iam.create_user(UserName="self")
    key = iam.create_access_key(UserName="self")["AccessKey"]
    as_user = client_for(endpoint, "iam", access_key=key["AccessKeyId"])
    assert as_user.get_user()["User"]["UserName"] == "self"
    # The user's own keys, without naming the user.
    assert [k["AccessKeyId"] for k in as_user.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]


def test_users_are_paged(iam):
    for i in range(5):
        iam.create_user(UserName=f"user{i}")
    first = iam.list_users(MaxItems=2)
    assert first["IsTruncated"] and [u["UserName"] for u in first["Users"]] == ["user0", "user1"]
    second = iam.list_users(MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == ["user2", "user3"]
    last = iam.list_users(Marker=second["Marker"])
    assert [u["UserName"] for u in last["Users"]] == ["user4"] and not last["IsTruncated"]
    paged = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
             for u in page["Users"]]
    assert paged == [f"user{i}" for i in range(5)]


# --- access keys --------------------------------------------------------------------------


def test_access_keys(iam, endpoint, account):
    iam.create_user(UserName="k")
    first = iam.create_access_key(UserName="k")["AccessKey"]
    second = iam.create_access_key(UserName="k")["AccessKey"]
    assert first["Status"] == "Active" and first["UserName"] == "k"
    with pytest.raises(ClientError) as excinfo:
        iam.create_access_key(UserName="k")
    assert error_of(excinfo) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = iam.list_access_keys(UserName="k")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first["AccessKeyId"], second["AccessKeyId"]}
    assert all("SecretAccessKey" not in k for k in listed)

    last_used = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert last_used["UserName"] == "k"
    assert last_used["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}

    sts = client_for(endpoint, "sts", access_key=first["AccessKeyId"])
    assert sts.get_caller_identity()["Account"] == account
    iam.update_access_key(UserName="k", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    assert {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="k")["AccessKeyMetadata"]}[
        first["AccessKeyId"]
    ] == "Inactive"
    with pytest.raises(ClientError) as excinfo:
        sts.get_caller_identity()
    assert error_of(excinfo) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    iam.update_access_key(UserName="k", AccessKeyId=first["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Account"] == account

    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="k")
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.delete_access_key(UserName="k", AccessKeyId=first["AccessKeyId"])
    with pytest.raises(ClientError) as excinfo:
        iam.delete_access_key(UserName="k", AccessKeyId=first["AccessKeyId"])
    assert error_of(excinfo) == ("NoSuchEntity", f"The Access Key with id {first['AccessKeyId']} cannot be found.", 404)
    iam.delete_access_key(UserName="k", AccessKeyId=second["AccessKeyId"])
    iam.delete_user(UserName="k")
    with pytest.raises(ClientError) as excinfo:
        iam.get_user(UserName="k")
    assert error_of(excinfo) == ("NoSuchEntity", "The user with name k cannot be found.", 404)


def test_an_access_key_of_another_user_is_not_found(iam):
    iam.create_user(UserName="one")
    iam.create_user(UserName="two")
    key = iam.create_access_key(UserName="one")["AccessKey"]["AccessKeyId"]
    with pytest.raises(ClientError) as excinfo:
        iam.update_access_key(UserName="two", AccessKeyId=key, Status="Inactive")
    assert error_of(excinfo)[0] == "NoSuchEntity"


# --- groups -------------------------------------------------------------------------------


def test_groups_and_membership(iam, account):
    group = iam.create_group(GroupName="admins", Path="/ops/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{account}:group/ops/admins"
    assert group["GroupId"].startswith("AGPA")
    with pytest.raises(ClientError) as excinfo:
        iam.create_group(GroupName="ADMINS")
    assert error_of(excinfo) == ("EntityAlreadyExists", "Group with name ADMINS already exists.", 409)
    iam.create_user(UserName="erin")
    iam.add_user_to_group(GroupName="admins", UserName="erin")
    got = iam.get_group(GroupName="admins")
    assert [u["UserName"] for u in got["Users"]] == ["erin"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="erin")["Groups"]] == ["admins"]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix="/ops/")["Groups"]] == ["admins"]
    assert iam.list_groups(PathPrefix="/dev/")["Groups"] == []

    with pytest.raises(ClientError) as excinfo:
        iam.delete_group(GroupName="admins")
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="erin")
    assert error_of(excinfo)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as excinfo:
        iam.add_user_to_group(GroupName="admins", UserName="nobody")
    assert error_of(excinfo) == ("NoSuchEntity", "The user with name nobody cannot be found.", 404)
    with pytest.raises(ClientError) as excinfo:
        iam.add_user_to_group(GroupName="nothing", UserName="erin")
    assert error_of(excinfo) == ("NoSuchEntity", "The group with name nothing cannot be found.", 404)

    iam.remove_user_from_group(GroupName="admins", UserName="erin")
    with pytest.raises(ClientError) as excinfo:
        iam.remove_user_from_group(GroupName="admins", UserName="erin")
    assert error_of(excinfo)[0] == "NoSuchEntity"
    iam.put_group_policy(GroupName="admins", PolicyName="inline", PolicyDocument=ALLOW_ALL)
    with pytest.raises(ClientError) as excinfo:
        iam.delete_group(GroupName="admins")
    assert error_of(excinfo) == ("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
    iam.delete_group_policy(GroupName="admins", PolicyName="inline")
    iam.delete_group(GroupName="admins")
    iam.delete_user(UserName="erin")
    with pytest.raises(ClientError) as excinfo:
        iam.get_group(GroupName="admins")
    assert error_of(excinfo)[0] == "NoSuchEntity"


def test_a_user_is_in_at_most_ten_groups(iam):
    iam.create_user(UserName="joiner")
    for i in range(10):
        iam.create_group(GroupName=f"g{i}")
        iam.add_user_to_group(GroupName=f"g{i}", UserName="joiner")
    iam.create_group(GroupName="g10")
    with pytest.raises(ClientError) as excinfo:
        iam.add_user_to_group(GroupName="g10", UserName="joiner")
    assert error_of(excinfo) == ("LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10", 409)
