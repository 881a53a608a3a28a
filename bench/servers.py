"""Running servers the way production does, and reading what they cost.

Every server, generated or reference, is the project's own production command,
`gunicorn -c gunicorn.conf.py`, from the project's directory with one worker:
the references only name another application on the command line, which
gunicorn prefers over the config's `wsgi_app`. So both sides of a ratio share
the server, the worker class, the event loop and the library versions, and the
ratio isolates what the application does per request.

Servers run in their own session (process group), so Ctrl-C in the terminal
reaches only the harness, which then stops each of them itself.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.process import stop as stop_process
from harness.project import PRODUCTION_COMMAND, Project, clean_environment, free_port

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
STOP_TIMEOUT = 40.0  # gunicorn's graceful_timeout (30 s) plus a margin


class ServerError(RuntimeError):
    pass


@dataclass
class App:
    """A server to measure: a generated project, or a reference app in a project's environment."""

    name: str
    build: str
    module: str | None = None  # "module:app" under bench/reference; None: the generated app
    probe: str = "/health"  # answers 200 once the worker serves
    env: dict[str, str] = field(default_factory=dict)

    @property
    def generated(self) -> bool:
        return self.module is None


@dataclass
class Server:
    app: App
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    # What every request to it carries: a bearer token, where the app asks for one.
    credentials: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid


def command(project: Project, app: App, cpu: int | None) -> list[str]:
    executable = str(project.root / ".venv" / "bin" / PRODUCTION_COMMAND[0])
    argv = [executable, *PRODUCTION_COMMAND[1:]]
    if app.module is not None:
        argv.append(app.module)
    if cpu is not None and shutil.which("taskset"):
        argv = ["taskset", "--cpu-list", str(cpu), *argv]
    return argv


def environment(project: Project, app: App, port: int, extra: Mapping[str, str]) -> dict[str, str]:
    env = clean_environment(
        {
            **project.env,
            **app.env,
            **extra,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
        }
    )
    # The install compiled every module (`--compile-bytecode`); should anything still be
    # uncompiled, the first start writes its bytecode and no later start compiles it again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if app.module is not None:
        env["PYTHONPATH"] = str(REFERENCE_DIR)
        env["BENCH_PACKAGE"] = project.package
    return env


def get_status(base_url: str, path: str, timeout: float = 2.0) -> int | None:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def start(
    project: Project,
    app: App,
    *,
    cpu: int | None,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    deadline: float = 60.0,
) -> tuple[Server, float]:
    """Launch the server and wait for its first 200; returns it and the seconds that took."""
    port = free_port()
    log = log_dir / f"{app.name.replace(' ', '_').replace('/', '_')}.log"
    base_url = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        launched = time.monotonic()
        process = subprocess.Popen(
            command(project, app, cpu),
            cwd=project.root,
            env=environment(project, app, port, env or {}),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(app, process, base_url, log)
    try:
        elapsed = wait_for_first_200(server, launched, deadline)
    except BaseException:
        stop(server)
        raise
    return server, elapsed


def wait_for_first_200(server: Server, launched: float, deadline: float) -> float:
    """Poll the probe path every 5 ms: fine enough for a start-up measured in tenths of seconds."""
    give_up = launched + deadline
    while time.monotonic() < give_up:
        if server.process.poll() is not None:
            raise ServerError(
                f"{server.app.name} exited {server.process.returncode} before serving:\n"
                f"{tail(server.log)}"
            )
        if get_status(server.base_url, server.app.probe, timeout=1.0) == 200:
            return time.monotonic() - launched
        time.sleep(0.005)
    raise ServerError(f"{server.app.name} gave no 200 on {server.app.probe} within {deadline} s")


def expect_ready(server: Server) -> None:
    status = get_status(server.base_url, "/ready", timeout=10.0)
    if status != 200:
        raise ServerError(f"{server.app.name} answered /ready with {status}:\n{tail(server.log)}")


def sign_in(server: Server, email: str, password: str) -> dict[str, str]:
    """A token from the service's password flow, as a client of an `auth=oauth2` build gets it."""
    host, port = server.base_url.removeprefix("http://").split(":")
    form = urllib.parse.urlencode(
        {"grant_type": "password", "username": email, "password": password}
    )
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v1/auth/token",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise ServerError(
            f"{server.app.name} refused the sign-in ({response.status}): {answer[:300]!r}"
        )
    return {"Authorization": f"Bearer {json.loads(answer)['access_token']}"}


def stop(server: Server) -> None:
    """Graceful as in production, then the whole group killed if the master hangs."""
    stop_process(server.process, timeout=STOP_TIMEOUT)


def worker_pids(server: Server) -> list[int]:
    """The gunicorn master's children: the workers that actually serve requests."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    with contextlib.suppress(OSError):
        return [int(pid) for pid in children.read_text().split()]
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name may hold spaces; the parent pid is the 2nd field after it.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                pids.append(int(stat.parent.name))
    return pids


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User plus system time the process has used so far, all its threads included.

    Read from `/proc/<pid>/stat` (fields 14 and 15, after the command name, which may
    hold spaces and parentheses): what the kernel charged to this process alone, so a
    neighbour's load slows the run down but hardly changes the figure.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return None


def tree_cpu_seconds(server: Server) -> float | None:
    """CPU time the master and its workers have used so far: what a start cost, read at
    its first 200, and hardly changed by what else the machine is doing."""
    readings = [cpu_seconds(pid) for pid in (server.pid, *worker_pids(server))]
    if any(reading is None for reading in readings):
        return None
    return sum(reading for reading in readings if reading is not None)


def rss_mib(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def tail(path: Path, characters: int = 4000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-characters:]
    return ""
