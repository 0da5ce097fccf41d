"""Cohort management through the service against the real hub: groups, collaboration
accounts, and workspace access as per-person JupyterHub shares (docs/cohorts.md).

The hub is shared with other test files, so this module makes its own course with its
own people (hub users only; they never log in or start servers) and unique cohort names,
and removes them afterwards. Workspace servers do start: as system accounts the hub's
spawn hook creates, which the module deletes again at the end.
"""

from __future__ import annotations

import pwd
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial

import pytest
import requests
from cohortlab.cohorts.hubhooks import WORKSPACE_AUTH_CACHE
from cohortlab.cohorts.manage import WORKSPACES_GROUP

from tests.helpers.api import Person
from tests.helpers.hub import Hub, browser_session
from tests.helpers.waiting import wait_until

#: How long a removed member may still get through: the workspace server's auth cache
#: (the hub's spawn hook sets it), plus a margin for the poll and the proxy.
REVOCATION_BOUND = WORKSPACE_AUTH_CACHE + 10


@dataclass
class Course:
    hub: Hub
    id: str
    prefix: str
    accounts: list[str] = field(default_factory=list)

    def person(self, role: str) -> Person:
        return Person(self.hub, f"{self.prefix}-{role}")

    @property
    def teach(self) -> Person:
        return self.person("teach")

    def cohort_name(self) -> str:
        return f"k{secrets.token_hex(3)}"

    def path(self, *parts: str) -> str:
        return "/".join(["courses", self.id, "cohorts", *parts])

    def create(self, members: list[str], name: str | None = None) -> dict:
        cohort = self.teach.ok(
            "POST", self.path(), {"name": name or self.cohort_name(), "members": members}
        )["cohort"]
        self.accounts.append(cohort["account"])
        return cohort

    def group(self, name: str) -> dict | None:
        resp = self.hub.api("GET", f"/hub/api/groups/cohort-{self.id}-{name}", self.hub.admin_token)
        return resp.json() if resp.status_code == 200 else None

    def workspace_status(self, account: str, who: str) -> int:
        resp = self.hub.api("GET", f"/user/{account}/api/status", self.hub.token_for(who))
        return resp.status_code

    def server(self, account: str) -> dict:
        return self.hub.admin("GET", f"/users/{account}").json().get("servers", {})


ROLES = {
    "teach": "formgrade",
    "ment": "mentor",
    "ann": "nbgrader",
    "bob": "nbgrader",
    "cat": "nbgrader",
    "dan": "nbgrader",
    "out": None,
}


@contextmanager
def course_with_people(hub: Hub) -> Iterator[Course]:
    """A course of its own with the people of ``ROLES``, removed again afterwards (with
    every cohort, team and workspace made in it). Other cohort test modules use it too."""
    tag = secrets.token_hex(3)
    c = Course(hub, f"co{tag}", f"p{tag}")
    names = {role: f"{c.prefix}-{role}" for role in ROLES}
    for name in names.values():
        hub.admin("POST", f"/users/{name}")
    groups = [f"formgrade-{c.id}", f"mentor-{c.id}", f"nbgrader-{c.id}"]
    for group in groups:
        prefix = group.split("-")[0]
        users = [names[r] for r, g in ROLES.items() if g == prefix]
        hub.admin("POST", f"/groups/{group}", json={"users": users})
    try:
        yield c
    finally:
        _clean_up(hub, c, list(names.values()), groups)


@pytest.fixture(scope="module")
def course(cl_hub: Hub) -> Iterator[Course]:
    with course_with_people(cl_hub) as c:
        yield c


def _clean_up(hub: Hub, c: Course, people: list[str], groups: list[str]) -> None:
    """Stop workspace servers, delete their system accounts and this module's hub data."""
    for account in c.accounts:
        hub.api("DELETE", f"/hub/api/users/{account}/server", hub.admin_token)
    for account in c.accounts:
        with suppress(AssertionError):  # clean-up goes on either way
            wait_until(
                partial(_server_gone, hub, c, account),
                timeout=30,
                interval=0.5,
                what=f"{account}'s server to stop",
            )
        hub.api("DELETE", f"/hub/api/users/{account}", hub.admin_token)
        try:
            pwd.getpwnam(account)
        except KeyError:
            continue
        subprocess.run(["userdel", "--remove", account], check=False, capture_output=True)
    groups_now = hub.admin("GET", "/groups").json()
    for group in groups_now:
        name = group["name"]
        if name.startswith((f"cohort-{c.id}-", f"team-{c.id}-")) or name in groups:
            hub.api("DELETE", f"/hub/api/groups/{name}", hub.admin_token)
    for name in people:
        hub.api("DELETE", f"/hub/api/users/{name}", hub.admin_token)


def _hub_user(hub: Hub, name: str) -> bool:
    return hub.api("GET", f"/hub/api/users/{name}", hub.admin_token).status_code == 200


