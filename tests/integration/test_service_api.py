"""The service behind the real hub, through its proxy on the service's own origin: who is
calling comes only from JupyterHub (tokens here; the browser's cookie in
test_oauth_session.py), and each refusal class has the one error shape. Every rule runs
against the hub API double in tests/api/test_service_api.py; these bodies are the same ones.
"""

from __future__ import annotations

import pytest

from tests.api.test_service_api import (  # noqa: F401  the same bodies, collected here too
    test_a_bad_token_is_401,
    test_a_hub_service_without_access_is_refused,
    test_cohort_with_a_dashed_course_id_parses_through_group_properties,
    test_event_stream_delivers_only_my_own_events,
    test_event_stream_refuses_a_caller_without_a_token,
    test_me_is_always_the_token_owner_whatever_the_request_claims,
    test_me_reports_course_role_and_cohorts_from_hub_groups,
    test_no_token_is_401_in_the_one_error_shape,
)
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub
