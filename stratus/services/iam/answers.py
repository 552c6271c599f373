"""IAM's answers: the User, Role, Group, Policy and InstanceProfile shapes each operation
returns, and IAM's messages for missing, duplicate and still-used entities."""

from __future__ import annotations

import hashlib
from typing import Any

from stratus.services.iam import model
from stratus.services.iam.model import GROUP, INSTANCE_PROFILE, POLICY, ROLE, USER
from stratus.services.iam.store import Entity

NOT_FOUND = {
    USER: "The user with name {} cannot be found.",
    ROLE: "The role with name {} cannot be found.",
    GROUP: "The group with name {} cannot be found.",
    INSTANCE_PROFILE: "Instance Profile {} cannot be found.",
}
EXISTS = {
    USER: "User with name {} already exists.",
    ROLE: "Role with name {} already exists.",
    GROUP: "Group with name {} already exists.",
    POLICY: "A policy called {} already exists. Duplicate names are not allowed.",
    INSTANCE_PROFILE: "Instance Profile {} already exists.",
}
# The request member naming the entity a policy is attached to or embedded in.
NAME_MEMBER = {USER: "UserName", ROLE: "RoleName", GROUP: "GroupName"}
QUOTA_NAME = {USER: "PoliciesPerUser", ROLE: "PoliciesPerRole", GROUP: "PoliciesPerGroup"}

MUST_DETACH = "Cannot delete entity, must detach all policies first."
MUST_DELETE_INLINE = "Cannot delete entity, must delete policies first."
MUST_EMPTY_GROUP = "Cannot delete entity, must remove users from group first."
MUST_EMPTY_PROFILE = "Cannot delete entity, must remove roles from instance profile first."


def aws_managed(name: str) -> Entity:
    """A pseudo-entity for an AWS-managed policy (one version, v1, nothing stored)."""
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return Entity(
        "aws",
        POLICY,
        name,
        "ANPA" + digest[:17],
        model.AWS_MANAGED[name],
        model.aws_managed_arn(name),
        model.AWS_MANAGED_CREATED_MS,
        {"default_version": 1, "updated_ms": model.AWS_MANAGED_CREATED_MS},
    )


def _boundary(entity: Entity, out: dict[str, Any]) -> None:
    if entity.data.get("boundary"):
        out["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": entity.data["boundary"],
        }


# IAM's listing operations (ListUsers, ListRoles, GetGroup's users, an instance profile's
# roles) answer a subset of each entity: no PermissionsBoundary, Tags or RoleLastUsed
# (API reference, ListUsers and ListRoles); the Get* operations answer all of it.


def user_view(user: Entity, *, listing: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user.arn,
        "CreateDate": model.timestamp(user.created_ms),
    }
    if not listing:
        _boundary(user, out)
        if user.tags:
            out["Tags"] = user.tags
    return out


def role_view(role: Entity, *, listing: bool = False, last_used: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.id,
        "Arn": role.arn,
        "CreateDate": model.timestamp(role.created_ms),
        "AssumeRolePolicyDocument": model.encoded(role.data["trust"]),
        "MaxSessionDuration": role.data["max_session"],
    }
    if role.data.get("description") is not None:
        out["Description"] = role.data["description"]
    if listing:
        return out
    _boundary(role, out)
    if role.tags:
        out["Tags"] = role.tags
    if last_used:
        # Sessions do not record their use (a write per request): never used, as IAM answers it.
        out["RoleLastUsed"] = {}
    return out


def group_view(group: Entity) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.id,
        "Arn": group.arn,
        "CreateDate": model.timestamp(group.created_ms),
    }


def policy_view(policy: Entity, attachments: int, boundaries: int, tags: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": f"v{policy.data['default_version']}",
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundaries,
        "IsAttachable": True,
        "CreateDate": model.timestamp(policy.created_ms),
        "UpdateDate": model.timestamp(policy.data["updated_ms"]),
    }
    if policy.data.get("description"):
        out["Description"] = policy.data["description"]
    if tags and policy.tags:
        out["Tags"] = policy.tags
    return out


def instance_profile_view(profile: Entity, roles: list[Entity]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.id,
        "Arn": profile.arn,
        "CreateDate": model.timestamp(profile.created_ms),
        "Roles": [role_view(role, listing=True) for role in roles],
    }
    if profile.tags:
        out["Tags"] = profile.tags
    return out


def version_view(version: int, document: str, created_ms: int, default: int, with_document: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "VersionId": f"v{version}",
        "IsDefaultVersion": version == default,
        "CreateDate": model.timestamp(created_ms),
    }
    if with_document:
        out["Document"] = model.encoded(document)
    return out

