"""Print, as JSON, the SQL a generated service runs for each statement in `queries`.

Run by the bench with a build's own Python, `bench/reference` on the path and
`BENCH_PACKAGE` naming the build's package; the argument is the build's database
(`postgres` or `sqlite`). The statements are the service's own: each resource's
`Resource` (`by_id`, `page`, and the INSERT and UPDATE it builds for the columns
the bench writes) and the categories' own statements, compiled by the build's
SQLAlchemy for its driver. A service that no longer has one prints why instead.
"""

import importlib
import json
import os
import sys
from typing import Any

from queries import CREATED, PATCHED


def statements(package: str, database: str) -> dict[str, Any]:
    def routes(name: str) -> Any:
        return importlib.import_module(f"{package}.api.routes.{name}")

    items = routes("items").items
    categories = routes("categories")
    orders = routes("orders").orders
    found = {
        "items.by_id": items.by_id,
        "items.page": items.page,
        "categories.by_id": categories.categories.by_id,
        "categories.items": categories.ITEMS_OF_CATEGORY,
        "categories.page": categories.SUMMARIES,
        "orders.by_id": orders.by_id,
        "orders.page": orders.page,
    }
    if database == "postgres":
        found["items.insert"] = items.insert(frozenset(CREATED))
        found["items.update"] = items.update_of(frozenset(PATCHED))
    return found


def main() -> int:
    package, database = os.environ["BENCH_PACKAGE"], sys.argv[1]
    try:
        dialect = importlib.import_module(f"{package}.db.{database}").DIALECT
        compiled = {
            name: statement.compile(dialect, result_types=False).sql
            for name, statement in statements(package, database).items()
        }
    except Exception as error:  # a service that changed shape is reported, not a crash
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return 0
    print(json.dumps(compiled))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
