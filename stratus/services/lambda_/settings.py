"""Per-function and per-qualifier settings: event invoke configs, reserved and provisioned concurrency."""

from __future__ import annotations

import logging
from typing import Any

from stratus.aws.api.lambda_ import (
    Concurrency,
    DeleteFunctionConcurrencyRequest,
    DeleteFunctionEventInvokeConfigRequest,
    DeleteProvisionedConcurrencyConfigRequest,
    FunctionEventInvokeConfig,
    GetFunctionConcurrencyRequest,
    GetFunctionConcurrencyResponse,
    GetFunctionEventInvokeConfigRequest,
    GetProvisionedConcurrencyConfigRequest,
    GetProvisionedConcurrencyConfigResponse,
    InvalidParameterValueException,
    ListFunctionEventInvokeConfigsRequest,
    ListFunctionEventInvokeConfigsResponse,
    ListProvisionedConcurrencyConfigsRequest,
    ListProvisionedConcurrencyConfigsResponse,
    ProvisionedConcurrencyConfigNotFoundException,
    PutFunctionConcurrencyRequest,
    PutFunctionEventInvokeConfigRequest,
    PutProvisionedConcurrencyConfigRequest,
    PutProvisionedConcurrencyConfigResponse,
    ResourceNotFoundException,
    UpdateFunctionEventInvokeConfigRequest,
)
from stratus.aws.context import RequestContext
from stratus.engine.timers import Timer
from stratus.services.lambda_ import model
from stratus.services.lambda_ import store as db
from stratus.services.lambda_.model import LATEST, Function

log = logging.getLogger("stratus.lambda")

EVENT_INVOKE = "event-invoke"
PROVISIONED = "provisioned"
PROVISION_TIMER = "lambda.provision"


