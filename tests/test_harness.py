"""The harness: it leaves nothing behind on a shared machine, and shares only sound verdicts."""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest

from harness import renders
from harness.deployment import fingerprints
from harness.options import (
    TEMPLATE_ROOT,
    combination_id,
    combinations,
    feature_options,
    is_shape_representative,
    run_order,
    runs_heavy_tier,
    service_shape,
)
from harness.process import excerpt
from harness.project import (
    Project,
    Verdicts,
    generate,
    inputs_digest,
    mypy_inputs,
    resolution_of,
    suite_inputs,
)
from harness.renders import RENDERS_VARIABLE, Renders


@pytest.fixture
def temporary_directory(tmp_path: Path) -> Iterator[Path]:
    """An empty directory in place of the machine's temporary directory, for one test."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    previous, tempfile.tempdir = tempfile.tempdir, str(directory)
    try:
        yield directory
    finally:
        tempfile.tempdir = previous


def test_generating_a_project_leaves_no_temporary_file(
    temporary_directory: Path, tmp_path: Path
) -> None:
    """cookiecutter keeps each rendered hook in a temporary file that it never deletes."""
    root = generate(tmp_path / "out", {})

    assert (root / "pyproject.toml").is_file()
    assert list(temporary_directory.iterdir()) == []


def test_a_project_starts_from_the_lock_an_identical_pyproject_got(tmp_path: Path) -> None:
    """Twins (here, with and without Docker) resolve their dependencies once in a run."""
    environments = tmp_path / "environments"
    first, twin = (
        Project(root=generate(tmp_path / name, answers), answers=answers, name=name)
        for name, answers in [("first", {}), ("twin", {"use_docker": False})]
    )
    for project in (first, twin):
        project.share_environment(environments)
    pyproject = first.root / "pyproject.toml"
    assert pyproject.read_bytes() == (twin.root / "pyproject.toml").read_bytes()

    first.install()
    twin.adopt_resolution()

    recorded = resolution_of(environments, pyproject).read_bytes()
    assert recorded == (first.root / "uv.lock").read_bytes()
    assert (twin.root / "uv.lock").read_bytes() == recorded


def test_deployment_fingerprints_remove_their_renders(
    temporary_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RENDERS_VARIABLE, raising=False)
    first = combinations()[0]
    with fingerprints() as prints:
        assert prints.digest(first, ["Dockerfile"])
        assert list(temporary_directory.iterdir()) != []

    assert list(temporary_directory.iterdir()) == []


def test_suite_inputs_ignore_deployment_files_but_not_code(tmp_path: Path) -> None:
    """Twins that differ only in files the generated suite never reads share its verdict."""
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        (root / "src").mkdir(parents=True)
        (root / "src" / "app.py").write_text("x = 1\n")
        (root / "pyproject.toml").write_text("[project]\n")
    (second / "Dockerfile").write_text("FROM python\n")
    (second / "README.md").write_text("# twin\n")

    def digest(root: Path) -> str:
        return inputs_digest(root, suite_inputs(root))

    assert digest(first) == digest(second)
    (second / "src" / "app.py").write_text("x = 2\n")
    assert digest(first) != digest(second)


def test_mypy_inputs_are_every_file_its_configuration_names(tmp_path: Path) -> None:
    """A file mypy checks but the verdict's digest left out would let a twin that breaks
    it reuse a passing verdict."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mypy]\nfiles = ["src", "scripts", "gunicorn.conf.py"]\n'
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "gunicorn.conf.py").write_text("workers = 1\n")
    before = inputs_digest(tmp_path, mypy_inputs(tmp_path))

    (tmp_path / "gunicorn.conf.py").write_text("workers = '1'\n")

    assert inputs_digest(tmp_path, mypy_inputs(tmp_path)) != before
    assert {"scripts", "gunicorn.conf.py", "pyproject.toml", "uv.lock"} <= set(
        mypy_inputs(tmp_path)
    )


def test_a_verdict_is_shared_only_once_recorded(tmp_path: Path) -> None:
    verdicts = Verdicts(tmp_path / "verdicts")
    assert not verdicts.passed("abc", "suite-fast")
    verdicts.record("abc", "suite-full")
    assert verdicts.passed("abc", "suite-fast", "suite-full")
    assert not verdicts.passed("abd", "suite-full")
    assert not Verdicts(None).passed("abc", "suite-full")


