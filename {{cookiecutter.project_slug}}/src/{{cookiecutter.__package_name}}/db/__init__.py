"""The database: the driver's own connections, and statements SQLAlchemy builds once.

Run a `Statement` with `fetch_one` or `fetch_all`; a write that breaks a unique or
foreign key constraint raises `ConstraintViolated`, an outage `DatabaseUnavailable`.
"""

from .errors import ConstraintViolated, DatabaseUnavailable
from .{{ cookiecutter.database }} import Database, open_database, trace_statements
from .statement import Row, Statement, bound

__all__ = [
    "ConstraintViolated",
    "Database",
    "DatabaseUnavailable",
    "Row",
    "Statement",
    "bound",
    "open_database",
    "trace_statements",
]
