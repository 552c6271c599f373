"""Event patterns: EventBridge rules, SNS filter policies, Lambda event filters, Pipes.

``compile(text)`` validates a pattern once, with AWS's error messages, into a tree
(``patterns_match``) that ``Pattern.matches(event)`` interprets; ``PatternSet``
(``patterns_set``) matches one event against many patterns without a full walk per pattern.

The compiler follows the token stream the way AWS's own compiler (the open-source
event-ruler, JsonRuleCompiler) does, so the first error it meets is the one AWS reports,
with the same reason and -- for EventBridge -- the same Jackson location suffix.
Docs: EventBridge "Creating event patterns", "Content filtering in event patterns",
"Comparison operators"; SNS "Subscription filter policies" and "filter policy constraints".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from stratus.services.events import patterns_json as tok
from stratus.services.events.patterns_json import JsonReader, JsonSyntaxError
from stratus.services.events.patterns_match import (
    FIVE_BILLION,
    Leaf,
    ObjectNode,
    anything_but_str_test,
    anything_but_test,
    cidr_test,
    comparable,
    exists_test,
    ignore_case_test,
    numeric_test,
    parse_ip,
    prefix_test,
    suffix_test,
    wildcard_test,
)

Dialect = Literal["eventbridge", "sns"]
Scope = Literal["MessageAttributes", "MessageBody"]

OR = "$or"
# Operator names cannot be field names inside $or (they would be ambiguous there).
_RESERVED_IN_OR = frozenset({"anything-but", "exists", "numeric", "prefix", "suffix", "cidr",
                             "equals-ignore-case", "wildcard"})
_EB_PREFIX = "Event pattern is not valid. Reason: "
# SNS limits (SNS developer guide, "Filter policy constraints").
SNS_MAX_KEYS = 5
SNS_MAX_COMBINATIONS = 150
# Wildcard complexity: AWS rejects patterns whose wildcards let one input sit in too many
# partial matches at once ("Rule is too complex ..."); see _wildcard_complexity.
MAX_WILDCARD_COMPLEXITY = 5
_TOO_COMPLEX = ("Rule is too complex - try using fewer wildcard characters or fewer repeating "
                "character sequences after a wildcard character")


class PatternError(Exception):
    """An invalid pattern. ``message`` is the full AWS message for the dialect:

    - eventbridge: ``Event pattern is not valid. Reason: <reason>[\\n at [Source: ...]]``
      (services raise InvalidEventPatternException with it);
    - sns: ``Invalid parameter: FilterPolicy: <reason>`` (InvalidParameter). ``detail``
      is the part after ``Invalid parameter: `` so Subscribe can answer
      ``Invalid parameter: Attributes Reason: <detail>`` as SNS does there.
    """

    def __init__(self, message: str, *, reason: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.detail = detail or message


class EventEnvelopeError(Exception):
    """TestEventPattern's event is not a valid event (ValidationException)."""

    def __init__(self, message: str = "Parameter Event is not valid.") -> None:
        super().__init__(message)
        self.message = message


