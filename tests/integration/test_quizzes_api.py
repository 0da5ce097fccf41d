"""Self-paced quizzes behind the real hub: publishing and a learner's view without the key, a
learner publishing (403), people outside the course (403 everywhere). Every rule runs against the
hub API double in tests/api/test_quizzes_api.py; these bodies are the same."""

from __future__ import annotations

import pytest

from tests.api.test_quizzes_api import (  # noqa: F401  the same bodies, collected here too
    people,
    test_outsiders_are_refused_everywhere,
    test_publish_then_a_learner_sees_questions_without_the_key,
    test_publishing_is_for_instructors_and_checks_the_spec,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
