"""botocore's service models, loaded once, with stratus's corrections applied as data.

botocore's models are written for clients. A server sometimes needs more: SQS's model
today describes only its json protocol, but older SDKs still speak query to it, so
``patches/sqs.json`` puts back the query-protocol traits (XML names, flattened lists,
the legacy ``AWS.SimpleQueueService.*`` error codes). A patch file is a JSON object
deep-merged into the model's JSON before botocore builds its ``ServiceModel``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import botocore.loaders
from botocore.model import ServiceModel

PATCHES_DIR = Path(__file__).parent / "patches"


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into ``base`` in place: objects merge key by key, anything else replaces."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def patch_for(service: str) -> dict[str, Any]:
    path = PATCHES_DIR / f"{service}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())


@cache
def raw_model(service: str) -> dict[str, Any]:
    """The model's JSON as botocore ships it, with our patch merged in."""
    data = _loader().load_service_model(service, "service-2")
    data = json.loads(json.dumps(data))  # our own copy: botocore caches the original
    return deep_merge(data, patch_for(service))


@cache
def service_model(service: str) -> ServiceModel:
    """The (patched) botocore ``ServiceModel`` for a service name such as ``"sqs"``."""
    return ServiceModel(raw_model(service), service_name=service)
