"""The pre-generation hook stops bad answers with a clear message and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.matrix import TEMPLATE_ROOT


def cookiecutter_cli(output_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            str(TEMPLATE_ROOT),
            "-o",
            str(output_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def hook_message(stderr: str) -> str:
    """What our hook printed, before cookiecutter's own report of the failure."""
    return stderr.split("ERROR: Stopping generation")[0]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["project_slug=My Service!"], "project_slug 'My Service!' is not a valid slug"),
        (["project_slug=9lives"], "project_slug '9lives' is not a valid slug"),
        (["project_slug=double--hyphen"], "is not a valid slug"),
        (["project_slug=" + "a" * 41], "is 41 characters long: give a slug of at most 40"),
        (["project_slug=class"], "package name 'class', a Python keyword"),
        (["project_slug=match"], "package name 'match', a Python keyword"),
        (["project_slug=json"], "shadows the standard library module"),
        (["project_slug=asyncio"], "shadows the standard library module"),
        (["project_slug=fastapi"], "shadows a dependency of the service"),
        (["project_slug=sqlmodel"], "shadows a dependency of the service"),
        (["author_email=not-an-email"], "author_email 'not-an-email' does not look like an email"),
        (["author_email=a b@example.com"], "does not look like an email"),
        (["version=one"], "version 'one' is not a release version"),
        (["version=1.0.0-beta"], "is not a release version"),
        (["project_name= "], "project_name is empty"),
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


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    result = cookiecutter_cli(tmp_path, "project_slug=import", "author_email=x", "version=v1")

    message = hook_message(result.stderr)
    assert message.count("\n  - ") == 3, message
    assert list(tmp_path.iterdir()) == []


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
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(TEMPLATE_ROOT),
            "-o",
            str(output),
            "--replay-file",
            str(replay),
        ],
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


def test_valid_answers_generate_and_print_next_steps(tmp_path: Path) -> None:
    result = cookiecutter_cli(tmp_path, "project_name=Billing API")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "billing-api" / "src" / "billing_api" / "main.py").is_file()
    assert "cd billing-api" in result.stderr
