"""The Celery settings that decide when a dead worker's tasks come back."""

import pytest
from pydantic import ValidationError

from {{ cookiecutter.__package_name }}.core.config import Settings
from {{ cookiecutter.__package_name }}.jobs.app import celery_config


def test_the_visibility_timeout_follows_the_hard_time_limit() -> None:
    settings = Settings(celery_time_limit_seconds=300)

    options = celery_config(settings)["broker_transport_options"]

    assert options["visibility_timeout"] == 390


def test_an_explicit_visibility_timeout_is_used_as_it_is() -> None:
    settings = Settings(celery_time_limit_seconds=300, celery_visibility_timeout_seconds=1000)

    assert celery_config(settings)["broker_transport_options"]["visibility_timeout"] == 1000


def test_a_visibility_timeout_a_running_task_could_outlast_is_refused() -> None:
    with pytest.raises(ValidationError, match="CELERY_VISIBILITY_TIMEOUT_SECONDS must exceed"):
        Settings(celery_time_limit_seconds=300, celery_visibility_timeout_seconds=300)
