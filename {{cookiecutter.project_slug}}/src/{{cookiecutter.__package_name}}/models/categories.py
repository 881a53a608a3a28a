"""Categories: the table, and what clients send and get back."""

from sqlmodel import Field, SQLModel

from .common import Name, RequestBody, partial
from .items import ItemRead


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


def name_key(name: str) -> str:
    """The form two names share when they differ only in case (`casefold`, not `lower`:
    "Straße" and "STRASSE" are one name too), the same on every database."""
    return name.casefold()


class CategoryCreate(CategoryBase, RequestBody):
    pass


@partial
class CategoryUpdate(CategoryBase, RequestBody):
    pass


class CategoryRead(CategoryBase):
    id: int


class CategorySummary(CategoryRead):
    item_count: int


class CategoryWithItems(CategoryRead):
    """A category and a page of its items (the first `items_limit` by id)."""

    items: list[ItemRead]
