"""Reject bad answers before cookiecutter writes anything.

Every problem is collected and printed at once, each with what to change, so a
user fixes them in one round instead of one per run. Exit status 1 makes
cookiecutter delete the half-made project directory.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

ANSWERS: dict[str, object] = json.loads(r"""{{ cookiecutter | tojson }}""")

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


SLUG_MAX = 40
DATABASES = ("sqlite", "postgres")


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


def text_problems(answers: dict[str, object]) -> list[str]:
    problems = []
    for key in ("project_name", "author_name"):
        if not str(answers[key]).strip():
            problems.append(f"{key} is empty: give it a value.")
    for key in ("project_name", "description", "author_name"):
        if any(char in str(answers[key]) for char in "\r\n"):
            problems.append(f"{key} spans several lines: keep it on one line.")
    if not EMAIL.match(str(answers["author_email"])):
        problems.append(
            f"author_email {answers['author_email']!r} does not look like an email "
            "address: use the form name@example.com."
        )
    if not VERSION.match(str(answers["version"])):
        problems.append(
            f"version {answers['version']!r} is not a release version: use the form "
            "MAJOR.MINOR.PATCH, for example 0.1.0."
        )
    return problems


def option_problems(answers: dict[str, object]) -> list[str]:
    """Answers the generated code can handle.

    Prompts enforce choices and booleans, but answers may also come from a replay or
    config file, where the string "False" would silently turn a feature on.
    """
    problems = []
    if answers["database"] not in DATABASES:
        choices = ", ".join(DATABASES)
        problems.append(
            f"database {answers['database']!r} is not supported: choose one of {choices}."
        )
    for name, answer in answers.items():
        if name.startswith("use_") and not isinstance(answer, bool):
            problems.append(f"{name} is {answer!r}: answer true or false.")
    return problems


def problems(answers: dict[str, object]) -> list[str]:
    slug = str(answers["project_slug"])
    package = str(answers["__package_name"])
    return [
        *slug_problems(slug),
        *package_problems(package),
        *text_problems(answers),
        *option_problems(answers),
    ]


def main() -> int:
    found = problems(ANSWERS)
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
