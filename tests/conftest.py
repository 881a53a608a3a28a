from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.matrix import Combination, combination_id
from tests.project import Project, generate


class ProjectCache:
    """Each combination is generated, installed and provisioned once per test worker.

    All tests of one combination share an xdist group, so they land on the same
    worker and reuse the same project.
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.projects: dict[str, Project] = {}

    def get(self, combination: Combination) -> Project:
        name = combination_id(combination)
        if name not in self.projects:
            output = self.factory.mktemp(name)
            root = generate(output, combination)
            # The process id keeps concurrent runs on one machine apart.
            unique = f"{name.replace('-', '_')}_{os.getpid()}"
            project = Project(root=root, answers=combination, name=unique)
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
