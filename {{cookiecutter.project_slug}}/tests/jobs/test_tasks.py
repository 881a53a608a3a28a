"""Background tasks on a real Celery worker and broker, reading what the API stored."""

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient, Response
from redis import Redis

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.jobs.app import RetryingTask, celery_app
from {{ cookiecutter.__package_name }}.jobs.tasks import summarise_category

from tests.api.routes.test_categories import new_category
from tests.api.routes.test_items import new_item
from tests.conftest import ClientFactory
from tests.jobs.fixtures import REDIS_URL, through
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
async def category_with_items(client: AsyncClient) -> int:
    """A category of three items averaging 4.50, stored as the API stores them."""
    category = await new_category(client, "Summarised")
    for price in ("3.50", "4.00", "6.00"):
        await new_item(client, price=price, category_id=category["id"])
    category_id: int = category["id"]
    return category_id


def summary_url(category_id: int) -> str:
    return f"/api/v1/categories/{category_id}/summary"


async def test_a_summary_is_computed_by_the_worker_and_read_at_its_status_url(
    client: AsyncClient, category_with_items: int
) -> None:
    accepted = await client.post(summary_url(category_with_items))

    assert accepted.status_code == 202
    task_id = accepted.json()["task_id"]
    assert accepted.json()["status_url"] == f"/api/v1/tasks/{task_id}"
    status = await wait_for_task(client, accepted.json()["status_url"])
    assert status == {
        "task_id": task_id,
        "state": "SUCCESS",
        # Money is a string with two places, as everywhere in the API.
        "result": {"category_id": category_with_items, "item_count": 3, "average_price": "4.50"},
        "error": None,
    }


async def test_a_category_without_items_has_no_average_price(client: AsyncClient) -> None:
    category = await new_category(client, "Empty")

    accepted = await client.post(summary_url(category["id"]))

    status = await wait_for_task(client, accepted.json()["status_url"])
    assert status["result"] == {
        "category_id": category["id"],
        "item_count": 0,
        "average_price": None,
    }


@pytest.mark.parametrize(
    ("prices", "average"),
    [(["4.01", "4.02"], "4.02"), (["4.00", "4.25"], "4.13"), (["0.10", "0.20", "0.40"], "0.23")],
)
async def test_the_average_price_is_exact_and_rounded_half_up_to_the_cent(
    client: AsyncClient, prices: list[str], average: str
) -> None:
    """The same on every database, though not every one has a decimal type."""
    category = await new_category(client, "Rounded")
    for price in prices:
        await new_item(client, price=price, category_id=category["id"])

    summary = await asyncio.to_thread(summarise_category.delay(category["id"]).get, timeout=30)

    assert summary["average_price"] == average


async def test_the_status_url_never_names_the_host_the_client_sent(
    client: AsyncClient, category_with_items: int
) -> None:
    response = await client.post(summary_url(category_with_items), headers={"Host": "evil.example"})

    assert response.status_code == 202
    assert "evil.example" not in response.text
    assert response.json()["status_url"].startswith("/api/v1/tasks/")


async def test_every_key_a_task_leaves_in_redis_is_the_test_runs_own(
    client: AsyncClient, category_with_items: int, settings: Settings
) -> None:
    """Results and queue bindings are under the run's prefix, which the run removes."""
    accepted = (await client.post(summary_url(category_with_items))).json()
    await wait_for_task(client, accepted["status_url"])
    queue = celery_app.conf.task_default_queue
    redis = Redis.from_url(REDIS_URL)
    try:
        patterns = (f"*{accepted['task_id']}*", f"*_kombu.binding.{queue}*")
        mentioning = [key.decode() for p in patterns for key in redis.scan_iter(p)]
    finally:
        redis.close()
    prefix = f"{queue}:"

    assert mentioning, "the task left no key: the check looks in the wrong place"
    assert all(key.startswith(prefix) for key in mentioning), mentioning


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


async def enqueued_during(
    outage: list[TcpProxy], client: AsyncClient, category_id: int, *, silent: bool = False
) -> tuple[Response, float]:
    """POST a summary while `outage` is down (or `silent`: connections accepted, nothing
    ever answered): the response and the seconds it took."""
    for proxy in outage:
        if silent:
            proxy.blackhole()
        else:
            proxy.stop()
    try:
        started = time.monotonic()
        response = await client.post(summary_url(category_id))
        elapsed = time.monotonic() - started
    finally:
        for proxy in outage:
            if silent:
                proxy.heal()
            else:
                proxy.start()
    return response, elapsed


async def assert_enqueueing_works_again(client: AsyncClient, category_id: int) -> None:
    """The same app, not restarted, enqueues and reads results again."""
    accepted = await client.post(summary_url(category_id))
    assert accepted.status_code == 202
    assert (await wait_for_task(client, accepted.json()["status_url"]))["state"] == "SUCCESS"