def _server_gone(hub: Hub, c: Course, account: str) -> bool:
    return not (_hub_user(hub, account) and c.server(account))


@pytest.fixture(scope="module")
def workspace(course: Course) -> dict:
    """A cohort of ann and bob with its workspace server running (shared, read-only use)."""
    cohort = course.create([f"{course.prefix}-ann", f"{course.prefix}-bob"])
    course.hub.start_server(cohort["account"])
    return cohort


@pytest.fixture(scope="module")
def other(course: Course) -> dict:
    """Another cohort of the course, of cat: a learner of another cohort."""
    return course.create([f"{course.prefix}-cat"])


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


# --- who may list, open and change -------------------------------------------------------


def test_a_learner_lists_and_opens_only_their_own_cohorts(
    course: Course, workspace: dict, other: dict
) -> None:
    cat = course.person("cat")
    assert [c["name"] for c in cat.ok("GET", course.path())["cohorts"]] == [other["name"]]
    assert cat.ok("GET", course.path(other["name"]))["cohort"]["members"] == [cat.name]
    assert "access" not in cat.ok("GET", course.path(other["name"]))["cohort"]
    assert cat.refused(404, "GET", course.path(workspace["name"])) == "unknown_cohort"
    assert cat.refused(404, "GET", course.path(workspace["name"], "members")) == "unknown_cohort"


def test_staff_list_every_cohort(course: Course, workspace: dict, other: dict) -> None:
    for role in ("teach", "ment"):
        names = {c["name"] for c in course.person(role).ok("GET", course.path())["cohorts"]}
        assert {workspace["name"], other["name"]} <= names
    mentor_view = course.person("ment").ok("GET", course.path(workspace["name"]))["cohort"]
    assert "access" not in mentor_view


def _writes(course: Course, cohort: str) -> list[tuple[str, str, dict | None]]:
    p = course.prefix
    return [
        ("POST", course.path(), {"name": course.cohort_name()}),
        ("PUT", course.path(cohort, "members", f"{p}-dan"), None),
        ("DELETE", course.path(cohort, "members", f"{p}-ann"), None),
        ("POST", course.path(cohort, "archive"), None),
        ("POST", course.path(cohort, "sync"), None),
    ]


@pytest.mark.parametrize("who", ["ann", "cat", "ment"])
def test_only_instructors_change_cohorts(course: Course, workspace: dict, who: str) -> None:
    person = course.person(who)
    for method, path, body in _writes(course, workspace["name"]):
        assert person.refused(403, method, path, body) == "instructor_only", (method, path)
    after = course.teach.ok("GET", course.path(workspace["name"]))["cohort"]
    assert after["members"] == workspace["members"]
    assert after["archived"] is False


def test_people_outside_the_course_are_refused_everywhere(course: Course, workspace: dict) -> None:
    out = course.person("out")
    reads = [("GET", course.path(), None), ("GET", course.path(workspace["name"]), None)]
    reads.append(("GET", course.path(workspace["name"], "members"), None))
    for method, path, body in reads + _writes(course, workspace["name"]):
        assert out.refused(403, method, path, body) == "not_in_course", (method, path)


def test_an_unknown_course_is_404_for_everyone(course: Course) -> None:
    for who in ("teach", "out"):
        code = course.person(who).refused(404, "GET", "courses/no-such-course/cohorts")
        assert code == "unknown_course"
    code = course.teach.refused(404, "POST", "courses/no-such-course/cohorts", {"name": "x"})
    assert code == "unknown_course"


# --- bad input: clear 4xx, nothing half-made ---------------------------------------------


def test_a_duplicate_name_is_409_and_leaves_the_cohort_alone(
    course: Course, workspace: dict
) -> None:
    body = {"name": workspace["name"], "members": [f"{course.prefix}-dan"]}
    assert course.teach.refused(409, "POST", course.path(), body) == "cohort_exists"
    assert sorted(course.group(workspace["name"])["users"]) == workspace["members"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "Red"}, 400, "invalid_name"),
        ({"name": "-red"}, 400, "invalid_name"),
        ({"name": "x" * 33}, 400, "invalid_name"),
        ({"name": "a_b"}, 400, "invalid_name"),
        ({}, 400, "missing_field"),
        ({"name": "ok", "colour": "red"}, 400, "unknown_field"),
        ({"name": "ok", "members": "ann"}, 400, "invalid_field"),
        ("not json", 400, "invalid_json"),
    ],
)
def test_bad_create_bodies_are_400(course: Course, body: object, status: int, code: str) -> None:
    assert course.teach.refused(status, "POST", course.path(), body) == code


