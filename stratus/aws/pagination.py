"""Opaque pagination tokens (NextToken): what a page ended at, in a form clients pass back unread.

Every service words a bad token its own way (``InvalidNextToken``, ``ValidationException``, ...),
so the caller hands in the error it answers.
"""

from __future__ import annotations

import base64

from stratus.aws.errors import AwsError


def page_token(key: str) -> str:
    """The token of the page after ``key`` (the last key of this page, or an offset as text)."""
    return base64.urlsafe_b64encode(key.encode()).decode()


def token_key(token: str | None, invalid: AwsError) -> str:
    """The key in ``token`` ("" for no token); raises ``invalid`` when the token is not one we issued."""
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise invalid from None


def token_offset(token: str | None, invalid: AwsError) -> int:
    """The offset in a token made by ``page_token(str(offset))`` (0 for no token)."""
    if not token:
        return 0
    try:
        return int(token_key(token, invalid))
    except ValueError:
        raise invalid from None
