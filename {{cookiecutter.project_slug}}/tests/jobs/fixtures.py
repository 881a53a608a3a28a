"""Fixtures of the Celery option: the real broker, a real worker, and proxies to cut."""

import os
from collections.abc import Iterator
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from redis import Redis

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.jobs import tasks
from {{ cookiecutter.__package_name }}.jobs.app import celery_app, celery_config

from tests.tcp_proxy import TcpProxy

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15")


def redis_proxy() -> TcpProxy:
    redis = urlsplit(REDIS_URL)
    return TcpProxy(redis.hostname or "localhost", redis.port or 6379)


def through(proxy: TcpProxy) -> str:
    """REDIS_URL, reached through `proxy`."""
    return REDIS_URL.replace(urlsplit(REDIS_URL).netloc, f"127.0.0.1:{proxy.port}", 1)


@pytest.fixture(scope="session")
def broker_proxy() -> Iterator[TcpProxy]:
    """Publishers reach the broker through this proxy, so a test can take it away."""
    with redis_proxy() as proxy:
        yield proxy


@pytest.fixture(scope="session")
def backend_proxy() -> Iterator[TcpProxy]:
    """The app and the worker reach the result store through this proxy, the broker not."""
    with redis_proxy() as proxy:
        yield proxy


@pytest.fixture(scope="session", autouse=True)
def celery_for_tests(
    settings: Settings, broker_proxy: TcpProxy, backend_proxy: TcpProxy
) -> Iterator[Celery]:
    """The real broker (Redis from TEST_REDIS_URL), on a queue no other test run reads.

    Configured as the service configures it, except that the worker reads from the
    broker directly while the app publishes through `broker_proxy`. Tasks reach the
    test database through `tasks.get_settings`.
    """
    # Celery reads these two variables itself and lets them win over its configuration:
    # the proxies below would be bypassed. The settings have read them already.
    with pytest.MonkeyPatch.context() as environment:
        environment.delenv("CELERY_BROKER_URL", raising=False)
        environment.delenv("CELERY_RESULT_BACKEND", raising=False)
        yield from configured_for_tests(settings, broker_proxy, backend_proxy)


def configured_for_tests(
    settings: Settings, broker_proxy: TcpProxy, backend_proxy: TcpProxy
) -> Iterator[Celery]:
    """Every key the broker and the result store get is under the run's prefix, removed at the end."""
    queue = f"test-{uuid4().hex}"
    under_test = settings.model_copy(
        update={
            "celery_broker_url": REDIS_URL,
            "celery_result_backend": through(backend_proxy),
            "celery_queue": queue,
            "celery_key_prefix": f"{queue}:",
        }
    )
    celery_app.conf.update(
        celery_config(under_test),
        broker_read_url=REDIS_URL,
        broker_write_url=through(broker_proxy),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks, "get_settings", lambda: settings)
        tasks.engine.cache_clear()
        try:
            yield celery_app
        finally:
            tasks.engine().dispose()
            forget_keys(f"{queue}:*")


def forget_keys(pattern: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = list(redis.scan_iter(pattern))
        if keys:
            redis.delete(*keys)
    finally:
        redis.close()


@pytest.fixture(scope="session")
def celery_worker(celery_for_tests: Celery) -> Iterator[None]:
    """A real worker, in a thread of the test process, consuming from the real broker."""
    with start_worker(celery_for_tests, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield
