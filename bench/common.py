"""What the benchmarks share: server processes, CPU and process counts from ``/proc``, boto3
clients, timed phases, percentiles and tables.

Linux only (reads ``/proc``). Imported by ``sqs.py`` and ``lambda_invoke.py`` from this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
_CLK_TCK = os.sysconf("SC_CLK_TCK")
# Background load worth a note: above this many cores, the figures beside it are suspect.
BACKGROUND_NOTE = 0.1


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds: own utime+stime plus those of reaped children) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces or parentheses; the fields after its last ')' do not.
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state) of proc(5): ppid is 4, utime 14, stime 15, cutime 16, cstime 17.
    ppid = int(fields[1])
    ticks = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return ppid, ticks / _CLK_TCK


def _process_table() -> dict[int, tuple[int, float]]:
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None:
                stats[int(entry)] = stat
    return stats


def _tree(root: int, stats: dict[int, tuple[int, float]]) -> list[int]:
    """``root`` and its live descendants, by parent pid."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by a process and all its live descendants (servers may fork)."""
    stats = _process_table()
    return sum(stats[pid][1] for pid in _tree(root, stats))


def descendants(root: int) -> set[int]:
    """The live descendants of a process (not the process itself)."""
    return set(_tree(root, _process_table())) - {root}


def children_of(root: int) -> set[int]:
    """The live descendants of a process, read from its threads' ``children`` files only.

    Much cheaper than a scan of ``/proc`` (a few small reads per process), so it can be
    sampled every few milliseconds to catch short-lived processes.
    """
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = [int(kid) for kid in f.read().split()]
            except (OSError, ValueError):
                continue
            for kid in kids:
                if kid not in found:
                    found.add(kid)
                    todo.append(kid)
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs of the machine spent busy (or stolen by the hypervisor) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


def machine_forks() -> int:
    """Processes and threads created on the whole machine since boot (``processes`` of /proc/stat)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("processes "):
            return int(line.split()[1])
    return 0


@dataclass
class Server:
    """One target: a server process on a loopback port."""

    name: str
    cmd: list[str]
    port: int
    workdir: Path
    # stratus has a health document; the others are ready once they answer HTTP at all.
    health_path: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env={**os.environ, **self.env}
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self._ready():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f}s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + self.health_path, timeout=2) as resp:
                if self.health_path == "/_stratus/health":
                    return json.load(resp).get("status") == "running"
                return True
        except urllib.error.HTTPError:
            return self.health_path != "/_stratus/health"  # it answered: the port is served
        except (OSError, ValueError):
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def run_servers(servers: list[Server], workdir: Path, bench: Callable[[Server], None]) -> None:
    """Start every server, then run ``bench`` on each in turn; stop them all and remove ``workdir`` whatever happens."""
    try:
        for server in servers:
            server.start()
            print(f"{server.name} on {server.endpoint} (pid {server.pid})", flush=True)
        for server in servers:
            print(f"benchmarking {server.name} ...", flush=True)
            bench(server)
    except BaseException:
        for server in servers:
            print(f"--- {server.name} log ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def stub_server(workdir: Path) -> Server:
    """``stub_server.py``: the floor, canned replies."""
    port = free_port()
    return Server("stub", [sys.executable, str(HERE / "stub_server.py"), "--port", str(port)], port, workdir)


def stratus_server(workdir: Path, store: str) -> Server:
    """``python -m stratus up`` of the checkout this folder belongs to, on ``store``."""
    port = free_port()
    data = workdir / "stratus-data"
    data.mkdir()
    cmd = [sys.executable, "-m", "stratus", "up", "--port", str(port), "--data", str(data), "--store", store]
    # Run the checkout this script belongs to, whatever the current directory.
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH", "")]))}
    return Server("stratus", cmd, port, workdir, health_path="/_stratus/health", env=env)


def aws_client(service: str, endpoint: str):  # type: ignore[no-untyped-def]
    """A boto3 client with retries off and dummy credentials, as ``AWS_ENDPOINT_URL`` would point it."""
    # A session per client: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60),
    )


def parse_with_targets(parser: argparse.ArgumentParser, argv: list[str] | None, targets: tuple[str, ...]) -> argparse.Namespace:
    """Parse ``argv`` with ``--markdown`` added; ``--only`` becomes the list of targets, checked against ``targets``."""
    parser.add_argument("--markdown", type=Path, help="also write the tables, with ratios, to this file")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(targets)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    return args


# --------------------------------------------------------------------------- measuring


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of values sorted ascending."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


@dataclass
class Phase:
    """The figures of one timed loop."""

    iterations: int = 0
    calls: int = 0  # API calls made, the unit of the CPU figures
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, per iteration
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    cut_short: bool = False
    # CPU used by everything else on the machine meanwhile, in cores: other load skews figures.
    background_cores: float = 0.0

    @property
    def rate(self) -> float:
        return self.iterations / self.wall if self.wall else 0.0

    def p(self, pct: float) -> float:
        return percentile(sorted(self.latencies), pct) * 1000

    @property
    def server_ms_per_call(self) -> float:
        return self.server_cpu * 1000 / self.calls if self.calls else float("nan")

    @property
    def client_ms_per_call(self) -> float:
        return self.client_cpu * 1000 / self.calls if self.calls else float("nan")


def call_loop(phase: Phase, count: int, seconds: float, call: Callable[[], object]) -> None:
    """Make ``call`` up to ``count`` times, one API call each, stopping at ``seconds``; record each latency."""
    clock = time.perf_counter
    deadline = clock() + seconds
    for _ in range(count):
        if clock() > deadline:
            phase.cut_short = True
            break
        t0 = clock()
        call()
        phase.latencies.append(clock() - t0)
        phase.iterations += 1
        phase.calls += 1


def timed(server: Server, body: Callable[[Phase], None], phase: Phase | None = None) -> Phase:
    """Run ``body`` and record wall time, the server's CPU, the client's and the machine's other load.

    The client's CPU is this process's; a body that drives other processes adds theirs to
    ``phase.client_cpu`` itself.
    """
    phase = phase if phase is not None else Phase()
    busy_before = machine_busy_seconds()
    server_before, client_before, start = server.cpu_seconds(), time.process_time(), time.perf_counter()
    body(phase)
    phase.wall = time.perf_counter() - start
    phase.client_cpu += time.process_time() - client_before
    phase.server_cpu = server.cpu_seconds() - server_before
    other = machine_busy_seconds() - busy_before - phase.client_cpu - phase.server_cpu
    phase.background_cores = max(0.0, other / phase.wall) if phase.wall else 0.0
    return phase


# --------------------------------------------------------------------------- reporting


def fmt(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"  # NaN -> "-"


def ratio(a: float, b: float) -> str:
    if not b or a != a or b != b:
        return "-"
    return f"{a / b:.2f}x" if a / b >= 0.1 else f"{a / b:.3f}x"


def text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    line = lambda row: "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def md_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def machine(packages: Iterable[str] = (), extra: Iterable[str] = ()) -> str:
    """The CPUs, kernel and versions: Python, boto3/botocore, ``packages`` when installed here, then ``extra``."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import botocore
    from importlib.metadata import PackageNotFoundError, version

    versions = [f"Python {platform.python_version()}", f"boto3 {boto3.__version__}", f"botocore {botocore.__version__}"]
    for package in packages:
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:  # optional peers, left out by --only
            pass
    versions.extend(extra)
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; {', '.join(versions)}"
