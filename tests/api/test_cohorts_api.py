"""Cohort management through the service and its hub (the hub API double here): who may list,
open and change cohorts, clear 4xx for bad input with nothing half-made, and access (per-person
JupyterHub shares, docs/cohorts.md) following membership. The workspace servers themselves, and
the same rules for some of these bodies, are tested against the real hub in
tests/integration/test_cohorts_api.py.

The module makes its own course with its own people (tests/helpers/cohorts.py) and unique
cohort names, and removes them afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.cohorts import Course, course_with_people, hub_user
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def course(cl_api_hub: Hub) -> Iterator[Course]:
    with course_with_people(cl_api_hub) as c:
        yield c


@pytest.fixture(scope="module")
def workspace(course: Course) -> dict:
    """A cohort of ann and bob (shared, read-only use; no server runs in the hub double)."""
    return course.create([f"{course.prefix}-ann", f"{course.prefix}-bob"])


@pytest.fixture(scope="module")
def other(course: Course) -> dict:
    """Another cohort of the course, of cat: a learner of another cohort."""
    return course.create([f"{course.prefix}-cat"])


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
    assert not hub_user(course.hub, f"cohort-{course.id}-{name}")


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


# --- membership changes and sync ------------------------------------------------------


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
