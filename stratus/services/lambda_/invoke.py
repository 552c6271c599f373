"""Invoking functions: request checks, qualifier and alias routing, concurrency, credentials,
the execution environments (``runtime/``), logs to CloudWatch Logs, and per-function counters.

Concurrency is counted per node in memory (AWS keeps no durable record of it either): the
account limit is shared by every function without reserved concurrency, less what the others
reserve; a function with reserved concurrency is limited to exactly that.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
import uuid
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any

from stratus.aws.api.lambda_ import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    InvocationRequest,
    InvocationResponse,
    InvokeAsyncRequest,
    InvokeAsyncResponse,
    RequestTooLargeException,
    ResourceConflictException,
    TooManyRequestsException,
)
from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.services.lambda_ import model
from stratus.services.lambda_ import store as db
from stratus.services.lambda_.model import LATEST, Version
from stratus.services.lambda_.runtime.pool import Runtimes, unqualified
from stratus.services.lambda_.settings import PROVISION_TIMER
from stratus.services.lambda_.runtime.spec import ConcurrencyLimitExceeded, FunctionSpec, InvokeResult

log = logging.getLogger("stratus.lambda")

_METRICS_FLUSH_S = 10.0
_CREDENTIALS_MARGIN_S = 300
# FunctionSpecs kept per (version ARN, RevisionId): building one looks up layers and code.
_SPEC_CACHE_SIZE = 512


def role_session_name(function_name: str) -> str:
    """The role session Lambda opens for a function is named after the function (CloudTrail shows
    ``assumed-role/<role>/<function name>``). STS takes 2 to 64 characters and a function name can
    be one: that one is padded with ``_`` (``f`` -> ``f_``)."""
    return function_name[:64].ljust(2, "_")


class Throttled(TooManyRequestsException):
    def __init__(self, reason: str) -> None:
        super().__init__("Rate Exceeded.")
        self.fields = {"Reason": reason, "Type": "User"}
        self.reason = reason


def _too_large(limit: int, operation: str) -> RequestTooLargeException:
    """AWS answers an oversized payload with HTTP 413 and this message, under the code
    ``RequestEntityTooLargeException``, which no model declares; stratus keeps the code of
    the modeled ``RequestTooLargeException`` (same status) so SDKs raise their modeled class.
    """
    return RequestTooLargeException(f"Request must be smaller than {limit} bytes for the {operation} operation")


class Concurrency:
    """In-flight invocations on this node, per account/region and per function."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._account: dict[tuple[str, str], int] = defaultdict(int)
        self._function: dict[tuple[str, str, str], int] = defaultdict(int)
        self._reserved_total: dict[tuple[str, str], int] = {}
        self._reserved_in_flight: dict[tuple[str, str], int] = defaultdict(int)

    def forget_reserved(self, account: str, region: str) -> None:
        self._reserved_total.pop((account, region), None)

    def knows_reserved(self, account: str, region: str) -> bool:
        return (account, region) in self._reserved_total

    def set_reserved(self, account: str, region: str, total: int) -> None:
        self._reserved_total[(account, region)] = total

    def acquire(self, account: str, region: str, name: str, reserved: int | None) -> None:
        """Count one more invocation in flight, or raise ``Throttled`` with AWS's reason."""
        key, home = (account, region, name), (account, region)
        if reserved is not None:
            if self._function[key] >= reserved:
                raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            self._reserved_in_flight[home] += 1
        elif self._account[home] - self._reserved_in_flight[home] >= self.limit - self._reserved_total.get(home, 0):
            raise Throttled("ConcurrentInvocationLimitExceeded")
        self._account[home] += 1
        self._function[key] += 1

    def release(self, account: str, region: str, name: str, reserved: int | None) -> None:
        home = (account, region)
        self._account[home] -= 1
        self._function[(account, region, name)] -= 1
        if reserved is not None:
            self._reserved_in_flight[home] -= 1


@dataclass(slots=True)
class Counters:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    duration_ms: float = 0.0
    async_dropped: int = 0


@dataclass(slots=True)
class Outcome:
    """What one run of a function gave: the runtime's result and the version that ran."""

    result: InvokeResult
    version: Version


