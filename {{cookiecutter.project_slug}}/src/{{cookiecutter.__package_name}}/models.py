"""Tables and the request/response models of each resource.

`*Create` and `*Update` say what a client may send, `*Read` what it gets back;
the table models are never exposed directly.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer, StringConstraints, WithJsonSchema
from sqlmodel import Field, Relationship, SQLModel
from sqlmodel._compat import SQLModelConfig

# Named constraints let later migrations drop or alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Bounds that keep identifiers inside a 32-bit integer column on every database.
ID_MAX = 2**31 - 1
# Text without NUL characters: not every database can store them, so they are a 422, not a 500.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
# Whitespace, spelt out: the regex engines that check a pattern (the service's, and a
# client's JSON Schema validator) disagree on what `\s` covers.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A name: not blank, and no space around it (so "Tools" and "Tools " are not two names).
Name = Annotated[str, StringConstraints(pattern=rf"^[^\x00{SPACE}](?:[^\x00]*[^\x00{SPACE}])?$")]
# Money is exact: two decimal places, carried in JSON as a string ("9.50"). A number is
# accepted too; the schema documents whole numbers only, since a float such as 0.1 + 0.2
# has no exact two-place form.
PRICE_MAX = 1_000_000_000
Price = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,8}(\.[0-9]{1,2})?|1000000000(\.0{1,2})?)$",
                },
                {"type": "integer", "minimum": 1, "maximum": PRICE_MAX},
            ]
        },
        mode="validation",
    ),
    # Always two places, whatever the database hands back (not every one has a decimal type).
    PlainSerializer(lambda price: f"{price:.2f}", return_type=str, when_used="json"),
]
# Request bodies refuse fields they do not know: a misspelt field is a 422, not silently dropped.
REQUEST = SQLModelConfig(extra="forbid")


class CategoryBase(SQLModel):
    name: Name = Field(max_length=100)


class Category(CategoryBase, table=True):
{% if cookiecutter.database == "sqlite" %}
    # Ids are never reused after a delete, as with a sequence.
    __table_args__ = {"sqlite_autoincrement": True}

{% endif %}
    id: int | None = Field(default=None, primary_key=True)
    # The name case-folded (see `name_key`): unique, so "Tools" and "tools" are one category.
    name_key: str = Field(max_length=400, unique=True)
    items: list["Item"] = Relationship(back_populates="category")


def name_key(name: str) -> str:
    """The form two names share when they differ only in case (`casefold`, not `lower`:
    "Straße" and "STRASSE" are one name too), the same on every database."""
    return name.casefold()


class CategoryCreate(CategoryBase):
    model_config = REQUEST


class CategoryUpdate(CategoryBase):
    model_config = REQUEST


class CategoryRead(CategoryBase):
    id: int


class CategorySummary(CategoryRead):
    item_count: int


class ItemBase(SQLModel):
    name: Name = Field(max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    price: Price = Field(gt=0, le=PRICE_MAX, max_digits=12, decimal_places=2)
    category_id: int | None = Field(default=None, ge=1, le=ID_MAX, foreign_key="category.id")


class Item(ItemBase, table=True):
{% if cookiecutter.database == "sqlite" %}
    __table_args__ = {"sqlite_autoincrement": True}

{% endif %}
    id: int | None = Field(default=None, primary_key=True)
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    category: Category | None = Relationship(back_populates="items")


class ItemCreate(ItemBase):
    model_config = REQUEST


class ItemUpdate(SQLModel):
    """Only the fields sent change. `name` and `price` may be left out but not set to
    null (a 422); `description` and `category_id` may be null, which clears them."""

    model_config = REQUEST

    name: Name = Field(default=None, max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    price: Price = Field(default=None, gt=0, le=PRICE_MAX, max_digits=12, decimal_places=2)
    category_id: int | None = Field(default=None, ge=1, le=ID_MAX)


class ItemRead(ItemBase):
    id: int


class CategoryReadWithItems(CategoryRead):
    """A category and a page of its items (the first `limit` by id)."""

    items: list[ItemRead]
