"""Live quiz rounds behind the real hub: a round from lobby to results with every player's event
stream through the proxy, and teams read from hub groups with properties. Every rule runs against
the hub API double in tests/api/test_live_quiz_api.py; these bodies are the same."""

from __future__ import annotations

import pytest

from tests.api.test_live_quiz_api import (  # noqa: F401  the same bodies, collected here too
    people,
    test_a_round_from_lobby_to_results,
    test_teams_inside_a_cohort_compete_by_their_mean,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