class _Fail(Exception):
    def __init__(self, reason: str, location: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location


class Pattern:
    """A compiled pattern. Immutable; share it freely."""

    __slots__ = ("root", "source", "dialect", "scope")

    def __init__(self, root: ObjectNode, source: str, dialect: Dialect, scope: Scope) -> None:
        self.root = root
        self.source = source
        self.dialect = dialect
        self.scope = scope

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Match a JSON object (an EventBridge event, an SNS message body, a record)."""
        return self.root.matches(event)  # type: ignore[arg-type]

    def matches_attributes(self, attributes: Mapping[str, Mapping[str, Any]]) -> bool:
        """SNS scope MessageAttributes: ``{name: {"DataType"|"Type", "StringValue"|"Value"}}``."""
        return self.root.matches(attributes_as_event(attributes))

    def matches_message_body(self, body: str) -> bool:
        """SNS scope MessageBody: a body that is not a JSON object matches nothing."""
        try:
            event = json.loads(body)
        except ValueError:
            return False
        return type(event) is dict and self.root.matches(event)

    def __repr__(self) -> str:
        return f"Pattern({self.source!r})"


def compile(pattern: str | Mapping[str, Any], *, dialect: Dialect = "eventbridge",
            scope: Scope = "MessageAttributes") -> Pattern:
    """Validate and compile a pattern; raises ``PatternError`` with AWS's message.

    ``scope`` only matters for the sns dialect (a subscription's FilterPolicyScope).
    """
    source = pattern if isinstance(pattern, str) else json.dumps(pattern, separators=(",", ":"))
    compiler = _Compiler(source, dialect, scope)
    try:
        root = compiler.run()
    except JsonSyntaxError as e:
        # SNS says what failed before the parser's own words.
        reason = f"failed to parse JSON. {e.message}" if dialect == "sns" else e.message
        raise _error(dialect, reason, e.location) from None
    except _Fail as e:
        raise _error(dialect, e.reason, e.location) from None
    return Pattern(root, source, dialect, scope)


def _error(dialect: Dialect, reason: str, location: str | None) -> PatternError:
    if dialect == "sns":
        detail = reason if reason.startswith("Filter policy scope") else f"FilterPolicy: {reason}"
        return PatternError(f"Invalid parameter: {detail}", reason=reason, detail=detail)
    suffix = f"\n at {location}" if location else ""
    return PatternError(f"{_EB_PREFIX}{reason}{suffix}", reason=reason)


class _Compiler:
    def __init__(self, source: str, dialect: Dialect, scope: Scope) -> None:
        self.r = JsonReader(source)
        self.sns = dialect == "sns"
        self.attributes_scope = self.sns and scope == "MessageAttributes"
        self.deferred: list[str] = []  # errors AWS only finds after parsing (when adding the rule)

    # Errors AWS raises from the JSON parser carry its location; others (CIDR, wildcard
    # syntax, number range of a single anything-but) come from deeper and carry none.
    def barf(self, reason: str) -> _Fail:
        return _Fail(reason, self.r.location())

    def run(self) -> ObjectNode:
        if self.r.next() != tok.START_OBJECT:
            raise self.barf("Filter is not an object")
        root = ObjectNode()
        self.parse_object(root, in_or=False, depth=1)
        if self.deferred:
            raise _Fail(self.deferred[0], None)
        if self.sns:
            self.check_sns_limits(root)
        return root

    def parse_object(self, node: ObjectNode, *, in_or: bool, depth: int) -> None:
        r = self.r
        fields = False
        while (kind := r.next()) != tok.END_OBJECT:
            fields = True
            name = r.token.text
            if name == OR:
                self.parse_or(node, depth)
                continue
            if in_or and name in _RESERVED_IN_OR:
                raise self.barf(f"{name} is Ruler reserved fieldName which cannot be used inside {OR}.")
            kind = r.next()
            if kind == tok.START_OBJECT:
                if self.attributes_scope:
                    raise _Fail("Filter policy scope MessageAttributes does not support nested filter policy", None)
                child = node.children.get(name)
                if child is None:
                    child = node.children[name] = ObjectNode()
                node.leaves.pop(name, None)
                self.parse_object(child, in_or=in_or, depth=depth + 1)
            elif kind == tok.START_ARRAY:
                node.children.pop(name, None)
                node.leaves[name] = self.parse_values()
            else:
                raise self.barf(f'"{name}" must be an object or an array')
        if not fields:
            raise self.barf("Empty objects are not allowed")

    def parse_or(self, node: ObjectNode, depth: int) -> None:
        r = self.r
        if r.next() != tok.START_ARRAY:
            raise self.barf(f"It must be an Array followed with {OR}.")
        alternatives: list[ObjectNode] = []
        while (kind := r.next()) != tok.END_ARRAY:
            if kind != tok.START_OBJECT:
                raise self.barf(f"Only JSON object is allowed in array of {OR} relationship.")
            alt = ObjectNode()
            self.parse_object(alt, in_or=True, depth=depth)
            alternatives.append(alt)
        if len(alternatives) < 2:
            raise self.barf(f"There must have at least 2 Objects in {OR} relationship.")
        node.ors.append(alternatives)

    # -- the array of match values under a field ------------------------------------------
    def parse_values(self) -> Leaf:
        r = self.r
        leaf = Leaf()
        while (kind := r.next()) != tok.END_ARRAY:
            leaf.size += 1
            t = r.token
            if kind == tok.START_OBJECT:
                self.parse_match_expression(leaf)
            elif kind == tok.STRING:
                leaf.strings.add(t.value)
                if (ip := parse_ip(t.value)) is not None:
                    leaf.ips.add(ip)
            elif kind in tok.NUMERIC:
                c = comparable(float(t.value))
                if c is not None:
                    leaf.numbers.add(c)
                else:
                    leaf.big_numbers.add(t.value)
            elif kind == tok.NULL:
                leaf.null = True
            elif kind == tok.TRUE:
                leaf.true = True
            elif kind == tok.FALSE:
                leaf.false = True
            else:
                raise self.barf("Match value must be String, number, true, false, or null")
        if leaf.size == 0:
            raise self.barf("Empty arrays are not allowed")
        return leaf

    def expect_end(self, reason: str = "Only one key allowed in match expression") -> None:
        if self.r.next() != tok.END_OBJECT:
            raise self.barf(reason)

    def string_value(self, reason: str) -> str:
        if self.r.next() != tok.STRING:
            raise self.barf(reason)
        return self.r.read_text()

    def parse_match_expression(self, leaf: Leaf) -> None:
        r = self.r
        if r.next() != tok.FIELD_NAME:
            raise self.barf("Match expression name not found")
        op = r.token.text
        if op in ("prefix", "suffix"):
            kind = r.next()
            if kind == tok.START_OBJECT:
                text = self.ignore_case_operand(op)
                leaf.tests.append((prefix_test if op == "prefix" else suffix_test)(text, True))
                self.expect_end()
                return
            if kind != tok.STRING:
                raise self.barf(f"{op} match pattern must be a string")
            text = r.read_text()
            leaf.tests.append((prefix_test if op == "prefix" else suffix_test)(text, False))
            self.expect_end()
        elif op == "numeric":
            if r.next() != tok.START_ARRAY:
                raise self.barf("Value of numeric must be an array.")
            leaf.tests.append(self.parse_numeric())
            self.expect_end("Too many elements in numeric expression")
        elif op == "anything-but":
            leaf.tests.append(self.parse_anything_but())
        elif op == "exists":
            kind = r.next()
            if kind not in (tok.TRUE, tok.FALSE):
                raise self.barf("exists match pattern must be either true or false.")
            if kind == tok.TRUE:
                leaf.tests.append(exists_test)
            else:
                leaf.absent = True
            self.expect_end()
        elif op == "cidr":
            text = self.string_value("prefix match pattern must be a string")
            leaf.tests.append(_cidr(text))
            self.expect_end()
        elif op == "equals-ignore-case":
            text = self.string_value("equals-ignore-case match pattern must be a string")
            leaf.tests.append(ignore_case_test(text))
            self.expect_end()
        elif op == "wildcard" and not self.sns:
            text = self.string_value("wildcard match pattern must be a string")
            self.check_wildcard(text)
            leaf.tests.append(wildcard_test(text))
            self.expect_end()
        else:
            raise self.barf(f"Unrecognized match type {op}")

    def ignore_case_operand(self, op: str) -> str:
        """``{"prefix": {"equals-ignore-case": "..."}}`` (and suffix)."""
        r = self.r
        if r.next() != tok.FIELD_NAME:
            raise self.barf(f"{op.capitalize()} expression name not found")
        inner = r.token.text
        if inner != "equals-ignore-case":
            raise self.barf(f"Unsupported {op} pattern: {inner}")
        text = self.string_value("equals-ignore-case match pattern must be a string")
        self.expect_end()
        return text

    def parse_numeric(self) -> Any:
        r = self.r
        if r.next() != tok.STRING:
            raise self.barf(f"Invalid member in numeric match: {r.token.text}")
        op = r.read_text()
        if op not in ("=", "<", "<=", ">", ">="):
            raise self.barf(f"Unrecognized numeric range operator: {op}")
        if r.next() not in tok.NUMERIC:
            raise self.barf(f"Value of {'equals' if op == '=' else op} must be numeric")
        value = float(r.token.value)
        if op == "=":
            if r.next() != tok.END_ARRAY:
                raise self.barf("Too many elements in numeric expression")
            c = self.bound(value)
            return numeric_test(c, False, c, False)
        if op in ("<", "<="):
            if r.next() != tok.END_ARRAY:
                raise self.barf("Too many elements in numeric expression")
            return self.numeric_range(-FIVE_BILLION, False, value, op == "<")
        kind = r.next()
        if kind == tok.END_ARRAY:
            return self.numeric_range(value, op == ">", FIVE_BILLION, False)
        if kind != tok.STRING:
            raise self.barf(f"Bad value in numeric range: {r.token.text}")
        top_op = r.read_text()
        if top_op not in ("<", "<="):
            raise self.barf(f"Bad numeric range operator: {top_op}")
        if r.next() not in tok.NUMERIC:
            raise self.barf(f"Value of {top_op} must be numeric")
        top = float(r.token.value)
        if r.next() != tok.END_ARRAY:
            raise self.barf("Too many terms in numeric range expression")
        return self.numeric_range(value, op == ">", top, top_op == "<")

    def bound(self, value: float) -> int:
        c = comparable(value)
        if c is None:
            raise self.barf("Value must be between -5.0E9 and 5.0E9, inclusive")
        return c

    def numeric_range(self, low: float, low_open: bool, high: float, high_open: bool) -> Any:
        lo, hi = self.bound(low), self.bound(high)
        if low >= high:
            raise self.barf("Bottom must be less than top")
        # Unbounded sides stay open-ended so the whole range AWS allows is included.
        return numeric_test(None if low == -FIVE_BILLION and not low_open else lo, low_open,
                            None if high == FIVE_BILLION and not high_open else hi, high_open)

    def parse_anything_but(self) -> Any:
        r = self.r
        kind = r.next()
        if kind == tok.START_OBJECT:
            if r.next() != tok.FIELD_NAME:
                raise self.barf("Anything-But expression name not found")
            inner = r.token.text
            allowed = ("prefix", "suffix") if self.sns else ("prefix", "suffix", "wildcard", "equals-ignore-case")
            if inner not in allowed:
                raise self.barf(f"Unsupported anything-but pattern: {inner}")
            texts = self.anything_but_strings(inner)
            self.expect_end()
            self.expect_end()
            return anything_but_str_test(_any_of([_string_test(inner, t) for t in texts]))
        if kind == tok.START_ARRAY:
            strings: set[str] = set()
            numbers: set[int] = set()
            while (kind := r.next()) != tok.END_ARRAY:
                if kind == tok.STRING:
                    strings.add(r.read_text())
                elif kind in tok.NUMERIC:
                    numbers.add(self.bound(float(r.token.value)))
                else:
                    raise self.barf("Inside anything but list, start|null|boolean is not supported.")
            if bool(strings) == bool(numbers):
                raise self.barf("Inside anything but list, either all values are number or string, "
                                "mixed type is not supported")
        elif kind == tok.STRING:
            strings, numbers = {r.read_text()}, set()
        elif kind in tok.NUMERIC:
            c = comparable(float(r.token.value))
            if c is None:
                raise _Fail("Value must be between -5.0E9 and 5.0E9, inclusive", None)
            strings, numbers = set(), {c}
        else:
            raise self.barf("Value of anything-but must be an array or single string/number value.")
        self.expect_end("Too many elements in numeric expression")
        return anything_but_test(frozenset(strings), frozenset(numbers))

    def anything_but_strings(self, inner: str) -> list[str]:
        """The operand of anything-but's inner operator: a string or an array of strings."""
        r = self.r
        kind = r.next()
        if inner == "equals-ignore-case":
            list_error = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            type_error = list_error
        elif inner == "wildcard":
            list_error = type_error = "wildcard match pattern must be a string"
        else:
            list_error = type_error = "prefix/suffix match pattern must be a string"
        if kind == tok.STRING:
            texts = [r.read_text()]
        elif kind == tok.START_ARRAY:
            texts = []
            while (kind := r.next()) != tok.END_ARRAY:
                if kind != tok.STRING:
                    raise self.barf(list_error)
                texts.append(r.read_text())
            if not texts:
                raise self.barf("Empty arrays are not allowed")
        else:
            raise self.barf(type_error)
        for text in texts:
            if inner in ("prefix", "suffix") and not text:
                raise self.barf("Null prefix/suffix not allowed")
            if inner == "wildcard":
                self.check_wildcard(text)
        return texts

    def check_wildcard(self, text: str) -> None:
        """Wildcard syntax as AWS checks it when it adds the rule (positions count the
        UTF-8 bytes of the value in quotes, hence the leading quote)."""
        data = ('"' + text + '"').encode()
        i = 0
        while i < len(data):
            b = data[i]
            if b == 0x2A and i + 1 < len(data) and data[i + 1] == 0x2A:
                self.deferred.append(f"Consecutive wildcard characters at pos {i}")
                return
            if b == 0x5C:
                if i + 1 < len(data) and data[i + 1] in (0x2A, 0x5C):
                    i += 2
                    continue
                self.deferred.append(f"Invalid escape character at pos {i}")
                return
            i += 1
        if _wildcard_complexity(text) > MAX_WILDCARD_COMPLEXITY:
            self.deferred.append(_TOO_COMPLEX)

    # -- SNS limits ----------------------------------------------------------------------
    def check_sns_limits(self, root: ObjectNode) -> None:
        if len(root.leaves) + len(root.children) + len(root.ors) > SNS_MAX_KEYS:
            raise _Fail(f"Filter policy can not have more than {SNS_MAX_KEYS} keys", None)
        if _combinations(root, 1, 1) > SNS_MAX_COMBINATIONS:
            raise _Fail("Filter policy is too complex", None)


def _combinations(node: ObjectNode, depth: int, total: int) -> int:
    """SNS's complexity: the product of each leaf's value count times its nesting depth,
    with $or branches adding up (the worked example in SNS's filter policy constraints:
    4 values three levels deep and 3 values two levels deep give 3 x 4 x 2 x 3 = 72)."""
    for leaf in node.leaves.values():
        total *= leaf.size * depth
    for child in node.children.values():
        total = _combinations(child, depth + 1, total)
    for alternatives in node.ors:
        total = sum(_combinations(alt, depth, total) for alt in alternatives)
    return total


def _string_test(op: str, text: str) -> Any:
    if op == "prefix":
        return prefix_test(text, False)
    if op == "suffix":
        return suffix_test(text, False)
    if op == "wildcard":
        return wildcard_test(text)
    return ignore_case_test(text)


def _any_of(tests: list[Any]) -> Any:
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


_MASK = re.compile(r"[+-]?[0-9]+")


def _cidr(text: str) -> Any:
    """A CIDR block as AWS reads it: the given address up to the end of its block."""
    parts = text.split("/")
    while parts and parts[-1] == "":  # Java's split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        raise _Fail("Malformed CIDR, one '/' required", None)
    if not _MASK.fullmatch(parts[1]):
        raise _Fail("Malformed CIDR, mask bits must be an integer", None)
    bits = int(parts[1])
    if bits < 0:
        raise _Fail("Malformed CIDR, mask bits must not be negative", None)
    ip = parse_ip(parts[0])
    if ip is None:
        raise _Fail(f"Nonstandard IP address: {parts[0]}", None)
    width = ip.max_prefixlen
    if bits > width - 1:
        raise _Fail(f"IPv{ip.version} mask bits must be < {width}", None)
    low = int(ip)
    high = low | ((1 << (width - bits)) - 1)
    return cidr_test(ip.version, low, high)


def _wildcard_complexity(text: str) -> int:
    """How many partial matches one input can keep alive at once: every unescaped
    wildcard, once reached, stays live for the rest of the input, so the count of
    wildcards bounds it. (AWS's exact measure also weighs repeated text after a
    wildcard; the wildcard count reproduces its verdict on the documented examples.)"""
    return len(re.findall(r"(?<!\\)\*", text.replace("\\\\", "")))


# -- SNS message attributes -----------------------------------------------------------

def attributes_as_event(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """SNS message attributes as the object a filter policy matches.

    String attributes are strings, Number attributes numbers (so numeric operators and
    numeric equality apply), String.Array attributes their JSON array (matched element by
    element). Binary attributes are not considered by filter policies.
    """
    event: dict[str, Any] = {}
    for name, attribute in attributes.items():
        data_type = attribute.get("DataType") or attribute.get("Type") or "String"
        value = attribute.get("StringValue", attribute.get("Value"))
        if value is None:
            continue
        base = data_type.split(".", 1)[0]
        if data_type == "String.Array":
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
            event[name] = parsed
        elif base == "Number":
            event[name] = _number(value)
        elif base == "String":
            event[name] = value
    return event


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


# -- EventBridge TestEventPattern ------------------------------------------------------

# The API reference lists resources too, but EventBridge accepts events without it.
ENVELOPE_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


def parse_test_event(event: str) -> dict[str, Any]:
    """The Event of TestEventPattern: a JSON object with the envelope fields."""
    try:
        parsed = json.loads(event)
    except ValueError:
        raise EventEnvelopeError() from None
    if type(parsed) is not dict or any(f not in parsed for f in ENVELOPE_FIELDS):
        raise EventEnvelopeError()
    return parsed


def run_test_event_pattern(event_pattern: str, event: str) -> bool:
    """TestEventPattern: PatternError for the pattern, EventEnvelopeError for the event."""
    pattern = compile(event_pattern)
    return pattern.matches(parse_test_event(event))


__all__ = ["Pattern", "PatternError", "EventEnvelopeError", "compile", "attributes_as_event",
           "parse_test_event", "run_test_event_pattern"]
