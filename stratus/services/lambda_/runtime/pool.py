"""``Runtimes``: the execution environments of every function version on this node.

Environments are pooled per ``FunctionSpec.pool_key`` (function version + revision). Each
runs one invocation at a time; a free one is reused warm (the most recently used first, so
the others go idle and get reaped), and a new one starts when none is free (scale-out).
Idle environments are reaped after ``idle_timeout_s``, except the provisioned ones; an
environment that timed out, ran out of memory or crashed is replaced by the next cold start.

Times here are real: the function really runs. Log timestamps follow ``now_ms`` (give it
the stratus clock so logs line up with the rest of stratus).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratus.services.lambda_.runtime import launch
from stratus.services.lambda_.runtime.api import Invocation
from stratus.services.lambda_.runtime.environment import INIT_LIMIT_S, PROVISIONED_INIT_LIMIT_S, Environment, LogEvent
from stratus.services.lambda_.runtime.spec import ConcurrencyLimitExceeded, FunctionSpec, InvokeResult, LogSink

log = logging.getLogger("stratus.lambda.runtime")

# Log events are gathered for this long after the first one, then handed to the log sink one
# batch per stream: under load, one CloudWatch Logs write covers many invocations instead of
# one each (CloudWatch Logs shows a function's output seconds later on AWS, too).
LOG_BATCH_S = 0.02
# A gathered batch stays well within PutLogEvents' limits (10,000 events, 1 MiB of UTF-8).
_LOG_BATCH_EVENTS = 1000
_LOG_BATCH_CHARS = 200 * 1024


def _real_now_ms() -> int:
    return int(time.time() * 1000)


def unqualified(function_arn: str) -> str:
    """arn:aws:lambda:<region>:<account>:function:<name>, without a version or alias."""
    return ":".join(function_arn.split(":")[:7])


def new_trace_header() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


@dataclass(eq=False, slots=True)
class _Pool:
    spec: FunctionSpec
    opt_dir: Path
    idle: list[Environment] = field(default_factory=list)  # LIFO: the warmest at the end
    busy: set[Environment] = field(default_factory=set)
    provisioned: int = 0
    discarded: bool = False

    @property
    def size(self) -> int:
        return len(self.idle) + len(self.busy)


def _coalesce(batches: list[tuple[FunctionSpec, str, list[LogEvent]]]) -> list[tuple[FunctionSpec, str, list[LogEvent]]]:
    """The batches merged per log stream (within the batch limits), each stream's events in the order emitted."""
    merged: list[tuple[FunctionSpec, str, list[LogEvent]]] = []
    sizes: list[int] = []  # characters of each merged batch
    open_batch: dict[tuple[str, str, str, str], int] = {}  # stream -> index of its last merged batch
    for spec, stream, events in batches:
        key = (spec.account, spec.region, spec.log_group, stream)
        size = sum(len(message) for _, message in events)
        i = open_batch.get(key)
        if i is not None and len(merged[i][2]) + len(events) <= _LOG_BATCH_EVENTS and sizes[i] + size <= _LOG_BATCH_CHARS:
            merged[i][2].extend(events)
            sizes[i] += size
            continue
        open_batch[key] = len(merged)
        merged.append((spec, stream, list(events)))
        sizes.append(size)
    return merged


