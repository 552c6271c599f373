"""AWS errors as Python exceptions.

A provider raises an ``AwsError`` (usually one of the generated subclasses in
``stratus.aws.api.<service>``, one per error shape of the model); the protocol layer
renders it the way the request's protocol does.
"""

from __future__ import annotations


class AwsError(Exception):
    """An error answered to the client.

    ``code`` is the error shape name (or a common code such as ``ValidationException``).
    ``query_code`` is the code query-protocol clients see when it differs (SQS's
    ``AWS.SimpleQueueService.NonExistentQueue`` for ``QueueDoesNotExist``); json clients
    of query-compatible services get it in the ``x-amzn-query-error`` header.
    """

    code: str = "InternalFailure"
    query_code: str | None = None
    status: int = 400
    sender_fault: bool = True
    # Other members of the error shape, rendered beside the message by the json protocols.
    fields: dict[str, object] = {}

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
        query_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault
        if query_code is not None:
            self.query_code = query_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, status={self.status})"


class ValidationException(AwsError):
    code = "ValidationException"


class InvalidParameterValue(AwsError):
    code = "InvalidParameterValue"


class MissingParameter(AwsError):
    code = "MissingParameter"


class InvalidAction(AwsError):
    code = "InvalidAction"


class UnknownOperationException(AwsError):
    code = "UnknownOperationException"
    status = 400


class NotImplementedOperation(AwsError):
    """An operation of the model that stratus does not implement (yet): never a fake success."""

    code = "NotImplemented"
    status = 501
    sender_fault = False

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(f"stratus does not implement {service}.{operation} yet")


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500
    sender_fault = False


class SerializationException(AwsError):
    code = "SerializationException"


class MalformedQueryString(AwsError):
    code = "MalformedQueryString"
    status = 404


class InvalidClientTokenId(AwsError):
    code = "InvalidClientTokenId"
    status = 403
