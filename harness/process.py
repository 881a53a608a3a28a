"""Running commands and servers for the harness: a failure says what ran, where, and what it
printed; a server is always stopped, whatever happened while it ran."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

# Variables of the caller's environment that would make a project's tools use the caller's
# environment, or make its pytest behave like the template's.
FOREIGN_VARIABLES = {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT", "PYTEST_ADDOPTS"}


class CommandFailed(AssertionError):
    pass


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its virtualenv, so tools use the project's own.

    Bytecode is written: each project's environment is imported by several processes
    (migrations, the server, the test suite and the processes it starts), and
    compiling every library again in each of them was a large share of the run.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in FOREIGN_VARIABLES
        and key != "PYTHONDONTWRITEBYTECODE"
        and not key.startswith("PYTEST_XDIST")
    }
    env.update(UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")
    env.update(extra or {})
    return env


def run(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=clean_environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise CommandFailed(f"`{' '.join(command)}` in {cwd} ran over {timeout} s") from error
    if result.returncode != 0:
        raise CommandFailed(
            f"`{' '.join(command)}` in {cwd} exited {result.returncode}\n"
            f"--- stdout ---\n{excerpt(result.stdout)}\n--- stderr ---\n{result.stderr[-8000:]}"
        )
    return result


# Where pytest starts reporting its failures: each one's assertion and traceback, then
# what the test captured (server logs can run to pages).
FAILURES = "= FAILURES ="


def excerpt(output: str, size: int = 8000) -> str:
    """The end of `output`; for a failed pytest run, the start of its first failure too,
    so the assertion that failed is shown however much the test captured after it."""
    start = output.find(FAILURES)
    if start == -1 or len(output) - start <= size:
        return output[-size:]
    return f"{output[start : start + size // 2]}\n[...]\n{output[-size // 2 :]}"


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 30) -> str:
    """SIGTERM (graceful, as in production), then SIGKILL if it has not exited in `timeout`.

    A process started in a session of its own is killed with its whole group, so
    workers a hung master leaves behind go too; the group is signalled only while
    the leader is unreaped, so its id cannot have been reused. Returns what the
    process printed, when its output was a pipe.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        leads_group = False
        with contextlib.suppress(ProcessLookupError):
            leads_group = os.getpgid(process.pid) == process.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if leads_group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.wait(timeout=10)
    output = process.stdout.read() if process.stdout else ""
    return output.decode(errors="replace") if isinstance(output, bytes) else output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_serving(process: subprocess.Popen[str], url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise CommandFailed(
                f"server exited {process.returncode} before serving:\n{output[-8000:]}"
            )
        with contextlib.suppress(OSError):
            if http_get(url, timeout=1)[0] == 200:
                return
        time.sleep(0.1)
    raise CommandFailed(f"{url} did not answer within {timeout} s")
