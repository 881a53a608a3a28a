"""Reading a generated project's deployment files the way Docker, Compose and kubectl do.

No Docker engine or cluster is needed: the Dockerfile and `.dockerignore` are parsed
here, and Compose and kustomize are the real tools (their binaries come from PyPI),
which render their models without a daemon or an API server.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.project import Project, run

# Verdicts of deterministic tools, by command and the content of what they read.
_VERDICTS: dict[tuple[str, ...], str] = {}

MIGRATE_COMMAND = ["alembic", "upgrade", "head"]


def tool(name: str) -> str:
    """A validation tool installed with the template's dev group, never one from elsewhere."""
    path = Path(sys.executable).parent / name
    assert path.is_file(), f"{name} is missing from {path.parent}: `uv sync` installs it"
    return str(path)


def run_once(
    command: list[str], cwd: Path, inputs: list[Path], env: dict[str, str] | None = None
) -> str:
    """The output of a deterministic tool, run once per distinct input in this test worker.

    Many combinations generate byte-identical deployment files (GZip and CORS do not
    touch them); their verdict is the same, so it is computed once. A failure is not
    remembered: every combination with the failing file fails.
    """
    contents = [hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(inputs)]
    key = (*command, *contents, json.dumps(env or {}, sort_keys=True))
    if key not in _VERDICTS:
        _VERDICTS[key] = run(command, cwd=cwd, env=env).stdout
    return _VERDICTS[key]


# ---------------------------------------------------------------- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD, ENTRYPOINT or HEALTHCHECK ... CMD."""
        text = self.arguments
        if self.keyword == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1]
        words = json.loads(text)
        assert isinstance(words, list), f"{self.keyword} is not in exec form: {self.arguments}"
        return [str(word) for word in words]

    def flags(self) -> dict[str, str]:
        """`--name=value` options before the instruction's own arguments."""
        found = {}
        for word in shlex.split(self.arguments):
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            found[name] = value
        return found

    def operands(self) -> list[str]:
        """The arguments after the leading `--name=value` options."""
        words = shlex.split(self.arguments)
        while words and words[0].startswith("--"):
            words.pop(0)
        return words


def instructions(dockerfile: Path) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and directives dropped."""
    found: list[Instruction] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, f"{dockerfile} ends inside a continued instruction"
    return found


def stages(dockerfile: Path) -> list[list[Instruction]]:
    """Each stage's instructions, its FROM first."""
    result: list[list[Instruction]] = []
    for instruction in instructions(dockerfile):
        if instruction.keyword == "FROM":
            result.append([])
        assert result, f"{dockerfile}: {instruction.keyword} before the first FROM"
        result[-1].append(instruction)
    return result


def stage_env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for assignment in shlex.split(instruction.arguments):
                name, separator, value = assignment.partition("=")
                assert separator, f"ENV {instruction.arguments}: use the NAME=value form"
                env[name] = value
    return env


def only(stage: list[Instruction], keyword: str) -> Instruction:
    matching = [instruction for instruction in stage if instruction.keyword == keyword]
    assert len(matching) == 1, f"expected one {keyword}, found {len(matching)}"
    return matching[0]


def context_copies(stage: list[Instruction]) -> list[tuple[list[str], str]]:
    """(sources, destination) of the COPY instructions that read the build context."""
    copies = []
    for instruction in stage:
        if instruction.keyword == "COPY" and "from" not in instruction.flags():
            *sources, destination = instruction.operands()
            copies.append((sources, destination))
    return copies


# ---------------------------------------------------------------- .dockerignore


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: `*` and `?` stay within a directory, `**` spans several."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out))


