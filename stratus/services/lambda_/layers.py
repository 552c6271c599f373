"""Lambda layers: immutable, numbered versions of a zip, extracted under /opt for environments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stratus.aws.api.lambda_ import (
    AddLayerVersionPermissionRequest,
    AddLayerVersionPermissionResponse,
    DeleteLayerVersionRequest,
    GetLayerVersionByArnRequest,
    GetLayerVersionPolicyRequest,
    GetLayerVersionPolicyResponse,
    GetLayerVersionRequest,
    GetLayerVersionResponse,
    InvalidParameterValueException,
    ListLayersRequest,
    ListLayersResponse,
    ListLayerVersionsRequest,
    ListLayerVersionsResponse,
    PreconditionFailedException,
    PublishLayerVersionRequest,
    PublishLayerVersionResponse,
    RemoveLayerVersionPermissionRequest,
    ResourceConflictException,
    ResourceNotFoundException,
)
from stratus.aws.arns import parse_arn
from stratus.aws.context import RequestContext
from stratus.services.lambda_ import model
from stratus.services.lambda_ import store as db

_NOT_FOUND = "The resource you requested does not exist."


def _layer_name(ctx: RequestContext, value: str) -> tuple[str, str, str]:
    """(account, region, name) from a layer name or a layer ARN (without version)."""
    if value.startswith("arn:"):
        parsed = parse_arn(value, "lambda")
        name = parsed.resource_after("layer:") if parsed else None
        if parsed is None or not name or ":" in name:
            raise InvalidParameterValueException(f"Invalid layer name: {value}")
        return parsed.account, parsed.region, name
    return ctx.account, ctx.region, value


class LayerOperations:
    """Mixed into LambdaProvider."""

    def _layer_api(self, ctx: RequestContext, account: str, region: str, name: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
        out = {
            "Content": {
                "Location": f"{ctx.endpoint}/_stratus/lambda/code/{data['code']['hex']}.zip",
                "CodeSha256": data["code"]["sha256"],
                "CodeSize": data["code"]["size"],
            },
            "LayerArn": model.layer_arn(region, account, name),
            "LayerVersionArn": model.layer_arn(region, account, name, version),
            "Description": data.get("Description", ""),
            "CreatedDate": model.last_modified(data["created_ms"]),
            "Version": version,
        }
        for key in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if data.get(key):
                out[key] = data[key]
        return out

    async def layer_dir(self, arn: str) -> Path:
        """The extracted layer of ``arn`` on this node (for environments)."""
        parts = model.parse_layer_version_arn(arn)
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            found = await db.get_layer_version(tx, parts[1], parts[0], parts[2], parts[3], deleted=True) if parts else None
        if found is None:
            raise ResourceNotFoundException(f"Layer version {arn} does not exist.")
        return await self.code.extracted(found[0]["code"]["hex"])  # type: ignore[attr-defined]

    async def _get_layer(self, tx: Any, account: str, region: str, name: str, version: int) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
        found = await db.get_layer_version(tx, account, region, name, version)
        if found is None:
            raise ResourceNotFoundException(_NOT_FOUND)
        return found

    async def publish_layer_version(self, ctx: RequestContext, request: PublishLayerVersionRequest) -> PublishLayerVersionResponse:
        account, region, name = _layer_name(ctx, request["LayerName"])
        content = dict(request["Content"])
        code = await self._zip(content)  # type: ignore[attr-defined]
        data: dict[str, Any] = {"code": code, "created_ms": self.clock.now_ms(), "Description": request.get("Description", "")}  # type: ignore[attr-defined]
        for key in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if request.get(key):
                data[key] = request[key]  # type: ignore[literal-required]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            version = await db.next_layer_version(tx, account, region, name)
            await db.insert_layer_version(tx, account, region, name, version, data, model.new_revision())
        return self._layer_api(ctx, account, region, name, version, data)  # type: ignore[return-value]

    async def get_layer_version(self, ctx: RequestContext, request: GetLayerVersionRequest) -> GetLayerVersionResponse:
        account, region, name = _layer_name(ctx, request["LayerName"])
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            data, _, _ = await self._get_layer(tx, account, region, name, request["VersionNumber"])
        return self._layer_api(ctx, account, region, name, request["VersionNumber"], data)  # type: ignore[return-value]

    async def get_layer_version_by_arn(self, ctx: RequestContext, request: GetLayerVersionByArnRequest) -> GetLayerVersionResponse:
        parts = model.parse_layer_version_arn(request["Arn"])
        if parts is None:
            raise InvalidParameterValueException(f"Invalid layer version ARN: {request['Arn']}")
        region, account, name, version = parts
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            data, _, _ = await self._get_layer(tx, account, region, name, version)
        return self._layer_api(ctx, account, region, name, version, data)  # type: ignore[return-value]

    async def delete_layer_version(self, ctx: RequestContext, request: DeleteLayerVersionRequest) -> None:
        account, region, name = _layer_name(ctx, request["LayerName"])
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            await db.delete_layer_version(tx, account, region, name, request["VersionNumber"])

    def _matches(self, data: dict[str, Any], runtime: str | None, arch: str | None) -> bool:
        return (not runtime or runtime in data.get("CompatibleRuntimes", [])) and (
            not arch or arch in data.get("CompatibleArchitectures", [])
        )

    async def list_layer_versions(self, ctx: RequestContext, request: ListLayerVersionsRequest) -> ListLayerVersionsResponse:
        account, region, name = _layer_name(ctx, request["LayerName"])
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            rows = await db.list_layer_versions(tx, account, region, name)
        items = []
        for _, version, data in rows:
            if self._matches(data, request.get("CompatibleRuntime"), request.get("CompatibleArchitecture")):
                item = self._layer_api(ctx, account, region, name, version, data)
                item.pop("Content")
                item.pop("LayerArn")
                items.append(item)
        return {"LayerVersions": items[: request.get("MaxItems") or 50]}  # type: ignore[typeddict-item]

    async def list_layers(self, ctx: RequestContext, request: ListLayersRequest) -> ListLayersResponse:
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            rows = await db.list_layer_versions(tx, ctx.account, ctx.region)
        layers: dict[str, dict[str, Any]] = {}
        for name, version, data in rows:  # newest version first per name
            if name in layers or not self._matches(data, request.get("CompatibleRuntime"), request.get("CompatibleArchitecture")):
                continue
            latest = self._layer_api(ctx, ctx.account, ctx.region, name, version, data)
            latest.pop("Content")
            latest.pop("LayerArn")
            layers[name] = {"LayerName": name, "LayerArn": model.layer_arn(ctx.region, ctx.account, name), "LatestMatchingVersion": latest}
        return {"Layers": list(layers.values())[: request.get("MaxItems") or 50]}  # type: ignore[typeddict-item]

    async def add_layer_version_permission(
        self, ctx: RequestContext, request: AddLayerVersionPermissionRequest
    ) -> AddLayerVersionPermissionResponse:
        account, region, name = _layer_name(ctx, request["LayerName"])
        version = request["VersionNumber"]
        principal = request["Principal"]
        statement: dict[str, Any] = {
            "Sid": request["StatementId"],
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
            "Action": request["Action"],
            "Resource": model.layer_arn(region, account, name, version),
        }
        if request.get("OrganizationId"):
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": request["OrganizationId"]}}
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            _, policy, revision = await self._get_layer(tx, account, region, name, version)
            if request.get("RevisionId") and request["RevisionId"] != revision:
                raise PreconditionFailedException("The Revision Id provided does not match the latest Revision Id.")
            if any(s["Sid"] == request["StatementId"] for s in policy):
                raise ResourceConflictException(
                    f"The statement id ({request['StatementId']}) provided already exists. Please provide a new statement id, or remove the existing statement."
                )
            revision = model.new_revision()
            await db.set_layer_policy(tx, account, region, name, version, [*policy, statement], revision)
        return {"Statement": json.dumps(statement, separators=(",", ":")), "RevisionId": revision}

    async def remove_layer_version_permission(self, ctx: RequestContext, request: RemoveLayerVersionPermissionRequest) -> None:
        account, region, name = _layer_name(ctx, request["LayerName"])
        version = request["VersionNumber"]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            _, policy, _ = await self._get_layer(tx, account, region, name, version)
            kept = [s for s in policy if s["Sid"] != request["StatementId"]]
            if len(kept) == len(policy):
                raise ResourceNotFoundException(f"Statement {request['StatementId']} is not found in resource policy.")
            await db.set_layer_policy(tx, account, region, name, version, kept, model.new_revision())

    async def get_layer_version_policy(self, ctx: RequestContext, request: GetLayerVersionPolicyRequest) -> GetLayerVersionPolicyResponse:
        account, region, name = _layer_name(ctx, request["LayerName"])
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            _, policy, revision = await self._get_layer(tx, account, region, name, request["VersionNumber"])
        if not policy:
            raise ResourceNotFoundException("No policy is associated with the given resource.")
        return {"Policy": model.policy_document(policy), "RevisionId": revision}
