"""Lambda provider: being built (issue 5)."""

from __future__ import annotations

from stratus.aws.api.lambda_ import LambdaApi


class LambdaProvider(LambdaApi):
    pass
