"""The pre-generation hook stops bad answers with a clear message and writes nothing.

Its checks are tested as functions, imported from the unrendered hook; a few runs
of cookiecutter's own command show the whole path: the message, the exit status,
and an empty output directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from harness.options import TEMPLATE_ROOT


def load_hook(name: str) -> ModuleType:
    """A hook as a module, unrendered: its only Jinja is a string that `main()` parses."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE_ROOT / "hooks" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre_gen = load_hook("pre_gen_project")

COOKIECUTTER = [sys.executable, "-m", "cookiecutter"]


def rendered_answers(given: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """The answers a hook receives when `given` is answered, with `changes` made afterwards.

    `given` goes through cookiecutter, which derives the slug and package from it and
    refuses what is not a choice; `changes` reach the hook as they are, as from a replay.
    """
    context = generate_context(
        context_file=str(TEMPLATE_ROOT / "cookiecutter.json"), extra_context=given
    )
    answers: dict[str, Any] = prompt_for_config(context, no_input=True)
    answers.update(changes)
    if "project_slug" in changes:
        answers["__package_name"] = changes["project_slug"].replace("-", "_")
    return answers


def cookiecutter_cli(
    output_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COOKIECUTTER, "--no-input", str(TEMPLATE_ROOT), "-o", str(output_dir), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def hook_message(stderr: str) -> str:
    """What our hook printed, before cookiecutter's own report of the failure."""
    return stderr.split("ERROR: Stopping generation")[0]


def test_the_default_answers_have_no_problems() -> None:
    assert pre_gen.problems(rendered_answers()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"project_slug": "My Service!"}, "project_slug 'My Service!' is not a valid slug"),
        ({"project_slug": "9lives"}, "project_slug '9lives' is not a valid slug"),
        ({"project_slug": "double--hyphen"}, "is not a valid slug"),
        ({"project_slug": "a" * 41}, "is 41 characters long: give a slug of at most 40"),
        ({"project_slug": "class"}, "package name 'class', a Python keyword"),
        ({"project_slug": "match"}, "package name 'match', a Python keyword"),
        ({"project_slug": "json"}, "shadows the standard library module"),
        ({"project_slug": "asyncio"}, "shadows the standard library module"),
        ({"project_slug": "fastapi"}, "shadows a dependency of the service"),
        ({"project_slug": "sqlmodel"}, "shadows a dependency of the service"),
        # CPython's `test` package is missing from sys.stdlib_module_names.
        ({"project_slug": "test"}, "CPython's own regression-test package"),
        ({"project_slug": "test"}, "(for example 'test-service')"),
        # The generated project's test folder is the package `tests`.
        ({"project_slug": "tests"}, "the generated project's own test package"),
        ({"author_email": "not-an-email"}, "author_email 'not-an-email' does not look like an"),
        ({"author_email": "a b@example.com"}, "does not look like an email"),
        # hatchling puts the address through email.headerregistry.Address and fails the build.
        ({"author_email": "josé@example.com"}, "non-ASCII characters before the @"),
        ({"author_email": "a..b@example.com"}, "the build backend refuses it"),
        ({"author_email": "name.@example.com"}, "the build backend refuses it"),
        ({"author_email": "name@example.com."}, "the build backend refuses it"),
        ({"version": "one"}, "version 'one' is not a release version"),
        ({"version": "1.0.0-beta"}, "is not a release version"),
        ({"project_name": " "}, "project_name is empty"),
        ({"description": "two\nlines"}, "description spans several lines"),
        (
            {"database": "mysql"},
            "database 'mysql' is not supported: choose one of sqlite, postgres",
        ),
        ({"use_redis": "False"}, "use_redis is 'False': answer true or false."),
    ],
)
def test_an_invalid_answer_is_named_with_what_to_change(
    changes: dict[str, Any], expected: str
) -> None:
    found = pre_gen.problems(rendered_answers(**changes))

    assert len(found) == 1, found
    assert expected in found[0]


@pytest.mark.parametrize(
    "email", ["jose@exämple.com", "first.last+tag@mail.example.co.uk", "x_y-z@example.org"]
)
def test_an_address_the_build_backend_accepts_passes(email: str) -> None:
    assert pre_gen.problems(rendered_answers(author_email=email)) == []


def test_every_problem_is_reported_at_once() -> None:
    answers = rendered_answers(project_slug="import", author_email="x", version="v1")

    assert len(pre_gen.problems(answers)) == 3


