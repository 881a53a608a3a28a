import os
import subprocess
import sys
from pathlib import Path

from alembic import command

from tests.conftest import PROJECT_ROOT, alembic_config


def test_migrations_match_the_models(database_url: str) -> None:
    # Raises if autogenerate would produce a new migration.
    command.check(alembic_config(database_url))


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
{% if cookiecutter.database == "postgres" %}
    missing = "postgresql+asyncpg://postgres@localhost:5432/no_such_database_anywhere"
{% else %}
    missing = f"sqlite+aiosqlite:///{tmp_path / 'no-such-directory' / 'service.db'}"
{% endif %}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": missing},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("Cannot migrate")
    ]
    assert "Create the database or set DATABASE_URL." in result.stderr
