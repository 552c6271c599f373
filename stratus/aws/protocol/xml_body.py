"""XML bodies: compiled writers (query and rest-xml output) and readers (rest-xml input).

The rules are botocore's, read in reverse: a structure member is an element named by its
``locationName`` (or member name); a list is ``<Name><member>..</member></Name>`` unless
flattened, when its items repeat under the name; a map is ``<entry><key/><value/></entry>``
pairs unless flattened; ``xmlAttribute`` members are attributes, ``xmlNamespace`` adds xmlns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

from botocore.model import Shape

from stratus.aws.protocol.shapes import MemoCompiler, shape_key, text_reader, text_writer, xml_name
from stratus.aws.protocol.timestamps import ISO8601

# Writers append fragments to a list that is joined once at the end.
Writer = Callable[[list[str], str, Any], None]
Reader = Callable[[Any], Any]

# "\r" must be escaped or XML parsers turn "\r\n" into "\n" (SQS bodies must survive intact).
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;", '"': "&quot;", "\n": "&#xA;"})


def escape(text: str) -> str:
    return text.translate(_TEXT_ESCAPES)


def namespace_attr(shape: Shape) -> str:
    ns = shape.serialization.get("xmlNamespace")
    if isinstance(ns, dict):
        prefix = f":{ns['prefix']}" if ns.get("prefix") else ""
        return f' xmlns{prefix}="{ns["uri"]}"'
    if isinstance(ns, str):
        return f' xmlns="{ns}"'
    return ""


class XmlWriterCompiler(MemoCompiler):
    """Compiles (and memoizes) XML writers for one service's shapes."""

    def __init__(self, default_timestamp_format: str = ISO8601) -> None:
        super().__init__()
        self._timestamp_format = default_timestamp_format
        self._members_memo: dict[tuple[str, str], Callable[[list[str], dict], None]] = {}

    def writer(self, shape: Shape) -> Writer:
        return self.compiled(shape)

    def members_writer(self, shape: Shape, names: list[str] | None = None) -> Callable[[list[str], dict], None]:
        """Writes a structure's member elements only (the caller writes the enclosing element)."""
        key = (*shape_key(shape), repr(names))
        if key not in self._members_memo:
            self._members_memo[key] = self._build_members(shape, names)
        return self._members_memo[key]

    def _build(self, shape: Shape) -> Writer:
        kind = shape.type_name
        ns = namespace_attr(shape)
        if kind == "structure":
            return self._build_structure(shape, ns)
        if kind == "list":
            return self._build_list(shape, ns)
        if kind == "map":
            return self._build_map(shape, ns)
        to_text = text_writer(shape, self._timestamp_format)

        def write_scalar(out: list[str], name: str, value: Any) -> None:
            out.append(f"<{name}{ns}>{escape(to_text(value))}</{name}>")

        return write_scalar

    def _build_structure(self, shape: Shape, ns: str) -> Writer:
        attributes = [
            (member_name, member.serialization["name"], text_writer(member, self._timestamp_format))
            for member_name, member in shape.members.items()
            if member.serialization.get("xmlAttribute")
        ]
        write_members = self._build_members(shape, None)

        def write_structure(out: list[str], name: str, value: dict) -> None:
            attrs = ns
            for member_name, attr_name, to_text in attributes:
                if value.get(member_name) is not None:
                    attrs += f' {attr_name}="{to_text(value[member_name]).translate(_ATTR_ESCAPES)}"'
            out.append(f"<{name}{attrs}>")
            write_members(out, value)
            out.append(f"</{name}>")

        return write_structure

    def _build_members(self, shape: Shape, names: list[str] | None) -> Callable[[list[str], dict], None]:
        members = shape.members
        fields = {
            member_name: (xml_name(member, member_name), self.writer(member))
            for member_name, member in members.items()
            if (names is None or member_name in names) and not member.serialization.get("xmlAttribute")
        }

        def write_members(out: list[str], value: dict) -> None:
            for member_name, item in value.items():
                field = fields.get(member_name)
                if field is not None and item is not None:
                    field[1](out, field[0], item)

        return write_members

    def _build_list(self, shape: Shape, ns: str) -> Writer:
        item_writer = self.writer(shape.member)
        if shape.serialization.get("flattened"):

            def write_flat_list(out: list[str], name: str, value: list) -> None:
                for item in value:
                    item_writer(out, name, item)

            return write_flat_list
        item_name = shape.member.serialization.get("name", "member")

        def write_list(out: list[str], name: str, value: list) -> None:
            out.append(f"<{name}{ns}>")
            for item in value:
                item_writer(out, item_name, item)
            out.append(f"</{name}>")

        return write_list

    def _build_map(self, shape: Shape, ns: str) -> Writer:
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        key_writer = self.writer(shape.key)
        value_writer = self.writer(shape.value)
        if shape.serialization.get("flattened"):

            def write_flat_map(out: list[str], name: str, value: dict) -> None:
                for k, v in value.items():
                    out.append(f"<{name}>")
                    key_writer(out, key_name, k)
                    value_writer(out, value_name, v)
                    out.append(f"</{name}>")

            return write_flat_map

        def write_map(out: list[str], name: str, value: dict) -> None:
            out.append(f"<{name}{ns}>")
            for k, v in value.items():
                out.append("<entry>")
                key_writer(out, key_name, k)
                value_writer(out, value_name, v)
                out.append("</entry>")
            out.append(f"</{name}>")

        return write_map


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def children_by_name(element: Element) -> dict[str, list[Element]]:
    grouped: dict[str, list[Element]] = {}
    for child in element:
        grouped.setdefault(local_name(child.tag), []).append(child)
    return grouped


