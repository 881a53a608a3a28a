"""Celery tasks. They are synchronous code with a synchronous engine of their own.

The web app's connections belong to its event loop; a worker has no loop, so
tasks use the same database through a sync driver and a small pool per worker
process.
"""

from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from ..core.config import get_settings
from ..models.items import Item
from .app import RetryingTask, celery_app

CENT = Decimal("0.01")
SYNC_DRIVER = "{{ 'postgresql+psycopg' if cookiecutter.database == 'postgres' else 'sqlite' }}"


def sync_database_url(async_url: str) -> str:
    """The same database through a synchronous driver."""
    url = make_url(async_url)
    return url.set(drivername=SYNC_DRIVER).render_as_string(hide_password=False)


@cache
def engine() -> Engine:
    """Created on first use, so each forked worker process gets its own pool."""
    settings = get_settings()
{% if cookiecutter.database == "postgres" %}
    return create_engine(sync_database_url(settings.database_url), pool_size=2, pool_pre_ping=True)
{% else %}
    # The web app's writes hold SQLite's lock briefly: wait for it as they do.
    timeout = settings.database_busy_timeout_ms / 1000
    return create_engine(
        sync_database_url(settings.database_url), connect_args={"timeout": timeout}
    )
{% endif %}


@celery_app.task(base=RetryingTask)
def summarise_category(category_id: int) -> dict[str, Any]:
    """Count a category's items and average their prices; the summary is the task's result.

    It only reads, so running it again (a redelivery, a retry) is harmless: it
    reports the items as they are then. Money is a string with two places, as the
    API carries it.
    """
    statement = select(func.count(col(Item.id)), func.sum(col(Item.price))).where(
        col(Item.category_id) == category_id
    )
    with engine().connect() as connection:
        count, total = connection.execute(statement).one()
    return {
        "category_id": category_id,
        "item_count": count,
        "average_price": None if count == 0 else str(average(total, count)),
    }


def average(total: Decimal, count: int) -> Decimal:
    """To the cent, half up, from the exact sum: a database's own average may be a
    binary float, which would round 4.015 down."""
    return (total / count).quantize(CENT, ROUND_HALF_UP)
