"""Light, fire-and-forget work done after the response is sent (FastAPI `BackgroundTasks`).

It runs in the same process once the client has its answer: right for a log line,
a metric or a best-effort webhook. It is lost if the process dies, and it shares
the worker's CPU, so anything that must not be lost, takes long or needs retries
belongs in a task queue instead.
"""

import logging

logger = logging.getLogger(__name__)


async def announce_item_created(item_id: int, name: str) -> None:
    logger.info("Item %d created: %s", item_id, name)
