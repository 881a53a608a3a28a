"""Gunicorn's worker and logger classes (see gunicorn.conf.py).

The worker is uvicorn's, with two changes. No `Server` header: announcing the
server software helps nobody but someone scanning for it. And the HTTP protocol
bounds the size and the time of a request's head (see `http_protocol`), with the
limits from settings. The logger hands gunicorn's lines to the service's handler.
"""

from typing import Any, ClassVar

from gunicorn import glogging  # type: ignore[import-untyped]
from uvicorn_worker import UvicornWorker

from .core.config import get_settings
from .http_protocol import BoundedHttpToolsProtocol


class BoundedProtocol(BoundedHttpToolsProtocol):
    max_head_bytes = get_settings().max_request_head_bytes
    head_timeout = get_settings().request_head_timeout_seconds


class Worker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
        "http": BoundedProtocol,
    }


# Neither gunicorn nor uvicorn-worker ships type hints: mypy sees their classes as Any.
class Logger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's logger without handlers of its own: its records reach the root handler."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.handlers.clear()
            log.propagate = True
