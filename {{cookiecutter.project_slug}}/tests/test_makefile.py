"""The Makefile as a newcomer meets it: bare `make` explains, nothing runs by accident."""

import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = PROJECT_ROOT / "migrations" / "versions"
MAKE = shutil.which("make") or "make"


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, "--no-print-directory", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_bare_make_lists_every_target_and_runs_none() -> None:
    result = make()
    targets = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}

    assert result.returncode == 0
    assert {"help", "install", "run", "test", "lint", "migration"} <= targets
    # Only the list: no recipe line was echoed, so none ran.
    assert all(line.startswith("  ") for line in result.stdout.splitlines()), result.stdout


def test_a_migration_without_a_name_is_refused_and_writes_nothing() -> None:
    before = sorted(MIGRATIONS.iterdir())

    result = make("migration")

    assert result.returncode != 0
    assert 'make migration m="' in result.stderr
    assert sorted(MIGRATIONS.iterdir()) == before
