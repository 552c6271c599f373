"""IAM managed policies (customer and AWS-managed), their versions and tags, attaching them to
users, roles and groups, and inline policies: the policy operations of ``IamProvider``."""

from __future__ import annotations

from typing import Any

from stratus.aws.api import iam as api
from stratus.aws.api.iam import DeleteConflictException, LimitExceededException, NoSuchEntityException
from stratus.aws.context import RequestContext
from stratus.services.iam import answers, model
from stratus.services.iam import store as db
from stratus.services.iam.entities import IamEntities, version_number
from stratus.services.iam.model import GROUP, POLICY, ROLE, USER
from stratus.services.iam.store import Entity
from stratus.store.base import Tx


class PolicyOperations(IamEntities):
    """Managed, AWS-managed and inline policies (mixed into ``IamProvider``)."""

    # --- managed policies -------------------------------------------------------------------

    async def create_policy(self, ctx: RequestContext, request: api.CreatePolicyRequest) -> api.CreatePolicyResponse:
        document = request["PolicyDocument"]
        model.check_policy_document(document)
        model.check_managed_policy_size(document)
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
        return {"Policy": answers.policy_view(policy, 0, 0)}

    async def get_policy(self, ctx: RequestContext, request: api.GetPolicyRequest) -> api.GetPolicyResponse:
        async with self.store.transaction() as tx:
            policy = await self._policy_by_arn(tx, ctx, request["PolicyArn"], attaching=False)
            count = len(await db.entities_with(tx, ctx.account, policy.arn))
            boundaries = await db.boundary_counts(tx, ctx.account)
        return {"Policy": answers.policy_view(policy, count, boundaries.get(policy.arn, 0))}

    async def list_policies(self, ctx: RequestContext, request: api.ListPoliciesRequest) -> api.ListPoliciesResponse:
        scope = request.get("Scope") or "All"
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            counts = await db.attachment_counts(tx, ctx.account)
            boundaries = await db.boundary_counts(tx, ctx.account)
            policies = await db.list_entities(tx, ctx.account, POLICY) if scope != "AWS" else []
        if scope != "Local":
            policies += [answers.aws_managed(name) for name in model.AWS_MANAGED]
        policies = [p for p in policies if p.path.startswith(prefix)]
        if request.get("OnlyAttached"):
            policies = [p for p in policies if counts.get(p.arn)]
        result = self._page(policies, lambda p: p.arn, request, "Policies")
        result["Policies"] = [answers.policy_view(p, counts.get(p.arn, 0), boundaries.get(p.arn, 0), tags=False) for p in result["Policies"]]
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
        model.check_managed_policy_size(document)
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
        return {"PolicyVersion": answers.version_view(version, document, now, policy.data["default_version"], False)}

    async def _versions(self, tx: Tx, ctx: RequestContext, policy_arn: str) -> tuple[Entity, list[tuple[int, str, int]]]:
        policy = await self._policy_by_arn(tx, ctx, policy_arn, attaching=False)
        if policy.account == "aws":
            return policy, [(1, model.AWS_MANAGED_DOCUMENT, policy.created_ms)]
        return policy, await db.list_versions(tx, policy.id)

    @staticmethod
    def _find_version(versions: list[tuple[int, str, int]], policy_arn: str, version_id: str) -> tuple[int, str, int]:
        wanted = version_number(version_id)
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
        return {"PolicyVersion": answers.version_view(*version, policy.data["default_version"], True)}

    async def list_policy_versions(
        self, ctx: RequestContext, request: api.ListPolicyVersionsRequest
    ) -> api.ListPolicyVersionsResponse:
        async with self.store.transaction() as tx:
            policy, versions = await self._versions(tx, ctx, request["PolicyArn"])
        default = policy.data["default_version"]
        # Newest first, as IAM lists them: a zero-padded key keeps that order through paging.
        page = model.paginate(versions, lambda v: f"{10**9 - v[0]:010d}", request.get("Marker"), request.get("MaxItems"))
        result = page.result("Versions")
        result["Versions"] = [answers.version_view(*v, default, False) for v in page.items]
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
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
            policy = await self._policy_by_arn(tx, ctx, request["PolicyArn"], attaching=True)
            attached = await db.attached_to(tx, entity.id)
            if policy.arn not in {a for a, _ in attached} and len(attached) >= model.MANAGED_POLICIES_PER_ENTITY:
                raise LimitExceededException(
                    f"Cannot exceed quota for {answers.QUOTA_NAME[kind]}: {model.MANAGED_POLICIES_PER_ENTITY}"
                )
            await db.attach(tx, ctx.account, entity.id, policy.arn, policy.name)

    async def _detach(self, ctx: RequestContext, kind: str, request: Any) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
            if not await db.detach(tx, entity.id, request["PolicyArn"]):
                raise NoSuchEntityException(f"Policy {request['PolicyArn']} was not found.")

    async def _list_attached(self, ctx: RequestContext, kind: str, request: Any) -> Any:
        prefix = request.get("PathPrefix") or "/"
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
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
        usage = request.get("PolicyUsageFilter")
        async with self.store.transaction() as tx:
            policy = await self._policy_by_arn(tx, ctx, request["PolicyArn"], attaching=False)
            # Without PolicyUsageFilter, entities using the policy either way: attached as a
            # permissions policy, or set as a user's or role's permissions boundary.
            entities: dict[str, Entity] = {}
            if usage != "PermissionsBoundary":
                attached = await db.get_entities_by_id(tx, await db.entities_with(tx, ctx.account, policy.arn))
                entities.update((e.id, e) for e in attached)
            if usage != "PermissionsPolicy":
                entities.update((e.id, e) for e in await db.bounded_by(tx, ctx.account, policy.arn))
        kinds = {"User": USER, "Role": ROLE, "Group": GROUP}
        found = [e for e in entities.values() if e.path.startswith(prefix)]
        if wanted in kinds:
            found = [e for e in found if e.kind == kinds[wanted]]
        page = model.paginate(found, lambda e: e.id, request.get("Marker"), request.get("MaxItems"))
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
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
            documents = await db.inline_documents(tx, entity.id)
            documents[request["PolicyName"]] = request["PolicyDocument"]
            model.check_inline_policies_size(kind, entity.name, list(documents.values()))
            await db.put_inline(tx, entity.id, request["PolicyName"], request["PolicyDocument"])

    async def _get_inline(self, ctx: RequestContext, kind: str, request: Any) -> Any:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
            document = await db.get_inline(tx, entity.id, request["PolicyName"])
        if document is None:
            raise NoSuchEntityException(f"The {kind} policy with name {request['PolicyName']} cannot be found.")
        return {
            answers.NAME_MEMBER[kind]: entity.name,
            "PolicyName": request["PolicyName"],
            "PolicyDocument": model.encoded(document),
        }

    async def _list_inline(self, ctx: RequestContext, kind: str, request: Any) -> Any:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
            names = await db.inline_names(tx, entity.id)
        return self._page(names, lambda n: n, request, "PolicyNames")

    async def _delete_inline(self, ctx: RequestContext, kind: str, request: Any) -> None:
        async with self.store.transaction() as tx:
            entity = await self._require(tx, ctx.account, kind, request[answers.NAME_MEMBER[kind]])
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

