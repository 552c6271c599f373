"""AWS Systems Manager Parameter Store (the other SSM operations stay not implemented).

A parameter is a row (its current version, tags and what filters look at) plus up to 100
kept versions and their labels. SecureString values are encrypted by KMS through the
internal client, with the parameter's ARN as encryption context as AWS does, and only
the ciphertext is stored. KMS runs its own transactions, so encryption happens before a
write transaction opens and decryption after a read one closes; writers re-check the
version they read (optimistic) and answer TooManyUpdates when another writer got there.
Expiration policies are durable timers on the stratus clock.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from stratus.aws.api.ssm import (
    AddTagsToResourceRequest,
    AddTagsToResourceResult,
    DeleteParameterRequest,
    DeleteParameterResult,
    DeleteParametersRequest,
    DeleteParametersResult,
    DescribeParametersRequest,
    DescribeParametersResult,
    GetParameterHistoryRequest,
    GetParameterHistoryResult,
    GetParameterRequest,
    GetParameterResult,
    GetParametersByPathRequest,
    GetParametersByPathResult,
    GetParametersRequest,
    GetParametersResult,
    GetServiceSettingRequest,
    GetServiceSettingResult,
    InvalidAllowedPatternException,
    InvalidKeyId,
    InvalidNextToken,
    InvalidResourceId,
    LabelParameterVersionRequest,
    LabelParameterVersionResult,
    ListTagsForResourceRequest,
    ListTagsForResourceResult,
    ParameterAlreadyExists,
    ParameterMaxVersionLimitExceeded,
    ParameterNotFound,
    ParameterPatternMismatchException,
    ParameterVersionLabelLimitExceeded,
    ParameterVersionNotFound,
    PutParameterRequest,
    PutParameterResult,
    RemoveTagsFromResourceRequest,
    RemoveTagsFromResourceResult,
    ResetServiceSettingRequest,
    ResetServiceSettingResult,
    ServiceSettingNotFound,
    SsmApi,
    TooManyTagsError,
    TooManyUpdates,
    UnlabelParameterVersionRequest,
    UnlabelParameterVersionResult,
    UpdateServiceSettingRequest,
    UpdateServiceSettingResult,
)
from stratus.aws.arns import root_arn
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, ValidationException
from stratus.aws.pagination import page_token, token_key
from stratus.engine.timers import Timer
from stratus.services.ssm import filters as flt
from stratus.services.ssm import model, references
from stratus.services.ssm import store as db
from stratus.services.ssm.store import Head, Version
from stratus.store import load_migrations
from stratus.store.base import Tx

EXPIRE_TIMER = "ssm.expire"
SECURE = "SecureString"
TIER_SETTING = "/ssm/parameter-store/default-parameter-tier"
THROUGHPUT_SETTING = "/ssm/parameter-store/high-throughput-enabled"
# setting id -> (default value, allowed values). High throughput changes nothing locally:
# stratus does not throttle Parameter Store.
SETTINGS = {
    TIER_SETTING: (model.STANDARD, model.TIERS),
    THROUGHPUT_SETTING: ("false", ("true", "false")),
}


def _not_found(name: str = "") -> ParameterNotFound:
    # GetParameter and DeleteParameter answer AWS's ParameterNotFound with an empty message.
    return ParameterNotFound(f"Parameter {name} not found." if name else "")


def _version_not_found(name: str, version: int) -> ParameterVersionNotFound:
    return ParameterVersionNotFound(
        f"Systems Manager could not find version {version} of {name}. Verify the version and try again."
    )


def _invalid_token() -> InvalidNextToken:
    return InvalidNextToken("The specified token isn't valid.")


def _seconds(ms: int) -> float:
    return ms / 1000


def _user(ctx: RequestContext) -> str:
    return ctx.principal_arn or root_arn(ctx.account)


def _tags_of(tags: list[dict[str, str]] | None) -> dict[str, str]:
    result = {tag["Key"]: tag["Value"] for tag in tags or []}
    if len(result) > model.MAX_TAGS:
        raise TooManyTagsError("The Targets parameter includes too many tags. Remove one or more tags and try again.")
    return result


class SsmProvider(SsmApi):
    async def start(self) -> None:
        await self.store.migrate("ssm", load_migrations("stratus.services.ssm"))
        self.timers.on(EXPIRE_TIMER, self._on_expire)

    # --- names, reading and revealing -----------------------------------------------------

    def _name_of(self, ctx: RequestContext, text: str) -> str:
        """A parameter name from a name or this account's parameter ARN."""
        prefix = model.arn_prefix(ctx.region, ctx.account)
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            return "/" + rest if "/" in rest else rest
        return text

    async def _resolve(self, tx: Tx, ctx: RequestContext, selector: model.Selector) -> Version:
        name = selector.name
        head = await db.get_head(tx, ctx.account, ctx.region, name)
        if head is None:
            raise _not_found()
        number = head.version
        if selector.version is not None:
            number = selector.version
        elif selector.label is not None:
            labelled = await db.version_of_label(tx, ctx.account, ctx.region, name, selector.label)
            if labelled is None:
                raise _not_found(f"{name}:{selector.label}")
            number = labelled
        version = await db.get_version(tx, ctx.account, ctx.region, name, number)
        if version is None:
            raise _version_not_found(name, number)
        return version

    async def _reveal(self, ctx: RequestContext, version: Version, decrypt: bool) -> str:
        """The value as returned: a SecureString's plaintext only WithDecryption, else its ciphertext."""
        if version.type != SECURE or not decrypt:
            return version.value
        assert ctx.client is not None
        out = await ctx.client.kms.decrypt(
            {
                "CiphertextBlob": base64.b64decode(version.value),
                "EncryptionContext": {"PARAMETER_ARN": model.parameter_arn(ctx.region, ctx.account, version.name)},
            }
        )
        plaintext = out["Plaintext"]
        return plaintext.decode() if isinstance(plaintext, bytes) else base64.b64decode(plaintext).decode()

    async def _encrypt(self, ctx: RequestContext, key_id: str, name: str, value: str) -> str:
        assert ctx.client is not None
        try:
            out = await ctx.client.kms.encrypt(
                {
                    "KeyId": key_id,
                    "Plaintext": value.encode(),
                    "EncryptionContext": {"PARAMETER_ARN": model.parameter_arn(ctx.region, ctx.account, name)},
                }
            )
        except AwsError as exc:
            if exc.code in ("NotFoundException", "InvalidArnException", "ValidationException"):
                raise InvalidKeyId(f"Invalid keyId {key_id}") from None
            raise
        blob = out["CiphertextBlob"]
        return base64.b64encode(blob).decode() if isinstance(blob, bytes) else blob

    def _parameter(self, ctx: RequestContext, version: Version, value: str, selector: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {
            "Name": version.name,
            "Type": version.type,
            "Value": value,
            "Version": version.version,
            "LastModifiedDate": _seconds(version.modified_ms),
            "ARN": model.parameter_arn(ctx.region, ctx.account, version.name),
            "DataType": version.data_type,
        }
        if selector:
            result["Selector"] = selector
        return result

    def _metadata(self, ctx: RequestContext, version: Version) -> dict[str, Any]:
        result: dict[str, Any] = {
            "Name": version.name,
            "ARN": model.parameter_arn(ctx.region, ctx.account, version.name),
            "Type": version.type,
            "LastModifiedDate": _seconds(version.modified_ms),
            "LastModifiedUser": version.user,
            "Version": version.version,
            "Tier": version.tier,
            "Policies": version.policies,
            "DataType": version.data_type,
        }
        if version.key_id:
            result["KeyId"] = version.key_id
        if version.description:
            result["Description"] = version.description
        if version.allowed_pattern:
            result["AllowedPattern"] = version.allowed_pattern
        return result

    async def _setting(self, tx: Tx, ctx: RequestContext, setting_id: str) -> str:
        stored = await db.get_setting(tx, ctx.account, ctx.region, setting_id)
        return stored[0] if stored else SETTINGS[setting_id][0]

    # --- writing --------------------------------------------------------------------------

    async def put_parameter(self, ctx: RequestContext, request: PutParameterRequest) -> PutParameterResult:
        # AWS trims spaces around a name; spaces inside it fail the character rules.
        name = request["Name"].strip()
        model.validate_new_name(name, ctx.region, ctx.account)
        value = request["Value"]
        overwrite = bool(request.get("Overwrite"))
        if overwrite and request.get("Tags"):
            raise ValidationException(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please "
                "remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or "
                "RemoveTagsFromResource."
            )
        tags = _tags_of(request.get("Tags"))
        now = self.clock.now_ms()
        policies = model.parse_policies(request["Policies"], now) if "Policies" in request else None

        async with self.store.transaction() as tx:
            head = await db.get_head(tx, ctx.account, ctx.region, name)
            current = await db.get_version(tx, ctx.account, ctx.region, name, head.version) if head else None
            default_tier = await self._setting(tx, ctx, TIER_SETTING)
        if head is not None and not overwrite:
            raise ParameterAlreadyExists(
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
            )
        kind = request.get("Type") or (current.type if current else None)
        if kind is None:
            raise ValidationException("A parameter type is required when you create a parameter.")
        if request.get("KeyId") and kind != SECURE:
            raise ValidationException("KeyId is required for SecureString type parameter only.")
        key_id = None
        if kind == SECURE:
            inherited = current.key_id if current and current.type == SECURE else None
            key_id = request.get("KeyId") or inherited or model.DEFAULT_KMS_KEY
        data_type = request.get("DataType") or (current.data_type if current else "text")
        model.check_value(value, data_type)
        description = request["Description"] if "Description" in request else (current.description if current else None)
        pattern = request["AllowedPattern"] if "AllowedPattern" in request else (current.allowed_pattern if current else None)
        if pattern:
            try:
                compiled = re.compile(pattern)
            except re.error:
                raise InvalidAllowedPatternException("The request does not meet the regular expression requirement.") from None
            if compiled.fullmatch(value) is None:
                raise ParameterPatternMismatchException(f"Parameter value, cannot be validated against allowedPattern: {pattern}")
        if policies is not None:
            listed, expires_ms = policies.listed, policies.expires_ms
        else:
            listed = current.policies if current else []
            expires_ms = head.expires_ms if head else None
        tier = model.choose_tier(request.get("Tier"), default_tier, head.tier if head else None, len(value.encode()), bool(listed))
        stored = await self._encrypt(ctx, key_id, name, value) if key_id else value

        number = head.version + 1 if head else 1
        version = Version(
            name, number, stored, kind, key_id, tier, data_type, description, pattern, listed, now, _user(ctx)
        )
        async with self.store.transaction() as tx:
            latest = await db.get_head(tx, ctx.account, ctx.region, name, lock=True)
            if (latest.version if latest else None) != (head.version if head else None):
                if latest is not None and head is None and not overwrite:
                    raise ParameterAlreadyExists(
                        "The parameter already exists. To overwrite this value, set the overwrite option in the "
                        "request to true."
                    )
                raise TooManyUpdates("There are concurrent updates for a resource that supports one update at a time.")
            if head is not None:
                await self._make_room(tx, ctx, name)
            await db.insert_version(tx, ctx.account, ctx.region, version)
            new_head = Head(name, number, kind, tier, data_type, key_id, expires_ms, head.tags if head else tags)
            if head is not None:
                await db.update_head(tx, ctx.account, ctx.region, new_head)
            elif not await db.insert_head(tx, ctx.account, ctx.region, new_head):
                raise TooManyUpdates("There are concurrent updates for a resource that supports one update at a time.")
            if expires_ms != (head.expires_ms if head else None):
                await self._schedule_expiry(tx, ctx.account, ctx.region, name, expires_ms)
        return {"Version": number, "Tier": tier}

    async def _make_room(self, tx: Tx, ctx: RequestContext, name: str) -> None:
        """Delete the oldest version when 100 are kept, unless a label still points at it."""
        count, oldest = await db.version_count(tx, ctx.account, ctx.region, name)
        if count < model.MAX_VERSIONS:
            return
        labels = await db.labels_by_version(tx, ctx.account, ctx.region, name)
        if labels.get(oldest):
            raise ParameterMaxVersionLimitExceeded(
                f"You attempted to create a new version of {name} by calling the PutParameter API with the overwrite "
                f"flag. Version {oldest}, the oldest version, can't be deleted because it has a label associated with "
                "it. Move the label to another version of the parameter, and try again."
            )
        await db.delete_version(tx, ctx.account, ctx.region, name, oldest)

    async def _schedule_expiry(self, tx: Tx, account: str, region: str, name: str, due_ms: int | None) -> None:
        key = f"{account}/{region}/{name}"
        if due_ms is None:
            await self.timers.cancel(tx, EXPIRE_TIMER, key)
        else:
            await self.timers.schedule(tx, EXPIRE_TIMER, key, due_ms, {"account": account, "region": region, "name": name})

    async def _on_expire(self, timer: Timer) -> None:
        account, region, name = timer.payload["account"], timer.payload["region"], timer.payload["name"]
        async with self.store.transaction() as tx:
            head = await db.get_head(tx, account, region, name, lock=True)
            # The policy may have changed since this timer was set: only its current time counts.
            if head is not None and head.expires_ms is not None and head.expires_ms <= self.clock.now_ms():
                await db.delete_parameter(tx, account, region, name)

    async def delete_parameter(self, ctx: RequestContext, request: DeleteParameterRequest) -> DeleteParameterResult:
        name = self._name_of(ctx, request["Name"])
        async with self.store.transaction() as tx:
            if not await db.delete_parameter(tx, ctx.account, ctx.region, name):
                raise _not_found()
            await self._schedule_expiry(tx, ctx.account, ctx.region, name, None)
        return {}

    async def delete_parameters(self, ctx: RequestContext, request: DeleteParametersRequest) -> DeleteParametersResult:
        deleted: list[str] = []
        invalid: list[str] = []
        async with self.store.transaction() as tx:
            for given in dict.fromkeys(request["Names"]):
                name = self._name_of(ctx, given)
                if await db.delete_parameter(tx, ctx.account, ctx.region, name):
                    await self._schedule_expiry(tx, ctx.account, ctx.region, name, None)
                    deleted.append(given)
                else:
                    invalid.append(given)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    # --- reading --------------------------------------------------------------------------

    async def get_parameter(self, ctx: RequestContext, request: GetParameterRequest) -> GetParameterResult:
        if references.is_reference(request["Name"]):
            references.require_decryption(bool(request.get("WithDecryption")))
            try:
                return {"Parameter": await references.fetch(ctx, request["Name"])}  # type: ignore[typeddict-item]
            except references.ReferenceNotFound:
                raise _not_found() from None
        selector = model.parse_selector(self._name_of(ctx, request["Name"]))
        if selector is None:
            raise _not_found()
        async with self.store.transaction() as tx:
            version = await self._resolve(tx, ctx, selector)
        value = await self._reveal(ctx, version, bool(request.get("WithDecryption")))
        return {"Parameter": self._parameter(ctx, version, value, selector.text)}

    async def get_parameters(self, ctx: RequestContext, request: GetParametersRequest) -> GetParametersResult:
        found: list[tuple[Version, str | None]] = []
        invalid: list[str] = []
        names = list(dict.fromkeys(request["Names"]))
        referenced = [name for name in names if references.is_reference(name)]
        if referenced:
            references.require_decryption(bool(request.get("WithDecryption")))
        async with self.store.transaction() as tx:
            for given in names:
                if given in referenced:
                    continue
                selector = model.parse_selector(self._name_of(ctx, given))
                try:
                    if selector is None:
                        raise _not_found()
                    found.append((await self._resolve(tx, ctx, selector), selector.text))
                except (ParameterNotFound, ParameterVersionNotFound):
                    invalid.append(given)
        decrypt = bool(request.get("WithDecryption"))
        parameters = [self._parameter(ctx, v, await self._reveal(ctx, v, decrypt), text) for v, text in found]
        # Secrets Manager runs its own transactions: references are read after ours has closed.
        for name in referenced:
            try:
                parameters.append(await references.fetch(ctx, name))
            except references.ReferenceNotFound:
                invalid.append(name)
        return {"Parameters": parameters, "InvalidParameters": invalid}

    async def get_parameters_by_path(
        self, ctx: RequestContext, request: GetParametersByPathRequest
    ) -> GetParametersByPathResult:
        path = request["Path"]
        model.validate_path(path)
        recursive = bool(request.get("Recursive"))
        filters = flt.compile_filters(request.get("ParameterFilters"), by_path=True)
        label_filter = next((f for f in filters if f.key == "Label"), None)
        limit = request.get("MaxResults") or 10
        after = token_key(request.get("NextToken"), _invalid_token())
        prefix = "" if path == "/" else path.rstrip("/") + "/"
        chosen: list[Version] = []
        more = False
        async with self.store.transaction() as tx:
            labels = await db.labelled_versions(tx, ctx.account, ctx.region) if label_filter else {}
            for head, current in await db.list_current(tx, ctx.account, ctx.region, prefix):
                if head.name <= after or not model.under_path(head.name, path, recursive):
                    continue
                fields = {"Name": head.name, "Type": head.type, "KeyId": head.key_id, "labels": list(labels.get(head.name, {}))}
                if not all(flt.matches(f, fields) for f in filters):
                    continue
                if len(chosen) == limit:
                    more = True
                    break
                version = current
                if label_filter is not None:
                    # The Label filter answers the version that carries one of the labels.
                    number = max(v for label, v in labels[head.name].items() if label in label_filter.values)
                    version = await db.get_version(tx, ctx.account, ctx.region, head.name, number) or current
                chosen.append(version)
        decrypt = bool(request.get("WithDecryption"))
        result: GetParametersByPathResult = {
            "Parameters": [
                self._parameter(ctx, v, await self._reveal(ctx, v, decrypt), None) for v in chosen
            ]
        }
        if more:
            result["NextToken"] = page_token(chosen[-1].name)
        return result

    async def describe_parameters(self, ctx: RequestContext, request: DescribeParametersRequest) -> DescribeParametersResult:
        if request.get("Filters") and request.get("ParameterFilters"):
            raise ValidationException("You can use either Filters or ParameterFilters in a single request.")
        filters = flt.compile_legacy(request.get("Filters")) + flt.compile_filters(
            request.get("ParameterFilters"), by_path=False
        )
        limit = request.get("MaxResults") or 10
        after = token_key(request.get("NextToken"), _invalid_token())
        if request.get("Shared"):
            # Only parameters shared through AWS RAM are listed then; stratus has no RAM shares.
            return {"Parameters": []}
        page: list[dict[str, Any]] = []
        more = False
        async with self.store.transaction() as tx:
            for head, current in await db.list_current(tx, ctx.account, ctx.region):
                if head.name <= after:
                    continue
                fields = {
                    "Name": head.name,
                    "Type": head.type,
                    "KeyId": head.key_id,
                    "Tier": head.tier,
                    "DataType": head.data_type,
                    "tags": head.tags,
                }
                if not all(flt.matches(f, fields) for f in filters):
                    continue
                if len(page) == limit:
                    more = True
                    break
                page.append(self._metadata(ctx, current))
        result: DescribeParametersResult = {"Parameters": page}
        if more:
            result["NextToken"] = page_token(page[-1]["Name"])
        return result

    async def get_parameter_history(
        self, ctx: RequestContext, request: GetParameterHistoryRequest
    ) -> GetParameterHistoryResult:
        name = self._name_of(ctx, request["Name"])
        limit = request.get("MaxResults") or 50
        after_text = token_key(request.get("NextToken"), _invalid_token())
        if after_text and not after_text.isdigit():
            raise InvalidNextToken("The specified token isn't valid.")
        async with self.store.transaction() as tx:
            if await db.get_head(tx, ctx.account, ctx.region, name) is None:
                raise _not_found(name)
            found = await db.versions(tx, ctx.account, ctx.region, name, int(after_text or 0), limit + 1)
        page, more = found[:limit], len(found) > limit
        decrypt = bool(request.get("WithDecryption"))
        history = []
        for version in page:
            item = self._metadata(ctx, version)
            del item["ARN"]
            item["Value"] = await self._reveal(ctx, version, decrypt)
            item["Labels"] = version.labels
            history.append(item)
        result: GetParameterHistoryResult = {"Parameters": history}
        if more:
            result["NextToken"] = page_token(str(page[-1].version))
        return result

    # --- labels ---------------------------------------------------------------------------

    async def label_parameter_version(
        self, ctx: RequestContext, request: LabelParameterVersionRequest
    ) -> LabelParameterVersionResult:
        name = self._name_of(ctx, request["Name"])
        wanted = list(dict.fromkeys(request["Labels"]))
        valid = [label for label in wanted if model.valid_label(label)]
        invalid = [label for label in wanted if not model.valid_label(label)]
        async with self.store.transaction() as tx:
            head = await db.get_head(tx, ctx.account, ctx.region, name, lock=True)
            if head is None:
                raise _not_found(name)
            number = request.get("ParameterVersion") or head.version
            if await db.get_version(tx, ctx.account, ctx.region, name, number) is None:
                raise _version_not_found(name, number)
            present = (await db.labels_by_version(tx, ctx.account, ctx.region, name)).get(number, [])
            if len(set(present) | set(valid)) > model.MAX_LABELS_PER_VERSION:
                raise ParameterVersionLabelLimitExceeded(
                    "A parameter version can have maximum 10 labels.Move one or more labels to another version and "
                    "try again."
                )
            for label in valid:
                await db.set_label(tx, ctx.account, ctx.region, name, label, number)
        return {"InvalidLabels": invalid, "ParameterVersion": number}

    async def unlabel_parameter_version(
        self, ctx: RequestContext, request: UnlabelParameterVersionRequest
    ) -> UnlabelParameterVersionResult:
        name = self._name_of(ctx, request["Name"])
        number = request["ParameterVersion"]
        removed: list[str] = []
        invalid: list[str] = []
        async with self.store.transaction() as tx:
            if await db.get_head(tx, ctx.account, ctx.region, name, lock=True) is None:
                raise _not_found(name)
            if await db.get_version(tx, ctx.account, ctx.region, name, number) is None:
                raise _version_not_found(name, number)
            for label in dict.fromkeys(request["Labels"]):
                if await db.remove_label(tx, ctx.account, ctx.region, name, label, number):
                    removed.append(label)
                else:
                    invalid.append(label)
        return {"RemovedLabels": removed, "InvalidLabels": invalid}

    # --- tags -----------------------------------------------------------------------------

    async def _tagged(self, tx: Tx, ctx: RequestContext, resource_type: str, resource_id: str) -> Head:
        if resource_type != "Parameter":
            raise AwsError(
                f"stratus implements tags for ResourceType Parameter only, not {resource_type} yet",
                code="NotImplemented",
                status=501,
                sender_fault=False,
            )
        head = await db.get_head(tx, ctx.account, ctx.region, self._name_of(ctx, resource_id), lock=True)
        if head is None:
            raise InvalidResourceId("The resource ID isn't valid. Verify that you entered the correct ID and try again.")
        return head

    async def add_tags_to_resource(self, ctx: RequestContext, request: AddTagsToResourceRequest) -> AddTagsToResourceResult:
        async with self.store.transaction() as tx:
            head = await self._tagged(tx, ctx, request["ResourceType"], request["ResourceId"])
            tags = _tags_of([*({"Key": k, "Value": v} for k, v in head.tags.items()), *request["Tags"]])
            await db.update_tags(tx, ctx.account, ctx.region, head.name, tags)
        return {}

    async def remove_tags_from_resource(
        self, ctx: RequestContext, request: RemoveTagsFromResourceRequest
    ) -> RemoveTagsFromResourceResult:
        async with self.store.transaction() as tx:
            head = await self._tagged(tx, ctx, request["ResourceType"], request["ResourceId"])
            drop = set(request["TagKeys"])
            await db.update_tags(tx, ctx.account, ctx.region, head.name, {k: v for k, v in head.tags.items() if k not in drop})
        return {}

    async def list_tags_for_resource(
        self, ctx: RequestContext, request: ListTagsForResourceRequest
    ) -> ListTagsForResourceResult:
        async with self.store.transaction() as tx:
            head = await self._tagged(tx, ctx, request["ResourceType"], request["ResourceId"])
        return {"TagList": [{"Key": k, "Value": v} for k, v in head.tags.items()]}

    # --- service settings -----------------------------------------------------------------

    def _setting_id(self, ctx: RequestContext, given: str) -> str:
        setting_id = given.split(":servicesetting", 1)[1] if given.startswith("arn:") and ":servicesetting" in given else given
        if setting_id in SETTINGS:
            return setting_id
        if setting_id.startswith("/ssm/") and not setting_id.startswith("/ssm/parameter-store/"):
            raise AwsError(
                f"stratus implements the Parameter Store service settings only, not {setting_id} yet",
                code="NotImplemented",
                status=501,
                sender_fault=False,
            )
        raise ServiceSettingNotFound(f"The service setting {given} was not found.")

    async def _describe_setting(self, ctx: RequestContext, setting_id: str) -> dict[str, Any]:
        async with self.store.transaction() as tx:
            stored = await db.get_setting(tx, ctx.account, ctx.region, setting_id)
        value, modified_ms, user, status = (*stored, "Customized") if stored else (SETTINGS[setting_id][0], 0, "System", "Default")
        return {
            "SettingId": setting_id,
            "SettingValue": value,
            "LastModifiedDate": _seconds(modified_ms),
            "LastModifiedUser": user,
            "ARN": f"arn:aws:ssm:{ctx.region}:{ctx.account}:servicesetting{setting_id}",
            "Status": status,
        }

    async def get_service_setting(self, ctx: RequestContext, request: GetServiceSettingRequest) -> GetServiceSettingResult:
        return {"ServiceSetting": await self._describe_setting(ctx, self._setting_id(ctx, request["SettingId"]))}

    async def update_service_setting(
        self, ctx: RequestContext, request: UpdateServiceSettingRequest
    ) -> UpdateServiceSettingResult:
        setting_id = self._setting_id(ctx, request["SettingId"])
        value = request["SettingValue"]
        allowed = SETTINGS[setting_id][1]
        if value not in allowed:
            raise ValidationException(
                f"The value {value} is not valid for the setting {setting_id}. Valid values: [{', '.join(allowed)}]."
            )
        async with self.store.transaction() as tx:
            await db.put_setting(tx, ctx.account, ctx.region, setting_id, value, self.clock.now_ms(), _user(ctx))
        return {}

    async def reset_service_setting(
        self, ctx: RequestContext, request: ResetServiceSettingRequest
    ) -> ResetServiceSettingResult:
        setting_id = self._setting_id(ctx, request["SettingId"])
        async with self.store.transaction() as tx:
            await db.delete_setting(tx, ctx.account, ctx.region, setting_id)
        return {"ServiceSetting": await self._describe_setting(ctx, setting_id)}
