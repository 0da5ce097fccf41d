"""Peer review outcomes behind the real hub: the staff's results table, and people outside the
course refused on every outcome route. Every rule runs against the hub API double in
tests/api/test_review_results_api.py; these bodies are the same."""

from __future__ import annotations

import pytest

from tests.api.test_review_results_api import (  # noqa: F401  the same bodies, collected here too
    people,
    test_outsiders_are_refused_every_outcome_route,
    test_staff_read_results_and_instructors_change_them,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
