"""A generated project's deployment files, read by the tools that own their formats.

No Docker engine or cluster runs here. The Dockerfile is read by dockerfile-parse and
linted by hadolint; the build context is what Docker's own Python client
(`docker.utils.build.exclude_paths`) would send; Compose and kustomize are the real
binaries, which render their models without a daemon or an API server. Nothing here
re-implements a file format, so an ordinary edit of a deployment file cannot make the
checks disagree with Docker, Compose or kubectl.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

from harness.options import Combination, combination_id
from harness.process import run
from harness.project import inputs_digest
from harness.renders import Renders, run_renders

MIGRATE_COMMAND = ["alembic", "upgrade", "head"]
# The production-only install the Dockerfile's build stage runs; its test checks that the
# Dockerfile still runs exactly this, so the install below is the image's.
PRODUCTION_INSTALL = ["uv", "sync", "--frozen", "--no-dev", "--no-editable"]
# Compose interpolates the database password from the environment or .env.
COMPOSE_ENV = {"POSTGRES_PASSWORD": "not-a-real-password"}


def tool(name: str) -> str:
    """A validation tool installed with the template's dev group, never one from elsewhere."""
    path = Path(sys.executable).parent / name
    assert path.is_file(), f"{name} is missing from {path.parent}: `uv sync` installs it"
    return str(path)


# ---------------------------------------------------------------- one check per distinct file set


class Fingerprints:
    """Digests of the files a check reads, per combination, from the run's renders.

    Combinations whose files are byte-identical get the same verdict from a deterministic
    check (GZip and CORS do not touch the Dockerfile), so such a check runs for the first
    combination of each group only.
    """

    def __init__(self, renders: Renders) -> None:
        self.renders = renders
        self.digests: dict[tuple[str, tuple[str, ...]], str] = {}

    def digest(self, combination: Combination, paths: Iterable[str]) -> str:
        key = (combination_id(combination), tuple(sorted(paths)))
        if key not in self.digests:
            self.digests[key] = inputs_digest(self.renders.root(combination), list(key[1]))
        return self.digests[key]

    def is_representative(
        self, combination: Combination, paths: Iterable[str], group: list[Combination]
    ) -> bool:
        """Whether no combination before this one in `group` (matrix order) has the same files."""
        paths = list(paths)
        own = self.digest(combination, paths)
        for earlier in group:
            if earlier == combination:
                return True
            if self.digest(earlier, paths) == own:
                return False
        raise ValueError(f"{combination_id(combination)} is not in its own group")


@contextmanager
def fingerprints() -> Iterator[Fingerprints]:
    """Fingerprints from the run's renders (private ones, removed after, outside a run)."""
    with run_renders() as renders:
        yield Fingerprints(renders)


# ---------------------------------------------------------------- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD, or of HEALTHCHECK's CMD."""
        text = self.value.split(" CMD ", 1)[1] if self.keyword == "HEALTHCHECK" else self.value
        words = json.loads(text)
        assert isinstance(words, list), f"{self.keyword} is not in exec form: {self.value}"
        return [str(word) for word in words]

    def words(self) -> list[str]:
        """The arguments after the leading `--name=value` flags."""
        words = shlex.split(self.value)
        while words and words[0].startswith("--"):
            words.pop(0)
        return words

    def flags(self) -> dict[str, str]:
        found = {}
        for word in shlex.split(self.value):
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            found[name] = value
        return found


