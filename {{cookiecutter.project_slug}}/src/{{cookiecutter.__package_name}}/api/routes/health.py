"""Readiness, for load balancers and orchestrators. (Liveness, `/health`, is answered
by `middleware.probes` before routing: it concerns no route.)"""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from ...services import Check
from ..deps import services_of

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 2.0
# The one dependency without which nothing can be served.
REQUIRED = "database"
Outcome = Literal["ok", "failing"]


class Readiness(BaseModel):
    # degraded: serving, with an optional dependency (named in `checks`) failing.
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, Outcome]


async def outcome(check: Check) -> Outcome:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check()
    except Exception:
        return "failing"
    return "ok"


@router.get("/ready", responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}})
async def ready(request: Request, response: Response) -> Readiness:
    """Ready while the database answers: without it nothing can be served.

    Other dependencies only degrade the service (the cache falls back to the
    database, only enqueueing needs the broker), so their failure is reported in
    the body but keeps the replica in the load balancer: otherwise losing an
    optional dependency would take every replica out at once.
    """
    checks = services_of(request).checks
    outcomes = await asyncio.gather(*(outcome(check) for check in checks.values()))
    report = dict(zip(checks, outcomes, strict=True))
    if report[REQUIRED] == "failing":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="unavailable", checks=report)
    degraded = "failing" in report.values()
    return Readiness(status="degraded" if degraded else "ready", checks=report)
