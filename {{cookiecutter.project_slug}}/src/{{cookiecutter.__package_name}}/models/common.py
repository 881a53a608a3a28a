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

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
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


# Integers fit a 32-bit integer column on every database; so do ids.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
ID_MAX = INT_MAX


def integral(value: Any) -> Any:
    """JSON Schema's integers include numbers written with a zero fraction (`7.0`)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# JSON integers (`7`, or `7.0`), never `"7"` or `true`; out of the column's range is a 422.
Integer = Annotated[int, Field(ge=INT_MIN, le=INT_MAX), Strict(), BeforeValidator(integral)]
# An id in a body (a foreign key).
Reference = Annotated[int, Field(ge=1, le=ID_MAX), Strict(), BeforeValidator(integral)]
# `true` or `false`, never `"yes"` or `1`.
Flag = Annotated[bool, Strict()]

DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date_text(value: Any) -> Any:
    """JSON has no dates, only their ISO 8601 text: never a number of seconds."""
    if isinstance(value, str) and DATE_PATTERN.fullmatch(value[:10]):
        return value
    if isinstance(value, date):
        return value
    raise ValueError("must be an ISO 8601 date, such as 2026-01-31 (or 2026-01-31T09:30:00Z)")


def in_utc(moment: datetime) -> datetime:
    """A moment without its time zone is ambiguous; one with it is kept in UTC."""
    if moment.tzinfo is None:
        raise ValueError("must include its time zone, such as 2026-01-31T09:30:00Z")
    return moment.astimezone(UTC)


def as_utc(moment: datetime) -> str:
    """ISO 8601 with its offset, whatever the database hands back (not every one keeps it)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


# A calendar day: `2026-01-31`.
Day = Annotated[date, BeforeValidator(date_text)]
# A moment with its time zone: `2026-01-31T09:30:00Z`, answered in UTC.
Timestamp = Annotated[
    datetime,
    BeforeValidator(date_text),
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
    """Money as a string ("9.50") or a whole number, nothing else: a JSON number with a
    fraction has no exact two-place form, and a string in another notation is not what
    the schema says."""
    text = re.compile(pattern)

    def check(value: Any) -> Any:
        value = integral(value)
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


# Always two places, whatever the database hands back (not every one has a decimal type).
TWO_PLACES = PlainSerializer(lambda amount: f"{amount:.2f}", return_type=str, when_used="json")

# Exact amounts with two decimal places, carried in JSON as strings ("9.50").
Money = Annotated[
    Decimal,
    BeforeValidator(exact_amount(MONEY_PATTERN, minimum=0)),
    Field(max_digits=12, decimal_places=2, ge=0, le=MONEY_MAX),
    amount_schema(MONEY_PATTERN, minimum=0),
    TWO_PLACES,
]
# Money above zero.
Price = Annotated[
    Decimal,
    BeforeValidator(exact_amount(PRICE_PATTERN, minimum=1)),
    Field(max_digits=12, decimal_places=2, gt=0, le=MONEY_MAX),
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