def test_a_long_project_name_gives_a_slug_the_hook_accepts() -> None:
    """A slug is a directory name: cookiecutter fails to create one beyond 255 bytes,
    before any hook runs, so the default must cut it rather than the hook refuse it."""
    answers = rendered_answers({"project_name": "Billing " * 60})

    assert 0 < len(answers["project_slug"]) <= pre_gen.SLUG_MAX
    assert answers["project_slug"].startswith("billing-billing")
    assert not answers["project_slug"].endswith("-")
    assert pre_gen.problems(answers) == []


# A config file's default_context: what cookiecutter drops, the hook refuses.


def test_a_preset_with_an_unknown_question_or_an_unusable_value_is_refused() -> None:
    preset = {"database": "mysql", "use_redis": "maybe", "use_redis_cache": True, "use_cors": "no"}

    found = pre_gen.config_problems(preset, rendered_answers(), "team.yaml", named=True)

    assert found[0] == (
        "database 'mysql' in team.yaml is not supported: choose one of sqlite, postgres."
    )
    assert found[1] == "use_redis is 'maybe' in team.yaml: answer true or false."
    assert found[2].startswith("'use_redis_cache' in team.yaml is not a question of this")
    assert "use_redis," in found[2]
    assert len(found) == 3  # "no" is a boolean to cookiecutter


def test_a_user_wide_config_may_answer_other_templates_questions() -> None:
    """~/.cookiecutterrc serves every template; only its answers to ours are checked."""
    config = {"full_name": "Zoë", "github_username": "zoe", "database": "postgres"}

    assert pre_gen.config_problems(config, rendered_answers(), "rc", named=False) == []
    assert pre_gen.config_problems({"database": "mysql"}, rendered_answers(), "rc", named=False)


def test_the_config_file_is_found_as_cookiecutter_finds_it(tmp_path: Path) -> None:
    start, home = tmp_path / "start", tmp_path / "home"
    start.mkdir()
    home.mkdir()
    (start / "team.yaml").write_text("default_context: {}\n")
    (home / ".cookiecutterrc").write_text("default_context: {}\n")
    env = {"COOKIECUTTER_CONFIG": str(start / "team.yaml")}
    command = ["python", "-m", "cookiecutter", "--no-input"]

    def found(arguments: list[str], environ: dict[str, str]) -> tuple[Path, bool] | None:
        result: tuple[Path, bool] | None = pre_gen.config_in_use(
            command + arguments, [tmp_path, start], environ, home
        )
        return result

    assert found(["--config-file", "team.yaml", "."], {}) == (start / "team.yaml", True)
    assert found(["--config-file=team.yaml", "."], {}) == (start / "team.yaml", True)
    assert found(["--default-config", "--config-file", "team.yaml"], {}) is None
    assert found(["."], env) == (start / "team.yaml", False)
    assert found(["."], {}) == (home / ".cookiecutterrc", False)
    (home / ".cookiecutterrc").unlink()
    assert found(["."], {}) is None


def test_the_start_directory_is_the_working_directory_less_the_template_path() -> None:
    """Cookiecutter runs hooks from inside the template, given relative to where it started."""
    inside = Path("/work/templates/fastapi")

    assert pre_gen.launch_directories(inside, "templates/fastapi", {}) == [Path("/work")]
    assert pre_gen.launch_directories(inside, ".", {"PWD": "/home/zoe"}) == [
        inside,
        Path("/home/zoe"),
    ]
    assert pre_gen.launch_directories(inside, "/abs/template", {}) == []


def test_only_a_generating_command_is_trusted_to_name_the_config_file() -> None:
    """pytest has a --config-file of its own; an API caller's arguments say nothing."""
    assert pre_gen.is_generating_command(["/venv/bin/python", "-m", "cookiecutter", "."])
    assert pre_gen.is_generating_command(["/venv/bin/python", "/venv/bin/cookiecutter", "."])
    assert pre_gen.is_generating_command(["/venv/bin/python", "/venv/bin/cruft", "create", "u"])
    assert not pre_gen.is_generating_command(["/venv/bin/python", "/venv/bin/cruft", "update"])
    assert not pre_gen.is_generating_command(["python", "-m", "pytest", "--config-file", "x"])


