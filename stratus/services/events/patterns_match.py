"""The compiled pattern tree and how it matches an event.

A pattern compiles to ``ObjectNode``s (one per JSON object of the pattern: child objects,
leaves, and ``$or`` groups) and ``Leaf``s (the array of match values under one field).
Matching walks the pattern, not the event, so an event's unrelated fields cost nothing.

Event arrays: a leaf matches if any scalar in the (flattened) array matches; an object
pattern under an array must match inside one element ("array consistency": fields of one
pattern object are matched against the same array element, as EventBridge does).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

FIVE_BILLION = 5.0e9
MISSING: Any = object()
_EMPTY: dict[str, Any] = {}


def comparable(number: float) -> int | None:
    """AWS's number rule: values in [-5e9, 5e9], compared at 6 digits after the point.

    Mirrors the integer AWS derives (truncating 1e6 * (5e9 + n)), so two numbers closer
    than a millionth compare equal, exactly as they do on AWS. ``None`` when out of range.
    """
    if -FIVE_BILLION <= number <= FIVE_BILLION:
        return int(1e6 * (FIVE_BILLION + number))
    return None


def is_number(value: Any) -> bool:
    return (type(value) is int or type(value) is float) and value == value


_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$")
_IPV6_CHARS = re.compile(r"^[0-9a-fA-F:.]+$")


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IPv4/IPv6 literal (no host names, no zone ids) or None."""
    if _IPV4.match(text):
        return ipaddress.IPv4Address(text)
    if ":" in text and _IPV6_CHARS.match(text):
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return None


def scalars(value: Any) -> list[Any]:
    """The leaf values a field holds: arrays flatten, objects are not leaves."""
    if value is MISSING or type(value) is dict:
        return []
    if type(value) is list:
        out: list[Any] = []
        for item in value:
            if type(item) is list:
                out.extend(scalars(item))
            elif type(item) is not dict:
                out.append(item)
        return out
    return [value]


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects a nested pattern looks into: the object itself or an array's objects."""
    if type(value) is dict:
        return [value]
    if type(value) is list:
        out: list[dict[str, Any]] = []
        for item in value:
            if type(item) is dict:
                out.append(item)
            elif type(item) is list:
                out.extend(objects(item))
        return out
    return []


Test = Callable[[Any], bool]


class Leaf:
    """The match values of one field. Exact strings get a set lookup; the rest are tests."""

    __slots__ = ("strings", "numbers", "big_numbers", "ips", "null", "true", "false",
                 "tests", "absent", "size")

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.numbers: set[int] = set()  # comparable() forms
        self.big_numbers: set[float] = set()  # outside AWS's numeric range: literal equality
        self.ips: set[Any] = set()  # exact values that are IP literals match any spelling
        self.null = self.true = self.false = False
        self.tests: list[Test] = []
        self.absent = False  # {"exists": false} present
        self.size = 0  # number of match values, for SNS's complexity limit

    def only_strings(self) -> bool:
        return bool(self.strings) and not (self.numbers or self.big_numbers or self.ips or self.null
                                           or self.true or self.false or self.tests or self.absent)

    def matches(self, value: Any) -> bool:
        if value is MISSING or type(value) is dict:
            return self.absent
        if type(value) is list:
            values = scalars(value)
            if not values:
                return self.absent
            return any(self.matches_scalar(v) for v in values)
        return self.matches_scalar(value)

    def matches_scalar(self, v: Any) -> bool:
        t = type(v)
        if t is str:
            if v in self.strings:
                return True
            if self.ips and (ip := parse_ip(v)) is not None and ip in self.ips:
                return True
        elif t is int or t is float:
            c = comparable(v)
            if c is not None:
                if c in self.numbers:
                    return True
            elif v in self.big_numbers:
                return True
        elif v is None:
            if self.null:
                return True
        elif v is True:
            if self.true:
                return True
        elif v is False:
            if self.false:
                return True
        for test in self.tests:
            if test(v):
                return True
        return False


class ObjectNode:
    __slots__ = ("leaves", "children", "ors")

    def __init__(self) -> None:
        self.leaves: dict[str, Leaf] = {}
        self.children: dict[str, ObjectNode] = {}
        self.ors: list[list[ObjectNode]] = []

    def matches(self, event: dict[str, Any]) -> bool:
        get = event.get
        for key, leaf in self.leaves.items():
            if not leaf.matches(get(key, MISSING)):
                return False
        for key, child in self.children.items():
            inner = objects(get(key, MISSING))
            if inner:
                if not any(child.matches(o) for o in inner):
                    return False
            elif not child.matches(_EMPTY):
                return False
        for alternatives in self.ors:
            if not any(alt.matches(event) for alt in alternatives):
                return False
        return True


# -- tests for the operators (each takes one scalar event value) ----------------------

def prefix_test(prefix: str, ignore_case: bool) -> Test:
    if ignore_case:
        low = prefix.lower()
        return lambda v: type(v) is str and v.lower().startswith(low)
    return lambda v: type(v) is str and v.startswith(prefix)


def suffix_test(suffix: str, ignore_case: bool) -> Test:
    if ignore_case:
        low = suffix.lower()
        return lambda v: type(v) is str and v.lower().endswith(low)
    return lambda v: type(v) is str and v.endswith(suffix)


def ignore_case_test(text: str) -> Test:
    low = text.lower()
    return lambda v: type(v) is str and v.lower() == low


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literals (checked at compile)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            parts.append(".*")
        elif ch == "\\":
            i += 1
            parts.append(re.escape(pattern[i]))
        else:
            parts.append(re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def wildcard_test(pattern: str) -> Test:
    full = wildcard_regex(pattern).fullmatch
    return lambda v: type(v) is str and full(v) is not None


def numeric_test(low: int | None, low_open: bool, high: int | None, high_open: bool) -> Test:
    def test(v: Any) -> bool:
        if not is_number(v):
            return False
        c = comparable(v)
        if c is None:
            return False
        if low is not None and (c <= low if low_open else c < low):
            return False
        if high is not None and (c >= high if high_open else c > high):
            return False
        return True
    return test


def cidr_test(version: int, low: int, high: int) -> Test:
    def test(v: Any) -> bool:
        if type(v) is not str:
            return False
        ip = parse_ip(v)
        return ip is not None and ip.version == version and low <= int(ip) <= high
    return test


def exists_test(v: Any) -> bool:
    return True


def anything_but_test(strings: frozenset[str], numbers: frozenset[int]) -> Test:
    def test(v: Any) -> bool:
        if type(v) is str:
            return v not in strings
        if is_number(v):
            return comparable(v) not in numbers
        return True
    return test


def anything_but_str_test(excluded: Test) -> Test:
    """anything-but {prefix|suffix|wildcard|equals-ignore-case}: non-strings always pass."""
    return lambda v: type(v) is not str or not excluded(v)
