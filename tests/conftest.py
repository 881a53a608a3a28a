from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.matrix import Combination, combination_id, combinations
from tests.project import Project, generate


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--combination",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="only the combinations with this option value (repeatable), "
        "e.g. --combination database=postgres --combination use_redis=true",
    )


def parse_answers(pairs: list[str]) -> dict[str, object]:
    """`key=value` pairs as cookiecutter understands them: true/false become booleans."""
    answers: dict[str, object] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise pytest.UsageError(f"--combination takes OPTION=VALUE, not {pair!r}")
        lowered = value.lower()
        answers[name] = lowered == "true" if lowered in {"true", "false"} else value
    return answers


def matches(combination: Combination, answers: dict[str, object]) -> bool:
    return all(combination.get(name) == value for name, value in answers.items())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(**options): run only for the combinations with these option values",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that takes `combination` with the matching combinations.

    All tests of one combination share an xdist group, so they run on the worker that
    built that combination's project.
    """
    if "combination" not in metafunc.fixturenames:
        return
    chosen = parse_answers(metafunc.config.getoption("combination"))
    required: dict[str, object] = {}
    for marker in metafunc.definition.iter_markers("requires"):
        required.update(marker.kwargs)
    params = [
        pytest.param(
            combination,
            id=combination_id(combination),
            marks=pytest.mark.xdist_group(combination_id(combination)),
        )
        for combination in combinations()
        if matches(combination, chosen) and matches(combination, required)
    ]
    metafunc.parametrize("combination", params)


class ProjectCache:
    """Each combination is generated, installed and provisioned once per test worker."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.projects: dict[str, Project] = {}

    def get(self, combination: Combination) -> Project:
        name = combination_id(combination)
        if name not in self.projects:
            root = generate(self.factory.mktemp(name), combination)
            # The process id keeps concurrent runs on one machine apart.
            unique = f"{name.replace('-', '_')}_{os.getpid()}"
            project = Project(root=root, answers=combination, name=unique)
            # One mypy cache per worker, shared by its projects: the libraries they have
            # in common are analysed once (about 30 s each time otherwise).
            project.env["MYPY_CACHE_DIR"] = str(self.factory.getbasetemp() / "mypy-cache")
            project.provision()
            project.install()
            self.projects[name] = project
        return self.projects[name]

    def close(self) -> None:
        for project in self.projects.values():
            project.release()


@pytest.fixture(scope="session")
def project_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectCache]:
    cache = ProjectCache(tmp_path_factory)
    yield cache
    cache.close()


@pytest.fixture
def project(combination: Combination, project_cache: ProjectCache) -> Project:
    """The generated, installed project of this test's combination."""
    return project_cache.get(combination)
