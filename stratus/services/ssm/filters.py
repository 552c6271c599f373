"""DescribeParameters' and GetParametersByPath's filters: their checks and their matching.

``ParameterFilters`` (ParameterStringFilter) may use Name, Type, KeyId, Path, Tier, DataType
and tag:<key> in DescribeParameters, and only Type, KeyId and Label in GetParametersByPath
(the API reference for ParameterStringFilter). The legacy ``Filters`` (ParametersFilter)
know Name, Type and KeyId.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratus.aws.api.ssm import InvalidFilterKey, InvalidFilterOption, InvalidFilterValue
from stratus.aws.errors import ValidationException
from stratus.services.ssm import model

_DESCRIBE_KEYS = ("Name", "Type", "KeyId", "Path", "Tier", "DataType")
_BY_PATH_KEYS = ("Type", "KeyId", "Label")
_ENUMS = {"Type": model.TYPES, "Tier": model.TIERS}


@dataclass(frozen=True, slots=True)
class Filter:
    key: str
    option: str
    values: tuple[str, ...]


def _key_error(key: str, allowed: Sequence[str]) -> InvalidFilterKey:
    return InvalidFilterKey(f"The following filter key is not valid: {key}. Valid filter keys include: [{', '.join(allowed)}].")


def _options_for(key: str) -> tuple[str, ...]:
    if key == "Path":
        return ("Recursive", "OneLevel")
    if key == "Label":
        return ("Equals",)
    if key == "Name" or key.startswith("tag:"):
        return ("Equals", "BeginsWith", "Contains")
    return ("Equals", "BeginsWith")


def compile_filters(raw: list[dict[str, Any]] | None, *, by_path: bool) -> list[Filter]:
    """Check ``ParameterFilters`` the way AWS does and answer them with their default options."""
    allowed = _BY_PATH_KEYS if by_path else _DESCRIBE_KEYS
    seen: set[str] = set()
    result: list[Filter] = []
    for item in raw or []:
        key = item["Key"]
        if not key.startswith("tag:") and key not in allowed:
            raise _key_error(key, allowed)
        if key.startswith("tag:") and by_path:
            raise _key_error(key, allowed)
        if key in seen:
            raise InvalidFilterKey(
                f"The following filter is duplicated in the request: {key}. A request can contain only one "
                "occurrence of a specific filter."
            )
        seen.add(key)
        options = _options_for(key)
        option = item.get("Option") or options[0 if key != "Path" else 1]
        if option not in options:
            raise InvalidFilterOption(
                f"The following filter option is not valid: {option}. Valid options include: [{', '.join(options)}]."
            )
        values = tuple(item.get("Values") or ())
        if not values and not key.startswith("tag:"):
            raise InvalidFilterValue(f"The following filter values are missing : null for filter key {key}.")
        for value in values:
            if key in _ENUMS and value not in _ENUMS[key]:
                raise InvalidFilterValue(
                    f"The following filter value is not valid: {value}. Valid values include: [{', '.join(_ENUMS[key])}]."
                )
            if key == "Path":
                if value.lstrip("/").lower().startswith(("aws", "ssm")):
                    raise ValidationException(
                        'Filters for common parameters can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
                        "When using global parameters, please specify within a global namespace."
                    )
                model.validate_path(value)
        result.append(Filter(key, option, values))
    return result


def compile_legacy(raw: list[dict[str, Any]] | None) -> list[Filter]:
    """The older ``Filters`` of DescribeParameters: Name (begins with), Type and KeyId (equal)."""
    return [Filter(item["Key"], "BeginsWith" if item["Key"] == "Name" else "Equals", tuple(item["Values"])) for item in raw or []]


def _hit(option: str, wanted: str, got: str) -> bool:
    if option == "BeginsWith":
        return got.startswith(wanted)
    if option == "Contains":
        return wanted in got
    return got == wanted


def _rooted(name: str) -> str:
    # "name" and "/name" are the same for Name filters: both sit at the root of the hierarchy.
    return "/" + name.lstrip("/")


def matches(f: Filter, fields: dict[str, Any]) -> bool:
    """Whether one parameter (its current version's fields, tags and labels) passes ``f``.

    ``fields`` holds Name, Type, KeyId, Tier, DataType, tags (dict) and labels (list).
    """
    key = f.key
    if key == "Name":
        name = fields["Name"]
        if f.option == "Contains":
            return any(v in name for v in f.values)
        return any(_hit(f.option, _rooted(v), _rooted(name)) for v in f.values)
    if key == "Path":
        return any(model.under_path(fields["Name"], v, f.option == "Recursive") for v in f.values)
    if key == "Label":
        return any(label in f.values for label in fields["labels"])
    if key.startswith("tag:"):
        tags: dict[str, str] = fields["tags"]
        tag = key[4:]
        if tag not in tags:
            return False
        return not f.values or any(_hit(f.option, v, tags[tag]) for v in f.values)
    got = fields.get(key)
    return got is not None and any(_hit(f.option, v, got) for v in f.values)
