"""Production server: gunicorn supervising uvicorn workers.

Where to listen, how many workers and which proxies to trust come from the
service's own settings, and the server's tuning from `ServerSettings` below:
both are read from the environment and `.env`, so `PORT=18080` or
`MAX_REQUESTS=0` in `.env` means the same to the server as to everything else.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from {{ cookiecutter.__package_name }}.core.config import get_settings
from {{ cookiecutter.__package_name }}.core.logging import configure_logging
from {{ cookiecutter.__package_name }}.tracing import TracingMisconfigured, tracing_wanted


class ServerSettings(BaseSettings):
    """What only the server reads; `.env.example` lists these with the service's settings."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Recycle workers now and then so slow leaks cannot grow forever; jitter keeps
    # them from restarting all at once. A restart closes the worker's kept-alive
    # connections and pauses it while the new one imports the app: at a few thousand
    # requests a second per worker, a million is a restart every few minutes, not
    # every few seconds. 0: never.
    max_requests: int = Field(default=1_000_000, ge=0)
    max_requests_jitter: int = Field(default=100_000, ge=0)
    # Time for in-flight requests to finish after SIGTERM before workers are killed.
    graceful_timeout: int = Field(default=30, ge=1)
    # A worker that has not reported to the master for this long is killed and replaced.
    worker_timeout: int = Field(default=60, ge=1)
    keepalive: int = Field(default=5, ge=0)
    # Where the workers share their metrics; unset: a fresh temporary directory.
    prometheus_multiproc_dir: str | None = None


def refusal(error: ValidationError) -> str:
    """One line an operator can act on, not a traceback through gunicorn's config loader."""
    reasons = []
    for problem in error.errors():
        message = str(problem["msg"])
        if problem["type"] == "value_error":
            # The service's own checks, which name what they refuse.
            reasons.append(message.removeprefix("Value error, "))
        else:
            name = ".".join(str(part) for part in problem["loc"]).upper()
            reasons.append(f"{name}: {message}")
    return "Configuration refused: " + "; ".join(reasons)


try:
    settings = get_settings()
    server_settings = ServerSettings()
    tracing_wanted()
except ValidationError as error:
    sys.exit(refusal(error))
except TracingMisconfigured as error:
    sys.exit(f"Configuration refused: {error}")

wsgi_app = "{{ cookiecutter.__package_name }}.main:app"
bind = f"{settings.host}:{settings.port}"
# Async workers each use one core fully; more workers than cores only add memory.
workers = settings.web_concurrency or os.cpu_count() or 1
worker_class = "{{ cookiecutter.__package_name }}.gunicorn_worker.Worker"
max_requests = server_settings.max_requests
max_requests_jitter = server_settings.max_requests_jitter
graceful_timeout = server_settings.graceful_timeout
timeout = server_settings.worker_timeout
keepalive = server_settings.keepalive
# Trust X-Forwarded-* only from these addresses (the load balancer).
forwarded_allow_ips = settings.forwarded_allow_ips
# Gunicorn's own lines go through the service's handler, in the service's format; the
# access line comes from the application (ACCESS_LOG), with the request id.
configure_logging(settings.log_level, settings.log_format_in_effect)
logger_class = "{{ cookiecutter.__package_name }}.gunicorn_worker.Logger"
accesslog = None
# Gunicorn's control socket lives in $HOME, which a container user may not have.
control_socket_disable = True


# Directories this file created, to remove when the server exits.
TEMPORARY_DIRECTORIES: list[str] = []


def on_starting(server: Any) -> None:
    """Give the workers one directory for metrics, empty at start.

    Each worker writes its samples there and `/metrics` sums them; files left by a
    previous run would be summed in too. Without PROMETHEUS_MULTIPROC_DIR, a
    temporary directory is made here and removed on exit. (prometheus_client picks
    where samples go when it is first imported: only the hooks below import it,
    after this.)
    """
    directory = server_settings.prometheus_multiproc_dir
    if directory:
        # Empty it rather than remove it: it may be a mount point (tmpfs, emptyDir).
        Path(directory).mkdir(parents=True, exist_ok=True)
        for leftover in Path(directory).glob("*.db"):
            leftover.unlink()
    else:
        directory = tempfile.mkdtemp(prefix="metrics-")
        TEMPORARY_DIRECTORIES.append(directory)
    # Inherited by the workers, whether it came from the environment or `.env`.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def on_exit(server: Any) -> None:
    for directory in TEMPORARY_DIRECTORIES:
        shutil.rmtree(directory, ignore_errors=True)


def when_ready(server: Any) -> None:
    """With METRICS_PORT, every worker's samples are served there, off the application port."""
    if settings.metrics_enabled and settings.metrics_port is not None:
        from prometheus_client import CollectorRegistry, start_http_server
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        # prometheus_client's multiprocess module has no type annotations.
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(settings.metrics_port, addr=settings.host, registry=registry)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a finished worker's live gauges (in-flight requests) from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