@dataclass(frozen=True)
class DockerIgnore:
    rules: list[tuple[bool, re.Pattern[str]]]

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line.removeprefix("!").strip().strip("/")
            rules.append((negated, _pattern_regex(pattern)))
        return cls(rules)

    def sends(self, relative: str) -> bool:
        """Whether a path (relative to the context, with `/`) reaches the build.

        As in Docker, the last matching rule wins, and a rule that matches a directory
        matches everything inside it.
        """
        parts = relative.split("/")
        prefixes = ["/".join(parts[: count + 1]) for count in range(len(parts))]
        sent = True
        for negated, regex in self.rules:
            if any(regex.fullmatch(prefix) for prefix in prefixes):
                sent = negated
        return sent


def build_context(root: Path, destination: Path) -> list[str]:
    """Copy what `docker build` would send from root; returns the relative paths sent."""
    ignore = DockerIgnore.read(root / ".dockerignore")
    sent = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and ignore.sends(relative):
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            sent.append(relative)
    return sent


# ---------------------------------------------------------------- Compose and Kubernetes


def compose_model(project: Project, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The Compose model as `docker compose config` resolves it (anchors, defaults)."""
    # Not `run_once`: the model names the project's own directory.
    result = run(
        [tool("docker-compose"), "--file", "compose.yaml", "config", "--format", "json"],
        cwd=project.root,
        env=env,
    )
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def kustomize(project: Project) -> list[dict[str, Any]]:
    """The objects `kubectl apply -k deploy/k8s` would send to the cluster."""
    output = run_once(
        [tool("kubectl"), "kustomize", "deploy/k8s"],
        cwd=project.root,
        inputs=sorted((project.root / "deploy" / "k8s").iterdir()),
    )
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


# ---------------------------------------------------------------- the image, without Docker


def simulate_image(project: Project, root: Path) -> tuple[Project, list[str]]:
    """What `docker build` would produce, laid out under root; returns it and its CMD.

    The build context is what `.dockerignore` lets through; the build stage's own
    `uv sync` commands run with its ENV into a fresh environment at the path the
    Dockerfile names; the runtime stage's COPY instructions bring their files. The
    result runs commands with that environment's Python, from the runtime WORKDIR,
    with the runtime ENV and the project's connection settings.
    """
    *earlier, runtime = stages(project.root / "Dockerfile")
    build = next(stage for stage in earlier if stage[0].arguments.endswith(" AS build"))
    image_root = root / "image"
    workdir = image_root / only(runtime, "WORKDIR").arguments.lstrip("/")
    build_env = stage_env(build)
    venv = image_root / build_env.pop("UV_PROJECT_ENVIRONMENT").lstrip("/")
    build_env.pop("UV_LINK_MODE", None)  # copying instead of linking is for cache mounts

    context = root / "context"
    sent = build_context(project.root, context)
    assert "uv.lock" in sent, "the build installs from the lock; `uv lock` creates it"
    for step in build:
        words = step.operands()
        if step.keyword == "RUN" and words[:2] == ["uv", "sync"]:
            run(words, cwd=context, env={**build_env, "UV_PROJECT_ENVIRONMENT": str(venv)})
    compiled = list(venv.glob(f"lib/python3*/site-packages/{project.package}/__pycache__/*.pyc"))
    assert compiled, "the project's bytecode is not compiled"

    for sources, destination in context_copies(runtime):
        target = workdir / destination
        for source in sources:
            origin = context / source
            into = target / origin.name if destination.endswith("/") or len(sources) > 1 else target
            if origin.is_dir():
                shutil.copytree(origin, into, dirs_exist_ok=True)
            else:
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into)
    assert not (workdir / "src").exists(), "the runtime stage must not need the source tree"

    runtime_env = {name: value for name, value in stage_env(runtime).items() if name != "PATH"}
    image = Project(
        root=workdir,
        answers=project.answers,
        name=project.name,
        # Secrets and connection settings come from the deployment (a Secret, `.env`).
        env={
            **runtime_env,
            "SECRET_KEY": secrets.token_hex(32),
            **project.env,
            "UV_PYTHON": str(venv / "bin" / "python"),
        },
    )
    return image, only(runtime, "CMD").exec_form()
