"""Free-text answers with quotes, backslashes and unicode still give valid files."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import yaml

from harness.project import Project, generate

HOSTILE = {
    "project_name": "Ünïcode \"Quoted\" O'Brien's \\ Service 🚀",
    "description": 'Says "hi" & <b>bye</b>; it\'s a back\\slash, a\ttab — ✓ 😀 {braces} %s',
    "author_name": 'Zoë O\'Brien "Zed" \\',
}


def test_hostile_text_gives_valid_toml_python_and_yaml(tmp_path: Path) -> None:
    root = generate(tmp_path, HOSTILE)

    assert root.name == "unicode-quoted-o-brien-s-service"
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == HOSTILE["description"]
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]
    for path in root.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path))
    for path in [*root.rglob("*.yaml"), *root.rglob("*.yml")]:
        yaml.safe_load_all(path.read_text())


def test_hostile_project_installs_formats_and_reads_its_name_back(tmp_path: Path) -> None:
    root = generate(tmp_path, HOSTILE)
    project = Project(root=root, answers=HOSTILE, name="hostile")
    project.install()

    project.tool("ruff", "check", ".")
    project.tool("ruff", "format", "--check", ".")
    (root / ".env").write_text((root / ".env.example").read_text())
    script = "from unicode_quoted_o_brien_s_service.core.config import Settings; print(Settings().app_name)"
    app_name = project.tool("python", "-c", script).stdout.strip()
    assert app_name == HOSTILE["project_name"]
