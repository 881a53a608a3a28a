"""The liveness probe, answered before routing.

Orchestrators call `/health` every few seconds on every replica. It concerns no
route and needs nothing of the app (a process that answers is alive), so it is
answered here, before routing, dependencies and the middleware further in.
Readiness (`/ready`) is a route: it asks the database.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.error_body import send_error

HEALTH = "/health"
PROBE_METHODS = ("GET", "HEAD")
ALIVE = b'{"status":"ok"}'
ALIVE_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(ALIVE)).encode()),
]
# What another method on the probe gets, as from a route that declared GET and HEAD.
ALLOW = [(b"allow", ", ".join(PROBE_METHODS).encode())]


class ProbeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != HEALTH:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in PROBE_METHODS:
            await send_error(send, 405, "Method Not Allowed", ALLOW)
            return
        await send({"type": "http.response.start", "status": 200, "headers": ALIVE_HEADERS})
        body = ALIVE if scope["method"] == "GET" else b""
        await send({"type": "http.response.body", "body": body})
