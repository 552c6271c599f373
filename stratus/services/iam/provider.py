"""AWS IAM resources: users and their access keys, roles, groups, managed and inline
policies with versions, and instance profiles. Nothing is enforced yet (the IAM
enforcement issue evaluates these documents); what is stored is what IAM would store.

IAM is global: everything belongs to the caller's account, whatever the region. Access
keys issued here work against stratus at once, on every node: the identity lookup
registered at start reads the key's owner from the store.
"""

from __future__ import annotations

import hashlib
from typing import Any

from stratus.aws.api import iam as api
from stratus.aws.api.iam import (
    DeleteConflictException,
    EntityAlreadyExistsException,
    IamApi,
    LimitExceededException,
    NoSuchEntityException,
)
from stratus.aws.arns import root_arn
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, InvalidClientTokenId
from stratus.aws.identity import Identity
from stratus.services.iam import model
from stratus.services.iam import store as db
from stratus.services.iam.model import GROUP, INSTANCE_PROFILE, POLICY, ROLE, USER
from stratus.services.iam.store import Entity
from stratus.store import load_migrations
from stratus.store.base import Tx

_NOT_FOUND = {
    USER: "The user with name {} cannot be found.",
    ROLE: "The role with name {} cannot be found.",
    GROUP: "The group with name {} cannot be found.",
    INSTANCE_PROFILE: "Instance Profile {} cannot be found.",
}
_EXISTS = {
    USER: "User with name {} already exists.",
    ROLE: "Role with name {} already exists.",
    GROUP: "Group with name {} already exists.",
    POLICY: "A policy called {} already exists. Duplicate names are not allowed.",
    INSTANCE_PROFILE: "Instance Profile {} already exists.",
}
# The request member naming the entity a policy is attached to or embedded in.
_NAME_MEMBER = {USER: "UserName", ROLE: "RoleName", GROUP: "GroupName"}
_QUOTA_NAME = {USER: "PoliciesPerUser", ROLE: "PoliciesPerRole", GROUP: "PoliciesPerGroup"}

_MUST_DETACH = "Cannot delete entity, must detach all policies first."
_MUST_DELETE_INLINE = "Cannot delete entity, must delete policies first."
_MUST_EMPTY_GROUP = "Cannot delete entity, must remove users from group first."
_MUST_EMPTY_PROFILE = "Cannot delete entity, must remove roles from instance profile first."


def _validation(message: str) -> AwsError:
    return AwsError(message, code="ValidationError")


def _not_attachable(policy_arn: str) -> NoSuchEntityException:
    return NoSuchEntityException(f"Policy {policy_arn} does not exist or is not attachable.")


def _version_number(version_id: str) -> int:
    return int(version_id[1:].split(".", 1)[0])


def _aws_managed(name: str) -> Entity:
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


# --- answers ---------------------------------------------------------------------------


def _boundary(entity: Entity, out: dict[str, Any]) -> None:
    if entity.data.get("boundary"):
        out["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": entity.data["boundary"],
        }


def _user(user: Entity, tags: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user.arn,
        "CreateDate": model.timestamp(user.created_ms),
    }
    _boundary(user, out)
    if tags and user.tags:
        out["Tags"] = user.tags
    return out


def _role(role: Entity, full: bool = True) -> dict[str, Any]:
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
    _boundary(role, out)
    if full:
        if role.tags:
            out["Tags"] = role.tags
        out["RoleLastUsed"] = {}
    return out


def _group(group: Entity) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.id,
        "Arn": group.arn,
        "CreateDate": model.timestamp(group.created_ms),
    }


def _policy(policy: Entity, attachments: int, tags: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": policy.id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": f"v{policy.data['default_version']}",
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": model.timestamp(policy.created_ms),
        "UpdateDate": model.timestamp(policy.data["updated_ms"]),
    }
    if policy.data.get("description"):
        out["Description"] = policy.data["description"]
    if tags and policy.tags:
        out["Tags"] = policy.tags
    return out


def _instance_profile(profile: Entity, roles: list[Entity]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": profile.path,
        "InstanceProfileName": profile.name,
        "InstanceProfileId": profile.id,
        "Arn": profile.arn,
        "CreateDate": model.timestamp(profile.created_ms),
        "Roles": [_role(role, full=False) for role in roles],
    }
    if profile.tags:
        out["Tags"] = profile.tags
    return out


def _version(version: int, document: str, created_ms: int, default: int, with_document: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "VersionId": f"v{version}",
        "IsDefaultVersion": version == default,
        "CreateDate": model.timestamp(created_ms),
    }
    if with_document:
        out["Document"] = model.encoded(document)
    return out


