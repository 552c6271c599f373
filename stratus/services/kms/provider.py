"""Kms provider: being built (issue 3)."""

from __future__ import annotations

from stratus.aws.api.kms import KmsApi


class KmsProvider(KmsApi):
    pass
