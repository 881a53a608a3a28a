"""The template's own Python (hooks, extensions, harness, tests, benchmark) meets the bar it sets for projects."""

from __future__ import annotations

import re
import subprocess
import sys
from fnmatch import fnmatch

from harness.options import LAYER_FILES, LAYER_OPTIONS, LAYER_TESTS, TEMPLATE_ROOT
from harness.project import SUITE_BLIND_TO
from harness.readme import Code, cited, missing
from tests.test_hooks import load_hook

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


def test_layer_options_touch_only_the_layer_files_and_own_only_layer_tests() -> None:
    """What lets a combination that differs from its shape's representative only in
    LAYER_OPTIONS run only LAYER_TESTS (harness.options): nothing else depends on them."""
    project = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
    mention = re.compile(r"cookiecutter\.(" + "|".join(LAYER_OPTIONS) + r")\b")
    mentioning = [
        path.relative_to(project).as_posix()
        for path in sorted(project.rglob("*"))
        if path.is_file() and mention.search(path.read_text(errors="replace"))
    ]
    outside = [path for path in mentioning if not any(fnmatch(path, f) for f in LAYER_FILES)]
    owned = [
        path
        for row in load_hook("post_gen_project").OWNED_PATHS
        if any(option in row.condition for option in LAYER_OPTIONS)
        for path in row.paths
    ]
    foreign = [path for path in owned if not any(path.startswith(t) for t in LAYER_TESTS)]

    assert mentioning, "no file mentions a layer option: the check looks in the wrong place"
    assert not outside, f"a layer option changes files outside LAYER_FILES: {outside}"
    assert not foreign, f"a layer option owns files outside LAYER_TESTS: {foreign}"


# Names the README cites from other projects (to compare, or as what a user meets), and
# what a command it gives creates.
LIBRARY_NAMES = {"BaseHTTPMiddleware", "TemplateSyntaxError", "ValueError", ".cruft.json"}


def test_the_readme_cites_only_names_the_template_has() -> None:
    project = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
    ignored = {".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache"}
    files = [
        path
        for path in TEMPLATE_ROOT.rglob("*")
        if path.is_file() and not ignored.intersection(path.relative_to(TEMPLATE_ROOT).parts)
    ]
    code = Code(
        roots=[
            TEMPLATE_ROOT,
            TEMPLATE_ROOT / "presets",
            project,
            project / "src" / "{{cookiecutter.__package_name}}",
        ],
        sources=[path for path in files if path.suffix == ".py"],
        configuration=[path for path in files if path.suffix != ".py" and path.name != "README.md"],
    )

    absent = missing(cited((TEMPLATE_ROOT / "README.md").read_text()), code, allowed=LIBRARY_NAMES)

    assert not absent, f"README.md cites what the template does not have: {absent}"
