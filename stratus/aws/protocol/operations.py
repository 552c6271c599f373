"""One compiled codec per operation and protocol family: parse a request, write a response.

Everything that depends only on the model is worked out in ``__init__``; ``parse`` and
``serialize`` do the per-request work and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError, XMLParser

from botocore.model import OperationModel, Shape

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError, SerializationException
from stratus.aws.protocol.base import HttpRequest, HttpResponse
from stratus.aws.protocol.json_body import JsonCompiler, dumps
from stratus.aws.protocol.query import QueryReaderCompiler, build_tree, request_params
from stratus.aws.protocol.rest import RestInputBinding, RestOutputBinding, compile_route, parse_query
from stratus.aws.protocol.shapes import body_members
from stratus.aws.protocol.xml_body import XmlReaderCompiler, XmlWriterCompiler, namespace_attr

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# S3 answers with root elements its model does not name (botocore ignores the root's name,
# other clients do not). Operations not listed use "<Operation>Result".
S3_ROOT_ELEMENTS = {
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListParts": "ListPartsResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
}


class MalformedXML(AwsError):
    code = "MalformedXML"


@dataclass(slots=True)
class Compilers:
    """The per-service shape compilers, shared by all its operations (and their memos)."""

    json: JsonCompiler
    xml_writer: XmlWriterCompiler = field(default_factory=XmlWriterCompiler)
    xml_reader: XmlReaderCompiler = field(default_factory=XmlReaderCompiler)
    query: QueryReaderCompiler = field(default_factory=QueryReaderCompiler)


class OperationCodec:
    def __init__(self, model: OperationModel, compilers: Compilers) -> None:
        self.model = model
        self.name = model.name
        self.input_shape: Shape | None = model.input_shape
        self.output_shape: Shape | None = model.output_shape

    def parse(self, req: HttpRequest) -> dict[str, Any]:
        raise NotImplementedError

    def serialize(self, output: dict[str, Any], ctx: RequestContext) -> HttpResponse:
        raise NotImplementedError


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SerializationException("Unable to parse the request body as JSON") from exc
    if not isinstance(data, dict):
        raise SerializationException("The request body must be a JSON object")
    return data


class JsonOperation(OperationCodec):
    def __init__(self, model: OperationModel, compilers: Compilers) -> None:
        super().__init__(model, compilers)
        self._reader = compilers.json.reader(self.input_shape) if self.input_shape else None
        self._writer = compilers.json.writer(self.output_shape) if self.output_shape else None
        self._content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"

    def parse(self, req: HttpRequest) -> dict[str, Any]:
        data = _json_object(req.body)
        if self._reader is not None:
            try:
                data = self._reader(data)
            except (ValueError, TypeError, AttributeError) as exc:
                raise SerializationException(str(exc)) from exc
        return data

    def serialize(self, output: dict[str, Any], ctx: RequestContext) -> HttpResponse:
        body = dumps(self._writer(output) if self._writer else output)
        headers = [("Content-Type", self._content_type), ("x-amzn-RequestId", ctx.request_id)]
        return HttpResponse(200, headers, body)


class QueryOperation(OperationCodec):
    def __init__(self, model: OperationModel, compilers: Compilers) -> None:
        super().__init__(model, compilers)
        self._reader = compilers.query.reader(self.input_shape) if self.input_shape else None
        namespace = model.metadata.get("xmlNamespace")
        self._open = f'<?xml version="1.0"?>\n<{self.name}Response' + (f' xmlns="{namespace}">' if namespace else ">")
        self._wrapper = self.output_shape.serialization.get("resultWrapper") if self.output_shape else None
        self._write_members = compilers.xml_writer.members_writer(self.output_shape) if self.output_shape else None
        # A member a request path may stand for (SQS: POST /<account>/<queue> is the QueueUrl).
        path_member = model.metadata.get("stratusQueryPathMember")
        has_member = self.input_shape is not None and path_member in self.input_shape.members
        self._path_member: str | None = path_member if has_member else None

    def parse(self, req: HttpRequest) -> dict[str, Any]:
        if self._reader is None:
            return {}
        params = self._reader(build_tree(request_params(req)))
        if self._path_member and self._path_member not in params and req.path not in ("", "/"):
            params[self._path_member] = f"http://{req.headers.get('host', 'localhost')}{req.path}"
        return params

    def serialize(self, output: dict[str, Any], ctx: RequestContext) -> HttpResponse:
        out = [self._open]
        if self._write_members is not None:
            if self._wrapper:
                out.append(f"<{self._wrapper}>")
                self._write_members(out, output)
                out.append(f"</{self._wrapper}>")
            else:
                self._write_members(out, output)
        out.append(f"<ResponseMetadata><RequestId>{ctx.request_id}</RequestId></ResponseMetadata></{self.name}Response>")
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", ctx.request_id)]
        return HttpResponse(200, headers, "".join(out).encode())


class _RestOperation(OperationCodec):
    """Routing labels, query string and headers; the body is the subclass's format."""

    _content_type = ""

    def __init__(self, model: OperationModel, compilers: Compilers) -> None:
        super().__init__(model, compilers)
        self._route = compile_route(model)
        self._input = RestInputBinding(self.input_shape) if self.input_shape else None
        self._output = RestOutputBinding(self.output_shape)
        self._status = int(model.http.get("responseCode", 200))
        self._in_payload = self._payload_of(self.input_shape)
        self._out_payload = self._payload_of(self.output_shape)
        self._in_body = bool(self.input_shape and body_members(self.input_shape))
        self._out_body_names = list(body_members(self.output_shape)) if self.output_shape else []

    @staticmethod
    def _payload_of(shape: Shape | None) -> tuple[str, Shape] | None:
        if shape is None or "payload" not in shape.serialization:
            return None
        name = shape.serialization["payload"]
        return name, shape.members[name]

    def parse(self, req: HttpRequest) -> dict[str, Any]:
        if self.input_shape is None:
            return {}
        query = parse_query(req.query_string)
        try:
            out = self._parse_body(req)
            labels = self._route.match(req.method, req.path, query, req.headers) or {}
            self._input.read(labels, query, req.headers, out)
        except (ValueError, TypeError) as exc:
            raise self._malformed(str(exc)) from exc
        return out

    def _parse_body(self, req: HttpRequest) -> dict[str, Any]:
        if self._in_payload is not None:
            name, member = self._in_payload
            if member.type_name == "blob":
                return {name: req.body}
            if member.type_name == "string":
                return {name: req.body.decode()} if req.body else {}
            if not req.body.strip():
                return {}
            return {name: self._parse_structure(member, req.body)}
        if self._in_body and req.body.strip():
            return self._parse_structure(self.input_shape, req.body)
        return {}

    def serialize(self, output: dict[str, Any], ctx: RequestContext) -> HttpResponse:
        headers = self._id_headers(ctx)
        status = self._output.write(output, headers) or self._status
        body = b""
        if self._out_payload is not None:
            name, member = self._out_payload
            value = output.get(name)
            if member.type_name in ("blob", "string"):
                if value is not None:
                    body = value.encode() if isinstance(value, str) else bytes(value)
            elif value is not None:
                body = self._write_payload(member, value)
                headers.append(("Content-Type", self._content_type))
        elif self._out_body_names:
            body = self._write_body({k: output[k] for k in self._out_body_names if output.get(k) is not None})
            if body:
                headers.append(("Content-Type", self._content_type))
        return HttpResponse(status, headers, body)

    def _id_headers(self, ctx: RequestContext) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _malformed(self, message: str) -> AwsError:
        raise NotImplementedError

    def _parse_structure(self, shape: Shape, body: bytes) -> Any:
        raise NotImplementedError

    def _write_payload(self, member: Shape, value: Any) -> bytes:
        raise NotImplementedError

    def _write_body(self, values: dict[str, Any]) -> bytes:
        raise NotImplementedError


