"""Server-side validation of an operation's input against the model, in AWS's words.

AWS checks required members, types, lengths, ranges, patterns and enums before an operation
runs, and services word the failure differently (the "flavour" table below):

* json and rest-json services: ``ValidationException`` listing every violation, e.g.
  ``1 validation error detected: Value null at 'tableName' failed to satisfy constraint:
  Member must not be null`` (member paths in lowerCamelCase, list items as ``.N.member``).
* query services: the same wording under the code ``ValidationError``.
* CloudWatch Logs: the json wording under ``InvalidParameterException``.
* SQS (both protocols): the first problem only, as ``MissingParameter`` (``The request must
  contain the parameter QueueUrl.``) or ``InvalidParameterValue``.

Checks are compiled once per operation; a request runs only closures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from botocore.model import Shape

from stratus.aws.errors import AwsError, InvalidParameterValue, MissingParameter, ValidationException
from stratus.aws.models import service_model
from stratus.aws.protocol.shapes import FLOAT_TYPES, INTEGER_TYPES, MemoCompiler


@dataclass(frozen=True, slots=True)
class Flavour:
    # "list": every violation in one ValidationException-style message; "first": SQS-style.
    style: str
    code: str
    check_enums: bool = True
    # (operation, member path) pairs whose enum the provider checks itself, with its own error.
    provider_enums: frozenset[tuple[str, str]] = frozenset()


# Services whose wording differs from their protocol's default. SQS leaves enum values
# (attribute names) to the provider, which answers them with its own errors.
FLAVOURS: dict[str, Flavour] = {
    "sqs": Flavour("first", "InvalidParameterValue", check_enums=False),
    # Lambda answers an unknown or blocked Runtime as InvalidParameterValueException ("Value x at
    # 'runtime' failed to satisfy constraint: ... or be a valid ARN"): its provider checks it.
    "lambda": Flavour("list", "ValidationException", provider_enums=frozenset(
        {("CreateFunction", "runtime"), ("UpdateFunctionConfiguration", "runtime")}
    )),
    # CloudWatch Logs answers model violations as InvalidParameterException ("1 validation error
    # detected: Value 'a:b' at 'logGroupName' failed to satisfy constraint: ...").
    "logs": Flavour("list", "InvalidParameterException"),
}
_JSON_FLAVOUR = Flavour("list", "ValidationException")
_QUERY_FLAVOUR = Flavour("list", "ValidationError")

_TYPE_NAMES = {"string": "String", "boolean": "Boolean", "blob": "Blob", "timestamp": "Timestamp",
               "list": "List", "map": "Map", "structure": "Structure", "float": "Float", "double": "Double",
               "integer": "Integer", "long": "Long"}


@dataclass(slots=True)
class Violation:
    path: str  # AWS-style: 'attributeDefinitions.1.member.attributeName'
    member: str  # the member name as the model spells it
    value: Any
    constraint: str
    missing: bool = False


Check = Callable[[Any, str, list[Violation]], None]


def flavour_for(service: str) -> Flavour:
    if service in FLAVOURS:
        return FLAVOURS[service]
    protocol = service_model(service).metadata.get("protocol", "json")
    return _JSON_FLAVOUR if protocol in ("json", "rest-json") else _QUERY_FLAVOUR


def validate(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise the service's validation error if ``params`` break the operation's input rules."""
    check = _compiled(service, operation)
    if check is None:
        return
    violations: list[Violation] = []
    check(params, "", violations)
    if violations:
        raise _error(flavour_for(service), violations)


@cache
def _compiled(service: str, operation: str) -> Check | None:
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        return None
    flavour = flavour_for(service)
    skipped = frozenset(path for op, path in flavour.provider_enums if op == operation)
    return _Compiler(flavour, skipped).check(shape)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    if isinstance(value, dict):
        # As AWS's (Java) services print a map.
        return "'{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}'"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    return f"'{value}'"


def _error(flavour: Flavour, violations: list[Violation]) -> AwsError:
    if flavour.style == "first":
        first = violations[0]
        if first.missing:
            return MissingParameter(f"The request must contain the parameter {first.member}.")
        shown = "null" if first.value is None else first.value
        return InvalidParameterValue(f"Value {shown} for parameter {first.member} is invalid. Reason: {first.constraint}.")
    count = len(violations)
    details = "; ".join(
        f"Value {_describe(v.value)} at '{v.path}' failed to satisfy constraint: {v.constraint}" for v in violations
    )
    noun = "error" if count == 1 else "errors"
    message = f"{count} validation {noun} detected: {details}"
    if flavour.code == "ValidationException":
        return ValidationException(message)
    return AwsError(message, code=flavour.code)


