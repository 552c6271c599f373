"""Timestamps on the wire: the three formats AWS models name, read leniently, written exactly.

Readers accept any of the formats (clients are not always strict about the model's
``timestampFormat``); writers use the one the model or the protocol's default asks for.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

ISO8601 = "iso8601"
EPOCH = "unixtimestamp"
HTTP_DATE = "rfc822"


def parse_timestamp(value: str | int | float) -> datetime:
    """A tz-aware UTC datetime from epoch seconds, ISO 8601 or an HTTP date; ValueError if none."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    # Providers may hand back naive datetimes; stratus's clock is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_timestamp(value: datetime, fmt: str) -> str | int | float:
    """``value`` in wire format ``fmt`` (a model ``timestampFormat``, any case)."""
    if not isinstance(value, datetime):
        # Epoch numbers from providers are accepted as well.
        value = datetime.fromtimestamp(value, UTC)
    value = _utc(value)
    fmt = fmt.lower()
    if fmt == EPOCH:
        seconds = calendar.timegm(value.timetuple())
        millis = value.microsecond // 1000
        return seconds + millis / 1000 if millis else seconds
    if fmt == HTTP_DATE:
        return formatdate(calendar.timegm(value.timetuple()), usegmt=True)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
