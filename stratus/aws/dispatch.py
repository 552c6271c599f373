"""(service, operation) -> the provider's coroutine, with the model's validation in front.

The gateway and the internal client both come through ``Dispatcher.call``, so an
in-process call is checked exactly as an HTTP one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from botocore import xform_name

from stratus.aws.context import RequestContext
from stratus.aws.errors import NotImplementedOperation
from stratus.aws.models import service_model
from stratus.aws.validate import validate
from stratus.services.base import Provider

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any] | None]]


class Dispatcher:
    def __init__(self, providers: dict[str, Provider]) -> None:
        self.providers = providers
        # Built once: (service, operation) -> bound method, for the operations a provider overrides.
        self._handlers: dict[tuple[str, str], Handler] = {}
        for service, provider in providers.items():
            for operation in service_model(service).operation_names:
                method = xform_name(operation)
                if implements(type(provider), method):
                    self._handlers[(service, operation)] = getattr(provider, method)

    def implemented(self, service: str, operation: str) -> bool:
        return (service, operation) in self._handlers

    async def call(self, ctx: RequestContext, service: str, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Validate ``request`` against the model and run the provider's operation."""
        handler = self._handlers.get((service, operation))
        if handler is None:
            raise NotImplementedOperation(service, operation)
        validate(service, operation, request)
        return await handler(ctx, request) or {}


def implements(provider_class: type, method: str) -> bool:
    """True when ``provider_class`` overrides the generated not-implemented stub ``method``."""
    for klass in provider_class.__mro__:
        if method in klass.__dict__:
            # The generated API base class is the first one that declares OPERATIONS.
            return "OPERATIONS" not in klass.__dict__
    return False
