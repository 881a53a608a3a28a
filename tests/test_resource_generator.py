"""The generated project's resource generator, run the way its README says, in every service
shape a resource can see (Celery is not one of its concerns).

A fresh project (never the one the other tests of its combination share) gets two
resources from `make resource`: one with every scalar field type and a reference to
items, one that refers to the first. Then the project's own lint passes, the
migrations it numbered build the schema the models describe, and the new resources'
generated tests pass against the real services.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.options import Combination, combination_id, is_shape_representative, needs_redis
from harness.project import Project, clean_environment, generate
from harness.services import claim_redis_database, release_redis_database

# The README's example, and a second resource that refers to the first (every field type between them).
RESOURCES = [
    ["name=order", "fields=title:str note:text? quantity:int price:decimal item:ref"],
    ["name=order_line", "fields=order:ref paid:bool? due:date at:datetime category:ref?"],
]


# Celery touches no resource: the shapes with it would repeat the shapes without.
pytestmark = [
    pytest.mark.only_where(predicate=is_shape_representative),
    pytest.mark.requires(use_celery=False),
]


@pytest.fixture
def fresh(combination: Combination, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A project of its own: the generator changes it, and the combination's others share theirs."""
    name = f"{combination_id(combination)}-generator"
    root = generate(tmp_path_factory.mktemp("generator"), combination)
    project = Project(root=root, answers=combination, name=name)
    project.env["MYPY_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "mypy-cache")
    project.share_environment(tmp_path_factory.getbasetemp() / "environments")
    redis_database = claim_redis_database() if needs_redis(combination) else None
    try:
        project.provision(redis_database)
        project.install()
        yield project
    finally:
        project.release()
        if redis_database is not None:
            release_redis_database(redis_database)


def make(project: Project, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *arguments],
        cwd=project.root,
        env=clean_environment(project.uv_env()),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_generated_resources_pass_lint_migrations_and_their_tests(fresh: Project) -> None:
    before = snapshot(fresh.root)
    refused = make(fresh, "resource", "name=item", "fields=colour:hue")
    assert refused.returncode != 0
    assert "No resource was added" in refused.stderr
    assert "unknown type 'hue'" in refused.stderr
    assert "a table of that name exists" in refused.stderr
    assert snapshot(fresh.root) == before, "a refused resource changed the project"

    for arguments in RESOURCES:
        result = make(fresh, "resource", *arguments)
        assert result.returncode == 0, result.stdout + result.stderr

    written = set(snapshot(fresh.root)) - set(before)
    # Numbered after the migrations the project came with.
    first = 1 + sum(path.startswith("migrations/versions/") for path in before)
    assert written == {
        f"src/{fresh.package}/models/orders.py",
        f"src/{fresh.package}/models/order_lines.py",
        f"src/{fresh.package}/api/routes/orders.py",
        f"src/{fresh.package}/api/routes/order_lines.py",
        "tests/api/routes/test_orders.py",
        "tests/api/routes/test_order_lines.py",
        f"migrations/versions/{first:04d}_add_orders.py",
        f"migrations/versions/{first + 1:04d}_add_order_lines.py",
    }
    assert_reads_as_hand_written(fresh)
    lint = make(fresh, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fresh.tool(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/api/routes/test_orders.py",
        "tests/api/routes/test_order_lines.py",
        "tests/test_migrations.py",
    )


def assert_reads_as_hand_written(project: Project) -> None:
    """No leftovers of the generator's templates, and the shape of the project's own modules."""
    source = project.root / "src" / project.package
    models = (source / "models" / "orders.py").read_text()
    routes = (source / "api" / "routes" / "orders.py").read_text()
    for text in (models, routes):
        assert "$" not in text
        assert "\n\n\n\n" not in text
    assert "class OrderBase(SQLModel):" in models
    assert "@partial\nclass OrderUpdate(OrderBase, RequestBody):" in models
    assert 'orders = Resource("orders", Order, OrderRead)' in routes
    assert "    orders.router,\n" in (source / "main.py").read_text()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for top in ("src", "tests", "migrations")
        for path in sorted((root / top).rglob("*.py"))
        if "__pycache__" not in path.parts
    }
