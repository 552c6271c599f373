"""Lambda benchmark: stratus beside MiniStack and beside a stub server (the floor), in one run.

Each target is a server process on a loopback port, driven with boto3 (retries off). The
function is a trivial Python handler that answers its event (``return event``); the stub
answers ``Invoke`` with the request's payload, which is what a perfect server would do.

* warm, one client: N ``Invoke`` calls -> invocations/s, p50 and p99;
* warm, eight clients: eight processes (each its own boto3 client) invoking the same
  function at once -> aggregate invocations/s, p50 and p99, and its multiple of one client's;
* server CPU per invocation: utime+stime of the server process and all its descendants (the
  functions' processes included), read from ``/proc`` before and after each phase;
* process spawns once warm: the server's descendant processes, sampled every few
  milliseconds while one client invokes, new ones counted (and the machine's fork counter);
* cold start: the latency of the first ``Invoke`` after ``CreateFunction`` (once the
  ``function_active_v2`` waiter sees ``Active``), and of the first ``Invoke`` of a version
  after ``PublishVersion`` (``published_version_active`` waiter), over ``--cold-samples``
  new functions. The very first invoke on a fresh server is reported on its own.

Every loop is bounded by a count and by ``--phase-seconds``. Linux only (reads ``/proc``).

    python bench/lambda_invoke.py [--invokes N] [--clients 8] [--cold-samples 5]
                                  [--only stub,stratus,ministack] [--ministack CMD]
                                  [--store sqlite|postgresql://...] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402  (this folder's shared bench code)
    BACKGROUND_NOTE,
    Phase,
    Server,
    aws_client,
    call_loop,
    children_of,
    descendants,
    fmt,
    free_port,
    machine,
    machine_forks,
    md_table,
    parse_with_targets,
    ratio,
    run_servers,
    stratus_server,
    stub_server,
    text_table,
    timed,
)

TARGETS = ("stub", "stratus", "ministack")
HANDLER = "def handler(event, context):\n    return event\n"
PAYLOAD = b'{"bench":"stratus","n":1}'
ROLE_NAME = "bench-lambda"
_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
# Untimed invocations before the timed phases (per client), bounded by count and by time.
_WARMUP, _WARMUP_SECONDS = 100, 20.0
_SAMPLE_S = 0.002  # how often the spawn check reads the server's process tree


# --------------------------------------------------------------------------- servers


def make_server(name: str, workdir: Path, args: argparse.Namespace) -> Server:
    if name == "stub":
        return stub_server(workdir)
    if name == "stratus":
        return stratus_server(workdir, args.store)
    port = free_port()
    env = {"GATEWAY_PORT": str(port), "LOG_LEVEL": "WARNING"}
    return Server(name, args.ministack, port, workdir, health_path="/_ministack/health", env=env)


def ministack_version(cmd: list[str]) -> str | None:
    """MiniStack's version, read from the venv its command lives in (not this one)."""
    exe = shutil.which(cmd[0])
    if exe is None:
        return None
    for dist in Path(exe).resolve().parent.parent.glob("lib/python*/site-packages/ministack-*.dist-info"):
        return dist.name.removeprefix("ministack-").removesuffix(".dist-info")
    return None


# --------------------------------------------------------------------------- functions


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def execution_role(server: Server) -> str:
    """The functions' execution role: made in the server's IAM (Lambda refuses a role it cannot assume)."""
    if server.name == "stub":
        return f"arn:aws:iam::000000000000:role/{ROLE_NAME}"  # the stub checks nothing
    iam = aws_client("iam", server.endpoint)
    try:
        return iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:  # a PostgreSQL store kept from an earlier run
        return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]


