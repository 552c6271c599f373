"""A streaming JSON reader that reports positions the way AWS's pattern compiler does.

EventBridge (and SNS) compile patterns with a Jackson streaming parser, and EventBridge's
error messages end with Jackson's location, e.g.
``"lenderId" must be an object or an array\n at [Source: (String)"{...}"; line: 1, column: 56]``.
The column is where Jackson's read pointer stands, which depends on Jackson's habits:
string values are read lazily (the pointer stops after the opening quote until the text is
asked for), and after a field name Jackson has already consumed the colon and the start of
the value. This reader reproduces those habits so our messages carry the same location.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right

# Token kinds, named after Jackson's JsonToken.
START_OBJECT = "{"
END_OBJECT = "}"
START_ARRAY = "["
END_ARRAY = "]"
FIELD_NAME = "name"
STRING = "string"
NUMBER_INT = "int"
NUMBER_FLOAT = "float"
TRUE = "true"
FALSE = "false"
NULL = "null"
NUMERIC = (NUMBER_INT, NUMBER_FLOAT)

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"((?:[^"\\\x00-\x1f]|\\.)*)"', re.DOTALL)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z0-9_$.+-]+")
_SNIPPET = 500  # Jackson quotes at most this many characters of the source


class JsonSyntaxError(Exception):
    """A Jackson-style parse failure: ``message`` plus where the reader stood."""

    def __init__(self, message: str, location: str) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class Token:
    __slots__ = ("kind", "text", "value", "lazy_at", "end_at")

    def __init__(self, kind: str, text: str, value: object, lazy_at: int, end_at: int) -> None:
        self.kind = kind
        self.text = text  # what Jackson's getText() answers
        self.value = value
        self.lazy_at = lazy_at  # read pointer while this is the current token
        self.end_at = end_at  # read pointer once its text has been read


class JsonReader:
    """Pull tokens one at a time; ``location()`` renders Jackson's current location."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.token: Token | None = None
        self.text_read = False
        self._pending: Token | None = None
        self._stack: list[str] = []  # open containers: "{" or "["
        self._expect_value = True  # at the root, or after "[" / "," in an array
        self._line_starts = [0]
        for m in re.finditer(r"\r\n|\r|\n", source):
            self._line_starts.append(m.end())

    # -- positions --------------------------------------------------------------------
    def location(self) -> str:
        tok = self.token
        at = self.pos
        if tok is not None:
            at = tok.end_at if self.text_read else tok.lazy_at
        return self.location_at(at)

    def location_at(self, at: int) -> str:
        line = bisect_right(self._line_starts, at)
        column = at - self._line_starts[line - 1] + 1
        src = self.source
        desc = '(String)"' + src[:_SNIPPET] + '"'
        if len(src) > _SNIPPET:
            desc += f"[truncated {len(src) - _SNIPPET} chars]"
        return f"[Source: {desc}; line: {line}, column: {column}]"

    def read_text(self) -> str:
        """Jackson's getText(): finishes a lazily read string."""
        self.text_read = True
        return self.token.text if self.token else ""

    # -- tokens -----------------------------------------------------------------------
    def next(self) -> str | None:
        self.text_read = False
        if self._pending is not None:
            self.token, self._pending = self._pending, None
            return self.token.kind
        self.token = self._advance()
        return self.token.kind if self.token else None

    def _skip_ws(self) -> None:
        self.pos = _WS.match(self.source, self.pos).end()

    def _fail(self, message: str, at: int) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.location_at(at))

    def _unexpected(self, what: str) -> JsonSyntaxError:
        ch = self.source[self.pos]
        return self._fail(f"Unexpected character ('{ch}' (code {ord(ch)})): {what}", self.pos + 1)

    def _advance(self) -> Token | None:
        self._skip_ws()
        src = self.source
        if self.pos >= len(src):
            if self._stack:
                kind = "Object" if self._stack[-1] == "{" else "Array"
                raise self._fail(f"Unexpected end-of-input: expected close marker for {kind}", self.pos)
            return None
        top = self._stack[-1] if self._stack else None
        ch = src[self.pos]
        if top == "{":
            if ch == "}":
                return self._close("}")
            if not self._expect_value:
                if ch != ",":
                    raise self._unexpected("was expecting comma to separate Object entries")
                self.pos += 1
                self._skip_ws()
            return self._field()
        if top == "[":
            if ch == "]":
                return self._close("]")
            if not self._expect_value:
                if ch != ",":
                    raise self._unexpected("was expecting comma to separate Array entries")
                self.pos += 1
                self._skip_ws()
            self._expect_value = False
            return self._value()
        if self.token is not None:
            raise self._unexpected("expected end-of-input")
        return self._value()

    def _close(self, ch: str) -> Token:
        self.pos += 1
        self._stack.pop()
        self._expect_value = False
        kind = END_OBJECT if ch == "}" else END_ARRAY
        return Token(kind, ch, None, self.pos, self.pos)

    def _field(self) -> Token:
        src = self.source
        if self.pos >= len(src):
            raise self._fail("Unexpected end-of-input in field name", self.pos)
        if src[self.pos] != '"':
            raise self._unexpected("was expecting double-quote to start field name")
        name, end = self._string_at(self.pos)
        self.pos = end
        self._skip_ws()
        if self.pos >= len(src) or src[self.pos] != ":":
            if self.pos >= len(src):
                raise self._fail("Unexpected end-of-input", self.pos)
            raise self._unexpected("was expecting a colon to separate field name and value")
        self.pos += 1
        self._skip_ws()
        # Jackson peeks the value now, so the name's location is after the value's start.
        self._expect_value = False
        self._pending = self._value()
        return Token(FIELD_NAME, name, name, self._pending.lazy_at, self._pending.lazy_at)

    def _string_at(self, at: int) -> tuple[str, int]:
        m = _STRING.match(self.source, at)
        if m is None:
            raise self._fail("Unexpected end-of-input: was expecting closing quote for a string value", len(self.source))
        try:
            text = json.loads(m.group(0))
        except ValueError:
            raise self._fail("Unrecognized character escape", m.end()) from None
        return text, m.end()

    def _value(self) -> Token:
        src = self.source
        if self.pos >= len(src):
            raise self._fail("Unexpected end-of-input: expected a value", self.pos)
        ch = src[self.pos]
        start = self.pos
        if ch in "{[":
            self.pos += 1
            self._stack.append(ch)
            self._expect_value = True
            kind = START_OBJECT if ch == "{" else START_ARRAY
            return Token(kind, ch, None, self.pos, self.pos)
        if ch == '"':
            text, end = self._string_at(start)
            self.pos = end
            return Token(STRING, text, text, start + 1, end)
        m = _NUMBER.match(src, start)
        if m and m.end() > start:
            self.pos = m.end()
            raw = m.group(0)
            if m.group(1) or m.group(2):
                return Token(NUMBER_FLOAT, raw, float(raw), self.pos, self.pos)
            return Token(NUMBER_INT, raw, int(raw), self.pos, self.pos)
        w = _WORD.match(src, start)
        if w:
            word = w.group(0)
            literal = {"true": (TRUE, True), "false": (FALSE, False), "null": (NULL, None)}.get(word)
            if literal is None:
                raise self._fail(
                    f"Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object "
                    "or token 'null', 'true' or 'false')",
                    w.end(),
                )
            self.pos = w.end()
            return Token(literal[0], word, literal[1], self.pos, self.pos)
        raise self._unexpected("expected a value")
