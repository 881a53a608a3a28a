"""The hot read path: items by id and by page, straight through the database driver.

Reads are most of the traffic and the simplest queries, so they skip every layer
that does not change the answer: no SQLAlchemy session, identity map or statement
compilation, and no validation of rows the database has already constrained
(`items.py` serialises them to the response's bytes once). Each read is one
statement, prepared once per connection by the driver, on a few connections of
its own. Writes, and reads that need relations, go through SQLAlchemy (see `crud`).
The driver's module holds the statements and the connections; `base` what any driver shares.
"""

from .base import DatabaseUnavailable, Row
from .{{ cookiecutter.database }} import ItemReader, open_item_reader

__all__ = ["DatabaseUnavailable", "ItemReader", "Row", "open_item_reader"]
