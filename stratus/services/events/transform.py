"""What a target receives: the event, ``Input``, ``InputPath`` or ``InputTransformer`` applied to it.

JSON paths are the subset EventBridge documents: ``$``, dot notation with letters, digits,
dashes, underscores and slashes, array indices ``[0]`` and wildcards (``.*``, ``[*]``).
A path that meets a wildcard answers the list of what it reached.

Input templates ("Amazon EventBridge input transformation", and InputTransformer in the API
reference): ``<name>`` is replaced by the value of that variable. In a template that is a
JSON object or array, a variable outside a string literal becomes a JSON value (a string
value gets its quotes, a missing one is ``null``) and a variable inside a string literal is
spliced in as text with JSON escaping; in any other template values are spliced in as text.
``<aws.events.event>`` (the event without ``detail``) and ``<aws.events.event.json>`` (the
whole event) are always JSON, unescaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from stratus.aws.errors import ValidationException
from stratus.services.events.model import iso_time

MAX_INPUT_PATHS = 100
_MISSING = object()
_STEP = re.compile(r"\.([A-Za-z0-9_\-/]+|\*)|\[(\d+|\*)\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def compile_path(path: str) -> list[str | int | None] | None:
    """The steps of a JSON path (``None`` is a wildcard), or None when it is not one we accept."""
    if not path.startswith("$"):
        return None
    steps: list[str | int | None] = []
    at = 1
    while at < len(path):
        m = _STEP.match(path, at)
        if m is None:
            return None
        name, index = m.group(1), m.group(2)
        if name is not None:
            steps.append(None if name == "*" else name)
        else:
            steps.append(None if index == "*" else int(index))
        at = m.end()
    return steps


def evaluate(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``; ``_MISSING`` when nothing is there."""
    steps = compile_path(path)
    if steps is None:
        return _MISSING
    values = [document]
    spread = False
    for step in steps:
        reached: list[Any] = []
        for value in values:
            if step is None:
                spread = True
                if isinstance(value, dict):
                    reached.extend(value.values())
                elif isinstance(value, list):
                    reached.extend(value)
            elif isinstance(step, int):
                if isinstance(value, list) and step < len(value):
                    reached.append(value[step])
            elif isinstance(value, dict) and step in value:
                reached.append(value[step])
        values = reached
    if spread:
        return values
    return values[0] if values else _MISSING


def check_target_input(target: Mapping[str, Any]) -> None:
    """PutTargets' checks of Input, InputPath and InputTransformer (ValidationException)."""
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        raise ValidationException("Only one of Input, InputPath, or InputTransformer must be provided.")
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise ValidationException("Input is not valid JSON text.") from None
    if target.get("InputPath") is not None and compile_path(target["InputPath"]) is None:
        raise ValidationException(f"{target['InputPath']} is an invalid JSONPath.")
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        if len(paths) > MAX_INPUT_PATHS:
            raise ValidationException(f"InputPathsMap can have at most {MAX_INPUT_PATHS} entries.")
        # Keys follow the model's pattern (checked by the shared validation), which also keeps
        # out the reserved "aws." names.
        for path in paths.values():
            if compile_path(path) is None:
                raise ValidationException(f"{path} is an invalid JSONPath.")


def render(target: Mapping[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str, ingestion_ms: int) -> str:
    """The text ``target`` receives for ``event``."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath") is not None:
        value = evaluate(event, target["InputPath"])
        return "null" if value is _MISSING else _json(value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return _json(event)
    values: dict[str, Any] = {name: evaluate(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values["aws.events.rule-arn"] = rule_arn
    values["aws.events.rule-name"] = rule_name
    values["aws.events.event.ingestion-time"] = iso_time(ingestion_ms)
    return render_template(transformer["InputTemplate"], values, event)


def render_template(template: str, values: Mapping[str, Any], event: dict[str, Any]) -> str:
    json_mode = template.lstrip()[:1] in ("{", "[")
    out: list[str] = []
    in_string = False
    at = 0
    for m in _PLACEHOLDER.finditer(template):
        literal = template[at:m.start()]
        out.append(literal)
        if json_mode:
            in_string = _still_in_string(literal, in_string)
        at = m.end()
        name = m.group(1)
        if name == "aws.events.event":
            out.append(_json({k: v for k, v in event.items() if k != "detail"}))
        elif name == "aws.events.event.json":
            out.append(_json(event))
        elif name in values:
            out.append(_splice(values[name], json_mode and not in_string, json_mode))
        else:
            out.append(m.group(0))  # not a variable: left as written
    out.append(template[at:])
    return "".join(out)


def _still_in_string(text: str, in_string: bool) -> bool:
    """Whether a JSON string literal is open after ``text``, given it was before."""
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = in_string
        elif ch == '"':
            in_string = not in_string
    return in_string


def _splice(value: Any, as_json_value: bool, json_mode: bool) -> str:
    if as_json_value:
        return "null" if value is _MISSING else _json(value)
    if value is _MISSING or value is None:
        return ""
    text = value if isinstance(value, str) else _json(value)
    # Inside a JSON string literal the text must not end the string early.
    return json.dumps(text, ensure_ascii=False)[1:-1] if json_mode else text


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
