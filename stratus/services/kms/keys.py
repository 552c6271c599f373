"""Finding keys and their material: the parts every KMS operation shares.

A ``KeyId`` argument may be a key id, a key ARN, an alias name or an alias ARN. Keys live
in the caller's account and region; an ARN of another account or region names nothing
here, so a ciphertext or key from account A is unusable from account B. An
``alias/aws/<service>`` alias that does not exist yet is created with its AWS managed key
on first use, as AWS does for the services that rely on it.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from stratus.aws.api.kms import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidStateException,
    NotFoundException,
)
from stratus.aws.context import RequestContext
from stratus.services.kms import crypto, model
from stratus.services.kms import store as db
from stratus.services.kms.model import DISABLED, PENDING_DELETION, Key
from stratus.store.base import Tx

ROTATE_TIMER = "kms.rotate"
# Unwrapped material and loaded private keys are kept in memory: a material id's secret never
# changes, and the key row (with its state) is still read on every request.
_CACHE_LIMIT = 10_000


def key_not_found(account: str, region: str, key_id: str) -> NotFoundException:
    return NotFoundException(f"Key '{model.arn(account, region, 'key/' + key_id)}' does not exist")


def require_usable(key: Key) -> None:
    """Cryptographic operations need an enabled key (AWS's key state table)."""
    if key.state == DISABLED:
        raise DisabledException(f"{key.arn} is disabled.")
    require_not_pending(key)


def require_not_pending(key: Key) -> None:
    if key.state == PENDING_DELETION:
        raise KMSInvalidStateException(f"{key.arn} is pending deletion.")


def require_usage(key: Key, usage: str, operation: str) -> None:
    if key.key_usage != usage:
        raise InvalidKeyUsageException(f"{key.arn} key usage is {key.key_usage} which is not valid for {operation}.")


def require_algorithm(key: Key, algorithm: str) -> None:
    if algorithm not in key.algorithms[1]:
        raise InvalidKeyUsageException(f"Algorithm {algorithm} is incompatible with key spec {key.key_spec}.")


def require_symmetric(key: Key, operation: str) -> None:
    require_usage(key, "ENCRYPT_DECRYPT", operation)
    if not key.symmetric:
        raise InvalidKeyUsageException(f"{key.arn} key spec is {key.key_spec} which is not valid for {operation}.")


def dry_run(request: Any) -> None:
    """Raise the DryRun answer: every check passed, and nothing is returned."""
    if request.get("DryRun"):
        raise DryRunOperationException("The request would have succeeded, but the DryRun option is set.", status=412)


class KeyRing:
    """The master key, the material caches and key resolution, shared by the KMS operations."""

    def __init__(self, timers: Any) -> None:
        self._timers = timers
        self._master = b""
        self._secrets: dict[tuple[str, str], bytes] = {}
        self._private: dict[tuple[str, str], PrivateKeyTypes] = {}

    async def load_master(self, tx: Tx) -> None:
        self._master = await db.master_key(tx, os.urandom(32))

    # --- resolution -------------------------------------------------------------------------

    async def resolve(self, tx: Tx, ctx: RequestContext, value: str, now: int, *, aliases: bool = True) -> Key:
        """The key ``value`` names in the caller's account and region; NotFoundException if none."""
        ref = model.parse_key_ref(value, ctx.account, ctx.region)
        if ref is None:
            raise NotFoundException(f"Invalid arn {value}")
        if ref.kind == "alias":
            alias_arn = model.arn(ref.account, ref.region, ref.name)
            if not aliases or ref.account != ctx.account or ref.region != ctx.region:
                raise NotFoundException(f"Alias {alias_arn} is not found.")
            alias = await db.get_alias(tx, ctx.account, ctx.region, ref.name)
            if alias is None:
                if model.is_aws_managed_alias(ref.name):
                    return await self._managed_key(tx, ctx, ref.name, now)
                raise NotFoundException(f"Alias {alias_arn} is not found.")
            key_id = alias.key_id
        else:
            if ref.account != ctx.account or ref.region != ctx.region:
                raise key_not_found(ref.account, ref.region, ref.name)
            if not model.looks_like_key_id(ref.name):
                raise NotFoundException(f"Invalid keyId {value}")
            key_id = ref.name
        key = await db.get_key(tx, ctx.account, ctx.region, key_id)
        if key is None:
            raise key_not_found(ctx.account, ctx.region, key_id)
        return key

    async def _managed_key(self, tx: Tx, ctx: RequestContext, alias_name: str, now: int) -> Key:
        service = alias_name.removeprefix(model.AWS_MANAGED_PREFIX)
        key = Key(
            account=ctx.account,
            region=ctx.region,
            key_id=model.new_key_id(False),
            created_ms=now,
            key_spec=model.SYMMETRIC,
            key_usage="ENCRYPT_DECRYPT",
            description=model.managed_key_description(service),
            key_manager="AWS",
            policy=model.managed_key_policy(ctx.account, ctx.region, service),
        )
        if not await db.insert_alias(tx, ctx.account, ctx.region, alias_name, key.key_id, now):
            # Another request (perhaps on another node) created it first: use that one.
            alias = await db.get_alias(tx, ctx.account, ctx.region, alias_name)
            found = alias and await db.get_key(tx, ctx.account, ctx.region, alias.key_id)
            if not found:
                raise key_not_found(ctx.account, ctx.region, alias.key_id if alias else alias_name)
            return found
        # AWS rotates its managed keys every year.
        key.rotation_period_days = model.DEFAULT_ROTATION_PERIOD_DAYS
        key.next_rotation_ms = now + key.rotation_period_days * model.DAY_MS
        await self.insert(tx, key, crypto.new_material(model.SYMMETRIC))
        return key

    async def insert(self, tx: Tx, key: Key, material: bytes) -> None:
        """Store a new key with its first material (and its rotation timer, if rotation is on)."""
        key.current_material = crypto.new_material_id()
        await db.insert_key(tx, key, self.wrap(key, key.current_material, material))
        if key.next_rotation_ms is not None:
            await self.schedule_rotation(tx, key)

    async def schedule_rotation(self, tx: Tx, key: Key) -> None:
        assert key.next_rotation_ms is not None
        await self._timers.schedule(tx, ROTATE_TIMER, timer_key(key), key.next_rotation_ms, timer_payload(key))

    # --- material ---------------------------------------------------------------------------

    def wrap(self, key: Key, material_id: str, secret: bytes) -> bytes:
        return crypto.wrap(self._master, f"{key.arn}/{material_id}", secret)

    async def secret(self, tx: Tx, key: Key, material_id: str | None = None) -> bytes | None:
        """The key's secret material (its current one by default); None when it has no such material."""
        material_id = material_id or key.current_material
        cache_key = (key.arn, material_id)
        found = self._secrets.get(cache_key)
        if found is None:
            wrapped = await db.wrapped_material(tx, key, material_id)
            if wrapped is None:
                return None
            found = crypto.unwrap(self._master, f"{key.arn}/{material_id}", wrapped)
            if len(self._secrets) >= _CACHE_LIMIT:
                self._secrets.clear()
            self._secrets[cache_key] = found
        return found

    async def private_key(self, tx: Tx, key: Key) -> PrivateKeyTypes:
        cache_key = (key.arn, key.current_material)
        found = self._private.get(cache_key)
        if found is None:
            der = await self.secret(tx, key)
            assert der is not None, f"{key.arn} has lost its material"
            found = await asyncio.to_thread(crypto.load_private_key, der)
            if len(self._private) >= _CACHE_LIMIT:
                self._private.clear()
            self._private[cache_key] = found
        return found


def timer_key(key: Key) -> str:
    return f"{key.account}/{key.region}/{key.key_id}"


def timer_payload(key: Key) -> dict[str, str]:
    return {"account": key.account, "region": key.region, "key_id": key.key_id}
