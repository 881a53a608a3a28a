"""Generating, installing and filling the projects under test.

Projects come from `harness.project`, exactly as the template's own tests make
them; the schema comes from each project's own migrations (`alembic upgrade
head`), so the benchmark reads the tables a deployed service would. Rows are
then inserted with the database's own tools, with ids 1..N, so a random id in
that range always hits a row.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.project import Project, generate
from harness.services import psql

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
    project.install(dev=False)
    return project


def provision(project: Project, rows: int) -> None:
    """A fresh database, migrated by the project and filled with `rows` items."""
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
INSERT INTO category (id, name)
  SELECT g, 'Category ' || g FROM generate_series(1, {CATEGORIES}) AS g;
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
            "INSERT INTO category (id, name) VALUES (?, ?)",
            [(i, f"Category {i}") for i in range(1, CATEGORIES + 1)],
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


class RedisUnavailable(RuntimeError):
    pass


def redis_cli(db: int, *command: str) -> str:
    try:
        result = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(db), *command],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RedisUnavailable(f"redis-cli could not reach 127.0.0.1:6379: {error}") from error
    if result.returncode != 0 or result.stdout.startswith(("ERR", "Could not connect")):
        raise RedisUnavailable(
            "Redis must be running on 127.0.0.1:6379 for the Redis build "
            "(for example `redis-server --daemonize yes --bind 127.0.0.1 --save ''`): "
            f"{result.stdout.strip()} {result.stderr.strip()}"
        )
    return result.stdout.strip()


def empty_redis_databases(count: int) -> list[int]:
    """Databases that hold no keys right now, from the top (15) down: each app gets its own."""
    chosen = [db for db in range(15, 0, -1) if redis_cli(db, "DBSIZE") == "0"][:count]
    if len(chosen) < count:
        raise RedisUnavailable(f"Redis has fewer than {count} empty databases among 1..15")
    return chosen


def redis_keys(db: int, prefix: str) -> list[str]:
    return redis_cli(db, "--scan", "--pattern", f"{prefix}*").split()


def delete_redis_keys(db: int, prefix: str) -> None:
    """Only the keys under this run's own prefix: another user of the database keeps its keys."""
    keys = redis_keys(db, prefix)
    for start in range(0, len(keys), 500):
        redis_cli(db, "DEL", *keys[start : start + 500])
