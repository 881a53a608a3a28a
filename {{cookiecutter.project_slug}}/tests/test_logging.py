"""What the logs say: one access line per request, the request id, fields as JSON keys."""

import json
import logging

import pytest
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.core.logging import (
    ConsoleFormatter,
    JsonFormatter,
    RequestIdFilter,
)
from {{ cookiecutter.__package_name }}.main import create_app


async def test_development_logs_one_access_line_per_request_including_4xx(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings.model_copy(update={"environment": "development"}))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        with caplog.at_level(logging.INFO, logger="access"):
            response = await client.get("/api/v1/items/424242")

    lines = [record for record in caplog.records if record.name == "access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status) == ("GET", "/api/v1/items/424242", 404)  # type: ignore[attr-defined]
    assert line.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]


def test_the_access_line_is_off_by_default_outside_development() -> None:
    assert Settings(environment="test").access_log_in_effect is False
    assert Settings(environment="development").access_log_in_effect is True


def record(message: str, **fields: object) -> logging.LogRecord:
    entry = logging.LogRecord("access", logging.INFO, __file__, 1, message, None, None)
    entry.__dict__.update(fields)
    RequestIdFilter().filter(entry)
    return entry


def test_json_lines_carry_the_access_fields_as_keys() -> None:
    fields = {"method": "GET", "path": "/health", "status": 200, "duration_ms": 1.5}

    entry = json.loads(JsonFormatter().format(record("GET /health 200 1.5ms", **fields)))

    assert {key: entry[key] for key in fields} == fields
    assert entry["message"] == "GET /health 200 1.5ms"


def test_console_lines_outside_a_request_have_no_empty_request_id() -> None:
    line = ConsoleFormatter().format(record("Started"))

    assert "[None]" not in line
    assert line.endswith("access Started")
