"""The one pass every request makes on its way in and out of the app.

Request id, timing, security headers, the access log, metrics, the body limit,
probes and the clean 500 are separate concerns, but as separate middleware each
wrapped `send` again and added a layer to every request (together they cost more
than a small endpoint). Here they share one wrapper, and each stays a small
function of its own module.
"""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api import PROBE_PATHS
from ..core.config import Settings
from ..core.error_body import send_error
from ..core.logging import request_id_var
from .body_limit import (
    CLOSE,
    BodyTooLarge,
    BodyTooSlow,
    bounded_receive,
    declared_length,
    declared_too_large,
    may_have_body,
)
from .metrics import TALLY
from .probes import PROBE_ANSWERS
from .request_context import (
    PROCESS_TIME_HEADER,
    REQUEST_ID_HEADER,
    encoded_headers,
    incoming_request_id,
    log_access,
)

logger = logging.getLogger(__name__)


class EdgeMiddleware:
    """Tags, times, bounds and counts each request; answers probes itself.

    The id comes from `X-Request-ID` when the client (or a proxy) sent a sane one;
    `X-Process-Time` is the time spent in the application, in seconds. Probes and
    scrapes are not counted (they would drown the traffic that matters), and
    `/health` is not even passed on: its answer needs nothing from the app.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.fixed_headers = encoded_headers(settings.security_headers)
        self.access_log = settings.access_log_in_effect
        self.metrics = settings.metrics_enabled
        self.max_bytes = settings.max_request_body_bytes
        self.chunk_timeout = settings.request_body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                    (PROCESS_TIME_HEADER, b"%.6f" % (time.perf_counter() - started)),
                    *self.fixed_headers,
                ]
            await send(message)

        counted = self.metrics and scope["path"] not in PROBE_PATHS
        if counted:
            TALLY.started()
        try:
            await self.dispatch(scope, receive, send_tagged)
        except Exception as error:
            if not status and isinstance(error, BodyTooLarge | BodyTooSlow):
                # Raised by a read outside the app's exception handlers.
                await send_error(send_tagged, error.status_code, error.detail, CLOSE)
                return
            # The trace goes to the log; the client gets the id to quote, nothing more.
            logger.exception("Unhandled error in %s %s", scope["method"], scope["path"])
            if status:
                raise
            await send_error(send_tagged, 500, "Internal Server Error")
        finally:
            elapsed = time.perf_counter() - started
            if counted:
                TALLY.finished(scope, status or 500, elapsed)
            if self.access_log:
                log_access(scope, status or 500, elapsed)
            request_id_var.reset(token)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = PROBE_ANSWERS.get(scope["path"])
        if answer is not None and scope["method"] == "GET":
            await answer(send)
            return
        declared = declared_length(scope)
        if not may_have_body(scope, declared):
            await self.app(scope, receive, send)
        elif declared_too_large(declared, self.max_bytes):
            await send_error(send, 413, BodyTooLarge(self.max_bytes).detail, CLOSE)
        else:
            bounded = bounded_receive(receive, self.max_bytes, self.chunk_timeout)
            await self.app(scope, bounded, send)
