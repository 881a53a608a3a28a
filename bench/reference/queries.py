"""The SQL the raw reference apps run: the statements the generated service sends, copied.

Each statement is the one SQLAlchemy compiles from the service's models for that
request (`GET /api/v1/categories/1` runs `categories.by_id`, then
`categories.items`), written out by hand, so the references and the service differ
only in what happens around the query. Before measuring, the bench compiles the
service's own statements in each build and compares them with these, whitespace
aside (the `check: SQL` lines): a reference whose SQL drifted has its ratios voided.

Plain Python on purpose: the bench imports it too, outside any build's environment.
"""

ITEM = "item.name, item.description, item.price, item.category_id, item.id"
ORDER = '"order".title, "order".note, "order".quantity, "order".price, "order".item_id, "order".id'
COUNTED = (
    "SELECT category.name, category.id, count(item.id) AS item_count "
    "FROM category LEFT OUTER JOIN item ON item.category_id = category.id "
    "GROUP BY category.id ORDER BY category.id"
)

# What POST sends (every field of ItemCreate) and what the bench's PATCH sends, in the
# table's column order, which is the order SQLAlchemy writes them in.
CREATED = ("name", "description", "price", "category_id")
PATCHED = ("name", "price")
# How asyncpg is told each written column's type (SQLAlchemy's casts).
CASTS = {
    "name": "VARCHAR",
    "description": "VARCHAR",
    "price": "NUMERIC(12, 2)",
    "category_id": "INTEGER",
}


def item_insert() -> str:
    placeholders = ", ".join(f"${n}::{CASTS[c]}" for n, c in enumerate(CREATED, 1))
    return f"INSERT INTO item ({', '.join(CREATED)}) VALUES ({placeholders}) RETURNING {ITEM}"


def item_update(columns: tuple[str, ...]) -> str:
    """`UPDATE item` of the columns a PATCH sent (in table order), the row's id last."""
    sets = ", ".join(f"{c}=${n}::{CASTS[c]}" for n, c in enumerate(columns, 1))
    return f"UPDATE item SET {sets} WHERE item.id = ${len(columns) + 1}::INTEGER RETURNING {ITEM}"


POSTGRES = {
    "items.by_id": f"SELECT {ITEM} FROM item WHERE item.id = $1::INTEGER",
    "items.page": f"SELECT {ITEM} FROM item ORDER BY item.id LIMIT $1 OFFSET $2",
    "categories.by_id": (
        "SELECT category.name, category.id FROM category WHERE category.id = $1::INTEGER"
    ),
    "categories.items": (
        f"SELECT {ITEM} FROM item WHERE item.category_id = $1::INTEGER ORDER BY item.id LIMIT $2"
    ),
    "categories.page": f"{COUNTED} LIMIT $1 OFFSET $2",
    "orders.by_id": f'SELECT {ORDER} FROM "order" WHERE "order".id = $1::INTEGER',
    "orders.page": f'SELECT {ORDER} FROM "order" ORDER BY "order".id LIMIT $1 OFFSET $2',
    "items.insert": item_insert(),
    "items.update": item_update(PATCHED),
}

SQLITE = {
    "items.by_id": f"SELECT {ITEM} FROM item WHERE item.id = ?",
    "items.page": f"SELECT {ITEM} FROM item ORDER BY item.id LIMIT ? OFFSET ?",
    "categories.by_id": "SELECT category.name, category.id FROM category WHERE category.id = ?",
    # SQLite's dialect writes an OFFSET (of 0) wherever there is a LIMIT.
    "categories.items": (
        f"SELECT {ITEM} FROM item WHERE item.category_id = ? ORDER BY item.id LIMIT ? OFFSET ?"
    ),
    "categories.page": f"{COUNTED} LIMIT ? OFFSET ?",
    "orders.by_id": f'SELECT {ORDER} FROM "order" WHERE "order".id = ?',
    "orders.page": f'SELECT {ORDER} FROM "order" ORDER BY "order".id LIMIT ? OFFSET ?',
}
