"""SQL statements built by SQLAlchemy from the models, compiled once, run by the driver.

A statement is written with SQLAlchemy Core against the SQLModel tables (so it
quotes names, follows renamed columns and is checked by mypy) and compiled the
first time it runs: the driver then gets the SQL text and its arguments in
order, with no compilation, session or result wrapping per request. Values
pass through the column types' own converters where the dialect has any (a driver
that keeps dates as text, say).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

Convert = Callable[[Any], Any]
Row = Mapping[str, Any]
# A parameter the caller must pass.
REQUIRED = object()


def bound(columns: Iterable[str]) -> dict[str, Any]:
    """Each column set from the parameter of its own name, for an INSERT's or UPDATE's `values`."""
    return {name: bindparam(name) for name in sorted(columns)}


def given_value(bind: BindParameter[Any]) -> Any:
    return REQUIRED if bind.required or bind.callable is not None else bind.value


@dataclass(frozen=True)
class Compiled:
    """A statement as one dialect runs it."""

    sql: str
    # Bound parameters in the order the SQL takes them: each one's name, converter, and
    # the value it holds if the statement gave it one (a literal SQLAlchemy bound itself).
    parameters: tuple[tuple[str, Convert | None, Any], ...]
    # Converters of the result's columns, by name, for the columns that need one.
    results: Mapping[str, Convert]
    # Whether the statement changes rows (an INSERT, UPDATE or DELETE).
    writes: bool

    def arguments(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None or value is None else convert(value)
            for name, convert, given in self.parameters
            for value in (values[name] if given is REQUIRED else values.get(name, given),)
        )

    def row(self, row: Row) -> Row:
        if not self.results:
            return row
        converted = dict(row)
        for name, convert in self.results.items():
            if converted[name] is not None:
                converted[name] = convert(converted[name])
        return converted


class Statement:
    """A statement compiled on first use for the database it runs on.

    Bind each value with `bindparam("name")` and pass it by name when running it:
    `await database.fetch_one(ITEM_BY_ID, id=5)`.
    """

    def __init__(self, clause: ClauseElement) -> None:
        self.clause = clause
        self.compiled: dict[str, Compiled] = {}

    def compile(self, dialect: Dialect, *, result_types: bool) -> Compiled:
        """The statement for `dialect`; `result_types`: whether results need converting."""
        compiled = self.compiled.get(dialect.name)
        if compiled is None:
            compiled = compile_statement(self.clause, dialect, result_types=result_types)
            self.compiled[dialect.name] = compiled
        return compiled


def compile_statement(clause: ClauseElement, dialect: Dialect, *, result_types: bool) -> Compiled:
    compiled = clause.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"{clause} is not a SQL statement")
    parameters = tuple(
        (name, bind.type.dialect_impl(dialect).bind_processor(dialect), given_value(bind))
        for name in compiled.positiontup or ()
        for bind in (compiled.binds[name],)
    )
    results: dict[str, Convert] = {}
    if result_types:
        for column in getattr(clause, "exported_columns", ()):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                results[column.key] = convert
    return Compiled(
        sql=compiled.string,
        parameters=parameters,
        results=results,
        writes=bool(getattr(clause, "is_dml", False)),
    )
