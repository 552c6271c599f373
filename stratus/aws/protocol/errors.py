"""Errors on the wire, the way each protocol (and S3) writes them."""

from __future__ import annotations

from botocore.model import ServiceModel

from stratus.aws.context import RequestContext
from stratus.aws.errors import AwsError
from stratus.aws.protocol.base import HttpResponse
from stratus.aws.protocol.json_body import dumps
from stratus.aws.protocol.xml_body import escape

# Query services whose <Error> ends with an empty <Detail/> (the SQS Developer Guide, "Interpreting
# Amazon SQS XML API responses": Type, Code, Message, Detail). SNS, IAM and STS send no Detail.
_EMPTY_DETAIL = frozenset({"sqs"})


class ErrorWriter:
    """Renders ``AwsError``s for one service and protocol."""

    def __init__(self, model: ServiceModel, protocol: str) -> None:
        self.protocol = protocol
        self.is_s3 = model.service_name == "s3"
        self.detail = "<Detail/>" if model.service_name in _EMPTY_DETAIL and protocol == "query" else ""
        self.query_compatible = model.is_query_compatible
        self.json_content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        namespace = model.metadata.get("xmlNamespace")
        self.error_response_open = f'<ErrorResponse xmlns="{namespace}">' if namespace else "<ErrorResponse>"
        # Error shapes whose query code differs from their name (SQS's legacy codes).
        self.query_codes = {
            shape.name: shape.error_code
            for shape in model.error_shapes
            if shape.error_code and shape.error_code != shape.name
        }

    def query_code(self, error: AwsError) -> str:
        return error.query_code or self.query_codes.get(error.code, error.code)

    def write(self, error: AwsError, ctx: RequestContext) -> HttpResponse:
        fault = "Sender" if error.sender_fault else "Receiver"
        request_id = ctx.request_id
        if self.protocol in ("json", "rest-json"):
            headers = [("x-amzn-RequestId", request_id)]
            if self.protocol == "json":
                headers.append(("Content-Type", self.json_content_type))
                if self.query_compatible:
                    # boto3 maps the query code back to the modeled exception class.
                    headers.append(("x-amzn-query-error", f"{self.query_code(error)};{fault}"))
            else:
                headers.append(("Content-Type", "application/json"))
                headers.append(("x-amzn-ErrorType", error.code))
            # Members an error shape adds beside its message (Lambda's Reason, Type, ...).
            body = dumps({"__type": error.code, "message": error.message, **error.fields})
            return HttpResponse(error.status, headers, body)
        code = escape(self.query_code(error) if self.protocol == "query" else error.code)
        message = escape(error.message)
        if self.is_s3:
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
            )
            headers = [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
        else:
            body = (
                f"{self.error_response_open}<Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}</Message>"
                f"{self.detail}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            id_header = "x-amz-request-id" if self.protocol == "rest-xml" else "x-amzn-RequestId"
            headers = [(id_header, request_id)]
        headers.append(("Content-Type", "text/xml"))
        return HttpResponse(error.status, headers, body.encode())
