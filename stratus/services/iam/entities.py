"""What IAM's operations share: finding entities (with IAM's errors), creating them, paging and tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.aws.api.iam import DeleteConflictException, EntityAlreadyExistsException, NoSuchEntityException
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.services.iam import answers, model
from stratus.services.iam import store as db
from stratus.services.iam.model import POLICY
from stratus.services.iam.store import Entity
from stratus.store.base import Tx

if TYPE_CHECKING:
    from stratus.engine.clock import Clock
    from stratus.store.base import Store


def validation_error(message: str) -> AwsError:
    return AwsError(message, code="ValidationError")


def not_attachable(policy_arn: str) -> NoSuchEntityException:
    return NoSuchEntityException(f"Policy {policy_arn} does not exist or is not attachable.")


def version_number(version_id: str) -> int:
    return int(version_id[1:].split(".", 1)[0])


class IamEntities:
    """Helpers of the IAM provider and its mixins (which supply ``store`` and ``clock``)."""

    store: Store
    clock: Clock

    async def _require(self, tx: Tx, account: str, kind: str, name: str) -> Entity:
        entity = await db.get_entity(tx, account, kind, name)
        if entity is None:
            raise NoSuchEntityException(answers.NOT_FOUND[kind].format(name))
        return entity

    async def _create(self, tx: Tx, entity: Entity) -> None:
        if not await db.insert_entity(tx, entity):
            raise EntityAlreadyExistsException(answers.EXISTS[entity.kind].format(entity.name))

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
            return answers.aws_managed(aws_name)
        policy = None
        if model.policy_account(policy_arn) == ctx.account:
            policy = await db.get_entity(tx, ctx.account, POLICY, policy_arn.rsplit("/", 1)[1])
        if policy is None or policy.arn != policy_arn:
            if attaching:
                raise not_attachable(policy_arn)
            raise NoSuchEntityException(f"Policy {policy_arn} was not found.")
        return policy

    async def _customer_policy(self, tx: Tx, ctx: RequestContext, policy_arn: str) -> Entity:
        policy = await self._policy_by_arn(tx, ctx, policy_arn, attaching=False)
        if policy.account == "aws":
            raise validation_error(f"The policy {policy_arn} is an AWS managed policy and cannot be changed.")
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
            raise validation_error("Must specify userName when calling with non-User credentials")
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

    async def _check_no_policies(self, tx: Tx, entity: Entity) -> None:
        if await db.inline_names(tx, entity.id):
            raise DeleteConflictException(answers.MUST_DELETE_INLINE)
        if await db.attached_to(tx, entity.id):
            raise DeleteConflictException(answers.MUST_DETACH)