def test_heavy_tier_runs_first_and_twins_run_far_apart() -> None:
    ordered = sorted(combinations(), key=run_order)
    heavy = [runs_heavy_tier(combination) for combination in ordered]
    assert heavy == sorted(heavy, reverse=True)
    last_option, values = list(feature_options().items())[-1]
    positions = {combination_id(combination): at for at, combination in enumerate(ordered)}
    for at, combination in enumerate(ordered):
        for value in values:
            twin = dict(combination, **{last_option: value})
            if twin != combination and not (runs_heavy_tier(combination) or runs_heavy_tier(twin)):
                assert abs(positions[combination_id(twin)] - at) >= len(ordered) // 4


def test_most_projects_after_the_tiers_run_next_to_one_of_their_own_shape() -> None:
    """Neighbours in the run order share their environment and most of mypy's cache."""
    rest = [
        combination
        for combination in sorted(combinations(), key=run_order)
        if not (runs_heavy_tier(combination) or is_shape_representative(combination))
    ]
    same = [service_shape(a) == service_shape(b) for a, b in itertools.pairwise(rest)]

    assert sum(same) >= len(same) * 2 // 3


def test_the_matrix_is_the_full_product_of_the_options_in_cookiecutter_json() -> None:
    """Read apart from harness.options: a filtered or truncated matrix fails here."""
    context = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    choices = {
        name: [value, not value] if isinstance(value, bool) else value
        for name, value in context.items()
        if not name.startswith("_") and isinstance(value, bool | list)
    }
    expected = [dict(zip(choices, values, strict=True)) for values in product(*choices.values())]

    assert combinations() == expected
    assert len({combination_id(combination) for combination in combinations()}) == len(expected)


def test_a_render_made_by_one_process_is_read_by_the_next_without_a_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RENDERS_VARIABLE, str(tmp_path / "renders"))
    first, last = combinations()[0], combinations()[-1]
    with fingerprints() as prints:
        digests = [prints.digest(first, ["Dockerfile"]), prints.digest(last, ["compose.yaml"])]

    monkeypatch.setattr(renders, "generate", no_render)
    with fingerprints() as prints:
        assert prints.digest(first, ["Dockerfile"]) == digests[0]
        assert prints.digest(last, ["compose.yaml"]) == digests[1]
        assert prints.digest(first, ["compose.yaml"])
        with pytest.raises(AssertionError, match="rendered again"):
            prints.digest(combinations()[1], ["Dockerfile"])


def no_render(*args: object, **kwargs: object) -> Path:
    raise AssertionError("rendered again")


def test_processes_that_start_together_render_different_shares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix = combinations()[:4]
    rendered: dict[int, list[str]] = {0: [], 1: []}

    def slow_render(output_dir: Path, answers: dict[str, object]) -> Path:
        time.sleep(0.1)
        rendered[shares.index(threading.current_thread().name)].append(combination_id(answers))
        (output_dir / "project").mkdir(parents=True)
        return output_dir / "project"

    monkeypatch.setattr(renders, "generate", slow_render)
    shares = ["share-0", "share-1"]
    threads = [
        threading.Thread(name=name, target=Renders(tmp_path).render_share, args=(matrix, share, 2))
        for share, name in enumerate(shares)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert rendered[0][0] == combination_id(matrix[0])
    assert rendered[1][0] == combination_id(matrix[2])
    assert sorted(rendered[0] + rendered[1]) == sorted(combination_id(c) for c in matrix)


def test_a_render_claimed_elsewhere_is_waited_for_and_made_here_if_it_never_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    combination = combinations()[0]
    claimer, waiter = Renders(tmp_path), Renders(tmp_path, wait=0.2)
    assert claimer.claim(combination)
    assert not waiter.claim(combination)

    root = waiter.root(combination)

    assert (root / "pyproject.toml").is_file()
    monkeypatch.setattr(renders, "generate", no_render)
    copy = claimer.copy(combination, tmp_path / "project")
    assert (copy / "pyproject.toml").read_bytes() == (root / "pyproject.toml").read_bytes()


def test_a_failed_pytest_run_is_shown_from_its_first_assertion_whatever_it_captured() -> None:
    header = "collected 2 items\n" + "." * 100 + "\n"
    failure = "= FAILURES =\n___ test_one ___\nE   assert 500 == 200\n"
    captured = "--- Captured log call ---\n" + "INFO a server log line\n" * 2000
    summary = "FAILED tests/test_errors.py::test_one\n1 failed, 1 passed\n"

    shown = excerpt(header + failure + captured + summary)

    assert "E   assert 500 == 200" in shown
    assert shown.endswith(summary)
    assert len(shown) < 8100


def test_other_output_is_shown_by_its_end() -> None:
    output = "".join(f"line {number}\n" for number in range(5000))

    assert excerpt(output) == output[-8000:]