def _matches_type(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind in INTEGER_TYPES:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in FLOAT_TYPES:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "blob":
        return isinstance(value, (bytes, bytearray, str))
    if kind == "timestamp":
        return isinstance(value, datetime)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("map", "structure"):
        return isinstance(value, dict)
    return True


def _compile_pattern(pattern: str | None) -> re.Pattern[str] | None:
    # Model patterns are Java regexes; those Python cannot read (\p{L} ...) are not checked.
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


class _Compiler(MemoCompiler):
    def __init__(self, flavour: Flavour, skipped_enums: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.flavour = flavour
        self.skipped_enums = skipped_enums  # member paths whose enum the provider checks
        # lowerCamel path segment -> member name as the model spells it (for SQS's wording).
        self._names: dict[str, str] = {}

    def check(self, shape: Shape) -> Check:
        return self.compiled(shape)

    def _build(self, shape: Shape) -> Check:
        kind = shape.type_name
        metadata = shape.metadata
        low, high = metadata.get("min"), metadata.get("max")
        enum = frozenset(metadata["enum"]) if self.flavour.check_enums and metadata.get("enum") else None
        pattern = _compile_pattern(metadata.get("pattern")) if kind == "string" else None
        is_sized = kind in ("string", "blob", "list", "map")
        type_name = _TYPE_NAMES.get(kind, kind)
        inner = self._inner(shape)
        names = self._names
        skipped = self.skipped_enums

        def check(value: Any, path: str, out: list[Violation]) -> None:
            segment = path.rsplit(".", 1)[-1]
            member = names.get(segment, segment)
            if not _matches_type(kind, value):
                out.append(Violation(path, member, value, f"Member must be of type {type_name}"))
                return
            if is_sized:
                size = len(value)
                if low is not None and size < low:
                    out.append(Violation(path, member, value, f"Member must have length greater than or equal to {low}"))
                if high is not None and size > high:
                    out.append(Violation(path, member, value, f"Member must have length less than or equal to {high}"))
            elif low is not None or high is not None:
                if low is not None and value < low:
                    out.append(Violation(path, member, value, f"Member must have value greater than or equal to {low}"))
                if high is not None and value > high:
                    out.append(Violation(path, member, value, f"Member must have value less than or equal to {high}"))
            if enum is not None and value not in enum and path not in skipped:
                allowed = ", ".join(metadata["enum"])
                out.append(Violation(path, member, value, f"Member must satisfy enum value set: [{allowed}]"))
            if pattern is not None and pattern.fullmatch(value) is None:
                out.append(
                    Violation(path, member, value, f"Member must satisfy regular expression pattern: {pattern.pattern}")
                )
            if inner is not None:
                inner(value, path, out)

        return check

    def _inner(self, shape: Shape) -> Check | None:
        kind = shape.type_name
        if kind == "list":
            item = self.check(shape.member)

            def check_items(value: list, path: str, out: list[Violation]) -> None:
                for index, element in enumerate(value, 1):
                    if element is not None:
                        item(element, f"{path}.{index}.member", out)

            return check_items
        if kind == "map":
            item = self.check(shape.value)
            key_check = self.check(shape.key)

            def check_entries(value: dict, path: str, out: list[Violation]) -> None:
                for key, element in value.items():
                    # AWS reports a bad key once, on the map: "Map keys must satisfy constraint: [...]".
                    problems: list[Violation] = []
                    key_check(key, path, problems)
                    if problems:
                        constraints = ", ".join(p.constraint for p in problems)
                        member = path.rsplit(".", 1)[-1]
                        out.append(Violation(path, self._names.get(member, member), value,
                                             f"Map keys must satisfy constraint: [{constraints}]"))
                    if element is not None:
                        item(element, f"{path}.{key}", out)

            return check_entries
        if kind != "structure" or shape.is_document_type:
            return None
        required = set(shape.required_members)
        members = []
        for name, member in shape.members.items():
            self._names[_lower_first(name)] = name
            members.append((name, _lower_first(name), name in required, self.check(member)))

        def check_structure(value: dict, path: str, out: list[Violation]) -> None:
            prefix = f"{path}." if path else ""
            for name, wire, is_required, check in members:
                item = value.get(name)
                if item is None:
                    if is_required:
                        out.append(Violation(prefix + wire, name, None, "Member must not be null", missing=True))
                else:
                    check(item, prefix + wire, out)

        return check_structure
