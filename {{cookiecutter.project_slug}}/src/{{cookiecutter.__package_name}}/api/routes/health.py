"""Readiness, for load balancers and orchestrators. (Liveness, `/health`, is answered
by `middleware.probes` before routing: it concerns no route.)"""

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from ...readiness import Outcome
from ..deps import services_of

router = APIRouter(tags=["health"])

# The one dependency without which nothing can be served.
REQUIRED = "database"


class Readiness(BaseModel):
    # degraded: serving, with an optional dependency failing.
    status: Literal["ready", "degraded", "unavailable"]
    # Which dependency fails, where READINESS_DETAILS allows (not in production by default:
    # anyone who can reach `/ready` would learn it).
    checks: dict[str, Outcome] | None = None


@router.get(
    "/ready",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
    response_model_exclude_none=True,
)
async def ready(request: Request, response: Response) -> Readiness:
    """Ready while the database answers: without it nothing can be served.

    Other dependencies only degrade the service (the cache falls back to the
    database, only enqueueing needs the broker), so their failure is reported as
    `degraded` but keeps the replica in the load balancer: otherwise losing an
    optional dependency would take every replica out at once.
    """
    services = services_of(request)
    report = await services.readiness.report()
    details = report if services.settings.readiness_details_in_effect else None
    if report[REQUIRED] == "failing":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="unavailable", checks=details)
    degraded = "failing" in report.values()
    return Readiness(status="degraded" if degraded else "ready", checks=details)
