"""Remove what the unchosen options own, then print the next steps.

The table below is the only place that knows which files belong to which option.
The hook stays offline and idempotent: update tools such as cruft run it again
over an existing project.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ANSWERS: dict[str, object] = json.loads(r"""{{ cookiecutter | tojson }}""")
PACKAGE = f"src/{ANSWERS['__package_name']}"

# (option, value that keeps the paths, paths relative to the project root). With a
# tuple of options and a tuple of values, the paths stay when any option has its value.
OWNED_PATHS: list[tuple[str | tuple[str, ...], object, list[str]]] = [
    ("use_gzip", True, [f"{PACKAGE}/middleware/gzip.py", "tests/middleware/test_gzip.py"]),
    ("use_cors", True, ["tests/middleware/test_cors.py"]),
    (
        "use_redis",
        True,
        [
            f"{PACKAGE}/cache.py",
            f"{PACKAGE}/core/redis.py",
            f"{PACKAGE}/middleware/rate_limit.py",
            "tests/test_cache.py",
            "tests/middleware/test_rate_limit.py",
        ],
    ),
    # Tests take a server (database, cache or broker) away through a proxy.
    (
        ("database", "use_redis", "use_celery"),
        ("postgres", True, True),
        ["tests/tcp_proxy.py"],
    ),
    (
        "use_celery",
        True,
        [
            f"{PACKAGE}/celery_app.py",
            f"{PACKAGE}/tasks.py",
            f"{PACKAGE}/api/queue.py",
            f"{PACKAGE}/api/routes/tasks.py",
            f"{PACKAGE}/api/routes/category_stats.py",
            "migrations/versions/0002_category_stats.py",
            "tests/test_tasks.py",
        ],
    ),
    ("use_docker", True, ["Dockerfile", ".dockerignore", "compose.yaml", "deploy"]),
    # Kubernetes: a SQLite file has one owner, so replicas, autoscaling and a separate
    # worker exist only with PostgreSQL; a path in two rows needs both options.
    ("database", "sqlite", ["deploy/k8s/pvc.yaml"]),
    (
        "database",
        "postgres",
        [f"deploy/k8s/{name}.yaml" for name in ("hpa", "pdb", "migrate-job", "worker")],
    ),
    ("use_celery", True, ["deploy/k8s/worker.yaml"]),
]


def unwanted_paths(answers: dict[str, object]) -> list[str]:
    unwanted = []
    for options, keep_when, paths in OWNED_PATHS:
        if isinstance(options, tuple) and isinstance(keep_when, tuple):
            pairs = list(zip(options, keep_when, strict=True))
        else:
            pairs = [(options, keep_when)]
        if not any(answers.get(name) == value for name, value in pairs):
            unwanted += paths
    return unwanted


def remove(root: Path, relative: str) -> None:
    path = root / relative
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def next_steps(answers: dict[str, object]) -> str:
    return "\n".join(
        [
            f"Created {answers['project_slug']}. Next:",
            f"  cd {answers['project_slug']}",
            "  make install      # uv sync",
            "  cp .env.example .env",
            "  make run          # migrate, then serve on http://127.0.0.1:8000/docs",
            "  make test",
        ]
    )


def main() -> int:
    root = Path.cwd()
    for relative in unwanted_paths(ANSWERS):
        remove(root, relative)
    print(next_steps(ANSWERS), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
