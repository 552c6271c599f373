"""What stratus reads from SigV4: the credential scope (access key, date, region, service).

Signatures are not verified yet: stratus trusts the caller the way a local cloud does.
The scope still matters: it names the service and region of every signed request.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(slots=True, frozen=True)
class CredentialScope:
    access_key: str
    date: str
    region: str
    service: str


def _parse_credential(credential: str) -> CredentialScope | None:
    # "<access key>/<yyyymmdd>/<region>/<service>/aws4_request"
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return CredentialScope(parts[0], parts[1], parts[2], parts[3])


def scope_from_authorization(header: str) -> CredentialScope | None:
    """The scope of an ``Authorization: AWS4-HMAC-SHA256 Credential=...`` header."""
    start = header.find("Credential=")
    if start < 0:
        return None
    start += len("Credential=")
    end = header.find(",", start)
    return _parse_credential(header[start : end if end >= 0 else None].strip())


def scope_from_query(query_string: str) -> CredentialScope | None:
    """The scope of a presigned URL (``X-Amz-Credential`` in the query string)."""
    start = query_string.find("X-Amz-Credential=")
    if start < 0:
        return None
    start += len("X-Amz-Credential=")
    end = query_string.find("&", start)
    return _parse_credential(unquote(query_string[start : end if end >= 0 else None]))
