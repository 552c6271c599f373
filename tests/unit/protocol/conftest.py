"""Round trips through botocore itself: its serializer writes requests our parser must read,
its parser reads the responses and errors our serializer writes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict, prepare_request_dict, create_request_object
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from stratus.aws.context import RequestContext
from stratus.aws.protocol import HttpRequest, HttpResponse, codec_for

REQUEST_ID = "c2d4a1b6-7e0f-4b8e-9a55-0d1f3e2a9b77"


class RoundTrip:
    def __init__(self, service: str, protocol: str) -> None:
        self.codec = codec_for(service, protocol)
        # What a real client uses: botocore's own model, unless only our patch knows the
        # protocol (SQS over query).
        native = botocore.session.get_session().get_service_model(service)
        protocols = native.metadata.get("protocols", [native.protocol])
        self.model = native if protocol in protocols else self.codec.service_model
        self.protocol = protocol
        self.ctx = RequestContext(request_id=REQUEST_ID, service=service, protocol=protocol)

    def request(self, operation: str, params: dict[str, Any]) -> HttpRequest:
        """The HTTP request botocore sends for ``params`` (after its whole prepare step)."""
        op = self.model.operation_model(operation)
        serialized = create_serializer(self.protocol).serialize_to_request(params, op)
        prepare_request_dict(serialized, endpoint_url="http://localhost:4566")
        prepared = create_request_object(serialized).prepare()
        url = urlsplit(prepared.url)
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()}
        return HttpRequest(prepared.method, url.path, url.query, headers, body)

    def parse(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        req = self.request(operation, params)
        assert self.codec.operation_from_request(req) == operation
        return self.codec.parse(operation, req)

    def botocore_read(self, response: HttpResponse, operation: str | None) -> dict[str, Any]:
        headers = HeadersDict()
        for name, value in response.headers:
            headers[name] = value
        shape = self.model.operation_model(operation).output_shape if operation else None
        parsed = create_parser(self.protocol).parse(
            {"status_code": response.status, "headers": headers, "body": response.body}, shape
        )
        return parsed

    def output(self, operation: str, output: dict[str, Any]) -> dict[str, Any]:
        response = self.codec.serialize(operation, output, self.ctx)
        parsed = self.botocore_read(response, operation)
        assert parsed.pop("ResponseMetadata")["RequestId"] == REQUEST_ID
        return parsed

    def error(self, error: Exception, operation: str) -> dict[str, Any]:
        response = self.codec.serialize_error(error, self.ctx, operation)
        headers = HeadersDict()
        for name, value in response.headers:
            headers[name] = value
        shape = self.model.operation_model(operation).output_shape
        parsed = create_parser(self.protocol).parse(
            {"status_code": response.status, "headers": headers, "body": response.body}, shape
        )
        parsed["status"] = response.status
        return parsed


@pytest.fixture
def roundtrip():
    return RoundTrip