class RestJsonOperation(_RestOperation):
    _content_type = "application/json"

    def __init__(self, model: OperationModel, compilers: Compilers) -> None:
        super().__init__(model, compilers)
        self._json = compilers.json
        self._body_writer = compilers.json.writer(self.output_shape) if self.output_shape else None

    def _id_headers(self, ctx: RequestContext) -> list[tuple[str, str]]:
        return [("x-amzn-RequestId", ctx.request_id)]

    def _malformed(self, message: str) -> AwsError:
        return SerializationException(message)

    def _parse_structure(self, shape: Shape, body: bytes) -> Any:
        data = _json_object(body)
        reader = self._json.reader(shape)
        return reader(data) if reader else data

    def _write_payload(self, member: Shape, value: Any) -> bytes:
        writer = self._json.writer(member)
        return dumps(writer(value) if writer else value)

    def _write_body(self, values: dict[str, Any]) -> bytes:
        return dumps(self._body_writer(values) if self._body_writer else values)


class RestXmlOperation(_RestOperation):
    _content_type = "application/xml"
    _declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'

    def __init__(self, model: OperationModel, compilers: Compilers) -> None:
        super().__init__(model, compilers)
        self._compilers = compilers
        self._is_s3 = model.service_model.service_name == "s3"
        namespace = model.metadata.get("xmlNamespace") or (S3_NAMESPACE if self._is_s3 else None)
        self._namespace = f' xmlns="{namespace}"' if namespace else ""
        if self.output_shape is not None:
            self._root = self.output_shape.serialization.get("name") or (
                S3_ROOT_ELEMENTS.get(self.name) if self._is_s3 else None
            ) or f"{self.name}Result"
            shape_ns = namespace_attr(self.output_shape)
            self._root_open = f"<{self._root}{shape_ns or self._namespace}>"
            self._write_members = compilers.xml_writer.members_writer(self.output_shape, self._out_body_names)

    def _id_headers(self, ctx: RequestContext) -> list[tuple[str, str]]:
        return [("x-amz-request-id", ctx.request_id), ("x-amz-id-2", ctx.request_id)]

    def _malformed(self, message: str) -> AwsError:
        if self._is_s3:
            return MalformedXML("The XML you provided was not well-formed or did not validate against our published schema")
        return AwsError(message, code="MalformedInput")

    def _parse_structure(self, shape: Shape, body: bytes) -> Any:
        parser = XMLParser()
        try:
            parser.feed(body)
            root = parser.close()
        except ParseError as exc:
            raise ValueError(f"malformed XML: {exc}") from exc
        return self._compilers.xml_reader.reader(shape)([root])

    def _write_payload(self, member: Shape, value: Any) -> bytes:
        name = member.serialization.get("name", member.name)
        out = [self._declaration]
        if namespace_attr(member) or not self._namespace:
            self._compilers.xml_writer.writer(member)(out, name, value)
        else:
            # The payload's own shape carries no namespace; S3 still answers in its own.
            inner: list[str] = []
            self._compilers.xml_writer.writer(member)(inner, name, value)
            inner[0] = inner[0].replace(f"<{name}", f"<{name}{self._namespace}", 1)
            out.extend(inner)
        return "".join(out).encode()

    def _write_body(self, values: dict[str, Any]) -> bytes:
        if not values:
            return b""
        out = [self._declaration, self._root_open]
        self._write_members(out, values)
        out.append(f"</{self._root}>")
        return "".join(out).encode()
