"""The Compose stack: its schema, its service graph and the worker it runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.deployment import (
    COMPOSE_ENV,
    MIGRATE_COMMAND,
    compose_model,
    run,
    tool,
    worker_command,
)
from harness.options import needs_redis
from harness.process import clean_environment
from harness.project import Project

pytestmark = [pytest.mark.requires(use_docker=True), pytest.mark.same_files("compose.yaml")]

APP_SERVICES = ("migrate", "api", "worker")


@pytest.fixture
def services(project: Project) -> dict[str, Any]:
    services: dict[str, Any] = compose_model(project.root)["services"]
    return services


def app_services(services: dict[str, Any]) -> list[dict[str, Any]]:
    return [services[name] for name in APP_SERVICES if name in services]


def test_compose_file_matches_the_compose_specification(project: Project) -> None:
    command = [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"]
    run(command, cwd=project.root)


def test_services_follow_the_options(project: Project, services: dict[str, Any]) -> None:
    expected = {"migrate", "api"}
    expected |= {"db"} if project.answers["database"] == "postgres" else set()
    expected |= {"redis"} if needs_redis(project.answers) else set()
    expected |= {"worker"} if project.answers["use_celery"] else set()
    assert set(services) == expected


def test_app_services_wait_for_migrations_and_healthy_servers(
    project: Project, services: dict[str, Any]
) -> None:
    backing = {"db"} & set(services) | {"redis"} & set(services)
    for name in {"api", "worker"} & set(services):
        conditions = {dep: how["condition"] for dep, how in services[name]["depends_on"].items()}
        assert conditions == {
            "migrate": "service_completed_successfully",
            **dict.fromkeys(backing, "service_healthy"),
        }, name
    assert services["migrate"]["command"] == MIGRATE_COMMAND
    assert services["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name != "migrate":
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert not service["healthcheck"].get("disable"), name
    assert "/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["api"]["stop_grace_period"] == "40s"


def test_app_containers_are_read_only_and_built_here(
    project: Project, services: dict[str, Any]
) -> None:
    for service in app_services(services):
        assert service["build"]["context"] == str(project.root)
        assert service["read_only"] is True
        assert any(mount.startswith("/tmp") for mount in service["tmpfs"])


def test_app_containers_have_cpu_and_memory_limits(services: dict[str, Any]) -> None:
    for service in app_services(services):
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) >= 1
        assert limits["memory"]


def test_api_workers_are_sized_from_its_cpu_limit_within_the_connection_budget(
    services: dict[str, Any],
) -> None:
    api = services["api"]
    workers = int(api["environment"]["WEB_CONCURRENCY"])
    assert workers == int(float(api["deploy"]["resources"]["limits"]["cpus"]))
    # 10 connections per worker (DATABASE_POOL_SIZE, the default) against PostgreSQL's 100.
    assert workers * 10 <= 100 - 3


@pytest.mark.requires(database="postgres")
def test_postgres_connection_points_at_the_db_service(services: dict[str, Any]) -> None:
    for service in app_services(services):
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://")
        assert "@db:5432/" in url
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


@pytest.mark.requires(database="sqlite")
def test_sqlite_file_is_on_a_shared_volume(project: Project, services: dict[str, Any]) -> None:
    for service in app_services(services):
        assert service["environment"]["DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")
        assert ("data", "/data") in {(v["source"], v["target"]) for v in service["volumes"]}


@pytest.mark.requires(use_celery=True)
def test_worker_runs_a_fixed_number_of_processes(
    project: Project, services: dict[str, Any]
) -> None:
    command = services["worker"]["command"]
    assert command[: len(worker_command(project.package))] == worker_command(project.package)
    assert command[command.index("--concurrency") + 1] == "2"
    assert services["worker"]["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:6379/")


@pytest.mark.requires(database="postgres")
def test_compose_refuses_to_start_without_a_database_password(project: Project) -> None:
    env = {k: v for k, v in clean_environment().items() if not k.startswith("POSTGRES_")}
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
    assert COMPOSE_ENV["POSTGRES_PASSWORD"]


def test_redis_has_a_memory_limit_and_evicts_only_what_expires(
    project: Project, services: dict[str, Any]
) -> None:
    """No client can make the cache grow without bound, and eviction never takes a queued
    task (the broker's keys have no time to live)."""
    if not needs_redis(project.answers):
        assert "redis" not in services
        return
    command = services["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))

    assert command[0] == "redis-server"
    assert options["--maxmemory"].endswith(("mb", "gb"))
    assert options["--maxmemory-policy"].startswith("volatile-")


def test_the_tracing_profile_adds_a_collector_on_the_port_the_service_exports_to(
    project: Project, services: dict[str, Any]
) -> None:
    """Off by default; with `--profile tracing`, a collector whose OTLP/HTTP receiver is
    on 4318 and whose pipeline names only components its configuration defines."""
    traced = compose_model(project.root, {**COMPOSE_ENV, "COMPOSE_PROFILES": "tracing"})
    collector = traced["services"]["otel-collector"]
    mounted = {volume["target"]: volume["source"] for volume in collector["volumes"]}
    config_file = next(path for target, path in mounted.items() if target.endswith(".yaml"))
    config = yaml.safe_load(Path(config_file).read_text())
    receiver = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    pipeline = config["service"]["pipelines"]["traces"]

    assert "otel-collector" not in services
    assert set(traced["services"]) - set(services) == {"otel-collector"}
    assert receiver.endswith(":4318")
    assert f"--config={next(iter(mounted))}" in collector["command"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
