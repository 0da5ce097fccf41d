"""The service refuses a cohort workspace's shared account, whoever presents its token."""

from __future__ import annotations

import pytest
from cohortlab.cohorts.manage import WORKSPACES_GROUP
from cohortlab.errors import APIError
from cohortlab.service.base import refuse_workspace_account


def test_a_workspace_account_is_refused_with_a_message() -> None:
    with pytest.raises(APIError) as refused:
        refuse_workspace_account(
            {"kind": "user", "name": "cohort-demo101-red", "groups": [WORKSPACES_GROUP]}
        )
    assert (refused.value.status_code, refused.value.code) == (403, "workspace_account")
    assert "your own session" in refused.value.message


@pytest.mark.parametrize(
    "model",
    [
        {"kind": "user", "name": "ada", "groups": ["nbgrader-demo101", "cohort-demo101-red"]},
        {"kind": "user", "name": "ada"},
        {"kind": "service", "name": "cohortlab-workspaces", "groups": []},
    ],
)
def test_people_and_services_pass(model: dict) -> None:
    refuse_workspace_account(model)
