"""AWS IAM resources: users and their access keys, roles, groups, managed and inline
policies with versions, and instance profiles. Nothing is enforced yet (the IAM
enforcement issue evaluates these documents); what is stored is what IAM would store.

IAM is global: everything belongs to the caller's account, whatever the region. Access
keys issued here work against stratus at once, on every node: the identity lookup
registered at start reads the key's owner from the store.
"""

from __future__ import annotations

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
from stratus.services.iam import answers, model
from stratus.services.iam import store as db
from stratus.services.iam.model import GROUP, INSTANCE_PROFILE, POLICY, ROLE, USER
from stratus.services.iam.policies import PolicyOperations
from stratus.services.iam.store import Entity
from stratus.store import load_migrations
from stratus.store.base import Tx


class IamProvider(PolicyOperations, IamApi):
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
        return Identity(owner.account, owner.user_arn, user_id=owner.user_id, issued=True)

    # --- users ------------------------------------------------------------------------------

    async def create_user(self, ctx: RequestContext, request: api.CreateUserRequest) -> api.CreateUserResponse:
        tags = list(request.get("Tags") or [])
        model.check_unique_tag_keys(tags)
        async with self.store.transaction() as tx:
            boundary = await self._boundary_arn(tx, ctx, request.get("PermissionsBoundary"))
            user = self._new(ctx, USER, request["UserName"], request.get("Path"), {"tags": tags, "boundary": boundary})
            await self._create(tx, user)
        return {"User": answers.user_view(user)}

    async def get_user(self, ctx: RequestContext, request: api.GetUserRequest) -> api.GetUserResponse:
        name = request.get("UserName")
        if name is None and ctx.principal_arn == root_arn(ctx.account):
            # The root user has no IAM user entity: IAM answers its account and ARN.
            root = {"Path": "/", "UserId": ctx.account, "Arn": ctx.principal_arn, "CreateDate": model.timestamp(0)}
            return {"User": root}  # type: ignore[typeddict-item]
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, name or self._caller_user(ctx))
        return {"User": answers.user_view(user)}

    async def list_users(self, ctx: RequestContext, request: api.ListUsersRequest) -> api.ListUsersResponse:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            users = [u for u in await db.list_entities(tx, ctx.account, USER) if u.path.startswith(prefix)]
        result = self._page(users, lambda u: u.name.lower(), request, "Users")
        result["Users"] = [answers.user_view(u, listing=True) for u in result["Users"]]
        return result  # type: ignore[return-value]

    async def update_user(self, ctx: RequestContext, request: api.UpdateUserRequest) -> None:
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            new_name = request.get("NewUserName") or user.name
            if new_name.lower() != user.name.lower() and await db.get_entity(tx, ctx.account, USER, new_name):
                raise EntityAlreadyExistsException(answers.EXISTS[USER].format(new_name))
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
                raise DeleteConflictException(answers.MUST_EMPTY_GROUP)
            await db.delete_entity(tx, user)

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
        model.check_trust_policy_size(trust)
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
        return {"Role": answers.role_view(role, last_used=False)}  # type: ignore[typeddict-item]

    async def get_role(self, ctx: RequestContext, request: api.GetRoleRequest) -> api.GetRoleResponse:
        async with self.store.transaction() as tx:
            role = await self._require(tx, ctx.account, ROLE, request["RoleName"])
        return {"Role": answers.role_view(role)}  # type: ignore[typeddict-item]

    async def list_roles(self, ctx: RequestContext, request: api.ListRolesRequest) -> api.ListRolesResponse:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            roles = [r for r in await db.list_entities(tx, ctx.account, ROLE) if r.path.startswith(prefix)]
        result = self._page(roles, lambda r: r.name.lower(), request, "Roles")
        result["Roles"] = [answers.role_view(r, listing=True) for r in result["Roles"]]
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
        return {"Role": answers.role_view(role)}  # type: ignore[typeddict-item]

    async def update_assume_role_policy(self, ctx: RequestContext, request: api.UpdateAssumeRolePolicyRequest) -> None:
        model.check_policy_document(request["PolicyDocument"], trust=True)
        model.check_trust_policy_size(request["PolicyDocument"])
        await self._update_role(ctx, request["RoleName"], {"trust": request["PolicyDocument"]})

    async def delete_role(self, ctx: RequestContext, request: api.DeleteRoleRequest) -> None:
        async with self.store.transaction() as tx:
            role = await self._require(tx, ctx.account, ROLE, request["RoleName"])
            profiles = await db.list_entities(tx, ctx.account, INSTANCE_PROFILE)
            if any(role.id in p.data.get("roles", []) for p in profiles):
                raise DeleteConflictException(answers.MUST_EMPTY_PROFILE)
            await self._check_no_policies(tx, role)
            await db.delete_entity(tx, role)

    async def tag_role(self, ctx: RequestContext, request: api.TagRoleRequest) -> None:
        await self._tag(ctx, ROLE, request["RoleName"], request["Tags"])

    async def untag_role(self, ctx: RequestContext, request: api.UntagRoleRequest) -> None:
        await self._untag(ctx, ROLE, request["RoleName"], request["TagKeys"])

    async def list_role_tags(self, ctx: RequestContext, request: api.ListRoleTagsRequest) -> api.ListRoleTagsResponse:
        return await self._list_tags(ctx, ROLE, request["RoleName"], request)  # type: ignore[return-value]

    # --- permissions boundaries -------------------------------------------------------------

    async def _set_boundary(self, ctx: RequestContext, kind: str, name: str, policy_arn: str | None) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, name)
            entity.data["boundary"] = await self._boundary_arn(tx, ctx, policy_arn)
            await db.update_entity(tx, entity)

    async def put_user_permissions_boundary(
        self, ctx: RequestContext, request: api.PutUserPermissionsBoundaryRequest
    ) -> None:
        await self._set_boundary(ctx, USER, request["UserName"], request["PermissionsBoundary"])

    async def delete_user_permissions_boundary(
        self, ctx: RequestContext, request: api.DeleteUserPermissionsBoundaryRequest
    ) -> None:
        await self._set_boundary(ctx, USER, request["UserName"], None)

    async def put_role_permissions_boundary(
        self, ctx: RequestContext, request: api.PutRolePermissionsBoundaryRequest
    ) -> None:
        await self._set_boundary(ctx, ROLE, request["RoleName"], request["PermissionsBoundary"])

    async def delete_role_permissions_boundary(
        self, ctx: RequestContext, request: api.DeleteRolePermissionsBoundaryRequest
    ) -> None:
        await self._set_boundary(ctx, ROLE, request["RoleName"], None)

    # --- groups -----------------------------------------------------------------------------

    async def create_group(self, ctx: RequestContext, request: api.CreateGroupRequest) -> api.CreateGroupResponse:
        async with self.store.transaction() as tx:
            group = self._new(ctx, GROUP, request["GroupName"], request.get("Path"), {})
            await self._create(tx, group)
        return {"Group": answers.group_view(group)}  # type: ignore[typeddict-item]

    async def get_group(self, ctx: RequestContext, request: api.GetGroupRequest) -> api.GetGroupResponse:
        async with self.store.transaction() as tx:
            group = await self._require(tx, ctx.account, GROUP, request["GroupName"])
            users = await db.get_entities_by_id(tx, await db.members_of(tx, group.id))
        result = self._page(users, lambda u: u.name.lower(), request, "Users")
        result["Users"] = [answers.user_view(u, listing=True) for u in result["Users"]]
        return {"Group": answers.group_view(group), **result}  # type: ignore[typeddict-item]

    async def list_groups(self, ctx: RequestContext, request: api.ListGroupsRequest) -> api.ListGroupsResponse:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            groups = [g for g in await db.list_entities(tx, ctx.account, GROUP) if g.path.startswith(prefix)]
        result = self._page(groups, lambda g: g.name.lower(), request, "Groups")
        result["Groups"] = [answers.group_view(g) for g in result["Groups"]]
        return result  # type: ignore[return-value]

    async def delete_group(self, ctx: RequestContext, request: api.DeleteGroupRequest) -> None:
        async with self.store.transaction() as tx:
            group = await self._require(tx, ctx.account, GROUP, request["GroupName"])
            if await db.members_of(tx, group.id):
                raise DeleteConflictException(answers.MUST_EMPTY_GROUP)
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
                raise NoSuchEntityException(answers.NOT_FOUND[USER].format(user.name))

    async def list_groups_for_user(
        self, ctx: RequestContext, request: api.ListGroupsForUserRequest
    ) -> api.ListGroupsForUserResponse:
        async with self.store.transaction() as tx:
            user = await self._require(tx, ctx.account, USER, request["UserName"])
            groups = await db.get_entities_by_id(tx, await db.groups_of(tx, user.id))
        result = self._page(groups, lambda g: g.name.lower(), request, "Groups")
        result["Groups"] = [answers.group_view(g) for g in result["Groups"]]
        return result  # type: ignore[return-value]

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
        return {"InstanceProfile": answers.instance_profile_view(profile, [])}  # type: ignore[typeddict-item]

    async def get_instance_profile(
        self, ctx: RequestContext, request: api.GetInstanceProfileRequest
    ) -> api.GetInstanceProfileResponse:
        async with self.store.transaction() as tx:
            profile = await self._require(tx, ctx.account, INSTANCE_PROFILE, request["InstanceProfileName"])
            roles = await self._profile_roles(tx, profile)
        return {"InstanceProfile": answers.instance_profile_view(profile, roles)}  # type: ignore[typeddict-item]

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
                answers.instance_profile_view(p, await self._profile_roles(tx, p)) for p in result["InstanceProfiles"]
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
                raise NoSuchEntityException(answers.NOT_FOUND[ROLE].format(role.name))
            roles.remove(role.id)
            await db.update_entity(tx, profile)

    async def delete_instance_profile(self, ctx: RequestContext, request: api.DeleteInstanceProfileRequest) -> None:
        async with self.store.transaction() as tx:
            profile = await self._require(tx, ctx.account, INSTANCE_PROFILE, request["InstanceProfileName"])
            if profile.data.get("roles"):
                raise DeleteConflictException(answers.MUST_EMPTY_PROFILE)
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

