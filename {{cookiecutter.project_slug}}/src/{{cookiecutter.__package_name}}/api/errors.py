"""Exception handlers: every 4xx and 5xx in the shape of `core.error_body`."""

import logging
from collections.abc import Mapping
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.config import Settings
from ..core.error_body import ValidationErrorBody, described, error_body
from ..db import DatabaseUnavailable

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The database is unavailable; try again later"
# FastAPI answers a body it cannot decode (invalid UTF-8, say) with this 400; it is a
# validation error like any other, so it becomes the documented 422.
UNPARSABLE_BODY = "There was an error parsing the body"
# A body refused before it was read whole: close the connection rather than let the
# server read on (and drop) whatever the client still sends.
UNREAD_BODY = frozenset({status.HTTP_408_REQUEST_TIMEOUT, status.HTTP_413_CONTENT_TOO_LARGE})
# The keys of an OpenAPI path item that are operations.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
BODY_NOT_JSON = [
    {
        "type": "json_invalid",
        "loc": ["body"],
        "msg": "The body is not valid UTF-8 JSON",
        "input": None,
    }
]


def error_response(
    status_code: int, detail: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(detail), status_code=status_code, headers=headers)


def allowed_methods(request: Request, matched: str) -> str:
    """The methods of every route at the path, for the `Allow` header.

    Starlette names those of the one route it matched (`matched`), but a path's
    methods are usually routes of their own. The schema has them all, except for
    routes left out of it (such as `/metrics`), which have only their own.
    """
    template = getattr(request.scope.get("route"), "path_format", None)
    operations = request.app.openapi().get("paths", {}).get(template, {})
    methods = {method.upper() for method in operations if method.upper() in HTTP_METHODS}
    methods.update(method.strip() for method in matched.split(",") if method.strip())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < status.HTTP_400_BAD_REQUEST:
            return Response(status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == UNPARSABLE_BODY:
            return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, BODY_NOT_JSON)
        headers = dict(exc.headers or {})
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = allowed_methods(request, headers.get("Allow", ""))
        if exc.status_code in UNREAD_BODY:
            headers["Connection"] = "close"
        return error_response(exc.status_code, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        detail = jsonable_encoder(exc.errors())
        return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(request: Request, exc: DatabaseUnavailable) -> Response:
        logger.warning("Database unavailable: %s", exc)
        return error_response(
            status.HTTP_503_SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE, {"Retry-After": "5"}
        )

    # A crash answers outside every middleware (Starlette's outermost layer sends it),
    # so the id and the fixed headers are added here; the server logs the traceback.
    crash_headers = dict(settings.security_headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        headers = {**crash_headers, "X-Request-ID": correlation_id.get() or ""}
        return error_response(
            status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal Server Error", headers
        )


# Documented for every API route: any of them may meet invalid input or a database outage.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": ValidationErrorBody,
        "description": "Validation Error",
    },
    **described(status.HTTP_503_SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE),
}