class IamProvider(IamApi):
    async def start(self) -> None:
        await self.store.migrate("iam", load_migrations("stratus.services.iam"))
        self.node.identities.register(self._lookup_key)

    async def _lookup_key(self, access_key: str) -> Identity | None:
        if not access_key.startswith(model.ACCESS_KEY_PREFIX):
            return None
        async with self.store.transaction() as tx:
            owner = await db.key_owner(tx, access_key)
        if owner is None:
            return None
        if owner.status != "Active":
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        return Identity(owner.account, owner.user_arn, user_id=owner.user_id)

    # --- helpers ----------------------------------------------------------------------------

    async def _require(self, tx: Tx, account: str, kind: str, name: str) -> Entity:
        entity = await db.get_entity(tx, account, kind, name)
        if entity is None:
            raise NoSuchEntityException(_NOT_FOUND[kind].format(name))
        return entity

    async def _create(self, tx: Tx, entity: Entity) -> None:
        if not await db.insert_entity(tx, entity):
            raise EntityAlreadyExistsException(_EXISTS[entity.kind].format(entity.name))

    def _new(self, ctx: RequestContext, kind: str, name: str, path: str | None, data: dict[str, Any]) -> Entity:
        path = path or "/"
        return Entity(
            ctx.account, kind, name, model.new_id(kind), path, model.arn(ctx.account, kind, path, name),
            self.clock.now_ms(), data,
        )

    async def _policy_by_arn(self, tx: Tx, ctx: RequestContext, policy_arn: str, *, attaching: bool) -> Entity:
        """The customer-managed policy of this account, or an AWS-managed one stratus knows."""
        aws_name = model.aws_managed_name(policy_arn)
        if aws_name is not None:
            return _aws_managed(aws_name)
        policy = None
        if model.policy_account(policy_arn) == ctx.account:
            policy = await db.get_entity(tx, ctx.account, POLICY, policy_arn.rsplit("/", 1)[1])
        if policy is None or policy.arn != policy_arn:
            if attaching:
                raise _not_attachable(policy_arn)
            raise NoSuchEntityException(f"Policy {policy_arn} was not found.")
        return policy

    async def _customer_policy(self, tx: Tx, ctx: RequestContext, policy_arn: str) -> Entity:
        policy = await self._policy_by_arn(tx, ctx, policy_arn, attaching=False)
        if policy.account == "aws":
            raise _validation(f"The policy {policy_arn} is an AWS managed policy and cannot be changed.")
        return policy

    async def _boundary_arn(self, tx: Tx, ctx: RequestContext, policy_arn: str | None) -> str | None:
        if policy_arn is None:
            return None
        try:
            await self._policy_by_arn(tx, ctx, policy_arn, attaching=True)
        except NoSuchEntityException:
            raise NoSuchEntityException(f"Scope ARN: {policy_arn} does not exist or is not attachable.") from None
        return policy_arn

    def _caller_user(self, ctx: RequestContext) -> str:
        """The calling IAM user's name, for operations whose UserName defaults to the caller."""
        arn = ctx.principal_arn or ""
        if f":{ctx.account}:user/" not in arn:
            raise _validation("Must specify userName when calling with non-User credentials")
        return arn.rsplit("/", 1)[1]

    @staticmethod
    def _page(items: list[Any], sort_key: Any, request: Any, key: str) -> dict[str, Any]:
        page = model.paginate(items, sort_key, request.get("Marker"), request.get("MaxItems"))
        return page.result(key)

    async def _tag(self, ctx: RequestContext, kind: str, name: str, tags: list[dict[str, str]]) -> None:
        model.check_unique_tag_keys(tags)
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, name)
            entity.data["tags"] = model.merge_tags(entity.tags, tags)
            await db.update_entity(tx, entity)

    async def _untag(self, ctx: RequestContext, kind: str, name: str, keys: list[str]) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, name)
            entity.data["tags"] = model.without_tags(entity.tags, keys)
            await db.update_entity(tx, entity)

    async def _list_tags(self, ctx: RequestContext, kind: str, name: str, request: Any) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, name)
        return self._page(entity.tags, lambda tag: tag["Key"], request, "Tags")

    # --- users ------------------------------------------------------------------------------

    async def create_user(self, ctx: RequestContext, request: api.CreateUserRequest) -> api.CreateUserResponse:
        tags = list(request.get("Tags") or [])
        model.check_unique_tag_keys(tags)
        async with self.store.transaction() as tx:
            boundary = await self._boundary_arn(tx, ctx, request.get("PermissionsBoundary"))
            user = self._new(ctx, USER, request["UserName"], request.get("Path"), {"tags": tags, "boundary": boundary})
            await self._create(tx, user)
        return {"User": _user(user)}

    async def get_user(self, ctx: RequestContext, request: api.GetUserRequest) -> api.GetUserResponse:
        name = request.get("UserName")
        if name is None and ctx.principal_arn == root_arn(ctx.account):
            # The root user has no IAM user entity: IAM answers its account and ARN.
            root = {"Path": "/", "UserId": ctx.account, "Arn": ctx.principal_arn, "CreateDate": model.timestamp(0)}
            return {"User": root}  # type: ignore[typeddict-item]
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, name or self._caller_user(ctx))
        return {"User": _user(user)}

    async def list_users(self, ctx: RequestContext, request: api.ListUsersRequest) -> api.ListUsersResponse:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            users = [u for u in await db.list_entities(tx, ctx.account, USER) if u.path.startswith(prefix)]
        result = self._page(users, lambda u: u.name.lower(), request, "Users")
        result["Users"] = [_user(u, tags=False) for u in result["Users"]]
        return result  # type: ignore[return-value]

    async def update_user(self, ctx: RequestContext, request: api.UpdateUserRequest) -> None:
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            new_name = request.get("NewUserName") or user.name
            if new_name.lower() != user.name.lower() and await db.get_entity(tx, ctx.account, USER, new_name):
                raise EntityAlreadyExistsException(_EXISTS[USER].format(new_name))
            user.name = new_name
            user.path = request.get("NewPath") or user.path
            user.arn = model.arn(ctx.account, USER, user.path, user.name)
            await db.update_entity(tx, user)
            keys = await db.keys_of(tx, user.id)
        # Cached identities carry the old ARN.
        for key in keys:
            self.node.identities.forget(key.key_id)

    async def delete_user(self, ctx: RequestContext, request: api.DeleteUserRequest) -> None:
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            if await db.keys_of(tx, user.id):
                raise DeleteConflictException("Cannot delete entity, must delete access keys first.")
            await self._check_no_policies(tx, user)
            if await db.groups_of(tx, user.id):
                raise DeleteConflictException(_MUST_EMPTY_GROUP)
            await db.delete_entity(tx, user)

    async def _check_no_policies(self, tx: Tx, entity: Entity) -> None:
        if await db.inline_names(tx, entity.id):
            raise DeleteConflictException(_MUST_DELETE_INLINE)
        if await db.attached_to(tx, entity.id):
            raise DeleteConflictException(_MUST_DETACH)

    async def tag_user(self, ctx: RequestContext, request: api.TagUserRequest) -> None:
        await self._tag(ctx, USER, request["UserName"], request["Tags"])

    async def untag_user(self, ctx: RequestContext, request: api.UntagUserRequest) -> None:
        await self._untag(ctx, USER, request["UserName"], request["TagKeys"])

    async def list_user_tags(self, ctx: RequestContext, request: api.ListUserTagsRequest) -> api.ListUserTagsResponse:
        return await self._list_tags(ctx, USER, request["UserName"], request)  # type: ignore[return-value]

    # --- access keys ------------------------------------------------------------------------

    async def create_access_key(
        self, ctx: RequestContext, request: api.CreateAccessKeyRequest
    ) -> api.CreateAccessKeyResponse:
        name = request.get("UserName") or self._caller_user(ctx)
        key_id, secret = model.new_access_key()
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, name)
            if len(await db.keys_of(tx, user.id)) >= model.ACCESS_KEYS_PER_USER:
                raise LimitExceededException(f"Cannot exceed quota for AccessKeysPerUser: {model.ACCESS_KEYS_PER_USER}")
            await db.insert_key(tx, db.AccessKey(key_id, user.id, secret, "Active", now))
        return {
            "AccessKey": {
                "UserName": user.name,
                "AccessKeyId": key_id,
                "Status": "Active",
                "SecretAccessKey": secret,
                "CreateDate": model.timestamp(now),
            }
        }

    async def _user_key(self, tx: Tx, ctx: RequestContext, name: str, key_id: str) -> tuple[Entity, db.AccessKey]:
        user = await self._require(tx, ctx.account, USER, name)
        key = await db.get_key(tx, key_id)
        if key is None or key.user_id != user.id:
            raise NoSuchEntityException(f"The Access Key with id {key_id} cannot be found.")
        return user, key

    async def list_access_keys(self, ctx: RequestContext, request: api.ListAccessKeysRequest) -> api.ListAccessKeysResponse:
        name = request.get("UserName") or self._caller_user(ctx)
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, name)
            keys = await db.keys_of(tx, user.id)
        result = self._page(keys, lambda k: k.key_id, request, "AccessKeyMetadata")
        result["AccessKeyMetadata"] = [
            {"UserName": user.name, "AccessKeyId": k.key_id, "Status": k.status, "CreateDate": model.timestamp(k.created_ms)}
            for k in result["AccessKeyMetadata"]
        ]
        return result  # type: ignore[return-value]

    async def update_access_key(self, ctx: RequestContext, request: api.UpdateAccessKeyRequest) -> None:
        name = request.get("UserName") or self._caller_user(ctx)
        async with self.store.transaction() as tx:
            _, key = await self._user_key(tx, ctx, name, request["AccessKeyId"])
            await db.set_key_status(tx, key.key_id, request["Status"])
        self.node.identities.forget(key.key_id)

    async def delete_access_key(self, ctx: RequestContext, request: api.DeleteAccessKeyRequest) -> None:
        name = request.get("UserName") or self._caller_user(ctx)
        async with self.store.transaction() as tx:
            _, key = await self._user_key(tx, ctx, name, request["AccessKeyId"])
            await db.delete_key(tx, key.key_id)
        self.node.identities.forget(key.key_id)

    async def get_access_key_last_used(
        self, ctx: RequestContext, request: api.GetAccessKeyLastUsedRequest
    ) -> api.GetAccessKeyLastUsedResponse:
        async with self.store.transaction() as tx:
            key = await db.get_key(tx, request["AccessKeyId"])
            users = await db.get_entities_by_id(tx, [key.user_id]) if key else []
        if not users or users[0].account != ctx.account:
            raise AwsError("The Access Key with id was not found", code="AccessDenied", status=403)
        # Requests do not record their key (that would be a write per request): never used, as IAM
        # answers for a key that has not been used.
        return {"UserName": users[0].name, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}

    # --- roles ------------------------------------------------------------------------------

    async def create_role(self, ctx: RequestContext, request: api.CreateRoleRequest) -> api.CreateRoleResponse:
        trust = request["AssumeRolePolicyDocument"]
        model.check_policy_document(trust, trust=True)
        tags = list(request.get("Tags") or [])
        model.check_unique_tag_keys(tags)
        async with self.store.transaction() as tx:
            boundary = await self._boundary_arn(tx, ctx, request.get("PermissionsBoundary"))
            data = {
                "trust": trust,
                "description": request.get("Description"),
                "max_session": request.get("MaxSessionDuration") or model.DEFAULT_MAX_SESSION_S,
                "tags": tags,
                "boundary": boundary,
            }
            role = self._new(ctx, ROLE, request["RoleName"], request.get("Path"), data)
            await self._create(tx, role)
        return {"Role": _role(role, full=False) | ({"Tags": tags} if tags else {})}  # type: ignore[typeddict-item]

    async def get_role(self, ctx: RequestContext, request: api.GetRoleRequest) -> api.GetRoleResponse:
        async with self.store.transaction() as tx:
            role = await self._require(tx, ctx.account, ROLE, request["RoleName"])
        return {"Role": _role(role)}  # type: ignore[typeddict-item]

    async def list_roles(self, ctx: RequestContext, request: api.ListRolesRequest) -> api.ListRolesResponse:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            roles = [r for r in await db.list_entities(tx, ctx.account, ROLE) if r.path.startswith(prefix)]
        result = self._page(roles, lambda r: r.name.lower(), request, "Roles")
        result["Roles"] = [_role(r, full=False) for r in result["Roles"]]
        return result  # type: ignore[return-value]

    async def _update_role(self, ctx: RequestContext, name: str, changes: dict[str, Any]) -> Entity:
        async with self.store.transaction() as tx:
            role = await self._require(tx, ctx.account, ROLE, name)
            role.data.update(changes)
            await db.update_entity(tx, role)
        return role

    async def update_role(self, ctx: RequestContext, request: api.UpdateRoleRequest) -> api.UpdateRoleResponse:
        changes: dict[str, Any] = {}
        if "Description" in request:
            changes["description"] = request["Description"]
        if "MaxSessionDuration" in request:
            changes["max_session"] = request["MaxSessionDuration"]
        await self._update_role(ctx, request["RoleName"], changes)
        return {}

    async def update_role_description(
        self, ctx: RequestContext, request: api.UpdateRoleDescriptionRequest
    ) -> api.UpdateRoleDescriptionResponse:
        role = await self._update_role(ctx, request["RoleName"], {"description": request["Description"]})
        return {"Role": _role(role)}  # type: ignore[typeddict-item]

    async def update_assume_role_policy(self, ctx: RequestContext, request: api.UpdateAssumeRolePolicyRequest) -> None:
        model.check_policy_document(request["PolicyDocument"], trust=True)
        await self._update_role(ctx, request["RoleName"], {"trust": request["PolicyDocument"]})

    async def delete_role(self, ctx: RequestContext, request: api.DeleteRoleRequest) -> None:
        async with self.store.transaction() as tx:
            role = await self._require(tx, ctx.account, ROLE, request["RoleName"])
            profiles = await db.list_entities(tx, ctx.account, INSTANCE_PROFILE)
            if any(role.id in p.data.get("roles", []) for p in profiles):
                raise DeleteConflictException(_MUST_EMPTY_PROFILE)
            await self._check_no_policies(tx, role)
            await db.delete_entity(tx, role)

    async def tag_role(self, ctx: RequestContext, request: api.TagRoleRequest) -> None:
        await self._tag(ctx, ROLE, request["RoleName"], request["Tags"])

    async def untag_role(self, ctx: RequestContext, request: api.UntagRoleRequest) -> None:
        await self._untag(ctx, ROLE, request["RoleName"], request["TagKeys"])

    async def list_role_tags(self, ctx: RequestContext, request: api.ListRoleTagsRequest) -> api.ListRoleTagsResponse:
        return await self._list_tags(ctx, ROLE, request["RoleName"], request)  # type: ignore[return-value]

    # --- groups -----------------------------------------------------------------------------

    async def create_group(self, ctx: RequestContext, request: api.CreateGroupRequest) -> api.CreateGroupResponse:
        async with self.store.transaction() as tx:
            group = self._new(ctx, GROUP, request["GroupName"], request.get("Path"), {})
            await self._create(tx, group)
        return {"Group": _group(group)}  # type: ignore[typeddict-item]

    async def get_group(self, ctx: RequestContext, request: api.GetGroupRequest) -> api.GetGroupResponse:
        async with self.store.transaction() as tx:
            group = await self._require(tx, ctx.account, GROUP, request["GroupName"])
            users = await db.get_entities_by_id(tx, await db.members_of(tx, group.id))
        result = self._page(users, lambda u: u.name.lower(), request, "Users")
        result["Users"] = [_user(u, tags=False) for u in result["Users"]]
        return {"Group": _group(group), **result}  # type: ignore[typeddict-item]

    async def list_groups(self, ctx: RequestContext, request: api.ListGroupsRequest) -> api.ListGroupsResponse:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            groups = [g for g in await db.list_entities(tx, ctx.account, GROUP) if g.path.startswith(prefix)]
        result = self._page(groups, lambda g: g.name.lower(), request, "Groups")
        result["Groups"] = [_group(g) for g in result["Groups"]]
        return result  # type: ignore[return-value]

    async def delete_group(self, ctx: RequestContext, request: api.DeleteGroupRequest) -> None:
        async with self.store.transaction() as tx:
            group = await self._require(tx, ctx.account, GROUP, request["GroupName"])
            if await db.members_of(tx, group.id):
                raise DeleteConflictException(_MUST_EMPTY_GROUP)
            await self._check_no_policies(tx, group)
            await db.delete_entity(tx, group)

    async def add_user_to_group(self, ctx: RequestContext, request: api.AddUserToGroupRequest) -> None:
        async with self.store.transaction() as tx:
            group = await self._require(tx, ctx.account, GROUP, request["GroupName"])
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            groups = await db.groups_of(tx, user.id)
            if group.id not in groups and len(groups) >= model.GROUPS_PER_USER:
                raise LimitExceededException(f"Cannot exceed quota for GroupsPerUser: {model.GROUPS_PER_USER}")
            await db.add_member(tx, group.id, user.id)

    async def remove_user_from_group(self, ctx: RequestContext, request: api.RemoveUserFromGroupRequest) -> None:
        async with self.store.transaction() as tx:
            group = await self._require(tx, ctx.account, GROUP, request["GroupName"])
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            if not await db.remove_member(tx, group.id, user.id):
                raise NoSuchEntityException(_NOT_FOUND[USER].format(user.name))

    async def list_groups_for_user(
        self, ctx: RequestContext, request: api.ListGroupsForUserRequest
    ) -> api.ListGroupsForUserResponse:
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            groups = await db.get_entities_by_id(tx, await db.groups_of(tx, user.id))
        result = self._page(groups, lambda g: g.name.lower(), request, "Groups")
        result["Groups"] = [_group(g) for g in result["Groups"]]
        return result  # type: ignore[return-value]

    # --- managed policies -------------------------------------------------------------------

    async def create_policy(self, ctx: RequestContext, request: api.CreatePolicyRequest) -> api.CreatePolicyResponse:
        document = request["PolicyDocument"]
        model.check_policy_document(document)
        tags = list(request.get("Tags") or [])
        model.check_unique_tag_keys(tags)
        now = self.clock.now_ms()
        data = {
            "description": request.get("Description"),
            "tags": tags,
            "default_version": 1,
            "next_version": 2,
            "updated_ms": now,
        }
        async with self.store.transaction() as tx:
            policy = self._new(ctx, POLICY, request["PolicyName"], request.get("Path"), data)
            await self._create(tx, policy)
            await db.insert_version(tx, policy.id, 1, document, now)
        return {"Policy": _policy(policy, 0)}

    async def get_policy(self, ctx: RequestContext, request: api.GetPolicyRequest) -> api.GetPolicyResponse:
        async with self.store.transaction() as tx:
            policy = await self._policy_by_arn(tx, ctx, request["PolicyArn"], attaching=False)
            count = len(await db.entities_with(tx, ctx.account, policy.arn))
        return {"Policy": _policy(policy, count)}

    async def list_policies(self, ctx: RequestContext, request: api.ListPoliciesRequest) -> api.ListPoliciesResponse:
        scope = request.get("Scope") or "All"
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            counts = await db.attachment_counts(tx, ctx.account)
            policies = await db.list_entities(tx, ctx.account, POLICY) if scope != "AWS" else []
        if scope != "Local":
            policies += [_aws_managed(name) for name in model.AWS_MANAGED]
        policies = [p for p in policies if p.path.startswith(prefix)]
        if request.get("OnlyAttached"):
            policies = [p for p in policies if counts.get(p.arn)]
        result = self._page(policies, lambda p: p.arn, request, "Policies")
        result["Policies"] = [_policy(p, counts.get(p.arn, 0), tags=False) for p in result["Policies"]]
        return result  # type: ignore[return-value]

    async def delete_policy(self, ctx: RequestContext, request: api.DeletePolicyRequest) -> None:
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
            if await db.entities_with(tx, ctx.account, policy.arn):
                raise DeleteConflictException("Cannot delete a policy attached to entities.")
            if len(await db.list_versions(tx, policy.id)) > 1:
                raise DeleteConflictException(
                    "This policy has more than one version. Before you delete a policy, you must delete the "
                    "policy's versions. The default version is deleted with the policy."
                )
            await db.delete_versions(tx, policy.id)
            await db.delete_entity(tx, policy)

    async def tag_policy(self, ctx: RequestContext, request: api.TagPolicyRequest) -> None:
        model.check_unique_tag_keys(request["Tags"])
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
            policy.data["tags"] = model.merge_tags(policy.tags, request["Tags"])
            await db.update_entity(tx, policy)

    async def untag_policy(self, ctx: RequestContext, request: api.UntagPolicyRequest) -> None:
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
            policy.data["tags"] = model.without_tags(policy.tags, request["TagKeys"])
            await db.update_entity(tx, policy)

    async def list_policy_tags(self, ctx: RequestContext, request: api.ListPolicyTagsRequest) -> api.ListPolicyTagsResponse:
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
        return self._page(policy.tags, lambda tag: tag["Key"], request, "Tags")  # type: ignore[return-value]

    # --- policy versions --------------------------------------------------------------------

    async def create_policy_version(
        self, ctx: RequestContext, request: api.CreatePolicyVersionRequest
    ) -> api.CreatePolicyVersionResponse:
        document = request["PolicyDocument"]
        model.check_policy_document(document)
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
            if len(await db.list_versions(tx, policy.id)) >= model.POLICY_VERSIONS_MAX:
                raise LimitExceededException(
                    f"A managed policy can have up to {model.POLICY_VERSIONS_MAX} versions. Before you create a new "
                    "version, you must delete an existing version."
                )
            version = policy.data["next_version"]
            policy.data["next_version"] = version + 1
            if request.get("SetAsDefault"):
                policy.data["default_version"] = version
                policy.data["updated_ms"] = now
            await db.insert_version(tx, policy.id, version, document, now)
            await db.update_entity(tx, policy)
        return {"PolicyVersion": _version(version, document, now, policy.data["default_version"], False)}

    async def _versions(self, tx: Tx, ctx: RequestContext, policy_arn: str) -> tuple[Entity, list[tuple[int, str, int]]]:
        policy = await self._policy_by_arn(tx, ctx, policy_arn, attaching=False)
        if policy.account == "aws":
            return policy, [(1, model.AWS_MANAGED_DOCUMENT, policy.created_ms)]
        return policy, await db.list_versions(tx, policy.id)

    @staticmethod
    def _find_version(versions: list[tuple[int, str, int]], policy_arn: str, version_id: str) -> tuple[int, str, int]:
        wanted = _version_number(version_id)
        for version in versions:
            if version[0] == wanted:
                return version
        raise NoSuchEntityException(f"Policy {policy_arn} version {version_id} does not exist or is not attachable.")

    async def get_policy_version(
        self, ctx: RequestContext, request: api.GetPolicyVersionRequest
    ) -> api.GetPolicyVersionResponse:
        async with self.store.transaction() as tx:
            policy, versions = await self._versions(tx, ctx, request["PolicyArn"])
        version = self._find_version(versions, request["PolicyArn"], request["VersionId"])
        return {"PolicyVersion": _version(*version, policy.data["default_version"], True)}

    async def list_policy_versions(
        self, ctx: RequestContext, request: api.ListPolicyVersionsRequest
    ) -> api.ListPolicyVersionsResponse:
        async with self.store.transaction() as tx:
            policy, versions = await self._versions(tx, ctx, request["PolicyArn"])
        default = policy.data["default_version"]
        # Newest first, as IAM lists them: a zero-padded key keeps that order through paging.
        page = model.paginate(versions, lambda v: f"{10**9 - v[0]:010d}", request.get("Marker"), request.get("MaxItems"))
        result = page.result("Versions")
        result["Versions"] = [_version(*v, default, False) for v in page.items]
        return result  # type: ignore[return-value]

    async def delete_policy_version(self, ctx: RequestContext, request: api.DeletePolicyVersionRequest) -> None:
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
            versions = await db.list_versions(tx, policy.id)
            version = self._find_version(versions, policy.arn, request["VersionId"])
            if version[0] == policy.data["default_version"]:
                raise DeleteConflictException("Cannot delete the default version of a policy.")
            await db.delete_version(tx, policy.id, version[0])

    async def set_default_policy_version(
        self, ctx: RequestContext, request: api.SetDefaultPolicyVersionRequest
    ) -> None:
        async with self.store.transaction() as tx:
            policy = await self._customer_policy(tx, ctx, request["PolicyArn"])
            versions = await db.list_versions(tx, policy.id)
            version = self._find_version(versions, policy.arn, request["VersionId"])
            policy.data["default_version"] = version[0]
            policy.data["updated_ms"] = self.clock.now_ms()
            await db.update_entity(tx, policy)

    # --- attached policies (users, roles, groups) -------------------------------------------

    async def _attach(self, ctx: RequestContext, kind: str, request: Any) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            policy = await self._policy_by_arn(tx, ctx, request["PolicyArn"], attaching=True)
            attached = await db.attached_to(tx, entity.id)
            if policy.arn not in {a for a, _ in attached} and len(attached) >= model.MANAGED_POLICIES_PER_ENTITY:
                raise LimitExceededException(
                    f"Cannot exceed quota for {_QUOTA_NAME[kind]}: {model.MANAGED_POLICIES_PER_ENTITY}"
                )
            await db.attach(tx, ctx.account, entity.id, policy.arn, policy.name)

    async def _detach(self, ctx: RequestContext, kind: str, request: Any) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            if not await db.detach(tx, entity.id, request["PolicyArn"]):
                raise NoSuchEntityException(f"Policy {request['PolicyArn']} was not found.")

    async def _list_attached(self, ctx: RequestContext, kind: str, request: Any) -> Any:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            attached = await db.attached_to(tx, entity.id)
        policies = [
            {"PolicyName": name, "PolicyArn": arn}
            for arn, name in attached
            if arn.split(":policy", 1)[1].startswith(prefix)
        ]
        return self._page(policies, lambda p: p["PolicyArn"], request, "AttachedPolicies")

    async def attach_user_policy(self, ctx: RequestContext, request: api.AttachUserPolicyRequest) -> None:
        await self._attach(ctx, USER, request)

    async def attach_role_policy(self, ctx: RequestContext, request: api.AttachRolePolicyRequest) -> None:
        await self._attach(ctx, ROLE, request)

    async def attach_group_policy(self, ctx: RequestContext, request: api.AttachGroupPolicyRequest) -> None:
        await self._attach(ctx, GROUP, request)

    async def detach_user_policy(self, ctx: RequestContext, request: api.DetachUserPolicyRequest) -> None:
        await self._detach(ctx, USER, request)

    async def detach_role_policy(self, ctx: RequestContext, request: api.DetachRolePolicyRequest) -> None:
        await self._detach(ctx, ROLE, request)

    async def detach_group_policy(self, ctx: RequestContext, request: api.DetachGroupPolicyRequest) -> None:
        await self._detach(ctx, GROUP, request)

    async def list_attached_user_policies(
        self, ctx: RequestContext, request: api.ListAttachedUserPoliciesRequest
    ) -> api.ListAttachedUserPoliciesResponse:
        return await self._list_attached(ctx, USER, request)

    async def list_attached_role_policies(
        self, ctx: RequestContext, request: api.ListAttachedRolePoliciesRequest
    ) -> api.ListAttachedRolePoliciesResponse:
        return await self._list_attached(ctx, ROLE, request)

    async def list_attached_group_policies(
        self, ctx: RequestContext, request: api.ListAttachedGroupPoliciesRequest
    ) -> api.ListAttachedGroupPoliciesResponse:
        return await self._list_attached(ctx, GROUP, request)

    async def list_entities_for_policy(
        self, ctx: RequestContext, request: api.ListEntitiesForPolicyRequest
    ) -> api.ListEntitiesForPolicyResponse:
        wanted = request.get("EntityFilter")
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            policy = await self._policy_by_arn(tx, ctx, request["PolicyArn"], attaching=False)
            entities = await db.get_entities_by_id(tx, await db.entities_with(tx, ctx.account, policy.arn))
        kinds = {"User": USER, "Role": ROLE, "Group": GROUP}
        if wanted in kinds:
            entities = [e for e in entities if e.kind == kinds[wanted]]
        entities = [e for e in entities if e.path.startswith(prefix)]
        page = model.paginate(entities, lambda e: e.id, request.get("Marker"), request.get("MaxItems"))
        out: dict[str, Any] = {"IsTruncated": page.marker is not None}
        if page.marker:
            out["Marker"] = page.marker
        for kind, key, label in (
            (USER, "PolicyUsers", "User"), (ROLE, "PolicyRoles", "Role"), (GROUP, "PolicyGroups", "Group")
        ):
            out[key] = [{f"{label}Name": e.name, f"{label}Id": e.id} for e in page.items if e.kind == kind]
        return out  # type: ignore[return-value]

    # --- inline policies --------------------------------------------------------------------

    async def _put_inline(self, ctx: RequestContext, kind: str, request: Any) -> None:
        model.check_policy_document(request["PolicyDocument"])
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            await db.put_inline(tx, entity.id, request["PolicyName"], request["PolicyDocument"])

    async def _get_inline(self, ctx: RequestContext, kind: str, request: Any) -> Any:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            document = await db.get_inline(tx, entity.id, request["PolicyName"])
        if document is None:
            raise NoSuchEntityException(f"The {kind} policy with name {request['PolicyName']} cannot be found.")
        return {
            _NAME_MEMBER[kind]: entity.name,
            "PolicyName": request["PolicyName"],
            "PolicyDocument": model.encoded(document),
        }

    async def _list_inline(self, ctx: RequestContext, kind: str, request: Any) -> Any:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            names = await db.inline_names(tx, entity.id)
        return self._page(names, lambda n: n, request, "PolicyNames")

    async def _delete_inline(self, ctx: RequestContext, kind: str, request: Any) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[_NAME_MEMBER[kind]])
            if not await db.delete_inline(tx, entity.id, request["PolicyName"]):
                raise NoSuchEntityException(f"The {kind} policy with name {request['PolicyName']} cannot be found.")

    async def put_user_policy(self, ctx: RequestContext, request: api.PutUserPolicyRequest) -> None:
        await self._put_inline(ctx, USER, request)

    async def put_role_policy(self, ctx: RequestContext, request: api.PutRolePolicyRequest) -> None:
        await self._put_inline(ctx, ROLE, request)

    async def put_group_policy(self, ctx: RequestContext, request: api.PutGroupPolicyRequest) -> None:
        await self._put_inline(ctx, GROUP, request)

    async def get_user_policy(self, ctx: RequestContext, request: api.GetUserPolicyRequest) -> api.GetUserPolicyResponse:
        return await self._get_inline(ctx, USER, request)

    async def get_role_policy(self, ctx: RequestContext, request: api.GetRolePolicyRequest) -> api.GetRolePolicyResponse:
        return await self._get_inline(ctx, ROLE, request)

    async def get_group_policy(
        self, ctx: RequestContext, request: api.GetGroupPolicyRequest
    ) -> api.GetGroupPolicyResponse:
        return await self._get_inline(ctx, GROUP, request)

    async def list_user_policies(
        self, ctx: RequestContext, request: api.ListUserPoliciesRequest
    ) -> api.ListUserPoliciesResponse:
        return await self._list_inline(ctx, USER, request)

    async def list_role_policies(
        self, ctx: RequestContext, request: api.ListRolePoliciesRequest
    ) -> api.ListRolePoliciesResponse:
        return await self._list_inline(ctx, ROLE, request)

    async def list_group_policies(
        self, ctx: RequestContext, request: api.ListGroupPoliciesRequest
    ) -> api.ListGroupPoliciesResponse:
        return await self._list_inline(ctx, GROUP, request)

    async def delete_user_policy(self, ctx: RequestContext, request: api.DeleteUserPolicyRequest) -> None:
        await self._delete_inline(ctx, USER, request)

    async def delete_role_policy(self, ctx: RequestContext, request: api.DeleteRolePolicyRequest) -> None:
        await self._delete_inline(ctx, ROLE, request)

    async def delete_group_policy(self, ctx: RequestContext, request: api.DeleteGroupPolicyRequest) -> None:
        await self._delete_inline(ctx, GROUP, request)

    # --- instance profiles ------------------------------------------------------------------

    async def _profile_roles(self, tx: Tx, profile: Entity) -> list[Entity]:
        return await db.get_entities_by_id(tx, profile.data.get("roles", []))

    async def create_instance_profile(
        self, ctx: RequestContext, request: api.CreateInstanceProfileRequest
    ) -> api.CreateInstanceProfileResponse:
        tags = list(request.get("Tags") or [])
        model.check_unique_tag_keys(tags)
        async with self.store.transaction() as tx:
            profile = self._new(
                ctx, INSTANCE_PROFILE, request["InstanceProfileName"], request.get("Path"), {"roles": [], "tags": tags}
            )
            await self._create(tx, profile)
        return {"InstanceProfile": _instance_profile(profile, [])}  # type: ignore[typeddict-item]

    async def get_instance_profile(
        self, ctx: RequestContext, request: api.GetInstanceProfileRequest
    ) -> api.GetInstanceProfileResponse:
        async with self.store.transaction() as tx:
            profile = await self._require(tx, ctx.account, INSTANCE_PROFILE, request["InstanceProfileName"])
            roles = await self._profile_roles(tx, profile)
        return {"InstanceProfile": _instance_profile(profile, roles)}  # type: ignore[typeddict-item]

    async def _list_profiles(self, ctx: RequestContext, request: Any, role_name: str | None) -> Any:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            profiles = await db.list_entities(tx, ctx.account, INSTANCE_PROFILE)
            if role_name is not None:
                role = await self._require(tx, ctx.account, ROLE, role_name)
                profiles = [p for p in profiles if role.id in p.data.get("roles", [])]
            profiles = [p for p in profiles if p.path.startswith(prefix)]
            result = self._page(profiles, lambda p: p.name.lower(), request, "InstanceProfiles")
            result["InstanceProfiles"] = [
                _instance_profile(p, await self._profile_roles(tx, p)) for p in result["InstanceProfiles"]
            ]
        return result

    async def list_instance_profiles(
        self, ctx: RequestContext, request: api.ListInstanceProfilesRequest
    ) -> api.ListInstanceProfilesResponse:
        return await self._list_profiles(ctx, request, None)

    async def list_instance_profiles_for_role(
        self, ctx: RequestContext, request: api.ListInstanceProfilesForRoleRequest
    ) -> api.ListInstanceProfilesForRoleResponse:
        return await self._list_profiles(ctx, request, request["RoleName"])

    async def add_role_to_instance_profile(
        self, ctx: RequestContext, request: api.AddRoleToInstanceProfileRequest
    ) -> None:
        async with self.store.transaction() as tx:
            profile = await self._require(tx, ctx.account, INSTANCE_PROFILE, request["InstanceProfileName"])
            role = await self._require(tx, ctx.account, ROLE, request["RoleName"])
            roles = profile.data.setdefault("roles", [])
            if len(roles) >= model.ROLES_PER_INSTANCE_PROFILE:
                raise LimitExceededException(
                    f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {model.ROLES_PER_INSTANCE_PROFILE}"
                )
            roles.append(role.id)
            await db.update_entity(tx, profile)

    async def remove_role_from_instance_profile(
        self, ctx: RequestContext, request: api.RemoveRoleFromInstanceProfileRequest
    ) -> None:
        async with self.store.transaction() as tx:
            profile = await self._require(tx, ctx.account, INSTANCE_PROFILE, request["InstanceProfileName"])
            role = await self._require(tx, ctx.account, ROLE, request["RoleName"])
            roles = profile.data.get("roles", [])
            if role.id not in roles:
                raise NoSuchEntityException(_NOT_FOUND[ROLE].format(role.name))
            roles.remove(role.id)
            await db.update_entity(tx, profile)

    async def delete_instance_profile(self, ctx: RequestContext, request: api.DeleteInstanceProfileRequest) -> None:
        async with self.store.transaction() as tx:
            profile = await self._require(tx, ctx.account, INSTANCE_PROFILE, request["InstanceProfileName"])
            if profile.data.get("roles"):
                raise DeleteConflictException(_MUST_EMPTY_PROFILE)
            await db.delete_entity(tx, profile)

    # --- account ----------------------------------------------------------------------------

    async def get_account_summary(self, ctx: RequestContext, request: dict[str, Any]) -> api.GetAccountSummaryResponse:
        async with self.store.transaction() as tx:
            counts = await db.count_entities(tx, ctx.account)
            attached = await db.attachment_counts(tx, ctx.account)
        return {
            "SummaryMap": {
                "Users": counts.get(USER, 0),
                "UsersQuota": 5000,
                "Groups": counts.get(GROUP, 0),
                "GroupsQuota": 300,
                "Roles": counts.get(ROLE, 0),
                "RolesQuota": 1000,
                "Policies": counts.get(POLICY, 0),
                "PoliciesQuota": 1500,
                "InstanceProfiles": counts.get(INSTANCE_PROFILE, 0),
                "InstanceProfilesQuota": 1000,
                "AttachedPoliciesPerUserQuota": model.MANAGED_POLICIES_PER_ENTITY,
                "AttachedPoliciesPerRoleQuota": model.MANAGED_POLICIES_PER_ENTITY,
                "AttachedPoliciesPerGroupQuota": model.MANAGED_POLICIES_PER_ENTITY,
                "AccessKeysPerUserQuota": model.ACCESS_KEYS_PER_USER,
                "GroupsPerUserQuota": model.GROUPS_PER_USER,
                "VersionsPerPolicyQuota": model.POLICY_VERSIONS_MAX,
                "PolicyVersionsInUse": sum(attached.values()),
                "PolicyVersionsInUseQuota": 10000,
                "PolicySizeQuota": 6144,
                "UserPolicySizeQuota": 2048,
                "RolePolicySizeQuota": 10240,
                "GroupPolicySizeQuota": 5120,
                "AssumeRolePolicySizeQuota": 2048,
                "ServerCertificates": 0,
                "ServerCertificatesQuota": 20,
                "MFADevices": 0,
                "MFADevicesInUse": 0,
                "AccountMFAEnabled": 0,
                "AccountAccessKeysPresent": 0,
                "AccountSigningCertificatesPresent": 0,
                "GlobalEndpointTokenVersion": 1,
                "Providers": 0,
            }
        }
