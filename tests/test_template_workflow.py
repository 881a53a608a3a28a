"""The template's CI workflow is valid, runs the commands the README documents, and is
safe to run on shared servers.

The matrix commands (harness/pipeline.py) split the suite in two: the tests of one
combination, and the rest. Together they must run the whole suite, each test once.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import services
from harness.options import (
    LAYER_OPTIONS,
    SERVICE_SHAPE_OPTIONS,
    TEMPLATE_ROOT,
    combination_id,
    combinations,
    feature_options,
    heavy_tier_combinations,
    layer_tier_combinations,
    resolve,
    service_shape,
    shape_representatives,
    suite_tier,
    switches_on,
)
from harness.pipeline import CHECK_COMMAND, LIST_COMMAND, REST_COMMAND
from harness.project import generate

WORKFLOW = TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml"
README = TEMPLATE_ROOT / "README.md"
TOOLS = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load_workflow() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return workflow


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job["steps"]
    return found


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"].strip() for step in steps(job) if "run" in step]


def pipeline(*args: str) -> subprocess.CompletedProcess[str]:
    """A documented command, run in this environment instead of through `uv run`."""
    return subprocess.run(
        [sys.executable, "-m", "harness.pipeline", *args],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def collected(*args: str) -> list[str]:
    result = pipeline(*args, "--", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_workflow_passes_actionlint_and_shellcheck() -> None:
    actionlint, shellcheck = TOOLS / "actionlint", TOOLS / "shellcheck"
    assert actionlint.is_file(), "actionlint is missing: run `uv sync`"
    assert shellcheck.is_file(), "shellcheck is missing: run `uv sync`"

    result = subprocess.run(
        [str(actionlint), "-no-color", f"-shellcheck={shellcheck}", "-pyflakes=", str(WORKFLOW)],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_runs_exactly_the_documented_commands() -> None:
    jobs = load_workflow()["jobs"]
    readme = README.read_text()

    assert runs(jobs["combinations"]) == [
        f'include="$({LIST_COMMAND})"\necho "include=$include" >> "$GITHUB_OUTPUT"'
    ]
    assert jobs["combination"]["strategy"]["matrix"] == {
        "include": "${{ fromJSON(needs.combinations.outputs.include) }}"
    }
    assert runs(jobs["combination"]) == [CHECK_COMMAND + " ${{ matrix.options }}"]
    assert runs(jobs["template"]) == [REST_COMMAND + " -- -n auto"]
    for documented in (LIST_COMMAND, CHECK_COMMAND, REST_COMMAND):
        assert documented in readme, f"README.md does not show `{documented}`"


def test_matrix_jobs_get_the_services_the_suite_expects() -> None:
    jobs = load_workflow()["jobs"]
    for name in ("combination", "template"):
        services = jobs[name]["services"]
        assert services["postgres"]["ports"] == ["5432:5432"]
        assert services["postgres"]["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
        assert services["redis"]["ports"] == ["6379:6379"]
    assert jobs["combination"]["strategy"]["fail-fast"] is False


def test_actions_are_pinned_and_permissions_are_read_only() -> None:
    workflow = load_workflow()
    used = [
        step["uses"] for job in workflow["jobs"].values() for step in steps(job) if "uses" in step
    ]

    assert used
    assert [action for action in used if not PINNED.match(action)] == []
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        assert set(job.get("permissions", {}).values()) <= {"read"}, name


@pytest.mark.parametrize(
    ("results", "passes"),
    [
        ("success success success", True),
        ("success failure success", False),
        ("success cancelled success", False),
        ("success skipped success", False),
    ],
)
def test_gate_passes_only_when_every_job_succeeded(results: str, passes: bool) -> None:
    jobs = load_workflow()["jobs"]
    gate = jobs["passed"]
    assert gate["if"] == "always()"
    assert set(gate["needs"]) == set(jobs) - {"passed"}
    [script] = runs(gate)

    result = subprocess.run(
        ["bash", "-e", "-c", script], env={"RESULTS": results}, capture_output=True, check=False
    )

    assert (result.returncode == 0) is passes


def test_list_prints_every_combination_as_a_matrix_include() -> None:
    result = pipeline("list")

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1, "GITHUB_OUTPUT takes one line"
    include = json.loads(result.stdout)
    assert [entry["name"] for entry in include] == [combination_id(c) for c in combinations()]
    for entry in include:
        assert combination_id(resolve(shlex.split(entry["options"]))) == entry["name"]


def pytest_ids(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_check_and_rest_together_run_the_whole_suite_once() -> None:
    """`check` alone is the default combination; `check` with all of them, exactly that one."""
    everything = pytest_ids()
    matrix = pytest_ids("-p", "harness.pipeline", "-m", "matrix")
    rest = collected("rest")

    assert matrix
    assert rest
    assert sorted(matrix + rest) == sorted(everything)
    names = {combination_id(combination) for combination in combinations()}
    assert not [test for test in rest if test.rsplit("[", 1)[-1].rstrip("]") in names]
    last = json.loads(pipeline("list").stdout)[-1]
    for name, options in [(combination_id(combinations()[0]), ""), (last["name"], last["options"])]:
        tests = collected("check", *shlex.split(options))
        assert tests
        assert tests == [test for test in matrix if test.endswith(f"[{name}]")]


def test_check_refuses_what_is_not_an_option_or_a_choice() -> None:
    unknown = pipeline("check", "databse=postgres")
    invalid = pipeline("check", "use_redis=yes")

    assert unknown.returncode == 2
    assert "'databse' is not an option; the options are: database," in unknown.stderr
    assert invalid.returncode == 2
    assert "use_redis=yes is not a choice; choose one of false, true" in invalid.stderr


def test_each_service_shape_has_one_representative_with_the_most_switches_on() -> None:
    chosen = shape_representatives()
    shapes = {service_shape(combination) for combination in combinations()}

    assert sorted(map(service_shape, chosen), key=repr) == sorted(shapes, key=repr)
    for combination in chosen:
        same_shape = [c for c in combinations() if service_shape(c) == service_shape(combination)]
        assert switches_on(combination) == max(map(switches_on, same_shape))


def test_the_heavy_tier_meets_every_two_choices_of_two_shape_options() -> None:
    heavy = heavy_tier_combinations()
    options = {name: feature_options()[name] for name in SERVICE_SHAPE_OPTIONS}

    for (first, firsts), (second, seconds) in itertools.combinations(options.items(), 2):
        for a, b in itertools.product(firsts, seconds):
            assert any(c[first] == a and c[second] == b for c in heavy), (first, a, second, b)
    assert set(map(combination_id, heavy)) <= set(map(combination_id, shape_representatives()))
    assert len(heavy) < len(shape_representatives())
    assert [suite_tier(c) for c in heavy] == ["full"] * len(heavy)
    assert sum(suite_tier(c) == "fast" for c in combinations()) == len(
        shape_representatives()
    ) - len(heavy)


def test_the_layer_tier_meets_every_two_choices_of_two_layer_or_shape_options() -> None:
    layered = layer_tier_combinations()
    options = {name: feature_options()[name] for name in SERVICE_SHAPE_OPTIONS + LAYER_OPTIONS}

    for (first, firsts), (second, seconds) in itertools.combinations(options.items(), 2):
        for a, b in itertools.product(firsts, seconds):
            assert any(c[first] == a and c[second] == b for c in layered), (first, a, second, b)
    ids = set(map(combination_id, layered))
    assert set(map(combination_id, shape_representatives())) <= ids
    assert len(layered) < len(combinations()) // 4
    tiers = {combination_id(c): suite_tier(c) for c in combinations()}
    assert {name for name, tier in tiers.items() if tier is not None} == ids
    assert {tiers[name] for name in ids} == {"full", "fast", "layers"}


def test_a_run_leaves_nothing_on_the_shared_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a run creates is named after its token, and its sweep removes all of it, only."""
    monkeypatch.delenv(services.RUN_TOKEN_VARIABLE)  # This run's own token comes back after.
    token = services.start_run()
    url = services.create_database("leftover check")
    redis_database = services.claim_redis_database()
    with services.Redis(database=redis_database) as redis:
        redis.command("SET", "celery-task-meta-leftover", "{}")
    other = services.start_run()
    other_database = services.claim_redis_database()
    try:
        services.sweep(token)

        assert url.rsplit("/", 1)[1] not in services.psql("SELECT datname FROM pg_database")
        with services.Redis(database=redis_database) as redis:
            assert redis.scan() == []
        with services.Redis(database=other_database) as redis:
            assert redis.command("GET", services.CLAIM_KEY) == other
    finally:
        services.sweep(other)


def test_generating_writes_no_replay_file_into_the_users_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COOKIECUTTER_CONFIG", raising=False)

    root = generate(tmp_path / "out", {"project_name": "Replay Free"})

    assert root.is_dir()
    assert not (tmp_path / "home").exists()
