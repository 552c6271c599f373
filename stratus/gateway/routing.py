"""Which service, in which protocol, a request is for.

In order: ``X-Amz-Target`` (json protocols), the SigV4 credential scope (header or
presigned query string), then the form body's ``Action`` for query clients that sign
nothing. Data planes (API Gateway stages, function URLs, S3 virtual hosts) will be
routed by host before any of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from stratus.aws.errors import AwsError
from stratus.aws.models import service_model
from stratus.aws.protocol.base import HttpRequest
from stratus.aws.protocol.query import request_params
from stratus.aws.sigv4 import CredentialScope, scope_from_authorization, scope_from_query
from stratus.services import PROVIDERS

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(slots=True, frozen=True)
class Route:
    service: str
    protocol: str
    scope: CredentialScope | None


class UnknownService(AwsError):
    code = "UnknownService"
    status = 400


@dataclass(slots=True, frozen=True)
class _ServiceIndex:
    by_target_prefix: dict[str, str]
    by_signing_name: dict[str, str]
    protocols: dict[str, tuple[str, ...]]
    # Query actions clients send unsigned (STS's AssumeRoleWithWebIdentity / WithSAML): Action -> service.
    unsigned_actions: dict[str, str]


@cache
def _index() -> _ServiceIndex:
    by_target: dict[str, str] = {}
    by_signing: dict[str, str] = {}
    protocols: dict[str, tuple[str, ...]] = {}
    unsigned: dict[str, str] = {}
    for name in PROVIDERS:
        model = service_model(name)
        meta = model.metadata
        if meta["protocol"] == "query":
            for operation in model.operation_names:
                if model.operation_model(operation).auth_type == "none":
                    unsigned[operation] = name
        if "targetPrefix" in meta:
            by_target[meta["targetPrefix"]] = name
        by_signing[meta.get("signingName") or meta.get("endpointPrefix") or name] = name
        protocols[name] = tuple(meta.get("protocols") or [meta["protocol"]])
    return _ServiceIndex(by_target, by_signing, protocols, unsigned)


def _protocol_for(service: str, request: HttpRequest, has_target: bool) -> str:
    supported = _index().protocols[service]
    if len(supported) == 1:
        return supported[0]
    # A service that speaks several protocols answers in the one it was asked in.
    if has_target and "json" in supported:
        return "json"
    if "query" in supported and (
        request.headers.get("content-type", "").startswith(FORM_CONTENT_TYPE)
        or "Action=" in request.query_string
    ):
        return "query"
    return supported[0]


def route(request: HttpRequest) -> Route:
    """Resolve the service and protocol of an AWS API request, or raise ``UnknownService``."""
    index = _index()
    headers = request.headers
    auth = headers.get("authorization")
    scope = scope_from_authorization(auth) if auth else None
    if scope is None and "X-Amz-Credential=" in request.query_string:
        scope = scope_from_query(request.query_string)

    target = headers.get("x-amz-target")
    if target:
        service = index.by_target_prefix.get(target.partition(".")[0])
        if service is None:
            raise UnknownService(f"stratus does not implement the service for X-Amz-Target {target!r}")
        return Route(service, _protocol_for(service, request, True), scope)

    if scope is not None:
        service = index.by_signing_name.get(scope.service)
        if service is None:
            raise UnknownService(f"stratus does not implement the service {scope.service!r} yet")
        return Route(service, _protocol_for(service, request, False), scope)

    if request.method == "POST" and index.unsigned_actions:
        action = request_params(request).get("Action", "")
        if action in index.unsigned_actions:
            return Route(index.unsigned_actions[action], "query", None)

    raise UnknownService("could not tell which AWS service this request is for (no X-Amz-Target, no SigV4 scope)")
