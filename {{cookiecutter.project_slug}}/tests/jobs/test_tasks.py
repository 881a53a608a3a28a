"""Background tasks on a real Celery worker and broker; data is committed, then removed."""

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis import Redis
from sqlalchemy import delete

from {{ cookiecutter.__package_name }}.jobs.app import RetryingTask, celery_app
from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.models import Category, CategoryStats, Item
from {{ cookiecutter.__package_name }}.tasks import refresh_category_stats

from tests.conftest import ClientFactory
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.usefixtures("celery_worker")

ATTEMPTS: Counter[str] = Counter()


@celery_app.task(name="tests.flaky", base=RetryingTask)
def flaky(key: str, failures: int) -> int:
    """Fails with a transient error `failures` times, then succeeds."""
    ATTEMPTS[key] += 1
    if ATTEMPTS[key] <= failures:
        raise ConnectionError("the network hiccuped")
    return ATTEMPTS[key]


@celery_app.task(name="tests.broken")
def broken() -> None:
    raise ValueError("a bug, not worth retrying")


@celery_app.task(name="tests.slow_mark", base=RetryingTask)
def slow_mark(key: str, seconds: float) -> int:
    """Counts its starts, works a while, then marks the work done (idempotently: a SET)."""
    redis = Redis.from_url(celery_app.conf.broker_read_url or celery_app.conf.broker_url)
    starts = redis.incr(f"{key}:starts")
    time.sleep(seconds)
    redis.set(f"{key}:done", "1")
    return int(starts)


async def wait_for_task(client: AsyncClient, task_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            status: dict[str, Any] = (await client.get(f"/api/v1/tasks/{task_id}")).json()
            if status["state"] in {"SUCCESS", "FAILURE"}:
                return status
            await asyncio.sleep(0.1)


@pytest.fixture
async def committed(client_for: ClientFactory) -> AsyncIterator[AsyncClient]:
    """A client with real commits (the worker cannot see a test's open transaction)."""
    async with client_for() as client:
        yield client


@pytest.fixture
async def category_with_items(app: FastAPI, committed: AsyncClient) -> AsyncIterator[int]:
    category = (await committed.post("/api/v1/categories", json={"name": "stats test"})).json()
    for price in (10, 20, 60):
        item = {"name": f"item {price}", "price": price, "category_id": category["id"]}
        assert (await committed.post("/api/v1/items", json=item)).status_code == 201
    yield category["id"]
    async with app.state.engine.begin() as connection:
        for table, column in (
            (CategoryStats, CategoryStats.category_id),
            (Item, Item.category_id),
            (Category, Category.id),
        ):
            await connection.execute(delete(table).where(column == category["id"]))


async def test_an_endpoint_enqueues_and_the_worker_writes_the_result(
    committed: AsyncClient, category_with_items: int
) -> None:
    stats_url = f"/api/v1/categories/{category_with_items}/stats"
    assert (await committed.get(stats_url)).status_code == 404

    accepted = await committed.post(f"{stats_url}/refresh")
    assert accepted.status_code == 202
    status = await wait_for_task(committed, accepted.json()["task_id"])

    assert status["state"] == "SUCCESS"
    stats = (await committed.get(stats_url)).json()
    assert (stats["item_count"], stats["average_price"]) == (3, 30.0)
    assert accepted.json()["status_url"].endswith(f"/api/v1/tasks/{accepted.json()['task_id']}")


async def test_running_the_task_twice_has_the_effect_of_once(category_with_items: int) -> None:
    first = await asyncio.to_thread(
        refresh_category_stats.delay(category_with_items).get, timeout=30
    )
    second = await asyncio.to_thread(
        refresh_category_stats.delay(category_with_items).get, timeout=30
    )

    assert {**first, "refreshed_at": None} == {**second, "refreshed_at": None}
    assert first["item_count"] == 3


async def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    result = flaky.delay("retried", failures=2)

    attempts = await asyncio.to_thread(result.get, timeout=30)

    assert attempts == 3


async def test_status_endpoint_reports_each_state(client: AsyncClient) -> None:
    failed = broken.delay()
    succeeded = flaky.delay("status", failures=0)
    await asyncio.to_thread(succeeded.get, timeout=30)
    await asyncio.to_thread(failed.get, timeout=30, propagate=False)

    unknown = (await client.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000")).json()
    success = (await client.get(f"/api/v1/tasks/{succeeded.id}")).json()
    failure = (await client.get(f"/api/v1/tasks/{failed.id}")).json()

    assert unknown["state"] == "PENDING"
    assert (success["state"], success["result"]) == ("SUCCESS", 1)
    assert (failure["state"], failure["error"]) == ("FAILURE", "ValueError")


async def test_refreshing_an_unknown_category_is_404(client: AsyncClient) -> None:
    response = await client.post("/api/v1/categories/424242/stats/refresh")

    assert response.status_code == 404


@pytest.fixture
def broker_down(broker_proxy: TcpProxy) -> Iterator[None]:
    """The broker becomes unreachable for publishers, then comes back."""
    broker_proxy.stop()
    yield
    broker_proxy.start()


@pytest.mark.usefixtures("broker_down")
async def test_enqueueing_during_a_broker_outage_is_a_clear_503(
    committed: AsyncClient, category_with_items: int
) -> None:
    response = await committed.post(f"/api/v1/categories/{category_with_items}/stats/refresh")

    assert response.status_code == 503
    assert response.json()["detail"] == "The task queue is unavailable; try again later"
    assert response.headers["retry-after"] == "5"


@pytest.mark.usefixtures("broker_down")
async def test_not_ready_names_the_broker_when_it_is_unreachable(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failing"


async def test_enqueueing_works_again_once_the_broker_is_back(
    broker_proxy: TcpProxy, committed: AsyncClient, category_with_items: int
) -> None:
    url = f"/api/v1/categories/{category_with_items}/stats/refresh"
    broker_proxy.stop()
    try:
        assert (await committed.post(url)).status_code == 503
    finally:
        broker_proxy.start()

    accepted = await committed.post(url)

    assert accepted.status_code == 202
    assert (await wait_for_task(committed, accepted.json()["task_id"]))["state"] == "SUCCESS"


def test_a_task_whose_worker_is_killed_is_redelivered_and_completes_once(
    settings: Settings,
) -> None:
    """Late acks: SIGKILL mid-task, and the task runs again on the next worker."""
    broker = celery_app.conf.broker_read_url
    queue = f"test-kill-{os.getpid()}-{time.monotonic_ns()}"
    key = f"{queue}:mark"
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "CELERY_QUEUE": queue,
        # Redelivery of a dead worker's task waits for this; short in a test.
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "2",
    }
    worker = [
        sys.executable, "-m", "celery", "--app", "{{ cookiecutter.__package_name }}.jobs.app",
        "worker", "--pool", "solo", "--include", "tests.test_tasks", "--loglevel", "WARNING",
    ]  # fmt: skip
    redis = Redis.from_url(broker)
    result = slow_mark.apply_async((key, 1.0), queue=queue)
    first = subprocess.Popen(worker, env=environment)
    second = None
    try:
        deadline = time.monotonic() + 60
        while not redis.get(f"{key}:starts"):
            assert time.monotonic() < deadline, "the first worker never started the task"
            time.sleep(0.1)
        first.kill()  # SIGKILL: no chance to hand the task back
        first.wait()
        second = subprocess.Popen(worker, env=environment)
        starts = result.get(timeout=60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        done = redis.get(f"{key}:done")
        redis.delete(f"{key}:starts", f"{key}:done")

    assert starts == 2, "the task was not redelivered after its worker died"
    assert done == b"1"
