"""Generating a project and running its own tools, as a user or a pipeline would."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

from harness import services
from harness.options import LAYER_TESTS, TEMPLATE_ROOT, needs_redis
from harness.process import (
    CommandFailed,
    clean_environment,
    free_port,
    http_get,
    run,
    stop,
    wait_until_serving,
)

__all__ = [
    "ANSWERS_FILE",
    "LEFTOVER",
    "PRODUCTION_COMMAND",
    "CommandFailed",
    "Project",
    "clean_environment",
    "generate",
    "http_get",
    "run",
    "stop",
]

# The production command, as documented in the generated README and Dockerfile.
PRODUCTION_COMMAND = ["gunicorn", "-c", "gunicorn.conf.py"]
# Every generated project records its answers here, so it can be linked to the template later.
ANSWERS_FILE = ".cookiecutter.json"
# What a generated project's examples hold where a real secret goes.
PLACEHOLDER = "change-me"
# `${{ ... }}` is a GitHub Actions expression, not Jinja.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#|cookiecutter", re.IGNORECASE)


def private_cookiecutter_config(directory: Path) -> Path:
    """A cookiecutter config file whose replay and clone directories are inside `directory`.

    Cookiecutter writes a replay file on every generation; with this config it goes
    there, not into the user's `~/.cookiecutter_replay`. On the command line, pass the
    file with `--config-file` or in `COOKIECUTTER_CONFIG`.
    """
    config = directory / "cookiecutter-config.json"
    settings = {
        "replay_dir": str(directory / "cookiecutter-replay"),
        "cookiecutters_dir": str(directory / "cookiecutters"),
    }
    config.write_text(json.dumps(settings))
    return config


def generate(output_dir: Path, answers: Mapping[str, Any], template: Path = TEMPLATE_ROOT) -> Path:
    """Run cookiecutter non-interactively; answers are given as on the command line."""
    with tempfile.TemporaryDirectory(prefix="cookiecutter-") as home, temporary_files_in(home):
        path = cookiecutter(
            str(template),
            no_input=True,
            extra_context=dict(answers),
            output_dir=str(output_dir),
            config_file=str(private_cookiecutter_config(Path(home))),
        )
    return Path(path)


@contextlib.contextmanager
def temporary_files_in(directory: str) -> Iterator[None]:
    """cookiecutter writes each rendered hook to a temporary file and never deletes it:
    it goes into `directory`, which the caller removes."""
    previous, tempfile.tempdir = tempfile.tempdir, directory
    try:
        yield
    finally:
        tempfile.tempdir = previous


@dataclass
class Project:
    """One generated project with its own environment and the services its options need.

    `name` tells the project apart within the run; its database and Redis keyspace
    are named after it and the run token, so nothing is shared with another project,
    another run or another user of the servers.
    """

    root: Path
    answers: dict[str, Any]
    name: str
    env: dict[str, str] = field(default_factory=dict)
    # The server `serving` runs, and what it printed once it exited.
    server: subprocess.Popen[str] | None = None
    server_output: str = ""
    database_created: bool = False
    claimed_redis_database: int | None = None
    # Where the project's environment lives when it is shared (see `share_environment`).
    environment: Path | None = None

    @property
    def package(self) -> str:
        return self.root.name.replace("-", "_")

    def uv(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return run(["uv", *args], cwd=self.root, env=self.uv_env(), timeout=timeout)

    def uv_env(self) -> dict[str, str]:
        """`env`, plus where the environment is when it is shared.

        Kept out of `env` itself: a caller that builds another environment from `env`
        (an image's, say) must not end up in this one.
        """
        if self.environment is None:
            return dict(self.env)
        return {**self.env, "UV_PROJECT_ENVIRONMENT": str(self.environment)}

    def hold_environment(self) -> None:
        """Make sure a shared environment holds this project, not the last one synced."""
        if self.environment is not None and ENVIRONMENT_HOLDERS.get(self.environment) != self.root:
            self.install()

    def tool(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """A command from the project's environment, never from the caller's."""
        self.hold_environment()
        command, env = self.in_environment(list(args), self.uv_env())
        return run(command, cwd=self.root, env=env, timeout=timeout)

    def in_environment(
        self, command: list[str], env: dict[str, str]
    ) -> tuple[list[str], dict[str, str]]:
        """`command` run in the project's environment, as `uv run --no-sync` runs it.

        A shared environment's path is known, so its commands start directly, with its
        `bin` first on PATH and VIRTUAL_ENV set, as `uv run` does: starting uv itself for
        each of the run's thousands of commands took about 80 ms of CPU every time.
        """
        if self.environment is None:
            return ["uv", "run", "--no-sync", *command], env
        scripts = self.environment / "bin"
        executable = scripts / command[0]
        search = env.get("PATH") or os.environ.get("PATH", os.defpath)
        env = {
            **env,
            "VIRTUAL_ENV": str(self.environment),
            "PATH": f"{scripts}{os.pathsep}{search}",
        }
        return [str(executable) if executable.exists() else command[0], *command[1:]], env

    def install(self, *, dev: bool = True) -> None:
        self.adopt_resolution()
        self.uv("sync", *([] if dev else ["--no-dev"]), timeout=900)
        self.record_resolution()
        if self.environment is not None:
            # Without its dev group the environment is not one `tool` may use as it is.
            ENVIRONMENT_HOLDERS[self.environment] = self.root if dev else Path()

    def adopt_resolution(self) -> None:
        """Projects that share environments share resolutions too: a project without a lock
        starts from the one an identical pyproject.toml got earlier in this run, so that
        `uv sync` installs it instead of resolving the same dependencies again."""
        lock, resolved = self.root / "uv.lock", self.resolution()
        if resolved is not None and resolved.exists() and not lock.exists():
            shutil.copyfile(resolved, lock)

    def record_resolution(self) -> None:
        resolved = self.resolution()
        if resolved is not None and not resolved.exists():
            resolved.parent.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed: a project adopting it never reads half a lock.
            partial = resolved.with_suffix(f".{secrets.token_hex(4)}")
            shutil.copyfile(self.root / "uv.lock", partial)
            partial.replace(resolved)

    def resolution(self) -> Path | None:
        """Where the run keeps the lock of this project's pyproject.toml, if it shares."""
        if self.environment is None:
            return None
        return resolution_of(self.environment.parent, self.root / "pyproject.toml")

    def share_environment(self, environments: Path) -> None:
        """Install into an environment shared with the projects that declare the same
        dependencies, instead of one of its own.

        `uv sync` still installs exactly this project's lock, so the environment holds
        what this project's own would; what is shared is the work of filling it and the
        bytecode its first processes compile, which otherwise every project repeated.
        A project whose environment another project synced since syncs it back first.
        """
        self.environment = environments / dependencies_digest(self.root / "pyproject.toml")

    def provision(self, redis_database: int | None = None) -> None:
        """Create the services this combination talks to.

        `redis_database` is a database the caller claimed and will empty
        (services.claim_redis_database); without one, the project claims its own and
        empties it on release. Its keys and Celery queue carry a prefix of its own.
        """
        # A machine busy with the whole matrix can take seconds to start a database backend
        # or free a pooled connection: wider bounds than production's defaults, so that load
        # is not taken for an outage. (The fault tests set their own, short ones.)
        self.env.update(
            DATABASE_CONNECT_TIMEOUT="15",
            DATABASE_STATEMENT_TIMEOUT="30",
            DATABASE_POOL_TIMEOUT="30",
        )
        if self.answers.get("database") == "postgres":
            self.env["DATABASE_URL"] = services.create_database(self.name)
            self.database_created = True
            self.env["TEST_DATABASE_URL"] = self.env["DATABASE_URL"]
        else:
            self.env["DATABASE_URL"] = f"sqlite+aiosqlite:///{self.root / 'service.db'}"
        if needs_redis(self.answers):
            if redis_database is None:
                redis_database = services.claim_redis_database()
                self.claimed_redis_database = redis_database
            url = services.redis_url(redis_database)
            keyspace = f"tpl-{services.run_token()}-{services.short_name(self.name)}"
            self.env.update(
                REDIS_URL=url,
                TEST_REDIS_URL=url,
                REDIS_KEY_PREFIX=f"{keyspace}:",
                CELERY_BROKER_URL=url,
                CELERY_RESULT_BACKEND=url,
                CELERY_QUEUE=keyspace,
            )

    def release(self) -> None:
        if self.database_created:
            services.drop_database(self.name)
            self.database_created = False
        if self.claimed_redis_database is not None:
            services.release_redis_database(self.claimed_redis_database)
            self.claimed_redis_database = None

    def env_example(self) -> dict[str, str]:
        """The settings `.env.example` sets, by name."""
        lines = (self.root / ".env.example").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))

    def production_secrets(self) -> dict[str, str]:
        """A real value for each setting `.env.example` leaves as the placeholder, as an
        operator sets them before production (which refuses the placeholder)."""
        return {
            name: secrets.token_urlsafe(32)
            for name, value in self.env_example().items()
            if value == PLACEHOLDER
        }

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
    def serving(
        self, command: list[str] = PRODUCTION_COMMAND, extra: Mapping[str, str] | None = None
    ) -> Iterator[str]:
        """Run `command` (the production server by default), with `extra` settings, and yield
        its base URL."""
        self.hold_environment()
        port = free_port()
        settings = {
            **self.uv_env(),
            **(extra or {}),
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
        }
        started, env = self.in_environment(command, settings)
        process = subprocess.Popen(
            started,
            cwd=self.root,
            env=clean_environment(env),
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


# Which project's `uv sync` each shared environment holds, in this process.
ENVIRONMENT_HOLDERS: dict[Path, Path] = {}


def resolution_of(environments: Path, pyproject: Path) -> Path:
    """Where the lock of a pyproject.toml with exactly this text is kept for the run."""
    digest = hashlib.sha256(pyproject.read_bytes()).hexdigest()[:16]
    return environments / "locks" / f"{digest}.lock"


def dependencies_digest(pyproject: Path) -> str:
    """What decides an environment's contents: dependencies, groups, Python, build backend."""
    declared = tomllib.loads(pyproject.read_text())
    relevant = {
        "name": declared["project"]["name"],
        "requires-python": declared["project"].get("requires-python"),
        "dependencies": declared["project"].get("dependencies"),
        "optional-dependencies": declared["project"].get("optional-dependencies"),
        "dependency-groups": declared.get("dependency-groups"),
        "build-system": declared.get("build-system"),
        "tool.uv": declared.get("tool", {}).get("uv"),
        "python": sys.version,
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def is_text(path: Path) -> bool:
    """UTF-8 text; a tool's transient binary file (or one already gone) is not."""
    try:
        path.read_text()
    except (UnicodeDecodeError, FileNotFoundError):
        return False
    return True


def inputs_digest(root: Path, paths: list[str]) -> str:
    """A digest of the files under `paths` (relative to `root`), names and contents."""
    digest = hashlib.sha256()
    for relative in paths:
        top = root / relative
        files = sorted(top.rglob("*")) if top.is_dir() else [top]
        for path in files:
            parts = path.relative_to(root).parts
            if not path.is_file() or "__pycache__" in parts:
                continue
            digest.update(b"\0".join([*(part.encode() for part in parts), path.read_bytes()]))
            digest.update(b"\1")
    return digest.hexdigest()


def mypy_inputs(root: Path) -> list[str]:
    """What `mypy` reads in a generated project: the files its configuration names, the
    configuration, and the environment the lock installs. Two projects that agree on all
    of these get the same verdict."""
    configured = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    return [*configured, "pyproject.toml", "uv.lock"]


# What a generated test suite never reads: the files only `use_docker` adds or changes,
# the README and the answers. tests/test_template_code.py checks that the generated tests
# name none of them. What a run leaves in the project (tool caches, the SQLite file) is
# not an input either.
SUITE_BLIND_TO = frozenset(
    {
        "README.md",
        ANSWERS_FILE,
        ".github",
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "deploy",
        ".venv",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)


def suite_inputs(root: Path) -> list[str]:
    """The top-level files and directories a generated suite can read."""
    return sorted(
        path.name
        for path in root.iterdir()
        if path.name not in SUITE_BLIND_TO and not path.suffix.startswith(".db")
    )


class Verdicts:
    """Checks that passed this run, by the digest of the inputs that decide them.

    A verdict that identical inputs make identical is earned once and shared by the
    run's test workers (`directory` is theirs in common; None remembers nothing). A
    failure is never shared: every project that fails runs the check and shows its
    own output.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.interpreter = f"{sys.version_info[0]}.{sys.version_info[1]}"

    def passed(self, digest: str, *checks: str) -> bool:
        """Whether any of `checks` passed for these inputs."""
        return self.directory is not None and any(
            self.mark(check, digest).exists() for check in checks
        )

    def record(self, digest: str, check: str) -> None:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.mark(check, digest).touch()

    def mark(self, check: str, digest: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{check}-{digest}-{self.interpreter}"


def mypy(project: Project, verdicts: Verdicts) -> None:
    """`mypy` in the project, unless a project with the same inputs already passed this run.

    Options that touch no Python (Docker, for one) give projects mypy cannot tell apart.
    """
    digest = inputs_digest(project.root, mypy_inputs(project.root))
    if not verdicts.passed(digest, "mypy"):
        project.tool("mypy")
        verdicts.record(digest, "mypy")


def own_suite(project: Project, verdicts: Verdicts, *, tier: str) -> None:
    """The project's own pytest suite (harness.options.suite_tier): all of it (`full`),
    its fast tier (`fast`), or the fast tier of the layer tests (`layers`,
    harness.options.LAYER_TESTS).

    Shared like mypy's verdict: combinations that differ only in files the suite never
    reads (`SUITE_BLIND_TO`) cannot differ in its outcome, and a wider pass covers the
    narrower tiers.
    """
    digest = inputs_digest(project.root, suite_inputs(project.root))
    if tier == "full":
        check, enough, selection = "suite-full", ["suite-full"], []
    elif tier == "fast":
        check, enough = "suite-fast", ["suite-full", "suite-fast"]
        selection = ["-m", "not heavy"]
    else:
        present = [path for path in LAYER_TESTS if (project.root / path).exists()]
        check, enough = "suite-layers", ["suite-full", "suite-fast", "suite-layers"]
        selection = ["-m", "not heavy", *present]
    if verdicts.passed(digest, *enough):
        return
    result = project.tool("pytest", "-q", "-p", "no:cacheprovider", *selection)
    if " passed" not in result.stdout:
        raise CommandFailed(f"the suite passed no test:\n{result.stdout[-4000:]}")
    verdicts.record(digest, check)


def booted(project: Project, verdicts: Verdicts) -> bool:
    """Whether a project with the same files the server reads already booted this run."""
    return verdicts.passed(inputs_digest(project.root, suite_inputs(project.root)), "boot")


def record_boot(project: Project, verdicts: Verdicts) -> None:
    verdicts.record(inputs_digest(project.root, suite_inputs(project.root)), "boot")
