"""The Celery app is the one the settings describe, however the settings arrive."""

from typing import Any

import pytest
from celery import Celery

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.jobs.app import create_celery

URLS = {
    "CELERY_BROKER_URL": "redis://broker.invalid:6379/1",
    "CELERY_RESULT_BACKEND": "redis://results.invalid:6379/2",
}


def described(app: Celery) -> dict[str, Any]:
    """What decides where the app sends tasks and reads results, and how long it waits."""
    backend = app.backend
    return {
        "broker": app.conf.broker_url,
        "broker options": app.conf.broker_transport_options,
        "results": app.conf.result_backend,
        "result store": type(backend).__qualname__,
        "result store retries": getattr(backend, "retry_policy", None),
        "result store options": app.conf.result_backend_transport_options,
    }


def test_celerys_own_variables_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose and Kubernetes pass these URLs as variables, which Celery reads itself, ahead
    of its configuration; in `.env` only the settings read them. Same app either way."""
    for name in URLS:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(
        _env_file=None,
        celery_broker_url=URLS["CELERY_BROKER_URL"],
        celery_result_backend=URLS["CELERY_RESULT_BACKEND"],
    )
    from_env_file = described(create_celery(settings))
    for name, url in URLS.items():
        monkeypatch.setenv(name, url)
    from_variables = described(create_celery(Settings(_env_file=None)))

    assert from_variables == from_env_file
    assert from_variables["results"] == URLS["CELERY_RESULT_BACKEND"]
