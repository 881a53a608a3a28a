"""Generating, installing and filling the projects under test.

Projects come from `harness.project`, exactly as the template's own tests make
them, and are installed as the generated Dockerfile installs them: no dev tools,
the package itself not editable, every module compiled to bytecode. An
uncompiled environment on a machine that sets PYTHONDONTWRITEBYTECODE compiles
every module again at each start, which would be most of a cold start.

Before the install, each project gets a resource made by its own generator
(`scripts/new_resource.py`, which `make resource` runs), as an owner would add
one: its models, routes, tests and migration, written into the project.

The schema comes from each project's own migrations (`alembic upgrade head`),
so the benchmark reads the tables a deployed service would. Rows are then
inserted with the database's own tools, with ids 1..N, so a random id in that
range always hits a row; a category's `name_key` is its name case-folded, as the
service writes it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.options import feature_options
from harness.project import Project, generate, run
from harness.services import psql

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

# The production install (the generated Dockerfile's, without --frozen: the lock is made here).
INSTALL = ["sync", "--no-dev", "--no-editable", "--compile-bytecode"]
CATEGORIES = 20
NOTE = "Leave it at the door."
DESCRIPTION = "A sturdy, well-made thing that does what it says on the box and ships in two days."


def build(
    workdir: Path,
    name: str,
    answers: Mapping[str, Any],
    unique: str,
    resource: Sequence[str],
    left_out: Sequence[str] = (),
) -> Project:
    """Generate one combination, add `resource` with the project's generator, install it
    as production does (or reuse one kept in `workdir` from an earlier run), without the
    dependencies whose names start with one of `left_out`."""
    output_dir = workdir / name
    existing = sorted(output_dir.glob("*/pyproject.toml")) if output_dir.is_dir() else []
    if existing:
        root = existing[0].parent
    else:
        output_dir.mkdir(parents=True, exist_ok=True)
        root = generate(output_dir, answers)
    # Every option the build does not name is at its default, as cookiecutter answered it.
    defaults = {option: values[0] for option, values in feature_options().items()}
    project = Project(root=root, answers={**defaults, **answers}, name=f"bench_{name}_{unique}")
    if not resource_added(project, resource):
        # The generator formats what it writes with the project's ruff: a dev tool, which
        # `uv run` installs here and the production install below removes again.
        project.uv("run", "python", "scripts/new_resource.py", *resource, timeout=900)
    leave_out(project.root / "pyproject.toml", left_out)
    project.uv(*INSTALL, timeout=900)
    return project


def leave_out(pyproject: Path, prefixes: Sequence[str]) -> None:
    """Remove the dependency lines (one quoted requirement each) naming these packages."""
    lines = pyproject.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.strip().strip('"').startswith(tuple(prefixes))]
    if prefixes and kept != lines:
        pyproject.write_text("".join(kept))


def resource_added(project: Project, resource: Sequence[str]) -> bool:
    name = dict(argument.partition("=")[::2] for argument in resource)["name"]
    return any((project.root / "src" / project.package / "models").glob(f"{name}*.py"))


def provision(project: Project, rows: int) -> None:
    """A fresh database, migrated by the project and filled with `rows` items.

    With Redis the project also claims an empty Redis database of its own, which
    `release` empties: its `REDIS_URL` and `REDIS_KEY_PREFIX` are in `project.env`.
    """
    project.provision()
    if project.answers.get("database") != "postgres":
        release(project)  # a file left by an earlier run kept in the same workdir
    project.tool("alembic", "upgrade", "head")
    if project.answers.get("database") == "postgres":
        psql_in(project, seed_sql_postgres(rows))
    else:
        seed_sqlite(sqlite_path(project), rows)


def release(project: Project) -> None:
    project.release()
    if project.answers.get("database") != "postgres":
        for suffix in ("", "-wal", "-shm"):
            Path(sqlite_path(project) + suffix).unlink(missing_ok=True)


def sqlite_path(project: Project) -> str:
    return project.env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")


def postgres_dsn(project: Project) -> str:
    """The project's database as a plain libpq/asyncpg URL."""
    return project.env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


def psql_in(project: Project, sql: str) -> None:
    psql(sql, postgres_dsn(project))


def seed_sql_postgres(rows: int) -> str:
    return f"""
INSERT INTO category (id, name, name_key)
  SELECT g, 'Category ' || g, 'category ' || g FROM generate_series(1, {CATEGORIES}) AS g;
INSERT INTO item (id, name, description, price, category_id)
  SELECT g, 'Item ' || g, '{DESCRIPTION}', round(((g % 997) * 1.25 + 0.99)::numeric, 2),
         (g % {CATEGORIES}) + 1
  FROM generate_series(1, {rows}) AS g;
SELECT setval(pg_get_serial_sequence('category', 'id'), {CATEGORIES});
INSERT INTO "order" (id, title, note, quantity, price, item_id)
  SELECT g, 'Order ' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE '{NOTE}' END, g % 9 + 1,
         round(((g % 89) * 3.5 + 4.99)::numeric, 2), g
  FROM generate_series(1, {rows}) AS g;
SELECT setval(pg_get_serial_sequence('item', 'id'), {rows});
SELECT setval(pg_get_serial_sequence('"order"', 'id'), {rows});
ANALYZE;
"""


def seed_sqlite(path: str, rows: int) -> None:
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO category (id, name, name_key) VALUES (?, ?, ?)",
            [(i, f"Category {i}", f"category {i}") for i in range(1, CATEGORIES + 1)],
        )
        connection.executemany(
            "INSERT INTO item (id, name, description, price, category_id) VALUES (?, ?, ?, ?, ?)",
            [
                (i, f"Item {i}", DESCRIPTION, round((i % 997) * 1.25 + 0.99, 2), i % CATEGORIES + 1)
                for i in range(1, rows + 1)
            ],
        )
        connection.executemany(
            'INSERT INTO "order" (id, title, note, quantity, price, item_id) '
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i, f"Order {i}", None if i % 2 == 0 else NOTE, i % 9 + 1, order_price(i), i)
                for i in range(1, rows + 1)
            ],
        )
        connection.execute("ANALYZE")
    connection.close()


def order_price(number: int) -> float:
    return round((number % 89) * 3.5 + 4.99, 2)


def run_sql(project: Project, sql: str) -> None:
    """A statement in the project's database, outside any server (a run's clean-up)."""
    if project.answers.get("database") == "postgres":
        psql_in(project, sql)
    else:
        with sqlite3.connect(sqlite_path(project)) as connection:
            connection.execute(sql)
        connection.close()


def service_sql(project: Project) -> dict[str, str]:
    """The SQL the project's service runs for each statement the references copy
    (`reference/service_sql.py`, run with the project's own Python); `error` says
    why there is none."""
    database = "postgres" if project.answers.get("database") == "postgres" else "sqlite"
    env = {**project.env, "PYTHONPATH": str(REFERENCE_DIR), "BENCH_PACKAGE": project.package}
    python = str(project.root / ".venv" / "bin" / "python")
    result = run([python, str(REFERENCE_DIR / "service_sql.py"), database], project.root, env)
    compiled: dict[str, str] = json.loads(result.stdout)
    return compiled