class XmlReaderCompiler(MemoCompiler):
    """Compiles (and memoizes) readers from parsed XML elements to input values.

    A reader takes the list of elements found under the member's name (several for a
    flattened list or map, one otherwise). Scalar text that is not of its type raises
    ValueError; the codec answers it as a malformed request.
    """

    def reader(self, shape: Shape) -> Reader:
        return self.compiled(shape)

    def _build(self, shape: Shape) -> Reader:
        kind = shape.type_name
        if kind == "structure":
            return self._build_structure(shape)
        if kind == "list":
            item = self.reader(shape.member)
            if shape.serialization.get("flattened"):
                return lambda elements: [item([e]) for e in elements]
            return lambda elements: [item([e]) for e in elements[0]]
        if kind == "map":
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            read_key, read_value = self.reader(shape.key), self.reader(shape.value)
            flattened = bool(shape.serialization.get("flattened"))

            def read_map(elements: list[Element]) -> dict:
                entries = elements if flattened else [e for e in elements[0]]
                out = {}
                for entry in entries:
                    parts = children_by_name(entry)
                    if key_name in parts:
                        value = parts.get(value_name)
                        out[read_key(parts[key_name])] = read_value(value) if value else None
                return out

            return read_map
        convert = text_reader(shape)
        return lambda elements: convert(elements[0].text or "")

    def _build_structure(self, shape: Shape) -> Reader:
        fields = []
        attributes = []
        for member_name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            if member.serialization.get("xmlAttribute"):
                attributes.append((member_name, member.serialization["name"], text_reader(member)))
            else:
                fields.append((member_name, xml_name(member, member_name), self.reader(member)))

        def read_structure(elements: list[Element]) -> dict:
            element = elements[0]
            grouped = children_by_name(element)
            out = {}
            for member_name, wire, read in fields:
                found = grouped.get(wire)
                if found:
                    out[member_name] = read(found)
            for member_name, attr, convert in attributes:
                value = _attribute(element, attr)
                if value is not None:
                    out[member_name] = convert(value)
            return out

        return read_structure


def _attribute(element: Element, name: str) -> str | None:
    # "xsi:type" style names: match on the local part, whatever namespace URI it was given.
    local = name.split(":", 1)[-1]
    for key, value in element.attrib.items():
        if key == name or local_name(key) == local:
            return value
    return None
