"""Gunicorn's worker and logger classes (see gunicorn.conf.py).

The worker is uvicorn's, configured the way uvicorn-worker documents
(`CONFIG_KWARGS`): no `Server` header, since announcing the server software helps
nobody but someone scanning for it, and the access line only when ACCESS_LOG asks
for it (uvicorn formats the line's fields for every request while it is on, even
for a logger that drops them). The logger hands gunicorn's lines to the service's
handler.
"""

from typing import Any, ClassVar

from gunicorn import glogging  # type: ignore[import-untyped]
from uvicorn_worker import UvicornWorker

from .core.config import get_settings


class Worker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "server_header": False,
        "access_log": get_settings().access_log_in_effect,
    }


# Neither gunicorn nor uvicorn-worker ships type hints: mypy sees their classes as Any.
class Logger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's logger without handlers of its own: its records reach the root handler."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.handlers.clear()
            log.propagate = True
