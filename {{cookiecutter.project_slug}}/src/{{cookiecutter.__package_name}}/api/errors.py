"""Exception handlers: every 4xx and 5xx in the shape of `core.error_body`."""

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.error_body import error_body
from ..reads import DatabaseUnavailable

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The database is unavailable; try again later"
# FastAPI answers a body it cannot decode (invalid UTF-8, say) with this 400; it is a
# validation error like any other, so it becomes the documented 422.
UNPARSABLE_BODY = "There was an error parsing the body"
BODY_NOT_JSON = [
    {
        "type": "json_invalid",
        "loc": ["body"],
        "msg": "The body is not valid UTF-8 JSON",
        "input": None,
    }
]
# The database could not be reached or is overloaded: not the request's fault, and
# worth retrying. (A bad query raises ProgrammingError, which stays a 500.)
# A connect or statement timeout surfaces as the builtin TimeoutError; the other
# services a handler calls (cache, broker) handle their own timeouts.
DATABASE_DOWN = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    ConnectionError,
    TimeoutError,
    DatabaseUnavailable,
)


def database_is_down(exc: Exception) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True  # the connection died under the query
    return isinstance(exc, DATABASE_DOWN)


def error_response(
    status_code: int, detail: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(detail), status_code=status_code, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method of the path, not only those of the route Starlette happened to match."""
    template = getattr(request.scope.get("route"), "path_format", None)
    operations = request.app.openapi().get("paths", {}).get(template, {})
    return ", ".join(sorted(method.upper() for method in operations))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < status.HTTP_400_BAD_REQUEST:
            return Response(status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == UNPARSABLE_BODY:
            return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, BODY_NOT_JSON)
        headers = dict(exc.headers or {})
        if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            headers["Allow"] = allowed_methods(request)
        return error_response(exc.status_code, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        detail = jsonable_encoder(exc.errors())
        return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)

    async def database_error(request: Request, exc: Exception) -> Response:
        if not database_is_down(exc):
            logger.error("Database error", exc_info=exc)
            return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal Server Error")
        logger.warning("Database unavailable: %r", exc)
        return error_response(
            status.HTTP_503_SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE, {"Retry-After": "5"}
        )

    for error in (DBAPIError, *DATABASE_DOWN):
        app.add_exception_handler(error, database_error)


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


# Documented for every API route: any of them may meet invalid input or a database outage.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": ValidationErrorBody,
        "description": "Validation Error",
    },
    **described(status.HTTP_503_SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE),
}


Constraint = Literal["unique", "foreign_key", "not_null", "check", "unknown"]
# SQLSTATE codes of integrity violations, and the messages of drivers that have none.
SQLSTATES: dict[str, Constraint] = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
}
MESSAGES: dict[str, Constraint] = {
    "UNIQUE constraint failed": "unique",
    "FOREIGN KEY constraint failed": "foreign_key",
    "NOT NULL constraint failed": "not_null",
    "CHECK constraint failed": "check",
}


def violated_constraint(error: IntegrityError) -> Constraint:
    for cause in (error.orig, getattr(error.orig, "__cause__", None)):
        if (code := getattr(cause, "sqlstate", None)) in SQLSTATES:
            return SQLSTATES[code]
    message = str(error.orig)
    return next((kind for text, kind in MESSAGES.items() if text in message), "unknown")


@asynccontextmanager
async def conflicts(session: AsyncSession, **details: str) -> AsyncIterator[None]:
    """Constraint violations the client caused become a 409 with the matching detail.

    `details` maps a kind of constraint (`unique`, `foreign_key`) to its message; a
    violation of any other kind is a bug and stays a 500.
    """
    try:
        yield
    except IntegrityError as error:
        await session.rollback()
        kind = violated_constraint(error)
        if kind not in details:
            raise
        raise HTTPException(status.HTTP_409_CONFLICT, detail=details[kind]) from None
