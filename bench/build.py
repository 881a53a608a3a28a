"""Generating, installing and filling the projects under test.

Projects come from `harness.project`, exactly as the template's own tests make
them, and are installed as the generated Dockerfile installs them: no dev tools,
the package itself not editable, every module compiled to bytecode. An
uncompiled environment on a machine that sets PYTHONDONTWRITEBYTECODE compiles
every module again at each start, which would be most of a cold start.

The schema comes from each project's own migrations (`alembic upgrade head`),
so the benchmark reads the tables a deployed service would. Rows are then
inserted with the database's own tools, with ids 1..N, so a random id in that
range always hits a row; a category's `name_key` is its name case-folded, as the
service writes it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.project import Project, generate
from harness.services import psql

# The production install (the generated Dockerfile's, without --frozen: the lock is made here).
INSTALL = ["sync", "--no-dev", "--no-editable", "--compile-bytecode"]
CATEGORIES = 20
DESCRIPTION = "A sturdy, well-made thing that does what it says on the box and ships in two days."


def build(workdir: Path, name: str, answers: Mapping[str, Any], unique: str) -> Project:
    """Generate and install one combination (or reuse one kept in `workdir` from an earlier run)."""
    output_dir = workdir / name
    existing = sorted(output_dir.glob("*/pyproject.toml")) if output_dir.is_dir() else []
    if existing:
        root = existing[0].parent
    else:
        output_dir.mkdir(parents=True, exist_ok=True)
        root = generate(output_dir, answers)
    project = Project(root=root, answers=dict(answers), name=f"bench_{name}_{unique}")
    project.uv(*INSTALL, timeout=900)
    return project


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
SELECT setval(pg_get_serial_sequence('item', 'id'), {rows});
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
        connection.execute("ANALYZE")
    connection.close()
