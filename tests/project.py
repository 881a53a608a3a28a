"""Generating a project and running its own tools, as a user or a pipeline would."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

from tests.matrix import TEMPLATE_ROOT

# The production command, as documented in the generated README and Dockerfile.
PRODUCTION_COMMAND = ["gunicorn", "-c", "gunicorn.conf.py"]
# Every generated project records its answers here, so it can be linked to the template later.
ANSWERS_FILE = ".cookiecutter.json"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEMPLATE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEMPLATE_REDIS_URL", "redis://127.0.0.1:6379")


def redis_database() -> int:
    """A Redis database per test worker (1-15): a worker checks one combination at a time."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return 1 + int(worker or 0) % 15


def redis_answers() -> None:
    """A missing Redis is a failure, never a skip."""
    host, _, port = REDIS_SERVER_URL.removeprefix("redis://").partition(":")
    try:
        with socket.create_connection((host, int(port or 6379)), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(16)
    except OSError as error:
        raise CommandFailed(f"Redis at {REDIS_SERVER_URL} is unreachable: {error}") from error
    if not reply.startswith(b"+PONG"):
        raise CommandFailed(f"Redis at {REDIS_SERVER_URL} answered {reply!r} to PING")


class CommandFailed(AssertionError):
    pass


def generate(output_dir: Path, answers: Mapping[str, Any]) -> Path:
    """Run cookiecutter non-interactively; answers are given as on the command line."""
    path = cookiecutter(
        str(TEMPLATE_ROOT),
        no_input=True,
        extra_context=dict(answers),
        output_dir=str(output_dir),
    )
    return Path(path)


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its virtualenv, so tools use the project's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT", "PYTEST_ADDOPTS"}
        and not key.startswith("PYTEST_XDIST")
    }
    env.update(
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env


def run(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise CommandFailed(
            f"`{' '.join(command)}` in {cwd} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-8000:]}\n--- stderr ---\n{result.stderr[-8000:]}"
        )
    return result


def psql(sql: str) -> None:
    """Administer the test PostgreSQL server; a missing server is a failure, never a skip."""
    result = subprocess.run(
        ["psql", POSTGRES_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qc", sql],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandFailed(f"PostgreSQL at {POSTGRES_ADMIN_URL} refused `{sql}`: {result.stderr}")


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


@dataclass
class Project:
    """One generated project with its own environment and, if it needs one, its own database."""

    root: Path
    answers: dict[str, Any]
    name: str
    env: dict[str, str] = field(default_factory=dict)
    # The server `serving` runs, and what it printed once it exited.
    server: subprocess.Popen[str] | None = None
    server_output: str = ""

    @property
    def package(self) -> str:
        return self.root.name.replace("-", "_")

    def uv(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return run(["uv", *args], cwd=self.root, env=self.env, timeout=timeout)

    def tool(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """A command from the project's environment, never from the caller's."""
        return self.uv("run", "--no-sync", *args, timeout=timeout)

    def install(self, *, dev: bool = True) -> None:
        self.uv("sync", *([] if dev else ["--no-dev"]), timeout=900)

    def provision(self) -> None:
        """Create the services this combination talks to, named after it."""
        if self.answers.get("database") == "postgres":
            database = f"tpl_{self.name}"
            psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            psql(f'CREATE DATABASE "{database}"')
            url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
                "postgresql://", "postgresql+asyncpg://"
            )
            self.env["DATABASE_URL"] = f"{url}/{database}"
            self.env["TEST_DATABASE_URL"] = self.env["DATABASE_URL"]
        else:
            self.env["DATABASE_URL"] = f"sqlite+aiosqlite:///{self.root / 'service.db'}"
        if self.answers.get("use_redis") or self.answers.get("use_celery"):
            redis_answers()
            self.env["REDIS_URL"] = f"{REDIS_SERVER_URL}/{redis_database()}"
            self.env["TEST_REDIS_URL"] = self.env["REDIS_URL"]

    def release(self) -> None:
        if self.answers.get("database") == "postgres":
            psql(f'DROP DATABASE IF EXISTS "tpl_{self.name}" WITH (FORCE)')

    def text_files(self) -> Iterator[Path]:
        """The project's own text, without the answers file, which names every option."""
        skip = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not skip.intersection(path.relative_to(self.root).parts):
                if path.suffix in {".db", ".lock"} or path.name.endswith((".db-wal", ".db-shm")):
                    continue
                if path == self.root / ANSWERS_FILE or not is_text(path):
                    continue
                yield path

    @contextlib.contextmanager
    def serving(self, command: list[str] = PRODUCTION_COMMAND) -> Iterator[str]:
        """Run `command` (the production server by default) and yield its base URL."""
        port = free_port()
        env = clean_environment(
            {**self.env, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"}
        )
        process = subprocess.Popen(
            ["uv", "run", "--no-sync", *command],
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        self.server = process
        try:
            wait_until_serving(process, f"{base_url}/health")
            yield base_url
        finally:
            output = stop(process, timeout=30)
        self.server_output = output
        if process.returncode != 0:
            raise CommandFailed(
                f"{command} exited {process.returncode} after SIGTERM:\n{output[-8000:]}"
            )


def is_text(path: Path) -> bool:
    """UTF-8 text; a tool's transient binary file (or one already gone) is not."""
    try:
        path.read_text()
    except (UnicodeDecodeError, FileNotFoundError):
        return False
    return True


def stop(process: subprocess.Popen[str], timeout: float) -> str:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`; returns its output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return process.stdout.read() if process.stdout else ""


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


# `${{ ... }}` is a GitHub Actions expression, not Jinja.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#|cookiecutter", re.IGNORECASE)
