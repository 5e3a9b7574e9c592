"""One build of the sdist and wheel for the whole session (the wheel test installs it,
the .vsix test bundles it)."""

from __future__ import annotations

import pytest

from tests.kit.packaging import Dists, build_dists


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    built = build_dists(tmp_path_factory.mktemp("build"))
    print(f"\npython -m build: {built.seconds:.1f} s")
    return built
