"""Production server: gunicorn supervising uvicorn workers.

Where to listen, how many workers and which proxies to trust come from the
service's own settings (environment and `.env`), so `PORT=18080` in `.env` means
the same to the server as to everything else; tuning knobs below are read from
the environment.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from {{ cookiecutter.__package_name }}.core.config import get_settings
from {{ cookiecutter.__package_name }}.core.logging import configure_logging

try:
    settings = get_settings()
except ValidationError as error:
    # One line an operator can act on, not a traceback through gunicorn's config loader.
    reasons = "; ".join(
        str(problem["msg"]).removeprefix("Value error, ") for problem in error.errors()
    )
    sys.exit(f"Configuration refused: {reasons}")

wsgi_app = "{{ cookiecutter.__package_name }}.main:app"
bind = f"{settings.host}:{settings.port}"
# Async workers each use one core fully; more workers than cores only add memory.
workers = settings.web_concurrency or os.cpu_count() or 1
worker_class = "{{ cookiecutter.__package_name }}.gunicorn_worker.Worker"
# Recycle workers now and then so slow leaks cannot grow forever; jitter keeps
# them from restarting all at once. A restart closes the worker's kept-alive
# connections and pauses it while the new one imports the app: at a few thousand
# requests a second per worker, a million is a restart every few minutes, not
# every few seconds.
max_requests = int(os.environ.get("MAX_REQUESTS", "1000000"))
max_requests_jitter = int(os.environ.get("MAX_REQUESTS_JITTER", "100000"))
# Time for in-flight requests to finish after SIGTERM before workers are killed.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "60"))
keepalive = int(os.environ.get("KEEPALIVE", "5"))
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
    temporary directory is made here and removed on exit.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Empty it rather than remove it: it may be a mount point (tmpfs, emptyDir).
        Path(directory).mkdir(parents=True, exist_ok=True)
        for leftover in Path(directory).glob("*.db"):
            leftover.unlink()
    else:
        temporary = tempfile.mkdtemp(prefix="metrics-")
        TEMPORARY_DIRECTORIES.append(temporary)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = temporary


def on_exit(server: Any) -> None:
    for directory in TEMPORARY_DIRECTORIES:
        shutil.rmtree(directory, ignore_errors=True)


def when_ready(server: Any) -> None:
    """With METRICS_PORT, every worker's samples are served there, off the application port."""
    if settings.metrics_enabled and settings.metrics_port is not None:
        from prometheus_client import CollectorRegistry, start_http_server
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(settings.metrics_port, addr=settings.host, registry=registry)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a finished worker's live gauges (in-flight requests) from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
