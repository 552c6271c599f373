"""One execution environment: one process, its Runtime API, its output and its memory.

The environment starts the process (init), hands it one invocation at a time through its
Runtime API, and watches it: the deadline (timeout), the resident memory of its process
tree (its peak, read from /proc; over the memory size kills it, as Lambda's cgroup does), and its
exit. It turns what happened into AWS's answer and AWS's log lines (START / END / REPORT).
An environment that timed out, ran out of memory or exited is dead and never reused.

The Init phase has its own limit (``INIT_LIMIT_S``); the function's timeout limits the Invoke
phase only. An init that fails or runs out of time is tried once more inside the first
invocation, within its timeout (the "suppressed init" of the developer guide's "Understanding
the Lambda execution environment lifecycle"): the same environment, with a new process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import shutil
import signal
import struct
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from stratus.services.lambda_.runtime import launch
from stratus.services.lambda_.runtime.api import Invocation, RuntimeApi
from stratus.services.lambda_.runtime.log_format import LogFormat
from stratus.services.lambda_.runtime.spec import FunctionSpec, InvokeResult

log = logging.getLogger("stratus.lambda.runtime")

INIT_LIMIT_S = 10.0  # Lambda's limit on the init phase of an on-demand environment
# Provisioned concurrency: "130 seconds or the configured function timeout (maximum 900 seconds),
# whichever is higher".
PROVISIONED_INIT_LIMIT_S = 130.0
MEMORY_SAMPLE_S = 0.02
MIB = 1024 * 1024
FRAME = struct.Struct(">IIq")  # the telemetry log fd framing: type, length, timestamp (µs)

LogEvent = tuple[int, str]  # (timestamp ms, message)

# How Lambda (in Go) words a process's end.
_SIGNAL_WORDS = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault",
                 signal.SIGABRT: "aborted", signal.SIGBUS: "bus error", signal.SIGINT: "interrupt"}


def exit_reason(returncode: int) -> str:
    if returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        sig = signal.Signals(-returncode)
        return f"Runtime exited with error: signal: {_SIGNAL_WORDS.get(sig, sig.name)}"
    return f"Runtime exited with error: exit status {returncode}"


def tree_peak_rss(pid: int) -> int:
    """Peak resident bytes of ``pid`` and its descendants (children of each main thread).

    Each process's high-water mark (``VmHWM``) is kept by the kernel, so a spike between
    two samples still counts, as it would against Lambda's cgroup. Summing the peaks of
    several processes can overstate a tree whose members peaked at different moments.
    """
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        total += int(line.split()[1]) * 1024
                        break
            with open(f"/proc/{current}/task/{current}/children", "rb") as f:
                pending.extend(int(child) for child in f.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass(slots=True)
class Failure:
    """Why the platform ended an init or an invocation: AWS's error type and message."""

    error_type: str
    message: str  # without the "RequestId: ... Error: " prefix
    status: str = "error"  # the REPORT line's Status: "error" or "timeout"
    document: bytes | None = None  # the runtime's own error document (init errors)

    def payload(self, request_id: str) -> bytes:
        if self.document is not None:
            return self.document
        return json.dumps({"errorType": self.error_type, "errorMessage": f"RequestId: {request_id} Error: {self.message}"}).encode()


