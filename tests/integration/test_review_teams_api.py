"""Cohort teams in peer review behind the real hub: team groups made on the hub keep teammates off
each other's work. Every rule runs against the hub API double in tests/api/test_review_teams_api.py;
this body is the same."""

from __future__ import annotations

import pytest

from tests.api.test_review_teams_api import (  # noqa: F401  the same bodies, collected here too
    people,
    teams,
    test_separate_teams_keeps_teammates_off_each_others_work,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
