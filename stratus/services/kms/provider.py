"""AWS KMS: keys and their life cycle, aliases, key policies, tags and rotation.

The cryptographic operations live in ``cryptographic.py``; finding keys and their material
in ``keys.py``. Scheduled deletion and automatic rotation are durable timers on the
stratus clock, so they happen across restarts and when a test advances the clock.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from stratus.aws.api.kms import (
    AlreadyExistsException,
    CancelKeyDeletionRequest,
    CancelKeyDeletionResponse,
    CreateAliasRequest,
    CreateKeyRequest,
    CreateKeyResponse,
    CustomKeyStoreNotFoundException,
    DeleteAliasRequest,
    DescribeKeyRequest,
    DescribeKeyResponse,
    DisableKeyRequest,
    DisableKeyRotationRequest,
    EnableKeyRequest,
    EnableKeyRotationRequest,
    GetKeyPolicyRequest,
    GetKeyPolicyResponse,
    GetKeyRotationStatusRequest,
    GetKeyRotationStatusResponse,
    InvalidAliasNameException,
    InvalidMarkerException,
    KmsApi,
    KMSInvalidStateException,
    LimitExceededException,
    ListAliasesRequest,
    ListAliasesResponse,
    ListKeyPoliciesRequest,
    ListKeyPoliciesResponse,
    ListKeyRotationsRequest,
    ListKeyRotationsResponse,
    ListKeysRequest,
    ListKeysResponse,
    ListResourceTagsRequest,
    ListResourceTagsResponse,
    MalformedPolicyDocumentException,
    NotFoundException,
    PutKeyPolicyRequest,
    RotateKeyOnDemandRequest,
    RotateKeyOnDemandResponse,
    ScheduleKeyDeletionRequest,
    ScheduleKeyDeletionResponse,
    TagException,
    TagResourceRequest,
    UnsupportedOperationException,
    UntagResourceRequest,
    UpdateAliasRequest,
    UpdateKeyDescriptionRequest,
)
from stratus.aws.arns import root_arn
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, ValidationException
from stratus.engine.timers import Timer
from stratus.services.kms import crypto, model
from stratus.services.kms import store as db
from stratus.services.kms.cryptographic import CryptographicOperations
from stratus.services.kms.keys import (
    ROTATE_TIMER,
    KeyRing,
    require_not_pending,
    require_usable,
    timer_key,
    timer_payload,
)
from stratus.services.kms.model import DISABLED, ENABLED, PENDING_DELETION, Key
from stratus.store import load_migrations
from stratus.store.base import Tx

DELETE_TIMER = "kms.delete"
DEFAULT_LIMIT = 100
# AWS allows ten on-demand rotations of a key in its lifetime.
MAX_ON_DEMAND_ROTATIONS = 10


class NotAuthorizedException(AwsError):
    """What AWS answers to a customer changing an ``alias/aws/`` alias (not an error shape of the model)."""

    code = "NotAuthorizedException"


class AccessDeniedException(AwsError):
    code = "AccessDeniedException"


def _require_customer_managed(ctx: RequestContext, key: Key) -> None:
    """AWS managed keys are managed by AWS: their key policy lets customers read and use them, not change them."""
    if key.key_manager == "AWS":
        action = f"kms:{ctx.operation}"
        principal = ctx.principal_arn or root_arn(ctx.account)
        raise AccessDeniedException(
            f"User: {principal} is not authorized to perform: {action} on resource: {key.arn}"
            f" because no resource-based policy allows the {action} action"
        )


def _reserved_alias(name: str) -> NotAuthorizedException:
    return NotAuthorizedException(f"Alias {name} is reserved for AWS managed keys.")


def _page(items: list[Any], request: Any) -> tuple[list[Any], str | None]:
    """One page of ``items`` from the index in Marker, and the marker of the next page (or None)."""
    marker = request.get("Marker")
    try:
        start = int(marker) if marker else 0
    except ValueError:
        raise InvalidMarkerException("Marker is invalid.") from None
    if start < 0:
        raise InvalidMarkerException("Marker is invalid.")
    limit = request.get("Limit", DEFAULT_LIMIT)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def _paged(member: str, items: list[Any], request: Any) -> dict[str, Any]:
    page, next_marker = _page(items, request)
    out: dict[str, Any] = {member: page, "Truncated": next_marker is not None}
    if next_marker:
        out["NextMarker"] = next_marker
    return out


def _check_policy(policy: str) -> None:
    try:
        document = json.loads(policy)
    except ValueError:
        raise MalformedPolicyDocumentException("The policy is not valid JSON.") from None
    if not isinstance(document, dict) or not document.get("Statement"):
        raise MalformedPolicyDocumentException("The policy must contain at least one Statement.")


def _check_tags(tags: list[dict[str, str]]) -> None:
    problem = model.tag_problem(tags)
    if problem:
        raise TagException(problem)


class KmsProvider(CryptographicOperations, KmsApi):
    async def start(self) -> None:
        await self.store.migrate("kms", load_migrations("stratus.services.kms"))
        self.keys = KeyRing(self.timers)
        async with self.store.transaction() as tx:
            await self.keys.load_master(tx)
        self.timers.on(DELETE_TIMER, self._on_delete)
        self.timers.on(ROTATE_TIMER, self._on_rotate)

    async def _resolve(self, tx: Tx, ctx: RequestContext, key_id: str, *, aliases: bool = True) -> Key:
        return await self.keys.resolve(tx, ctx, key_id, self.clock.now_ms(), aliases=aliases)

    # --- keys -------------------------------------------------------------------------------

    async def create_key(self, ctx: RequestContext, request: CreateKeyRequest) -> CreateKeyResponse:
        if request.get("KeySpec") and request.get("CustomerMasterKeySpec"):
            raise ValidationException("You cannot specify KeySpec and CustomerMasterKeySpec in the same request.")
        spec = request.get("KeySpec") or request.get("CustomerMasterKeySpec") or model.SYMMETRIC
        usage = request.get("KeyUsage", "ENCRYPT_DECRYPT")
        if spec not in model.KEY_USAGES:
            raise UnsupportedOperationException(f"KeySpec {spec} is not supported by stratus.")
        if usage not in model.KEY_USAGES[spec]:
            raise ValidationException(f"KeyUsage {usage} is not compatible with KeySpec {spec}")
        if request.get("Origin", "AWS_KMS") != "AWS_KMS":
            raise UnsupportedOperationException(f"Origin {request['Origin']} is not supported by stratus.")
        if request.get("CustomKeyStoreId"):
            raise CustomKeyStoreNotFoundException(f"Custom key store {request['CustomKeyStoreId']} does not exist.")
        policy = request.get("Policy") or model.default_policy(ctx.account)
        _check_policy(policy)
        tags = model.merge_tags([], request.get("Tags", []))
        _check_tags(tags)
        multi_region = bool(request.get("MultiRegion"))
        now = self.clock.now_ms()
        key = Key(
            account=ctx.account,
            region=ctx.region,
            key_id=model.new_key_id(multi_region),
            created_ms=now,
            key_spec=spec,
            key_usage=usage,
            description=request.get("Description", ""),
            multi_region=multi_region,
            policy=policy,
            tags=tags,
        )
        # RSA key generation takes a while: off the event loop, and before the transaction.
        material = await asyncio.to_thread(crypto.new_material, spec)
        async with self.store.transaction() as tx:
            await self.keys.insert(tx, key, material)
        return {"KeyMetadata": key.metadata()}  # type: ignore[typeddict-item]

    async def describe_key(self, ctx: RequestContext, request: DescribeKeyRequest) -> DescribeKeyResponse:
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, request["KeyId"])
        return {"KeyMetadata": key.metadata()}  # type: ignore[typeddict-item]

    async def list_keys(self, ctx: RequestContext, request: ListKeysRequest) -> ListKeysResponse:
        limit = request.get("Limit", DEFAULT_LIMIT)
        marker = request.get("Marker", "")
        # The marker is the last key id of the previous page; anything else was not handed out by us.
        if marker and not model.looks_like_key_id(marker):
            raise InvalidMarkerException("Marker is invalid.")
        async with self.store.transaction() as tx:
            ids = await db.list_key_ids(tx, ctx.account, ctx.region, marker, limit + 1)
        page = ids[:limit]
        out: dict[str, Any] = {
            "Keys": [{"KeyId": i, "KeyArn": model.arn(ctx.account, ctx.region, f"key/{i}")} for i in page],
            "Truncated": len(ids) > limit,
        }
        if len(ids) > limit:
            out["NextMarker"] = page[-1]
        return out  # type: ignore[return-value]

    async def _change(self, ctx: RequestContext, key_id: str, change: Any) -> Key:
        """Resolve the (customer managed) key, apply ``change(tx, key)`` (which checks and mutates it), store it."""
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, key_id)
            _require_customer_managed(ctx, key)
            await change(tx, key)
            await db.update_key(tx, key)
        return key

    async def update_key_description(self, ctx: RequestContext, request: UpdateKeyDescriptionRequest) -> dict[str, Any]:
        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            key.description = request["Description"]

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def enable_key(self, ctx: RequestContext, request: EnableKeyRequest) -> dict[str, Any]:
        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            key.state = ENABLED

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def disable_key(self, ctx: RequestContext, request: DisableKeyRequest) -> dict[str, Any]:
        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            key.state = DISABLED

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def schedule_key_deletion(
        self, ctx: RequestContext, request: ScheduleKeyDeletionRequest
    ) -> ScheduleKeyDeletionResponse:
        days = request.get("PendingWindowInDays", model.DEFAULT_PENDING_WINDOW_DAYS)
        low, high = model.PENDING_WINDOW_DAYS
        if not low <= days <= high:
            bound = f"greater than or equal to {low}" if days < low else f"less than or equal to {high}"
            raise ValidationException(
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: "
                f"Member must have value {bound}"
            )

        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            key.state = PENDING_DELETION
            key.deletion_ms = self.clock.now_ms() + days * model.DAY_MS
            key.pending_days = days
            await self.timers.schedule(tx, DELETE_TIMER, timer_key(key), key.deletion_ms, timer_payload(key))

        key = await self._change(ctx, request["KeyId"], change)
        assert key.deletion_ms is not None
        return {
            "KeyId": key.arn,
            "DeletionDate": model.ms_to_datetime(key.deletion_ms),
            "KeyState": PENDING_DELETION,
            "PendingWindowInDays": days,
        }

    async def cancel_key_deletion(
        self, ctx: RequestContext, request: CancelKeyDeletionRequest
    ) -> CancelKeyDeletionResponse:
        async def change(tx: Tx, key: Key) -> None:
            if key.state != PENDING_DELETION:
                raise KMSInvalidStateException(f"{key.arn} is not pending deletion.")
            # As AWS does: a key whose deletion is cancelled comes back disabled.
            key.state, key.deletion_ms, key.pending_days = DISABLED, None, None
            await self.timers.cancel(tx, DELETE_TIMER, timer_key(key))

        key = await self._change(ctx, request["KeyId"], change)
        return {"KeyId": key.arn}

    async def _on_delete(self, timer: Timer) -> None:
        payload = timer.payload
        async with self.store.transaction() as tx:
            key = await db.get_key(tx, payload["account"], payload["region"], payload["key_id"])
            # Idempotent: the deletion may have been cancelled, or already done by another node.
            if key is None or key.state != PENDING_DELETION or (key.deletion_ms or 0) > self.clock.now_ms():
                return
            await db.delete_key(tx, key)
            await self.timers.cancel(tx, ROTATE_TIMER, timer_key(key))

    # --- aliases ----------------------------------------------------------------------------

    def _alias_arn(self, ctx: RequestContext, name: str) -> str:
        return model.arn(ctx.account, ctx.region, name)

    def _check_customer_alias(self, name: str) -> None:
        problem = model.alias_name_problem(name)
        if problem:
            raise InvalidAliasNameException(problem)
        if name.startswith(model.AWS_MANAGED_PREFIX):
            raise _reserved_alias(name)

    async def create_alias(self, ctx: RequestContext, request: CreateAliasRequest) -> dict[str, Any]:
        name = request["AliasName"]
        self._check_customer_alias(name)
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, request["TargetKeyId"], aliases=False)
            _require_customer_managed(ctx, key)
            require_not_pending(key)
            if not await db.insert_alias(tx, ctx.account, ctx.region, name, key.key_id, self.clock.now_ms()):
                raise AlreadyExistsException(f"An alias with the name {self._alias_arn(ctx, name)} already exists")
        return {}

    async def _customer_alias(self, tx: Tx, ctx: RequestContext, name: str) -> db.Alias:
        self._check_customer_alias(name)
        alias = await db.get_alias(tx, ctx.account, ctx.region, name)
        if alias is None:
            raise NotFoundException(f"Alias {self._alias_arn(ctx, name)} is not found.")
        return alias

    async def update_alias(self, ctx: RequestContext, request: UpdateAliasRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            alias = await self._customer_alias(tx, ctx, request["AliasName"])
            key = await self._resolve(tx, ctx, request["TargetKeyId"], aliases=False)
            _require_customer_managed(ctx, key)
            require_not_pending(key)
            current = await db.get_key(tx, ctx.account, ctx.region, alias.key_id)
            if current is not None and (current.key_spec, current.key_usage) != (key.key_spec, key.key_usage):
                raise ValidationException(
                    f"{key.arn} is not the same type of KMS key as the current target {current.arn}: an alias must "
                    "point to keys of the same key spec and key usage."
                )
            await db.retarget_alias(tx, alias, key.key_id, self.clock.now_ms())
        return {}

    async def delete_alias(self, ctx: RequestContext, request: DeleteAliasRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            alias = await self._customer_alias(tx, ctx, request["AliasName"])
            await db.delete_alias(tx, alias)
        return {}

    async def list_aliases(self, ctx: RequestContext, request: ListAliasesRequest) -> ListAliasesResponse:
        async with self.store.transaction() as tx:
            key_id = None
            if request.get("KeyId"):
                key_id = (await self._resolve(tx, ctx, request["KeyId"], aliases=False)).key_id
            aliases = await db.list_aliases(tx, ctx.account, ctx.region, key_id)
        entries = [
            {
                "AliasName": a.name,
                "AliasArn": self._alias_arn(ctx, a.name),
                "TargetKeyId": a.key_id,
                "CreationDate": model.ms_to_datetime(a.created_ms),
                "LastUpdatedDate": model.ms_to_datetime(a.updated_ms),
            }
            for a in aliases
        ]
        return _paged("Aliases", entries, request)  # type: ignore[return-value]

    # --- policies ---------------------------------------------------------------------------

    @staticmethod
    def _check_policy_name(name: str) -> None:
        if name != model.DEFAULT_POLICY_NAME:
            raise NotFoundException("No such policy exists")

    async def get_key_policy(self, ctx: RequestContext, request: GetKeyPolicyRequest) -> GetKeyPolicyResponse:
        name = request.get("PolicyName", model.DEFAULT_POLICY_NAME)
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, request["KeyId"])
        self._check_policy_name(name)
        return {"Policy": key.policy, "PolicyName": name}

    async def put_key_policy(self, ctx: RequestContext, request: PutKeyPolicyRequest) -> dict[str, Any]:
        self._check_policy_name(request.get("PolicyName", model.DEFAULT_POLICY_NAME))
        _check_policy(request["Policy"])

        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            key.policy = request["Policy"]

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def list_key_policies(self, ctx: RequestContext, request: ListKeyPoliciesRequest) -> ListKeyPoliciesResponse:
        async with self.store.transaction() as tx:
            await self._resolve(tx, ctx, request["KeyId"])
        return _paged("PolicyNames", [model.DEFAULT_POLICY_NAME], request)  # type: ignore[return-value]

    # --- tags -------------------------------------------------------------------------------

    async def tag_resource(self, ctx: RequestContext, request: TagResourceRequest) -> dict[str, Any]:
        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            tags = model.merge_tags(key.tags, request["Tags"])
            _check_tags(tags)
            key.tags = tags

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceRequest) -> dict[str, Any]:
        async def change(tx: Tx, key: Key) -> None:
            require_not_pending(key)
            removed = set(request["TagKeys"])
            key.tags = [t for t in key.tags if t["TagKey"] not in removed]

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def list_resource_tags(self, ctx: RequestContext, request: ListResourceTagsRequest) -> ListResourceTagsResponse:
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, request["KeyId"])
        return _paged("Tags", key.tags, request)  # type: ignore[return-value]

    # --- rotation ---------------------------------------------------------------------------

    @staticmethod
    def _require_rotatable(key: Key) -> None:
        if not key.symmetric:
            raise UnsupportedOperationException(f"{key.arn} key spec {key.key_spec} does not support key rotation.")

    async def enable_key_rotation(self, ctx: RequestContext, request: EnableKeyRotationRequest) -> dict[str, Any]:
        period = request.get("RotationPeriodInDays", model.DEFAULT_ROTATION_PERIOD_DAYS)

        async def change(tx: Tx, key: Key) -> None:
            require_usable(key)
            self._require_rotatable(key)
            key.rotation_period_days = period
            key.next_rotation_ms = self.clock.now_ms() + period * model.DAY_MS
            await self.keys.schedule_rotation(tx, key)

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def disable_key_rotation(self, ctx: RequestContext, request: DisableKeyRotationRequest) -> dict[str, Any]:
        async def change(tx: Tx, key: Key) -> None:
            require_usable(key)
            self._require_rotatable(key)
            key.rotation_period_days = key.next_rotation_ms = None
            await self.timers.cancel(tx, ROTATE_TIMER, timer_key(key))

        await self._change(ctx, request["KeyId"], change)
        return {}

    async def get_key_rotation_status(
        self, ctx: RequestContext, request: GetKeyRotationStatusRequest
    ) -> GetKeyRotationStatusResponse:
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, request["KeyId"])
        self._require_rotatable(key)
        out: dict[str, Any] = {"KeyRotationEnabled": key.rotation_period_days is not None, "KeyId": key.arn}
        if key.rotation_period_days is not None and key.next_rotation_ms is not None:
            out["RotationPeriodInDays"] = key.rotation_period_days
            out["NextRotationDate"] = model.ms_to_datetime(key.next_rotation_ms)
        if key.on_demand_rotation_ms is not None:
            out["OnDemandRotationStartDate"] = model.ms_to_datetime(key.on_demand_rotation_ms)
        return out  # type: ignore[return-value]

    async def _rotate(self, tx: Tx, key: Key, rotation_type: str, now: int) -> None:
        """Give the key new material; the old material stays, so old ciphertexts still decrypt."""
        material_id = crypto.new_material_id()
        wrapped = self.keys.wrap(key, material_id, crypto.new_material(key.key_spec))
        await db.add_material(tx, key, material_id, wrapped, now, rotation_type)
        key.current_material = material_id

    async def rotate_key_on_demand(
        self, ctx: RequestContext, request: RotateKeyOnDemandRequest
    ) -> RotateKeyOnDemandResponse:
        async def change(tx: Tx, key: Key) -> None:
            require_usable(key)
            self._require_rotatable(key)
            done = sum(1 for m in await db.materials(tx, key) if m.rotation_type == "ON_DEMAND")
            if done >= MAX_ON_DEMAND_ROTATIONS:
                raise LimitExceededException(
                    f"{key.arn} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations."
                )
            now = self.clock.now_ms()
            await self._rotate(tx, key, "ON_DEMAND", now)
            key.on_demand_rotation_ms = now

        key = await self._change(ctx, request["KeyId"], change)
        return {"KeyId": key.arn}

    async def list_key_rotations(self, ctx: RequestContext, request: ListKeyRotationsRequest) -> ListKeyRotationsResponse:
        async with self.store.transaction() as tx:
            key = await self._resolve(tx, ctx, request["KeyId"])
            self._require_rotatable(key)
            materials = await db.materials(tx, key)
        rotations = [
            {
                "KeyId": key.arn,
                "KeyMaterialId": m.material_id,
                "RotationDate": model.ms_to_datetime(m.created_ms),
                "RotationType": m.rotation_type,
            }
            for m in materials
            if m.rotation_type is not None
        ]
        return _paged("Rotations", rotations, request)  # type: ignore[return-value]

    async def _on_rotate(self, timer: Timer) -> None:
        payload = timer.payload
        async with self.store.transaction() as tx:
            key = await db.get_key(tx, payload["account"], payload["region"], payload["key_id"])
            now = self.clock.now_ms()
            if key is None or key.rotation_period_days is None or key.next_rotation_ms is None:
                return
            if key.next_rotation_ms > now:
                return  # rescheduled meanwhile: the newer timer does it
            # AWS does not rotate a key that is disabled or pending deletion; it tries again a period later.
            if key.state == ENABLED:
                await self._rotate(tx, key, "AUTOMATIC", now)
            key.next_rotation_ms = now + key.rotation_period_days * model.DAY_MS
            await db.update_key(tx, key)
            await self.keys.schedule_rotation(tx, key)
