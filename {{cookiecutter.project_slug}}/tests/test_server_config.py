"""The production server's configuration (gunicorn.conf.py) as an operator meets it."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from {{ cookiecutter.__package_name }}.core.config import Settings

from tests.conftest import ClientFactory

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_ROOT / "gunicorn.conf.py"
SERVER_VARIABLES = {
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "ENVIRONMENT",
    "SECRET_KEY",
    "DEBUG",
    "METRICS_PORT",
}


def run_python(
    script: str, *args: str, directory: Path, **environment: str
) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter, without the server settings of the tests' environment."""
    env = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=directory,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def load_config(directory: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """Evaluate gunicorn.conf.py as gunicorn does, from `directory` (where `.env` is read)."""
    script = f"import runpy; config = runpy.run_path({str(CONFIG)!r}); print(config['bind'])"
    return run_python(script, directory=directory, **environment)


def test_the_server_listens_where_the_env_file_says(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HOST=127.0.0.1\nPORT=18080\n")

    result = load_config(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "127.0.0.1:18080"


def test_a_refused_production_configuration_is_one_clear_line(tmp_path: Path) -> None:
    result = load_config(tmp_path, ENVIRONMENT="production", DEBUG="true")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration refused: Refusing to start in production: DEBUG must be false; "
        "SECRET_KEY must be at least 32 random characters (openssl rand -hex 32)."
    ]


def test_a_database_url_for_another_driver_is_refused_before_the_server_starts(
    tmp_path: Path, settings: Settings
) -> None:
    """The engine is built at the first write, too late to find out."""
    scheme, rest = settings.database_url.split("://", 1)
    dialect, _driver = scheme.split("+")
    # The usual slip: the URL a provider hands out, which names no driver (SQLAlchemy's default).
    result = load_config(tmp_path, DATABASE_URL=f"{dialect}://{rest}")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Configuration refused: DATABASE_URL must start with {scheme}://, "
        "the driver this service uses"
    ]


def test_metrics_are_served_on_their_own_port_when_one_is_set(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = (
        f"import runpy, urllib.request; config = runpy.run_path({str(CONFIG)!r}); "
        "config['on_starting'](None); config['when_ready'](None); "
        f"print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics').status); "
        "config['on_exit'](None)"
    )
    env = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**env, "HOST": "127.0.0.1", "METRICS_PORT": str(port)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200"


async def test_the_application_port_does_not_serve_metrics_when_they_have_their_own(
    client_for: ClientFactory,
) -> None:
    async with client_for(metrics_port=9100) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/health")).status_code == 200


def test_the_collector_runs_once_the_app_is_imported() -> None:
    """The app module pauses the garbage collector while it builds the app; left paused, a
    worker would never free a reference cycle again."""
    script = "import gc, importlib, sys; importlib.import_module(sys.argv[1]); "
    script += "print(gc.isenabled(), gc.get_freeze_count() > 0)"
    app_module = "{{ cookiecutter.__package_name }}.main"
    result = run_python(script, app_module, directory=PROJECT_ROOT)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
