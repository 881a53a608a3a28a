"""Category statistics, filled by the background worker.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categorystats",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("average_price", sa.Float(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_categorystats_category_id_category")
        ),
        sa.PrimaryKeyConstraint("category_id", name=op.f("pk_categorystats")),
    )


def downgrade() -> None:
    op.drop_table("categorystats")
