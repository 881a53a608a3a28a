"""What the database layer raises, whatever the driver: the API maps these to 503 and 409."""

from dataclasses import dataclass
from typing import Literal

Constraint = Literal["unique", "foreign_key"]


class DatabaseUnavailable(Exception):
    """The database could not be reached, or not in time: worth retrying (a 503).

    A bug (a query naming a column that does not exist) is not this: it stays the
    driver's own error, a 500 with its cause in the log.
    """


@dataclass
class ConstraintViolated(Exception):
    """A write broke a unique or foreign key constraint: the client's request conflicts
    with what is stored (a 409). Other violations (NOT NULL, CHECK) are bugs and stay
    the driver's error.

    `constraint` is the constraint's name where the database reports one; `columns`
    the columns where it reports those instead.
    """

    kind: Constraint
    constraint: str | None = None
    columns: tuple[str, ...] = ()
