"""JSON bodies (json and rest-json): compiled converters between json.loads output and input dicts.

Most shapes need no conversion at all: JSON already has strings, numbers, booleans, lists
and objects. A converter is compiled only for shapes that reach a blob (base64 on the
wire), a timestamp (epoch seconds or a string), or a member renamed by ``locationName``;
for every other shape the compiler answers ``None`` and the parsed JSON is used as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.model import Shape

from stratus.aws.protocol.shapes import b64decode, b64encode, body_name, shape_key, walk
from stratus.aws.protocol.timestamps import EPOCH, format_timestamp, parse_timestamp

Converter = Callable[[Any], Any]


def _json_default(value: Any) -> Any:
    # Output values json cannot write itself: blobs and timestamps in their default forms.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b64encode(bytes(value))
    if isinstance(value, datetime):
        return format_timestamp(value, EPOCH)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_encoder = json.JSONEncoder(default=_json_default, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> bytes:
    return _encoder.encode(value).encode()


def _renames(shape: Shape) -> bool:
    return shape.type_name == "structure" and any(
        body_name(member, name) != name for name, member in shape.members.items()
    )


class JsonCompiler:
    """Compiles (and memoizes) JSON readers and writers for one service's shapes.

    ``honor_names``: rest-json renames body members by ``locationName`` (Smithy's jsonName);
    the json protocol never does, which matters for SQS, whose patch adds query names.
    """

    def __init__(self, honor_names: bool) -> None:
        self._honor_names = honor_names
        self._readers: dict[tuple[str, str], Converter | None] = {}
        self._writers: dict[tuple[str, str], Converter | None] = {}

    def _name(self, member: Shape, name: str) -> str:
        return body_name(member, name) if self._honor_names else name

    def _needs_reader(self, shape: Shape) -> bool:
        return any(
            s.type_name in ("blob", "timestamp") or (self._honor_names and _renames(s)) for s in walk(shape)
        )

    def _needs_writer(self, shape: Shape) -> bool:
        # Blobs and epoch timestamps are handled by the encoder's default hook.
        return any(
            (self._honor_names and _renames(s))
            or (s.type_name == "timestamp" and s.serialization.get("timestampFormat", EPOCH).lower() != EPOCH)
            for s in walk(shape)
        )

    def reader(self, shape: Shape) -> Converter | None:
        """wire JSON value -> input value; ``None`` when the JSON value is already right."""
        return self._compile(shape, self._readers, self._needs_reader, self._build_reader)

    def writer(self, shape: Shape) -> Converter | None:
        """output value -> JSON-ready value; ``None`` when ``dumps`` can write it as it is."""
        return self._compile(shape, self._writers, self._needs_writer, self._build_writer)

    def _compile(self, shape, memo, needs, build) -> Converter | None:
        key = shape_key(shape)
        if key in memo:
            return memo[key]
        if not needs(shape):
            memo[key] = None
            return None
        # Recursive shapes (DynamoDB's AttributeValue) reach themselves: hand out a
        # forwarder until the real converter exists.
        cell: list[Converter] = []
        memo[key] = lambda value: cell[0](value)
        converter = build(shape)
        cell.append(converter)
        memo[key] = converter
        return converter

    def _build_reader(self, shape: Shape) -> Converter:
        kind = shape.type_name
        if kind == "blob":
            return _read_blob
        if kind == "timestamp":
            return _read_timestamp
        if kind == "list":
            item = self.reader(shape.member) or _identity
            return lambda value: [item(v) for v in value] if isinstance(value, list) else value
        if kind == "map":
            item = self.reader(shape.value) or _identity
            return lambda value: {k: item(v) for k, v in value.items()} if isinstance(value, dict) else value
        fields = [
            (name, self._name(member, name), self.reader(member) or _identity)
            for name, member in shape.members.items()
        ]
        fields = [f for f in fields if f[0] != f[1] or f[2] is not _identity]

        def read_structure(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            for name, wire, convert in fields:
                if wire in value:
                    raw = value.pop(wire)
                    value[name] = None if raw is None else convert(raw)
            return value

        return read_structure

    def _build_writer(self, shape: Shape) -> Converter:
        kind = shape.type_name
        if kind == "timestamp":
            fmt = shape.serialization.get("timestampFormat", EPOCH)
            return lambda value: format_timestamp(value, fmt)
        if kind == "list":
            item = self.writer(shape.member) or _identity
            return lambda value: [item(v) for v in value]
        if kind == "map":
            item = self.writer(shape.value) or _identity
            return lambda value: {k: item(v) for k, v in value.items()}
        fields = {
            name: (self._name(member, name), self.writer(member) or _identity)
            for name, member in shape.members.items()
        }

        def write_structure(value: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for name, item in value.items():
                if item is None:
                    continue
                wire, convert = fields.get(name, (name, _identity))
                out[wire] = convert(item)
            return out

        return write_structure


def _identity(value: Any) -> Any:
    return value


def _read_blob(value: Any) -> Any:
    return b64decode(value) if isinstance(value, str) else value


def _read_timestamp(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return value
    return parse_timestamp(value)