# The whole path through cookiecutter's command.


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["project_slug=tests"], "which is the generated project's own test package"),
        (["author_email=josé@example.com"], "non-ASCII characters before the @"),
    ],
)
def test_invalid_answer_is_rejected_and_nothing_is_written(
    tmp_path: Path, answers: list[str], expected: str
) -> None:
    result = cookiecutter_cli(tmp_path, *answers)

    assert result.returncode != 0
    message = hook_message(result.stderr)
    assert "Cannot generate the project:" in message
    assert expected in message
    assert "Nothing was written." in message
    assert "Traceback" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_preset_cookiecutter_would_half_apply_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    """Cookiecutter only warns about these and generates the defaults with exit status 0."""
    preset = tmp_path / "team.yaml"
    # Its own replay directory: a config file named on the command line replaces the user's.
    preset.write_text(
        f"replay_dir: {tmp_path / 'replay'}\n"
        "default_context:\n  database: mysql\n  use_redis: maybe\n  use_redis_cache: true\n"
    )
    output = tmp_path / "out"

    result = cookiecutter_cli(output, "--config-file", str(preset))

    message = hook_message(result.stderr)
    assert result.returncode != 0
    assert f"database 'mysql' in {preset} is not supported" in message
    assert f"use_redis is 'maybe' in {preset}: answer true or false." in message
    assert f"'use_redis_cache' in {preset} is not a question of this template" in message
    assert not output.exists() or list(output.iterdir()) == []


def test_a_user_config_with_an_unusable_value_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".cookiecutterrc").write_text("default_context:\n  database: mysql\n")
    env = {key: value for key, value in os.environ.items() if key != "COOKIECUTTER_CONFIG"}
    env["HOME"] = str(tmp_path)
    output = tmp_path / "out"

    result = cookiecutter_cli(output, env=env)

    assert result.returncode != 0
    expected = f"database 'mysql' in {tmp_path / '.cookiecutterrc'} is not supported"
    assert expected in hook_message(result.stderr)
    assert not output.exists() or list(output.iterdir()) == []


def test_replayed_answers_outside_the_option_space_are_rejected(tmp_path: Path) -> None:
    """A replay file skips cookiecutter's own checks; the hook must not."""
    replay_dir = tmp_path / "replay"
    replay_dir.mkdir()
    context = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    answers = {
        name: value[0] if isinstance(value, list) else value
        for name, value in context.items()
        if not name.startswith("_")
    }
    answers.update(project_slug="my-service", __package_name="my_service", database="mysql")
    answers.update({name: "False" for name in context if name.startswith("use_")})
    replay = replay_dir / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": {**context, **answers}}))
    output = tmp_path / "out"
    output.mkdir()

    result = subprocess.run(
        [*COOKIECUTTER, str(TEMPLATE_ROOT), "-o", str(output), "--replay-file", str(replay)],
        capture_output=True,
        text=True,
        check=False,
    )

    message = hook_message(result.stderr)
    assert result.returncode != 0
    assert "database 'mysql' is not supported: choose one of sqlite, postgres." in message
    for name in context:
        if name.startswith("use_"):
            assert f"{name} is 'False': answer true or false." in message
    assert list(output.iterdir()) == []


def test_a_300_character_project_name_generates(tmp_path: Path) -> None:
    """Before the slug was cut, cookiecutter failed to create the directory, with a traceback."""
    result = cookiecutter_cli(tmp_path, "project_name=" + "Billing API " * 25)

    assert result.returncode == 0, result.stderr
    [root] = tmp_path.iterdir()
    assert len(root.name) <= pre_gen.SLUG_MAX
    assert (root / "src" / root.name.replace("-", "_") / "main.py").is_file()


# Where cookiecutter stops before the template can act (README, "Team presets"): these
# pin what it does then, so a change in cookiecutter shows up here.


@pytest.mark.parametrize(
    ("answer", "cookiecutter_says"),
    [
        ("database=mysql", "mysql provided for choice variable database"),
        ("use_redis=maybe", "maybe provided for variable use_redis could not be converted"),
        ("description=a {% raw %} b", "Missing end of raw directive"),
    ],
)
def test_cookiecutter_refuses_before_the_hook_and_writes_nothing(
    tmp_path: Path, answer: str, cookiecutter_says: str
) -> None:
    result = cookiecutter_cli(tmp_path, answer)

    assert result.returncode != 0
    assert cookiecutter_says in result.stderr
    assert "Cannot generate the project:" not in result.stderr
    assert list(tmp_path.iterdir()) == []
