"""The post-generation hook: the pruning table against the template, and the next steps."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.options import TEMPLATE_ROOT, combinations, feature_options
from harness.project import generate
from tests.test_hooks import COOKIECUTTER, load_hook, rendered_answers

post_gen = load_hook("post_gen_project")

TEMPLATE_PROJECT = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
TEMPLATE_ANSWERS = {"__package_name": "{{cookiecutter.__package_name}}"}
JINJA = re.compile(r"\{\{|\{%|\{#")


def table_paths() -> list[str]:
    return [path for row in post_gen.OWNED_PATHS for path in row.paths]


@pytest.mark.parametrize("path", table_paths())
def test_every_path_in_the_table_exists_in_the_template(path: str) -> None:
    """A file moved in the template without its row would silently escape pruning."""
    assert (TEMPLATE_PROJECT / post_gen.expand(path, TEMPLATE_ANSWERS)).exists()


def test_no_path_belongs_to_two_rows() -> None:
    """Each row states its whole condition; a path in two rows would hide a conjunction."""
    paths = table_paths()

    assert len(paths) == len(set(paths))


def test_each_condition_says_what_its_predicate_does() -> None:
    for combination in combinations():
        answers = rendered_answers(combination)
        for row in post_gen.OWNED_PATHS:
            written = bool(eval(row.condition, {}, dict(answers)))  # the template's own text
            assert bool(row.keep(answers)) == written, (row.condition, combination)


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        ({"database": "sqlite"}, False),
        ({"database": "postgres"}, True),
        ({"database": "sqlite", "use_redis": True}, True),
        ({"database": "sqlite", "use_celery": True}, True),
    ],
)
def test_the_proxy_stays_when_a_server_can_be_taken_away(
    changes: dict[str, Any], kept: bool
) -> None:
    unwanted = post_gen.unwanted_paths(rendered_answers(changes))

    assert ("tests/tcp_proxy.py" not in unwanted) is kept


@pytest.mark.parametrize(
    ("database", "use_celery", "kept"),
    [("postgres", True, True), ("postgres", False, False), ("sqlite", True, False)],
)
def test_the_kubernetes_worker_needs_postgres_and_celery(
    database: str, use_celery: bool, kept: bool
) -> None:
    answers = rendered_answers({"database": database, "use_celery": use_celery})

    assert ("deploy/k8s/worker.yaml" not in post_gen.unwanted_paths(answers)) is kept


def option_values() -> list[dict[str, Any]]:
    """The defaults, and each option's other values with the rest at their defaults."""
    cases: list[dict[str, Any]] = [{}]
    for name, values in feature_options().items():
        cases += [{name: value} for value in values[1:]]
    return cases


@pytest.mark.parametrize("changes", option_values(), ids=lambda changes: str(changes or "defaults"))
def test_a_generated_project_has_exactly_the_files_its_answers_keep(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    root = generate(tmp_path, changes)
    answers = rendered_answers(changes)
    unwanted = post_gen.unwanted_paths(answers)

    for row in post_gen.OWNED_PATHS:
        for path in (post_gen.expand(path, answers) for path in row.paths):
            inside_unwanted = any(path.startswith(f"{other}/") for other in unwanted)
            expected = bool(row.keep(answers)) and not inside_unwanted
            assert (root / path).exists() is expected, f"{path} ({row.condition})"


def test_the_hooks_hold_jinja_only_in_the_answers_literal() -> None:
    """Anything else Jinja-like in a hook would be rendered, or break the rendering."""
    for name in ("pre_gen_project", "post_gen_project"):
        lines = (TEMPLATE_ROOT / "hooks" / f"{name}.py").read_text().splitlines()
        jinja = [line for line in lines if JINJA.search(line)]
        assert jinja == ['RENDERED_ANSWERS = r"""{{ cookiecutter | tojson }}"""'], name


def test_the_next_steps_are_the_short_path_to_a_running_service() -> None:
    steps = post_gen.next_steps(rendered_answers({"project_name": "Billing API"})).splitlines()
    commands = [line.split("#")[0].strip() for line in steps[1:]]

    assert steps[0] == "Created billing-api. Next:"
    assert commands == [
        "cd billing-api",
        "git init",
        "make install",
        "uv run pre-commit install",
        "make run",
        "make test",
    ]
    assert ".env" not in "\n".join(steps)  # development runs without one


def test_the_next_steps_are_for_a_person_running_cookiecutter() -> None:
    by_cookiecutter = {"_output_dir": "/home/zoe/projects"}

    assert post_gen.wants_next_steps(by_cookiecutter, at_terminal=True)
    assert not post_gen.wants_next_steps(by_cookiecutter, at_terminal=False)
    assert not post_gen.wants_next_steps({}, at_terminal=True)  # cruft, rendering to compare


def cookiecutter_command(output: Path) -> list[str]:
    answer = "project_name=Billing API"
    return [*COOKIECUTTER, "--no-input", str(TEMPLATE_ROOT), "-o", str(output), answer]


def test_a_run_without_a_terminal_generates_and_prints_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        cookiecutter_command(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "billing-api" / "src" / "billing_api" / "main.py").is_file()
    assert "Next:" not in result.stderr + result.stdout


def test_a_run_at_a_terminal_prints_the_next_steps_once(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        cookiecutter_command(tmp_path), stdin=terminal, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: every holder of the terminal has exited
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)

    assert process.wait(timeout=60) == 0, output.decode()
    text = output.decode()
    assert text.count("Created billing-api. Next:") == 1
    assert "uv run pre-commit install" in text
