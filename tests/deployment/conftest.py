"""One run per distinct set of deployment files.

A test marked `same_files(*paths)` gives the same verdict for combinations whose files
under `paths` are byte-identical, so it runs for the first combination of each such
group (in matrix order, among those its `requires` markers allow) and is deselected for
the others. The group is decided over the whole matrix, not the selected combinations,
so a pipeline that checks one combination per job still runs each check once in all.
"""

from __future__ import annotations

import pytest

from harness.deployment import Fingerprints, fingerprints
from harness.options import combinations


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "same_files(*paths): run once per distinct content of these generated files",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    with fingerprints() as prints:
        # The test workers collect at the same time: each renders its share of the matrix.
        worker = getattr(config, "workerinput", {"workerid": "gw0", "workercount": 1})
        prints.renders.render_share(
            combinations(), int(worker["workerid"].removeprefix("gw")), worker["workercount"]
        )
        repeated = representatives_left_out(items, prints)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = [item for item in items if item not in repeated]


def representatives_left_out(items: list[pytest.Item], prints: Fingerprints) -> list[pytest.Item]:
    """The `same_files` tests whose combination has the files of an earlier one."""
    repeated = []
    for item in items:
        marker = item.get_closest_marker("same_files")
        callspec = getattr(item, "callspec", None)
        combination = callspec.params.get("combination") if callspec else None
        # No combination matched the selection: the pipeline plugin deselects the test.
        if marker is None or not isinstance(combination, dict):
            continue
        required: dict[str, object] = {}
        for requires in item.iter_markers("requires"):
            required.update(requires.kwargs)
        group = [
            combination
            for combination in combinations()
            if all(combination.get(name) == value for name, value in required.items())
        ]
        if not prints.is_representative(combination, marker.args, group):
            repeated.append(item)
    return repeated
