"""API tests: every rule of the service's routes, each with a caller who is refused.

They call the real service in this process, through its real hub-auth code, against the hub
API double (tests/helpers/inprocess.py): no root, no hub subprocess, a second to start. The
same bodies that also run against the real hub are imported by tests/integration modules,
which bind ``cl_api_hub`` to the session's hub (``cl_hub``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.hub import Hub
from tests.helpers.inprocess import inprocess_hub


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/api/" in str(item.path):
            item.add_marker(pytest.mark.api)


@pytest.fixture(scope="session")
def cl_api_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The hub the API tests call: here the hub API double with the service in-process, one
    per test session (per xdist worker), shared like the session hub."""
    with inprocess_hub(tmp_path_factory.mktemp("api")) as hub:
        yield hub
