"""One real hub for the integration tests of a session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.hub import Hub, start_hub, stop_hub


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def cl_hub() -> Iterator[Hub]:
    if os.geteuid() != 0:
        pytest.skip("the one-machine hub runs servers as system users, which needs root")
    hub = start_hub()
    try:
        yield hub
    finally:
        stop_hub(hub)
