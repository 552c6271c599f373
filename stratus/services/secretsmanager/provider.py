"""AWS Secrets Manager: secrets, versions with staging labels, deletion windows, policies, rotation.

Values are encrypted at rest (envelope encryption through KMS, see ``envelope.py``). KMS is
another service, called through the internal client, so it is never called inside one of our
transactions: an operation reads in one transaction, talks to KMS, then writes in a second
transaction that re-checks what the first one saw. Scheduled deletion and rotation are durable
timers on the stratus clock.
"""

from __future__ import annotations

import uuid
from typing import Any

from stratus.aws.api.secretsmanager import (
    BatchGetSecretValueRequest,
    BatchGetSecretValueResponse,
    CancelRotateSecretRequest,
    CancelRotateSecretResponse,
    CreateSecretRequest,
    CreateSecretResponse,
    DecryptionFailure,
    DeleteResourcePolicyRequest,
    DeleteResourcePolicyResponse,
    DeleteSecretRequest,
    DeleteSecretResponse,
    DescribeSecretRequest,
    DescribeSecretResponse,
    GetRandomPasswordRequest,
    GetRandomPasswordResponse,
    GetResourcePolicyRequest,
    GetResourcePolicyResponse,
    GetSecretValueRequest,
    GetSecretValueResponse,
    InvalidNextTokenException,
    InvalidParameterException,
    InvalidRequestException,
    LimitExceededException,
    ListSecretsRequest,
    ListSecretsResponse,
    ListSecretVersionIdsRequest,
    ListSecretVersionIdsResponse,
    MalformedPolicyDocumentException,
    PublicPolicyException,
    PutResourcePolicyRequest,
    PutResourcePolicyResponse,
    PutSecretValueRequest,
    PutSecretValueResponse,
    ResourceExistsException,
    ResourceNotFoundException,
    RestoreSecretRequest,
    RestoreSecretResponse,
    RotateSecretRequest,
    RotateSecretResponse,
    SecretsmanagerApi,
    TagResourceRequest,
    UntagResourceRequest,
    UpdateSecretRequest,
    UpdateSecretResponse,
    UpdateSecretVersionStageRequest,
    UpdateSecretVersionStageResponse,
    ValidateResourcePolicyRequest,
    ValidateResourcePolicyResponse,
)
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.pagination import page_token, token_offset
from stratus.engine.timers import Timer
from stratus.services.secretsmanager import model
from stratus.services.secretsmanager import store as db
from stratus.services.secretsmanager.envelope import Sealed, seal, unseal
from stratus.services.secretsmanager.model import AWSCURRENT, AWSPENDING, Secret, Version
from stratus.services.secretsmanager.rotation import ROTATION_TIMER, Rotations, pending_version, require_function, rotation_schedule
from stratus.store import load_migrations
from stratus.store.base import Tx

DELETION_TIMER = "secretsmanager.deletion"
_MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."


def _not_found() -> ResourceNotFoundException:
    return ResourceNotFoundException("Secrets Manager can't find the specified secret.")


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _offset(token: str | None) -> int:
    return token_offset(token, InvalidNextTokenException("The NextToken value is invalid."))


def _value_of(request: dict[str, Any]) -> tuple[str, bytes] | None:
    """(kind, bytes) of the SecretString or SecretBinary in ``request``, None when neither."""
    text, binary = request.get("SecretString"), request.get("SecretBinary")
    if text is not None and binary is not None:
        raise InvalidParameterException(
            "You can't specify both a binary secret value and a string secret value in the same secret."
        )
    if text is not None:
        return "string", text.encode()
    if binary is not None:
        return "binary", bytes(binary)
    return None


def _forced_absent(ctx: RequestContext, secret_id: str, now_ms: int) -> DeleteSecretResponse:
    """A forced DeleteSecret of a secret that does not exist: it succeeds, naming what was asked for."""
    ref = model.parse_secret_id(secret_id, ctx.account, ctx.region)
    arn = secret_id if ref.is_arn else model.partial_arn(ctx.account, ctx.region, secret_id)
    return {"ARN": arn, "Name": ref.name, "DeletionDate": _seconds(now_ms)}  # type: ignore[typeddict-item]


