"""The template's own Python (hooks, extensions, harness, tests, benchmark) meets the bar it sets for projects."""

from __future__ import annotations

import re
import subprocess
import sys

from harness.options import TEMPLATE_ROOT
from harness.project import SUITE_BLIND_TO

# Explicit paths: ruff would otherwise read the Jinja-templated pyproject.toml of the project folder.
TEMPLATE_CODE = ["hooks", "harness", "tests", "bench", "local_extensions.py"]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *TEMPLATE_CODE],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_template_code_passes_ruff_check() -> None:
    result = ruff("check")
    assert result.returncode == 0, result.stdout


def test_template_code_is_formatted() -> None:
    result = ruff("format", "--check")
    assert result.returncode == 0, result.stdout


def test_generated_tests_name_no_file_their_shared_verdict_ignores() -> None:
    """Combinations that differ only in these files share one run of their suite
    (harness.project.own_suite): a generated test that read one would make that unsound."""
    tests = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}" / "tests"
    names = "|".join(re.escape(name) for name in SUITE_BLIND_TO)
    mention = re.compile(rf"(?<![\w.-])({names})(?![\w-])", re.IGNORECASE)
    found = [
        f"{path.relative_to(tests)}: {match.group()!r}"
        for path in sorted(tests.rglob("*.py"))
        for match in mention.finditer(path.read_text())
    ]
    assert not found, "\n".join(found)