class Runtimes:
    """Starts, reuses, scales, reaps and replaces execution environments."""

    def __init__(
        self,
        *,
        endpoint: str,
        log_sink: LogSink,
        account_concurrency: int = 1000,
        idle_timeout_s: float = 300.0,
        work_dir: Path | None = None,
        now_ms: Callable[[], int] = _real_now_ms,
        log_batch_s: float = LOG_BATCH_S,
    ) -> None:
        self.endpoint = endpoint
        self.log_batch_s = log_batch_s
        self.account_concurrency = account_concurrency
        self.idle_timeout_s = idle_timeout_s
        self._log_sink = log_sink
        self._now_ms = now_ms
        self._own_dir = work_dir is None
        self._work_dir = work_dir
        self._pools: dict[tuple[str, str], _Pool] = {}
        self._creating: dict[tuple[str, str], asyncio.Task[_Pool]] = {}
        self._sdk: asyncio.Task[Path | None] | None = None
        self._in_flight: Counter[str] = Counter()  # by unqualified function ARN
        self._in_flight_total = 0
        self._logs: asyncio.Queue[tuple[FunctionSpec, str, list[LogEvent]]] = asyncio.Queue()
        self._background: set[asyncio.Task[None]] = set()
        self._deliverer: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def work_dir(self) -> Path:
        """Where environments, merged layers and caches live; a temporary folder unless given."""
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="stratus-lambda-"))
        return self._work_dir

    # The provider's calls

    async def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str,
        credentials: dict[str, str],
        client_context: str | None = None,
        trace_header: str | None = None,
        invoked_function_arn: str | None = None,
        cognito_identity: str | None = None,
    ) -> InvokeResult:
        """Run one invocation and answer what Lambda answers (function errors included).

        ``client_context`` is the decoded JSON text of Invoke's ``ClientContext``;
        ``invoked_function_arn`` the ARN the caller used (an alias ARN, say), by default
        ``spec.function_arn``. Raises ``ConcurrencyLimitExceeded`` when the account's
        concurrency is all in use.
        """
        if self._closed:
            raise RuntimeError("Runtimes is closed")
        if self._in_flight_total >= self.account_concurrency:
            raise ConcurrencyLimitExceeded(f"Rate Exceeded. Account concurrency {self.account_concurrency} in use.")
        loop = asyncio.get_running_loop()
        function = unqualified(spec.function_arn)
        self._in_flight[function] += 1
        self._in_flight_total += 1
        self._start_background()
        env: Environment | None = None
        pool: _Pool | None = None
        try:
            pool = await self._pool(spec)
            env = self._take_idle(pool, credentials)
            if env is None:
                env = self._environment(pool, credentials, provisioned=False)
                pool.busy.add(env)
                # The Init phase has its own limit; the function's timeout starts with the Invoke phase.
                failure = await env.init(INIT_LIMIT_S)
                started = loop.time()
                if failure is not None:
                    # Lambda tries the init again inside the invocation, within its timeout ("suppressed init").
                    failure = await env.init(spec.timeout_s, phase="invoke")
                    if failure is not None:
                        result, events = env.fail_init(failure, request_id, started=started)
                        self._emit(spec, env.stream_name, events)
                        return result
                    env.report_init = False  # the init was part of the invocation: its Duration counts it
            else:
                pool.busy.add(env)
                started = loop.time()
            deadline = started + spec.timeout_s
            invocation = Invocation(
                request_id=request_id,
                payload=payload,
                deadline_ms=int((time.time() + deadline - loop.time()) * 1000),
                invoked_function_arn=invoked_function_arn or spec.function_arn,
                trace_id=trace_header or new_trace_header(),
                client_context=client_context,
                cognito_identity=cognito_identity,
            )
            result, events = await env.invoke(invocation, started=started, deadline=deadline)
            self._emit(spec, env.stream_name, events)
            return result
        except BaseException:
            if env is not None:
                env.kill()  # cancelled or broken mid-invocation: the environment cannot be trusted
            raise
        finally:
            self._in_flight[function] -= 1
            self._in_flight_total -= 1
            if self._in_flight[function] <= 0:
                del self._in_flight[function]
            if env is not None and pool is not None:
                self._release(pool, env)

    async def provision(self, spec: FunctionSpec, n: int, *, credentials: dict[str, str]) -> int:
        """Keep ``n`` environments of ``spec`` initialised (provisioned concurrency); answers how many are ready.

        Environments that fail to initialise are reaped; their init output reaches the log sink.
        """
        self._start_background()
        pool = await self._pool(spec)
        pool.provisioned = n
        missing = n - pool.size
        if missing > 0:
            await asyncio.gather(*(self._provision_one(pool, credentials) for _ in range(missing)))
        return pool.size

    def discard(self, function_arn: str) -> None:
        """Forget the environments of a function version (code or configuration changed, or it
        was deleted); an unqualified ARN discards every version. Invocations in flight finish."""
        for key, pool in list(self._pools.items()):
            if key[0] == function_arn or unqualified(key[0]) == function_arn:
                self._drop_pool(key, pool)

    def in_flight(self, function_arn: str | None = None) -> int:
        """Invocations running now, for one function (any qualifier) or the whole account."""
        return self._in_flight_total if function_arn is None else self._in_flight.get(unqualified(function_arn), 0)

    def environment_count(self, function_arn: str | None = None) -> int:
        """Live environments (idle or busy), for one function version or all."""
        return sum(pool.size for key, pool in self._pools.items() if function_arn is None or key[0] == function_arn)

    async def flush_logs(self) -> None:
        """Wait until every log event so far has been handed to the log sink."""
        await self._logs.join()

    async def close(self) -> None:
        """Kill every environment and deliver the last log events."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
        for key, pool in list(self._pools.items()):
            for env in pool.busy:
                env.kill()
            self._drop_pool(key, pool)
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.flush_logs()
        if self._deliverer is not None:
            self._deliverer.cancel()
        if self._own_dir and self._work_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._work_dir, True)

    # Pools and environments

    async def _pool(self, spec: FunctionSpec) -> _Pool:
        key = spec.pool_key
        pool = self._pools.get(key)
        if pool is not None:
            return pool
        creating = self._creating.get(key)
        if creating is None:
            creating = self._creating[key] = asyncio.get_running_loop().create_task(self._create_pool(spec))
        try:
            return await asyncio.shield(creating)
        finally:
            self._creating.pop(key, None)

    async def _create_pool(self, spec: FunctionSpec) -> _Pool:
        # A new revision of a version replaces the old one's environments.
        for key, old in list(self._pools.items()):
            if key[0] == spec.function_arn:
                self._drop_pool(key, old)
        await asyncio.to_thread(launch.resolve, spec.runtime)
        opt_dir = self.work_dir / "opt" / uuid.uuid4().hex
        await asyncio.to_thread(launch.merge_layers, spec.layer_dirs, opt_dir)
        if spec.runtime.startswith("python") and self._sdk is None:
            self._sdk = asyncio.get_running_loop().create_task(asyncio.to_thread(self._make_sdk_dir))
        if self._sdk is not None:
            await self._sdk
        pool = self._pools[spec.pool_key] = _Pool(spec=spec, opt_dir=opt_dir)
        return pool

    def _make_sdk_dir(self) -> Path | None:
        try:
            return launch.sdk_dir(self.work_dir)
        except OSError as e:
            log.warning("cannot expose the AWS SDK for Python to functions: %s", e)
            return None

    def _environment(self, pool: _Pool, credentials: dict[str, str], *, provisioned: bool) -> Environment:
        sdk = self._sdk.result() if self._sdk is not None and self._sdk.done() else None
        return Environment(
            pool.spec, root=self.work_dir / "env", opt_dir=pool.opt_dir, sdk_dir=sdk, pycache_dir=self.work_dir / "pycache", endpoint=self.endpoint,
            credentials=credentials, now_ms=self._now_ms, provisioned=provisioned,
        )

    async def _provision_one(self, pool: _Pool, credentials: dict[str, str]) -> None:
        env = self._environment(pool, credentials, provisioned=True)
        pool.busy.add(env)
        failure = await env.init(max(PROVISIONED_INIT_LIMIT_S, pool.spec.timeout_s))
        env.report_init = False  # provisioned: the init is not part of any invocation
        self._emit(pool.spec, env.stream_name, env.take_events())
        if failure is not None:
            log.warning("provisioned environment of %s failed to initialise: %s", pool.spec.function_arn, failure.error_type)
            env.kill()
        self._release(pool, env)

    def _take_idle(self, pool: _Pool, credentials: dict[str, str]) -> Environment | None:
        """The most recently used live idle environment. Dead ones (crashed while idle) are retired,
        and so are those started with other credentials: a process's environment variables cannot
        change, so the role's renewed credentials reach functions through new environments."""
        while pool.idle:
            env = pool.idle.pop()
            if not env.dead and env.credentials == credentials:
                return env
            self._retire(pool.spec, env)
        return None

    def _release(self, pool: _Pool, env: Environment) -> None:
        pool.busy.discard(env)
        if env.dead or pool.discarded or self._closed:
            self._retire(pool.spec, env)
            if pool.discarded and not pool.busy:
                self._spawn(asyncio.to_thread(shutil.rmtree, pool.opt_dir, True))
        else:
            env.last_used = asyncio.get_running_loop().time()
            pool.idle.append(env)

    def _drop_pool(self, key: tuple[str, str], pool: _Pool) -> None:
        pool.discarded = True
        self._pools.pop(key, None)
        for env in pool.idle:
            self._retire(pool.spec, env)
        pool.idle.clear()
        if not pool.busy:
            self._spawn(asyncio.to_thread(shutil.rmtree, pool.opt_dir, True))

    def _retire(self, spec: FunctionSpec, env: Environment) -> None:
        async def destroy() -> None:
            self._emit(spec, env.stream_name, await env.destroy())

        self._spawn(destroy())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # Background work: log delivery and idle reaping

    def _start_background(self) -> None:
        loop = asyncio.get_running_loop()
        if self._deliverer is None:
            self._deliverer = loop.create_task(self._deliver())
        if self._reaper is None:
            self._reaper = loop.create_task(self._reap())

    def _emit(self, spec: FunctionSpec, stream: str, events: list[LogEvent]) -> None:
        if events:
            self._logs.put_nowait((spec, stream, events))

    async def _deliver(self) -> None:
        while True:
            taken = [await self._logs.get()]
            try:
                if self.log_batch_s > 0:
                    await asyncio.sleep(self.log_batch_s)
                while not self._logs.empty():
                    taken.append(self._logs.get_nowait())
                for spec, stream, events in _coalesce(taken):
                    try:
                        await self._log_sink(spec, stream, events)
                    except Exception:
                        log.exception("log sink failed for %s (%s)", spec.function_arn, stream)
            finally:
                for _ in taken:
                    self._logs.task_done()

    async def _reap(self) -> None:
        interval = min(max(self.idle_timeout_s / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(interval)
            now = asyncio.get_running_loop().time()
            for pool in list(self._pools.values()):
                # Oldest first (the front of the LIFO list); provisioned environments stay.
                while pool.idle and pool.size > pool.provisioned:
                    oldest = pool.idle[0]
                    if not oldest.dead and now - oldest.last_used < self.idle_timeout_s:
                        break
                    pool.idle.pop(0)
                    self._retire(pool.spec, oldest)
                for env in [env for env in pool.idle if env.dead]:
                    pool.idle.remove(env)
                    self._retire(pool.spec, env)