@pytest.mark.parametrize(
    ("member", "status", "code"),
    [
        ("nobody-{tag}", 404, "unknown_user"),
        ("{p}-out", 422, "not_in_course"),
        ("{p}-teach", 409, "instructor_has_access"),
    ],
)
def test_bad_members_refuse_the_create_before_anything_is_made(
    course: Course, member: str, status: int, code: str
) -> None:
    name = course.cohort_name()
    member = member.format(tag=secrets.token_hex(3), p=course.prefix)
    body = {"name": name, "members": [f"{course.prefix}-dan", member]}
    assert course.teach.refused(status, "POST", course.path(), body) == code
    assert course.group(name) is None
    assert not _hub_user(course.hub, f"cohort-{course.id}-{name}")


def test_a_failed_account_creation_removes_the_group_again(course: Course) -> None:
    name = course.cohort_name()
    account = f"cohort-{course.id}-{name}"
    course.hub.admin("POST", f"/users/{account}")  # the name is taken: creating it fails
    course.accounts.append(account)
    body = {"name": name, "members": [f"{course.prefix}-dan"]}
    assert course.teach.refused(409, "POST", course.path(), body) == "account_taken"
    assert course.group(name) is None
    assert course.hub.admin("GET", f"/users/{account}").json()["groups"] == []
    # The name is free again once the clash is gone: nothing of the failed try is left.
    course.hub.admin("DELETE", f"/users/{account}")
    created = course.create([f"{course.prefix}-dan"], name=name)
    assert created["members"] == [f"{course.prefix}-dan"]


def test_member_changes_with_bad_input_are_clear_4xx(course: Course, workspace: dict) -> None:
    p, teach, name = course.prefix, course.teach, workspace["name"]
    ghost = f"nobody-{secrets.token_hex(3)}"
    cases = [
        (404, "PUT", course.path(name, "members", ghost), "unknown_user"),
        (422, "PUT", course.path(name, "members", f"{p}-out"), "not_in_course"),
        (409, "PUT", course.path(name, "members", f"{p}-teach"), "instructor_has_access"),
        (404, "DELETE", course.path(name, "members", ghost), "unknown_user"),
        (404, "DELETE", course.path(name, "members", f"{p}-dan"), "not_a_member"),
        (409, "DELETE", course.path(name, "members", f"{p}-teach"), "instructor_keeps_access"),
        (404, "PUT", course.path("no-such-cohort", "members", f"{p}-dan"), "unknown_cohort"),
        (400, "GET", course.path("Bad_Name"), "invalid_name"),
        (404, "POST", course.path("no-such-cohort", "archive"), "unknown_cohort"),
    ]
    for status, method, path, code in cases:
        assert teach.refused(status, method, path) == code, (method, path)
    assert course.group(name)["users"] == workspace["members"]


# --- membership changes, sync, removal and archive ---------------------------------------


def test_adding_is_idempotent_and_sync_repairs_edits_made_in_the_hub(course: Course) -> None:
    p, teach = course.prefix, course.teach
    cohort = course.create([f"{p}-ann"])
    name = cohort["name"]
    first = teach.call("PUT", course.path(name, "members", f"{p}-dan"))
    again = teach.call("PUT", course.path(name, "members", f"{p}-dan"))
    assert (first.status_code, first.json()["added"]) == (201, True)
    assert (again.status_code, again.json()["added"]) == (200, False)
    assert teach.ok("GET", course.path(name))["cohort"]["access"] == [
        f"{p}-ann",
        f"{p}-dan",
        f"{p}-teach",
    ]
    # An admin edits the group in the hub directly: access follows on sync, both ways. The
    # service's own watch of the hub's groups (cohorts/watch.py) syncs a new cohort's group,
    # one that lost a member, and every cohort now and then: when it got there first, this
    # sync finds nothing left to change (what it reports, share_changes, is unit-tested).
    course.hub.admin("POST", f"/groups/{cohort['group']}/users", json={"users": [f"{p}-bob"]})
    synced = teach.ok("POST", course.path(name, "sync"))
    assert synced["granted"] in ([f"{p}-bob"], []) and synced["revoked"] == [], synced
    assert teach.ok("GET", course.path(name))["cohort"]["access"] == [
        f"{p}-ann",
        f"{p}-bob",
        f"{p}-dan",
        f"{p}-teach",
    ]
    course.hub.admin("DELETE", f"/groups/{cohort['group']}/users", json={"users": [f"{p}-ann"]})
    synced = teach.ok("POST", course.path(name, "sync"))
    assert synced["granted"] == [] and synced["revoked"] in ([f"{p}-ann"], []), synced
    assert teach.ok("GET", course.path(name))["cohort"]["access"] == [
        f"{p}-bob",
        f"{p}-dan",
        f"{p}-teach",
    ]
    synced = teach.ok("POST", course.path(name, "sync"))
    assert (synced["granted"], synced["revoked"], synced["created_account"]) == ([], [], False)


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
    assert _hub_user(course.hub, account)
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