def _sealed(version: Version) -> Sealed:
    assert version.ciphertext is not None and version.data_key is not None and version.kms_key_arn is not None
    return Sealed(version.ciphertext, version.data_key, version.kms_key_arn)


def _value_fields(kind: str, plaintext: bytes) -> dict[str, Any]:
    return {"SecretString": plaintext.decode()} if kind == "string" else {"SecretBinary": plaintext}


def _stages_map(versions: list[Version]) -> dict[str, list[str]]:
    return {v.version_id: list(v.stages) for v in versions if v.stages}


def _apply_labels(versions: list[Version], target: Version, labels: list[str]) -> None:
    for label in labels:
        if label == AWSCURRENT:
            model.make_current(versions, target)
        else:
            model.move_label(versions, label, target)


def _check_labels(versions: list[Version]) -> None:
    if sum(len(v.stages) for v in versions) > model.MAX_LABELS:
        raise LimitExceededException("A secret can have at most 20 staging labels attached across all of its versions.")


class SecretsmanagerProvider(SecretsmanagerApi):
    rotations: Rotations

    async def start(self) -> None:
        await self.store.migrate("secretsmanager", load_migrations("stratus.services.secretsmanager"))
        self.rotations = Rotations(self)
        self.timers.on(DELETION_TIMER, self._on_deletion)
        self.timers.on(ROTATION_TIMER, self.rotations.on_timer)

    # --- helpers ----------------------------------------------------------------------------

    async def _find(self, tx: Tx, ctx: RequestContext, secret_id: str) -> Secret | None:
        ref = model.parse_secret_id(secret_id, ctx.account, ctx.region)
        return await db.find_secret(tx, ref.account, ref.region, ref.name, secret_id if ref.is_arn else None)

    async def _secret(self, tx: Tx, ctx: RequestContext, secret_id: str, *, active: bool = True) -> Secret:
        secret = await self._find(tx, ctx, secret_id)
        if secret is None:
            raise _not_found()
        if active and secret.scheduled_for_deletion:
            raise InvalidRequestException(_MARKED_FOR_DELETION)
        return secret

    def empty_version(self, secret: Secret, version_id: str, stages: list[str]) -> Version:
        return Version(secret.id, version_id, stages, self.clock.now_ms(), None, None, None, None, None)

    async def _sealed_version(
        self, ctx: RequestContext, secret: Secret, version_id: str, kind: str, plaintext: bytes, stages: list[str]
    ) -> Version:
        sealed = await seal(ctx.client, secret.kms_key_id, secret.arn, version_id, plaintext)  # type: ignore[arg-type]
        return Version(
            secret.id, version_id, stages, self.clock.now_ms(), None, kind, sealed.ciphertext, sealed.data_key, sealed.kms_key_arn
        )

    async def _plaintext(self, ctx: RequestContext, secret: Secret, version: Version) -> bytes:
        return await unseal(ctx.client, _sealed(version), secret.arn, version.version_id)  # type: ignore[arg-type]

    async def _same_value(self, ctx: RequestContext, secret: Secret, version: Version, value: tuple[str, bytes]) -> bool:
        if version.kind is None:
            return False
        return version.kind == value[0] and await self._plaintext(ctx, secret, version) == value[1]

    async def _prepare_version(
        self, ctx: RequestContext, secret: Secret, versions: list[Version], token: str, value: tuple[str, bytes]
    ) -> tuple[Version, bool]:
        """(version, whether it is new): the sealed new version ``token`` of PutSecretValue or
        UpdateSecret (KMS, outside any transaction). The same value again under an existing
        version id answers that version (an idempotent retry); another value is
        ResourceExistsException.
        """
        existing = next((v for v in versions if v.version_id == token), None)
        if existing is not None and existing.kind is not None:
            if await self._same_value(ctx, secret, existing, value):
                return existing, False
            raise ResourceExistsException("You can't modify an existing version, you can only create a new version.")
        return await self._sealed_version(ctx, secret, token, value[0], value[1], []), True

    async def _commit_version(self, tx: Tx, fresh: Secret, sealed: Version, labels: list[str] | None) -> list[str]:
        """Store ``sealed`` in the caller's write transaction, re-checking what was read before
        KMS was called; move the labels, prune old versions. Answers the version's labels.

        A version rotation created without a value (AWSPENDING) gets its value here. The
        caller writes the secret's row (``changed_ms`` is set here).
        """
        versions = await db.versions(tx, fresh.id)
        existing = next((v for v in versions if v.version_id == sealed.version_id), None)
        if existing is not None and existing.kind is not None:
            raise ResourceExistsException("You can't modify an existing version, you can only create a new version.")
        if existing is None:
            target = sealed
            versions.append(target)
            await db.insert_version(tx, target)
        else:
            target = existing
            target.kind, target.ciphertext = sealed.kind, sealed.ciphertext
            target.data_key, target.kms_key_arn = sealed.data_key, sealed.kms_key_arn
            await db.save_value(tx, target)
        if labels is None or not any(AWSCURRENT in v.stages for v in versions if v is not target):
            # The first value of a secret is AWSCURRENT whatever labels were asked for.
            labels = list(dict.fromkeys([*(labels or []), AWSCURRENT]))
        _apply_labels(versions, target, labels)
        _check_labels(versions)
        pruned = model.prunable(versions, self.clock.now_ms())
        await db.save_stages(tx, [v for v in versions if v not in pruned])
        await db.delete_versions(tx, fresh.id, [v.version_id for v in pruned])
        fresh.changed_ms = self.clock.now_ms()
        return target.stages

    async def _fresh(self, tx: Tx, ctx: RequestContext, secret_id: str, seen: Secret) -> Secret:
        """The secret again in a write transaction: the one read before KMS was called."""
        fresh = await self._secret(tx, ctx, secret_id)
        if fresh.id != seen.id:
            raise _not_found()  # deleted and created again meanwhile: its ARN (the context) changed
        return fresh

    async def _add_version(
        self, ctx: RequestContext, secret_id: str, token: str, value: tuple[str, bytes], labels: list[str] | None
    ) -> tuple[Secret, str, list[str]]:
        """PutSecretValue's new version: (secret, version id, its labels)."""
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, secret_id)
            versions = await db.versions(tx, secret.id)
        sealed, new = await self._prepare_version(ctx, secret, versions, token, value)
        if not new:
            return secret, sealed.version_id, sealed.stages
        async with self.store.transaction() as tx:
            fresh = await self._fresh(tx, ctx, secret_id, secret)
            stages = await self._commit_version(tx, fresh, sealed, labels)
            await db.update_secret(tx, fresh)
        return fresh, token, stages

    async def _on_deletion(self, timer: Timer) -> None:
        async with self.store.transaction() as tx:
            secret = await db.secret_by_arn(tx, timer.key)
            # Re-check: a restored secret, or one deleted and created again, keeps living.
            if secret is None or secret.delete_at_ms is None or secret.delete_at_ms > self.clock.now_ms():
                return
            await self.rotations.cancel(tx, secret)
            await db.delete_secret(tx, secret.id)

    def _entry(self, secret: Secret, versions: list[Version], versions_key: str) -> dict[str, Any]:
        """DescribeSecret's answer, or a ListSecrets entry (``versions_key`` differs between them)."""
        out: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if secret.type:
            out["Type"] = secret.type
        if secret.description is not None:
            out["Description"] = secret.description
        if secret.kms_key_id:
            out["KmsKeyId"] = secret.kms_key_id
        rotation = secret.rotation
        if rotation.get("lambda_arn"):
            out["RotationEnabled"] = bool(rotation.get("enabled"))
            out["RotationLambdaARN"] = rotation["lambda_arn"]
            if rotation.get("rules"):
                out["RotationRules"] = rotation["rules"]
        for key, ms in (
            ("LastRotatedDate", secret.rotated_ms),
            ("LastChangedDate", secret.changed_ms),
            ("LastAccessedDate", secret.accessed_ms),
            ("DeletedDate", secret.deleted_ms),
            ("NextRotationDate", secret.next_rotation_ms if rotation.get("enabled") else None),
            ("CreatedDate", secret.created_ms),
        ):
            if ms is not None:
                out[key] = _seconds(ms)
        if secret.tags:
            out["Tags"] = secret.tags
        out[versions_key] = _stages_map(versions)
        return out

    # --- secrets ----------------------------------------------------------------------------

    async def create_secret(self, ctx: RequestContext, request: CreateSecretRequest) -> CreateSecretResponse:
        name = request["Name"]
        model.check_name(name)
        if request.get("AddReplicaRegions"):
            raise AwsError(
                "stratus does not replicate secrets to other Regions yet: AddReplicaRegions is not implemented.",
                code="NotImplemented",
                status=501,
                sender_fault=False,
            )
        value = _value_of(request)  # type: ignore[arg-type]
        token = request.get("ClientRequestToken") or str(uuid.uuid4())
        async with self.store.transaction() as tx:
            existing = await db.find_secret(tx, ctx.account, ctx.region, name, None)
            existing_versions = await db.versions(tx, existing.id) if existing else []
        if existing is not None:
            if existing.scheduled_for_deletion:
                raise InvalidRequestException(
                    "You can't create this secret because a secret with this name is already scheduled for deletion."
                )
            same = next((v for v in existing_versions if v.version_id == token), None)
            if same is not None and value is not None and await self._same_value(ctx, existing, same, value):
                return {"ARN": existing.arn, "Name": existing.name, "VersionId": same.version_id}
            raise ResourceExistsException(f"The operation failed because the secret {name} already exists.")
        now = self.clock.now_ms()
        secret = Secret(
            id=0,
            account=ctx.account,
            region=ctx.region,
            name=name,
            arn=model.new_arn(ctx.account, ctx.region, name),
            created_ms=now,
            changed_ms=now,
            description=request.get("Description"),
            kms_key_id=request.get("KmsKeyId"),
            tags=list(request.get("Tags") or []),
            type=request.get("Type"),
        )
        version = await self._sealed_version(ctx, secret, token, *value, [AWSCURRENT]) if value else None
        async with self.store.transaction() as tx:
            if not await db.insert_secret(tx, secret):
                raise ResourceExistsException(f"The operation failed because the secret {name} already exists.")
            if version is not None:
                version.secret_id = secret.id
                await db.insert_version(tx, version)
        out: CreateSecretResponse = {"ARN": secret.arn, "Name": secret.name}
        if version is not None:
            out["VersionId"] = token
        return out

    async def describe_secret(self, ctx: RequestContext, request: DescribeSecretRequest) -> DescribeSecretResponse:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"], active=False)
            versions = await db.versions(tx, secret.id)
        return self._entry(secret, versions, "VersionIdsToStages")  # type: ignore[return-value]

    async def update_secret(self, ctx: RequestContext, request: UpdateSecretRequest) -> UpdateSecretResponse:
        """Metadata, KMS key and a new value in one write transaction: all of it, or nothing.

        Everything KMS does (re-encrypting under a new key, sealing the new value) happens
        between the read and the write, so a refusal (a disabled key, a version id taken by
        another value) leaves the secret as it was.
        """
        value = _value_of(request)  # type: ignore[arg-type]
        new_key = request.get("KmsKeyId")
        token = request.get("ClientRequestToken") or str(uuid.uuid4())
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            versions = await db.versions(tx, secret.id)
        key_changes = new_key is not None and new_key != (secret.kms_key_id or model.DEFAULT_KMS_ALIAS)
        resealed: list[Version] = []
        if key_changes:
            # A new key re-encrypts the labelled versions under it (AWS keeps them readable with
            # either key; stratus keeps one copy, under the new key).
            secret.kms_key_id = new_key
            for version in versions:
                if version.kind is not None and version.stages:
                    plaintext = await unseal(ctx.client, _sealed(version), secret.arn, version.version_id)  # type: ignore[arg-type]
                    resealed.append(await self._sealed_version(ctx, secret, version.version_id, version.kind, plaintext, version.stages))
        # The new value is sealed under the new key, if there is one.
        sealed, new = await self._prepare_version(ctx, secret, versions, token, value) if value is not None else (None, False)
        async with self.store.transaction() as tx:
            fresh = await self._fresh(tx, ctx, request["SecretId"], secret)
            if "Description" in request:
                fresh.description = request["Description"]
            if "Type" in request:
                fresh.type = request["Type"]
            if key_changes:
                fresh.kms_key_id = new_key
                for version in resealed:
                    await db.save_value(tx, version)
            fresh.changed_ms = self.clock.now_ms()
            if sealed is not None and new:
                await self._commit_version(tx, fresh, sealed, None)
            await db.update_secret(tx, fresh)
        out: UpdateSecretResponse = {"ARN": fresh.arn, "Name": fresh.name}
        if sealed is not None:
            out["VersionId"] = sealed.version_id
        return out

    async def delete_secret(self, ctx: RequestContext, request: DeleteSecretRequest) -> DeleteSecretResponse:
        force = bool(request.get("ForceDeleteWithoutRecovery"))
        days = model.check_recovery_window(request.get("RecoveryWindowInDays"), force)
        now = self.clock.now_ms()
        async with self.store.transaction() as tx:
            secret = await self._find(tx, ctx, request["SecretId"])
            if secret is None:
                if not force:
                    raise _not_found()
                # API_DeleteSecret: "If you forcibly delete an already deleted or nonexistent secret,
                # the operation does not return ResourceNotFoundException."
                return _forced_absent(ctx, request["SecretId"], now)
            if secret.scheduled_for_deletion and not force:
                raise InvalidRequestException("You tried to perform the operation on a secret that's currently marked deleted.")
            await self.rotations.cancel(tx, secret)
            if days is None:
                # A secret already scheduled for deletion goes now: its recovery timer has nothing left to do.
                if secret.scheduled_for_deletion:
                    await self.timers.cancel(tx, DELETION_TIMER, secret.arn)
                await db.delete_secret(tx, secret.id)
                deletion_ms = now
            else:
                deletion_ms = now + days * model.DAY_MS
                secret.deleted_ms, secret.delete_at_ms = now, deletion_ms
                await db.update_secret(tx, secret)
                await self.timers.schedule(tx, DELETION_TIMER, secret.arn, deletion_ms)
        return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": _seconds(deletion_ms)}  # type: ignore[typeddict-item]

    async def restore_secret(self, ctx: RequestContext, request: RestoreSecretRequest) -> RestoreSecretResponse:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"], active=False)
            if secret.scheduled_for_deletion:
                secret.deleted_ms = secret.delete_at_ms = None
                await db.update_secret(tx, secret)
                await self.timers.cancel(tx, DELETION_TIMER, secret.arn)
                await self.rotations.schedule_next(tx, secret)
        return {"ARN": secret.arn, "Name": secret.name}

    async def list_secrets(self, ctx: RequestContext, request: ListSecretsRequest) -> ListSecretsResponse:
        filters = list(request.get("Filters") or [])
        model.check_filters(filters)
        async with self.store.transaction() as tx:
            secrets = [
                s
                for s in await db.list_secrets(tx, ctx.account, ctx.region)
                if (request.get("IncludePlannedDeletion") or not s.scheduled_for_deletion) and model.matches_filters(s, filters)
            ]
            sort_by = request.get("SortBy", "created-date")
            keys = {
                "created-date": lambda s: (s.created_ms, s.name),
                "last-accessed-date": lambda s: (s.accessed_ms or 0, s.name),
                "last-changed-date": lambda s: (s.changed_ms, s.name),
                "name": lambda s: (s.name, s.created_ms),
            }
            secrets.sort(key=keys[sort_by], reverse=request.get("SortOrder", "asc") == "desc")
            start = _offset(request.get("NextToken"))
            page = secrets[start : start + request.get("MaxResults", 100)]
            versions = await db.versions_of(tx, [s.id for s in page])
        out: ListSecretsResponse = {"SecretList": [self._entry(s, versions[s.id], "SecretVersionsToStages") for s in page]}  # type: ignore[misc]
        if start + len(page) < len(secrets):
            out["NextToken"] = page_token(str(start + len(page)))
        return out

    # --- values -----------------------------------------------------------------------------

    async def get_secret_value(self, ctx: RequestContext, request: GetSecretValueRequest) -> GetSecretValueResponse:
        version_id, stage = request.get("VersionId"), request.get("VersionStage")
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            versions = await db.versions(tx, secret.id)
        if version_id is not None:
            version = next((v for v in versions if v.version_id == version_id), None)
            if version is None or version.kind is None:
                raise ResourceNotFoundException(f"Secrets Manager can't find the specified secret value for VersionId: {version_id}")
            if stage is not None and stage not in version.stages:
                raise InvalidRequestException("You provided a VersionStage that is not associated to the provided VersionId.")
        else:
            stage = stage or AWSCURRENT
            version = next((v for v in versions if stage in v.stages), None)
            if version is None or version.kind is None:
                raise ResourceNotFoundException(f"Secrets Manager can't find the specified secret value for staging label: {stage}")
        plaintext = await self._plaintext(ctx, secret, version)
        today = model.day_start_ms(self.clock.now_ms())
        if (secret.accessed_ms or 0) < today or (version.accessed_ms or 0) < today:
            async with self.store.transaction() as tx:
                await db.touch_accessed(tx, secret.id, version.version_id, today)
        return {  # type: ignore[return-value]
            "ARN": secret.arn,
            "Name": secret.name,
            "VersionId": version.version_id,
            **_value_fields(version.kind, plaintext),
            "VersionStages": list(version.stages),
            "CreatedDate": _seconds(version.created_ms),
        }

    async def batch_get_secret_value(self, ctx: RequestContext, request: BatchGetSecretValueRequest) -> BatchGetSecretValueResponse:
        ids, filters = request.get("SecretIdList"), request.get("Filters")
        if (ids is None) == (filters is None):
            raise InvalidParameterException("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
        if "MaxResults" in request and filters is None:
            raise InvalidParameterException("'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
        values: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        out: BatchGetSecretValueResponse = {}
        if ids is not None:
            for secret_id in ids:
                try:
                    values.append(dict(await self.get_secret_value(ctx, {"SecretId": secret_id})))
                except (ResourceNotFoundException, InvalidRequestException, DecryptionFailure) as exc:
                    errors.append({"SecretId": secret_id, "ErrorCode": exc.code, "Message": exc.message})
        else:
            model.check_filters(filters)  # type: ignore[arg-type]
            async with self.store.transaction() as tx:
                matching = sorted(
                    (s for s in await db.list_secrets(tx, ctx.account, ctx.region) if not s.scheduled_for_deletion and model.matches_filters(s, filters)),  # type: ignore[arg-type]
                    key=lambda s: s.name,
                )
            start = _offset(request.get("NextToken"))
            page = matching[start : start + request.get("MaxResults", 20)]
            for secret in page:
                try:
                    values.append(dict(await self.get_secret_value(ctx, {"SecretId": secret.arn})))
                except (ResourceNotFoundException, InvalidRequestException, DecryptionFailure) as exc:
                    errors.append({"SecretId": secret.arn, "ErrorCode": exc.code, "Message": exc.message})
            if start + len(page) < len(matching):
                out["NextToken"] = page_token(str(start + len(page)))
        out["SecretValues"] = values  # type: ignore[typeddict-item]
        out["Errors"] = errors  # type: ignore[typeddict-item]
        return out

    async def put_secret_value(self, ctx: RequestContext, request: PutSecretValueRequest) -> PutSecretValueResponse:
        value = _value_of(request)  # type: ignore[arg-type]
        if value is None:
            raise InvalidRequestException("You must provide either SecretString or SecretBinary.")
        labels = list(request["VersionStages"]) if "VersionStages" in request else [AWSCURRENT]
        token = request.get("ClientRequestToken") or str(uuid.uuid4())
        secret, version_id, stages = await self._add_version(ctx, request["SecretId"], token, value, labels)
        return {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id, "VersionStages": list(stages)}

    async def update_secret_version_stage(
        self, ctx: RequestContext, request: UpdateSecretVersionStageRequest
    ) -> UpdateSecretVersionStageResponse:
        label = request["VersionStage"]
        move_to, remove_from = request.get("MoveToVersionId"), request.get("RemoveFromVersionId")
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            versions = await db.versions(tx, secret.id)
            by_id = {v.version_id: v for v in versions}
            holder = next((v for v in versions if label in v.stages), None)
            for version_id in (move_to, remove_from):
                if version_id is not None and version_id not in by_id:
                    raise InvalidParameterException(f"Not a valid version: {version_id}")
            if remove_from is not None and (holder is None or holder.version_id != remove_from):
                raise InvalidParameterException(f"Version stage {label} not found in version {remove_from}")
            if move_to is not None and holder is not None and holder.version_id != move_to and remove_from is None:
                raise InvalidParameterException(
                    f"The parameter RemoveFromVersionId can't be empty. Staging label {label} is currently attached to "
                    f"version {holder.version_id}, so you must explicitly reference that version in RemoveFromVersionId."
                )
            if move_to is None and remove_from is None:
                raise InvalidParameterException("You must specify MoveToVersionId or RemoveFromVersionId.")
            if label == AWSCURRENT and move_to is None:
                raise InvalidParameterException("You can't remove AWSCURRENT from a version without moving it to another version.")
            if move_to is not None:
                target = by_id[move_to]
                _apply_labels(versions, target, [label])
                _check_labels(versions)
            else:
                by_id[remove_from].stages.remove(label)  # type: ignore[index]
            pruned = model.prunable(versions, self.clock.now_ms())
            await db.save_stages(tx, [v for v in versions if v not in pruned])
            await db.delete_versions(tx, secret.id, [v.version_id for v in pruned])
            secret.changed_ms = self.clock.now_ms()
            await db.update_secret(tx, secret)
        return {"ARN": secret.arn, "Name": secret.name}

    async def list_secret_version_ids(self, ctx: RequestContext, request: ListSecretVersionIdsRequest) -> ListSecretVersionIdsResponse:
        async with self.store.transaction() as tx:
            # Metadata, like DescribeSecret: InvalidRequestException is not among this operation's
            # errors, so a secret scheduled for deletion still lists its versions.
            secret = await self._secret(tx, ctx, request["SecretId"], active=False)
            versions = await db.versions(tx, secret.id)
        if not request.get("IncludeDeprecated"):
            versions = [v for v in versions if v.stages]
        start = _offset(request.get("NextToken"))
        page = versions[start : start + request.get("MaxResults", 100)]
        entries = []
        for v in page:
            entry: dict[str, Any] = {"VersionId": v.version_id, "CreatedDate": _seconds(v.created_ms)}
            if v.stages:
                entry["VersionStages"] = list(v.stages)
            if v.accessed_ms is not None:
                entry["LastAccessedDate"] = _seconds(v.accessed_ms)
            if v.kms_key_arn:
                entry["KmsKeyIds"] = [v.kms_key_arn]
            entries.append(entry)
        out: ListSecretVersionIdsResponse = {"ARN": secret.arn, "Name": secret.name, "Versions": entries}  # type: ignore[typeddict-item]
        if start + len(page) < len(versions):
            out["NextToken"] = page_token(str(start + len(page)))
        return out

    async def get_random_password(self, ctx: RequestContext, request: GetRandomPasswordRequest) -> GetRandomPasswordResponse:
        password = model.random_password(
            length=request.get("PasswordLength", 32),
            exclude_characters=request.get("ExcludeCharacters", ""),
            exclude_numbers=request.get("ExcludeNumbers", False),
            exclude_punctuation=request.get("ExcludePunctuation", False),
            exclude_uppercase=request.get("ExcludeUppercase", False),
            exclude_lowercase=request.get("ExcludeLowercase", False),
            include_space=request.get("IncludeSpace", False),
            require_each_included_type=request.get("RequireEachIncludedType", True),
        )
        return {"RandomPassword": password}

    # --- tags and policies ------------------------------------------------------------------

    async def tag_resource(self, ctx: RequestContext, request: TagResourceRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            tags = {t["Key"]: t for t in secret.tags}
            for tag in request["Tags"]:
                tags[tag["Key"]] = {"Key": tag["Key"], "Value": tag.get("Value", "")}
            if len(tags) > 50:
                raise LimitExceededException("A secret can have at most 50 tags.")
            secret.tags = list(tags.values())
            secret.changed_ms = self.clock.now_ms()
            await db.update_secret(tx, secret)
        return {}

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceRequest) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            secret.tags = [t for t in secret.tags if t["Key"] not in request["TagKeys"]]
            secret.changed_ms = self.clock.now_ms()
            await db.update_secret(tx, secret)
        return {}

    async def put_resource_policy(self, ctx: RequestContext, request: PutResourcePolicyRequest) -> PutResourcePolicyResponse:
        policy = request["ResourcePolicy"]
        errors = model.policy_errors(policy)
        if errors:
            raise MalformedPolicyDocumentException(" ".join(errors))
        if request.get("BlockPublicPolicy") and model.is_public(policy):
            raise PublicPolicyException(
                "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret."
            )
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            secret.policy = policy
            secret.changed_ms = self.clock.now_ms()
            await db.update_secret(tx, secret)
        return {"ARN": secret.arn, "Name": secret.name}

    async def get_resource_policy(self, ctx: RequestContext, request: GetResourcePolicyRequest) -> GetResourcePolicyResponse:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"], active=False)
        out: GetResourcePolicyResponse = {"ARN": secret.arn, "Name": secret.name}
        if secret.policy is not None:
            out["ResourcePolicy"] = secret.policy
        return out

    async def delete_resource_policy(self, ctx: RequestContext, request: DeleteResourcePolicyRequest) -> DeleteResourcePolicyResponse:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            secret.policy = None
            secret.changed_ms = self.clock.now_ms()
            await db.update_secret(tx, secret)
        return {"ARN": secret.arn, "Name": secret.name}

    async def validate_resource_policy(
        self, ctx: RequestContext, request: ValidateResourcePolicyRequest
    ) -> ValidateResourcePolicyResponse:
        if "SecretId" in request:
            async with self.store.transaction() as tx:
                await self._secret(tx, ctx, request["SecretId"], active=False)
        errors = model.policy_errors(request["ResourcePolicy"])
        return {
            "PolicyValidationPassed": not errors,
            "ValidationErrors": [{"CheckName": "JSON_SYNTAX_AND_GRAMMAR", "ErrorMessage": e} for e in errors],
        }

    # --- rotation ---------------------------------------------------------------------------

    async def rotate_secret(self, ctx: RequestContext, request: RotateSecretRequest) -> RotateSecretResponse:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
        lambda_arn = request.get("RotationLambdaARN") or secret.rotation.get("lambda_arn")
        if not lambda_arn:
            raise InvalidRequestException("No Lambda rotation function ARN is associated with this secret.")
        rules = request.get("RotationRules") or secret.rotation.get("rules")
        schedule = rotation_schedule(rules) if rules else None  # type: ignore[arg-type]
        # Before any change: the function must exist.
        await require_function(ctx.client, lambda_arn)  # type: ignore[arg-type]
        immediately = request.get("RotateImmediately", True)
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            if secret.rotation.get("in_progress"):
                raise InvalidRequestException("A previous rotation isn't complete. That rotation will be reattempted.")
            versions = await db.versions(tx, secret.id)
            pending = pending_version(versions)
            token = pending.version_id if pending else (request.get("ClientRequestToken") or str(uuid.uuid4()))
            secret.rotation.update(lambda_arn=lambda_arn, rules=rules, enabled=schedule is not None)
            secret.rotation.pop("last_error", None)
            now = self.clock.now_ms()
            secret.next_rotation_ms = schedule.next_after(now) if schedule is not None else None
            if immediately:
                if pending is None:
                    await db.insert_version(tx, self.empty_version(secret, token, [AWSPENDING]))
                await self.rotations.begin(tx, secret, token)
            else:
                await self.rotations.schedule_next(tx, secret)
            await db.update_secret(tx, secret)
        out: RotateSecretResponse = {"ARN": secret.arn, "Name": secret.name}
        if immediately:
            out["VersionId"] = token
        return out

    async def cancel_rotate_secret(self, ctx: RequestContext, request: CancelRotateSecretRequest) -> CancelRotateSecretResponse:
        async with self.store.transaction() as tx:
            secret = await self._secret(tx, ctx, request["SecretId"])
            if not secret.rotation.get("lambda_arn"):
                raise InvalidRequestException(
                    "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured "
                    "and you didn't include such an ARN as a parameter in this call."
                )
            in_progress = secret.rotation.pop("in_progress", None)
            secret.rotation["enabled"] = False
            secret.next_rotation_ms = None
            await self.rotations.cancel(tx, secret)
            await db.update_secret(tx, secret)
        out: CancelRotateSecretResponse = {"ARN": secret.arn, "Name": secret.name}
        if in_progress:
            # The half-made version keeps AWSPENDING, as on AWS: the caller decides what to do with it.
            out["VersionId"] = in_progress
        return out

