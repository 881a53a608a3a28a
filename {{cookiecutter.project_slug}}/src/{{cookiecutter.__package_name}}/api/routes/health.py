"""Liveness and readiness, for load balancers and orchestrators."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
{% if cookiecutter.use_redis %}
from redis.asyncio import Redis
{% endif %}
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
{% if cookiecutter.use_celery %}
from starlette.concurrency import run_in_threadpool

from ...celery_app import celery_app
{% endif %}

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, Literal["ok", "failing"]]


ALIVE = Health(status="ok").model_dump_json().encode()


@router.get("/health", response_model=Health)
async def health() -> Response:
    """The process is alive; touches nothing else, so it stays cheap and never flaps.

    Probes call this every few seconds on every replica: the body is serialised once.
    """
    return Response(ALIVE, media_type="application/json")


async def _database_answers(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
{% if cookiecutter.use_redis %}


async def _redis_answers(redis: Redis) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await redis.ping()
    except Exception:
        return False
    return True
{% endif %}
{% if cookiecutter.use_celery %}


def _broker_connects() -> bool:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=int(CHECK_TIMEOUT_SECONDS))
    return True


async def _broker_answers() -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS * 2):
            return await run_in_threadpool(_broker_connects)
    except Exception:
        return False
{% endif %}


@router.get(
    "/ready",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
)
async def ready(request: Request, response: Response) -> Readiness:
    """Every dependency answers; a 503 names the ones that do not."""
    state = request.app.state
    checks = {
        "database": await _database_answers(state.engine),
{% if cookiecutter.use_redis %}
        "redis": await _redis_answers(state.redis),
{% endif %}
{% if cookiecutter.use_celery %}
        "broker": await _broker_answers(),
{% endif %}
    }
    if all(checks.values()):
        return Readiness(status="ready", checks=dict.fromkeys(checks, "ok"))
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(
        status="unavailable",
        checks={name: "ok" if answered else "failing" for name, answered in checks.items()},
    )
