"""Turning database constraint violations into client errors."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession


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
