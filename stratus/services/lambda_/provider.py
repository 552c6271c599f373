"""AWS Lambda: functions, versions, aliases, policies and tags (this file); layers, per-qualifier
settings (event invoke configs, concurrency) and invocation live in the modules beside it.

A function is a row plus one row per version ($LATEST and published numbers) holding the
configuration exactly as AWS shows it. Code is checked and stored in the blob store in the
request; a durable timer then extracts it (and the layers) and moves the function from
``Pending`` to ``Active`` (or an update from ``InProgress`` to ``Successful``), as AWS does.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from stratus.aws.api import lambda_ as api
from stratus.aws.api.iam import NoSuchEntityException
from stratus.aws.api.lambda_ import (
    AddPermissionRequest,
    AddPermissionResponse,
    AliasConfiguration,
    CodeSigningConfigNotFoundException,
    CreateAliasRequest,
    CreateFunctionRequest,
    DeleteAliasRequest,
    DeleteFunctionRequest,
    FunctionConfiguration,
    GetAccountSettingsRequest,
    GetAccountSettingsResponse,
    GetAliasRequest,
    GetFunctionConfigurationRequest,
    GetFunctionRequest,
    GetFunctionResponse,
    GetPolicyRequest,
    GetPolicyResponse,
    InvalidParameterValueException,
    LambdaApi,
    ListAliasesRequest,
    ListAliasesResponse,
    ListFunctionsRequest,
    ListFunctionsResponse,
    ListTagsRequest,
    ListTagsResponse,
    ListVersionsByFunctionRequest,
    ListVersionsByFunctionResponse,
    PreconditionFailedException,
    PublishVersionRequest,
    RemovePermissionRequest,
    ResourceConflictException,
    ResourceNotFoundException,
    TagResourceRequest,
    UntagResourceRequest,
    UpdateAliasRequest,
    UpdateFunctionCodeRequest,
    UpdateFunctionConfigurationRequest,
)
from stratus.aws.context import RequestContext
from stratus.aws.protocol.base import HttpRequest, HttpResponse
from stratus.engine.timers import Timer
from stratus.services.lambda_ import model
from stratus.services.lambda_ import event_sources as esm
from stratus.services.lambda_ import store as db
from stratus.services.lambda_.async_invoke import AsyncInvocations
from stratus.services.lambda_.code import CodeStore, check_zip
from stratus.services.lambda_.invoke import InvokeOperations
from stratus.services.lambda_.layers import LayerOperations
from stratus.services.lambda_.model import LATEST, Alias, Function, FunctionRef, Version
from stratus.services.lambda_.settings import SettingsOperations
from stratus.store import load_migrations
from stratus.store.base import Tx

log = logging.getLogger("stratus.lambda")

PREPARE_TIMER = "lambda.prepare"
CODE_ROUTE = "/_stratus/lambda/code/"

# Configuration members that say nothing about what runs: ignored when PublishVersion
# decides whether $LATEST changed since the last version.
_VOLATILE = {"LastModified", "RevisionId", "State", "StateReason", "StateReasonCode", "LastUpdateStatus",
             "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "Description", "Version"}


def _conflict_state(version: Version) -> None:
    config = version.config
    if config.get("State") != "Active":
        raise ResourceConflictException(
            f"The operation cannot be performed at this time. The function is currently in the following state: {config.get('State')}"
        )
    if config.get("LastUpdateStatus") == "InProgress":
        raise ResourceConflictException(
            f"The operation cannot be performed at this time. An update is in progress for resource: {version.function.arn}"
        )


def _check_revision(expected: str | None, actual: str | None, what: str = "GetFunction") -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailedException(
            f"The Revision Id provided does not match the latest Revision Id. Call the {what}/GetAlias API to retrieve the latest Revision Id"
        )


def _page(items: list[Any], key: Any, marker: str | None, max_items: int | None) -> tuple[list[Any], str | None]:
    """A page after ``marker`` (an opaque token naming the last item's key) and the next marker.

    Never more than 50 items, whatever ``MaxItems`` asks: "ListFunctions returns a maximum of 50
    items in each response, even if you set the number higher" (API reference; the same for
    versions and aliases).
    """
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, binascii.Error):
            raise InvalidParameterValueException("Invalid Marker") from None
        items = [i for i in items if key(i) > after]
    limit = min(max_items or 50, 50)
    page = items[:limit]
    more = len(items) > limit
    return page, (base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if more and page else None)


class LambdaProvider(SettingsOperations, LayerOperations, InvokeOperations, LambdaApi):
    def __init__(self, node: Any) -> None:
        super().__init__(node)
        self.code = CodeStore(node.blobs, node.config.data_dir / "lambda" / "code")
        self.async_invocations = AsyncInvocations(self)
        self.event_sources = esm.EventSourcePollers(self)
        node.internal_routes[CODE_ROUTE] = self._serve_code

    async def start(self) -> None:
        await self.store.migrate("lambda", load_migrations("stratus.services.lambda_"))
        self.timers.on(PREPARE_TIMER, self._on_prepare)
        await self.start_invocations()
        self.async_invocations.start()
        await self.event_sources.start()

    async def stop(self) -> None:
        await self.event_sources.stop()
        await self.stop_invocations()

    # --- helpers ----------------------------------------------------------------------------

    def _ref(self, ctx: RequestContext, name: str, qualifier: str | None = None) -> FunctionRef:
        return model.parse_function(name, ctx.account, ctx.region, qualifier)

    async def _function(self, tx: Tx, ref: FunctionRef, *, lock: bool = False) -> Function:
        function = await db.get_function(tx, ref.account, ref.region, ref.name, lock=lock)
        if function is None:
            raise model.not_found(model.function_arn(ref.region, ref.account, ref.name, ref.qualifier))
        return function

    async def _version(self, tx: Tx, function: Function, qualifier: str | None) -> tuple[Version, Alias | None]:
        """The version a qualifier names: $LATEST, a number, or an alias's (primary) version."""
        alias = None
        version_name = qualifier or LATEST
        if qualifier and qualifier != LATEST and not model.is_version_number(qualifier):
            alias = await db.get_alias(tx, function, qualifier)
            if alias is None:
                raise model.not_found(model.function_arn(function.region, function.account, function.name, qualifier))
            version_name = alias.function_version
        version = await db.get_version(tx, function, version_name)
        if version is None:
            raise model.not_found(model.function_arn(function.region, function.account, function.name, qualifier))
        return version, alias

    def _configuration(self, version: Version, alias: Alias | None = None) -> dict[str, Any]:
        out = version.configuration()
        if alias is not None:
            f = version.function
            out["FunctionArn"] = model.function_arn(f.region, f.account, f.name, alias.name)
        return out

    async def _layers(self, tx: Tx, ctx: RequestContext, arns: list[str]) -> list[dict[str, Any]]:
        found = []
        for arn in arns:
            parts = model.parse_layer_version_arn(arn)
            layer = await db.get_layer_version(tx, parts[1], parts[0], parts[2], parts[3]) if parts else None
            if layer is None:
                raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
            found.append({"Arn": arn, "CodeSize": layer[0]["code"]["size"]})
        if len(found) > 5:
            raise InvalidParameterValueException("Cannot reference more than 5 layers.")
        return found

    async def _check_role(self, ctx: RequestContext, role_arn: str) -> None:
        """The execution role must exist in IAM, or AWS answers "The role defined for the function
        cannot be assumed by Lambda." Only existence is checked: stratus does not evaluate policies
        (the trust policy's lambda.amazonaws.com included), as STS AssumeRole does not either.
        """
        parsed = model.role_name(role_arn)
        if parsed is None:
            raise model.role_not_assumable()
        account, name = parsed
        client = ctx.client or self.node.client(ctx)
        try:
            role = (await client.iam(account=account).get_role({"RoleName": name}))["Role"]
        except NoSuchEntityException:
            raise model.role_not_assumable() from None
        if role["Arn"] != role_arn:  # the same name under another path is another role
            raise model.role_not_assumable()

    @staticmethod
    def _check_settings(request: dict[str, Any]) -> None:
        """Members stratus cannot honour are refused, never stored as if they took effect."""
        model.check_unsupported(request)
        if request.get("CodeSigningConfigArn"):
            # stratus has no CreateCodeSigningConfig, so no configuration can exist to name.
            raise CodeSigningConfigNotFoundException(
                "The code signing configuration cannot be found. Check that the provided configuration is not "
                f"deleted: {request['CodeSigningConfigArn']}."
            )

    async def _zip(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("ImageUri"):
            raise InvalidParameterValueException("stratus runs zip packages only: container images (ImageUri) are not supported.")
        if request.get("S3Bucket") or request.get("S3Key"):
            raise InvalidParameterValueException(
                "stratus does not implement Amazon S3 yet: deploy the package with ZipFile instead of S3Bucket/S3Key."
            )
        data = request.get("ZipFile")
        if not data:
            raise InvalidParameterValueException("Please provide a source for function code.")
        return (await self.code.save(bytes(data))).to_json()

    async def _schedule_prepare(self, tx: Tx, function: Function, versions: list[str], token: str) -> None:
        await self.timers.schedule(
            tx, PREPARE_TIMER, f"{function.id}:{token}", self.clock.now_ms(),
            {"account": function.account, "region": function.region, "name": function.name, "versions": versions, "token": token},
        )

    async def _on_prepare(self, timer: Timer) -> None:
        """Extract code and layers, then mark the versions Active / their update Successful."""
        p = timer.payload
        async with self.store.transaction() as tx:
            function = await db.get_function(tx, p["account"], p["region"], p["name"])
            versions = [await db.get_version(tx, function, v) for v in p["versions"]] if function else []
        versions = [v for v in versions if v is not None and v.config.get("RevisionId") == p["token"]]
        if not versions:
            return
        failure = None
        try:
            await self.code.extracted(versions[0].code["hex"])
            for layer in versions[0].config.get("Layers", []):
                await self.layer_dir(layer["Arn"])
        except Exception as exc:  # a package the blob store lost: the function fails, as on AWS
            log.exception("preparing %s failed", versions[0].arn)
            failure = str(exc)
        async with self.store.transaction() as tx:
            for stale in versions:
                version = await db.get_version(tx, stale.function, stale.version)
                if version is None or version.config.get("RevisionId") != p["token"]:
                    continue
                config = version.config
                for key in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
                    config.pop(key, None)
                if failure is None:
                    config.update(State="Active", LastUpdateStatus="Successful")
                else:
                    updating = config.get("State") == "Active"
                    config.update(LastUpdateStatus="Failed", LastUpdateStatusReason=failure, LastUpdateStatusReasonCode="InternalError")
                    if not updating:
                        config.update(State="Failed", StateReason=failure, StateReasonCode="InternalError")
                config["RevisionId"] = model.new_revision()
                await db.put_version(tx, version)
        # The old environments of $LATEST run the old code or configuration: none is reused.
        if any(v.version == LATEST for v in versions):
            await self.discard_environments(versions[0].function.arn + ":" + LATEST)

    async def _serve_code(self, request: HttpRequest) -> HttpResponse:
        name = request.path[len(CODE_ROUTE):]
        hex_sha = name.removesuffix(".zip")
        if request.method != "GET" or not name.endswith(".zip") or len(hex_sha) != 64 or not all(c in "0123456789abcdef" for c in hex_sha):
            return HttpResponse(404, [("content-type", "text/plain")], b"no such code")
        try:
            data = await self.code.read(hex_sha)
        except KeyError:
            return HttpResponse(404, [("content-type", "text/plain")], b"no such code")
        return HttpResponse(200, [("content-type", "application/zip")], data)

    def _code_location(self, ctx: RequestContext, version: Version) -> dict[str, str]:
        return {"RepositoryType": "S3", "Location": f"{ctx.endpoint}{CODE_ROUTE}{version.code['hex']}.zip"}

    async def _publish(self, tx: Tx, function: Function, latest: Version, description: str | None) -> Version:
        function.last_version += 1
        config = dict(latest.config)
        config["RevisionId"] = model.new_revision()
        if description is not None:
            config["Description"] = description
        version = Version(function, str(function.last_version), config, dict(latest.code))
        await db.put_version(tx, version)
        await db.update_function(tx, function)
        return version

    # --- functions --------------------------------------------------------------------------

    async def create_function(self, ctx: RequestContext, request: CreateFunctionRequest) -> FunctionConfiguration:
        if request.get("PackageType") == "Image":
            raise InvalidParameterValueException("stratus runs zip packages only: PackageType Image is not supported.")
        ref = self._ref(ctx, request["FunctionName"])
        if ref.qualifier:
            raise InvalidParameterValueException("Qualifiers are not allowed in the function name of CreateFunction.")
        if not request.get("Runtime") or not request.get("Handler"):
            raise InvalidParameterValueException("Runtime and Handler are mandatory parameters for functions created with Zip packages.")
        model.check_runtime(request["Runtime"])
        model.check_limits(dict(request))
        variables = (request.get("Environment") or {}).get("Variables") or {}
        model.check_environment(variables)
        model.check_dead_letter(request.get("DeadLetterConfig"))
        self._check_settings(dict(request))
        logging_config = model.logging_config(None, dict(request.get("LoggingConfig") or {}), f"/aws/lambda/{ref.name}")
        await self._check_role(ctx, request["Role"])
        code = await self._zip(dict(request.get("Code") or {}))
        now = self.clock.now_ms()
        revision = model.new_revision()
        config: dict[str, Any] = {
            "Runtime": request["Runtime"],
            "Role": request["Role"],
            "Handler": request["Handler"],
            "CodeSize": code["size"],
            "Description": request.get("Description", ""),
            "Timeout": request.get("Timeout", 3),
            "MemorySize": request.get("MemorySize", 128),
            "LastModified": model.last_modified(now),
            "CodeSha256": code["sha256"],
            "TracingConfig": {"Mode": (request.get("TracingConfig") or {}).get("Mode", "PassThrough")},
            "RevisionId": revision,
            "State": "Pending",
            "StateReason": "The function is being created.",
            "StateReasonCode": "Creating",
            "PackageType": "Zip",
            "Architectures": list(request.get("Architectures") or ["x86_64"]),
            "EphemeralStorage": {"Size": (request.get("EphemeralStorage") or {}).get("Size", 512)},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": logging_config,
        }
        if "VpcConfig" in request:
            config["VpcConfig"] = model.vpc_config(dict(request["VpcConfig"] or {}))
        if "Environment" in request:
            config["Environment"] = {"Variables": dict(variables)}
        if request.get("DeadLetterConfig", {}).get("TargetArn"):
            config["DeadLetterConfig"] = dict(request["DeadLetterConfig"])
        if request.get("KMSKeyArn"):
            config["KMSKeyArn"] = request["KMSKeyArn"]
        async with self.store.transaction() as tx:
            if request.get("Layers"):
                config["Layers"] = await self._layers(tx, ctx, list(request["Layers"]))
            function = await db.insert_function(tx, ref.account, ref.region, ref.name, dict(request.get("Tags") or {}), now)
            if function is None:
                raise ResourceConflictException(f"Function already exist: {ref.name}")
            latest = Version(function, LATEST, config, code)
            await db.put_version(tx, latest)
            versions = [LATEST]
            if request.get("Publish"):
                published = await self._publish(tx, function, latest, None)
                published.config["RevisionId"] = revision
                await db.put_version(tx, published)
                versions.append(published.version)
            await self._schedule_prepare(tx, function, versions, revision)
        return latest.configuration()  # type: ignore[return-value]

    async def get_function(self, ctx: RequestContext, request: GetFunctionRequest) -> GetFunctionResponse:
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            version, alias = await self._version(tx, function, ref.qualifier)
        out: dict[str, Any] = {"Configuration": self._configuration(version, alias), "Code": self._code_location(ctx, version)}
        if function.tags and not ref.qualifier:  # AWS leaves Tags out for a function without any
            out["Tags"] = dict(function.tags)
        if function.reserved is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved}
        return out  # type: ignore[return-value]

    async def get_function_configuration(self, ctx: RequestContext, request: GetFunctionConfigurationRequest) -> FunctionConfiguration:
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            version, alias = await self._version(tx, function, ref.qualifier)
        return self._configuration(version, alias)  # type: ignore[return-value]

    async def update_function_code(self, ctx: RequestContext, request: UpdateFunctionCodeRequest) -> FunctionConfiguration:
        ref = self._ref(ctx, request["FunctionName"])
        if request.get("DryRun"):
            code = None
            if request.get("ZipFile"):
                check_zip(bytes(request["ZipFile"]))
        else:
            code = await self._zip(dict(request))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            latest, _ = await self._version(tx, function, LATEST)
            _check_revision(request.get("RevisionId"), latest.config.get("RevisionId"))
            _conflict_state(latest)
            if code is None:
                return latest.configuration()  # type: ignore[return-value]
            if request.get("Architectures"):
                latest.config["Architectures"] = list(request["Architectures"])
            latest.code = code
            revision = model.new_revision()
            latest.config.update(
                CodeSize=code["size"], CodeSha256=code["sha256"], LastModified=model.last_modified(self.clock.now_ms()),
                RevisionId=revision, LastUpdateStatus="InProgress", LastUpdateStatusReason="The function is being created.",
                LastUpdateStatusReasonCode="Creating",
            )
            await db.put_version(tx, latest)
            versions = [LATEST]
            if request.get("Publish"):
                published = await self._publish(tx, function, latest, None)
                published.config["RevisionId"] = revision
                await db.put_version(tx, published)
                versions.append(published.version)
            await self._schedule_prepare(tx, function, versions, revision)
        return latest.configuration()  # type: ignore[return-value]

    async def update_function_configuration(
        self, ctx: RequestContext, request: UpdateFunctionConfigurationRequest
    ) -> FunctionConfiguration:
        ref = self._ref(ctx, request["FunctionName"])
        model.check_limits(dict(request))
        if "Environment" in request:
            model.check_environment((request["Environment"] or {}).get("Variables") or {})
        if "DeadLetterConfig" in request:
            model.check_dead_letter(request["DeadLetterConfig"])
        if request.get("Runtime"):
            model.check_runtime(request["Runtime"])
        self._check_settings(dict(request))
        vpc = model.vpc_config(dict(request["VpcConfig"] or {})) if "VpcConfig" in request else None
        if "Role" in request:
            await self._check_role(ctx, request["Role"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            latest, _ = await self._version(tx, function, LATEST)
            _check_revision(request.get("RevisionId"), latest.config.get("RevisionId"))
            _conflict_state(latest)
            config = latest.config
            for key in ("Role", "Handler", "Description", "Timeout", "MemorySize", "Runtime", "KMSKeyArn"):
                if key in request:
                    config[key] = request[key]  # type: ignore[literal-required]
            if "Environment" in request:
                config["Environment"] = {"Variables": dict((request["Environment"] or {}).get("Variables") or {})}
            if "DeadLetterConfig" in request:
                if (request["DeadLetterConfig"] or {}).get("TargetArn"):
                    config["DeadLetterConfig"] = dict(request["DeadLetterConfig"])
                else:
                    config.pop("DeadLetterConfig", None)
            if "TracingConfig" in request:
                config["TracingConfig"] = {"Mode": request["TracingConfig"].get("Mode", "PassThrough")}
            if "EphemeralStorage" in request:
                config["EphemeralStorage"] = {"Size": request["EphemeralStorage"]["Size"]}
            if "LoggingConfig" in request:
                config["LoggingConfig"] = model.logging_config(
                    config.get("LoggingConfig"), dict(request["LoggingConfig"] or {}), f"/aws/lambda/{ref.name}"
                )
            if vpc is not None:
                config["VpcConfig"] = vpc
            if "Layers" in request:
                layers = await self._layers(tx, ctx, list(request["Layers"] or []))
                if layers:
                    config["Layers"] = layers
                else:
                    config.pop("Layers", None)
            revision = model.new_revision()
            config.update(
                LastModified=model.last_modified(self.clock.now_ms()), RevisionId=revision, LastUpdateStatus="InProgress",
                LastUpdateStatusReason="The function is being created.", LastUpdateStatusReasonCode="Creating",
            )
            await db.put_version(tx, latest)
            await self._schedule_prepare(tx, function, [LATEST], revision)
        return latest.configuration()  # type: ignore[return-value]

    async def delete_function(self, ctx: RequestContext, request: DeleteFunctionRequest) -> None:
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            if ref.qualifier == LATEST:
                raise InvalidParameterValueException("$LATEST version cannot be deleted without deleting the function.")
            if ref.qualifier and not model.is_version_number(ref.qualifier):
                raise InvalidParameterValueException("Deletion of aliases is not currently supported.")
            if ref.qualifier:
                version = await db.get_version(tx, function, ref.qualifier)
                if version is None:
                    return None  # AWS answers success for a version that is not there
                users = [a.name for a in await db.list_aliases(tx, function) if ref.qualifier in (a.function_version, *a.weights)]
                if users:
                    raise ResourceConflictException(f"Unable to delete version because the following aliases reference it: {users}")
                await db.delete_version(tx, function, ref.qualifier)
                gone = [version]
            else:
                gone = await db.list_versions(tx, function)
                await db.delete_function(tx, function)
        for version in gone:
            await self.discard_environments(version.arn)
        async with self.store.transaction() as tx:
            unused = {v.code["hex"] for v in gone if v.code and not await db.code_in_use(tx, v.code["hex"])}
        for hex_sha in unused:
            await self.code.delete(hex_sha)
        return None

    async def list_functions(self, ctx: RequestContext, request: ListFunctionsRequest) -> ListFunctionsResponse:
        every_version = request.get("FunctionVersion") == "ALL"
        async with self.store.transaction() as tx:
            items: list[tuple[str, dict[str, Any]]] = []
            for function in await db.list_functions(tx, ctx.account, ctx.region):
                versions = await db.list_versions(tx, function) if every_version else [await db.get_version(tx, function, LATEST)]
                for v in versions:
                    if v is not None:
                        items.append((f"{function.name}:{(0 if v.version == LATEST else int(v.version)):010d}", v.configuration(listed=True)))
        page, marker = _page(items, lambda item: item[0], request.get("Marker"), request.get("MaxItems"))
        out: dict[str, Any] = {"Functions": [config for _, config in page]}
        if marker:
            out["NextMarker"] = marker
        return out  # type: ignore[return-value]

    # --- versions and aliases ---------------------------------------------------------------

    async def publish_version(self, ctx: RequestContext, request: PublishVersionRequest) -> FunctionConfiguration:
        ref = self._ref(ctx, request["FunctionName"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            latest, _ = await self._version(tx, function, LATEST)
            _check_revision(request.get("RevisionId"), latest.config.get("RevisionId"))
            if request.get("CodeSha256") and request["CodeSha256"] != latest.config["CodeSha256"]:
                raise InvalidParameterValueException(
                    f"CodeSHA256 ({request['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                    f"({latest.config['CodeSha256']}). Please try again"
                )
            _conflict_state(latest)
            if function.last_version:
                last = await db.get_version(tx, function, str(function.last_version))
                if last is not None and _essence(last.config) == _essence(latest.config):
                    return last.configuration()  # type: ignore[return-value]
            version = await self._publish(tx, function, latest, request.get("Description", latest.config.get("Description", "")))
        return version.configuration()  # type: ignore[return-value]

    async def list_versions_by_function(
        self, ctx: RequestContext, request: ListVersionsByFunctionRequest
    ) -> ListVersionsByFunctionResponse:
        ref = self._ref(ctx, request["FunctionName"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            versions = await db.list_versions(tx, function)
        items = [(f"{0 if v.version == LATEST else int(v.version):010d}", v.configuration()) for v in versions]
        page, marker = _page(items, lambda item: item[0], request.get("Marker"), request.get("MaxItems"))
        out: dict[str, Any] = {"Versions": [config for _, config in page]}
        if marker:
            out["NextMarker"] = marker
        return out  # type: ignore[return-value]

    async def _check_alias_versions(self, tx: Tx, function: Function, version: str, weights: dict[str, float]) -> None:
        for name in (version, *weights):
            if name != LATEST and await db.get_version(tx, function, name) is None:
                raise model.not_found(model.function_arn(function.region, function.account, function.name, name))
        if weights:
            if len(weights) > 1:
                raise InvalidParameterValueException("Number of items in AdditionalVersionWeights cannot be greater than 1")
            extra, weight = next(iter(weights.items()))
            if version == LATEST or extra == LATEST:
                raise InvalidParameterValueException("$LATEST is not supported for an alias pointing to more than 1 version")
            if extra == version:
                raise InvalidParameterValueException(f"Invalid function version {extra}. Function version {extra} is already included in routing configuration.")
            if not 0.0 <= weight <= 1.0:
                raise InvalidParameterValueException("Invalid function version weight. Weights must be between 0.0 and 1.0")

    async def create_alias(self, ctx: RequestContext, request: CreateAliasRequest) -> AliasConfiguration:
        ref = self._ref(ctx, request["FunctionName"])
        if model.is_version_number(request["Name"]) or request["Name"] == LATEST:
            raise InvalidParameterValueException("An alias name cannot be a version number or $LATEST.")
        weights = dict((request.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            await self._check_alias_versions(tx, function, request["FunctionVersion"], weights)
            alias = Alias(request["Name"], request["FunctionVersion"], request.get("Description", ""), weights, model.new_revision())
            if not await db.insert_alias(tx, function, alias):
                raise ResourceConflictException(f"Alias already exists: {model.function_arn(ref.region, ref.account, ref.name, alias.name)}")
        return alias.to_api(function)  # type: ignore[return-value]

    async def _alias(self, tx: Tx, ref: FunctionRef, function: Function, name: str) -> Alias:
        alias = await db.get_alias(tx, function, name)
        if alias is None:
            arn = model.function_arn(ref.region, ref.account, ref.name, name)
            raise ResourceNotFoundException(f"Cannot find alias arn: {arn}")
        return alias

    async def get_alias(self, ctx: RequestContext, request: GetAliasRequest) -> AliasConfiguration:
        ref = self._ref(ctx, request["FunctionName"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            alias = await self._alias(tx, ref, function, request["Name"])
        return alias.to_api(function)  # type: ignore[return-value]

    async def update_alias(self, ctx: RequestContext, request: UpdateAliasRequest) -> AliasConfiguration:
        ref = self._ref(ctx, request["FunctionName"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            alias = await self._alias(tx, ref, function, request["Name"])
            _check_revision(request.get("RevisionId"), alias.revision)
            if "FunctionVersion" in request:
                alias.function_version = request["FunctionVersion"]
            if "Description" in request:
                alias.description = request["Description"]
            if "RoutingConfig" in request:
                alias.weights = dict((request["RoutingConfig"] or {}).get("AdditionalVersionWeights") or {})
            await self._check_alias_versions(tx, function, alias.function_version, alias.weights)
            alias.revision = model.new_revision()
            await db.update_alias(tx, function, alias)
        return alias.to_api(function)  # type: ignore[return-value]

    async def delete_alias(self, ctx: RequestContext, request: DeleteAliasRequest) -> None:
        ref = self._ref(ctx, request["FunctionName"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            await db.delete_alias(tx, function, request["Name"])

    async def list_aliases(self, ctx: RequestContext, request: ListAliasesRequest) -> ListAliasesResponse:
        ref = self._ref(ctx, request["FunctionName"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            aliases = await db.list_aliases(tx, function)
        if request.get("FunctionVersion"):
            aliases = [a for a in aliases if a.function_version == request["FunctionVersion"]]
        page, marker = _page(aliases, lambda a: a.name, request.get("Marker"), request.get("MaxItems"))
        out: dict[str, Any] = {"Aliases": [a.to_api(function) for a in page]}
        if marker:
            out["NextMarker"] = marker
        return out  # type: ignore[return-value]

    # --- tags, policies, account -------------------------------------------------------------

    def _tag_target(self, ctx: RequestContext, arn: str) -> FunctionRef:
        ref = self._ref(ctx, arn)
        if ref.qualifier:
            raise InvalidParameterValueException("Tags on function aliases and versions are not supported. Please specify a function ARN.")
        return ref

    async def tag_resource(self, ctx: RequestContext, request: TagResourceRequest) -> None:
        ref = self._tag_target(ctx, request["Resource"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            function.tags.update(request["Tags"])
            if len(function.tags) > 50:
                raise InvalidParameterValueException("Number of tags exceeds resource tag limit.")
            await db.update_function(tx, function)

    async def untag_resource(self, ctx: RequestContext, request: UntagResourceRequest) -> None:
        ref = self._tag_target(ctx, request["Resource"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            for key in request["TagKeys"]:
                function.tags.pop(key, None)
            await db.update_function(tx, function)

    async def list_tags(self, ctx: RequestContext, request: ListTagsRequest) -> ListTagsResponse:
        ref = self._tag_target(ctx, request["Resource"])
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
        return {"Tags": dict(function.tags)}

    async def add_permission(self, ctx: RequestContext, request: AddPermissionRequest) -> AddPermissionResponse:
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            latest, _ = await self._version(tx, function, LATEST)
            if ref.qualifier:
                await self._version(tx, function, ref.qualifier)
            _check_revision(request.get("RevisionId"), latest.config.get("RevisionId"))
            statements = function.policies.setdefault(ref.qualifier or "", [])
            if any(s["Sid"] == request["StatementId"] for s in statements):
                raise ResourceConflictException(
                    f"The statement id ({request['StatementId']}) provided already exists. Please provide a new statement id, or remove the existing statement."
                )
            statement = model.policy_statement(dict(request), model.function_arn(ref.region, ref.account, ref.name, ref.qualifier))
            statements.append(statement)
            await db.update_function(tx, function)
        return {"Statement": json.dumps(statement, separators=(",", ":"))}

    async def remove_permission(self, ctx: RequestContext, request: RemovePermissionRequest) -> None:
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref, lock=True)
            latest, _ = await self._version(tx, function, LATEST)
            _check_revision(request.get("RevisionId"), latest.config.get("RevisionId"))
            statements = function.policies.get(ref.qualifier or "", [])
            kept = [s for s in statements if s["Sid"] != request["StatementId"]]
            if len(kept) == len(statements):
                raise ResourceNotFoundException(f"Statement {request['StatementId']} is not found in resource policy.")
            function.policies[ref.qualifier or ""] = kept
            await db.update_function(tx, function)

    async def get_policy(self, ctx: RequestContext, request: GetPolicyRequest) -> GetPolicyResponse:
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            version, _ = await self._version(tx, function, ref.qualifier)
        statements = function.policies.get(ref.qualifier or "", [])
        if not statements:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return {"Policy": model.policy_document(statements), "RevisionId": version.config.get("RevisionId", "")}

    async def get_account_settings(self, ctx: RequestContext, request: GetAccountSettingsRequest) -> GetAccountSettingsResponse:
        async with self.store.transaction() as tx:
            functions = await db.list_functions(tx, ctx.account, ctx.region)
            reserved = await db.reserved_total(tx, ctx.account, ctx.region)
            total = 0
            for function in functions:
                total += sum(v.code.get("size", 0) for v in await db.list_versions(tx, function))
        limit = self.node.config.lambda_concurrency
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": model.UNZIPPED_LIMIT,
                "CodeSizeZipped": model.ZIP_UPLOAD_LIMIT,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit - reserved,
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": len(functions)},
        }


    # --- event source mappings (Amazon SQS; event_sources.py holds the rules and the pollers) -------

    async def _mapping_target(self, ctx: RequestContext, name: str) -> tuple[FunctionRef, Version, str]:
        """The function (and qualifier) a mapping invokes, which must exist, and its ARN as AWS shows it."""
        ref = self._ref(ctx, name)
        async with self.store.transaction() as tx:
            function = await self._function(tx, ref)
            version, _ = await self._version(tx, function, ref.qualifier)
        return ref, version, model.function_arn(ref.region, ref.account, ref.name, ref.qualifier)

    async def _event_source_mapping(self, ctx: RequestContext, uuid: str) -> db.Mapping:
        async with self.store.transaction() as tx:
            mapping = await db.get_mapping(tx, uuid)
        if mapping is None or (mapping.account, mapping.region) != (ctx.account, ctx.region):
            raise esm.not_found()
        return mapping

    async def create_event_source_mapping(
        self, ctx: RequestContext, request: api.CreateEventSourceMappingRequest
    ) -> api.EventSourceMappingConfiguration:
        source = esm.sqs_source(dict(request))
        esm.check_members(dict(request))
        config = esm.apply_settings(esm.DEFAULTS, dict(request))
        esm.check_batching(config, esm.is_fifo(request["EventSourceArn"]))
        esm.compile_filters(config.get("FilterCriteria"))
        ref, version, function_arn = await self._mapping_target(ctx, request["FunctionName"])
        attributes = await esm.queue_attributes(self, ctx, source)
        esm.check_timeout(int(attributes.get("VisibilityTimeout", 30)), version.config["Timeout"])
        mapping = esm.new_mapping(ref, function_arn, request["EventSourceArn"], config,
                                  request.get("Enabled") is not False, self.clock.now_ms())
        async with self.store.transaction() as tx:
            if not await db.insert_mapping(tx, mapping):
                existing = await db.mapping_of(tx, function_arn, mapping.source_arn)
                raise esm.conflict(mapping.source_arn, ref.name, existing or "")
            tx.notify(esm.CHANNEL)
        return esm.render(mapping)  # type: ignore[return-value]

    async def get_event_source_mapping(
        self, ctx: RequestContext, request: api.GetEventSourceMappingRequest
    ) -> api.EventSourceMappingConfiguration:
        return esm.render(await self._event_source_mapping(ctx, request["UUID"]))  # type: ignore[return-value]

    async def update_event_source_mapping(
        self, ctx: RequestContext, request: api.UpdateEventSourceMappingRequest
    ) -> api.EventSourceMappingConfiguration:
        esm.check_members(dict(request))
        current = await self._event_source_mapping(ctx, request["UUID"])
        if current.state == "Deleting":
            raise esm.in_use(current.uuid)
        config = esm.apply_settings(current.config, dict(request))
        esm.check_batching(config, esm.is_fifo(current.source_arn))
        esm.compile_filters(config.get("FilterCriteria"))
        name = request.get("FunctionName") or current.function_arn
        ref, version, function_arn = await self._mapping_target(ctx, name)
        source = esm.sqs_source({"EventSourceArn": current.source_arn})
        attributes = await esm.queue_attributes(self, ctx, source)
        esm.check_timeout(int(attributes.get("VisibilityTimeout", 30)), version.config["Timeout"])
        enabled = current.enabled if request.get("Enabled") is None else bool(request["Enabled"])
        async with self.store.transaction() as tx:
            mapping = await db.get_mapping(tx, current.uuid, lock=True)
            if mapping is None:
                raise esm.not_found()
            if mapping.state == "Deleting":
                raise esm.in_use(mapping.uuid)
            if function_arn != mapping.function_arn:
                existing = await db.mapping_of(tx, function_arn, mapping.source_arn)
                if existing:
                    raise esm.conflict(mapping.source_arn, ref.name, existing)
            if enabled and not mapping.enabled:
                mapping.state = "Enabling"
            elif mapping.enabled and not enabled:
                mapping.state = "Disabling"
            else:
                mapping.state = "Updating"
            mapping.function_name, mapping.qualifier, mapping.function_arn = ref.name, ref.qualifier, function_arn
            mapping.config, mapping.enabled, mapping.state_reason = config, enabled, "USER_INITIATED"
            mapping.modified_ms = self.clock.now_ms()
            await db.update_mapping(tx, mapping)
            tx.notify(esm.CHANNEL)
        return esm.render(mapping)  # type: ignore[return-value]

    async def delete_event_source_mapping(
        self, ctx: RequestContext, request: api.DeleteEventSourceMappingRequest
    ) -> api.EventSourceMappingConfiguration:
        await self._event_source_mapping(ctx, request["UUID"])
        async with self.store.transaction() as tx:
            mapping = await db.get_mapping(tx, request["UUID"], lock=True)
            if mapping is None:
                raise esm.not_found()
            if mapping.state != "Deleting":  # its poller stops, then the mapping goes
                mapping.state, mapping.state_reason = "Deleting", "USER_INITIATED"
                await db.update_mapping(tx, mapping)
                tx.notify(esm.CHANNEL)
        return esm.render(mapping)  # type: ignore[return-value]

    async def list_event_source_mappings(
        self, ctx: RequestContext, request: api.ListEventSourceMappingsRequest
    ) -> api.ListEventSourceMappingsResponse:
        async with self.store.transaction() as tx:
            mappings = await db.list_mappings(tx, ctx.account, ctx.region)
        if request.get("EventSourceArn"):
            mappings = [m for m in mappings if m.source_arn == request["EventSourceArn"]]
        if request.get("FunctionName"):
            ref = self._ref(ctx, request["FunctionName"])
            mappings = [m for m in mappings if m.function_name == ref.name and ref.qualifier in (None, m.qualifier)]
        items, marker = esm.page([esm.render(m) for m in mappings], request.get("Marker"), request.get("MaxItems"))
        out: dict[str, Any] = {"EventSourceMappings": items}
        if marker:
            out["NextMarker"] = marker
        return out  # type: ignore[return-value]


def _essence(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in _VOLATILE}

