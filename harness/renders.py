"""One render of each combination per run, shared by the run's processes.

Rendering the template is pure: the same answers give the same files. The run's test
workers (and the pytest runs a test starts) all need renders, the deployment checks
to tell which combinations have identical files and every combination's project to
install; a combination is rendered once and the rest copy it or read it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.options import Combination, combination_id
from harness.project import generate

# The directory where a run keeps its renders, for every process the run starts.
RENDERS_VARIABLE = "TEMPLATE_RENDERS"


class Renders:
    """Renders in `directory`, one per combination; each is written whole, then renamed.

    The first process to claim a combination renders it, the others wait for its render.
    A render is read, never changed: a project is a copy of one (`copy`).
    """

    def __init__(self, directory: Path, wait: float = 300) -> None:
        self.directory = directory
        self.wait = wait

    def root(self, combination: Combination) -> Path:
        """The rendered project of `combination`."""
        done = self.directory / combination_id(combination)
        if not done.exists():
            if self.claim(combination):
                self.render(combination)
            else:
                self.wait_for(combination)
        (root,) = done.iterdir()
        return root

    def render_share(self, combinations: Iterable[Combination], share: int, shares: int) -> None:
        """Render the combinations no process has claimed, starting at the `share`-th of
        `shares` equal parts of the list, so that processes that start together render
        different ones and meet at the end."""
        ordered = list(combinations)
        start = len(ordered) * share // max(shares, 1)
        for combination in ordered[start:] + ordered[:start]:
            if not (self.directory / combination_id(combination)).exists() and self.claim(
                combination
            ):
                self.render(combination)

    def copy(self, combination: Combination, output_dir: Path) -> Path:
        """A project of `combination` in `output_dir`, as cookiecutter would write it there."""
        source = self.root(combination)
        return Path(shutil.copytree(source, output_dir / source.name, symlinks=True))

    def claim(self, combination: Combination) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(self.claim_file(combination), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def claim_file(self, combination: Combination) -> Path:
        return self.directory / f"{combination_id(combination)}.claim"

    def render(self, combination: Combination) -> None:
        done = self.directory / combination_id(combination)
        partial = Path(tempfile.mkdtemp(prefix=f"{done.name}.", dir=self.directory))
        generate(partial, combination)
        try:
            partial.rename(done)
        except OSError:  # another process rendered it after all (its claimer was too slow)
            shutil.rmtree(partial)
            if not done.exists():
                raise

    def wait_for(self, combination: Combination) -> None:
        """Wait for the claimer's render; render it here if it never comes (the claimer
        died)."""
        done = self.directory / combination_id(combination)
        deadline = time.monotonic() + self.wait
        while not done.exists():
            if time.monotonic() > deadline:
                self.render(combination)
                return
            time.sleep(0.05)


@contextmanager
def run_renders() -> Iterator[Renders]:
    """The run's renders; outside a run, private ones removed when the caller is done."""
    shared = os.environ.get(RENDERS_VARIABLE)
    if shared:
        yield Renders(Path(shared))
        return
    with tempfile.TemporaryDirectory(prefix="renders-") as directory:
        yield Renders(Path(directory))
