"""Code generated from botocore's models (by ``tools/gen_api.py``), one module per service.

Each ``stratus.aws.api.<module>`` holds a service's typed shapes, one exception class per
error shape and a ``<Service>Api`` base class whose methods answer "not implemented";
a provider subclasses it and overrides the operations it implements.
"""

from __future__ import annotations

import keyword
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stratus.services.base import Provider


def module_name(service: str) -> str:
    """The module of a service: ``"sqs"`` -> ``"sqs"``, ``"lambda"`` -> ``"lambda_"``."""
    name = service.replace("-", "_")
    return f"{name}_" if keyword.iskeyword(name) else name


def class_name(service: str) -> str:
    """The generated base class of a service: ``"sqs"`` -> ``"SqsApi"``."""
    return "".join(part.capitalize() for part in service.split("-")) + "Api"


@cache
def api_class(service: str) -> type[Provider]:
    """The generated base class of ``service``, importing its module on first use."""
    module = import_module(f"{__name__}.{module_name(service)}")
    return getattr(module, class_name(service))
