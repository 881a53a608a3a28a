"""The production server (`gunicorn -c gunicorn.conf.py`) as an operator meets it."""

import gc
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import PRODUCTION_SECRETS, environment_of

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_ROOT / "gunicorn.conf.py"
# Left out of the server's environment, so that each test says what it sets.
SERVER_VARIABLES = {
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "ENVIRONMENT",
    "SECRET_KEY",
    "DEBUG",
    "DATABASE_URL",
    "METRICS_ENABLED",
    "METRICS_PORT",
    "MAX_REQUESTS",
    "PROMETHEUS_MULTIPROC_DIR",
}


def server_environment(**variables: str) -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    return {**kept, **variables}


def gunicorn(
    *arguments: str, directory: Path, **environment: str
) -> subprocess.CompletedProcess[str]:
    """The server's command, from `directory` (where `.env` is read), run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), *arguments],
        cwd=directory,
        env=server_environment(**environment),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


@contextmanager
def production_server(
    directory: Path,
    port: int,
    *,
    command: tuple[str, ...] = ("gunicorn", "-c", str(CONFIG)),
    environment: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """The production server (or `python -m <command>`) started from `directory`, with
    `environment` besides the test's, once it answers on `port`."""
    log = directory / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=directory,
            env=server_environment(WEB_CONCURRENCY="1", **(environment or {})),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not answers(f"http://127.0.0.1:{port}/health"):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.mark.heavy
def test_the_server_listens_where_the_env_file_says_and_metrics_have_their_own_port(
    tmp_path: Path, settings: Settings
) -> None:
    port, metrics_port = free_port(), free_port()
    services = "".join(f"{name}={value}\n" for name, value in environment_of(settings).items())
    (tmp_path / ".env").write_text(
        f"HOST=127.0.0.1\nPORT={port}\nMETRICS_PORT={metrics_port}\n{services}"
    )

    with production_server(tmp_path, port):
        unknown = get(f"http://127.0.0.1:{port}/no-such-page")
        on_the_app_port = get(f"http://127.0.0.1:{port}/metrics")
        status, metrics = get(f"http://127.0.0.1:{metrics_port}/metrics")

    assert unknown[0] == on_the_app_port[0] == 404
    assert status == 200
    # Counted by the worker, served by the master, which sums every worker's samples.
    # (Scrapes are not counted.)
    assert 'http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in metrics


@pytest.mark.heavy
def test_the_development_server_listens_where_the_env_file_says(
    tmp_path: Path, settings: Settings
) -> None:
    """`make run` is `python -m <package>`: PORT in `.env` moves it, as it moves production."""
    port = free_port()
    services = "".join(f"{name}={value}\n" for name, value in environment_of(settings).items())
    (tmp_path / ".env").write_text(f"PORT={port}\n{services}")

    with production_server(tmp_path, port, command=("{{ cookiecutter.__package_name }}",)):
        status, _ = get(f"http://127.0.0.1:{port}/ready")

    assert status == 200


@pytest.mark.heavy
def test_the_server_tuning_is_read_from_the_env_file_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MAX_REQUESTS=0\nWORKER_TIMEOUT=15\n")

    result = gunicorn("--print-config", directory=tmp_path)

    assert result.returncode == 0, result.stderr
    printed = {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
    }
    assert printed["max_requests"] == "0"
    assert printed["timeout"] == "15"


@pytest.mark.heavy
def test_a_refused_production_configuration_is_one_clear_line(tmp_path: Path) -> None:
    other_secrets = {
        name.upper(): secret.get_secret_value()
        for name, secret in PRODUCTION_SECRETS.items()
        if name != "secret_key"
    }
    result = gunicorn(
        "--check-config",
        directory=tmp_path,
        ENVIRONMENT="production",
        DEBUG="true",
        **other_secrets,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration refused: Refusing to start in production: DEBUG must be false; "
        "SECRET_KEY must be at least 32 random characters (openssl rand -hex 32)."
    ]


@pytest.mark.heavy
def test_a_value_of_the_wrong_kind_is_one_clear_line_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=99999\n")

    result = gunicorn("--check-config", directory=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration refused: PORT: Input should be less than or equal to 65535"
    ]


@pytest.mark.heavy
def test_a_database_url_for_another_driver_is_refused_before_the_server_starts(
    tmp_path: Path, settings: Settings
) -> None:
    """Otherwise the server would start and fail every request."""
    scheme, rest = settings.database_url.split("://", 1)
    dialect, _driver = scheme.split("+")
    # The usual slip: the URL a provider hands out, which names no driver.
    result = gunicorn("--check-config", directory=tmp_path, DATABASE_URL=f"{dialect}://{rest}")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Configuration refused: DATABASE_URL must start with {scheme}://, "
        "the driver this service uses"
    ]


def test_what_start_up_built_is_frozen_and_the_collector_still_runs(app: FastAPI) -> None:
    """The collector skips what lives as long as the worker, and still frees what does not."""
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
