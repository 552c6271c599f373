"""Python functions in real interpreters: results, the context, the environment, errors, limits."""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
import uuid
from pathlib import Path

import pytest

from stratus.services.lambda_.runtime import launch
from stratus.services.lambda_.runtime import pool as pool_module
from stratus.services.lambda_.runtime.pool import Runtimes
from tests.integration.lambda_runtime.conftest import CREDENTIALS, ENDPOINT, LogSink, MakeSpec
from tests.integration.store.conftest import eventually

pytestmark = pytest.mark.anyio


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip()


async def gone(pid: int) -> None:
    """Wait until process ``pid`` is gone (killed and reaped); the wait times out otherwise."""

    async def ended() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    await eventually(ended)


async def invoke(runtimes: Runtimes, spec, event: object = None, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("request_id", str(uuid.uuid4()))
    return await runtimes.invoke(spec, json.dumps(event if event is not None else {}).encode(), credentials=CREDENTIALS, **kwargs)


ECHO = code("""
    import os, json

    def handler(event, context):
        if event.get("raise"):
            raise ValueError("no good: " + event["raise"])
        if event.get("exit") is not None:
            os._exit(event["exit"])
        if event.get("sleep"):
            import time
            time.sleep(event["sleep"])
        if event.get("allocate_mb"):
            block = bytearray(event["allocate_mb"] * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
        if event.get("big"):
            return "x" * event["big"]
        with open(os.path.join(os.environ["TMPDIR"], "scratch"), "w") as f:
            f.write("ok")
        return {"pid": os.getpid(), "event": event}
""")


async def test_handler_result_context_and_environment(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": code("""
        import os, sys

        def handler(event, context):
            env = {k: os.environ.get(k) for k in (
                "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER", "LAMBDA_TASK_ROOT",
                "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "_X_AMZN_TRACE_ID", "TZ", "MY_SETTING", "TMPDIR",
                "AWS_LAMBDA_RUNTIME_API")}
            return {
                "event": event,
                "env": env,
                "cwd": os.getcwd(),
                "request_id": context.aws_request_id,
                "function_name": context.function_name,
                "function_version": context.function_version,
                "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb,
                "group": context.log_group_name,
                "stream": context.log_stream_name,
                "remaining": context.get_remaining_time_in_millis(),
                "custom": context.client_context.custom,
                "identity": context.identity.cognito_identity_id,
            }
    """)}, memory_mb=256, environment={"MY_SETTING": "on", "AWS_REGION": "eu-west-9"})
    alias_arn = spec.function_arn.rsplit(":", 1)[0] + ":live"
    result = await invoke(
        runtimes, spec, {"hello": "world"}, request_id="req-1", trace_header="Root=1-5f84c7a9-1234567890abcdef12345678;Sampled=1",
        client_context=json.dumps({"custom": {"k": "v"}}), invoked_function_arn=alias_arn,
    )
    assert result.function_error is None
    body = json.loads(result.payload)
    assert body["event"] == {"hello": "world"}
    assert body["request_id"] == "req-1"
    assert body["function_name"] == spec.function_name
    assert body["function_version"] == "$LATEST"
    assert body["arn"] == alias_arn
    assert body["memory"] == "256"
    assert body["group"] == f"/aws/lambda/{spec.function_name}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", body["stream"])
    assert 0 < body["remaining"] <= 3000
    assert body["custom"] == {"k": "v"}
    assert body["identity"] is None
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.function_name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == str(spec.code_dir) == body["cwd"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"  # reserved: the function cannot override it
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]) == ("ASIAFUNCTIONROLE", "secret", "token")
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT
    assert env["_X_AMZN_TRACE_ID"] == "Root=1-5f84c7a9-1234567890abcdef12345678;Sampled=1"
    assert env["TZ"] == ":UTC"
    assert env["MY_SETTING"] == "on"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == body["stream"]
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert Path(env["TMPDIR"]).is_dir() and not env["TMPDIR"].startswith(str(spec.code_dir))


async def test_boto3_inside_the_handler_points_at_stratus(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": code("""
        import boto3

        def handler(event, context):
            return {"endpoint": boto3.client("sqs").meta.endpoint_url, "region": boto3.session.Session().region_name}
    """)})
    result = await invoke(runtimes, spec)
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == {"endpoint": ENDPOINT, "region": "us-east-1"}


async def test_warm_reuse_keeps_the_process(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
    first = await invoke(runtimes, spec, {"n": 1})
    second = await invoke(runtimes, spec, {"n": 2})
    assert json.loads(first.payload)["pid"] == json.loads(second.payload)["pid"]
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert runtimes.environment_count(spec.function_arn) == 1


async def test_handler_exception_answers_the_error_document(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
    before = json.loads((await invoke(runtimes, spec)).payload)["pid"]
    result = await invoke(runtimes, spec, {"raise": "bad input"}, request_id="req-err")
    assert result.function_error == "Unhandled"
    assert result.error_type is None
    error = json.loads(result.payload)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no good: bad input"
    assert error["requestId"] == "req-err"
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]
    assert all(isinstance(line, str) for line in error["stackTrace"])
    assert "app.py" in error["stackTrace"][0] and "in handler" in error["stackTrace"][0]
    assert not any("python_client" in line for line in error["stackTrace"])
    assert "[ERROR] ValueError: no good: bad input\nTraceback (most recent call last):\n" in result.log_tail
    # A handled exception does not cost the environment.
    assert json.loads((await invoke(runtimes, spec)).payload)["pid"] == before


async def test_timeout_kills_and_replaces_the_environment(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO}, timeout_s=2)
    warm = json.loads((await invoke(runtimes, spec)).payload)["pid"]
    result = await invoke(runtimes, spec, {"sleep": 30}, request_id="req-slow")
    assert result.function_error == "Unhandled"
    assert result.error_type == "Sandbox.Timedout"
    error = json.loads(result.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(r"RequestId: req-slow Error: Task timed out after 2\.\d\d seconds", error["errorMessage"])
    assert re.search(r"Z req-slow Task timed out after 2\.\d\d seconds\n", result.log_tail)
    assert "Status: timeout" in result.log_tail
    # The whole timeout was the invocation's, and it is what the REPORT reads (and bills).
    assert result.duration_ms >= 2000 and result.billed_duration_ms >= 2000
    await gone(warm)
    again = await invoke(runtimes, spec)
    assert again.function_error is None
    assert json.loads(again.payload)["pid"] != warm
    assert again.init_duration_ms is not None


async def test_memory_size_is_enforced(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO}, memory_mb=128, timeout_s=30)
    result = await invoke(runtimes, spec, {"allocate_mb": 400}, request_id="req-big")
    assert result.function_error == "Unhandled"
    assert result.error_type == "Runtime.OutOfMemory"
    assert json.loads(result.payload) == {"errorType": "Runtime.OutOfMemory", "errorMessage": "RequestId: req-big Error: Runtime exited with error: signal: killed"}
    assert result.max_memory_used_mb == 128
    assert "Max Memory Used: 128 MB\t" in result.log_tail and "Status: error\tError Type: Runtime.OutOfMemory" in result.log_tail
    # Within the limit it runs, in a new environment.
    fine = await invoke(runtimes, spec, {"allocate_mb": 20})
    assert fine.function_error is None
    assert 20 < fine.max_memory_used_mb < 128


async def test_process_exit_during_an_invocation(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
    result = await invoke(runtimes, spec, {"exit": 3}, request_id="req-exit")
    assert result.error_type == "Runtime.ExitError"
    assert json.loads(result.payload) == {"errorType": "Runtime.ExitError", "errorMessage": "RequestId: req-exit Error: Runtime exited with error: exit status 3"}
    assert (await invoke(runtimes, spec)).function_error is None


async def test_oversized_response(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
    result = await invoke(runtimes, spec, {"big": 7_000_000})
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


@pytest.mark.parametrize(
    ("files", "error_type", "message"),
    [
        ({"app.py": "def handler(event, context)\n    return 1\n"}, "Runtime.UserCodeSyntaxError", "Syntax error in module 'app': "),
        ({"other.py": "x = 1\n"}, "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'app'"),
        ({"app.py": "import not_a_module_anywhere\n"}, "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'not_a_module_anywhere'"),
    ],
)
async def test_init_errors(runtimes: Runtimes, make_spec: MakeSpec, files: dict[str, str], error_type: str, message: str) -> None:
    spec = make_spec("python3.12", "app.handler", files)
    result = await invoke(runtimes, spec, request_id="req-init")
    assert result.function_error == "Unhandled"
    assert result.error_type == error_type
    error = json.loads(result.payload)
    assert error["errorType"] == error_type
    assert error["errorMessage"].startswith(message)
    assert error["requestId"] == ""
    # The failed Init phase, then its retry inside the invocation ("suppressed init"), then the invocation.
    lines = [line for line in result.log_tail.splitlines() if re.match(r"(INIT_REPORT|START|END|REPORT) ", line)]
    assert [line.split(" ", 1)[0] for line in lines] == ["INIT_REPORT", "INIT_REPORT", "START", "END", "REPORT"]
    assert re.fullmatch(rf"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\tError Type: {error_type}", lines[0])
    assert re.fullmatch(rf"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: error\tError Type: {error_type}", lines[1])
    assert lines[4].endswith(f"\tStatus: error\tError Type: {error_type}\t") and "Init Duration" not in lines[4]
    assert result.log_tail.count(f"[ERROR] {error_type}: {message}") == 2
    assert result.init_duration_ms is None
    assert runtimes.environment_count(spec.function_arn) == 0


SLOW_INIT = code("""
    import time
    time.sleep(2)  # loading something big

    def handler(event, context):
        remaining = context.get_remaining_time_in_millis()
        time.sleep(1.5)
        return {"remaining_at_start": remaining}
""")


async def test_the_timeout_starts_after_a_cold_starts_init(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    # AWS: "The function's timeout setting limits the duration of the entire Invoke phase"; the
    # Init phase has its own 10-second limit. 2 s of init + 1.5 s of handler fit a 3 s function.
    spec = make_spec("python3.12", "app.handler", {"app.py": SLOW_INIT}, timeout_s=3)
    result = await invoke(runtimes, spec)
    assert result.function_error is None, result.payload
    assert json.loads(result.payload)["remaining_at_start"] > 2000
    assert result.init_duration_ms is not None and result.init_duration_ms >= 2000
    assert result.duration_ms < 3000 <= result.duration_ms + result.init_duration_ms
    assert result.billed_duration_ms == math.ceil(result.duration_ms + result.init_duration_ms)


async def test_an_init_over_its_limit_is_retried_within_the_invocation(runtimes: Runtimes, make_spec: MakeSpec,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The init phase is limited to 10 s (here made 3 s); Lambda then retries the init at the
    # invocation, within the function's timeout. The environment's /tmp is not cleared in between.
    monkeypatch.setattr(pool_module, "INIT_LIMIT_S", 3.0)
    spec = make_spec("python3.12", "app.handler", {"app.py": code("""
        import os, time
        marker = os.path.join(os.environ["TMPDIR"], "tried")
        first = not os.path.exists(marker)
        open(marker, "w").close()
        print("init, first time:", first)
        if first:
            time.sleep(30)

        def handler(event, context):
            return {"pid": os.getpid()}
    """)}, timeout_s=10)
    result = await invoke(runtimes, spec, request_id="req-retried")
    assert result.function_error is None, result.payload
    tail = result.log_tail
    assert re.search(r"^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout\n", tail, re.M)
    assert "Phase: invoke" not in tail  # a retry that works is not reported on its own
    assert tail.index("init, first time: True") < tail.index("INIT_REPORT") < tail.index("init, first time: False") < tail.index("START")
    # The retried init was part of the invocation: no Init Duration, and its Duration includes it.
    assert result.init_duration_ms is None and "Init Duration" not in tail.split("START", 1)[1]
    assert result.billed_duration_ms == math.ceil(result.duration_ms)
    # The environment stays warm.
    again = await invoke(runtimes, spec)
    assert json.loads(again.payload)["pid"] == json.loads(result.payload)["pid"]


async def test_missing_handler_function(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.nothing_here", {"app.py": "x = 1\n"})
    result = await invoke(runtimes, spec, request_id="req-missing")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorMessage": "Handler 'nothing_here' missing on module 'app'", "errorType": "Runtime.HandlerNotFound",
        "requestId": "req-missing", "stackTrace": [],
    }


async def test_concurrent_invocations_scale_out(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    import asyncio

    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO}, timeout_s=10)
    results = await asyncio.gather(*(invoke(runtimes, spec, {"sleep": 0.5}) for _ in range(5)))
    pids = {json.loads(r.payload)["pid"] for r in results}
    assert len(pids) == 5
    assert runtimes.environment_count(spec.function_arn) == 5
    assert runtimes.in_flight() == 0
    # Sequential calls after that reuse the warm environments, the most recent first.
    again = json.loads((await invoke(runtimes, spec)).payload)["pid"]
    assert again in pids and runtimes.environment_count(spec.function_arn) == 5


async def test_idle_environments_are_reaped(sink: LogSink, make_spec: MakeSpec, tmp_path: Path) -> None:
    runtimes = Runtimes(endpoint=ENDPOINT, log_sink=sink, work_dir=tmp_path / "reaping", idle_timeout_s=0.3)
    try:
        spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
        pid = json.loads((await invoke(runtimes, spec)).payload)["pid"]
        assert runtimes.environment_count() == 1

        async def reaped() -> bool:
            return runtimes.environment_count() == 0

        await eventually(reaped)
        await gone(pid)
        assert json.loads((await invoke(runtimes, spec)).payload)["pid"] != pid
    finally:
        await runtimes.close()


async def test_logs_reach_the_sink_with_start_end_report(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": code("""
        import logging
        print("init line")
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)

        def handler(event, context):
            print("printed", event["n"])
            logger.info("two\\nlines")
            return event["n"]
    """)}, version="7")
    await invoke(runtimes, spec, {"n": 1}, request_id="req-a")
    await invoke(runtimes, spec, {"n": 2}, request_id="req-b")
    await runtimes.flush_logs()
    streams = {stream for _, stream, _ in sink.batches}
    assert len(streams) == 1
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[7\][0-9a-f]{32}", streams.pop())
    messages = sink.messages()
    assert messages[0] == "init line\n"
    assert messages[1] == "START RequestId: req-a Version: 7\n"
    assert messages[2] == "printed 1\n"
    assert re.fullmatch(r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-a\ttwo\nlines\n", messages[3])
    assert messages[4] == "END RequestId: req-a\n"
    assert re.fullmatch(
        r"REPORT RequestId: req-a\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
        r"Max Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n", messages[5])
    assert messages[6] == "START RequestId: req-b Version: 7\n"
    assert "Init Duration" not in messages[-1] and messages[-1].startswith("REPORT RequestId: req-b\t")
    timestamps = [ts for _, _, events in sink.batches for ts, _ in events]
    assert timestamps == sorted(timestamps)


async def test_layers_are_merged_in_order(runtimes: Runtimes, make_spec: MakeSpec, tmp_path: Path) -> None:
    first, second = tmp_path / "layer1", tmp_path / "layer2"
    (first / "python").mkdir(parents=True)
    (second / "python").mkdir(parents=True)
    (first / "python" / "shared.py").write_text("WHO = 'layer1'\n")
    (first / "python" / "only_first.py").write_text("VALUE = 1\n")
    (second / "python" / "shared.py").write_text("WHO = 'layer2'\n")
    spec = make_spec("python3.12", "app.handler", {"app.py": code("""
        import os, shared, only_first

        def handler(event, context):
            return {"who": shared.WHO, "value": only_first.VALUE, "opt": os.listdir(os.path.join(os.environ["STRATUS_OPT_DIR"], "python"))}
    """)}, layer_dirs=(first, second))
    body = json.loads((await invoke(runtimes, spec)).payload)
    assert body["who"] == "layer2"
    assert body["value"] == 1
    assert sorted(body["opt"]) == ["only_first.py", "shared.py"]


async def test_provisioned_environments_are_ready_before_the_first_call(runtimes: Runtimes, sink: LogSink, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": 'import os\nprint("provisioned init")\n' + ECHO})
    assert await runtimes.provision(spec, 2, credentials=CREDENTIALS) == 2
    assert runtimes.environment_count(spec.function_arn) == 2
    result = await invoke(runtimes, spec)
    assert result.init_duration_ms is None
    await runtimes.flush_logs()
    assert sink.messages().count("provisioned init\n") == 2


async def test_discard_replaces_the_environments(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
    pid = json.loads((await invoke(runtimes, spec)).payload)["pid"]
    runtimes.discard(spec.function_arn.rsplit(":", 1)[0])  # unqualified: every version
    assert runtimes.environment_count() == 0
    await gone(pid)
    assert json.loads((await invoke(runtimes, spec)).payload)["pid"] != pid


async def test_python39_runs_under_python39(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    interpreter, warning = launch.python_for("3.9")
    if warning:
        pytest.skip("no Python 3.9 interpreter on this host")
    spec = make_spec("python3.9", "app.handler", {"app.py": code("""
        import sys

        def handler(event, context):
            return {"version": list(sys.version_info[:2]), "remaining": context.get_remaining_time_in_millis() > 0}
    """)})
    result = await invoke(runtimes, spec)
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == {"version": [3, 9], "remaining": True}
    assert "WARNING" not in result.log_tail


async def test_missing_interpreter_falls_back_with_a_warning(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.99", "app.handler", {"app.py": "import sys\ndef handler(e, c):\n    return sys.version_info[0]\n"})
    result = await invoke(runtimes, spec)
    assert json.loads(result.payload) == 3
    assert "WARNING: python3.99 is not installed on this stratus host" in result.log_tail


async def test_account_concurrency_limit(sink: LogSink, make_spec: MakeSpec, tmp_path: Path) -> None:
    import asyncio

    from stratus.services.lambda_.runtime.spec import ConcurrencyLimitExceeded

    runtimes = Runtimes(endpoint=ENDPOINT, log_sink=sink, work_dir=tmp_path / "limited", account_concurrency=1)
    try:
        spec = make_spec("python3.12", "app.handler", {"app.py": ECHO})
        slow = asyncio.ensure_future(invoke(runtimes, spec, {"sleep": 0.5}))

        async def running() -> bool:
            return runtimes.in_flight(spec.function_arn) == 1

        await eventually(running)
        with pytest.raises(ConcurrencyLimitExceeded):
            await invoke(runtimes, spec)
        assert (await slow).function_error is None
        assert (await invoke(runtimes, spec)).function_error is None
    finally:
        await runtimes.close()


async def test_renewed_credentials_reach_new_environments(runtimes: Runtimes, make_spec: MakeSpec) -> None:
    spec = make_spec("python3.12", "app.handler", {"app.py": "import os\ndef handler(e, c):\n    return [os.getpid(), os.environ['AWS_ACCESS_KEY_ID']]\n"})
    old_pid, old_key = json.loads((await invoke(runtimes, spec)).payload)
    renewed = dict(CREDENTIALS, AccessKeyId="ASIARENEWED")
    result = await runtimes.invoke(spec, b"{}", request_id="req-renewed", credentials=renewed)
    new_pid, new_key = json.loads(result.payload)
    assert (old_key, new_key) == ("ASIAFUNCTIONROLE", "ASIARENEWED")
    assert new_pid != old_pid
    await gone(old_pid)
