"""Teams inside a cohort behind the real hub: a team is the hub group, with the properties, that
live quizzes read. Who may see and change teams, and bad input, run against the hub API double
in tests/api/test_cohort_teams_api.py; this body is the same."""

from __future__ import annotations

import pytest

from tests.api.test_cohort_teams_api import (  # noqa: F401  the same body, collected here too
    course,
    red,
    test_a_team_is_the_hub_group_live_quizzes_read,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
