"""The one shape of every error response: `{"detail": ..., "request_id": ...}`.

`detail` keeps FastAPI's usual shape (a message, or the list of validation errors
for a 422); `request_id` is the id to quote when asking about a failed request.
Exception handlers and the middleware that answers on its own both build it here.
"""

import json
import math
from collections.abc import Iterable
from typing import Any

from asgi_correlation_id import correlation_id
from pydantic import BaseModel
from starlette.types import Send


def error_body(detail: Any) -> dict[str, Any]:
    return {"detail": printable(detail), "request_id": correlation_id.get()}


def printable(value: Any) -> Any:
    """`value` made serialisable whatever a client sent: an error may echo the input.

    JSON has no NaN or infinity, and UTF-8 cannot encode a lone surrogate (both
    reach a handler through `json.loads`); they are echoed as text instead.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value


async def send_error(
    send: Send, status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """An error response from ASGI middleware, which runs outside FastAPI's handlers."""
    body = json.dumps(error_body(detail), separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ErrorBody(BaseModel):
    """Every error response (see `core.error_body`)."""

    detail: str
    request_id: str | None


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A 422: what was wrong with each part of the request."""

    detail: list[ValidationIssue]
    request_id: str | None


def described(status_code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses` entry, so documented error statuses match real ones."""
    return {status_code: {"model": ErrorBody, "description": description}}
