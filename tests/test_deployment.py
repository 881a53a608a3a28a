"""Deployment files: the CI workflow (every project) and, with `use_docker`, the image,
the Compose stack and the Kubernetes manifests.

Nothing here needs a Docker engine or a cluster. Each file passes the linter or schema
its own tooling would apply, and its structure is checked against the options: which
services exist, what waits for what, which probe hits which endpoint. The image itself
is simulated: the build context `.dockerignore` lets through, the Dockerfile's own
`uv sync` into a fresh environment, the files its runtime stage copies, and then its
exact CMD must serve `/health` and `/ready`.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployment import (
    MIGRATE_COMMAND,
    DockerIgnore,
    compose_model,
    containers,
    context_copies,
    find,
    kustomize,
    only,
    pod_spec,
    run_once,
    simulate_image,
    stage_env,
    stages,
    tool,
)
from tests.project import PRODUCTION_COMMAND, Project, clean_environment, http_get, stop

WORKFLOW = ".github/workflows/ci.yml"
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]  # the oldest and newest this schema set covers
# Compose interpolates the database password from the environment or .env.
COMPOSE_ENV = {"POSTGRES_PASSWORD": "not-a-real-password"}


def worker_command(project: Project) -> list[str]:
    return ["celery", "--app", f"{project.package}.celery_app", "worker", "--loglevel", "INFO"]


def needs_redis(project: Project) -> bool:
    return bool(project.answers["use_redis"] or project.answers["use_celery"])


def is_postgres(project: Project) -> bool:
    return bool(project.answers["database"] == "postgres")


def slug(project: Project) -> str:
    return project.root.name


_IMAGES: dict[Path, tuple[Project, list[str]]] = {}


@pytest.fixture
def image(project: Project, tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, list[str]]:
    """The simulated image of the project and its CMD, built once per test worker."""
    if project.root not in _IMAGES:
        _IMAGES[project.root] = simulate_image(project, tmp_path_factory.mktemp("image"))
    return _IMAGES[project.root]


# ---------------------------------------------------------------- CI workflow


def load_workflow(project: Project) -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load((project.root / WORKFLOW).read_text())
    return workflow


def run_lines(job: dict[str, Any]) -> list[str]:
    return [
        line.strip() for step in job["steps"] if "run" in step for line in step["run"].splitlines()
    ]


def test_workflow_passes_actionlint_and_shellcheck(project: Project) -> None:
    output = run_once(
        [
            tool("actionlint"),
            "-no-color",
            "-shellcheck",
            tool("shellcheck"),
            "-pyflakes",
            "",
            WORKFLOW,
        ],
        cwd=project.root,
        inputs=[project.root / WORKFLOW],
    )
    assert output == ""


def test_workflow_matches_the_github_workflow_schema(project: Project) -> None:
    run_once(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", WORKFLOW],
        cwd=project.root,
        inputs=[project.root / WORKFLOW],
    )


def test_github_expressions_survive_generation(project: Project) -> None:
    text = (project.root / WORKFLOW).read_text()
    assert "  group: ${{ github.workflow }}-${{ github.ref }}\n  cancel-in-progress: true\n" in text


def test_workflow_is_read_only_and_pins_every_action_to_a_commit(project: Project) -> None:
    workflow = load_workflow(project)
    assert workflow["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    uses = [
        step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step
    ]
    assert uses
    unpinned = [
        action for action in uses if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action)
    ]
    assert not unpinned, f"not pinned to a full commit SHA: {unpinned}"
    # The release each SHA stands for is written next to it, for humans and Dependabot.
    text = (project.root / WORKFLOW).read_text()
    for action in set(uses):
        assert re.search(re.escape(action) + r" # v\d+\.\d+\.\d+\n", text), action
    checkouts = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "checkout" in step.get("uses", "")
    ]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_workflow_runs_every_check_against_the_services_the_options_need(project: Project) -> None:
    jobs = load_workflow(project)["jobs"]
    lines = [line for job in jobs.values() for line in run_lines(job)]
    for command in [
        "uv run ruff check .",
        "uv run ruff format --check .",
        "uv run mypy",
        "uv run pytest",
    ]:
        assert command in lines, f"{command!r} is not run"
    assert any("pip-audit" in line for line in lines)

    test_job = jobs["test"]
    expected_services = {"postgres"} if is_postgres(project) else set()
    expected_services |= {"redis"} if needs_redis(project) else set()
    assert set(test_job.get("services", {})) == expected_services
    env = test_job.get("env", {})
    assert ("TEST_DATABASE_URL" in env) == is_postgres(project)
    assert ("REDIS_URL" in env) == bool(project.answers["use_redis"])
    assert ("CELERY_BROKER_URL" in env) == bool(project.answers["use_celery"])
    if is_postgres(project):
        port = test_job["services"]["postgres"]["ports"][0].split(":")[0]
        assert f"@127.0.0.1:{port}/" in env["TEST_DATABASE_URL"]
    assert ("image" in jobs) == bool(project.answers["use_docker"])


@pytest.mark.requires(use_docker=False)
def test_projects_without_docker_have_no_deployment_files_nor_mention_them(
    project: Project,
) -> None:
    for name in ["Dockerfile", ".dockerignore", "compose.yaml", "deploy"]:
        assert not (project.root / name).exists(), name
    assert (project.root / WORKFLOW).is_file()
    references = ["dockerfile", ".dockerignore", "compose.yaml", "docker compose", "deploy/k8s"]
    mentions = [
        f"{path.relative_to(project.root)}: {word}"
        for path in project.text_files()
        for word in [*references, "kubectl"]
        if word in path.read_text().lower()
    ]
    assert not mentions, "\n".join(mentions)


# ---------------------------------------------------------------- Dockerfile


@pytest.mark.requires(use_docker=True)
def test_dockerfile_passes_hadolint(project: Project) -> None:
    output = run_once(
        [tool("hadolint"), "--no-color", "--failure-threshold", "style", "Dockerfile"],
        cwd=project.root,
        inputs=[project.root / "Dockerfile"],
    )
    assert output == ""


@pytest.mark.requires(use_docker=True)
def test_runtime_stage_is_slim_unprivileged_and_runs_the_production_command(
    project: Project,
) -> None:
    *earlier, runtime = stages(project.root / "Dockerfile")
    build = next(stage for stage in earlier if stage[0].arguments.endswith(" AS build"))
    build_runs = " ".join(step.arguments for step in build if step.keyword == "RUN")
    assert "uv sync --frozen --no-dev" in build_runs
    assert stage_env(build)["UV_COMPILE_BYTECODE"] == "1"

    base = runtime[0].operands()[0]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), base
    # Nothing from the build stage but the environment: no uv, no compiler, no sources.
    copied_from = [step for step in runtime if step.keyword == "COPY" and step.flags().get("from")]
    assert [step.operands() for step in copied_from] == [["/app/.venv", "/app/.venv"]]
    assert not [step for step in runtime if "apt-get" in step.arguments or "uv " in step.arguments]

    user = only(runtime, "USER").operands()[0]
    assert user.split(":")[0] not in {"0", "root"}
    assert re.fullmatch(r"\d+:\d+", user), "a numeric user lets Kubernetes check runAsNonRoot"
    health = only(runtime, "HEALTHCHECK")
    assert health.exec_form()[0] == "python"
    assert "/health" in health.arguments
    assert only(runtime, "STOPSIGNAL").arguments == "SIGTERM"
    assert only(runtime, "CMD").exec_form() == PRODUCTION_COMMAND
    assert not [step for step in runtime if step.keyword == "ENTRYPOINT"]

    env = stage_env(runtime)
    assert env["PORT"] == only(runtime, "EXPOSE").arguments == "8000"
    secretive = [
        name
        for stage in [*earlier, runtime]
        for name in stage_env(stage)
        if re.search("PASSWORD|SECRET|TOKEN|KEY", name)
    ]
    assert not secretive
    if not is_postgres(project):
        assert env["DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")


@pytest.mark.requires(use_docker=True)
def test_build_context_has_what_the_build_reads_and_no_secrets(project: Project) -> None:
    ignore = DockerIgnore.read(project.root / ".dockerignore")
    package = f"src/{project.package}"
    for private in [
        ".env",
        ".env.production",
        "service.db",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        f"{package}/__pycache__/main.cpython-312.pyc",
    ]:
        assert not ignore.sends(private), f"{private} would be sent to the build"

    needed = {"pyproject.toml", "uv.lock", "README.md", f"{package}/main.py"}
    for stage in stages(project.root / "Dockerfile"):
        for sources, _ in context_copies(stage):
            needed |= {source for source in sources if source != "."}
        for step in stage:
            for mount in re.findall(r"--mount=(\S+)", step.arguments):
                options = dict(option.partition("=")[::2] for option in mount.split(","))
                if options.get("type") == "bind" and "from" not in options:
                    needed.add(options["source"])
    missing = [path for path in sorted(needed) if not ignore.sends(path)]
    assert not missing, f".dockerignore keeps these from the build: {missing}"


@pytest.mark.requires(use_docker=True)
def test_image_contents_serve_health_and_ready_with_the_dockerfile_command(
    image: tuple[Project, list[str]],
) -> None:
    """The image, without Docker: a production-only install from the lock into a fresh
    environment, then the runtime stage's files and its exact CMD.

    A dependency only the dev group had, or a file the runtime stage does not copy,
    fails here before it fails in a container.
    """
    contents, command = image
    assert command == PRODUCTION_COMMAND
    contents.tool(*MIGRATE_COMMAND)
    with contents.serving(command) as base_url:
        health = http_get(f"{base_url}/health")
        ready = http_get(f"{base_url}/ready")
    assert health[0] == 200, health
    assert ready[0] == 200, ready
    assert json.loads(ready[1])["status"] == "ready"


# ---------------------------------------------------------------- Compose


@pytest.mark.requires(use_docker=True)
def test_compose_file_matches_the_compose_specification(project: Project) -> None:
    run_once(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        cwd=project.root,
        inputs=[project.root / "compose.yaml"],
    )


@pytest.mark.requires(use_docker=True)
def test_compose_services_and_their_order_follow_the_options(project: Project) -> None:
    model = compose_model(project, COMPOSE_ENV)
    services = model["services"]
    expected = {"migrate", "api"}
    expected |= {"db"} if is_postgres(project) else set()
    expected |= {"redis"} if needs_redis(project) else set()
    expected |= {"worker"} if project.answers["use_celery"] else set()
    assert set(services) == expected

    assert services["migrate"]["command"] == MIGRATE_COMMAND
    if project.answers["use_celery"]:
        assert services["worker"]["command"] == worker_command(project)
    backing = ({"db"} if is_postgres(project) else set()) | (
        {"redis"} if needs_redis(project) else set()
    )
    for name in {"api", "worker"} & expected:
        conditions = {
            dependency: settings["condition"]
            for dependency, settings in services[name]["depends_on"].items()
        }
        assert conditions == {
            "migrate": "service_completed_successfully",
            **dict.fromkeys(backing, "service_healthy"),
        }, name
    if is_postgres(project):
        assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"

    for name, service in services.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} has its healthcheck disabled"
    assert "/health" in " ".join(services["api"]["healthcheck"]["test"])

    app_services = {"migrate", "api", "worker"} & expected
    for name in app_services:
        service = services[name]
        assert service["build"]["context"] == str(project.root)
        assert service["read_only"] is True
        assert any(mount.startswith("/tmp") for mount in service["tmpfs"])
        url = service["environment"]["DATABASE_URL"]
        if is_postgres(project):
            assert url.startswith("postgresql+asyncpg://")
            assert "@db:5432/" in url
        else:
            assert url.startswith("sqlite+aiosqlite:////data/")
            mounts = {(volume["source"], volume["target"]) for volume in service["volumes"]}
            assert ("data", "/data") in mounts
        if project.answers["use_redis"]:
            assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379/")
        if project.answers["use_celery"]:
            assert service["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert services["api"]["stop_grace_period"] == "40s"

    volumes = set(model.get("volumes", {}))
    assert volumes == ({"postgres-data"} if is_postgres(project) else {"data"}) | (
        {"redis-data"} if needs_redis(project) else set()
    )


@pytest.mark.requires(use_docker=True, use_celery=True)
def test_worker_from_the_image_passes_its_health_checks_and_stops_cleanly(
    project: Project, image: tuple[Project, list[str]]
) -> None:
    """The Compose worker command, run from the simulated image against a real broker,
    answers the Compose healthcheck and the Kubernetes liveness probe (pings through the
    broker), and exits 0 on SIGTERM."""
    worker_service = compose_model(project, COMPOSE_ENV)["services"]["worker"]
    kind, compose_check = worker_service["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    # `$$` is Compose's escape for a `$` that the container's shell expands.
    checks = [["sh", "-c", compose_check.replace("$$", "$")]]
    pods = [item for item in kustomize(project) if item["kind"] == "Deployment"]
    probes = [
        container["livenessProbe"]["exec"]["command"]
        for pod in pods
        for name, container in containers(pod).items()
        if name == "worker"
    ]
    assert len(probes) == 1
    checks += probes

    contents, _ = image
    broker = contents.env.get("CELERY_BROKER_URL", contents.env["REDIS_URL"])
    env = clean_environment(
        {
            **contents.env,
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": contents.env.get("CELERY_RESULT_BACKEND", broker),
            # What a container's shell has; Celery names its node after the host.
            "HOSTNAME": socket.gethostname(),
        }
    )
    worker = subprocess.Popen(
        ["uv", "run", "--no-sync", *worker_service["command"]],
        cwd=contents.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for check in checks:
            deadline = time.monotonic() + 60
            while True:
                assert worker.poll() is None, "the worker exited before answering"
                ping = subprocess.run(
                    ["uv", "run", "--no-sync", *check],
                    cwd=contents.root,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
                if ping.returncode == 0:
                    break
                assert time.monotonic() < deadline, f"{check}: {ping.stdout}{ping.stderr}"
                time.sleep(1)
    finally:
        output = stop(worker, timeout=60)
    assert worker.returncode == 0, output[-8000:]


@pytest.mark.requires(use_docker=True, database="postgres")
def test_compose_refuses_to_start_without_a_database_password(project: Project) -> None:
    env = {
        name: value
        for name, value in clean_environment().items()
        if not name.startswith("POSTGRES_")
    }
    result = subprocess.run(
        [tool("docker-compose"), "--file", "compose.yaml", "config", "--quiet"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


# ---------------------------------------------------------------- Kubernetes


@pytest.mark.requires(use_docker=True)
def test_kustomization_lists_every_manifest(project: Project) -> None:
    directory = project.root / "deploy" / "k8s"
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    listed = list(kustomization["resources"])
    for generator in kustomization.get("configMapGenerator", []):
        listed += generator.get("envs", []) + generator.get("files", [])
    files = sorted(path.name for path in directory.iterdir() if path.name != "kustomization.yaml")
    assert sorted(listed) == files


@pytest.mark.requires(use_docker=True)
def test_kubernetes_manifests_validate_against_the_api_schemas(
    project: Project, tmp_path: Path
) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(kustomize(project)))
    for version in KUBERNETES_VERSIONS:
        run_once(
            [tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, "rendered.yaml"],
            cwd=tmp_path,
            inputs=[rendered],
        )


@pytest.mark.requires(use_docker=True)
def test_kubernetes_workloads_follow_the_options(project: Project) -> None:
    objects = kustomize(project)
    name = slug(project)
    *_, runtime = stages(project.root / "Dockerfile")
    image_user = int(only(runtime, "USER").operands()[0].split(":")[0])
    version = tomllib.loads((project.root / "pyproject.toml").read_text())["project"]["version"]
    assert not find(objects, "Secret"), "secrets are created in the cluster, never committed"
    config_maps = {item["metadata"]["name"]: item["data"] for item in find(objects, "ConfigMap")}

    [api] = find(objects, "Deployment", name)
    spec = pod_spec(api)
    labels = api["spec"]["template"]["metadata"]["labels"]
    server = containers(api)["api"]
    [port] = server["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 8000)
    assert server["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert server["startupProbe"]["httpGet"]["path"] == "/health"
    assert "command" not in server, "the api runs the image's CMD"
    assert spec["terminationGracePeriodSeconds"] > 30, "longer than gunicorn's graceful timeout"

    [service] = find(objects, "Service", name)
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    workloads = [*find(objects, "Deployment"), *find(objects, "Job")]
    for workload in workloads:
        security = pod_spec(workload)["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == image_user, "the UID of the Dockerfile's USER"
        for container in containers(workload).values():
            assert container["image"] == f"{name}:{version}"
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), container["name"]
            assert "memory" in resources["limits"], container["name"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = [mount["mountPath"] for mount in container.get("volumeMounts", [])]
            assert "/tmp" in mounts, f"{container['name']} has nowhere to write temporary files"
            sources = container["envFrom"]
            config = [
                source["configMapRef"]["name"] for source in sources if "configMapRef" in source
            ]
            secret = [source["secretRef"]["name"] for source in sources if "secretRef" in source]
            assert len(config) == 1, config
            assert config[0] in config_maps, "a ConfigMap the kustomization generates"
            assert secret == [f"{name}-secrets"]
            # Production refuses to start without its secrets: a missing Secret must stop the pod.
            assert not any(source.get("secretRef", {}).get("optional") for source in sources)

    hpas = find(objects, "HorizontalPodAutoscaler")
    jobs = find(objects, "Job")
    workers = find(objects, "Deployment", f"{name}-worker")
    [config] = config_maps.values()
    if is_postgres(project):
        assert "replicas" not in api["spec"], "the autoscaler owns the replica count"
        [hpa] = hpas
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert hpa["spec"]["minReplicas"] >= 2
        [job] = jobs
        [migrate] = containers(job).values()
        assert migrate["command"] == MIGRATE_COMMAND
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert len(find(objects, "PodDisruptionBudget")) == 1
        assert "DATABASE_URL" not in config, "its password belongs in the Secret"
        assert len(workers) == int(bool(project.answers["use_celery"]))
        if workers:
            assert containers(workers[0])["worker"]["command"] == worker_command(project)
    else:
        # SQLite: one pod owns the file, migrates it first, and is replaced, never doubled.
        assert api["spec"]["replicas"] == 1
        assert api["spec"]["strategy"] == {"type": "Recreate"}
        assert not hpas
        assert not jobs
        assert not workers
        [claim] = find(objects, "PersistentVolumeClaim")
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        data = next(v for v in volumes.values() if "persistentVolumeClaim" in v)
        assert data["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        assert config["DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")
        [init] = spec["initContainers"]
        assert init["command"] == MIGRATE_COMMAND
        names = {"migrate", "api"} | ({"worker"} if project.answers["use_celery"] else set())
        assert set(containers(api)) == names
        for container in containers(api).values():
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert mounts["/data"] == data["name"], container["name"]
        if project.answers["use_celery"]:
            assert containers(api)["worker"]["command"] == worker_command(project)
