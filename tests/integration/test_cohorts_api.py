"""Cohort management through the service against the real hub: groups, collaboration
accounts, and workspace access as per-person JupyterHub shares (docs/cohorts.md), with the
workspace servers running. Who may list, open and change cohorts and every bad input run
against the hub API double in tests/api/test_cohorts_api.py; people outside the course and a
sync of edits made in the hub run here too, with the same bodies.

The hub is shared with other test files, so this module makes its own course with its
own people (hub users only; they never log in or start servers) and unique cohort names,
and removes them afterwards. Workspace servers do start: as system accounts the hub's
spawn hook creates, which the module deletes again at the end.
"""

from __future__ import annotations

import pytest
import requests
from cohortlab.cohorts.hubhooks import WORKSPACE_AUTH_CACHE
from cohortlab.cohorts.manage import WORKSPACES_GROUP

from tests.api import test_cohorts_api as shared
from tests.api.test_cohorts_api import (  # noqa: F401  the same bodies, collected here too
    test_adding_is_idempotent_and_sync_repairs_edits_made_in_the_hub,
    test_people_outside_the_course_are_refused_everywhere,
)
from tests.helpers.cohorts import Course, hub_user
from tests.helpers.hub import Hub, browser_session
from tests.helpers.waiting import wait_until

#: How long a removed member may still get through: the workspace server's auth cache
#: (the hub's spawn hook sets it), plus a margin for the poll and the proxy.
REVOCATION_BOUND = WORKSPACE_AUTH_CACHE + 10

# The module's course and other cohort as in tests/api; its workspace differs: a server runs.
course = shared.course
other = shared.other


@pytest.fixture(scope="module")
def cl_api_hub(cl_hub: Hub) -> Hub:
    return cl_hub


@pytest.fixture(scope="module")
def workspace(course: Course) -> dict:
    """A cohort of ann and bob with its workspace server running (shared, read-only use)."""
    cohort = course.create([f"{course.prefix}-ann", f"{course.prefix}-bob"])
    course.hub.start_server(cohort["account"])
    return cohort


# --- creating, and who reaches the workspace ---------------------------------------------


def test_instructor_creates_a_cohort_with_group_account_and_properties(
    course: Course, workspace: dict
) -> None:
    p = course.prefix
    assert workspace["members"] == [f"{p}-ann", f"{p}-bob"]
    assert workspace["staff"] == [f"{p}-teach"]
    assert workspace["archived"] is False
    account = workspace["account"]
    assert workspace["workspace_url"] == course.hub.at(f"/user/{account}/")
    group = course.group(workspace["name"])
    assert group is not None
    assert sorted(group["users"]) == [f"{p}-ann", f"{p}-bob"]
    assert group["properties"] == {
        "cohortlab": {
            "kind": "cohort",
            "course": course.id,
            "cohort": workspace["name"],
            "account": workspace["account"],
            "archived": False,
        }
    }
    account = course.hub.admin("GET", f"/users/{workspace['account']}").json()
    assert account["groups"] == [WORKSPACES_GROUP]
    assert account["admin"] is False
    seen = course.teach.ok("GET", course.path(workspace["name"]))["cohort"]
    assert seen["access"] == [f"{p}-ann", f"{p}-bob", f"{p}-teach"]


def test_members_and_instructors_reach_the_workspace_with_their_own_tokens(
    course: Course, workspace: dict
) -> None:
    p = course.prefix
    for who in ("ann", "bob", "teach"):
        assert course.workspace_status(workspace["account"], f"{p}-{who}") == 200, who


@pytest.mark.parametrize("who", ["cat", "ment", "out"])
def test_non_members_are_refused_by_the_workspace(
    course: Course, workspace: dict, other: dict, who: str
) -> None:
    assert course.workspace_status(workspace["account"], f"{course.prefix}-{who}") == 403


def _login(hub: Hub, name: str) -> requests.Response:
    session = browser_session()
    session.get(f"{hub.url}/hub/login", timeout=10)
    return session.post(
        f"{hub.url}/hub/login",
        data={"username": name, "password": "demo", "_xsrf": session.cookies.get("_xsrf", "")},
        allow_redirects=False,
        timeout=10,
    )


def test_a_workspace_account_cannot_log_in_while_people_still_can(
    course: Course, workspace: dict
) -> None:
    refused = _login(course.hub, workspace["account"])
    assert refused.status_code == 403  # the login form again, with an error; no session
    assert "__Host-jupyterhub-hub-login" not in refused.cookies
    person = _login(course.hub, "ada")  # a demo person: the login hook lets people through
    assert person.status_code == 302
    assert "__Host-jupyterhub-hub-login" in person.cookies


# --- removal and archive: the server stops ----------------------------------------------


def test_removing_a_member_revokes_their_access_within_the_auth_cache_period(
    course: Course,
) -> None:
    p, teach = course.prefix, course.teach
    cohort = course.create([f"{p}-ann", f"{p}-bob"])
    course.hub.start_server(cohort["account"])
    assert course.workspace_status(cohort["account"], f"{p}-bob") == 200
    after = teach.ok("DELETE", course.path(cohort["name"], "members", f"{p}-bob"))["cohort"]
    assert after["members"] == [f"{p}-ann"]
    assert teach.ok("GET", course.path(cohort["name"]))["cohort"]["access"] == [
        f"{p}-ann",
        f"{p}-teach",
    ]
    assert course.group(cohort["name"])["users"] == [f"{p}-ann"]
    # the removal stopped the workspace (its token renewed); started again, bob is refused
    assert course.server(cohort["account"]) == {}
    course.hub.start_server(cohort["account"])
    wait_until(
        lambda: course.workspace_status(cohort["account"], f"{p}-bob") == 403,
        timeout=REVOCATION_BOUND,
        interval=1,
        what="bob's access to end (he is still let in)",
    )
    assert course.workspace_status(cohort["account"], f"{p}-ann") == 200
    assert course.person("bob").refused(404, "GET", course.path(cohort["name"]))


def test_archive_stops_the_server_removes_every_share_and_deletes_nothing(
    course: Course,
) -> None:
    p, teach = course.prefix, course.teach
    cohort = course.create([f"{p}-ann", f"{p}-bob"])
    name, account = cohort["name"], cohort["account"]
    course.hub.start_server(account)
    assert course.workspace_status(account, f"{p}-ann") == 200
    result = teach.ok("POST", course.path(name, "archive"))
    assert result["server_stopped"] is True
    assert course.server(account) == {}
    seen = teach.ok("GET", course.path(name))["cohort"]
    assert (seen["archived"], seen["access"]) == (True, [])
    assert seen["members"] == [f"{p}-ann", f"{p}-bob"]  # nothing deleted
    assert course.group(name)["properties"]["cohortlab"]["archived"] is True
    assert hub_user(course.hub, account)
    # Archived cohorts do not change; archiving again and syncing keep nobody's access.
    add = course.path(name, "members", f"{p}-dan")
    assert teach.refused(409, "PUT", add) == "cohort_archived"
    assert teach.ok("POST", course.path(name, "archive"))["cohort"]["archived"] is True
    assert teach.ok("POST", course.path(name, "sync"))["granted"] == []
    # Even if someone starts the server again, no former member gets in.
    course.hub.start_server(account)
    for who in ("ann", "bob", "teach"):
        assert course.workspace_status(account, f"{p}-{who}") == 403, who
    course.hub.api("DELETE", f"/hub/api/users/{account}/server", course.hub.admin_token)
