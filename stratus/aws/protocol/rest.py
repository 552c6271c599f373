"""What rest-json and rest-xml share: routing on method + requestUri, and the members that
live outside the body (URI labels, query string, headers, the status code).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from botocore.model import OperationModel, Shape

from stratus.aws.protocol.shapes import text_reader, text_writer
from stratus.aws.protocol.timestamps import HTTP_DATE

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(slots=True)
class Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    # Regex group -> label name as the requestUri spells it (without "+").
    labels: dict[str, str]
    # Literal query parts of the requestUri ("?uploads", "?list-type=2"); None = any value.
    query_literals: dict[str, str | None]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    # Higher wins when several routes match: literal path text, then fewer greedy labels,
    # then more query/header conditions.
    score: tuple[int, int, int] = field(default=(0, 0, 0))

    def match(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        if found is None:
            return None
        for key, value in self.query_literals.items():
            if key not in query or (value is not None and value not in query[key]):
                return None
        if any(key not in query for key in self.required_query):
            return None
        if any(name not in headers for name in self.required_headers):
            return None
        return {self.labels[group]: unquote(value) for group, value in found.groupdict().items()}


def compile_route(operation: OperationModel) -> Route:
    http = operation.http
    uri = http.get("requestUri", "/")
    path, _, query = uri.partition("?")
    labels: dict[str, str] = {}
    parts: list[str] = []
    literal_chars = 0
    greedy = 0
    position = 0
    for index, found in enumerate(_LABEL.finditer(path)):
        literal = path[position : found.start()]
        parts.append(re.escape(literal))
        literal_chars += len(literal)
        name = found.group(1)
        group = f"l{index}"
        if name.endswith("+"):
            greedy += 1
            labels[group] = name[:-1]
            parts.append(f"(?P<{group}>.+)")
        else:
            labels[group] = name
            parts.append(f"(?P<{group}>[^/]+)")
        position = found.end()
    tail = path[position:]
    literal_chars += len(tail)
    # Clients differ on a trailing slash ("/2015-03-31/functions/"): accept both.
    parts.append(re.escape(tail.rstrip("/")) + "/?")
    pattern = re.compile("".join(parts) + r"\Z")

    query_literals: dict[str, str | None] = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        query_literals[key] = value if sep else None

    required_query: list[str] = []
    required_headers: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "querystring" and member.type_name != "map":
                required_query.append(wire)
            elif location == "header":
                required_headers.append(wire.lower())
    conditions = len(query_literals) + len(required_query) + len(required_headers)
    return Route(
        operation=operation.name,
        method=http.get("method", "POST"),
        pattern=pattern,
        labels=labels,
        query_literals=query_literals,
        required_query=tuple(required_query),
        required_headers=tuple(required_headers),
        score=(literal_chars, -greedy, conditions),
    )


class Router:
    """All of a service's routes, most specific first."""

    def __init__(self, operations: list[OperationModel]) -> None:
        self._routes = sorted((compile_route(op) for op in operations), key=lambda r: r.score, reverse=True)

    def match(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[str, dict[str, str]] | None:
        for route in self._routes:
            labels = route.match(method, path, query, headers)
            if labels is not None:
                return route.operation, labels
        return None


def parse_query(query_string: str) -> dict[str, list[str]]:
    return parse_qs(query_string, keep_blank_values=True)


def _header_reader(shape: Shape) -> Callable[[str], Any]:
    if shape.type_name == "list":
        item = text_reader(shape.member)
        return lambda value: [item(part) for part in _split_header_list(value)]
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return lambda value: json.loads(base64.b64decode(value))
    return text_reader(shape)


def _split_header_list(value: str) -> list[str]:
    # RFC 7230 lists, with botocore's quoting for items holding commas or quotes.
    items, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def _header_writer(shape: Shape) -> Callable[[Any], str]:
    if shape.type_name == "list":
        item = text_writer(shape.member, HTTP_DATE)

        def write_list(values: list) -> str:
            texts = (item(v) for v in values)
            return ",".join(f'"{t.replace(chr(34), chr(92) + chr(34))}"' if ("," in t or '"' in t) else t for t in texts)

        return write_list
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return lambda value: base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return text_writer(shape, HTTP_DATE)


class RestInputBinding:
    """Reads one operation's non-body input members from labels, query string and headers."""

    def __init__(self, shape: Shape) -> None:
        self.uri: list[tuple[str, str, Callable]] = []
        self.query: list[tuple[str, str, Callable, bool]] = []
        self.query_map: tuple[str, bool] | None = None
        self.headers: list[tuple[str, str, Callable]] = []
        self.header_maps: list[tuple[str, str]] = []
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                self.uri.append((name, wire.rstrip("+"), text_reader(member)))
            elif location == "querystring":
                if member.type_name == "map":
                    self.query_map = (name, member.value.type_name == "list")
                elif member.type_name == "list":
                    self.query.append((name, wire, text_reader(member.member), True))
                else:
                    self.query.append((name, wire, text_reader(member), False))
            elif location == "header":
                self.headers.append((name, wire.lower(), _header_reader(member)))
            elif location == "headers":
                self.header_maps.append((name, wire.lower()))
        self._claimed = {wire for _, wire, _, _ in self.query}

    def read(self, labels: dict[str, str], query: dict[str, list[str]], headers: dict[str, str], out: dict) -> None:
        for name, label, convert in self.uri:
            if label in labels:
                out[name] = convert(labels[label])
        for name, wire, convert, is_list in self.query:
            values = query.get(wire)
            if values:
                out[name] = [convert(v) for v in values] if is_list else convert(values[0])
        if self.query_map is not None:
            name, multi = self.query_map
            rest = {k: (v if multi else v[0]) for k, v in query.items() if k not in self._claimed}
            if rest:
                out[name] = rest
        for name, wire, convert in self.headers:
            value = headers.get(wire)
            if value is not None:
                out[name] = convert(value)
        for name, prefix in self.header_maps:
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                out[name] = found


class RestOutputBinding:
    """Writes one operation's non-body output members as status code and headers."""

    def __init__(self, shape: Shape | None) -> None:
        self.status_member: str | None = None
        self.headers: list[tuple[str, str, Callable]] = []
        self.header_maps: list[tuple[str, str]] = []
        self.located: set[str] = set()
        if shape is None:
            return
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "statusCode":
                self.status_member = name
            elif location == "header":
                self.headers.append((name, wire, _header_writer(member)))
            elif location == "headers":
                self.header_maps.append((name, wire))
            else:
                continue
            self.located.add(name)

    def write(self, output: dict, headers: list[tuple[str, str]]) -> int | None:
        for name, wire, convert in self.headers:
            value = output.get(name)
            if value is not None and not (isinstance(value, list) and not value):
                headers.append((wire, convert(value)))
        for name, prefix in self.header_maps:
            for key, value in (output.get(name) or {}).items():
                headers.append((prefix + key, str(value)))
        if self.status_member is not None and output.get(self.status_member) is not None:
            return int(output[self.status_member])
        return None
