"""The query protocol's input: ``Action=...&Attribute.1.Name=...`` forms, read into input dicts.

The flat keys are first folded into a tree on their dots (``{"Attribute": {"1": {"Name":
{"": "x"}}}}``, a node's own value under ``""``); compiled readers then walk the tree the
way botocore's QuerySerializer walked the input to build the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import Shape

from stratus.aws.protocol.base import HttpRequest
from stratus.aws.protocol.shapes import MemoCompiler, text_reader, xml_name

Node = dict[str, Any]
Reader = Callable[[Node], Any]
# Keys of the envelope, not of the operation's input.
RESERVED = frozenset({"Action", "Version"})


def parse_form(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True))


def request_params(req: HttpRequest) -> dict[str, str]:
    """The flat parameters of a query-protocol request: its query string, then its form body."""
    params = parse_form(req.query_string) if req.query_string else {}
    if req.body and "x-www-form-urlencoded" in req.headers.get("content-type", "application/x-www-form-urlencoded"):
        params.update(parse_form(req.body.decode("utf-8", "replace")))
    return params


def build_tree(flat: dict[str, str]) -> Node:
    root: Node = {}
    for key, value in flat.items():
        if key in RESERVED:
            continue
        node = root
        for part in key.split("."):
            node = node.setdefault(part, {})
        node[""] = value
    return root


def _indexed(node: Node) -> list[Node]:
    # Items keep the client's numbering order; gaps are tolerated.
    numbered = []
    for key, child in node.items():
        if key.isdigit():
            numbered.append((int(key), child))
    numbered.sort(key=lambda pair: pair[0])
    return [child for _, child in numbered]


class QueryReaderCompiler(MemoCompiler):
    """Compiles (and memoizes) readers from a query tree node to an input value.

    A scalar that is not of its type stays the string it was: validation then reports it
    with the service's own error, as AWS does.
    """

    def reader(self, shape: Shape) -> Reader:
        return self.compiled(shape)

    def _build(self, shape: Shape) -> Reader:
        kind = shape.type_name
        if kind == "structure":
            fields = [
                (name, xml_name(member, name), self.reader(member)) for name, member in shape.members.items()
            ]

            def read_structure(node: Node) -> dict:
                out = {}
                for name, wire, read in fields:
                    child = node.get(wire)
                    if child is not None:
                        out[name] = read(child)
                return out

            return read_structure
        if kind == "list":
            item = self.reader(shape.member)
            if shape.serialization.get("flattened"):
                return lambda node: [item(child) for child in _indexed(node)]
            item_name = shape.member.serialization.get("name", "member")
            return lambda node: [item(child) for child in _indexed(node.get(item_name, {}))]
        if kind == "map":
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            read_key, read_value = self.reader(shape.key), self.reader(shape.value)
            flattened = bool(shape.serialization.get("flattened"))

            def read_map(node: Node) -> dict:
                entries = _indexed(node if flattened else node.get("entry", {}))
                out = {}
                for entry in entries:
                    if key_name in entry:
                        value = entry.get(value_name)
                        out[read_key(entry[key_name])] = None if value is None else read_value(value)
                return out

            return read_map
        convert = text_reader(shape)

        def read_scalar(node: Node) -> Any:
            text = node.get("", "")
            try:
                return convert(text)
            except ValueError:
                return text

        return read_scalar