def create_function(client, name: str, runtime: str, role: str) -> None:  # type: ignore[no-untyped-def]
    client.create_function(
        FunctionName=name, Runtime=runtime, Role=role, Handler="app.handler", Code={"ZipFile": function_zip()}, Timeout=30,
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def invoke(client, name: str, qualifier: str | None = None) -> bytes:  # type: ignore[no-untyped-def]
    """One synchronous invocation; its payload, read in full. A function error is a bench error."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    answer = client.invoke(FunctionName=name, Payload=PAYLOAD, **extra)
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        raise RuntimeError(f"{name}: function error {answer['FunctionError']}: {payload[:500]!r}")
    return payload


def timed_invoke(client, name: str, qualifier: str | None = None) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    payload = invoke(client, name, qualifier)
    elapsed = time.perf_counter() - t0
    if json.loads(payload) != json.loads(PAYLOAD):
        raise RuntimeError(f"{name}: the function answered {payload[:200]!r}, not its event")
    return elapsed


# --------------------------------------------------------------------------- phases


def run_warm(server: Server, client, name: str, count: int, seconds: float) -> Phase:  # type: ignore[no-untyped-def]
    return timed(server, lambda phase: call_loop(phase, count, seconds, lambda: invoke(client, name)))


def _client_process(endpoint: str, name: str, count: int, seconds: float, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One of the concurrent clients: warm up, wait for the others, invoke, hand back the figures."""
    try:
        client = aws_client("lambda", endpoint)
        call_loop(Phase(), _WARMUP, _WARMUP_SECONDS, lambda: invoke(client, name))
        barrier.wait()
        phase, cpu = Phase(), time.process_time()
        call_loop(phase, count, seconds, lambda: invoke(client, name))
        results.put((phase.latencies, phase.cut_short, time.process_time() - cpu, None))
    except BaseException as exc:  # reported by the parent, which would otherwise wait forever
        barrier.abort()
        results.put(([], False, 0.0, repr(exc)))


def run_concurrent(server: Server, name: str, clients: int, count: int, seconds: float) -> Phase:
    """``clients`` processes invoking at once; latencies pooled, client CPU summed over them."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: nothing of this one's boto3 shared
    barrier, results = context.Barrier(clients + 1), context.Queue()
    workers = [
        context.Process(target=_client_process, args=(server.endpoint, name, count, seconds, barrier, results), daemon=True)
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()

    def body(phase: Phase) -> None:
        barrier.wait(timeout=_WARMUP_SECONDS + 120)
        for _ in workers:
            latencies, cut_short, cpu, error = results.get(timeout=seconds + 120)
            if error:
                raise RuntimeError(f"a client process failed: {error}")
            phase.latencies.extend(latencies)
            phase.iterations += len(latencies)
            phase.calls += len(latencies)
            phase.cut_short |= cut_short
            phase.client_cpu += cpu

    try:
        return timed(server, body)
    finally:
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()


@dataclass
class Spawns:
    """Processes started under the server while one warm client invoked."""

    invokes: int
    new_processes: int  # descendants of the server seen during the check and not before it
    machine_forks: int  # processes and threads created on the whole machine meanwhile


def spawn_check(server: Server, client, name: str, count: int, seconds: float) -> Spawns:  # type: ignore[no-untyped-def]
    before = descendants(server.pid)
    seen: set[int] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.update(children_of(server.pid))
            time.sleep(_SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    forks = machine_forks()
    sampler.start()
    phase = Phase()
    try:
        call_loop(phase, count, seconds, lambda: invoke(client, name))
    finally:
        stop.set()
        sampler.join()
    forks = machine_forks() - forks
    seen |= descendants(server.pid)
    return Spawns(phase.iterations, len(seen - before), forks)


@dataclass
class ColdStarts:
    """Latencies (seconds) of first invocations."""

    fresh_server: float = float("nan")  # the first invoke the server ever ran
    after_create: list[float] = field(default_factory=list)
    after_publish: list[float] = field(default_factory=list)


def measure_cold(client, args: argparse.Namespace, run_id: str, role: str, cold: ColdStarts, created: list[str]) -> None:  # type: ignore[no-untyped-def]
    for i in range(args.cold_samples):
        name = f"bench-cold-{run_id}-{i}"
        create_function(client, name, args.runtime, role)
        created.append(name)
        cold.after_create.append(timed_invoke(client, name))
        version = client.publish_version(FunctionName=name)["Version"]
        client.get_waiter("published_version_active").wait(
            FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        cold.after_publish.append(timed_invoke(client, name, version))


@dataclass
class Result:
    target: str
    one: Phase
    many: Phase
    spawns: Spawns
    cold: ColdStarts
    notes: list[str] = field(default_factory=list)


def bench_target(server: Server, args: argparse.Namespace, run_id: str) -> Result:
    client = aws_client("lambda", server.endpoint)
    created: list[str] = []
    try:
        role = execution_role(server)
        name = f"bench-warm-{run_id}"
        create_function(client, name, args.runtime, role)
        created.append(name)
        cold = ColdStarts(fresh_server=timed_invoke(client, name))
        print(f"  {server.name}: first invoke {cold.fresh_server * 1000:.0f} ms ({args.runtime})", flush=True)
        call_loop(Phase(), _WARMUP, _WARMUP_SECONDS, lambda: invoke(client, name))
        one = run_warm(server, client, name, args.invokes, args.phase_seconds)
        print(f"  {server.name}: one client {one.rate:,.0f} inv/s, p50 {one.p(50):.2f} ms", flush=True)
        many = run_concurrent(server, name, args.clients, args.invokes, args.phase_seconds)
        print(f"  {server.name}: {args.clients} clients {many.rate:,.0f} inv/s, p50 {many.p(50):.2f} ms", flush=True)
        spawns = spawn_check(server, client, name, args.spawn_invokes, args.phase_seconds)
        print(f"  {server.name}: {spawns.new_processes} new processes in {spawns.invokes} warm invokes", flush=True)
        measure_cold(client, args, run_id, role, cold, created)
        print(f"  {server.name}: cold start after create p50 {_ms_p50(cold.after_create)} ms,"
              f" after publish p50 {_ms_p50(cold.after_publish)} ms", flush=True)
        return Result(server.name, one, many, spawns, cold)
    finally:
        # A PostgreSQL store outlives the run: leave no bench functions behind in it.
        for name in created:
            try:
                client.delete_function(FunctionName=name)
            except Exception as exc:  # cleanup only; the figures are already taken
                print(f"  {server.name}: could not delete {name}: {exc}", file=sys.stderr)


# --------------------------------------------------------------------------- reporting


def _ms_p50(values: list[float]) -> str:
    return fmt(statistics.median(values) * 1000, 1) if values else "-"


def _ms_max(values: list[float]) -> str:
    return fmt(max(values) * 1000, 1) if values else "-"


def _scaling(r: Result) -> float:
    return r.many.rate / r.one.rate if r.one.rate else float("nan")


_HEAD = ["target", "1 client inv/s", "p50 ms", "p99 ms", "srv CPU ms/inv", "client CPU ms/inv",
         "N clients inv/s", "p50 ms", "p99 ms", "srv CPU ms/inv", "N/1"]  # fmt: skip


def figures_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        rows.append([
            r.target,
            fmt(r.one.rate, 0) + ("*" if r.one.cut_short else ""), fmt(r.one.p(50)), fmt(r.one.p(99)),
            fmt(r.one.server_ms_per_call, 3), fmt(r.one.client_ms_per_call, 3),
            fmt(r.many.rate, 0) + ("*" if r.many.cut_short else ""), fmt(r.many.p(50)), fmt(r.many.p(99)),
            fmt(r.many.server_ms_per_call, 3), f"{_scaling(r):.2f}x",
        ])  # fmt: skip
    return rows


_COLD_HEAD = ["target", "fresh server ms", "after create p50 ms", "max ms", "after publish p50 ms", "max ms", "samples",
              "warm invokes", "new processes", "machine forks"]  # fmt: skip


def cold_rows(results: list[Result]) -> list[list[str]]:
    return [
        [r.target, fmt(r.cold.fresh_server * 1000, 1), _ms_p50(r.cold.after_create), _ms_max(r.cold.after_create),
         _ms_p50(r.cold.after_publish), _ms_max(r.cold.after_publish), str(len(r.cold.after_create)),
         str(r.spawns.invokes), str(r.spawns.new_processes), str(r.spawns.machine_forks)]
        for r in results
    ]  # fmt: skip


_RATIO_HEAD = ["target", "warm p50", "1 client inv/s", "N clients inv/s", "srv CPU/inv", "N clients srv CPU/inv",
               "cold after create", "cold after publish"]  # fmt: skip


def ratio_rows(results: list[Result], baseline: str) -> list[list[str]]:
    base = next((r for r in results if r.target == baseline), None)
    if base is None:
        return []
    median = lambda values: statistics.median(values) if values else float("nan")  # noqa: E731
    return [
        [
            r.target,
            ratio(r.one.p(50), base.one.p(50)),
            ratio(r.one.rate, base.one.rate),
            ratio(r.many.rate, base.many.rate),
            ratio(r.one.server_ms_per_call, base.one.server_ms_per_call),
            ratio(r.many.server_ms_per_call, base.many.server_ms_per_call),
            "-" if baseline == "stub" else ratio(median(r.cold.after_create), median(base.cold.after_create)),
            "-" if baseline == "stub" else ratio(median(r.cold.after_publish), median(base.cold.after_publish)),
        ]
        for r in results
        if r.target not in (baseline, "stub")
    ]


# The goals of the issue that asked for this bench.
_FLOOR_RATIO, _SCALING, _COLD_MS = 1.5, 2.0, 150.0
_GOAL_HEAD = ["stratus goal", "measured", "met"]


def goal_rows(results: list[Result], clients: int) -> list[list[str]]:
    mine = next((r for r in results if r.target == "stratus"), None)
    floor = next((r for r in results if r.target == "stub"), None)
    if mine is None:
        return []
    rows = []

    def add(goal: str, value: float, met: bool, text: str) -> None:
        rows.append([goal, text if value == value else "-", "-" if value != value else ("yes" if met else "NO")])

    if floor is not None:
        value = mine.one.p(50) / floor.one.p(50)
        add(f"warm p50 <= {_FLOOR_RATIO}x floor", value, value <= _FLOOR_RATIO, f"{value:.2f}x")
    value = _scaling(mine)
    # The floor's own multiple shows what the machine allows: the clients' boto3 needs CPU too.
    context = f" (floor: {_scaling(floor):.2f}x)" if floor is not None else ""
    add(f"{clients} clients >= {_SCALING:.0f}x one client's inv/s", value, value >= _SCALING, f"{value:.2f}x{context}")
    for label, values in (("after create", mine.cold.after_create), ("after publish", mine.cold.after_publish)):
        p50 = statistics.median(values) * 1000 if values else float("nan")
        top = max(values) * 1000 if values else float("nan")
        add(f"cold start {label} < {_COLD_MS:.0f} ms (p50)", p50, p50 < _COLD_MS, f"{p50:.1f} ms (max {top:.1f})")
    spawned = mine.spawns.new_processes
    add("no process spawn per invoke once warm", spawned, spawned == 0,
        f"{spawned} new in {mine.spawns.invokes} invokes")  # fmt: skip
    return rows


def notes(results: list[Result], skipped: list[str]) -> list[str]:
    out = list(skipped)
    for r in results:
        out.extend(f"{r.target}: {note}" for note in r.notes)
        for label, phase in (("one client", r.one), ("N clients", r.many)):
            if phase.cut_short:
                out.append(f"{r.target} ({label}): * phase stopped at --phase-seconds ({phase.iterations:,} invokes)")
            if phase.background_cores > BACKGROUND_NOTE:
                out.append(f"{r.target} ({label}): other processes used {phase.background_cores:.2f} cores meanwhile")
    return out


def tables(results: list[Result], args: argparse.Namespace, table) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(title, table) pairs, rendered by ``table`` (text or markdown)."""
    head = [h.replace("N clients", f"{args.clients} clients").replace("N/1", f"{args.clients}/1") for h in _HEAD]
    out = [("Warm invocations (latency per Invoke; CPU per invocation, the function's processes included)",
            table(head, figures_rows(results)))]  # fmt: skip
    out.append(("Cold starts (first Invoke) and process spawns once warm", table(_COLD_HEAD, cold_rows(results))))
    targets = {r.target for r in results}
    ratio_head = [h.replace("N clients", f"{args.clients} clients") for h in _RATIO_HEAD]
    for baseline, title in (("stub", "Ratios to the stub (the floor)"), ("ministack", "Ratios to MiniStack")):
        rows = ratio_rows(results, baseline)
        if baseline in targets and rows:
            out.append((title + " (latency and CPU: lower is better; throughput: higher is better)", table(ratio_head, rows)))
    goals = goal_rows(results, args.clients)
    if goals:
        out.append(("stratus against its goals", table(_GOAL_HEAD, goals)))
    return out


def machine_line(args: argparse.Namespace) -> str:
    version = ministack_version(args.ministack) if "ministack" in args.only else None
    return machine(extra=[f"ministack {version}"] if version else [])


def markdown(results: list[Result], args: argparse.Namespace, skipped: list[str]) -> str:
    parts = [
        "# Lambda benchmark figures",
        "",
        f"`python bench/lambda_invoke.py --invokes {args.invokes} --clients {args.clients} --cold-samples {args.cold_samples}"
        f" --runtime {args.runtime} --store {'postgresql' if args.store.startswith('postgres') else args.store}`",
        "",
        f"Machine: {machine_line(args)}.",
    ]
    for title, table in tables(results, args, md_table):
        parts += ["", f"## {title}", "", table]
    extra = notes(results, skipped)
    if extra:
        parts += ["", "Notes:", ""] + [f"- {n}" for n in extra]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invokes", type=int, default=2000, help="timed invocations per client per phase (default 2000)")
    parser.add_argument("--clients", type=int, default=8, help="client processes of the concurrent phase (default 8)")
    parser.add_argument("--cold-samples", type=int, default=5, help="functions created for the cold-start figures (default 5)")
    parser.add_argument("--spawn-invokes", type=int, default=300, help="warm invocations watched for process spawns (default 300)")
    parser.add_argument("--runtime", default="python3.11", help="the function's runtime (default python3.11)")
    parser.add_argument("--only", default=",".join(TARGETS), help="comma-separated targets among stub,stratus,ministack")
    parser.add_argument("--ministack", default=os.environ.get("MINISTACK", "ministack"),
                        help="the command that starts MiniStack (default $MINISTACK or `ministack` on the PATH)")  # fmt: skip
    parser.add_argument("--store", default="sqlite", help="stratus's store: sqlite (in a temporary directory) or a postgresql:// URL")
    parser.add_argument("--phase-seconds", type=float, default=40.0, help="time limit of each timed phase (default 40)")
    args = parse_with_targets(parser, argv, TARGETS)
    args.ministack = shlex.split(args.ministack)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    skipped: list[str] = []
    if "ministack" in args.only and (not args.ministack or shutil.which(args.ministack[0]) is None):
        skipped.append(f"ministack skipped: `{shlex.join(args.ministack)}` not found (python3 -m venv /tmp/ms &&"
                       " /tmp/ms/bin/pip install ministack, then --ministack /tmp/ms/bin/ministack)")  # fmt: skip
        args.only.remove("ministack")
        print(f"note: {skipped[-1]}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="stratus-bench-lambda-"))
    run_id = uuid.uuid4().hex[:8]
    # Fixed order: the floor first, so the others read against it as they finish.
    servers = [make_server(name, workdir, args) for name in TARGETS if name in args.only]
    results: list[Result] = []
    run_servers(servers, workdir, lambda server: results.append(bench_target(server, args, run_id)))

    print()
    print(f"Machine: {machine_line(args)}")
    for title, table in tables(results, args, text_table):
        print(f"\n{title}:\n{table}")
    for line in notes(results, skipped):
        print("note:", line)
    if args.markdown:
        args.markdown.write_text(markdown(results, args, skipped))
        print(f"\nwrote {args.markdown}")


if __name__ == "__main__":
    main()
