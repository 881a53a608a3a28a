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
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.project import PRODUCTION_COMMAND, Project, clean_environment, free_port

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
    # A server writes its bytecode cache like a deployed one; only the first start pays.
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


def stop(server: Server) -> None:
    """SIGTERM to the master (graceful, as in production), then SIGKILL to its group if it hangs.

    The group is signalled only while the master is still alive and unreaped, so
    its id cannot have been reused by another process.
    """
    process = server.process
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


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
