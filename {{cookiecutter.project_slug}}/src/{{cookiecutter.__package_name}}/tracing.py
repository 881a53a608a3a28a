"""OpenTelemetry traces, on when the standard variables ask for them; not loaded otherwise.

Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
is set and OTEL_SDK_DISABLED is not true; without them nothing of OpenTelemetry is
imported. The SDK reads every other OTEL_* variable itself, as the specification
says: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and its
argument, OTEL_BSP_* (how spans are batched), OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT
and _COMPRESSION. Spans go out over OTLP/HTTP with protobuf, the protocol the
specification makes the default; another OTEL_EXPORTER_OTLP_PROTOCOL stops the
service at start, in one line.

Traced, one trace per request:
- the request, named by its route template, with its dependencies and its handler
  (FastAPI's own spans); not the probes, nor the metrics scrape;
- each database statement (`db.trace_statements`);
{% if cookiecutter.use_redis %}
- each Redis call;
{% endif %}
{% if cookiecutter.use_celery %}
- Celery: enqueueing is a producer span, and the task a consumer span in the worker.
{% endif %}
Log lines carry `trace_id` and `span_id`.
"""

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

from dotenv import dotenv_values
from fastapi.telemetry import TelemetryConfig

PROTOCOL = "http/protobuf"
# Requests that are not traced: the probes and the scrape, called every few seconds.
UNTRACED = frozenset({"/health", "/ready", "/metrics"})


def untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED


# FastAPI's own telemetry: spans only, while a tracer provider is set (see
# `start_exporting`); metrics are Prometheus's, and exporters are set up here.
TELEMETRY: TelemetryConfig = {
    "auto_configure": False,
    "metrics": False,
    "logs": False,
    "exclude": untraced,
}


class TracingMisconfigured(ValueError):
    pass


def tracing_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the variables ask for traces; `TracingMisconfigured` if not in a way this
    service can export. Without `environ`: the process's, with `.env`'s OTEL_* added."""
    if environ is None:
        environ = environment_with_dotenv()
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not any(environ.get(name, "").strip() for name in endpoints):
        return False
    protocol = environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", PROTOCOL)
    )
    if protocol.strip() != PROTOCOL:
        raise TracingMisconfigured(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: this service exports spans over "
            f"{PROTOCOL} (a collector's port 4318)"
        )
    return True


def environment_with_dotenv(env_file: str = ".env") -> Mapping[str, str]:
    """The process environment, joined by the OTEL_* variables `.env` sets and it does not.

    The SDK reads only the environment: without this, a variable would mean something in
    the environment and nothing in `.env`, where every other setting works.
    """
    for name, value in dotenv_values(env_file).items():
        if name.startswith("OTEL_") and value is not None:
            os.environ.setdefault(name, value)
    return os.environ


def trace_app() -> None:
    """The web process: its requests (FastAPI's spans, once a provider is set), and what
    they call."""
    start_exporting()
    from .db import trace_statements

    trace_statements()
{% if cookiecutter.use_redis %}
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().instrument()
{% endif %}
{% if cookiecutter.use_celery %}
    trace_celery()


def trace_celery() -> None:
    """Enqueueing (in the web process) and running tasks (in a worker): one trace."""
    start_exporting()
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    CeleryInstrumentor().instrument()
{% endif %}


def start_exporting() -> None:
    """Once per process: the tracer provider, its batched exporter, and the ids of the
    current span on every log record."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.logging import LoggingInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # The ids only: the service's own handler writes the lines, none is sent as OTel logs.
    LoggingInstrumentor().instrument(
        inject_trace_context=True, enable_log_auto_instrumentation=False
    )
