"""What the models of every resource share: field types, request rules, the constraint names.

A field type says what a client may send and exactly that: the JSON Schema that
OpenAPI publishes is the rule the service applies, nothing laxer (no `"1"` for a
number, no `true` for an id, no float for money).
"""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from annotated_types import Timezone
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    Strict,
    StringConstraints,
    WithJsonSchema,
    create_model,
)
from sqlmodel import SQLModel

# Named constraints let later migrations drop or alter them by name, and let a
# violation be traced to its columns.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RequestBody(SQLModel):
    """A base for what clients send: a field it does not know (a misspelt one) is a 422,
    not silently ignored. (SQLModel types its config more narrowly than pydantic's.)"""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


# Identifiers fit a 32-bit integer column on every database.
ID_MAX = 2**31 - 1
# An id in a body (a foreign key): a JSON integer, never `"1"`, `1.0` or `true`.
Reference = Annotated[int, Strict()]
Integer = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Day = Annotated[date, Strict()]


def in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def as_utc(moment: datetime) -> str:
    """ISO 8601 with its offset, whatever the database hands back (SQLite keeps none)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


# A moment with its time zone (one without is ambiguous), stored in UTC.
Timestamp = Annotated[
    datetime,
    Strict(),
    Timezone(...),
    AfterValidator(in_utc),
    PlainSerializer(as_utc, return_type=str, when_used="json"),
]

# Text without NUL characters: not every database can store them, so they are a 422.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
# Whitespace, spelt out: the regex engines that check a pattern (the service's, and a
# client's JSON Schema validator) disagree on what `\s` covers.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A name: not blank, and no space around it (so "Tools" and "Tools " are not two names).
Name = Annotated[str, StringConstraints(pattern=rf"^[^\x00{SPACE}](?:[^\x00]*[^\x00{SPACE}])?$")]

MONEY_MAX = 1_000_000_000
# Up to MONEY_MAX with at most two decimal places, in plain ASCII digits.
MONEY_PATTERN = r"^((0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?|1000000000(\.0{1,2})?)$"
# The same above zero.
PRICE_PATTERN = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,8}(\.[0-9]{1,2})?|1000000000(\.0{1,2})?)$"


def exact_amount(pattern: str, minimum: int) -> Callable[[Any], Any]:
    """Money as a string ("9.50") or a whole number, nothing else: a JSON float has no
    exact two-place form, and a string in another notation is not what the schema says."""
    text = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and text.fullmatch(value):
            return Decimal(value)
        if type(value) is int and minimum <= value <= MONEY_MAX:
            return Decimal(value)
        if isinstance(value, Decimal):
            return value
        raise ValueError(f'must be a string such as "9.50" (matching {pattern}) or a whole number')

    return check


def amount_schema(pattern: str, minimum: int) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": pattern},
                {"type": "integer", "minimum": minimum, "maximum": MONEY_MAX},
            ]
        },
        mode="validation",
    )


# Always two places, whatever the database hands back (SQLite has no decimal type).
TWO_PLACES = PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str, when_used="json")

# Exact amounts with two decimal places, carried in JSON as strings ("9.50").
Money = Annotated[
    Decimal,
    BeforeValidator(exact_amount(MONEY_PATTERN, minimum=0)),
    amount_schema(MONEY_PATTERN, minimum=0),
    TWO_PLACES,
]
Price = Annotated[
    Decimal,
    BeforeValidator(exact_amount(PRICE_PATTERN, minimum=1)),
    amount_schema(PRICE_PATTERN, minimum=1),
    TWO_PLACES,
]

Model = TypeVar("Model", bound=SQLModel)


def partial(model: type[Model]) -> type[Model]:
    """`model` with every field optional, for PATCH: only the fields sent change.

    A field the base requires may be left out but not sent as null (a 422); one it
    allows to be null may be sent as null, which clears it. Derived from the base,
    so a field added there can be changed too.
    """
    optional: dict[str, Any] = {
        name: (Annotated[field.annotation, field], None)
        for name, field in model.model_fields.items()
        if field.is_required()
    }
    return create_model(
        model.__name__,
        __base__=model,
        __module__=model.__module__,
        __doc__=model.__doc__,
        **optional,
    )
