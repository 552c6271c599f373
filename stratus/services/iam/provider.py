"""Iam provider: being built (issue 3)."""

from __future__ import annotations

from stratus.aws.api.iam import IamApi


class IamProvider(IamApi):
    pass
