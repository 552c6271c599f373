"""docs/coverage.md is up to date, and the coverage rule (an override implements) holds."""

from __future__ import annotations

import pytest

from stratus.aws.api.sqs import SendMessageRequest, SendMessageResult, SqsApi
from stratus.aws.context import RequestContext
from tools import coverage


def test_coverage_md_is_up_to_date() -> None:
    assert coverage.COVERAGE_MD.read_text() == coverage.coverage_md(), (
        "docs/coverage.md is out of date: run `python -m tools.coverage`"
    )


class _OneOperation(SqsApi):
    async def send_message(
        self, ctx: RequestContext, request: SendMessageRequest
    ) -> SendMessageResult:
        return {"MessageId": "m"}


def test_an_overridden_method_counts_as_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage, "load_provider", lambda path: _OneOperation)
    result = coverage.service_coverage("sqs", "tests:_OneOperation")
    assert result.operations["SendMessage"] is True
    assert result.implemented == 1
    assert len(result.operations) == len(SqsApi.OPERATIONS)
    text = coverage.render([result])
    assert "| SendMessage | yes |" in text and "| ReceiveMessage | no |" in text
    assert f"| [sqs](#sqs) | 1 | {len(SqsApi.OPERATIONS)} |" in text


def test_a_missing_provider_module_counts_nothing() -> None:
    assert coverage.load_provider("stratus.services.nothing_here.provider:Nope") is None
    result = coverage.service_coverage("sqs", "stratus.services.nothing_here.provider:Nope")
    assert result.missing_provider and result.implemented == 0
