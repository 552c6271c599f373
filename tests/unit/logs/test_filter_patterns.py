"""The filter pattern compiler against AWS's documented examples (tests/data/log_filter_patterns)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratus.services.logs.filter_patterns import FilterPatternError, compile_pattern, split_fields

DATA = json.loads((Path(__file__).parents[2] / "data" / "log_filter_patterns" / "aws_examples.json").read_text())


def _message(case: dict) -> str:
    return json.dumps(DATA["documents"][case["document"]]) if "document" in case else case["message"]


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: f"{c['pattern']!r}->{c['match']}")
def test_documented_examples(case):
    assert compile_pattern(case["pattern"]).matches(_message(case)) is case["match"]


@pytest.mark.parametrize("pattern", DATA["invalid"])
def test_invalid_patterns_are_rejected(pattern):
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)


def test_space_delimited_fields_and_extracted_values():
    line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
    assert split_fields(line) == ["127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /index.html HTTP/1.0", "404", "1534"]
    # The documented example: a trailing comma stands for one more (unnamed) field.
    extracted = compile_pattern("[..., request=*.html*, status_code=4*,]").match(line)
    assert extracted is not None
    assert extracted["$status_code"] == "404" and extracted["$request"] == "GET /index.html HTTP/1.0"
    assert extracted["$7"] == "1534" and extracted["$1"] == "127.0.0.1"


def test_compiled_once():
    assert compile_pattern("{ $.a = 1 }") is compile_pattern("{ $.a = 1 }")
