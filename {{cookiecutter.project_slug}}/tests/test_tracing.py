"""Traces: one request is one trace through the service's servers, when the standard
OpenTelemetry variables ask for it; without them, nothing of it is even loaded."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
{% if cookiecutter.use_celery %}
from uuid import uuid4
{% endif %}

import pytest
{% if cookiecutter.use_celery %}
from httpx import AsyncClient
{% endif %}

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.tracing import TracingMisconfigured, tracing_wanted

from tests.collector import Collector, Span
from tests.conftest import {% if cookiecutter.use_celery %}created, {% endif %}environment_of
{% if cookiecutter.use_celery %}
from tests.jobs.fixtures import REDIS_URL, forget_keys
from tests.jobs.test_tasks import start_worker_process, stop
{% endif %}
from tests.test_server_config import free_port, get, production_server

SERVICE = "traced-under-test"
ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


@pytest.fixture
def collector() -> Iterator[Collector]:
    collector = Collector()
    try:
        yield collector
    finally:
        collector.stop()


def traced(collector: Collector) -> dict[str, str]:
    """The variables that point a process at `collector`, exporting within 0.1 s."""
    return {ENDPOINT: collector.url, "OTEL_SERVICE_NAME": SERVICE, "OTEL_BSP_SCHEDULE_DELAY": "100"}


def server_span(spans: list[Span], route: str) -> Span | None:
    return next((s for s in spans if s.attributes.get("http.route") == route), None)


def queries_of(spans: list[Span], route: str) -> list[Span]:
    """The database's spans in the trace of the request to `route`."""
    request = server_span(spans, route)
    if request is None:
        return []
    return [
        span
        for span in spans
        if span.trace_id == request.trace_id and span.name.upper().startswith("SELECT")
    ]


@pytest.mark.heavy
def test_a_request_is_one_trace_through_the_database(
    tmp_path: Path, settings: Settings, collector: Collector
) -> None:
    port = free_port()
    services = "".join(f"{name}={value}\n" for name, value in environment_of(settings).items())
    (tmp_path / ".env").write_text(f"PORT={port}\nLOG_FORMAT=json\nACCESS_LOG=true\n{services}")
    route = "/api/v1/items/{item_id}"

    with production_server(tmp_path, port, environment=traced(collector)):
        assert get(f"http://127.0.0.1:{port}/api/v1/items/424242")[0] == 404
        for probe in ("/health", "/ready", "/metrics"):
            get(f"http://127.0.0.1:{port}{probe}")
        spans = collector.wait_for(lambda spans: bool(queries_of(spans, route)))
    log = (tmp_path / "server.log").read_text().splitlines()

    request = server_span(spans, route)
    assert request is not None
    assert request.name == f"GET {route}"
    assert request.service == SERVICE
    assert queries_of(spans, route)
    assert not [
        s for s in spans if s.attributes.get("url.path") in ("/health", "/ready", "/metrics")
    ]
    access = [json.loads(line) for line in log if line.startswith("{") and "424242" in line]
    assert [entry["trace_id"] for entry in access] == [request.trace_id]


def test_tracing_is_on_only_when_the_variables_say_so() -> None:
    endpoint = {ENDPOINT: "http://collector:4318"}

    assert not tracing_wanted({})
    assert tracing_wanted(endpoint)
    assert tracing_wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318"})
    assert not tracing_wanted({**endpoint, "OTEL_SDK_DISABLED": "true"})
    with pytest.raises(TracingMisconfigured, match="http/protobuf"):
        tracing_wanted({**endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def test_otel_variables_in_dotenv_mean_what_they_mean_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        f"{ENDPOINT}=http://collector:4318\nOTEL_SERVICE_NAME=from-dotenv\nLOG_LEVEL=DEBUG\n"
    )
    monkeypatch.chdir(tmp_path)
    for name in [ENDPOINT, "LOG_LEVEL", *(n for n in os.environ if n.startswith("OTEL_"))]:
        monkeypatch.setenv(name, "")  # restored (or removed) after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-environment")

    assert tracing_wanted()
    assert os.environ[ENDPOINT] == "http://collector:4318"
    assert os.environ["OTEL_SERVICE_NAME"] == "from-environment", "the environment wins"
    assert "LOG_LEVEL" not in os.environ, "only OTEL_* variables are the SDK's to read"


def test_without_the_variables_nothing_of_tracing_is_loaded(tmp_path: Path) -> None:
    """No tracer provider, no exporter, no instrumentation. (FastAPI itself imports
    OpenTelemetry's API, and a library may import its SDK when it is installed.)"""
    probe = (
        "import sys; from opentelemetry import trace; from {{ cookiecutter.__package_name }}.main import app; "
        "print(type(trace.get_tracer_provider()).__name__, sorted(name for name in sys.modules"
        " if name.startswith(('opentelemetry.exporter', 'opentelemetry.instrumentation'))))"
    )
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("OTEL_")
    }

    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    assert loaded.stdout.split() == ["ProxyTracerProvider", "[]"]
{% if cookiecutter.use_celery %}


@pytest.mark.heavy
async def test_a_task_continues_the_trace_of_the_request_that_enqueued_it(
    tmp_path: Path, settings: Settings, collector: Collector, client: AsyncClient
) -> None:
    """Producer span in the web process, consumer span in the worker: one trace."""
    category = await created(client, "/api/v1/categories", {"name": "Traced"})
    port = free_port()
    queue = f"test-traced-{uuid4().hex}"
    celery = {
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_KEY_PREFIX": f"{queue}:",
    }
    services = {**environment_of(settings), **celery, **traced(collector)}
    worker = start_worker_process({**os.environ, **services})
    try:
        with production_server(tmp_path, port, environment={"PORT": str(port), **services}):
            url = f"http://127.0.0.1:{port}/api/v1/categories/{category['id']}/summary"
            async with AsyncClient() as http:
                assert (await http.post(url)).status_code == 202
            spans = collector.wait_for(lambda spans: any(s.name.startswith("run/") for s in spans))
    finally:
        stop(worker)
        forget_keys(f"{queue}:*")

    [enqueued] = [s for s in spans if s.name.startswith("apply_async/")]
    [ran] = [s for s in spans if s.name.startswith("run/")]
    request_span = server_span(spans, "/api/v1/categories/{category_id}/summary")
    assert request_span is not None
    assert enqueued.trace_id == ran.trace_id == request_span.trace_id
    assert ran.parent_id == enqueued.span_id
{% endif %}
