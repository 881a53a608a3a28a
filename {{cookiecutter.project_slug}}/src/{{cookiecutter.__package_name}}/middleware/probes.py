"""The liveness probe, answered in the outermost layer.

Orchestrators call `/health` every few seconds on every replica: routing, dependency
resolution and the other middleware would cost more than the answer. The route
stays (it documents the endpoint in OpenAPI); this sends the same bytes and headers.

Scrapes of `/metrics` stay a route: they come every 15 s or so, not with the
traffic, and take the whole stack's way out (compression included, where the
service has it).
"""

from collections.abc import Awaitable, Callable

from starlette.types import Send

from ..api.routes.health import ALIVE

Answer = Callable[[Send], Awaitable[None]]
ALIVE_HEADERS = [
    (b"content-length", str(len(ALIVE)).encode()),
    (b"content-type", b"application/json"),
]


async def alive(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [*ALIVE_HEADERS]})
    await send({"type": "http.response.body", "body": ALIVE})


# `GET` paths answered before the app, as the app would answer them.
PROBE_ANSWERS: dict[str, Answer] = {"/health": alive}
