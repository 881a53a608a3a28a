"""The Kubernetes manifests, as `kubectl kustomize` renders them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.deployment import (
    MIGRATE_COMMAND,
    Dockerfile,
    containers,
    every_container,
    find,
    kustomize,
    pod_spec,
    run,
    tool,
    worker_command,
    workloads,
)
from harness.project import Project

pytestmark = [
    pytest.mark.requires(use_docker=True),
    pytest.mark.same_files("deploy", "Dockerfile", "pyproject.toml"),
]
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]  # the oldest and newest this schema set covers


@pytest.fixture
def objects(project: Project) -> list[dict[str, Any]]:
    return kustomize(project.root)


def api(project: Project, objects: list[dict[str, Any]]) -> dict[str, Any]:
    [deployment] = find(objects, "Deployment", project.root.name)
    return deployment


def test_kustomization_lists_every_manifest(project: Project) -> None:
    directory = project.root / "deploy" / "k8s"
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    listed = list(kustomization["resources"])
    for generator in kustomization.get("configMapGenerator", []):
        listed += generator.get("envs", []) + generator.get("files", [])
    files = sorted(path.name for path in directory.iterdir() if path.name != "kustomization.yaml")
    assert sorted(listed) == files


def test_manifests_validate_against_the_api_schemas(
    objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    (tmp_path / "rendered.yaml").write_text(yaml.safe_dump_all(objects))
    for version in KUBERNETES_VERSIONS:
        command = [
            tool("kubernetes-validate"),
            "--strict",
            "--quiet",
            "-k",
            version,
            "rendered.yaml",
        ]
        run(command, cwd=tmp_path)


def test_probes_hit_the_health_endpoints(project: Project, objects: list[dict[str, Any]]) -> None:
    server = containers(api(project, objects))["api"]
    assert server["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    # /ready fails only when the database is unreachable: the pod leaves the Service then.
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert server["startupProbe"]["httpGet"]["path"] == "/health"
    assert [(p["name"], p["containerPort"]) for p in server["ports"]] == [("http", 8000)]
    assert "command" not in server, "the api runs the image's CMD"


def test_service_selects_the_api_pods(project: Project, objects: list[dict[str, Any]]) -> None:
    labels = api(project, objects)["spec"]["template"]["metadata"]["labels"]
    [service] = find(objects, "Service", project.root.name)
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_pods_run_as_the_image_user(project: Project, objects: list[dict[str, Any]]) -> None:
    user = Dockerfile.only(Dockerfile(project.root / "Dockerfile").runtime, "USER").words()[0]
    for workload in workloads(objects):
        security = pod_spec(workload)["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == int(user.split(":")[0])


def test_containers_run_the_released_image_read_only_with_resources(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    version = tomllib.loads((project.root / "pyproject.toml").read_text())["project"]["version"]
    for container in every_container(objects):
        assert container["image"] == f"{project.root.name}:{version}"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), container["name"]
        assert "memory" in container["resources"]["limits"], container["name"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert "/tmp" in [mount["mountPath"] for mount in container["volumeMounts"]]


def test_settings_come_from_the_config_map_and_a_required_secret(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    assert not find(objects, "Secret"), "secrets are created in the cluster, never committed"
    config_maps = {item["metadata"]["name"] for item in find(objects, "ConfigMap")}
    for container in every_container(objects):
        sources = container["envFrom"]
        assert (
            next(s["configMapRef"]["name"] for s in sources if "configMapRef" in s) in config_maps
        )
        assert [s["secretRef"] for s in sources if "secretRef" in s] == [
            {"name": f"{project.root.name}-secrets"}
        ]


def test_only_the_ingress_and_the_scraper_reach_the_api_pods(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    """A client that reached a pod around the ingress would write its own X-Forwarded-For,
    which FORWARDED_ALLOW_IPS trusts from the pod network."""
    [policy] = find(objects, "NetworkPolicy")
    pod_labels = api(project, objects)["spec"]["template"]["metadata"]["labels"]
    selected = policy["spec"]["podSelector"]["matchLabels"]
    allowed = [
        (
            [peer["namespaceSelector"]["matchLabels"] for peer in rule["from"]],
            [port["port"] for port in rule["ports"]],
        )
        for rule in policy["spec"]["ingress"]
    ]
    config = dict(
        line.split("=", 1)
        for line in (project.root / "deploy" / "k8s" / "config.env").read_text().splitlines()
        if line and not line.startswith("#")
    )

    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert selected.items() <= pod_labels.items()
    assert allowed == [
        ([{"kubernetes.io/metadata.name": "ingress-nginx"}], ["http"]),
        ([{"kubernetes.io/metadata.name": "monitoring"}], [int(config["METRICS_PORT"])]),
    ]
    assert "*" not in config["FORWARDED_ALLOW_IPS"]


def test_api_workers_follow_the_cpu_limit(project: Project, objects: list[dict[str, Any]]) -> None:
    server = containers(api(project, objects))["api"]
    env = {item["name"]: item["value"] for item in server["env"]}
    assert int(env["WEB_CONCURRENCY"]) == int(server["resources"]["limits"]["cpu"])
    assert pod_spec(api(project, objects))["terminationGracePeriodSeconds"] > 30


@pytest.mark.requires(database="postgres")
def test_postgres_connection_budget_fits_max_connections(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    [config] = [item["data"] for item in find(objects, "ConfigMap")]
    [hpa] = find(objects, "HorizontalPodAutoscaler")
    server = containers(api(project, objects))["api"]
    workers = int({item["name"]: item["value"] for item in server["env"]}["WEB_CONCURRENCY"])
    per_worker = int(config["DATABASE_POOL_SIZE"])
    budget = hpa["spec"]["maxReplicas"] * workers * per_worker
    for worker in find(objects, "Deployment", f"{project.root.name}-worker"):
        command = containers(worker)["worker"]["command"]
        budget += worker["spec"]["replicas"] * int(command[command.index("--concurrency") + 1]) * 2
    assert budget + 1 <= 100 - 3, budget
    assert "DATABASE_URL" not in config, "its password belongs in the Secret"


@pytest.mark.requires(database="postgres")
def test_postgres_api_scales_out_and_migrates_in_a_job(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    deployment = api(project, objects)
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    [hpa] = find(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == project.root.name
    assert hpa["spec"]["minReplicas"] >= 2
    assert len(find(objects, "PodDisruptionBudget")) == 1
    [job] = find(objects, "Job")
    assert [c["command"] for c in containers(job).values()] == [MIGRATE_COMMAND]
    assert pod_spec(job)["restartPolicy"] == "Never"


@pytest.mark.requires(database="postgres", use_celery=True)
def test_postgres_worker_is_its_own_deployment(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    [worker] = find(objects, "Deployment", f"{project.root.name}-worker")
    command = containers(worker)["worker"]["command"]
    assert command[:6] == worker_command(project.package)
    assert "--concurrency" in command


@pytest.mark.requires(database="sqlite")
def test_sqlite_pod_owns_its_file_and_migrates_first(
    project: Project, objects: list[dict[str, Any]]
) -> None:
    deployment = api(project, objects)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert not find(objects, "HorizontalPodAutoscaler")
    assert not find(objects, "Job")
    [claim] = find(objects, "PersistentVolumeClaim")
    [data] = [v for v in pod_spec(deployment)["volumes"] if "persistentVolumeClaim" in v]
    assert data["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    [init] = pod_spec(deployment)["initContainers"]
    assert init["command"] == MIGRATE_COMMAND
    for container in containers(deployment).values():
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert mounts["/data"] == data["name"], container["name"]


@pytest.mark.requires(database="sqlite", use_celery=True)
def test_sqlite_worker_shares_the_pod(project: Project, objects: list[dict[str, Any]]) -> None:
    deployment = api(project, objects)
    assert set(containers(deployment)) == {"migrate", "api", "worker"}
    assert not find(objects, "Deployment", f"{project.root.name}-worker")
    assert containers(deployment)["worker"]["command"][:6] == worker_command(project.package)


# What the service and its production server read, printed by the project itself.
SETTINGS_READ = """
import runpy, sys
from {package}.core.config import Settings
server = runpy.run_path("gunicorn.conf.py")["ServerSettings"]
print(*(name.upper() for name in [*Settings.model_fields, *server.model_fields]))
"""


@pytest.mark.same_files("deploy", "src", "gunicorn.conf.py")
def test_the_config_map_sets_only_what_the_service_reads(project: Project) -> None:
    """A setting renamed or removed in the service must not linger in the cluster's config."""
    config = project.root / "deploy" / "k8s" / "config.env"
    names = {
        line.partition("=")[0]
        for line in config.read_text().splitlines()
        if line and not line.startswith("#")
    }
    read = project.tool("python", "-c", SETTINGS_READ.format(package=project.package))

    assert names
    assert sorted(names - set(read.stdout.split())) == []
