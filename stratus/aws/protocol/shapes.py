"""Model helpers shared by the protocol families: names on the wire, text scalars, memo keys.

Everything here runs when an operation is compiled, never per request.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from typing import Any

from botocore.model import Shape

from stratus.aws.protocol.timestamps import format_timestamp, parse_timestamp

INTEGER_TYPES = frozenset({"integer", "long", "byte", "short"})
FLOAT_TYPES = frozenset({"float", "double"})
SCALAR_TYPES = INTEGER_TYPES | FLOAT_TYPES | {"string", "boolean", "blob", "timestamp", "bigdecimal", "biginteger"}
# Where a rest member lives when it is not in the body.
NON_BODY_LOCATIONS = frozenset({"uri", "querystring", "header", "headers", "statusCode"})


def shape_key(shape: Shape) -> tuple[str, str]:
    """Memo key: member references with their own traits resolve to distinct shapes of one name."""
    return shape.name, json.dumps(shape.serialization, sort_keys=True, default=str)


class MemoCompiler:
    """Compiles one function per shape, once. A recursive shape (DynamoDB's AttributeValue)
    meets itself while being built: it gets a stub that forwards to the finished function."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], Callable[..., Any]] = {}

    def compiled(self, shape: Shape) -> Callable[..., Any]:
        key = shape_key(shape)
        function = self._memo.get(key)
        if function is None:
            cell: list[Callable[..., Any]] = []
            self._memo[key] = lambda *args: cell[0](*args)
            cell.append(self._build(shape))
            function = self._memo[key] = cell[0]
        return function

    def _build(self, shape: Shape) -> Callable[..., Any]:
        raise NotImplementedError


def body_name(member: Shape, name: str) -> str:
    """The member's key in a JSON body (its ``locationName`` when it has one)."""
    return member.serialization.get("name", name)


def xml_name(member: Shape, name: str) -> str:
    """The member's element name in XML and its prefix in query strings.

    A flattened list whose member has a ``locationName`` repeats under that name.
    """
    if member.type_name == "list" and member.serialization.get("flattened"):
        inner = member.member.serialization.get("name")
        if inner:
            return inner
    return member.serialization.get("name", name)


def walk(shape: Shape) -> Iterator[Shape]:
    """Every shape reachable from ``shape`` (members resolved with their traits), once each."""
    seen: set[tuple[str, str]] = set()
    stack = [shape]
    while stack:
        current = stack.pop()
        key = shape_key(current)
        if key in seen:
            continue
        seen.add(key)
        yield current
        if current.type_name == "structure":
            stack.extend(current.members.values())
        elif current.type_name == "list":
            stack.append(current.member)
        elif current.type_name == "map":
            stack.extend((current.key, current.value))


def body_members(shape: Shape) -> dict[str, Shape]:
    """Members of a rest input/output shape that travel in the body."""
    return {
        name: member
        for name, member in shape.members.items()
        if member.serialization.get("location") not in NON_BODY_LOCATIONS
    }


def b64decode(text: str | bytes) -> bytes:
    # Strict, but tolerant of the line breaks some encoders put in long values.
    if isinstance(text, str):
        text = "".join(text.split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64") from exc


def b64encode(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode("ascii")


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(f"not a boolean: {text!r}")


def text_reader(shape: Shape) -> Callable[[str], Any]:
    """Converts a scalar's text form (query string, XML text, header) to its Python value.

    Raises ValueError on text that is not of the type; callers decide what that means.
    """
    kind = shape.type_name
    if kind in INTEGER_TYPES:
        return int
    if kind in FLOAT_TYPES:
        return float
    if kind == "boolean":
        return _parse_bool
    if kind == "blob":
        return b64decode
    if kind == "timestamp":
        return parse_timestamp
    return str


def text_writer(shape: Shape, default_timestamp_format: str) -> Callable[[Any], str]:
    """Converts a scalar's Python value to its text form for XML, query and headers."""
    kind = shape.type_name
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind == "blob":
        return b64encode
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", default_timestamp_format)
        return lambda value: str(format_timestamp(value, fmt))
    if kind in FLOAT_TYPES:
        return _float_text
    return str


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))
