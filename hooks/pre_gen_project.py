"""Reject bad answers before cookiecutter writes anything.

Every problem is collected and printed at once, each with what to change, so a
user fixes them in one round instead of one per run. Exit status 1 makes
cookiecutter delete the half-made project directory.

The answers are parsed in `main()`, not at import, so the checks below are plain
functions that tests import from this file without rendering it.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import sys
from collections.abc import Mapping
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Any

# The only Jinja in this file: cookiecutter renders the answers into this literal.
# Unrendered, it is an ordinary string that nothing reads until `main()`.
RENDERED_ANSWERS = r"""{{ cookiecutter | tojson }}"""

Answers = Mapping[str, Any]

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
VERSION = re.compile(r"^\d+(\.\d+){0,2}((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")

# Import names the generated service or its tools depend on: a package with one
# of these names would shadow the real module.
DEPENDENCY_MODULES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anyio",
        "asyncpg",
        "celery",
        "fastapi",
        "gunicorn",
        "httpx",
        "hypothesis",
        "kombu",
        "mypy",
        "prometheus_client",
        "psycopg",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "redis",
        "ruff",
        "schemathesis",
        "sqlalchemy",
        "sqlmodel",
        "starlette",
        "uvicorn",
        "uvicorn_worker",
    }
)

# Package names that `sys.stdlib_module_names` and the dependency list do not cover
# but that still break the generated project, with the reason given to the user.
RESERVED_PACKAGES = {
    "test": "CPython's own regression-test package (which sys.stdlib_module_names leaves out)",
    "tests": "the generated project's own test package (its tests/ folder)",
}

# The longest slug; cookiecutter.json's default cuts a slug derived from the
# project name to the same length, so a long name never reaches this check.
SLUG_MAX = 40
CHOICES = {"database": ("sqlite", "postgres")}

# What cookiecutter accepts for a yes/no question given as text (its YesNoPrompt).
BOOLEAN_WORDS = frozenset({"1", "true", "t", "yes", "y", "on", "0", "false", "f", "no", "n", "off"})


def slug_problems(slug: str) -> list[str]:
    if len(slug) > SLUG_MAX:
        return [
            f"project_slug {slug!r} is {len(slug)} characters long: give a slug of at most "
            f"{SLUG_MAX} (for example project_slug=billing-api)."
        ]
    if SLUG.match(slug):
        return []
    return [
        f"project_slug {slug!r} is not a valid slug: use lowercase letters, digits "
        "and single hyphens, starting with a letter (for example 'billing-api')."
    ]


def package_problems(package: str) -> list[str]:
    if not package.isidentifier() or not package.isascii():
        return []  # The slug check already explains what to change.
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        return [
            f"project_slug gives the package name {package!r}, a Python keyword: choose another slug."
        ]
    if package in RESERVED_PACKAGES:
        return [
            f"project_slug gives the package name {package!r}, which is "
            f"{RESERVED_PACKAGES[package]}: choose another slug (for example "
            f"'{package}-service')."
        ]
    if package in sys.stdlib_module_names:
        return [
            f"project_slug gives the package name {package!r}, which shadows the standard "
            "library module of that name: choose another slug (for example "
            f"'{package}-service')."
        ]
    if package in DEPENDENCY_MODULES:
        return [
            f"project_slug gives the package name {package!r}, which shadows a dependency "
            f"of the service: choose another slug (for example '{package}-service')."
        ]
    return []


def email_problems(email: str) -> list[str]:
    """An address the generated project's build backend can write into its metadata.

    hatchling turns each `authors` entry into an `email.headerregistry.Address` and
    fails the build (and so `uv sync`) when that refuses the address; the same
    parse here turns that late failure into a message before anything is written.
    """
    if not EMAIL.match(email):
        return [
            f"author_email {email!r} does not look like an email address: use the form "
            "name@example.com."
        ]
    local_part = email.rpartition("@")[0]
    if not local_part.isascii():
        return [
            f"author_email {email!r} has non-ASCII characters before the @, which package "
            "metadata cannot hold (the build backend refuses it): use an ASCII address."
        ]
    try:
        Address(addr_spec=email)
    except (ValueError, HeaderParseError):
        return [
            f"author_email {email!r} is not an address package metadata can hold (the build "
            "backend refuses it): use the plain form name@example.com."
        ]
    return []


def text_problems(answers: Answers) -> list[str]:
    problems = []
    for key in ("project_name", "author_name"):
        if not str(answers[key]).strip():
            problems.append(f"{key} is empty: give it a value.")
    for key in ("project_name", "description", "author_name"):
        if any(char in str(answers[key]) for char in "\r\n"):
            problems.append(f"{key} spans several lines: keep it on one line.")
    problems += email_problems(str(answers["author_email"]))
    if not VERSION.match(str(answers["version"])):
        problems.append(
            f"version {answers['version']!r} is not a release version: use the form "
            "MAJOR.MINOR.PATCH, for example 0.1.0."
        )
    return problems


def option_problems(answers: Answers) -> list[str]:
    """Answers the generated code can handle.

    Prompts enforce choices and booleans, but answers may also come from a replay
    file, where the string "False" would silently turn a feature on.
    """
    problems = []
    for name, choices in CHOICES.items():
        if answers[name] not in choices:
            problems.append(
                f"{name} {answers[name]!r} is not supported: choose one of {', '.join(choices)}."
            )
    for name, answer in answers.items():
        if name.startswith("use_") and not isinstance(answer, bool):
            problems.append(f"{name} is {answer!r}: answer true or false.")
    return problems


def problems(answers: Answers) -> list[str]:
    """Everything wrong with the answers cookiecutter rendered, each with what to change."""
    return [
        *slug_problems(str(answers["project_slug"])),
        *package_problems(str(answers["__package_name"])),
        *text_problems(answers),
        *option_problems(answers),
    ]


# A config file's `default_context`. Cookiecutter ignores a key that is no question
# of the template, and on a value it cannot use it warns and drops that value and
# every one after it, then generates anyway: the rendered answers no longer show
# what the file asked for, so the file itself is checked.


def config_problems(
    default_context: Mapping[str, Any], answers: Answers, source: str, *, named: bool
) -> list[str]:
    """What cookiecutter would ignore in a config file's `default_context`.

    Unknown keys are refused only in a file named with `--config-file` (a preset for
    this template): a user-wide config also holds answers for other templates.
    """
    problems = []
    questions = [name for name in answers if not name.startswith("_")]
    for name, value in default_context.items():
        if name not in answers:
            if named:
                problems.append(
                    f"{name!r} in {source} is not a question of this template: correct or "
                    f"remove it (the questions are {', '.join(questions)})."
                )
        elif name in CHOICES and value not in CHOICES[name]:
            problems.append(
                f"{name} {value!r} in {source} is not supported: choose one of "
                f"{', '.join(CHOICES[name])}."
            )
        elif isinstance(answers[name], bool) and not is_boolean_answer(value):
            problems.append(f"{name} is {value!r} in {source}: answer true or false.")
    return problems


def is_boolean_answer(value: object) -> bool:
    return isinstance(value, bool) or (
        isinstance(value, str) and value.strip().lower() in BOOLEAN_WORDS
    )


def config_in_use(
    arguments: list[str], directories: list[Path], environ: Mapping[str, str], home: Path
) -> tuple[Path, bool] | None:
    """The config file cookiecutter read, found as cookiecutter finds it.

    Returns the path and whether it was named on the command line. `arguments` are
    those of the cookiecutter (or cruft) command that runs this hook, and
    `directories` where it may have been started, to resolve a relative path in.
    """
    if "--default-config" in arguments:
        return None
    named = None
    for index, argument in enumerate(arguments):
        if argument == "--config-file" and index + 1 < len(arguments):
            named = arguments[index + 1]
        elif argument.startswith("--config-file="):
            named = argument.partition("=")[2]
    if named:
        path = existing_file(named, directories)
        return None if path is None else (path, True)
    if environ.get("COOKIECUTTER_CONFIG"):
        path = existing_file(environ["COOKIECUTTER_CONFIG"], directories)
        return None if path is None else (path, False)
    user_config = home / ".cookiecutterrc"
    return (user_config, False) if user_config.is_file() else None


def existing_file(text: str, directories: list[Path]) -> Path | None:
    path = Path(text)
    candidates = [path] if path.is_absolute() else [folder / path for folder in directories]
    found = next((candidate for candidate in candidates if candidate.is_file()), None)
    return None if found is None else Path(os.path.normpath(found))


def launch_directories(current: Path, repo_dir: object, environ: Mapping[str, str]) -> list[Path]:
    """Where the cookiecutter command may have been started, most certain first.

    By the time it runs hooks, cookiecutter has moved into the template directory
    (`_repo_dir`, as given on its command line), so its working directory names the
    start only after that relative part is taken off. `PWD` is where a shell
    started it, and a fallback for a template given by an absolute path or a URL.
    """
    directories = []
    relative = Path(str(repo_dir)) if isinstance(repo_dir, str) and repo_dir else None
    if relative is not None and not relative.is_absolute() and ".." not in relative.parts:
        parts = len(relative.parts)
        directories.append(current.parents[parts - 1] if parts else current)
    if environ.get("PWD"):
        directories.append(Path(environ["PWD"]))
    return directories


def is_generating_command(arguments: list[str]) -> bool:
    """Whether these are the arguments of a command that generates with a config file.

    A program that calls cookiecutter's API may pass another config file than the
    one its own arguments name (pytest has a `--config-file` of its own).
    """
    programs = {Path(argument).name for argument in arguments[:3]}
    if "cookiecutter" in programs:
        return True
    return "cruft" in programs and bool({"create", "link"} & set(arguments[1:4]))


def parent_command() -> tuple[list[str], Path] | None:
    """The arguments and working directory of the process that runs this hook.

    Cookiecutter passes a hook nothing but the rendered answers; on Linux its own
    command line is readable from /proc. Elsewhere there is nothing to read.
    """
    proc = Path("/proc") / str(os.getppid())
    try:
        arguments = (proc / "cmdline").read_bytes().split(b"\0")[:-1]
        cwd = Path(os.readlink(proc / "cwd"))
    except OSError:
        return None
    return [os.fsdecode(argument) for argument in arguments], cwd


def read_default_context(path: Path) -> Mapping[str, Any]:
    # Cookiecutter reads its config with PyYAML, one of its own dependencies, so it
    # is importable by the interpreter that runs this hook.
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # Cookiecutter read it before running this hook; it cannot be ours to report.
    context = config.get("default_context") if isinstance(config, dict) else None
    return context if isinstance(context, dict) else {}


def config_file_problems(answers: Answers) -> list[str]:
    command = parent_command()
    if command is None or not is_generating_command(command[0]):
        return []
    arguments, current = command
    directories = launch_directories(current, answers.get("_repo_dir"), os.environ)
    found = config_in_use(arguments, directories, os.environ, Path.home())
    if found is None:
        return []
    path, named = found
    return config_problems(read_default_context(path), answers, str(path), named=named)


def main() -> int:
    answers: dict[str, Any] = json.loads(RENDERED_ANSWERS)
    found = problems(answers) + config_file_problems(answers)
    if not found:
        return 0
    print("Cannot generate the project:", file=sys.stderr)
    for problem in found:
        print(f"  - {problem}", file=sys.stderr)
    print(
        "Nothing was written. Change the answers above and run cookiecutter again.", file=sys.stderr
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