class InvokeOperations:
    """Mixed into LambdaProvider."""

    runtimes: Runtimes
    concurrency: Concurrency

    async def start_invocations(self) -> None:
        self.concurrency = Concurrency(self.node.config.lambda_concurrency)  # type: ignore[attr-defined]
        self._credentials: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
        self._counters: dict[tuple[str, str, str, int], Counters] = defaultdict(Counters)
        self._log_streams: set[tuple[str, str, str, str]] = set()
        self._specs: OrderedDict[tuple[str, str], FunctionSpec] = OrderedDict()
        self._flusher = asyncio.create_task(self._flush_metrics_loop(), name="lambda-metrics")
        self.runtimes = Runtimes(
            endpoint=self.node.config.endpoint,  # type: ignore[attr-defined]
            log_sink=self._log_sink,
            account_concurrency=self.node.config.lambda_concurrency,  # type: ignore[attr-defined]
            now_ms=self.clock.now_ms,  # type: ignore[attr-defined]
        )
        self.timers.on(PROVISION_TIMER, self._on_provision)  # type: ignore[attr-defined]

    async def stop_invocations(self) -> None:
        self._flusher.cancel()
        try:
            await self._flusher
        except asyncio.CancelledError:
            pass
        await self._flush_metrics()
        await self.runtimes.close()

    # --- environments -----------------------------------------------------------------------

    async def spec_for(self, version: Version) -> FunctionSpec:
        """The version as its environments see it. Kept per version ARN and RevisionId (a new one
        comes with every change of code or configuration), the most recently used ones."""
        key = (version.arn, version.config["RevisionId"])
        spec = self._specs.get(key)
        if spec is not None and spec.code_dir.is_dir():
            self._specs.move_to_end(key)
            return spec
        spec = await self._build_spec(version)
        self._specs[key] = spec
        if len(self._specs) > _SPEC_CACHE_SIZE:
            self._specs.popitem(last=False)
        return spec

    async def _build_spec(self, version: Version) -> FunctionSpec:
        config = version.config
        f = version.function
        logging_config = config.get("LoggingConfig") or {}
        layers = tuple([await self.layer_dir(layer["Arn"]) for layer in config.get("Layers", [])])  # type: ignore[attr-defined]
        return FunctionSpec(
            function_arn=version.arn,
            function_name=f.name,
            version=version.version,
            account=f.account,
            region=f.region,
            runtime=config["Runtime"],
            handler=config["Handler"],
            code_dir=await self.code.extracted(version.code["hex"]),  # type: ignore[attr-defined]
            layer_dirs=layers,
            environment=dict((config.get("Environment") or {}).get("Variables") or {}),
            memory_mb=config["MemorySize"],
            timeout_s=config["Timeout"],
            ephemeral_storage_mb=config["EphemeralStorage"]["Size"],
            architecture=config["Architectures"][0],
            role_arn=config["Role"],
            log_group=logging_config.get("LogGroup") or f"/aws/lambda/{f.name}",
            log_format=logging_config.get("LogFormat", "Text"),
            application_log_level=logging_config.get("ApplicationLogLevel", "INFO"),
            system_log_level=logging_config.get("SystemLogLevel", "INFO"),
            revision=config["RevisionId"],
        )

    async def discard_environments(self, function_arn: str) -> None:
        self.runtimes.discard(function_arn)
        for key in [key for key in self._specs if key[0] == function_arn or unqualified(key[0]) == function_arn]:
            del self._specs[key]

    async def provision_environments(self, version: Version, count: int) -> None:
        ctx = RequestContext(account=version.function.account, region=version.function.region, request_id=str(uuid.uuid4()))
        ctx.client = self.node.client(ctx)  # type: ignore[attr-defined]
        credentials = await self._role_credentials(ctx, version)
        await self.runtimes.provision(await self.spec_for(version), count, credentials=credentials)

    async def _role_credentials(self, ctx: RequestContext, version: Version) -> dict[str, str]:
        """The role's temporary credentials (STS AssumeRole, session named after the function), cached
        until shortly before they expire on the stratus clock (which STS's expiry follows).

        A role that cannot be assumed (deleted since the function was configured) fails the
        invocation: the function never runs with other credentials than its role's.
        """
        role, name = version.config["Role"], version.function.name
        now = self.clock.now_ms()  # type: ignore[attr-defined]
        cached = self._credentials.get((role, name))
        if cached and cached[0] > now:
            return cached[1]
        client = ctx.client or self.node.client(ctx)  # type: ignore[attr-defined]
        try:
            answer = await client.sts(account=version.function.account, region=version.function.region).assume_role(
                {"RoleArn": role, "RoleSessionName": role_session_name(name), "DurationSeconds": 3600}
            )
        except AwsError as exc:
            log.warning("could not assume %s for %s: %s", role, name, exc)
            raise model.role_not_assumable() from None
        creds = answer["Credentials"]
        found = {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
        self._credentials[(role, name)] = (int(creds["Expiration"] * 1000) - _CREDENTIALS_MARGIN_S * 1000, found)
        return found

    async def _log_sink(self, spec: FunctionSpec, stream: str, events: list[tuple[int, str]]) -> None:
        """Write an environment's output to CloudWatch Logs, creating the group and stream when missing."""
        ctx = RequestContext(account=spec.account, region=spec.region, request_id=str(uuid.uuid4()))
        logs = self.node.client(ctx).logs  # type: ignore[attr-defined]
        key = (spec.account, spec.region, spec.log_group, stream)
        if key not in self._log_streams:
            for call, request in (
                (logs.create_log_group, {"logGroupName": spec.log_group}),
                (logs.create_log_stream, {"logGroupName": spec.log_group, "logStreamName": stream}),
            ):
                try:
                    await call(request)
                except AwsError as exc:
                    if exc.code != "ResourceAlreadyExistsException":
                        raise
            self._log_streams.add(key)
        await logs.put_log_events(
            {"logGroupName": spec.log_group, "logStreamName": stream,
             "logEvents": [{"timestamp": ts, "message": message} for ts, message in events]}
        )

    # --- metrics ------------------------------------------------------------------------------

    def count(self, version: Version, **amounts: float) -> None:
        f = version.function
        counters = self._counters[(f.account, f.region, f.name, self.clock.now_ms() // 60_000 * 60_000)]  # type: ignore[attr-defined]
        for name, amount in amounts.items():
            setattr(counters, name, getattr(counters, name) + amount)

    async def _flush_metrics_loop(self) -> None:
        while True:
            await asyncio.sleep(_METRICS_FLUSH_S)
            try:
                await self._flush_metrics()
            except Exception:
                log.exception("flushing Lambda counters failed")

    async def _flush_metrics(self) -> None:
        if not self._counters:
            return
        pending, self._counters = self._counters, defaultdict(Counters)
        rows = [(*key, c.invocations, c.errors, c.throttles, c.duration_ms, c.async_dropped) for key, c in pending.items()]
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            await db.add_metrics(tx, rows)

    # --- running ------------------------------------------------------------------------------

    async def resolve_for_invoke(self, ref: model.FunctionRef) -> Version:
        """The version an invocation runs: an alias picks its additional version by weight, at random."""
        async with self.store.transaction() as tx:  # type: ignore[attr-defined]
            function = await self._function(tx, ref)  # type: ignore[attr-defined]
            version, alias = await self._version(tx, function, ref.qualifier)  # type: ignore[attr-defined]
            if alias is not None and alias.weights:
                extra, weight = next(iter(alias.weights.items()))
                if random.random() < weight:
                    version = await db.get_version(tx, function, extra) or version
            if not self.concurrency.knows_reserved(ref.account, ref.region):
                self.concurrency.set_reserved(ref.account, ref.region, await db.reserved_total(tx, ref.account, ref.region))
        state = version.config.get("State")
        if state != "Active":
            raise ResourceConflictException(
                f"The operation cannot be performed at this time. The function is currently in the following state: {state}"
            )
        return version

    async def run(
        self, ctx: RequestContext, version: Version, payload: bytes, *, request_id: str,
        client_context: str | None = None, invoked_arn: str | None = None,
    ) -> InvokeResult:
        """One run in an environment, within the function's and the account's concurrency; counted."""
        runtimes = self.runtimes
        f = version.function
        try:
            self.concurrency.acquire(f.account, f.region, f.name, f.reserved)
        except Throttled:
            self.count(version, throttles=1)
            raise
        try:
            spec = await self.spec_for(version)
            credentials = await self._role_credentials(ctx, version)
            result = await runtimes.invoke(
                spec, payload, request_id=request_id, client_context=client_context,
                trace_header=ctx.trace_header, credentials=credentials, invoked_function_arn=invoked_arn,
            )
        except ConcurrencyLimitExceeded as exc:
            self.count(version, throttles=1)
            raise Throttled(exc.reason) from None
        finally:
            self.concurrency.release(f.account, f.region, f.name, f.reserved)
        self.count(version, invocations=1, errors=1 if result.function_error else 0, duration_ms=result.duration_ms)
        return result

    async def invoke(self, ctx: RequestContext, request: InvocationRequest) -> InvocationResponse:
        kind = request.get("InvocationType") or "RequestResponse"
        ref = self._ref(ctx, request["FunctionName"], request.get("Qualifier"))  # type: ignore[attr-defined]
        payload = bytes(request.get("Payload") or b"")
        limit = model.ASYNC_PAYLOAD_LIMIT if kind == "Event" else model.SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            raise _too_large(limit, "InvokeFunction")
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as exc:
                raise InvalidRequestContentException(f"Could not parse request body into json: {exc}") from None
        else:
            payload = b"{}"
        client_context = None
        if request.get("ClientContext") is not None:
            try:
                decoded = base64.b64decode(request["ClientContext"], validate=True)
                client_context = json.dumps(json.loads(decoded))
            except (ValueError, binascii.Error):
                raise InvalidRequestContentException("Client context must be a valid Base64-encoded JSON object.") from None
            if len(decoded) > model.CLIENT_CONTEXT_LIMIT:
                raise InvalidParameterValueException(f"Client context must be at most {model.CLIENT_CONTEXT_LIMIT} bytes.")
        if request.get("LogType") == "Tail" and kind != "RequestResponse":
            raise InvalidParameterValueException("LogType Tail is only supported for RequestResponse invocations.")
        version = await self.resolve_for_invoke(ref)
        if kind == "DryRun":
            return {"StatusCode": 204}
        if kind == "Event":
            await self.async_invocations.enqueue(ctx, version, ref.qualifier or LATEST, payload)  # type: ignore[attr-defined]
            return {"StatusCode": 202}
        invoked_arn = model.function_arn(ref.region, ref.account, ref.name, ref.qualifier)
        result = await self.run(ctx, version, payload, request_id=ctx.request_id, client_context=client_context, invoked_arn=invoked_arn)
        out: dict[str, Any] = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": version.version}
        if len(result.payload) > model.SYNC_PAYLOAD_LIMIT:
            out["Payload"] = json.dumps({
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({model.SYNC_PAYLOAD_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }).encode()
            out["FunctionError"] = "Unhandled"
        elif result.function_error:
            out["FunctionError"] = result.function_error
        if request.get("LogType") == "Tail":
            out["LogResult"] = model.b64(result.log_tail.encode()[-model.LOG_TAIL_BYTES:])
        return out  # type: ignore[return-value]

    async def invoke_async(self, ctx: RequestContext, request: InvokeAsyncRequest) -> InvokeAsyncResponse:
        """The deprecated InvokeAsync: the Event path with its older, smaller limit, answering 202 {"Status": 202}."""
        payload = bytes(request["InvokeArgs"])
        if len(payload) > model.INVOKE_ASYNC_PAYLOAD_LIMIT:
            raise _too_large(model.INVOKE_ASYNC_PAYLOAD_LIMIT, "InvokeAsync")
        answer = await self.invoke(ctx, {"FunctionName": request["FunctionName"], "InvocationType": "Event", "Payload": payload})
        return {"Status": answer["StatusCode"]}
