"""409s that say what a client can act on: the value that is taken, the row a write
refers to that does not exist, or what still refers to a row being deleted.

Where the database names the constraint that was broken, that settles it; where
it does not (not every database does), the row at the other end of each foreign
key is looked for, on the failed write's path only.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, select
from sqlmodel import SQLModel

from ..db import ConstraintViolated, Database, Statement


@dataclass(frozen=True)
class Link:
    """One foreign key: `column` of `table` refers to a row of `target`."""

    column: str
    table: str
    target: str
    constraint: str | None
    # A row of `target` with an id, and a row of `table` that refers to an id.
    find_target: Statement
    find_referrer: Statement


def finder(column: Column[Any]) -> Statement:
    return Statement(select(column).where(column == bindparam("value")).limit(1))


def links(table: Table) -> list[Link]:
    return [
        Link(
            key.parent.name,
            table.name,
            key.column.table.name,
            None if key.constraint is None else str(key.constraint.name),
            finder(key.column),
            finder(key.parent),
        )
        for key in sorted(table.foreign_keys, key=lambda key: key.parent.name)
    ]


class Conflicts:
    """The 409 details of one table's writes. `messages` replaces them: by column, for a
    unique or foreign key constraint, and `"referenced"` for a delete."""

    def __init__(
        self, table: Table, label: str, names: Mapping[str, str], messages: Mapping[str, str]
    ) -> None:
        self.table = table
        self.label = label
        # What a client calls each table: its resource's plural.
        self.names = names
        self.messages = messages
        self.references = links(table)

    def referrers(self) -> list[Link]:
        """The foreign keys of every table that refers to this one (every table is known
        once the models are imported, which any request comes after)."""
        return [
            found
            for other in SQLModel.metadata.sorted_tables
            for found in links(other)
            if found.target == self.table.name
        ]

    async def of_write(
        self, database: Database, violation: ConstraintViolated, values: Mapping[str, Any]
    ) -> str:
        if violation.kind == "unique":
            columns = violation.columns or self.constrained_columns(violation.constraint)
            named = [self.messages[column] for column in columns if column in self.messages]
            if named:
                return named[0]
            names = " and ".join(column.replace("_", " ") for column in columns) or "value"
            return f"A {self.label} with this {names} exists"
        candidates = [
            (link, link.find_target, values[link.column])
            for link in self.references
            if values.get(link.column) is not None
        ]
        found = await broken(database, violation, candidates, present=False)
        if found is None:
            return "A row this refers to does not exist"
        default = f"The {found.target.replace('_', ' ')} does not exist"
        return self.messages.get(found.column, default)

    async def of_delete(
        self, database: Database, violation: ConstraintViolated, row_id: int
    ) -> str:
        candidates = [(link, link.find_referrer, row_id) for link in self.referrers()]
        found = await broken(database, violation, candidates, present=True)
        referrer = None if found is None else self.names.get(found.table, found.table)
        by = "" if referrer is None else f" by {referrer.replace('_', ' ')}"
        return self.messages.get("referenced", f"The {self.label} is still referenced{by}")

    def constrained_columns(self, constraint: str | None) -> tuple[str, ...]:
        """The columns of the constraint (or unique index) named `constraint`."""
        for unique in self.table.constraints:
            if constraint is not None and unique.name == constraint:
                return tuple(column.name for column in getattr(unique, "columns", ()))
        for index in self.table.indexes:
            if constraint is not None and index.name == constraint:
                return tuple(column.name for column in index.columns)
        return ()


async def broken(
    database: Database,
    violation: ConstraintViolated,
    candidates: Sequence[tuple[Link, Statement, Any]],
    *,
    present: bool,
) -> Link | None:
    """The link whose constraint was broken: the one the database names, or else the
    first whose row is missing (a write) or still there (a delete)."""
    for link, find, value in candidates:
        if violation.constraint is not None:
            if link.constraint == violation.constraint:
                return link
        elif (await database.fetch_one(find, value=value) is not None) == present:
            return link
    return None
