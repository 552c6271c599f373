"""The services stratus implements: botocore service name -> provider class path."""

from __future__ import annotations

PROVIDERS: dict[str, str] = {
    "sqs": "stratus.services.sqs.provider:SqsProvider",
}
