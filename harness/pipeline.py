"""The combination matrix as a CI building block.

    uv run python -m harness.pipeline list
        the combinations, as the JSON `include` list of a GitHub Actions matrix:
        [{"name": "sqlite-no_redis-...", "options": "database=sqlite use_redis=false ..."}, ...]
    uv run python -m harness.pipeline check database=postgres use_redis=true [-- PYTEST ARGS]
        the matrix tests of exactly one combination; options left out take their
        default from cookiecutter.json, so `check` alone checks the default project
    uv run python -m harness.pipeline rest [-- PYTEST ARGS]
        every test that does not belong to a combination (hooks, presets, updates...)

Both `check` and `rest` run the template's own pytest suite, with this module loaded
as a plugin (`-p harness.pipeline`): it marks every test that takes the `combination`
fixture as `matrix`, so `-m matrix` and `-m "not matrix"` split the suite in two
without a list of files to keep up to date.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys

import pytest

from harness.options import (
    TEMPLATE_ROOT,
    Combination,
    UsageError,
    combination_id,
    combinations,
    format_value,
    options_argument,
    resolve,
)

LIST_COMMAND = "uv run python -m harness.pipeline list"
CHECK_COMMAND = "uv run python -m harness.pipeline check"
REST_COMMAND = "uv run python -m harness.pipeline rest"

PYTEST = [sys.executable, "-m", "pytest", "-p", "harness.pipeline"]


# The pytest plugin.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "matrix: runs once per combination of options (set by harness.pipeline)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark before `-m` deselects, which happens in pytest's own hook of this name.

    A test whose `requires` marker matches none of the selected combinations is left
    with an empty parameter set, which pytest would report as a skip in every job that
    does not need it: it is deselected instead.
    """
    unmatched = []
    for item in items:
        if "combination" not in getattr(item, "fixturenames", ()):
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is None or not isinstance(callspec.params.get("combination"), dict):
            unmatched.append(item)
        else:
            item.add_marker(pytest.mark.matrix)
    if unmatched:
        config.hook.pytest_deselected(items=unmatched)
        items[:] = [item for item in items if item not in unmatched]


# The command line.


def matrix_include() -> list[dict[str, str]]:
    return [
        {"name": combination_id(combination), "options": options_argument(combination)}
        for combination in combinations()
    ]


def check_command(combination: Combination, pytest_args: list[str]) -> list[str]:
    """Every option is passed, so exactly one combination is selected."""
    selection = [
        argument
        for name, value in combination.items()
        for argument in ("--combination", f"{name}={format_value(value)}")
    ]
    return [*PYTEST, "-m", "matrix", *selection, *pytest_args]


def rest_command(pytest_args: list[str]) -> list[str]:
    return [*PYTEST, "-m", "not matrix", *pytest_args]


def run_pytest(command: list[str]) -> int:
    print(f"+ {shlex.join(['python', *command[1:]])}", file=sys.stderr, flush=True)
    return subprocess.run(command, cwd=TEMPLATE_ROOT, check=False).returncode


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m harness.pipeline", description=__doc__.split("\n\n")[0]
    )
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print the combinations as a GitHub Actions matrix include")
    check = commands.add_parser("check", help="run the matrix tests of one combination")
    check.add_argument("options", nargs="*", metavar="OPTION=VALUE")
    commands.add_parser("rest", help="run the tests that do not belong to a combination")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    separator = argv.index("--") if "--" in argv else len(argv)
    own, pytest_args = argv[:separator], argv[separator + 1 :]
    args = parser().parse_args(own)
    if args.command == "list":
        print(json.dumps(matrix_include()))
        return 0
    if args.command == "rest":
        return run_pytest(rest_command(pytest_args))
    try:
        combination = resolve(args.options)
    except UsageError as error:
        print(f"check: {error}", file=sys.stderr)
        return 2
    print(
        f"Checking {combination_id(combination)}, the same as: "
        f"{CHECK_COMMAND} {options_argument(combination)}",
        file=sys.stderr,
    )
    return run_pytest(check_command(combination, pytest_args))


if __name__ == "__main__":
    raise SystemExit(main())
