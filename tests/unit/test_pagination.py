"""Opaque NextTokens (stratus/aws/pagination.py): round trips, and each service's own error for a bad token."""

from __future__ import annotations

import pytest

from stratus.aws.errors import AwsError
from stratus.aws.pagination import page_token, token_key, token_offset


def _invalid() -> AwsError:
    return AwsError("The NextToken provided is not valid.", code="ValidationException")


def test_a_token_gives_back_its_key_and_no_token_means_the_start() -> None:
    assert token_key(page_token("group/name-1"), _invalid()) == "group/name-1"
    assert token_key(None, _invalid()) == "" and token_key("", _invalid()) == ""
    assert token_offset(page_token("40"), _invalid()) == 40
    assert token_offset(None, _invalid()) == 0


@pytest.mark.parametrize("token", ["abc", "not base64!", page_token("x")[:-1] + "\u00e9"])
def test_a_token_we_did_not_issue_raises_the_services_error(token: str) -> None:
    with pytest.raises(AwsError) as info:
        token_key(token, _invalid())
    assert info.value.code == "ValidationException"


@pytest.mark.parametrize("token", [page_token("abc"), "%%%"])
def test_an_offset_token_must_hold_a_number(token: str) -> None:
    with pytest.raises(AwsError, match="not valid"):
        token_offset(token, _invalid())
