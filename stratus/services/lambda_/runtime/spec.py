"""What the Lambda provider hands the runtime for one invocation, and what it gets back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function version as its environments see it. Environments are pooled per ``pool_key``."""

    function_arn: str  # qualified with the version, e.g. arn:aws:lambda:us-east-1:000000000000:function:f:3
    function_name: str
    version: str  # "$LATEST" or "1", "2", ...
    account: str
    region: str
    runtime: str  # "python3.12", "nodejs20.x", "provided.al2023", ...
    handler: str
    code_dir: Path  # the extracted deployment package (read-only for the environment)
    layer_dirs: tuple[Path, ...] = ()  # extracted layers, in order, merged under /opt
    environment: dict[str, str] = field(default_factory=dict)  # the function's own variables
    memory_mb: int = 128
    timeout_s: int = 3
    ephemeral_storage_mb: int = 512
    architecture: str = "x86_64"
    role_arn: str = ""
    log_group: str = ""
    # LoggingConfig: "Text" or "JSON"; the levels apply to JSON only (log_format.py).
    log_format: str = "Text"
    application_log_level: str = "INFO"  # TRACE, DEBUG, INFO, WARN, ERROR, FATAL
    system_log_level: str = "INFO"  # DEBUG, INFO, WARN
    # Identifies the code and configuration: a change makes new environments.
    revision: str = ""

    @property
    def pool_key(self) -> tuple[str, str]:
        return (self.function_arn, self.revision)


@dataclass(slots=True)
class InvokeResult:
    payload: bytes  # the response, or the error document for a function error
    function_error: str | None = None  # None, "Unhandled" (or "Handled" for old runtimes)
    log_tail: str = ""  # the invocation's log output (the provider keeps the last 4 KB for LogType Tail)
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    max_memory_used_mb: int = 0
    init_duration_ms: float | None = None  # set on a cold start
    # Why the platform, not the function, failed (e.g. "Runtime.ExitError"); None when it ran.
    error_type: str | None = None


# Receives an environment's log events, in order, for CloudWatch Logs: (spec, log stream
# name "YYYY/MM/DD/[<version>]<32 hex>", [(timestamp ms, message), ...]).
LogSink = Callable[[FunctionSpec, str, list[tuple[int, str]]], Awaitable[None]]


class ConcurrencyLimitExceeded(Exception):
    """The account's concurrency is in use: the provider answers TooManyRequestsException."""

    reason = "ConcurrentInvocationLimitExceeded"
