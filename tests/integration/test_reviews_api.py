"""Peer review rounds behind the real hub: a round opened through an upload, people outside the
course refused everywhere, and the anonymity probe (responses, errors and event frames through the
proxy). Every rule runs against the hub API double in tests/api/test_reviews_api.py; these bodies
are the same."""

from __future__ import annotations

import pytest

from tests.api.test_reviews_api import (  # noqa: F401  the same bodies, collected here too
    people,
    test_an_instructor_opens_a_round_and_staff_see_who_is_who,
    test_nothing_a_reviewer_can_reach_names_the_author,
    test_outsiders_are_refused_everywhere,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
