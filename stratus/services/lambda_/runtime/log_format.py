"""How an environment's log events look: AWS's plain text, or JSON with level filtering.

``LoggingConfig`` decides (developer guide, "Configuring JSON and plain text log formats" and
"Log-level filtering"):

- ``Text``: the platform writes ``START`` / ``END`` / ``REPORT`` lines and keeps everything the
  function writes.
- ``JSON``: the platform writes Telemetry-API-shaped records instead (``platform.start``,
  ``platform.runtimeDone``, ``platform.report``, ``platform.initReport``), each at its level, and
  sends only those at ``SystemLogLevel`` or less detailed (``platform.runtimeDone`` is DEBUG,
  the others INFO). The function's output is kept when its level is ``ApplicationLogLevel`` or
  less detailed: a line that is a JSON object takes the level of its ``"level"`` key; anything
  else, or a level Lambda does not know, counts as INFO.

Record timestamps follow the environment's log clock (the stratus clock).
"""

from __future__ import annotations

import json
import time
from typing import Any

from stratus.services.lambda_.runtime.spec import FunctionSpec

APPLICATION_LEVELS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "ERROR": 4, "FATAL": 5}
SYSTEM_LEVELS = {"DEBUG": 1, "INFO": 2, "WARN": 3}
# Level names runtimes write that Lambda reads as its own (Python's logging names).
_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def iso_ms(ms: int) -> str:
    """``2024-01-01T00:00:00.000Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def application_level(message: str) -> int:
    """The level Lambda gives one line of the function's output (INFO unless it says otherwise)."""
    text = message.strip()
    if text.startswith("{") and '"level"' in text:
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("level"), str):
            name = record["level"].upper()
            return APPLICATION_LEVELS.get(_ALIASES.get(name, name), APPLICATION_LEVELS["INFO"])
    return APPLICATION_LEVELS["INFO"]


class LogFormat:
    """One function version's log format and levels (from its ``FunctionSpec``)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.json = spec.log_format.upper() == "JSON"
        self._arn = ":".join(spec.function_arn.split(":")[:7])  # unqualified
        self._version = spec.version
        self._memory_mb = spec.memory_mb
        self._application = APPLICATION_LEVELS.get(spec.application_log_level.upper(), APPLICATION_LEVELS["INFO"])
        self._system = SYSTEM_LEVELS.get(spec.system_log_level.upper(), SYSTEM_LEVELS["INFO"])

    # The function's output

    def keeps(self, message: str) -> bool:
        """Whether a line the function wrote reaches the log."""
        if not self.json or self._application == APPLICATION_LEVELS["TRACE"]:
            return True
        return application_level(message) >= self._application

    # The platform's lines: each answers the message to log, or None when its level is filtered out

    def _record(self, ms: int, kind: str, level: str, record: dict[str, Any]) -> str | None:
        if SYSTEM_LEVELS[level] < self._system:
            return None
        return json.dumps({"time": iso_ms(ms), "type": kind, "record": record}, separators=(",", ":")) + "\n"

    def start(self, ms: int, request_id: str) -> str | None:
        if not self.json:
            return f"START RequestId: {request_id} Version: {self._version}\n"
        return self._record(ms, "platform.start", "INFO", {"requestId": request_id, "functionArn": self._arn, "version": self._version})

    def end(self, ms: int, request_id: str, *, status: str, error_type: str | None, duration_ms: float,
            produced_bytes: int) -> str | None:
        if not self.json:
            return f"END RequestId: {request_id}\n"
        record: dict[str, Any] = {"requestId": request_id, "status": status}
        if error_type:
            record["errorType"] = error_type
        record["metrics"] = {"durationMs": round(duration_ms, 3), "producedBytes": produced_bytes}
        return self._record(ms, "platform.runtimeDone", "DEBUG", record)

    def report(self, ms: int, request_id: str, *, duration_ms: float, billed_ms: int, max_memory_mb: int,
               init_ms: float | None, status: str, error_type: str | None, platform_failed: bool) -> str | None:
        """``status``: success, error (the function's or the platform's), timeout; ``platform_failed``
        when the platform ended it (the text REPORT names the status only then)."""
        if not self.json:
            line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
                    f"Memory Size: {self._memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t")
            if init_ms is not None:
                line += f"Init Duration: {init_ms:.2f} ms\t"
            if platform_failed:
                line += f"Status: {status}\t"
                if status == "error":
                    line += f"Error Type: {error_type}\t"
            return line + "\n"
        metrics: dict[str, Any] = {"durationMs": round(duration_ms, 3), "billedDurationMs": billed_ms,
                                   "memorySizeMB": self._memory_mb, "maxMemoryUsedMB": max_memory_mb}
        if init_ms is not None:
            metrics["initDurationMs"] = round(init_ms, 3)
        record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status}
        if error_type:
            record["errorType"] = error_type
        return self._record(ms, "platform.report", "INFO", record)

    def init_report(self, ms: int, *, duration_ms: float, status: str, error_type: str | None, provisioned: bool,
                    phase: str = "init") -> str | None:
        """A failed init: ``phase`` "init", or "invoke" when it was the retry inside an invocation."""
        if not self.json:
            return (f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
                    + (f"\tError Type: {error_type}" if status == "error" and error_type else "") + "\n")
        record: dict[str, Any] = {
            "initializationType": "provisioned-concurrency" if provisioned else "on-demand",
            "phase": phase,
            "status": status,
        }
        if error_type and status == "error":
            record["errorType"] = error_type
        record["metrics"] = {"durationMs": round(duration_ms, 3)}
        return self._record(ms, "platform.initReport", "INFO", record)

    def timed_out(self, request_id: str, seconds: float) -> str | None:
        """The text log's timeout line; in JSON the report's ``"status": "timeout"`` says it."""
        if self.json:
            return None
        return f"{iso_ms(int(time.time() * 1000))} {request_id} Task timed out after {seconds:.2f} seconds\n"

