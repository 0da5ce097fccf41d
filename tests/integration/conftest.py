"""Integration tests use the session's real hub (``cl_hub``, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.hub import Hub
from tests.integration.test_cohort_workspace import Course, clean_up, make_course


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def course(cl_hub: Hub) -> Iterator[Course]:
    """A course of the module's own in the real hub, with its people and cohorts removed at
    the end (``test_cohort_workspace.make_course``; modules with a course of another kind
    define their own ``course``)."""
    c = make_course(cl_hub)
    try:
        yield c
    finally:
        clean_up(c)
