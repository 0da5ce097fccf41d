"""Discussions behind the real hub: a thread shared on a cell, and each refusal class (not in
the course, a learner where staff must act, an unknown or unseen thread, bad input), with the
news reaching an event stream through the proxy. Every rule runs against the hub API double in
tests/api/test_discussions_api.py; these bodies are the same. Too large (413) and too fast
(429) through the real hub: tests/security/test_floods.py, on a hub with the default limits.
"""

from __future__ import annotations

import pytest

from tests.api.test_discussions_api import (  # noqa: F401  the same bodies, collected here too
    cl_people,
    test_a_course_the_caller_is_not_in_is_refused,
    test_bad_input_is_a_400_with_a_message_and_writes_nothing,
    test_changes_reach_those_who_may_see_them_within_2_seconds,
    test_learners_share_a_cells_threads_and_counts,
    test_replying_to_an_unknown_thread_or_parent_is_refused,
    test_staff_only_questions_are_hidden_from_peers,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
