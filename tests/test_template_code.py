"""The template's own Python (hooks, extensions, harness, tests, benchmark) meets the bar it sets for projects."""

from __future__ import annotations

import subprocess
import sys

from harness.options import TEMPLATE_ROOT

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
