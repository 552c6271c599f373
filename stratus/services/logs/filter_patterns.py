"""CloudWatch Logs filter patterns, compiled once into a matcher.

The three kinds AWS documents (FilterAndPatternSyntax):

- terms: ``ERROR Exception`` (all must appear), ``"quoted phrase"``, ``?ERROR ?WARN``
  (any of them), ``-Exiting`` (must not appear), ``%regex%``. Case sensitive, substring match.
- JSON: ``{ $.a.b[0] = "x" && ($.n > 10 || $.flag IS TRUE) }`` with ``=`` ``!=`` ``<`` ``>``
  ``<=`` ``>=``, ``IS NULL``, ``NOT EXISTS``, ``IS TRUE``/``IS FALSE``, ``*`` at either end of
  a value, ``%regex%`` values; ``&&`` binds tighter than ``||``.
- space-delimited: ``[ip, user, ..., status_code = 4* || status_code = 410, bytes > 1000]``;
  a field in ``"..."`` or ``[...]`` is one field; ``...`` stands for any number of fields.

``compile_pattern(text).match(message)`` answers None when the message does not match, or
the extracted values (``$1``, ``$name`` ... for space-delimited patterns, else empty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Extracted = dict[str, str]


class FilterPatternError(ValueError):
    """The pattern does not follow AWS's syntax."""


@dataclass(frozen=True, slots=True)
class FilterPattern:
    text: str
    _match: Callable[[str], Extracted | None]

    def match(self, message: str) -> Extracted | None:
        return self._match(message)

    def matches(self, message: str) -> bool:
        return self._match(message) is not None


@lru_cache(maxsize=512)
def compile_pattern(text: str) -> FilterPattern:
    """The compiled pattern; raises FilterPatternError. Cached: metric filters reuse theirs."""
    stripped = text.strip()
    if not stripped:
        return FilterPattern(text, _match_all)
    if stripped[0] == "{":
        if stripped[-1] != "}":
            raise FilterPatternError("a JSON filter pattern must end with '}'")
        return FilterPattern(text, _compile_json(stripped[1:-1]))
    if stripped[0] == "[":
        if stripped[-1] != "]":
            raise FilterPatternError("a space-delimited filter pattern must end with ']'")
        return FilterPattern(text, _compile_delimited(stripped[1:-1]))
    return FilterPattern(text, _compile_terms(stripped))


_EMPTY: Extracted = {}


def _match_all(_message: str) -> Extracted:
    return _EMPTY


# --- values: wildcards, regexes, numbers ----------------------------------------------------

# AWS's regex subset: no groups; only these symbols besides letters and digits.
_REGEX_ALLOWED = re.compile(r"^[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+. ]*$")


def _compile_regex(body: str) -> re.Pattern[str]:
    if "(" in body or ")" in body:
        raise FilterPatternError("the () operator is not supported in regular expressions")
    if not _REGEX_ALLOWED.match(body):
        raise FilterPatternError(f"unsupported character in regular expression %{body}%")
    try:
        return re.compile(body)
    except re.error as exc:
        raise FilterPatternError(f"invalid regular expression %{body}%: {exc}") from None


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.match(text) else None


def _text_matcher(value: str, quoted: bool) -> Callable[[str], bool]:
    """Equality for a string value: ``*`` at the start or end is a wildcard (AWS: ``Ev*ent`` is literal)."""
    if value == "*":
        return lambda s: True
    lead = value.startswith("*")
    trail = value.endswith("*") and len(value) > 1
    core = value[1 if lead else 0 : len(value) - 1 if trail else len(value)]
    if lead and trail:
        return lambda s: core in s
    if lead:
        return lambda s: s.endswith(core)
    if trail:
        return lambda s: s.startswith(core)
    return lambda s: s == core


