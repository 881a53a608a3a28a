"""The migrations build what the models describe, and fail in a way an operator can read."""

import os
import subprocess
import sys

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from tests.conftest import PROJECT_ROOT, alembic_config


def test_migrations_match_the_models(database_url: str) -> None:
    # Raises if autogenerate would write a new migration: a model changed without one.
    command.check(alembic_config(database_url))


@pytest.mark.heavy
def test_an_unreachable_database_is_one_clear_line(database_url: str) -> None:
{% if cookiecutter.database == "postgres" %}
    # The test database's server, without the database.
    url = make_url(database_url).set(database="no_such_database_anywhere")
{% else %}
    # A file in a directory that is not there, as when a volume is not mounted.
    url = make_url(database_url)
    directory = os.path.dirname(url.database or "")
    url = url.set(database=os.path.join(directory, "no-such-directory", "service.db"))
{% endif %}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Cannot migrate {url.render_as_string(hide_password=True)}: "), line
    assert line.endswith(". Create the database or set DATABASE_URL."), line
