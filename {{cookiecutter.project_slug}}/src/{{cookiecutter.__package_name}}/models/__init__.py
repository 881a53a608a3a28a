"""The resources' models, one module each. Importing this package registers every
table in `SQLModel.metadata`, which Alembic compares with the database."""

from . import categories, items{% if cookiecutter.auth == "oauth2" %}, users{% endif +%}

__all__ = ["categories", "items"{% if cookiecutter.auth == "oauth2" %}, "users"{% endif %}]
