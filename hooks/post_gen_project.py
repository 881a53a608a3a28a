"""Remove what the unchosen options own, then tell a person at a terminal what to do next.

`OWNED_PATHS` is the only place that knows which files belong to which option.
The hook stays offline and idempotent: update tools such as cruft run it again,
once for each version of the template they compare.

The answers are parsed in `main()`, not at import, so the table and the functions
below can be imported and tested without rendering this file.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

# The only Jinja in this file: cookiecutter renders the answers into this literal.
# Unrendered, it is an ordinary string that nothing reads until `main()`.
RENDERED_ANSWERS = r"""{{ cookiecutter | tojson }}"""

Answers = Mapping[str, Any]

# The generated package, filled in from `__package_name` when the paths are used.
PACKAGE = "src/{package}"


class Owned(NamedTuple):
    """Paths (relative to the project root) that stay only when `keep` holds.

    `condition` is `keep` written out as an expression over the answers, for the
    reader; the tests check that the two agree for every combination.
    """

    condition: str
    keep: Callable[[Answers], bool]
    paths: tuple[str, ...]


OWNED_PATHS: tuple[Owned, ...] = (
    Owned(
        "use_gzip",
        lambda answers: answers["use_gzip"],
        ("tests/middleware/test_gzip.py",),
    ),
    Owned(
        "use_cors",
        lambda answers: answers["use_cors"],
        ("tests/middleware/test_cors.py",),
    ),
    Owned(
        "use_redis",
        lambda answers: answers["use_redis"],
        (f"{PACKAGE}/cache", "tests/cache"),
    ),
    Owned(
        "use_celery",
        lambda answers: answers["use_celery"],
        (f"{PACKAGE}/jobs", "tests/jobs"),
    ),
    # The tests take a server (database, Redis, broker) away through this proxy; a
    # project with none of them has nothing to cut off.
    Owned(
        "database == 'postgres' or use_redis or use_celery",
        lambda answers: (
            answers["database"] == "postgres" or answers["use_redis"] or answers["use_celery"]
        ),
        ("tests/tcp_proxy.py",),
    ),
    # The chosen database's driver only (`db/__init__.py` imports it by name).
    Owned(
        "database == 'postgres'",
        lambda answers: answers["database"] == "postgres",
        (f"{PACKAGE}/db/postgres.py", "tests/test_postgres.py"),
    ),
    Owned(
        "database == 'sqlite'",
        lambda answers: answers["database"] == "sqlite",
        (f"{PACKAGE}/db/sqlite.py",),
    ),
    Owned(
        "auth == 'oauth2'",
        lambda answers: answers["auth"] == "oauth2",
        (
            f"{PACKAGE}/auth",
            f"{PACKAGE}/models/users.py",
            "migrations/versions/0002_users.py",
            "tests/auth",
        ),
    ),
    Owned(
        "auth == 'oauth2' and use_redis",
        lambda answers: answers["auth"] == "oauth2" and answers["use_redis"],
        ("tests/auth/test_throttle_shared.py",),
    ),
    # Without the option, the place where authentication plugs in.
    Owned(
        "auth == 'none'",
        lambda answers: answers["auth"] == "none",
        (f"{PACKAGE}/api/access.py",),
    ),
    Owned(
        "use_docker",
        lambda answers: answers["use_docker"],
        ("Dockerfile", ".dockerignore", "compose.yaml", "deploy"),
    ),
    # Kubernetes: a SQLite file has one owner, so replicas, autoscaling, a migration
    # Job and a separate worker exist only with PostgreSQL.
    Owned(
        "database == 'sqlite'",
        lambda answers: answers["database"] == "sqlite",
        ("deploy/k8s/pvc.yaml",),
    ),
    Owned(
        "database == 'postgres'",
        lambda answers: answers["database"] == "postgres",
        ("deploy/k8s/hpa.yaml", "deploy/k8s/pdb.yaml", "deploy/k8s/migrate-job.yaml"),
    ),
    Owned(
        "database == 'postgres' and use_celery",
        lambda answers: answers["database"] == "postgres" and answers["use_celery"],
        ("deploy/k8s/worker.yaml",),
    ),
)


def expand(path: str, answers: Answers) -> str:
    return path.format(package=answers["__package_name"])


def owned_paths(answers: Answers) -> list[str]:
    """Every path the table names, for this project's package."""
    return [expand(path, answers) for row in OWNED_PATHS for path in row.paths]


def unwanted_paths(answers: Answers) -> list[str]:
    """The paths of every row whose condition does not hold for these answers."""
    return [
        expand(path, answers) for row in OWNED_PATHS if not row.keep(answers) for path in row.paths
    ]


def remove(root: Path, relative: str) -> None:
    path = root / relative
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def prune(root: Path, answers: Answers) -> None:
    for relative in unwanted_paths(answers):
        remove(root, relative)


def next_steps(answers: Answers) -> str:
    slug = answers["project_slug"]
    return "\n".join(
        [
            f"Created {slug}. Next:",
            f"  cd {slug}",
            "  git init",
            "  make install                # uv sync: the service and its dev tools in .venv",
            "  uv run pre-commit install   # checks before every commit",
            "  make run                    # migrate, then serve on http://127.0.0.1:8000/docs",
            "  make test",
        ]
    )


def wants_next_steps(answers: Answers, *, at_terminal: bool) -> bool:
    """Whether a person will read the next steps, once.

    A pipeline has no terminal and reads nothing. cruft renders the template twice
    per update (the recorded version and the new one) through cookiecutter's
    library, which leaves out the `_output_dir` that cookiecutter's own command
    records, so an update prints nothing either.
    """
    return at_terminal and "_output_dir" in answers


def main() -> int:
    answers: dict[str, Any] = json.loads(RENDERED_ANSWERS)
    prune(Path.cwd(), answers)
    at_terminal = sys.stdin.isatty() and sys.stderr.isatty()
    if wants_next_steps(answers, at_terminal=at_terminal):
        print(next_steps(answers), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