class Dockerfile:
    """The stages of a Dockerfile, as dockerfile-parse reads them."""

    def __init__(self, path: Path) -> None:
        self.parser = DockerfileParser(str(path))
        self.stages: list[list[Instruction]] = []
        for entry in self.parser.structure:
            instruction = Instruction(entry["instruction"], entry["value"])
            if instruction.keyword == "FROM":
                self.stages.append([])
            if instruction.keyword != "COMMENT" and self.stages:
                self.stages[-1].append(instruction)

    @property
    def runtime(self) -> list[Instruction]:
        return self.stages[-1]

    def runtime_env(self) -> dict[str, str]:
        env: dict[str, str] = self.parser.envs
        return dict(env)

    def cmd(self) -> list[str]:
        return self.only(self.runtime, "CMD").exec_form()

    @staticmethod
    def only(stage: list[Instruction], keyword: str) -> Instruction:
        matching = [instruction for instruction in stage if instruction.keyword == keyword]
        assert len(matching) == 1, f"expected one {keyword}, found {len(matching)}"
        return matching[0]

    @staticmethod
    def context_copies(stage: list[Instruction]) -> list[tuple[list[str], str]]:
        """(sources, destination) of the COPY instructions that read the build context."""
        copies = []
        for instruction in stage:
            if instruction.keyword == "COPY" and "from" not in instruction.flags():
                *sources, destination = instruction.words()
                copies.append((sources, destination))
        return copies


def build_context(root: Path) -> set[str]:
    """The files `docker build` sends, by Docker's own client library's reading of `.dockerignore`."""
    patterns = [
        line.strip()
        for line in (root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    return {path for path in exclude_paths(str(root), patterns) if (root / path).is_file()}


@dataclass(frozen=True)
class ImageContents:
    """The image's files laid out without Docker: where to run, with what environment."""

    workdir: Path
    env: dict[str, str]


def production_install(root: Path, into: Path) -> ImageContents:
    """The image's contents: a production-only install into a fresh environment, then the
    files the runtime stage copies from the build context, and nothing else.

    The install runs from the build context alone (what `.dockerignore` lets through),
    so a file the build needs but the context leaves out fails here.
    """
    context = into / "context"
    for relative in build_context(root):
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    venv = into / "venv"
    run(
        PRODUCTION_INSTALL,
        cwd=context,
        # Not UV_COMPILE_BYTECODE, which the Dockerfile sets (its own test checks that):
        # compiling every package takes longer than the boot and changes nothing it does.
        env={"UV_PROJECT_ENVIRONMENT": str(venv)},
        timeout=900,
    )
    dockerfile = Dockerfile(root / "Dockerfile")
    workdir = into / "app"
    workdir.mkdir()
    for sources, destination in Dockerfile.context_copies(dockerfile.runtime):
        for source in sources:
            origin = context / source
            target = workdir / destination
            if destination.endswith("/") or len(sources) > 1:
                target = target / origin.name
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target)
    env = {name: value for name, value in dockerfile.runtime_env().items() if name != "PATH"}
    return ImageContents(workdir=workdir, env={**env, "UV_PYTHON": str(venv / "bin" / "python")})


# ---------------------------------------------------------------- Compose and Kubernetes


def compose_model(root: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The Compose model as `docker compose config` resolves it (anchors, defaults)."""
    result = run(
        [tool("docker-compose"), "--file", "compose.yaml", "config", "--format", "json"],
        cwd=root,
        env=COMPOSE_ENV if env is None else env,
    )
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def kustomize(root: Path) -> list[dict[str, Any]]:
    """The objects `kubectl apply -k deploy/k8s` would send to the cluster."""
    output = run([tool("kubectl"), "kustomize", "deploy/k8s"], cwd=root).stdout
    return [document for document in yaml.safe_load_all(output) if document]


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        item
        for item in objects
        if item["kind"] == kind and (name is None or item["metadata"]["name"] == name)
    ]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = pod_spec(workload)
    return {
        container["name"]: container
        for container in [*spec.get("initContainers", []), *spec["containers"]]
    }


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*find(objects, "Deployment"), *find(objects, "Job")]


def every_container(objects: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for workload in workloads(objects):
        yield from containers(workload).values()


def worker_command(package: str) -> list[str]:
    return ["celery", "--app", f"{package}.jobs.app", "worker", "--loglevel", "INFO"]