@pytest.mark.heavy
@pytest.mark.parametrize(
    "outage",
    [["broker"], ["result store"], ["broker", "result store"]],
    ids=["broker", "result-store", "both"],
)
async def test_enqueueing_during_an_outage_is_a_clear_503_then_recovers(
    outage: list[str],
    broker_proxy: TcpProxy,
    backend_proxy: TcpProxy,
    client: AsyncClient,
    category_with_items: int,
) -> None:
    """Broker and result store share one Redis by default, so they usually fail together.

    Celery subscribes to a task's result before it publishes the task: with the
    result store down nothing is published, which the client learns at once.
    """
    proxies = {"broker": broker_proxy, "result store": backend_proxy}

    response, elapsed = await enqueued_during(
        [proxies[name] for name in outage], client, category_with_items
    )

    assert response.status_code == 503
    assert response.json()["detail"] == "The task queue is unavailable; try again later"
    assert response.headers["retry-after"] == "5"
    assert elapsed < FAILS_FAST_SECONDS
    await assert_enqueueing_works_again(client, category_with_items)


@pytest.mark.heavy
@pytest.mark.parametrize("outage", [["broker"], ["broker", "result store"]], ids=["broker", "both"])
async def test_a_broker_that_never_answers_is_a_503_within_the_publish_timeout(
    outage: list[str],
    broker_proxy: TcpProxy,
    backend_proxy: TcpProxy,
    client: AsyncClient,
    category_with_items: int,
    settings: Settings,
) -> None:
    """Connections accepted, nothing answered: no request may wait for the network to give up."""
    proxies = {"broker": broker_proxy, "result store": backend_proxy}

    response, elapsed = await enqueued_during(
        [proxies[name] for name in outage], client, category_with_items, silent=True
    )

    assert response.status_code == 503
    assert elapsed < settings.celery_publish_timeout_seconds + 1
    await assert_enqueueing_works_again(client, category_with_items)


@pytest.mark.heavy
@pytest.mark.usefixtures("broker_down")
async def test_readiness_names_the_broker_when_it_is_unreachable(
    client_for: ClientFactory,
) -> None:
    async with client_for() as client:
        response = await client.get("/ready")

    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"] == "failing"


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


def worker_environment(settings: Settings, queue: str, **overrides: str) -> dict[str, str]:
    """What a `celery worker` process of its own needs to serve `queue`."""
    broker = celery_app.conf.broker_read_url
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "CELERY_QUEUE": queue,
        "CELERY_KEY_PREFIX": celery_app.conf.broker_transport_options["global_keyprefix"],
        **overrides,
    }


def start_worker_process(environment: dict[str, str]) -> "subprocess.Popen[bytes]":
    """The worker as deployed: `celery worker`, which also runs this module's tasks."""
    command = [
        sys.executable, "-m", "celery", "--app", "{{ cookiecutter.__package_name }}.jobs.app",
        "worker", "--pool", "solo", "--include", "tests.jobs.test_tasks", "--loglevel", "WARNING",
    ]  # fmt: skip
    return subprocess.Popen(command, env=environment)


def stop(*processes: "subprocess.Popen[bytes] | None") -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def wait_for_start(redis: Redis, key: str) -> None:
    deadline = time.monotonic() + 60
    while not redis.get(f"{key}:starts"):
        assert time.monotonic() < deadline, "no worker started the task"
        time.sleep(0.1)


def unique_queue(purpose: str) -> str:
    return f"test-{purpose}-{os.getpid()}-{time.monotonic_ns()}"


@pytest.mark.heavy
def test_a_task_whose_worker_is_killed_is_redelivered_and_completes_once(
    settings: Settings,
) -> None:
    """Late acks: SIGKILL the whole worker mid-task, and the next worker runs it again."""
    queue = unique_queue("kill")
    key = f"{queue}:mark"
    # Redelivery of a dead worker's task waits for the visibility timeout, which must
    # exceed the hard time limit; both short in a test.
    environment = worker_environment(
        settings, queue, CELERY_TIME_LIMIT_SECONDS="2", CELERY_VISIBILITY_TIMEOUT_SECONDS="3"
    )
    redis = Redis.from_url(celery_app.conf.broker_read_url)
    result = slow_mark.apply_async((key, 1.0), queue=queue)
    first = start_worker_process(environment)
    second = None
    try:
        wait_for_start(redis, key)
        first.kill()  # SIGKILL: no chance to hand the task back
        first.wait()
        second = start_worker_process(environment)
        starts = result.get(timeout=60)
    finally:
        stop(first, second)
        done = redis.get(f"{key}:done")
        redis.delete(f"{key}:starts", f"{key}:done")

    assert starts == 2, "the task was not redelivered after its worker died"
    assert done == b"1"


@pytest.mark.heavy
def test_a_worker_keeps_its_result_until_the_result_store_is_back(
    settings: Settings, backend_proxy: TcpProxy
) -> None:
    """The result store restarts while a task runs: the worker neither loses the result,
    nor stops, nor runs the task again."""
    queue = unique_queue("store")
    key = f"{queue}:mark"
    environment = worker_environment(settings, queue, CELERY_RESULT_BACKEND=through(backend_proxy))
    redis = Redis.from_url(celery_app.conf.broker_read_url)
    result = slow_mark.apply_async((key, 1.0), queue=queue)
    worker = start_worker_process(environment)
    try:
        wait_for_start(redis, key)
        backend_proxy.stop()
        try:
            time.sleep(3)  # the task ends meanwhile, with nowhere to put its result
        finally:
            backend_proxy.start()
        starts = result.get(timeout=30)
        still_running = worker.poll() is None
    finally:
        stop(worker)
        redis.delete(f"{key}:starts", f"{key}:done")

    assert starts == 1
    assert still_running
