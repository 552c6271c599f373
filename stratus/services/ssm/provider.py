"""Ssm provider: being built (issue 3)."""

from __future__ import annotations

from stratus.aws.api.ssm import SsmApi


class SsmProvider(SsmApi):
    pass
