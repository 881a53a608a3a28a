"""Items: the table, and what clients send and get back."""

from sqlmodel import Field, SQLModel

from .common import Name, Price, Reference, RequestBody, Text, partial


class ItemBase(SQLModel):
    name: Name = Field(max_length=200)
    description: Text | None = Field(default=None, max_length=2000)
    price: Price
    category_id: Reference | None = Field(default=None, foreign_key="category.id", index=True)


class Item(ItemBase, table=True):
{% if cookiecutter.database == "sqlite" %}
    # Ids are never reused after a delete, as with a sequence.
    __table_args__ = {"sqlite_autoincrement": True}

{% endif %}
    id: int | None = Field(default=None, primary_key=True)


class ItemCreate(ItemBase, RequestBody):
    pass


@partial
class ItemUpdate(ItemBase, RequestBody):
    """Only the fields sent change; `description` and `category_id` sent as null are cleared."""


class ItemRead(ItemBase):
    id: int
