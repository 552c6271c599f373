"""LoggingConfig JSON: the runtime clients' JSON records, the platform's records and level filtering.

AWS references: developer guide, "Configuring JSON and plain text log formats", "Log-level
filtering" and the Telemetry API event schema (platform.start / platform.runtimeDone /
platform.report / platform.initReport).
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from typing import Any

import pytest

from stratus.services.lambda_.runtime.pool import Runtimes
from tests.integration.lambda_runtime.conftest import CREDENTIALS, LogSink, MakeSpec

pytestmark = pytest.mark.anyio

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

PYTHON_LOGGING = textwrap.dedent("""
    import json, logging, time
    logger = logging.getLogger()
    named = logging.getLogger("orders")

    def handler(event, context):
        logger.debug("debug detail")
        logger.info("shown", extra={"order": 7})
        named.warning("careful")
        print("plain print")
        print(json.dumps({"level": "debug", "message": "json debug print"}))
        print(json.dumps({"level": "ERROR", "message": "json error print"}))
        try:
            1 / 0
        except ZeroDivisionError:
            logger.exception("division failed")
        if event.get("raise"):
            raise ValueError("bad input")
        if event.get("sleep"):
            time.sleep(event["sleep"])
        return "ok"
""").lstrip()


async def run(runtimes: Runtimes, sink: LogSink, spec: Any, event: dict[str, Any], request_id: str) -> tuple[Any, list[str]]:
    before = len(sink.messages())
    result = await runtimes.invoke(spec, json.dumps(event).encode(), request_id=request_id, credentials=CREDENTIALS)
    await runtimes.flush_logs()
    return result, sink.messages()[before:]


def records(messages: list[str]) -> list[dict[str, Any]]:
    """The messages that are JSON objects, parsed."""
    out = []
    for message in messages:
        try:
            value = json.loads(message)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def of_type(messages: list[str], kind: str) -> list[dict[str, Any]]:
    return [r for r in records(messages) if r.get("type") == kind]


async def test_python_json_records_and_platform_records(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": PYTHON_LOGGING}, version="3", log_format="JSON",
                     application_log_level="INFO", system_log_level="INFO")
    result, messages = await run(runtimes, sink, spec, {}, "req-json")
    assert result.payload == b'"ok"'
    assert all(message.endswith("\n") for message in messages)
    # The platform: platform.start first, platform.report last; runtimeDone is DEBUG, so left out.
    start, report = records(messages)[0], records(messages)[-1]
    assert start["type"] == "platform.start" and TIMESTAMP.fullmatch(start["time"])
    assert start["record"] == {"requestId": "req-json", "functionArn": spec.function_arn.rsplit(":", 1)[0], "version": "3"}
    assert report["type"] == "platform.report" and report["record"]["status"] == "success"
    metrics = report["record"]["metrics"]
    assert set(metrics) == {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"}
    assert metrics["memorySizeMB"] == 128 and metrics["billedDurationMs"] >= metrics["durationMs"]
    assert not of_type(messages, "platform.runtimeDone")
    assert not [m for m in messages if m.startswith(("START", "END", "REPORT"))]
    # The function's records: AWS's fields, extra keys kept, DEBUG filtered out by the INFO level.
    app = [r for r in records(messages) if "type" not in r]
    shown = next(r for r in app if r.get("message") == "shown")
    assert TIMESTAMP.fullmatch(shown.pop("timestamp"))
    assert shown == {"level": "INFO", "message": "shown", "logger": "root", "requestId": "req-json", "order": 7}
    assert next(r for r in app if r.get("message") == "careful")["level"] == "WARNING"
    assert next(r for r in app if r.get("message") == "careful")["logger"] == "orders"
    failed = next(r for r in app if r.get("message") == "division failed")
    assert failed["level"] == "ERROR" and failed["errorType"] == "ZeroDivisionError" and failed["errorMessage"] == "division by zero"
    assert failed["stackTrace"] and failed["location"].endswith("app.py:handler:15")
    assert "debug detail" not in "".join(messages)
    # Output that is not a JSON record counts as INFO; a JSON line is filtered by its "level".
    assert "plain print\n" in messages
    assert not [m for m in messages if "json debug print" in m]
    assert [m for m in messages if "json error print" in m]
    # LogType Tail shows the same lines.
    assert '"type":"platform.start"' in result.log_tail and '"type":"platform.report"' in result.log_tail


async def test_levels_filter_application_and_system_records(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    quiet = make_spec("python3.12", "app.handler", {"app.py": PYTHON_LOGGING}, log_format="JSON",
                      application_log_level="ERROR", system_log_level="WARN")
    result, messages = await run(runtimes, sink, quiet, {"raise": "x"}, "req-quiet")
    assert result.function_error == "Unhandled"
    # WARN keeps no platform record; ERROR keeps the errors only (print is INFO).
    assert not [r for r in records(messages) if "type" in r]
    levels = [r["level"] for r in records(messages)]
    assert levels == ["ERROR", "ERROR", "ERROR"], messages
    unhandled = records(messages)[-1]
    assert (unhandled["errorType"], unhandled["errorMessage"], unhandled["requestId"]) == ("ValueError", "bad input", "req-quiet")
    assert "plain print" not in "".join(messages) and "careful" not in "".join(messages)

    chatty = make_spec("python3.12", "app.handler", {"app.py": PYTHON_LOGGING}, log_format="JSON",
                       application_log_level="TRACE", system_log_level="DEBUG")
    result, messages = await run(runtimes, sink, chatty, {"raise": "x"}, "req-chatty")
    assert [r["type"] for r in records(messages) if "type" in r] == ["platform.start", "platform.runtimeDone", "platform.report"]
    done = of_type(messages, "platform.runtimeDone")[0]["record"]
    assert (done["status"], done["errorType"]) == ("error", "ValueError")
    assert set(done["metrics"]) == {"durationMs", "producedBytes"} and done["metrics"]["producedBytes"] == len(result.payload)
    report = of_type(messages, "platform.report")[0]["record"]
    assert (report["status"], report["errorType"]) == ("error", "ValueError")
    # TRACE reaches Python as DEBUG: the debug record is kept, and so is the JSON debug print.
    assert [r for r in records(messages) if r.get("message") == "debug detail"][0]["level"] == "DEBUG"
    assert [m for m in messages if "json debug print" in m]


async def test_timeout_and_init_failure_records(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": PYTHON_LOGGING}, log_format="JSON", timeout_s=1)
    result, messages = await run(runtimes, sink, spec, {"sleep": 5}, "req-slow")
    assert result.error_type == "Sandbox.Timedout"
    report = of_type(messages, "platform.report")[0]["record"]
    assert (report["status"], report["errorType"]) == ("timeout", "Sandbox.Timedout")
    assert not [m for m in messages if "Task timed out" in m]  # the text line; JSON says it in the report

    broken = make_spec("python3.12", "app.handler", {"app.py": "import not_a_module\n"}, log_format="JSON")
    result, messages = await run(runtimes, sink, broken, {}, "req-broken")
    assert result.error_type == "Runtime.ImportModuleError"
    init = of_type(messages, "platform.initReport")[0]["record"]
    assert init["initializationType"] == "on-demand" and init["phase"] == "init"
    # Lambda retried the init inside the invocation, and that failed too.
    assert [r["record"]["phase"] for r in of_type(messages, "platform.initReport")] == ["init", "invoke"]
    assert (init["status"], init["errorType"]) == ("error", "Runtime.ImportModuleError") and "durationMs" in init["metrics"]
    logged = [r for r in records(messages) if r.get("errorType") == "Runtime.ImportModuleError" and "type" not in r]
    assert logged and logged[0]["level"] == "ERROR"


async def test_text_format_is_unchanged_by_levels_of_a_json_function(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": PYTHON_LOGGING})
    _, messages = await run(runtimes, sink, spec, {}, "req-text")
    assert messages[0] == "START RequestId: req-text Version: $LATEST\n"
    assert messages[-2] == "END RequestId: req-text\n" and messages[-1].startswith("REPORT RequestId: req-text\t")
    assert any(re.fullmatch(r"\[WARNING\]\t\S+\treq-text\tcareful\n", m) for m in messages)
    assert "json debug print" in "".join(messages)  # no filtering in Text


@needs_node
async def test_node_json_console(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    spec = make_spec("nodejs20.x", "index.handler", {"index.js": textwrap.dedent("""
        exports.handler = async (event) => {
          console.debug("node debug");
          console.log("node info", 42);
          console.warn({ shape: "object" });
          console.error("failed:", new TypeError("wrong type"));
          if (event.raise) throw new RangeError("out of range");
          return "ok";
        };
    """)}, log_format="JSON", application_log_level="INFO")
    result, messages = await run(runtimes, sink, spec, {"raise": True}, "req-node")
    assert result.function_error == "Unhandled"
    app = [r for r in records(messages) if "type" not in r]
    assert "node debug" not in "".join(messages)
    info = app[0]
    assert TIMESTAMP.fullmatch(info.pop("timestamp"))
    assert info == {"level": "INFO", "requestId": "req-node", "message": "node info 42"}
    assert app[1]["level"] == "WARN" and app[1]["message"] == {"shape": "object"}
    failed = app[2]
    assert failed["level"] == "ERROR" and failed["errorType"] == "TypeError" and failed["errorMessage"] == "wrong type"
    assert failed["message"].startswith("failed: TypeError: wrong type")
    unhandled = app[3]
    assert unhandled["level"] == "ERROR" and unhandled["message"]["errorType"] == "RangeError"
    assert unhandled["message"]["errorMessage"] == "out of range"
    assert of_type(messages, "platform.report")[0]["record"]["status"] == "error"