# --- the expression language shared by JSON and space-delimited patterns --------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\() | (?P<rparen>\)) | (?P<and>&&) | (?P<or>\|\|) | (?P<comma>,) | (?P<ellipsis>\.\.\.)
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<regex>%(?:[^%\\]|\\.)*%)
    | (?P<word>[^\s()&|,"=<>!%]+)
    )""",
    re.VERBOSE,
)


@dataclass(slots=True)
class _Tok:
    kind: str
    text: str


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    source = source.rstrip()
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None or m.end() == pos:
            raise FilterPatternError(f"unexpected character at {source[pos:pos + 10]!r}")
        kind = m.lastgroup
        assert kind is not None
        tokens.append(_Tok(kind, m.group(kind)))
        pos = m.end()
    return tokens


# A condition receives a lookup ``name -> (found, value)`` and answers True or False.
Lookup = Callable[[str], tuple[bool, Any]]
Condition = Callable[[Lookup], bool]

_MISSING = (False, None)


class _Parser:
    """Recursive descent: or := and ('||' and)*; and := atom ('&&' atom)*; atom := '(' or ')' | test."""

    def __init__(self, tokens: list[_Tok], json_mode: bool, stop: tuple[str, ...] = ()) -> None:
        self.tokens = tokens
        self.pos = 0
        self.json_mode = json_mode
        self.stop = stop
        self.names: list[str] = []  # operands in order of appearance
        self.regexes = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (kind is not None and tok.kind != kind):
            want = kind or "more"
            raise FilterPatternError(f"expected {want} but found {tok.text if tok else 'the end'}")
        self.pos += 1
        return tok

    def parse_or(self) -> Condition:
        parts = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.pos += 1
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda look: any(p(look) for p in parts)

    def parse_and(self) -> Condition:
        parts = [self.parse_atom()]
        while (tok := self.peek()) is not None and tok.kind == "and":
            self.pos += 1
            parts.append(self.parse_atom())
        if len(parts) == 1:
            return parts[0]
        return lambda look: all(p(look) for p in parts)

    def parse_atom(self) -> Condition:
        tok = self.peek()
        if tok is not None and tok.kind == "lparen":
            self.pos += 1
            inner = self.parse_or()
            self.take("rparen")
            return inner
        return self.parse_test()

    def parse_test(self) -> Condition:
        operand = self.take("word").text
        if self.json_mode:
            path = _selector(operand)
            self.names.append(operand)
            get: Callable[[Lookup], tuple[bool, Any]] = lambda look: look(path)  # noqa: E731
        else:
            if not re.fullmatch(r"[A-Za-z0-9_$]+", operand):
                raise FilterPatternError(f"invalid field name {operand!r}")
            self.names.append(operand)
            get = lambda look: look(operand)  # noqa: E731
        tok = self.take()
        if tok.kind == "word" and tok.text.upper() in ("IS", "NOT") and self.json_mode:
            return self._keyword_test(tok.text.upper(), get)
        if tok.kind != "op":
            raise FilterPatternError(f"expected an operator after {operand} but found {tok.text}")
        return self._comparison(tok.text, get)

    def _keyword_test(self, first: str, get: Callable[[Lookup], tuple[bool, Any]]) -> Condition:
        word = self.take("word").text.upper()
        if first == "NOT":
            if word != "EXISTS":
                raise FilterPatternError(f"expected NOT EXISTS but found NOT {word}")
            return lambda look: not get(look)[0]
        if word == "NULL":
            return lambda look: (found := get(look))[0] and found[1] is None
        if word in ("TRUE", "FALSE"):
            want = word == "TRUE"
            return lambda look: (found := get(look))[0] and found[1] is want
        raise FilterPatternError(f"expected IS NULL, IS TRUE or IS FALSE but found IS {word}")

    def _comparison(self, op: str, get: Callable[[Lookup], tuple[bool, Any]]) -> Condition:
        tok = self.take()
        if tok.kind == "regex":
            self.regexes += 1
            if op not in ("=", "!="):
                raise FilterPatternError("a regular expression needs = or !=")
            rx = _compile_regex(tok.text[1:-1])
            return self._equality(op, get, lambda s: rx.search(s) is not None, None)
        if tok.kind == "string":
            if op not in ("=", "!="):
                raise FilterPatternError(f"{op} needs a number")
            text = json.loads(tok.text)
            return self._equality(op, get, _text_matcher(text, True), None)
        if tok.kind != "word":
            raise FilterPatternError(f"expected a value after {op} but found {tok.text}")
        number = _number(tok.text)
        if op in ("=", "!="):
            return self._equality(op, get, _text_matcher(tok.text, False), number)
        if number is None:
            raise FilterPatternError(f"{op} needs a number, not {tok.text}")
        compare = _ORDER[op]
        json_mode = self.json_mode

        def ordered(look: Lookup) -> bool:
            found, value = get(look)
            if not found:
                return False
            actual = _as_number(value, json_mode)
            return actual is not None and compare(actual, number)

        return ordered

    def _equality(
        self, op: str, get: Callable[[Lookup], tuple[bool, Any]], text_eq: Callable[[str], bool], number: float | None
    ) -> Condition:
        json_mode = self.json_mode

        def equal(look: Lookup) -> bool | None:
            """True/False, or None when the value is not something this test applies to."""
            found, value = get(look)
            if not found:
                return None
            if isinstance(value, str):
                if not json_mode and number is not None and (n := _number(value)) is not None:
                    return n == number
                return text_eq(value)
            if isinstance(value, bool) or value is None:
                return text_eq(json.dumps(value))
            if isinstance(value, (int, float)):
                if number is not None:
                    return float(value) == number
                return text_eq(json.dumps(value))
            return None  # an object or array: AWS does not apply the filter

        if op == "=":
            return lambda look: equal(look) is True
        return lambda look: equal(look) is False


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _as_number(value: Any, json_mode: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and not json_mode:
        return _number(value)
    return None


# --- JSON patterns ----------------------------------------------------------------------------

_SELECTOR_STEP = re.compile(r"\.([A-Za-z0-9_\-@]+)|\[(\d+)\]")


def _selector(text: str) -> tuple[str | int, ...]:
    if not text.startswith("$"):
        raise FilterPatternError(f"a JSON property selector starts with $: {text!r}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        m = _SELECTOR_STEP.match(text, pos)
        if m is None:
            raise FilterPatternError(f"invalid JSON property selector {text!r}")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not steps:
        raise FilterPatternError("a JSON property selector needs a property after $")
    return tuple(steps)


def _resolve(document: Any, path: tuple[str | int, ...]) -> tuple[bool, Any]:
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return True, node


def _compile_json(body: str) -> Callable[[str], Extracted | None]:
    parser = _Parser(_tokenize(body), json_mode=True)
    condition = parser.parse_or()
    if parser.peek() is not None:
        raise FilterPatternError(f"unexpected {parser.peek().text!r} in JSON filter pattern")  # type: ignore[union-attr]
    if parser.regexes > 2:
        raise FilterPatternError("a filter pattern can hold at most 2 regular expressions")

    def match(message: str) -> Extracted | None:
        text = message.lstrip()
        if not text.startswith(("{", "[")):
            return None
        try:
            document = json.loads(text)
        except ValueError:
            return None
        return _EMPTY if condition(lambda path: _resolve(document, path)) else None

    return match


# --- space-delimited patterns ------------------------------------------------------------------

_FIELD = re.compile(r'"([^"]*)"?|\[([^\]]*)\]?|(\S+)')


def split_fields(message: str) -> list[str]:
    """A message's space-delimited fields; text in "..." or [...] is one field, without them."""
    fields: list[str] = []
    for m in _FIELD.finditer(message):
        quoted, bracketed, plain = m.groups()
        fields.append(quoted if quoted is not None else bracketed if bracketed is not None else plain)
    return fields


def _compile_delimited(body: str) -> Callable[[str], Extracted | None]:
    segments: list[list[_Tok]] = [[]]
    depth = 0
    for tok in _tokenize(body):
        depth += {"lparen": 1, "rparen": -1}.get(tok.kind, 0)
        if tok.kind == "comma" and depth == 0:
            segments.append([])
        else:
            segments[-1].append(tok)
    slots: list[str | None] = []  # field names ("" for an unnamed one, as after a trailing comma); None for "..."
    conditions: list[Condition] = []
    regexes = 0
    for segment in segments:
        if not segment:
            slots.append("")
        elif len(segment) == 1 and segment[0].kind == "ellipsis":
            slots.append(None)
        elif len(segment) == 1:
            if segment[0].kind != "word" or not re.fullmatch(r"[A-Za-z0-9_]+", segment[0].text):
                raise FilterPatternError(f"invalid field name {segment[0].text!r}")
            slots.append(segment[0].text)
        else:
            parser = _Parser(segment, json_mode=False)
            conditions.append(parser.parse_or())
            if parser.peek() is not None:
                raise FilterPatternError(f"unexpected {parser.peek().text!r} in field condition")  # type: ignore[union-attr]
            regexes += parser.regexes
            slots.append(parser.names[0])
    if regexes > 2:
        raise FilterPatternError("a filter pattern can hold at most 2 regular expressions")
    if slots.count(None) > 1:
        raise FilterPatternError("a space-delimited filter pattern can hold one '...'")
    if slots == [""]:
        raise FilterPatternError("a space-delimited filter pattern needs at least one field")
    split = slots.index(None) if None in slots else len(slots)
    head: list[str] = slots[:split]  # type: ignore[assignment]
    tail: list[str] = slots[split + 1 :]  # type: ignore[assignment]
    has_ellipsis = split < len(slots)

    def match(message: str) -> Extracted | None:
        fields = split_fields(message)
        if has_ellipsis:
            if len(fields) < len(head) + len(tail):
                return None
        elif len(fields) != len(slots):
            return None
        named: dict[str, str] = {}
        for name, value in zip(head, fields):
            if name:
                named[name] = value
        for name, value in zip(tail, fields[len(fields) - len(tail) :]):
            if name:
                named[name] = value

        def look(name: str) -> tuple[bool, Any]:
            return (True, named[name]) if name in named else _MISSING

        if not all(condition(look) for condition in conditions):
            return None
        extracted = {f"${i}": value for i, value in enumerate(fields, 1)}
        extracted.update({f"${name}": value for name, value in named.items()})
        return extracted

    return match


# --- term patterns ------------------------------------------------------------------------------

_TERM = re.compile(r'\s*([?-]?)\s*("(?:[^"\\]|\\.)*"|%(?:[^%\\]|\\.)*%|\S+)')


def _compile_terms(text: str) -> Callable[[str], Extracted | None]:
    required: list[Callable[[str], bool]] = []
    optional: list[Callable[[str], bool]] = []
    excluded: list[Callable[[str], bool]] = []
    regexes = 0
    for m in _TERM.finditer(text):
        prefix, raw = m.groups()
        if raw.startswith('"') and len(raw) > 1 and raw.endswith('"'):
            phrase = json.loads(raw)
            test: Callable[[str], bool] = lambda s, p=phrase: p in s  # noqa: E731
        elif raw.startswith("%") and len(raw) > 1 and raw.endswith("%"):
            regexes += 1
            rx = _compile_regex(raw[1:-1])
            test = lambda s, r=rx: r.search(s) is not None  # noqa: E731
        elif '"' in raw:
            raise FilterPatternError(f"unbalanced quote in term {raw!r}")
        else:
            test = lambda s, p=raw: p in s  # noqa: E731
        {"": required, "?": optional, "-": excluded}[prefix].append(test)
    if regexes > 2:
        raise FilterPatternError("a filter pattern can hold at most 2 regular expressions")

    def match(message: str) -> Extracted | None:
        if not all(t(message) for t in required):
            return None
        if optional and not any(t(message) for t in optional):
            return None
        if any(t(message) for t in excluded):
            return None
        return _EMPTY

    return match
