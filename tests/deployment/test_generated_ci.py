"""The generated project's CI workflow (every project) and its Dependabot configuration."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from harness.deployment import run, tool
from harness.options import needs_redis
from harness.project import Project

WORKFLOW = ".github/workflows/ci.yml"
DEPENDABOT = ".github/dependabot.yml"
same_workflow = pytest.mark.same_files(WORKFLOW)


def load(project: Project, path: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((project.root / path).read_text())
    return document


def run_lines(jobs: dict[str, Any]) -> list[str]:
    return [
        line.strip()
        for job in jobs.values()
        for step in job["steps"]
        if "run" in step
        for line in step["run"].splitlines()
    ]


@same_workflow
def test_workflow_passes_actionlint_and_shellcheck(project: Project) -> None:
    command = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), "-pyflakes", ""]
    assert run([*command, WORKFLOW], cwd=project.root).stdout == ""


@same_workflow
def test_workflow_matches_the_github_workflow_schema(project: Project) -> None:
    run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", WORKFLOW],
        cwd=project.root,
    )


@same_workflow
def test_github_expressions_survive_generation(project: Project) -> None:
    text = (project.root / WORKFLOW).read_text()
    assert "  group: ${{ github.workflow }}-${{ github.ref }}\n  cancel-in-progress: true\n" in text


@same_workflow
def test_workflow_token_only_reads(project: Project) -> None:
    workflow = load(project, WORKFLOW)
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())


@same_workflow
def test_every_action_is_pinned_to_a_commit_with_its_release_beside_it(project: Project) -> None:
    jobs = load(project, WORKFLOW)["jobs"]
    uses = {step["uses"] for job in jobs.values() for step in job["steps"] if "uses" in step}
    assert uses
    text = (project.root / WORKFLOW).read_text()
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.search(re.escape(action) + r" # v\d+\.\d+\.\d+\n", text), action
    checkouts = [s for j in jobs.values() for s in j["steps"] if "checkout" in s.get("uses", "")]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


@same_workflow
def test_workflow_runs_lint_types_tests_and_audit(project: Project) -> None:
    lines = run_lines(load(project, WORKFLOW)["jobs"])
    for command in [
        "uv run ruff check .",
        "uv run ruff format --check .",
        "uv run mypy",
        "uv run pytest",
    ]:
        assert command in lines, f"{command!r} is not run"
    assert any("pip-audit" in line for line in lines)


@same_workflow
def test_tests_get_the_servers_the_options_need(project: Project) -> None:
    test_job = load(project, WORKFLOW)["jobs"]["test"]
    postgres = project.answers["database"] == "postgres"
    expected = {"postgres"} if postgres else set()
    expected |= {"redis"} if needs_redis(project.answers) else set()
    assert set(test_job.get("services", {})) == expected
    env = test_job.get("env", {})
    assert ("TEST_DATABASE_URL" in env) == postgres
    assert ("REDIS_URL" in env) == bool(project.answers["use_redis"])
    assert ("CELERY_BROKER_URL" in env) == bool(project.answers["use_celery"])
    if postgres:
        port = test_job["services"]["postgres"]["ports"][0].split(":")[0]
        assert f"@127.0.0.1:{port}/" in env["TEST_DATABASE_URL"]


@pytest.mark.requires(use_docker=True)
@same_workflow
def test_image_job_probes_against_the_same_servers_as_the_tests(project: Project) -> None:
    jobs = load(project, WORKFLOW)["jobs"]
    assert jobs["image"].get("services") == jobs["test"].get("services")
    lines = run_lines(jobs)
    assert 'docker build --tag "$IMAGE" .' in lines
    assert any(line.endswith("/health") for line in lines)
    assert any(line.endswith("/ready") for line in lines)


@pytest.mark.requires(use_docker=False)
@same_workflow
def test_workflow_without_docker_has_no_image_job(project: Project) -> None:
    assert "image" not in load(project, WORKFLOW)["jobs"]


@pytest.mark.requires(use_docker=False)
def test_projects_without_docker_have_no_deployment_files_nor_mention_them(
    project: Project,
) -> None:
    for name in ["Dockerfile", ".dockerignore", "compose.yaml", "deploy"]:
        assert not (project.root / name).exists(), name
    words = [
        "dockerfile",
        ".dockerignore",
        "compose.yaml",
        "docker compose",
        "deploy/k8s",
        "kubectl",
    ]
    mentions = [
        f"{path.relative_to(project.root)}: {word}"
        for path in project.text_files()
        for word in words
        if word in path.read_text().lower()
    ]
    assert not mentions, "\n".join(mentions)


@pytest.mark.same_files(DEPENDABOT)
def test_dependabot_configuration_matches_its_schema(project: Project) -> None:
    run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", DEPENDABOT],
        cwd=project.root,
    )


@pytest.mark.same_files(DEPENDABOT)
def test_dependabot_updates_the_lock_the_actions_and_the_base_image(project: Project) -> None:
    updates = load(project, DEPENDABOT)["updates"]
    ecosystems = {update["package-ecosystem"] for update in updates}
    expected = {"uv", "github-actions"} | ({"docker"} if project.answers["use_docker"] else set())
    assert ecosystems == expected
    assert all(update["directory"] == "/" and update["schedule"]["interval"] for update in updates)
