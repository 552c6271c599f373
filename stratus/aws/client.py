"""The internal client: one service calling another in-process.

``await ctx.client.sqs(source_arn=topic_arn).send_message({"QueueUrl": url, ...})``
runs the same validation and provider code as an HTTP request, minus serializing.
The target account and region come from the ARN or URL in the request (the resource's
home), not from the caller; the call is marked internal and keeps the caller's trace
header and request id.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from botocore import xform_name

from stratus.aws.arns import home_of_url, is_account_id, parse_arn
from stratus.aws.context import RequestContext
from stratus.aws.models import service_model

if TYPE_CHECKING:
    from stratus.aws.dispatch import Dispatcher


def home_of(request: dict[str, Any]) -> tuple[str | None, str | None]:
    """(account, region) named by the first ARN or account-scoped URL among the request's top-level strings."""
    for value in request.values():
        if not isinstance(value, str):
            continue
        if (parsed := parse_arn(value)) is not None and is_account_id(parsed.account):
            return parsed.account, (parsed.region or None)
        if (home := home_of_url(value)) is not None:
            return home
    return None, None


@cache
def _operations(service: str) -> dict[str, str]:
    return {xform_name(op): op for op in service_model(service).operation_names}


class ServiceClient:
    def __init__(self, dispatcher: Dispatcher, service: str, ctx: RequestContext, **overrides: Any) -> None:
        self._dispatcher = dispatcher
        self._service = service
        self._ctx = ctx
        self._overrides = overrides
        self._operations = _operations(service)

    def __call__(self, *, account: str | None = None, region: str | None = None, source_arn: str | None = None) -> ServiceClient:
        overrides = dict(self._overrides)
        overrides.update({k: v for k, v in (("account", account), ("region", region), ("source_arn", source_arn)) if v})
        return ServiceClient(self._dispatcher, self._service, self._ctx, **overrides)

    def __getattr__(self, method: str) -> Any:
        operation = self._operations.get(method)
        if operation is None:
            raise AttributeError(f"{self._service} has no operation {method!r}")

        async def call(request: dict[str, Any] | None = None) -> dict[str, Any]:
            return await self.call(operation, request or {})

        return call

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        account, region = home_of(request)
        changes: dict[str, Any] = {
            "service": self._service,
            "operation": operation,
            "internal": True,
            "protocol": "internal",
        }
        if account:
            changes["account"] = account
        if region:
            changes["region"] = region
        changes.update(self._overrides)
        ctx = self._ctx.derive(**changes)
        return await self._dispatcher.call(ctx, self._service, operation, request)


class InternalClient:
    """``client.<service>`` is a ``ServiceClient``; python-unfriendly names use '_' (``lambda_``)."""

    def __init__(self, dispatcher: Dispatcher, ctx: RequestContext) -> None:
        self._dispatcher = dispatcher
        self._ctx = ctx

    def __getattr__(self, name: str) -> ServiceClient:
        service = name.rstrip("_").replace("_", "-")
        if service not in self._dispatcher.providers:
            raise AttributeError(f"stratus does not implement the service {service!r}")
        return ServiceClient(self._dispatcher, service, self._ctx)
