"""Tables and the request/response models of each resource.

`*Create` and `*Update` say what a client may send, `*Read` what it gets back;
the table models are never exposed directly.
"""

from typing import Annotated

from pydantic import StringConstraints
from sqlmodel import Field, Relationship, SQLModel

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


class CategoryBase(SQLModel):
    name: Text = Field(min_length=1, max_length=100)


class Category(CategoryBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: Text = Field(min_length=1, max_length=100, unique=True)
    items: list["Item"] = Relationship(back_populates="category")


class CategoryCreate(CategoryBase):
    pass


class CategoryRead(CategoryBase):
    id: int


class ItemBase(SQLModel):
    name: Text = Field(min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    price: float = Field(gt=0, le=1_000_000_000)
    category_id: int | None = Field(default=None, ge=1, le=ID_MAX, foreign_key="category.id")


class Item(ItemBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    category: Category | None = Relationship(back_populates="items")


class ItemCreate(ItemBase):
    pass


class ItemUpdate(SQLModel):
    """Only the fields sent change. `name` and `price` may be left out but not set to
    null (a 422); `description` and `category_id` may be null, which clears them."""

    name: Text = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    price: float = Field(default=None, gt=0, le=1_000_000_000)
    category_id: int | None = Field(default=None, ge=1, le=ID_MAX)


class ItemRead(ItemBase):
    id: int


class CategoryReadWithItems(CategoryRead):
    items: list[ItemRead]
