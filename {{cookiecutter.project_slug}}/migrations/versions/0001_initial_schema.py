"""Initial schema: categories (unique names, whatever their case) and items.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("name_key", name=op.f("uq_category_name_key")),
{% if cookiecutter.database == "sqlite" %}
        sqlite_autoincrement=True,
{% endif %}
    )
    op.create_table(
        "item",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_item_category_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item")),
{% if cookiecutter.database == "sqlite" %}
        sqlite_autoincrement=True,
{% endif %}
    )
    op.create_index(op.f("ix_item_category_id"), "item", ["category_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_item_category_id"), table_name="item")
    op.drop_table("item")
    op.drop_table("category")
