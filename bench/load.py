"""Driving load with wrk and reading back what it measured.

wrk is a C load generator: one thread of it saturates a Python server many
times over, so the figures measure the server, not the client (a Python client
on a 2-core box would be the bottleneck). It runs pinned to a different CPU
from the servers where the machine allows, and talks to them over loopback only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("load.lua")
SUMMARY = re.compile(r"^BENCH (.*)$", re.MULTILINE)

INSTALL_HINT = (
    "wrk is not installed. Install it (Debian/Ubuntu: `apt-get update && apt-get install -y wrk`,"
    " macOS: `brew install wrk`) and run the benchmark again."
)


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Endpoint:
    """What one wrk run sends: a fixed path, or a path (and query) prefix plus a random id.

    `cleanup_sql` runs in the app's database after each run of a write, one statement
    at a time: it removes the rows the run added and vacuums what it changed, so the
    endpoints measured after it read the same tables, without the dead row versions a
    run of writes leaves (reads that step over them cost the database, and so the
    worker waiting on it, measurably more until autovacuum comes round).
    """

    label: str
    path: str
    random_max: int | None = None
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cleanup_sql: tuple[str, ...] = ()

    @property
    def sample(self) -> str:
        """The one request the checks send: id (or offset) 1 where the run picks one at random."""
        return f"{self.path}1" if self.random_max is not None else self.path

    def wrk_arguments(self) -> list[str]:
        arguments = []
        if self.random_max is not None:
            arguments += ["random", str(self.random_max)]
        if self.method != "GET":
            arguments += ["method", self.method]
        if self.body is not None:
            arguments += ["body", self.body]
        for name, value in self.headers.items():
            arguments += ["header", name, value]
        return arguments


@dataclass(frozen=True)
class Result:
    """One wrk run; latencies in milliseconds.

    `cpu_seconds` is what the server's worker spent during the run (user and system
    time, all its threads), or None when gunicorn replaced the worker meanwhile
    (`recycled`): the old worker's last seconds are then lost to the count.
    """

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    timeouts: int
    non_2xx: int
    cpu_seconds: float | None = None
    recycled: bool = False

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds * 1e6 / self.requests

    @property
    def errors(self) -> int:
        return self.socket_errors + self.timeouts + self.non_2xx


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadError(INSTALL_HINT)
    return path


def run_wrk(
    base_url: str,
    endpoint: Endpoint,
    *,
    seconds: int,
    connections: int,
    cpu: int | None,
) -> Result:
    """One run of `seconds` at `connections` open connections; never longer than that plus a margin."""
    command = [
        require_wrk(),
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "2s",
        "--script",
        str(LUA_SCRIPT),
        f"{base_url}{endpoint.path}",
        "--",
        *endpoint.wrk_arguments(),
    ]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "--cpu-list", str(cpu), *command]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise LoadError(f"wrk did not finish a {seconds} s run within {seconds + 30} s") from error
    match = SUMMARY.search(completed.stdout)
    if completed.returncode != 0 or match is None:
        raise LoadError(
            f"wrk failed on {base_url}{endpoint.path} (exit {completed.returncode}):\n"
            f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    values = {key: int(value) for key, value in (pair.split("=") for pair in match[1].split())}
    return Result(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        socket_errors=values["connect"] + values["read"] + values["write"],
        timeouts=values["timeout"],
        non_2xx=values["status"],
    )
