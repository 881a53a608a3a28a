"""Background tasks on a real Celery worker and broker; data is committed, then removed."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis import Redis
from sqlalchemy import delete

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.jobs.app import RetryingTask, celery_app
from {{ cookiecutter.__package_name }}.jobs.tasks import summarise_category
from {{ cookiecutter.__package_name }}.models import Category, Item

from tests.conftest import ClientFactory
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.usefixtures("celery_worker")

ATTEMPTS: Counter[str] = Counter()
# Failing fast is the contract, not a performance figure: without it a request hung for 19 s.
FAILS_FAST_SECONDS = 5


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


async def wait_for_task(client: AsyncClient, status_url: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            status: dict[str, Any] = (await client.get(status_url)).json()
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
    category = (await committed.post("/api/v1/categories", json={"name": "summary test"})).json()
    for price in (10, 20, 60):
        item = {"name": f"item {price}", "price": price, "category_id": category["id"]}
        assert (await committed.post("/api/v1/items", json=item)).status_code == 201
    yield category["id"]
    async with app.state.database.engine.begin() as connection:
        await connection.execute(delete(Item).where(Item.category_id == category["id"]))
        await connection.execute(delete(Category).where(Category.id == category["id"]))


def summary_url(category_id: int) -> str:
    return f"/api/v1/categories/{category_id}/summary"


async def test_a_summary_is_computed_by_the_worker_and_read_at_its_status_url(
    committed: AsyncClient, category_with_items: int
) -> None:
    accepted = await committed.post(summary_url(category_with_items))

    assert accepted.status_code == 202
    task_id = accepted.json()["task_id"]
    assert accepted.json()["status_url"] == f"/api/v1/tasks/{task_id}"
    status = await wait_for_task(committed, accepted.json()["status_url"])
    assert status == {
        "task_id": task_id,
        "state": "SUCCESS",
        "result": {"category_id": category_with_items, "item_count": 3, "average_price": 30.0},
        "error": None,
    }


async def test_the_status_url_never_names_the_host_the_client_sent(
    committed: AsyncClient, category_with_items: int
) -> None:
    response = await committed.post(
        summary_url(category_with_items), headers={"Host": "evil.example"}
    )

    assert response.status_code == 202
    assert "evil.example" not in response.text
    assert response.json()["status_url"].startswith("/api/v1/tasks/")


async def test_summarising_twice_gives_the_same_result(category_with_items: int) -> None:
    first = await asyncio.to_thread(summarise_category.delay(category_with_items).get, timeout=30)
    second = await asyncio.to_thread(summarise_category.delay(category_with_items).get, timeout=30)

    assert first == second
    assert first["item_count"] == 3


async def test_summarising_an_unknown_category_is_404(client: AsyncClient) -> None:
    response = await client.post(summary_url(424242))

    assert response.status_code == 404
    assert response.json()["detail"] == "Category not found"


async def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    result = flaky.delay("retried", failures=2)

    attempts = await asyncio.to_thread(result.get, timeout=30)

    assert attempts == 3


async def test_status_endpoint_reports_each_state(client: AsyncClient) -> None:
    failed = broken.delay()
    succeeded = flaky.delay("status", failures=0)
    await asyncio.to_thread(succeeded.get, timeout=30)
    await asyncio.to_thread(failed.get, timeout=30, propagate=False)

    unknown = await client.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000")
    success = (await client.get(f"/api/v1/tasks/{succeeded.id}")).json()
    failure = (await client.get(f"/api/v1/tasks/{failed.id}")).json()

    assert (unknown.status_code, unknown.json()["state"]) == (200, "PENDING")
    assert (success["state"], success["result"]) == ("SUCCESS", 1)
    assert (failure["state"], failure["error"]) == ("FAILURE", "ValueError")


@pytest.fixture
def broker_down(broker_proxy: TcpProxy) -> Iterator[None]:
    """The broker becomes unreachable for publishers, then comes back."""
    broker_proxy.stop()
    yield
    broker_proxy.start()


@pytest.fixture
def result_store_down(backend_proxy: TcpProxy) -> Iterator[None]:
    """The result store becomes unreachable, then comes back."""
    backend_proxy.stop()
    yield
    backend_proxy.start()


@pytest.mark.heavy
@pytest.mark.usefixtures("broker_down")
async def test_enqueueing_during_a_broker_outage_is_a_clear_503(
    committed: AsyncClient, category_with_items: int
) -> None:
    response = await committed.post(summary_url(category_with_items))

    assert response.status_code == 503
    assert response.json()["detail"] == "The task queue is unavailable; try again later"
    assert response.headers["retry-after"] == "5"


@pytest.mark.heavy
@pytest.mark.usefixtures("broker_down")
async def test_readiness_names_the_broker_when_it_is_unreachable(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"] == "failing"


@pytest.mark.heavy
async def test_with_broker_and_result_store_down_enqueueing_fails_fast_then_recovers(
    broker_proxy: TcpProxy,
    backend_proxy: TcpProxy,
    committed: AsyncClient,
    category_with_items: int,
) -> None:
    """They share one Redis by default, so they usually fail together."""
    broker_proxy.stop()
    backend_proxy.stop()
    try:
        started = time.monotonic()
        response = await committed.post(summary_url(category_with_items))
        elapsed = time.monotonic() - started
    finally:
        broker_proxy.start()
        backend_proxy.start()

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert elapsed < FAILS_FAST_SECONDS
    # The same app, not restarted, works again.
    accepted = await committed.post(summary_url(category_with_items))
    assert accepted.status_code == 202
    assert (await wait_for_task(committed, accepted.json()["status_url"]))["state"] == "SUCCESS"


@pytest.mark.heavy
async def test_publishing_does_not_wait_for_the_result_store(backend_proxy: TcpProxy) -> None:
    """Published from a thread that never published before, as a fresh API thread is.

    Such a thread used to subscribe to the task's result first, and with the result
    store down spent 19 s retrying. The task goes to a queue no worker reads: a
    worker cannot store its state while the store is down, which is not the point here.
    """
    queue = f"test-unread-{uuid4().hex}"
    published: list[str] = []
    backend_proxy.stop()
    try:
        started = time.monotonic()
        thread = threading.Thread(
            target=lambda: published.append(flaky.apply_async(("unread", 0), queue=queue).id)
        )
        thread.start()
        await asyncio.to_thread(thread.join, FAILS_FAST_SECONDS)
        elapsed = time.monotonic() - started
    finally:
        backend_proxy.start()
        Redis.from_url(celery_app.conf.broker_read_url).delete(queue)

    assert elapsed < FAILS_FAST_SECONDS
    assert len(published) == 1


@pytest.mark.heavy
@pytest.mark.usefixtures("result_store_down")
async def test_task_status_during_a_result_store_outage_is_a_clear_503(
    client: AsyncClient,
) -> None:
    started = time.monotonic()
    response = await client.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 503
    assert response.json()["detail"] == "Task results are unavailable; try again later"
    assert response.headers["retry-after"] == "5"
    assert time.monotonic() - started < FAILS_FAST_SECONDS


@pytest.mark.heavy
def test_a_task_whose_worker_is_killed_is_redelivered_and_completes_once(
    settings: Settings,
) -> None:
    """Late acks: SIGKILL the whole worker mid-task, and the next worker runs it again."""
    broker = celery_app.conf.broker_read_url
    queue = f"test-kill-{os.getpid()}-{time.monotonic_ns()}"
    key = f"{queue}:mark"
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "CELERY_QUEUE": queue,
        # Redelivery of a dead worker's task waits for the visibility timeout, which
        # must exceed the hard time limit; both short in a test.
        "CELERY_TIME_LIMIT_SECONDS": "2",
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "3",
    }
    worker = [
        sys.executable, "-m", "celery", "--app", "{{ cookiecutter.__package_name }}.jobs.app",
        "worker", "--pool", "solo", "--include", "tests.jobs.test_tasks", "--loglevel", "WARNING",
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
