"""The Dockerfile and its build context, and the image's contents booted without Docker."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from harness.deployment import (
    MIGRATE_COMMAND,
    PRODUCTION_INSTALL,
    Dockerfile,
    ImageContents,
    build_context,
    production_install,
    run,
    tool,
)
from harness.options import is_shape_representative
from harness.process import http_get
from harness.project import PRODUCTION_COMMAND, Project

pytestmark = pytest.mark.requires(use_docker=True)

_IMAGES: dict[Path, ImageContents] = {}


@pytest.fixture
def dockerfile(project: Project) -> Dockerfile:
    return Dockerfile(project.root / "Dockerfile")


@pytest.fixture
def image(project: Project, tmp_path_factory: pytest.TempPathFactory) -> ImageContents:
    """The image's contents, installed once per project in this test worker."""
    if project.root not in _IMAGES:
        _IMAGES[project.root] = production_install(project.root, tmp_path_factory.mktemp("image"))
    return _IMAGES[project.root]


@pytest.mark.same_files("Dockerfile")
def test_dockerfile_passes_hadolint(project: Project) -> None:
    command = [tool("hadolint"), "--no-color", "--failure-threshold", "style", "Dockerfile"]
    assert run(command, cwd=project.root).stdout == ""


@pytest.mark.same_files("Dockerfile")
def test_build_stage_installs_the_lock_without_dev_dependencies(dockerfile: Dockerfile) -> None:
    runs = [
        step.value for stage in dockerfile.stages[:-1] for step in stage if step.keyword == "RUN"
    ]
    assert any(" ".join(PRODUCTION_INSTALL) in value for value in runs), runs
    settings = [
        word
        for stage in dockerfile.stages[:-1]
        for step in stage
        if step.keyword == "ENV"
        for word in shlex.split(step.value)
    ]
    # The image's processes start without compiling the installed packages first.
    assert "UV_COMPILE_BYTECODE=1" in settings, settings


@pytest.mark.same_files("Dockerfile")
def test_runtime_stage_gets_the_environment_and_no_build_tools(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.runtime
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", runtime[0].words()[0])
    copied = [
        step.words() for step in runtime if step.keyword == "COPY" and step.flags().get("from")
    ]
    assert copied == [["/app/.venv", "/app/.venv"]]
    assert not [step for step in runtime if "apt-get" in step.value or "uv " in step.value]


@pytest.mark.same_files("Dockerfile")
def test_runtime_runs_as_a_numeric_unprivileged_user(dockerfile: Dockerfile) -> None:
    user = Dockerfile.only(dockerfile.runtime, "USER").words()[0]
    assert re.fullmatch(r"\d+:\d+", user), "a numeric user lets Kubernetes check runAsNonRoot"
    assert user.split(":")[0] != "0"


@pytest.mark.same_files("Dockerfile")
def test_runtime_command_healthcheck_and_stop_signal(dockerfile: Dockerfile) -> None:
    assert dockerfile.cmd() == PRODUCTION_COMMAND
    health = Dockerfile.only(dockerfile.runtime, "HEALTHCHECK")
    assert health.exec_form()[0] == "python"
    assert "/health" in health.value
    assert Dockerfile.only(dockerfile.runtime, "STOPSIGNAL").value == "SIGTERM"
    assert not [step for step in dockerfile.runtime if step.keyword == "ENTRYPOINT"]
    assert dockerfile.runtime_env()["PORT"] == Dockerfile.only(dockerfile.runtime, "EXPOSE").value


@pytest.mark.same_files("Dockerfile")
def test_no_secret_is_baked_into_the_image(dockerfile: Dockerfile) -> None:
    names = [
        assignment.split("=")[0]
        for stage in dockerfile.stages
        for step in stage
        if step.keyword in {"ENV", "ARG"}
        for assignment in step.value.split()
    ]
    assert not [name for name in names if re.search("PASSWORD|SECRET|TOKEN|KEY", name)]


@pytest.mark.requires(database="sqlite")
@pytest.mark.same_files("Dockerfile")
def test_sqlite_database_lives_on_the_data_volume(dockerfile: Dockerfile) -> None:
    assert dockerfile.runtime_env()["DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")


@pytest.mark.same_files(".dockerignore")
def test_build_context_leaves_out_local_files_and_secrets(project: Project, tmp_path: Path) -> None:
    # A copy: the project's own directory is shared with other tests.
    shutil.copy2(project.root / ".dockerignore", tmp_path / ".dockerignore")
    for private in [".env", "service.db", ".venv/bin/python", ".git/config", "tests/conftest.py"]:
        (tmp_path / private).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / private).write_text("local\n")
    (tmp_path / "src/pkg/__pycache__").mkdir(parents=True)
    (tmp_path / "src/pkg/__pycache__/main.cpython-312.pyc").write_bytes(b"")
    sent = build_context(tmp_path)
    assert not [path for path in sent if path.startswith((".env", ".venv/", ".git/", "tests/"))]
    assert "service.db" not in sent
    assert not [path for path in sent if "__pycache__" in path or path.endswith(".pyc")]


@pytest.mark.same_files("Dockerfile", ".dockerignore")
def test_build_context_has_every_file_the_dockerfile_reads(
    project: Project, dockerfile: Dockerfile
) -> None:
    sent = build_context(project.root)
    needed = {"pyproject.toml", "uv.lock", "README.md", f"src/{project.package}/main.py"}
    for stage in dockerfile.stages:
        for sources, _ in Dockerfile.context_copies(stage):
            needed |= {source for source in sources if source != "."}
        for step in stage:
            for mount in re.findall(r"--mount=(\S+)", step.value):
                options = dict(option.partition("=")[::2] for option in mount.split(","))
                if options.get("type") == "bind" and "from" not in options:
                    needed.add(options["source"])
    missing = [
        path
        for path in sorted(needed)
        if path not in sent and not any(other.startswith(path.rstrip("/") + "/") for other in sent)
    ]
    assert not missing, f".dockerignore keeps these from the build: {missing}"


@pytest.mark.only_where(predicate=is_shape_representative)
def test_image_contents_serve_health_and_ready_with_the_dockerfile_command(
    project: Project, dockerfile: Dockerfile, image: ImageContents
) -> None:
    """A production-only install from the lock, the runtime stage's files, then its CMD.

    A dependency only the dev group has, or a file the runtime stage does not copy, fails
    here before it fails in a container. Once per service shape: the shape decides the
    dependencies (the layer options add none), and every combination's own production
    boot already runs its code.
    """
    assert not (image.workdir / "src").exists(), "the runtime must not need the source tree"
    contents = Project(
        root=image.workdir,
        answers=project.answers,
        name=project.name,
        env={
            **image.env,
            **project.production_secrets(),
            **project.env,
            "UV_PYTHON": image.env["UV_PYTHON"],
        },
    )
    contents.tool(*MIGRATE_COMMAND)
    with contents.serving(dockerfile.cmd()) as base_url:
        health = http_get(f"{base_url}/health")
        ready = http_get(f"{base_url}/ready")
    assert health[0] == 200, health
    assert ready[0] == 200, ready
    assert json.loads(ready[1])["status"] == "ready"
