"""What the logs say: uvicorn's access line, the request id, fields as JSON keys."""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import Context
from typing import Any

import pytest
from asgi_correlation_id import CorrelationIdFilter
from httpx import AsyncClient

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.core.logging import ConsoleFormatter, JsonFormatter
from {{ cookiecutter.__package_name }}.main import create_app

from tests.live_server import serving

# As uvicorn logs it: the format, then the client, method, path, HTTP version and status.
ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d'


@contextmanager
def served(settings: Settings, **overrides: Any) -> Iterator[str]:
    """The app behind uvicorn, whose access line is the service's (logging left as the app
    configured it, as under gunicorn's workers)."""
    app = create_app(settings.model_copy(update={"log_format": "json", **overrides}))
    with serving(app, log_config=None, log_level=None) as (host, port):
        yield f"http://{host}:{port}"


def access_lines(err: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry["logger"] == "uvicorn.access"]


async def test_development_logs_one_access_line_per_request_with_its_fields_and_id(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with served(settings, environment="development") as url:
        async with AsyncClient(base_url=url) as client:
            missing = await client.get("/api/v1/items/424242?x=1")
            alive = await client.get("/health", headers={"X-Request-ID": "probe-1"})

    [first, second] = access_lines(capsys.readouterr().err)
    assert first["client"].startswith("127.0.0.1:")
    assert {key: first[key] for key in ("method", "path", "http_version", "status")} == {
        "method": "GET",
        "path": "/api/v1/items/424242?x=1",
        "http_version": "1.1",
        "status": 404,
    }
    assert first["request_id"] == missing.headers["x-request-id"]
    assert (second["path"], second["status"], second["request_id"]) == ("/health", 200, "probe-1")
    assert alive.status_code == 200


async def test_there_is_no_access_line_by_default_outside_development(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with served(settings) as url:
        async with AsyncClient(base_url=url) as client:
            assert (await client.get("/api/v1/items/424242")).status_code == 404

    assert access_lines(capsys.readouterr().err) == []
    for environment, access_log in [("production", False), ("development", True)]:
        chosen = settings.model_copy(update={"environment": environment})
        assert chosen.access_log_in_effect is access_log
    assert settings.model_copy(update={"access_log": True}).access_log_in_effect is True


def outside_a_request(message: str, *args: object) -> logging.LogRecord:
    """A record as the service's handler sees it when no request is being answered."""
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, message, args, None)
    Context().run(CorrelationIdFilter().filter, record)
    return record


def test_json_lines_carry_uvicorns_access_fields_as_keys() -> None:
    args = ("10.0.0.7:52100", "POST", "/api/v1/items", "1.1", 201)
    record = outside_a_request(ACCESS_FORMAT, *args)
    record.name = "uvicorn.access"

    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == '10.0.0.7:52100 - "POST /api/v1/items HTTP/1.1" 201'
    assert {key: entry[key] for key in ("client", "method", "path", "http_version", "status")} == {
        "client": "10.0.0.7:52100",
        "method": "POST",
        "path": "/api/v1/items",
        "http_version": "1.1",
        "status": 201,
    }


def test_lines_outside_a_request_have_no_empty_request_id() -> None:
    record = outside_a_request("Started server process [%d]", 42)

    line = ConsoleFormatter().format(record)
    entry = json.loads(JsonFormatter().format(record))

    assert line.endswith(" uvicorn.error Started server process [42]")
    assert "[None]" not in line
    assert "[]" not in line
    assert entry["request_id"] is None
    assert "client" not in entry


def test_a_newline_in_a_path_cannot_forge_a_console_line() -> None:
    """`GET /x%0a2026-01-01 ... INFO` would otherwise print a line of its own."""
    forged = "/x\n2026-01-01 00:00:00,000 INFO    auth admin signed in\r"
    record = outside_a_request(ACCESS_FORMAT, "10.0.0.7:52100", "GET", forged, "1.1", 404)
    record.name = "uvicorn.access"

    line = ConsoleFormatter().format(record)

    assert "\n" not in line
    assert "\r" not in line
    assert "/x\\n2026-01-01" in line


def test_a_traceback_keeps_its_lines_on_the_console() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord("svc", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    lines = ConsoleFormatter().format(record).splitlines()

    assert lines[0].endswith("failed")
    assert lines[-1] == "ValueError: broken"
