"""The gunicorn worker class (see gunicorn.conf.py): uvicorn's, minus the `Server` header.

Announcing the server software helps nobody but someone scanning for it.
"""

from typing import Any

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {**UvicornWorker.CONFIG_KWARGS, "server_header": False}
