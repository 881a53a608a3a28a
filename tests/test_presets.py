"""Team presets and replays give exactly the stack they name.

A preset is a cookiecutter config file whose `default_context` answers the feature
questions. Cookiecutter silently ignores an answer to a question that does not
exist, so a renamed option would quietly change what a team's pipeline builds:
these tests make it fail here instead.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from harness.options import TEMPLATE_ROOT, combinations, feature_options, load_context
from harness.project import ANSWERS_FILE, generate

PRESETS = TEMPLATE_ROOT / "presets"
PRESET_NAMES = sorted(path.stem for path in PRESETS.glob("*.yaml"))


def load_preset(name: str) -> dict[str, Any]:
    preset: dict[str, Any] = yaml.safe_load((PRESETS / f"{name}.yaml").read_text())
    return preset


def preset_problems(preset: dict[str, Any], context: dict[str, Any]) -> list[str]:
    """What is wrong with a preset, judged against the questions of cookiecutter.json."""
    if set(preset) != {"default_context"}:
        return [f"a preset holds only default_context, not {sorted(preset)}"]
    options = feature_options(context)
    problems = []
    for name, value in preset["default_context"].items():
        if name.startswith("_") or name not in context:
            problems.append(f"{name!r} is not a question of cookiecutter.json")
        elif name in options:
            if not any(type(value) is type(choice) and value == choice for choice in options[name]):
                problems.append(f"{name}: {value!r} is not one of {options[name]}")
        elif not isinstance(value, str):
            problems.append(f"{name}: {value!r} is not text")
    return problems


def cookiecutter_cli(
    home: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The cookiecutter command, with a home of its own so no user config or replay leaks in."""
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def rendered_answers(default_context: dict[str, Any]) -> dict[str, Any]:
    """The answers cookiecutter derives, private ones included, from defaults and a preset."""
    context = generate_context(
        context_file=str(TEMPLATE_ROOT / "cookiecutter.json"), default_context=default_context
    )
    answers: dict[str, Any] = prompt_for_config(context, no_input=True)
    return answers


def post_gen_hook(answers: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The post-generation hook rendered for these answers, loaded as a module (not run)."""
    source = (TEMPLATE_ROOT / "hooks" / "post_gen_project.py").read_text()
    environment = StrictEnvironment(context={"cookiecutter": answers}, keep_trailing_newline=True)
    script = workdir / "post_gen_project.py"
    script.write_text(environment.from_string(source).render(cookiecutter=answers))
    return runpy.run_path(str(script), run_name="rendered_hook")


def removed(path: str, unwanted: set[str]) -> bool:
    """Whether the hook removes `path`: it is unwanted, or inside an unwanted directory."""
    return any(path == other or path.startswith(f"{other}/") for other in unwanted)


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_documented_presets_are_shipped() -> None:
    assert {"minimal", "full", "api"} <= set(PRESET_NAMES)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_answers_only_existing_questions_with_valid_values(name: str) -> None:
    assert preset_problems(load_preset(name), load_context()) == []


def test_a_renamed_option_or_an_invalid_value_is_caught() -> None:
    context = load_context()
    preset = {"default_context": {"use_redis_cache": True, "database": "mysql", "use_cors": "yes"}}

    assert preset_problems(preset, context) == [
        "'use_redis_cache' is not a question of cookiecutter.json",
        f"database: 'mysql' is not one of {feature_options(context)['database']}",
        "use_cors: 'yes' is not one of [True, False]",
    ]


@pytest.mark.parametrize(
    ("name", "database", "switches"), [("minimal", "sqlite", False), ("full", "postgres", True)]
)
def test_minimal_and_full_answer_every_feature_option(
    name: str, database: str, switches: bool
) -> None:
    """A new option must be placed in both, or `minimal` silently stops being minimal."""
    answers = load_preset(name)["default_context"]
    options = feature_options()

    assert set(options) <= set(answers), (
        f"{name}.yaml does not answer {set(options) - set(answers)}"
    )
    assert answers["database"] == database
    for option, values in options.items():
        if isinstance(values[0], bool):
            assert answers[option] is switches, f"{name}.yaml: {option}"


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_generates_exactly_its_stack(tmp_path: Path, name: str) -> None:
    preset = load_preset(name)["default_context"]
    output = tmp_path / "out"

    cookiecutter_cli(
        tmp_path,
        "--no-input",
        "--config-file",
        str(PRESETS / f"{name}.yaml"),
        str(TEMPLATE_ROOT),
        "-o",
        str(output),
    )

    [root] = output.iterdir()
    recorded = json.loads((root / ANSWERS_FILE).read_text())
    assert {key: recorded[key] for key in preset} == preset
    expected = rendered_answers(preset)
    assert recorded == {key: value for key, value in expected.items() if not key.startswith("_")}

    hook = post_gen_hook(expected, tmp_path)
    unwanted = set(hook["unwanted_paths"](expected))
    owned = set(hook["owned_paths"](expected))
    assert owned, "OWNED_PATHS names no path: nothing to check"
    wrong = [
        f"{path}: {'present' if (root / path).exists() else 'absent'}"
        for path in sorted(owned)
        if (root / path).exists() == removed(path, unwanted)
    ]
    assert not wrong, f"{name}.yaml gave the wrong files:\n" + "\n".join(wrong)


def test_answers_file_records_any_text_exactly(tmp_path: Path) -> None:
    """The answers file is what `cruft link` reads back: quotes and unicode must survive."""
    text = {
        "project_name": 'Zoë\'s "Quoted" \\ Service ✓',
        "description": "Braces {x}, tags <b>, a\ttab & 100% — 😀",
    }

    root = generate(tmp_path, text)

    recorded = json.loads((root / ANSWERS_FILE).read_text())
    assert {key: recorded[key] for key in text} == text
    assert not [key for key in recorded if key.startswith("_")]


def test_replay_after_an_interactive_run_regenerates_the_same_project(tmp_path: Path) -> None:
    """Answers typed at the prompts are replayed exactly, into another directory."""
    context = load_context()
    options = feature_options(context)
    target = combinations(context)[-1]  # Non-default answers, so a replay of defaults fails.
    typed = []
    for name, default in context.items():
        if name.startswith("_"):
            continue
        if name == "project_name":
            typed.append("Replay Service")
        elif name in options and isinstance(default, bool):
            typed.append("y" if target[name] else "n")
        elif name in options:
            typed.append(str(options[name].index(target[name]) + 1))
        else:
            typed.append("")  # Accept the default.
    config = tmp_path / "config.yaml"
    replay_dir = tmp_path / "replay"
    config.write_text(yaml.safe_dump({"replay_dir": str(replay_dir)}))
    first, second = tmp_path / "first", tmp_path / "second"

    cookiecutter_cli(
        tmp_path,
        "--config-file",
        str(config),
        str(TEMPLATE_ROOT),
        "-o",
        str(first),
        stdin="\n".join(typed) + "\n",
    )
    cookiecutter_cli(
        tmp_path, "--replay", "--config-file", str(config), str(TEMPLATE_ROOT), "-o", str(second)
    )

    root = first / "replay-service"
    recorded = json.loads((root / ANSWERS_FILE).read_text())
    assert recorded["project_name"] == "Replay Service"
    assert {name: recorded[name] for name in target} == target
    assert (replay_dir / f"{TEMPLATE_ROOT.name}.json").is_file()
    assert tree(second / "replay-service") == tree(root)
