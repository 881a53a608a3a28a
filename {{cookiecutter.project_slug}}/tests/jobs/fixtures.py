"""Fixtures of the Celery option: the real broker, a real worker, and a proxy to cut."""

import os
from collections.abc import Iterator
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.jobs import tasks
from {{ cookiecutter.__package_name }}.jobs.app import celery_app

from tests.tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def broker_proxy() -> Iterator[TcpProxy]:
    """Publishers reach the broker through this proxy, so a test can take it away."""
    broker = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15"))
    with TcpProxy(broker.hostname or "localhost", broker.port or 6379) as proxy:
        yield proxy


@pytest.fixture(scope="session", autouse=True)
def celery_for_tests(settings: Settings, broker_proxy: TcpProxy) -> Iterator[Celery]:
    """The real broker (Redis from TEST_REDIS_URL), on a queue no other test run reads.

    The worker reads from the broker directly; the app publishes through
    `broker_proxy`. Tasks reach the test database through `tasks.get_settings`.
    """
    broker = os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15")
    netloc = urlsplit(broker).netloc
    celery_app.conf.update(
        broker_url=broker,
        broker_read_url=broker,
        broker_write_url=broker.replace(netloc, f"127.0.0.1:{broker_proxy.port}", 1),
        result_backend=broker,
        task_default_queue=f"test-{uuid4().hex}",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks, "get_settings", lambda: settings)
        tasks.engine.cache_clear()
        yield celery_app
        tasks.engine().dispose()


@pytest.fixture(scope="session")
def celery_worker(celery_for_tests: Celery) -> Iterator[None]:
    """A real worker, in a thread of the test process, consuming from the real broker."""
    with start_worker(celery_for_tests, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield
