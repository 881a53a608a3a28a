from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import services
from harness.options import (
    Combination,
    UsageError,
    combination_id,
    combinations,
    needs_redis,
    parse_answers,
    run_order,
)
from harness.project import Project, Verdicts, private_cookiecutter_config
from harness.renders import RENDERS_VARIABLE, Renders

# A directory the whole run shares, test workers included: verdicts that identical inputs
# make identical (see harness.project.mypy) are kept there.
RUN_DIR_VARIABLE = "TEMPLATE_RUN_DIR"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--combination",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="only the combinations with this option value (repeatable), "
        "e.g. --combination database=postgres --combination use_redis=true",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(**options): run only for the combinations with these option values",
    )
    config.addinivalue_line(
        "markers",
        "only_where(predicate): run only for the combinations the predicate accepts "
        "(harness.options: is_shape_representative, runs_own_suite, ...)",
    )
    if is_controller(config):
        # Before the test workers start: they inherit these, and so share them.
        services.start_run()
        run_dir = Path(tempfile.mkdtemp(prefix="template-run-"))
        os.environ[RUN_DIR_VARIABLE] = str(run_dir)
        # Cookiecutter writes a replay file for every generation, in the tests' own
        # processes and in every cookiecutter or cruft they start: into the run's directory,
        # never into the user's.
        os.environ["COOKIECUTTER_CONFIG"] = str(private_cookiecutter_config(run_dir))
        # Temporary files of the workers and of everything they start (cookiecutter's
        # rendered hooks, which it never deletes, among them) go where the run's end removes them.
        temporary = run_dir / "tmp"
        temporary.mkdir()
        os.environ["TMPDIR"] = str(temporary)
        # One render of each combination for the whole run, a pytest that a test starts
        # included (harness.renders).
        os.environ.setdefault(RENDERS_VARIABLE, str(run_dir / "renders"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Whatever a worker could not release (it crashed, it was killed) goes now."""
    if not is_controller(config) or RUN_DIR_VARIABLE not in os.environ:
        return
    run_dir = os.environ.pop(RUN_DIR_VARIABLE)
    if os.environ.get(RENDERS_VARIABLE, "").startswith(run_dir):
        del os.environ[RENDERS_VARIABLE]
    shutil.rmtree(run_dir, ignore_errors=True)
    if config.option.collectonly:
        return
    removed = services.sweep(services.run_token())
    if removed:
        print("\nremoved what the run left behind: " + ", ".join(removed))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    put_in_run_order(items)
    if getattr(config.option, "loadgroup", False):
        check_grouping(items)


def put_in_run_order(items: list[pytest.Item]) -> None:
    """Combinations in their run order (harness.options.run_order), with the tests that
    belong to no combination right after the heavy tier: some of them take half a minute
    (a cruft update, the pipeline's commands), and one of those started last would keep
    its worker busy while the others have nothing left to do.

    pytest-xdist hands out whole groups in this order (`--no-loadscope-reorder` in
    pyproject.toml keeps it from reordering them by their number of tests).
    """
    ranked = {combination_id(combination): run_order(combination) for combination in combinations()}
    after_the_heavy_tier = (True,)
    items.sort(key=lambda item: ranked.get(group_of(item) or "", after_the_heavy_tier))


def group_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("xdist_group")
    return str(marker.args[0]) if marker else None


def check_grouping(items: list[pytest.Item]) -> None:
    """Refuse to run when pytest-xdist cannot keep a combination on one worker.

    Its `loadgroup` works by renaming tests after their group, which some pytest
    releases silently ignore (pytest-dev/pytest-xdist#1386); every worker would then
    build and install every combination.
    """
    ungrouped = [
        item.nodeid
        for item in items
        if item.get_closest_marker("xdist_group") and "@" not in item.nodeid.rpartition("]")[2]
    ]
    if ungrouped:
        raise pytest.UsageError(
            f"--dist loadgroup does not group tests with pytest {pytest.__version__} "
            f"(pytest-dev/pytest-xdist#1386), e.g. {ungrouped[0]}; "
            "install a pytest that the root pyproject.toml allows"
        )


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one test worker more than the CPUs this run may use.

    About a quarter of a worker's time goes to waiting (for a server to start, a timeout
    a fault test provokes, a Celery worker's redelivery), during which a spare worker
    can use the CPU; the tests' time bounds are set for a machine this busy.
    """
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return (len(usable) if usable else os.cpu_count() or 1) + 1


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def matches(combination: Combination, answers: dict[str, object]) -> bool:
    return all(combination.get(name) == value for name, value in answers.items())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that takes `combination` with the matching combinations.

    All tests of one combination share an xdist group, so they run on the worker that
    built that combination's project.
    """
    if "combination" not in metafunc.fixturenames:
        return
    try:
        chosen = parse_answers(metafunc.config.getoption("combination"))
    except UsageError as error:
        raise pytest.UsageError(f"--combination: {error}") from error
    required: dict[str, object] = {}
    for marker in metafunc.definition.iter_markers("requires"):
        required.update(marker.kwargs)
    predicates = [
        marker.kwargs["predicate"] for marker in metafunc.definition.iter_markers("only_where")
    ]
    params = [
        pytest.param(
            combination,
            id=combination_id(combination),
            marks=pytest.mark.xdist_group(combination_id(combination)),
        )
        for combination in combinations()
        if matches(combination, chosen)
        and matches(combination, required)
        and all(predicate(combination) for predicate in predicates)
    ]
    metafunc.parametrize("combination", params)


class ProjectCache:
    """Each combination is copied from the run's render of it, installed and provisioned
    once per test worker.

    The worker's projects share one Redis database, claimed for this run when the
    first of them needs Redis and emptied at the end; each has its own key prefix
    and Celery queue in it, and its own PostgreSQL database.
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.projects: dict[str, Project] = {}
        self.failures: dict[str, BaseException] = {}
        self.redis_database: int | None = None
        self.renders = Renders(Path(os.environ[RENDERS_VARIABLE]))

    def get(self, combination: Combination) -> Project:
        name = combination_id(combination)
        if name in self.failures:
            raise self.failures[name]
        if name not in self.projects:
            root = self.renders.copy(combination, self.factory.mktemp(name))
            project = Project(root=root, answers=combination, name=name)
            # One mypy cache per worker, shared by its projects: the libraries they have
            # in common are analysed once (about 30 s each time otherwise).
            project.env["MYPY_CACHE_DIR"] = str(self.factory.getbasetemp() / "mypy-cache")
            project.share_environment(self.factory.getbasetemp() / "environments")
            if needs_redis(combination) and self.redis_database is None:
                self.redis_database = services.claim_redis_database()
            self.projects[name] = project
            try:
                project.provision(self.redis_database)
                project.install()
            except BaseException as error:
                self.failures[name] = error
                raise
        return self.projects[name]

    def close(self) -> None:
        try:
            for project in self.projects.values():
                project.release()
        finally:
            if self.redis_database is not None:
                services.release_redis_database(self.redis_database)


@pytest.fixture(scope="session")
def project_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectCache]:
    cache = ProjectCache(tmp_path_factory)
    yield cache
    cache.close()


@pytest.fixture
def project(combination: Combination, project_cache: ProjectCache) -> Project:
    """The generated, installed project of this test's combination."""
    return project_cache.get(combination)


@pytest.fixture(scope="session")
def verdicts() -> Verdicts:
    """The verdicts of this run that a project with identical inputs may reuse."""
    return Verdicts(Path(os.environ[RUN_DIR_VARIABLE]) / "verdicts")