class Environment:
    def __init__(
        self,
        spec: FunctionSpec,
        *,
        root: Path,
        opt_dir: Path,
        sdk_dir: Path | None,
        pycache_dir: Path,
        endpoint: str,
        credentials: dict[str, str],
        now_ms: Callable[[], int],
        provisioned: bool = False,
    ) -> None:
        self.spec = spec
        self.id = uuid.uuid4().hex
        self.stream_name = f"{datetime.now(timezone.utc):%Y/%m/%d}/[{spec.version}]{self.id}"
        self.dir = root / self.id
        self.tmp_dir = self.dir / "tmp"
        self._opt_dir = opt_dir
        self._sdk_dir = sdk_dir
        self._pycache_dir = pycache_dir
        self._endpoint = endpoint
        self.credentials = credentials
        self._now_ms = now_ms
        self.provisioned = provisioned
        self.process: subprocess.Popen[bytes] | None = None
        self.api: RuntimeApi | None = None
        self.dead = False
        self.last_used = 0.0
        self.init_duration_ms: float | None = None
        self.report_init = True  # the next invocation reports the init duration (on-demand cold start)
        self.log_format = LogFormat(spec)
        self._events: list[LogEvent] = []
        self._partial: dict[int, bytes] = {}
        self._fds: dict[int, Callable[[int], None]] = {}  # pipe -> its reader
        self._last_ms = 0  # the timestamp of the last log event
        self._exited: asyncio.Future[int] | None = None
        self._oom = False
        # The tree's peak so far: each process's VmHWM only grows, so it holds across invocations
        # (as the peak of Lambda's cgroup does) and the last reading stands when the process is gone.
        self._max_rss = 0
        self._limit = spec.memory_mb * MIB
        self._sampler: asyncio.TimerHandle | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    # Init

    async def init(self, limit_s: float, *, phase: str = "init") -> Failure | None:
        """Start the process and wait (``limit_s`` at most) for its runtime to ask for the first invocation.

        ``phase`` is "init", or "invoke" for the retry of a failed init inside an invocation: the
        process before is ended first, and the environment's /tmp is kept (Lambda does not clear it).
        A failure is logged as an INIT_REPORT of that phase, as Lambda does.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.process is not None or self.api is not None:
            await self._end_process()
        self.dead = self._oom = False
        self._max_rss = 0
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.api = RuntimeApi()
        port = await self.api.start()
        read_fd, write_fd = os.pipe()
        plan = launch.build(
            self.spec, runtime_api=f"127.0.0.1:{port}", endpoint=self._endpoint, credentials=self.credentials,
            stream_name=self.stream_name, opt_dir=self._opt_dir, tmp_dir=self.tmp_dir, sdk=self._sdk_dir,
            pycache=self._pycache_dir, telemetry_fd=write_fd, provisioned=self.provisioned,
        )
        for warning in plan.warnings:
            self._events.append((self._log_time(), f"WARNING: {warning}\n"))
        failure: Failure | None = None
        if plan.entrypoint_error is not None:
            os.close(read_fd)
            os.close(write_fd)
            failure = Failure(*plan.entrypoint_error)
        else:
            try:
                self.process = subprocess.Popen(
                    plan.argv, env=plan.env, cwd=plan.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True,
                )
            except OSError as e:
                os.close(read_fd)
                failure = Failure("Runtime.InvalidEntrypoint", f"fork/exec {plan.argv[0]}: {e.strerror}")
            finally:
                os.close(write_fd)
        if failure is None:
            assert self.process is not None
            self._watch_output(self._take_fd(self.process, "stdout"), self._on_lines)
            self._watch_output(self._take_fd(self.process, "stderr"), self._on_lines)
            self._watch_output(read_fd, self._on_frames)
            self._watch_exit()
            self._start_sampling()
            try:
                outcome = await self._first(self.api.ready, self.api.init_error, timeout=started + limit_s - loop.time())
            finally:
                self._stop_sampling()
            if outcome is self.api.ready:
                self.init_duration_ms = (loop.time() - started) * 1000
                return None
            failure = self._failure_after(outcome, self.api.init_error, timeout_s=limit_s)
            self.kill()
            self._drain()
        self.dead = True
        self.init_duration_ms = (loop.time() - started) * 1000
        self._platform(lambda ms: self.log_format.init_report(
            ms, duration_ms=self.init_duration_ms or 0.0, phase=phase, status=failure.status,
            error_type=failure.error_type, provisioned=self.provisioned,
        ), self._events)
        return failure

    def _failure_after(self, outcome: asyncio.Future | None, error: asyncio.Future | None, *, timeout_s: float) -> Failure:
        """What went wrong when the awaited answer did not come: error, memory, exit or time."""
        if outcome is not None and outcome is error:
            body, error_type = error.result()
            return Failure(error_type, "", document=body)
        if self._oom:
            return Failure("Runtime.OutOfMemory", "Runtime exited with error: signal: killed")
        if outcome is self._exited:
            return Failure("Runtime.ExitError", exit_reason(self._exited.result()))
        return Failure("Sandbox.Timedout", f"Task timed out after {timeout_s:.2f} seconds", status="timeout")

    async def _first(self, *futures: asyncio.Future, timeout: float) -> asyncio.Future | None:
        """The first of ``futures`` (or the process's exit) to complete, None on timeout."""
        assert self._exited is not None
        watched = {*futures, self._exited}
        for future in watched:
            if future.done():
                return future
        done, _ = await asyncio.wait(watched, timeout=max(timeout, 0), return_when=asyncio.FIRST_COMPLETED)
        for future in (*futures, self._exited):
            if future in done:
                return future
        return None

    # Invocation

    async def invoke(self, invocation: Invocation, *, started: float, deadline: float) -> tuple[InvokeResult, list[LogEvent]]:
        """Run one invocation on a ready environment. ``started`` (a loop time) is the start of its
        Invoke phase, ``deadline`` its end: ``started`` + the function's timeout."""
        assert self.api is not None and self.process is not None
        loop = asyncio.get_running_loop()
        request_id = invocation.request_id
        events = self.take_events()
        self._platform(lambda ms: self.log_format.start(ms, request_id), events)
        self._start_sampling()
        self.api.offer(invocation)
        try:
            outcome = await self._first(invocation.answer, timeout=deadline - loop.time())
        finally:
            self._stop_sampling()
        finished = loop.time()
        if not self._oom and outcome is not self._exited:
            self._sample_once()
        result = InvokeResult(payload=b"")
        failure: Failure | None = None
        reported_type: str | None = None  # the error type the runtime reported for the function
        if outcome is invocation.answer:
            kind, body, error_type = invocation.answer.result()
            result.payload = body
            if kind == "error":
                result.function_error = "Unhandled"
                reported_type = error_type
                if error_type == "Function.ResponseSizeTooLarge":
                    result.error_type = error_type
        else:
            if outcome is None:
                finished = max(finished, deadline)  # the wait may end a hair before the deadline it was given
            failure = self._failure_after(outcome, None, timeout_s=finished - started)
            self.kill()
            result.payload = failure.payload(request_id)
            result.function_error = "Unhandled"
            result.error_type = failure.error_type
        self._drain()
        events.extend(self.take_events())
        if failure is not None and failure.status == "timeout":
            self._platform(lambda _ms: self.log_format.timed_out(request_id, finished - started), events)
        init_ms = self.init_duration_ms if self.report_init else None
        self.report_init = False
        self._finish(result, events, request_id, duration_ms=(finished - started) * 1000, init_ms=init_ms, failure=failure,
                     reported_type=reported_type)
        self.last_used = finished
        return result, events

    def fail_init(self, failure: Failure, request_id: str, *, started: float) -> tuple[InvokeResult, list[LogEvent]]:
        """The answer to an invocation whose environment could not start; ``started`` is the loop
        time its Invoke phase began (the retried init is part of it)."""
        duration_ms = (asyncio.get_running_loop().time() - started) * 1000
        events = self.take_events()
        self._platform(lambda ms: self.log_format.start(ms, request_id), events)
        result = InvokeResult(payload=failure.payload(request_id), function_error="Unhandled", error_type=failure.error_type)
        self._finish(result, events, request_id, duration_ms=duration_ms, init_ms=None, failure=failure)
        return result, events

    def _finish(self, result: InvokeResult, events: list[LogEvent], request_id: str, *, duration_ms: float,
                init_ms: float | None, failure: Failure | None, reported_type: str | None = None) -> None:
        memory_mb = self.spec.memory_mb if self._oom else max(1, math.ceil(self._max_rss / MIB))
        # Since August 2025 Lambda bills the init phase of on-demand environments too.
        billed = math.ceil(duration_ms + (init_ms or 0.0))
        if failure is not None:
            status, error_type = failure.status, failure.error_type
        else:
            status, error_type = ("error", reported_type) if result.function_error else ("success", None)
        fmt = self.log_format
        self._platform(lambda ms: fmt.end(ms, request_id, status=status, error_type=error_type, duration_ms=duration_ms,
                                          produced_bytes=len(result.payload)), events)
        self._platform(lambda ms: fmt.report(
            ms, request_id, duration_ms=duration_ms, billed_ms=billed, max_memory_mb=memory_mb, init_ms=init_ms,
            status=status, error_type=error_type, platform_failed=failure is not None,
        ), events)
        result.log_tail = "".join(message for _, message in events)
        result.duration_ms = duration_ms
        result.billed_duration_ms = billed
        result.max_memory_used_mb = memory_mb
        result.init_duration_ms = init_ms

    # Process watching

    @staticmethod
    def _take_fd(process: subprocess.Popen[bytes], name: str) -> int:
        """Own the pipe's descriptor outright: the environment reads and closes it itself."""
        stream = getattr(process, name)
        fd = os.dup(stream.fileno())
        stream.close()
        setattr(process, name, None)
        return fd

    def _watch_output(self, fd: int, handler: Callable[[int], None]) -> None:
        os.set_blocking(fd, False)
        self._fds[fd] = handler
        self._partial[fd] = b""
        asyncio.get_running_loop().add_reader(fd, handler, fd)

    def _read(self, fd: int) -> bytes | None:
        """What is in the pipe now; None at its end (the reader is then removed)."""
        chunks = []
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return b"".join(chunks)
            except OSError:
                data = b""
            if not data:
                self._close_fd(fd)
                return b"".join(chunks) if chunks else None
            chunks.append(data)

    def _on_lines(self, fd: int) -> None:
        partial = self._partial.get(fd, b"")
        data = self._read(fd)
        buffered = partial + (data or b"")
        lines = buffered.split(b"\n")
        rest = lines.pop()
        if data is None and rest:
            lines.append(rest)
            rest = b""
        if fd in self._partial:
            self._partial[fd] = rest
        now = self._log_time()
        keeps = self.log_format.keeps
        for line in lines:
            text = line.decode("utf-8", "replace") + "\n"
            if keeps(text):
                self._events.append((now, text))

    def _on_frames(self, fd: int) -> None:
        buffered = self._partial.get(fd, b"") + (self._read(fd) or b"")
        skew = self._now_ms() - int(time.time() * 1000)  # frames carry real time; events carry the log clock
        offset = 0
        while len(buffered) - offset >= FRAME.size:
            _, length, micros = FRAME.unpack_from(buffered, offset)
            end = offset + FRAME.size + length
            if end > len(buffered):
                break
            text = buffered[offset + FRAME.size:end].decode("utf-8", "replace")
            if self.log_format.keeps(text):
                self._events.append((self._log_time(micros // 1000 + skew), text))
            offset = end
        if fd in self._partial:
            self._partial[fd] = buffered[offset:]

    def _drain(self) -> None:
        """Read what the process wrote before answering: its output precedes END."""
        for fd, reader in list(self._fds.items()):
            reader(fd)

    def _close_fd(self, fd: int) -> None:
        if self._fds.pop(fd, None) is not None:
            asyncio.get_running_loop().remove_reader(fd)
            self._partial.pop(fd, None)
            try:
                os.close(fd)
            except OSError:
                pass

    def _platform(self, line: Callable[[int], str | None], events: list[LogEvent]) -> None:
        """Add a platform line (made for the current log time) unless its level is filtered out."""
        now = self._log_time()
        message = line(now)
        if message is not None:
            events.append((now, message))

    def _log_time(self, ms: int | None = None) -> int:
        """The timestamp of the next log event: ``ms`` (now by default), but never before the one
        before it. Pipe output is stamped when read and framed records when written, so a record
        can carry a time a moment before a line written ahead of it; CloudWatch Logs takes a
        batch's events in time order."""
        if ms is None:
            ms = self._now_ms()
        if ms < self._last_ms:
            ms = self._last_ms
        self._last_ms = ms
        return ms

    def take_events(self) -> list[LogEvent]:
        """The log events written since the last take (e.g. a provisioned environment's init output)."""
        events, self._events = self._events, []
        return events

    def _watch_exit(self) -> None:
        assert self.process is not None
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[int] = loop.create_future()
        self._exited = exited
        process = self.process
        try:
            pidfd = os.pidfd_open(process.pid)
        except (AttributeError, OSError):
            loop.create_task(self._poll_exit(process, exited))
            return

        def on_exit() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            if not exited.done():
                exited.set_result(process.wait())
            if self.process is process:
                self.dead = True

        loop.add_reader(pidfd, on_exit)

    async def _poll_exit(self, process: subprocess.Popen[bytes], exited: asyncio.Future[int]) -> None:
        while (code := process.poll()) is None:
            await asyncio.sleep(0.05)
        if self.process is process:
            self.dead = True
        if not exited.done():
            exited.set_result(code)

    def _sample_once(self) -> None:
        if self.process is None or self.dead:
            return
        rss = tree_peak_rss(self.process.pid)
        self._max_rss = max(self._max_rss, rss)
        if rss > self._limit and not self._oom:
            self._oom = True
            self.kill()

    def _start_sampling(self) -> None:
        """Read the tree's memory every ``MEMORY_SAMPLE_S`` from now on (not now: the peak it
        reads only grows, so a read at the start tells nothing a later one does not)."""
        self._sampler = asyncio.get_running_loop().call_later(MEMORY_SAMPLE_S, self._sample_tick)

    def _sample_tick(self) -> None:
        self._sample_once()
        if not self.dead:
            self._start_sampling()
        else:
            self._sampler = None

    def _stop_sampling(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None

    # End of life

    def kill(self) -> None:
        """Kill the process and everything it started (its own session)."""
        self.dead = True
        if self.process is not None and self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    async def _end_process(self) -> None:
        """Kill the process, wait for it and read the last of its output; close the Runtime API."""
        self.kill()
        self._stop_sampling()
        if self._exited is not None and not self._exited.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._exited), 5)
            except asyncio.TimeoutError:
                log.warning("environment %s: process %s did not exit after SIGKILL", self.id, self.pid)
        self._drain()
        for fd in list(self._fds):
            self._close_fd(fd)
        if self.api is not None:
            self.api.close()

    async def destroy(self) -> list[LogEvent]:
        """Kill, release everything and answer the log events not yet delivered."""
        await self._end_process()
        await asyncio.to_thread(shutil.rmtree, self.dir, True)
        return self.take_events()
