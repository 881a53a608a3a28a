"""Uniform error bodies: `{"detail": ..., "request_id": ...}` for every 4xx and 5xx.

`detail` keeps FastAPI's usual shape (a message, or the list of validation errors
for a 422); `request_id` is the id to quote when asking about a failed request.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.logging import request_id_var


def error_response(
    status_code: int, detail: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"detail": detail, "request_id": request_id_var.get()}
    return JSONResponse(body, status_code=status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < status.HTTP_400_BAD_REQUEST:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return error_response(exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        detail = jsonable_encoder(exc.errors())
        return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def described(status_code: int, description: str) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses` entry, so documented error statuses match real ones."""
    return {status_code: {"description": description}}


@asynccontextmanager
async def conflict_on_integrity_error(session: AsyncSession, detail: str) -> AsyncIterator[None]:
    """A unique or foreign-key violation is the client's conflict, not a server error."""
    try:
        yield
    except IntegrityError:
        await session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail) from None
