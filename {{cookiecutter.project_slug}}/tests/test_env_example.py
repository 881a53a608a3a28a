"""`.env.example` is where a new team member learns what can be set: it must name all of
it, each setting once, and nothing the service no longer reads."""

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from opentelemetry.sdk import environment_variables

from {{ cookiecutter.__package_name }}.core.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
# `NAME=value`, or `# NAME=value` for one left at its default.
ASSIGNMENT = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=")


def names_in(path: Path) -> list[str]:
    return [
        match.group(1)
        for line in path.read_text().splitlines()
        if (match := ASSIGNMENT.match(line))
    ]


# The variables OpenTelemetry's SDK reads itself (see `tracing`): `.env.example` may show
# some of them, never all.
OPENTELEMETRY = {
    value for name, value in vars(environment_variables).items() if name.startswith("OTEL_")
}


@pytest.fixture(scope="module")
def read_by_the_service(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The service's settings and the production server's own (gunicorn.conf.py's)."""
    script = "import runpy, sys; print(*runpy.run_path(sys.argv[1])['ServerSettings'].model_fields)"
    server = subprocess.run(
        [sys.executable, "-c", script, str(PROJECT_ROOT / "gunicorn.conf.py")],
        # Away from any `.env` of the project's, which the config reads.
        cwd=tmp_path_factory.mktemp("server"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert server.returncode == 0, server.stderr
    return {name.upper() for name in [*Settings.model_fields, *server.stdout.split()]}


def test_the_env_example_names_every_setting_once(read_by_the_service: set[str]) -> None:
    named = Counter(names_in(ENV_EXAMPLE))

    assert sorted(read_by_the_service - set(named)) == [], "add these to .env.example"
    assert sorted(name for name, count in named.items() if count > 1) == [], "named twice"


def test_the_env_example_names_nothing_the_service_no_longer_reads(
    read_by_the_service: set[str],
) -> None:
    unread = sorted(set(names_in(ENV_EXAMPLE)) - read_by_the_service - OPENTELEMETRY)

    assert unread == [], "remove these from .env.example"
