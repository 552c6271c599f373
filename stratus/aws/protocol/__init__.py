"""The generic AWS protocol layer: wire <-> input/output dicts, driven by botocore's models.

``codec_for(service, protocol)`` gives a ``ServiceCodec``; per operation it compiles, once,
a parser and a serializer for that protocol family (json, query, rest-json, rest-xml) and
keeps them. Validation is separate (``stratus.aws.validate``) so the internal client,
which skips the wire, runs the same rules.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.model import OperationModel, ServiceModel

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, InvalidAction, UnknownOperationException
from stratus.aws.models import service_model
from stratus.aws.protocol.base import HttpRequest, HttpResponse
from stratus.aws.protocol.errors import ErrorWriter
from stratus.aws.protocol.json_body import JsonCompiler
from stratus.aws.protocol.operations import (
    Compilers,
    JsonOperation,
    OperationCodec,
    QueryOperation,
    RestJsonOperation,
    RestXmlOperation,
)
from stratus.aws.protocol.query import request_params
from stratus.aws.protocol.rest import Router, parse_query

PROTOCOLS = ("json", "query", "rest-json", "rest-xml")

_OPERATION_CLASSES: dict[str, type[OperationCodec]] = {
    "json": JsonOperation,
    "query": QueryOperation,
    "rest-json": RestJsonOperation,
    "rest-xml": RestXmlOperation,
}


class UnknownRestOperation(AwsError):
    """No operation of a rest service matches the method and path."""

    code = "UnknownOperationException"
    status = 404


class ServiceCodec:
    """Parses requests and writes responses for one service in one protocol."""

    def __init__(self, service: str, protocol: str) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"unsupported protocol {protocol!r}")
        self.service_model: ServiceModel = service_model(service)
        self.protocol = protocol
        self._compilers = Compilers(JsonCompiler(honor_names=protocol == "rest-json"))
        self._operations: dict[str, OperationCodec] = {}
        self._errors = ErrorWriter(self.service_model, protocol)
        self._target_prefix = self.service_model.metadata.get("targetPrefix", "")
        self._router: Router | None = None
        self._operation_names = frozenset(self.service_model.operation_names)

    def operation(self, name: str) -> OperationCodec:
        """The compiled codec of one operation (built on first use)."""
        codec = self._operations.get(name)
        if codec is None:
            model: OperationModel = self.service_model.operation_model(name)
            codec = _OPERATION_CLASSES[self.protocol](model, self._compilers)
            self._operations[name] = codec
        return codec

    def operation_from_request(self, req: HttpRequest) -> str:
        if self.protocol == "json":
            target = req.headers.get("x-amz-target", "")
            prefix, _, name = target.rpartition(".")
            if prefix == self._target_prefix and name in self._operation_names:
                return name
            raise UnknownOperationException(f"Operation {target or '(none)'} is not supported.")
        if self.protocol == "query":
            action = request_params(req).get("Action", "")
            if action in self._operation_names:
                return action
            raise InvalidAction(f"The action {action} is not valid for this web service.")
        if self._router is None:
            # Model order breaks ties between equally specific routes (S3's ListBuckets before
            # ListDirectoryBuckets on "GET /"), whatever the hash seed.
            names = self.service_model.operation_names
            self._router = Router([self.service_model.operation_model(n) for n in names])
        found = self._router.match(req.method, req.path, parse_query(req.query_string), req.headers)
        if found is None:
            raise UnknownRestOperation(f"No operation matches {req.method} {req.path}")
        return found[0]

    def parse(self, operation: str, req: HttpRequest) -> dict[str, Any]:
        return self.operation(operation).parse(req)

    def serialize(self, operation: str, output: dict[str, Any], ctx: RequestContext) -> HttpResponse:
        return self.operation(operation).serialize(output, ctx)

    def serialize_error(self, error: AwsError, ctx: RequestContext, operation: str | None = None) -> HttpResponse:
        # The operation does not change how an error is written in any protocol we speak;
        # it is accepted so callers need not care.
        return self._errors.write(error, ctx)


@cache
def codec_for(service: str, protocol: str) -> ServiceCodec:
    """The (cached) codec of ``service`` speaking ``protocol``."""
    return ServiceCodec(service, protocol)


__all__ = ["HttpRequest", "HttpResponse", "ServiceCodec", "codec_for"]
