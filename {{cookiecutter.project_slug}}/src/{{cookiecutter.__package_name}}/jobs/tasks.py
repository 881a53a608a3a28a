"""Celery tasks. They are synchronous code with a synchronous engine of their own.

The web app's async engine belongs to its event loop; a worker has no loop, so
tasks use the same database through a sync driver and a small pool per worker
process.
"""

from functools import cache
from typing import Any

from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from ..core.config import get_settings
{% if cookiecutter.database == "sqlite" %}
from ..core.db import configure_sqlite
{% endif %}
from ..models import Item
from .app import RetryingTask, celery_app

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
    engine = create_engine(sync_database_url(settings.database_url))
    configure_sqlite(engine, settings.database_busy_timeout_ms)  # as the web app's connections
    return engine
{% endif %}


@celery_app.task(base=RetryingTask)
def summarise_category(category_id: int) -> dict[str, Any]:
    """Count a category's items and average their prices; the summary is the task's result.

    It only reads, so running it again (a redelivery, a retry) is harmless: it
    reports the items as they are then.
    """
    with Session(engine()) as session:
        count, average = session.execute(
            select(func.count(col(Item.id)), func.avg(col(Item.price))).where(
                col(Item.category_id) == category_id
            )
        ).one()
    return {
        "category_id": category_id,
        "item_count": count,
        "average_price": float(average) if average is not None else None,
    }
