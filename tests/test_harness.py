"""The harness leaves nothing behind on a shared machine."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.deployment import fingerprints
from harness.options import combinations
from harness.project import generate


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


def test_deployment_fingerprints_remove_their_renders(temporary_directory: Path) -> None:
    first = combinations()[0]
    with fingerprints() as prints:
        assert prints.digest(first, ["Dockerfile"])
        assert list(temporary_directory.iterdir()) != []

    assert list(temporary_directory.iterdir()) == []
