"""IAM answers checked against the API reference: listing shapes, permissions boundaries,
policy grammar and size quotas.

AWS references: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html and
API_ListUsers.html (listings leave out PermissionsBoundary, RoleLastUsed and Tags),
API_PutRolePermissionsBoundary.html, API_Policy.html (PermissionsBoundaryUsageCount),
API_ListEntitiesForPolicy.html (PolicyUsageFilter: PermissionsPolicy or PermissionsBoundary, all without it),
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (policy sizes,
counted without white space).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.integration.iam.conftest import ALLOW_ALL, TRUST, error_of


def _policy(statement: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _sized(characters: int) -> str:
    """An Allow-all policy of exactly ``characters`` non-blank characters (padded with a Sid)."""
    base = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow", "Action": "*", "Resource": "*"}]},
                      separators=(",", ":"))
    return base.replace('"Sid":""', '"Sid":"' + "x" * (characters - len(base)) + '"')


def test_listings_leave_out_boundary_tags_and_last_used(iam, account):
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    tags = [{"Key": "team", "Value": "core"}]
    created = iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary,
                              Tags=tags, Description="d")["Role"]
    assert created["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                              "PermissionsBoundaryArn": boundary}
    assert created["Tags"] == tags and "RoleLastUsed" not in created
    got = iam.get_role(RoleName="bounded")["Role"]
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert got["Tags"] == tags and got["RoleLastUsed"] == {} and got["MaxSessionDuration"] == 3600
    (listed,) = iam.list_roles()["Roles"]
    assert {"PermissionsBoundary", "Tags", "RoleLastUsed"}.isdisjoint(listed)
    assert listed["Description"] == "d" and listed["MaxSessionDuration"] == 3600
    assert listed["Arn"] == f"arn:aws:iam::{account}:role/bounded"

    iam.create_user(UserName="bounded", PermissionsBoundary=boundary, Tags=tags)
    assert iam.get_user(UserName="bounded")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    (user,) = iam.list_users()["Users"]
    assert {"PermissionsBoundary", "Tags"}.isdisjoint(user) and user["Path"] == "/"
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="bounded")
    (member,) = iam.get_group(GroupName="g")["Users"]
    assert {"PermissionsBoundary", "Tags"}.isdisjoint(member)


def test_put_and_delete_permissions_boundaries(iam, account):
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="u")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="r")["Role"]
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 0

    iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=boundary)
    iam.put_user_permissions_boundary(UserName="u", PermissionsBoundary=boundary)
    assert iam.get_role(RoleName="r")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert iam.get_user(UserName="u")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 2
    (listed,) = iam.list_policies(Scope="Local")["Policies"]
    assert listed["PermissionsBoundaryUsageCount"] == 2 and listed["AttachmentCount"] == 0

    missing = f"arn:aws:iam::{account}:policy/missing"
    with pytest.raises(ClientError) as exc:
        iam.put_role_permissions_boundary(RoleName="r", PermissionsBoundary=missing)
    assert error_of(exc) == ("NoSuchEntity", f"Scope ARN: {missing} does not exist or is not attachable.", 404)
    with pytest.raises(ClientError) as exc:
        iam.put_user_permissions_boundary(UserName="nobody", PermissionsBoundary=boundary)
    assert error_of(exc) == ("NoSuchEntity", "The user with name nobody cannot be found.", 404)

    iam.delete_role_permissions_boundary(RoleName="r")
    iam.delete_user_permissions_boundary(UserName="u")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="r")["Role"]
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    with pytest.raises(ClientError) as exc:
        iam.delete_role_permissions_boundary(RoleName="nobody")
    assert error_of(exc) == ("NoSuchEntity", "The role with name nobody cannot be found.", 404)


def _entities(iam, policy_arn: str, **kwargs) -> dict[str, list[str]]:
    answer = iam.list_entities_for_policy(PolicyArn=policy_arn, **kwargs)
    return {
        "users": sorted(u["UserName"] for u in answer["PolicyUsers"]),
        "roles": sorted(r["RoleName"] for r in answer["PolicyRoles"]),
        "groups": sorted(g["GroupName"] for g in answer["PolicyGroups"]),
    }


def test_list_entities_for_policy_by_usage(iam, account):
    policy = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    iam.create_user(UserName="attached-user")
    iam.attach_user_policy(UserName="attached-user", PolicyArn=policy)
    iam.create_group(GroupName="attached-group")
    iam.attach_group_policy(GroupName="attached-group", PolicyArn=policy)
    iam.create_role(RoleName="bounded-role", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=policy)
    iam.create_user(UserName="bounded-user", Path="/ops/")
    iam.put_user_permissions_boundary(UserName="bounded-user", PermissionsBoundary=policy)
    # Both at once: attached and the boundary.
    iam.create_role(RoleName="both", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=policy)
    iam.attach_role_policy(RoleName="both", PolicyArn=policy)
    iam.create_user(UserName="unrelated")

    assert _entities(iam, policy, PolicyUsageFilter="PermissionsPolicy") == {
        "users": ["attached-user"], "roles": ["both"], "groups": ["attached-group"],
    }
    assert _entities(iam, policy, PolicyUsageFilter="PermissionsBoundary") == {
        "users": ["bounded-user"], "roles": ["both", "bounded-role"], "groups": [],
    }
    # Without the filter, every entity using the policy either way, each once.
    assert _entities(iam, policy) == {
        "users": ["attached-user", "bounded-user"], "roles": ["both", "bounded-role"], "groups": ["attached-group"],
    }
    # With the other filters.
    assert _entities(iam, policy, PolicyUsageFilter="PermissionsBoundary", EntityFilter="User") == {
        "users": ["bounded-user"], "roles": [], "groups": [],
    }
    assert _entities(iam, policy, PolicyUsageFilter="PermissionsBoundary", PathPrefix="/ops/") == {
        "users": ["bounded-user"], "roles": [], "groups": [],
    }
    # Paged: two at a time, every entity exactly once.
    seen, marker = [], None
    while True:
        page = iam.list_entities_for_policy(PolicyArn=policy, MaxItems=2, **({"Marker": marker} if marker else {}))
        seen += [e["UserId"] for e in page["PolicyUsers"]] + [e["RoleId"] for e in page["PolicyRoles"]]
        seen += [e["GroupId"] for e in page["PolicyGroups"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert len(seen) == len(set(seen)) == 5

    # Removing the boundary or detaching takes the entity out of the matching listing.
    iam.delete_role_permissions_boundary(RoleName="both")
    assert _entities(iam, policy, PolicyUsageFilter="PermissionsBoundary")["roles"] == ["bounded-role"]
    assert _entities(iam, policy, PolicyUsageFilter="PermissionsPolicy")["roles"] == ["both"]
    iam.detach_role_policy(RoleName="both", PolicyArn=policy)
    assert _entities(iam, policy)["roles"] == ["bounded-role"]


def test_list_entities_for_an_aws_managed_boundary(iam):
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.create_role(RoleName="read-only", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    assert _entities(iam, boundary, PolicyUsageFilter="PermissionsBoundary")["roles"] == ["read-only"]
    assert _entities(iam, boundary, PolicyUsageFilter="PermissionsPolicy")["roles"] == []


def test_list_entities_for_policy_unhappy(iam, account):
    policy = iam.create_policy(PolicyName="p", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
    missing = f"arn:aws:iam::{account}:policy/missing"
    with pytest.raises(ClientError) as exc:
        iam.list_entities_for_policy(PolicyArn=missing, PolicyUsageFilter="PermissionsBoundary")
    assert error_of(exc) == ("NoSuchEntity", f"Policy {missing} was not found.", 404)
    unchecked = client_for(iam.meta.endpoint_url, "iam", access_key=account, parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        unchecked.list_entities_for_policy(PolicyArn=policy, PolicyUsageFilter="Boundary")
    assert error_of(exc)[0] == "ValidationError"
    assert "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]" in error_of(exc)[1]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": "Allow", "Resource": "*"}, "Policy statement must contain actions."),
        ({"Effect": "Allow", "Action": "s3:*"}, "Policy statement must contain resources."),
        ({"Action": "s3:*", "Resource": "*"}, "Syntax errors in policy."),
    ],
)
def test_identity_policy_statements_need_effect_actions_and_resources(iam, statement, message):
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName="p", PolicyDocument=_policy(statement))
    assert error_of(exc) == ("MalformedPolicyDocument", message, 400)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as exc:
        iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=_policy(statement))
    assert error_of(exc) == ("MalformedPolicyDocument", message, 400)
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_role_policies(RoleName="r")["PolicyNames"] == []


def test_a_trust_policy_names_principals_not_resources(iam):
    no_action = _policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}})
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=no_action)
    assert error_of(exc) == ("MalformedPolicyDocument", "Policy statement must contain actions.", 400)
    assert iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["RoleName"] == "r"


def test_managed_policy_size_quota(iam, account):
    # 6,144 characters without white space: white space is free.
    at_limit = _sized(6144)
    policy = iam.create_policy(PolicyName="big", PolicyDocument=json.dumps(json.loads(at_limit), indent=4))["Policy"]
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName="bigger", PolicyDocument=_sized(6145))
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=_sized(6145))
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == ["big"]
    assert len(iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]) == 1


def test_trust_policy_size_quota(iam):
    statement = json.loads(TRUST)["Statement"][0]
    padded = dict(statement, Sid="x" * 2048)
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=_policy(padded))
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as exc:
        iam.update_assume_role_policy(RoleName="r", PolicyDocument=_policy(padded))
    assert error_of(exc) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409)
    assert iam.get_role(RoleName="r")["Role"]["AssumeRolePolicyDocument"] == json.loads(TRUST)


@pytest.mark.parametrize(("kind", "limit"), [("user", 2048), ("role", 10240), ("group", 5120)])
def test_inline_policies_share_one_size_quota_per_entity(iam, kind, limit):
    name_member = {"user": "UserName", "role": "RoleName", "group": "GroupName"}[kind]
    create = {"user": lambda: iam.create_user(UserName="e"), "group": lambda: iam.create_group(GroupName="e"),
              "role": lambda: iam.create_role(RoleName="e", AssumeRolePolicyDocument=TRUST)}[kind]
    put = getattr(iam, f"put_{kind}_policy")
    create()
    half = limit // 2
    put(**{name_member: "e"}, PolicyName="one", PolicyDocument=_sized(half))
    put(**{name_member: "e"}, PolicyName="two", PolicyDocument=_sized(limit - half))
    # Replacing a policy counts its new size, not both.
    put(**{name_member: "e"}, PolicyName="two", PolicyDocument=_sized(limit - half))
    with pytest.raises(ClientError) as exc:
        put(**{name_member: "e"}, PolicyName="three", PolicyDocument=_sized(100))
    assert error_of(exc) == ("LimitExceeded", f"Maximum policy size of {limit} bytes exceeded for {kind} e", 409)
    names = getattr(iam, f"list_{kind}_policies")(**{name_member: "e"})["PolicyNames"]
    assert sorted(names) == ["one", "two"]


def test_roles_are_paged_with_marker(iam):
    for index in range(5):
        iam.create_role(RoleName=f"role-{index}", AssumeRolePolicyDocument=TRUST)
    first = iam.list_roles(MaxItems=2)
    assert first["IsTruncated"] is True and [r["RoleName"] for r in first["Roles"]] == ["role-0", "role-1"]
    second = iam.list_roles(MaxItems=2, Marker=first["Marker"])
    assert [r["RoleName"] for r in second["Roles"]] == ["role-2", "role-3"]
    last = iam.list_roles(MaxItems=2, Marker=second["Marker"])
    assert [r["RoleName"] for r in last["Roles"]] == ["role-4"]
    assert last["IsTruncated"] is False and "Marker" not in last
    assert [r["RoleName"] for r in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 2})
            .build_full_result()["Roles"]] == [f"role-{i}" for i in range(5)]
