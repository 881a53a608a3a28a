from alembic import command

from tests.conftest import alembic_config


def test_migrations_match_the_models(database_url: str) -> None:
    # Raises if autogenerate would produce a new migration.
    command.check(alembic_config(database_url))
