"""Structured logging: JSON lines in production, readable lines in development.

Every record carries the id of the request it was logged in (`request_id`, set
by asgi-correlation-id's middleware), so one request's lines can be found
together{% if cookiecutter.auth == "oauth2" %}, and whom its token speaks for (`subject`; never the token){% endif %}. The server's loggers (uvicorn, gunicorn) write through the same
handler, so a process writes one format; uvicorn's access line is on in
development (ACCESS_LOG), with its fields as JSON keys.
"""

import json
import logging
import re
import sys
{% if cookiecutter.auth == "oauth2" %}
from contextvars import ContextVar
{% endif %}
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from asgi_correlation_id import CorrelationIdFilter
{% if cookiecutter.auth == "oauth2" %}

# Whom the current request's token speaks for, set by `auth.access`.
subject_var: ContextVar[str | None] = ContextVar("subject", default=None)
{% endif %}

# Loggers of the server and libraries that should write through our handler.
ADOPTED_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "gunicorn.error",
    "gunicorn.access",
)
ACCESS_LOGGER = "uvicorn.access"
# The fields of uvicorn's access line, in the order of its arguments.
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
# Ids from clients are echoed into headers and logs: accept only short, plain ones.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_sane_request_id(value: str) -> bool:
    return SANE_REQUEST_ID.fullmatch(value) is not None


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted, not when configured.

    Test runners and process managers swap `sys.stderr`; a handler holding the old
    stream would write into a closed file.
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def access_fields(record: logging.LogRecord) -> dict[str, Any]:
    if record.name != ACCESS_LOGGER or not isinstance(record.args, tuple):
        return {}
    return dict(zip(ACCESS_FIELDS, record.args, strict=False))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "correlation_id", None),
{% if cookiecutter.auth == "oauth2" %}
            "subject": subject_var.get(),
{% endif %}
            **access_fields(record),
        }
        # Set on every record while traces are on (see `tracing`): "0" outside a span.
        trace_id = getattr(record, "otelTraceID", "0")
        if trace_id != "0":
            entry["trace_id"] = trace_id
            entry["span_id"] = getattr(record, "otelSpanID", "0")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# Control characters, as escapes: a newline a client put in a path or a header would
# otherwise start a line of its own, forged to look like the service's.
ESCAPED_CONTROLS = {
    code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)] if code != ord("\t")
} | {ord("\n"): "\\n", ord("\r"): "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class ConsoleFormatter(logging.Formatter):
    """`time level logger [request id] message`, the id only for lines logged in a request{% if cookiecutter.auth == "oauth2" %}
    (with the subject of its token, if any){% endif %}."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "correlation_id", None)
        record.context = f" [{request_id}]" if request_id else ""
{% if cookiecutter.auth == "oauth2" %}
        if request_id and (subject := subject_var.get()):
            record.context = f" [{request_id} {subject}]"
{% endif %}
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        # The message only: a traceback appended after it keeps its lines.
        record.message = record.message.translate(ESCAPED_CONTROLS)
        return super().formatMessage(record)


def configure_logging(
    level: str, log_format: Literal["json", "console"], *, access_log: bool = False
) -> None:
    handler = StderrHandler()
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ADOPTED_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if access_log else logging.WARNING)
    logging.getLogger("gunicorn.access").setLevel(logging.WARNING)
    # A client that sends a malformed X-Request-ID gets a new id; that is not worth a warning.
    logging.getLogger("asgi_correlation_id").setLevel(logging.ERROR)