class SettingsOperations:
    """Mixed into LambdaProvider (which supplies ``_ref``, ``_function``, ``_version``, store, clock)."""

    # --- event invoke configs ---------------------------------------------------------------

    async def _event_target(self, tx: Any, ctx: RequestContext, name: str, qualifier: str | None) -> tuple[Function, str]:
        ref = self._ref(ctx, name, qualifier)  # type: ignore[attr-defined]
        function = await self._function(tx, ref)  # type: ignore[attr-defined]
        if ref.qualifier:
            await self._version(tx, function, ref.qualifier)  # type: ignore[attr-defined]
        return function, ref.qualifier or LATEST

    @staticmethod
    def _event_config_api(function: Function, qualifier: str, data: dict[str, Any]) -> dict[str, Any]:
        arn = model.function_arn(function.region, function.account, function.name, qualifier)
        # AWS always answers both destinations, an empty object for one that is not set.
        destinations = {"OnSuccess": {}, "OnFailure": {}, **data.get("destinations", {})}
        out = {"FunctionArn": arn, "LastModified": data["modified_ms"] / 1000, "DestinationConfig": destinations}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in data:
                out[key] = data[key]
        return out

    @staticmethod
    def _check_destinations(config: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for when in ("OnSuccess", "OnFailure"):
            arn = (config.get(when) or {}).get("Destination")
            if arn:
                model.check_destination(arn)
                out[when] = {"Destination": arn}
        return out

    async def _write_event_config(self, ctx: RequestContext, request: dict[str, Any], *, merge: bool) -> FunctionEventInvokeConfig:
        if not any(k in request for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")):
            raise InvalidParameterValueException(
                "You must specify at least one of error handling or destination setting."
            )
        destinations = self._check_destinations(request.get("DestinationConfig") or {}) if "DestinationConfig" in request else None
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function, qualifier = await self._event_target(tx, ctx, request["FunctionName"], request.get("Qualifier"))
            data = await db.get_setting(tx, function, EVENT_INVOKE, qualifier)
            if merge and data is None:
                raise ResourceNotFoundException(
                    f"The function {model.function_arn(function.region, function.account, function.name, qualifier)} doesn't have an EventInvokeConfig"
                )
            data = dict(data or {}) if merge else {}
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
                if key in request:
                    data[key] = request[key]
            if destinations is not None:
                data["destinations"] = {**(data.get("destinations", {}) if merge else {}), **destinations}
            data["modified_ms"] = self.clock.now_ms()  # type: ignore[attr-defined]
            await db.put_setting(tx, function, EVENT_INVOKE, qualifier, data)
        return self._event_config_api(function, qualifier, data)  # type: ignore[return-value]

    async def put_function_event_invoke_config(
        self, ctx: RequestContext, request: PutFunctionEventInvokeConfigRequest
    ) -> FunctionEventInvokeConfig:
        return await self._write_event_config(ctx, dict(request), merge=False)

    async def update_function_event_invoke_config(
        self, ctx: RequestContext, request: UpdateFunctionEventInvokeConfigRequest
    ) -> FunctionEventInvokeConfig:
        return await self._write_event_config(ctx, dict(request), merge=True)

    async def get_function_event_invoke_config(
        self, ctx: RequestContext, request: GetFunctionEventInvokeConfigRequest
    ) -> FunctionEventInvokeConfig:
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function, qualifier = await self._event_target(tx, ctx, request["FunctionName"], request.get("Qualifier"))
            data = await db.get_setting(tx, function, EVENT_INVOKE, qualifier)
        if data is None:
            raise ResourceNotFoundException(
                f"The function {model.function_arn(function.region, function.account, function.name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return self._event_config_api(function, qualifier, data)  # type: ignore[return-value]

    async def delete_function_event_invoke_config(self, ctx: RequestContext, request: DeleteFunctionEventInvokeConfigRequest) -> None:
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function, qualifier = await self._event_target(tx, ctx, request["FunctionName"], request.get("Qualifier"))
            if not await db.delete_setting(tx, function, EVENT_INVOKE, qualifier):
                raise ResourceNotFoundException(
                    f"The function {model.function_arn(function.region, function.account, function.name, qualifier)} doesn't have an EventInvokeConfig"
                )

    async def list_function_event_invoke_configs(
        self, ctx: RequestContext, request: ListFunctionEventInvokeConfigsRequest
    ) -> ListFunctionEventInvokeConfigsResponse:
        ref = self._ref(ctx, request["FunctionName"])  # type: ignore[attr-defined]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._function(tx, ref)  # type: ignore[attr-defined]
            items = await db.list_settings(tx, function, EVENT_INVOKE)
        configs = [self._event_config_api(function, q, d) for q, d in items]
        limit = request.get("MaxItems") or 50
        start = int(request.get("Marker") or 0) if str(request.get("Marker") or "0").isdigit() else 0
        out: dict[str, Any] = {"FunctionEventInvokeConfigs": configs[start : start + limit]}
        if start + limit < len(configs):
            out["NextMarker"] = str(start + limit)
        return out  # type: ignore[return-value]

    # --- reserved concurrency ---------------------------------------------------------------

    async def put_function_concurrency(self, ctx: RequestContext, request: PutFunctionConcurrencyRequest) -> Concurrency:
        ref = self._ref(ctx, request["FunctionName"])  # type: ignore[attr-defined]
        if ref.qualifier:
            raise InvalidParameterValueException("Concurrency can only be set on the function, not on a version or alias.")
        wanted = request["ReservedConcurrentExecutions"]
        limit = self.node.config.lambda_concurrency  # type: ignore[attr-defined]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._function(tx, ref, lock=True)  # type: ignore[attr-defined]
            others = await db.reserved_total(tx, ref.account, ref.region, excluding=function.id)
            if limit - others - wanted < model.UNRESERVED_MINIMUM:
                raise InvalidParameterValueException(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                    f"below its minimum value of [{model.UNRESERVED_MINIMUM}]."
                )
            function.reserved = wanted
            await db.update_function(tx, function)
        self.concurrency.forget_reserved(ref.account, ref.region)  # type: ignore[attr-defined]
        return {"ReservedConcurrentExecutions": wanted}

    async def get_function_concurrency(self, ctx: RequestContext, request: GetFunctionConcurrencyRequest) -> GetFunctionConcurrencyResponse:
        ref = self._ref(ctx, request["FunctionName"])  # type: ignore[attr-defined]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._function(tx, ref)  # type: ignore[attr-defined]
        return {} if function.reserved is None else {"ReservedConcurrentExecutions": function.reserved}

    async def delete_function_concurrency(self, ctx: RequestContext, request: DeleteFunctionConcurrencyRequest) -> None:
        ref = self._ref(ctx, request["FunctionName"])  # type: ignore[attr-defined]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._function(tx, ref, lock=True)  # type: ignore[attr-defined]
            function.reserved = None
            await db.update_function(tx, function)
        self.concurrency.forget_reserved(ref.account, ref.region)  # type: ignore[attr-defined]

    # --- provisioned concurrency ------------------------------------------------------------

    async def _provisioned_target(self, tx: Any, ctx: RequestContext, name: str, qualifier: str) -> Function:
        ref = self._ref(ctx, name, qualifier)  # type: ignore[attr-defined]
        function = await self._function(tx, ref)  # type: ignore[attr-defined]
        if qualifier == LATEST:
            raise InvalidParameterValueException("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        await self._version(tx, function, qualifier)  # type: ignore[attr-defined]
        return function

    @staticmethod
    def _provisioned_api(data: dict[str, Any]) -> dict[str, Any]:
        out = {
            "RequestedProvisionedConcurrentExecutions": data["requested"],
            "AvailableProvisionedConcurrentExecutions": data["allocated"],
            "AllocatedProvisionedConcurrentExecutions": data["allocated"],
            "Status": data["status"],
            "LastModified": model.last_modified(data["modified_ms"]),
        }
        if data.get("reason"):
            out["StatusReason"] = data["reason"]
        return out

    async def put_provisioned_concurrency_config(
        self, ctx: RequestContext, request: PutProvisionedConcurrencyConfigRequest
    ) -> PutProvisionedConcurrencyConfigResponse:
        qualifier = request["Qualifier"]
        wanted = request["ProvisionedConcurrentExecutions"]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._provisioned_target(tx, ctx, request["FunctionName"], qualifier)
            if function.reserved is not None and wanted > function.reserved:
                raise InvalidParameterValueException(
                    f"Requested Provisioned Concurrency ({wanted}) should not be greater than the reservedConcurrentExecution for function ({function.reserved})"
                )
            data = {"requested": wanted, "allocated": 0, "status": "IN_PROGRESS", "modified_ms": self.clock.now_ms()}  # type: ignore[attr-defined]
            await db.put_setting(tx, function, PROVISIONED, qualifier, data)
            await self.timers.schedule(  # type: ignore[attr-defined]
                tx, PROVISION_TIMER, f"{function.id}:{qualifier}", self.clock.now_ms(),  # type: ignore[attr-defined]
                {"account": function.account, "region": function.region, "name": function.name, "qualifier": qualifier},
            )
        return self._provisioned_api(data)  # type: ignore[return-value]

    async def _on_provision(self, timer: Timer) -> None:
        p = timer.payload
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await db.get_function(tx, p["account"], p["region"], p["name"])
            data = await db.get_setting(tx, function, PROVISIONED, p["qualifier"]) if function else None
            version = (await self._version(tx, function, p["qualifier"]))[0] if data else None  # type: ignore[attr-defined]
        if function is None or data is None or version is None:
            return
        reason = None
        try:
            await self.provision_environments(version, data["requested"])  # type: ignore[attr-defined]
        except Exception as exc:
            log.exception("provisioning %s failed", version.arn)
            reason = str(exc)
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            current = await db.get_setting(tx, function, PROVISIONED, p["qualifier"])
            if current is None or current["requested"] != data["requested"]:
                return
            current.update(status="FAILED" if reason else "READY", allocated=0 if reason else data["requested"], reason=reason)
            await db.put_setting(tx, function, PROVISIONED, p["qualifier"], current)

    async def get_provisioned_concurrency_config(
        self, ctx: RequestContext, request: GetProvisionedConcurrencyConfigRequest
    ) -> GetProvisionedConcurrencyConfigResponse:
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._provisioned_target(tx, ctx, request["FunctionName"], request["Qualifier"])
            data = await db.get_setting(tx, function, PROVISIONED, request["Qualifier"])
        if data is None:
            raise ProvisionedConcurrencyConfigNotFoundException("No Provisioned Concurrency Config found for this function")
        return self._provisioned_api(data)  # type: ignore[return-value]

    async def delete_provisioned_concurrency_config(self, ctx: RequestContext, request: DeleteProvisionedConcurrencyConfigRequest) -> None:
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._provisioned_target(tx, ctx, request["FunctionName"], request["Qualifier"])
            if not await db.delete_setting(tx, function, PROVISIONED, request["Qualifier"]):
                raise ProvisionedConcurrencyConfigNotFoundException("No Provisioned Concurrency Config found for this function")

    async def list_provisioned_concurrency_configs(
        self, ctx: RequestContext, request: ListProvisionedConcurrencyConfigsRequest
    ) -> ListProvisionedConcurrencyConfigsResponse:
        ref = self._ref(ctx, request["FunctionName"])  # type: ignore[attr-defined]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._function(tx, ref)  # type: ignore[attr-defined]
            items = await db.list_settings(tx, function, PROVISIONED)
        configs = [
            {"FunctionArn": model.function_arn(function.region, function.account, function.name, q), **self._provisioned_api(d)}
            for q, d in items
        ]
        return {"ProvisionedConcurrencyConfigs": configs}  # type: ignore[typeddict-item]



