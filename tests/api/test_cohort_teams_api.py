"""Teams inside a cohort through the service and its hub (the hub API double here; the group
shape also against the real hub, tests/integration) (docs/cohorts.md "Teams"): the hub group
shape live quizzes read, who may see and change teams, bad input."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.cohorts import Course, course_with_people
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def course(cl_api_hub: Hub) -> Iterator[Course]:
    with course_with_people(cl_api_hub) as c:
        yield c


@pytest.fixture(scope="module")
def red(course: Course) -> dict:
    """A cohort of ann and bob with team ``a`` of ann (no server is started here)."""
    cohort = course.create([f"{course.prefix}-ann", f"{course.prefix}-bob"])
    body = {"name": "a", "members": [f"{course.prefix}-ann"]}
    course.teach.ok("POST", course.path(cohort["name"], "teams"), body)
    return cohort


@pytest.fixture(scope="module")
def blue(course: Course) -> dict:
    return course.create([f"{course.prefix}-cat"])


def test_a_team_is_the_hub_group_live_quizzes_read(course: Course, red: dict) -> None:
    group = course.hub.admin("GET", f"/groups/team-{course.id}-{red['name']}-a").json()
    assert group["users"] == [f"{course.prefix}-ann"]
    assert group["properties"] == {
        "cohortlab": {"kind": "team", "course": course.id, "cohort": red["name"], "team": "a"}
    }
    # Not a cohort: ann's /me lists only her cohort.
    me = course.person("ann").ok("GET", "me")
    assert [c["name"] for c in me["cohorts"] if c["course"] == course.id] == [red["name"]]


def test_members_and_staff_list_teams_and_others_cannot(
    course: Course, red: dict, blue: dict
) -> None:
    teams = course.path(red["name"], "teams")
    for who in ("ann", "bob", "ment", "teach"):
        listed = course.person(who).ok("GET", teams)["teams"]
        assert [(t["name"], t["members"]) for t in listed] == [("a", [f"{course.prefix}-ann"])]
    assert course.person("ann").ok("GET", course.path(red["name"], "teams", "a"))["team"]
    assert course.person("cat").refused(404, "GET", teams) == "unknown_cohort"
    assert course.person("cat").refused(404, "GET", f"{teams}/a") == "unknown_cohort"
    assert course.person("out").refused(403, "GET", teams) == "not_in_course"


@pytest.mark.parametrize("who", ["ann", "cat", "ment"])
def test_only_instructors_change_teams(course: Course, red: dict, who: str) -> None:
    p, teams = course.prefix, course.path(red["name"], "teams")
    writes = [
        ("POST", teams, {"name": "b"}),
        ("DELETE", f"{teams}/a", None),
        ("PUT", f"{teams}/a/members/{p}-bob", None),
        ("DELETE", f"{teams}/a/members/{p}-ann", None),
    ]
    for method, path, body in writes:
        assert course.person(who).refused(403, method, path, body) == "instructor_only", path
    for method, path, body in writes:
        assert course.person("out").refused(403, method, path, body) == "not_in_course", path
    listed = course.teach.ok("GET", teams)["teams"]
    assert [(t["name"], t["members"]) for t in listed] == [("a", [f"{p}-ann"])]


def test_bad_team_input_is_a_clear_4xx(course: Course, red: dict) -> None:
    p, teach, teams = course.prefix, course.teach, course.path(red["name"], "teams")
    ghost = f"nobody-{secrets.token_hex(3)}"
    cases = [
        (409, "POST", teams, {"name": "a"}, "team_exists"),
        (400, "POST", teams, {"name": "A"}, "invalid_name"),
        (400, "POST", teams, {}, "missing_field"),
        (422, "POST", teams, {"name": "b", "members": [f"{p}-cat"]}, "not_a_cohort_member"),
        (404, "POST", teams, {"name": "b", "members": [ghost]}, "unknown_user"),
        (422, "PUT", f"{teams}/a/members/{p}-dan", None, "not_a_cohort_member"),
        (404, "PUT", f"{teams}/a/members/{ghost}", None, "unknown_user"),
        (404, "PUT", f"{teams}/zz/members/{p}-bob", None, "unknown_team"),
        (404, "DELETE", f"{teams}/a/members/{p}-bob", None, "not_a_team_member"),
        (404, "DELETE", f"{teams}/zz", None, "unknown_team"),
        (404, "GET", course.path("no-such-cohort", "teams"), None, "unknown_cohort"),
    ]
    for status, method, path, body, code in cases:
        assert teach.refused(status, method, path, body) == code, (method, path, body)
    assert (
        course.hub.api(
            "GET", f"/hub/api/groups/team-{course.id}-{red['name']}-b", course.hub.admin_token
        ).status_code
        == 404
    )


def test_team_changes_and_leaving_the_cohort(course: Course) -> None:
    p, teach = course.prefix, course.teach
    cohort = course.create([f"{p}-ann", f"{p}-bob", f"{p}-dan"])
    teams = course.path(cohort["name"], "teams")
    made = teach.call("POST", teams, {"name": "x", "members": [f"{p}-ann"]})
    assert made.status_code == 201
    added = teach.call("PUT", f"{teams}/x/members/{p}-bob")
    again = teach.call("PUT", f"{teams}/x/members/{p}-bob")
    assert (added.status_code, added.json()["changed"]) == (201, True)
    assert (again.status_code, again.json()["changed"]) == (200, False)
    teach.ok("POST", teams, {"name": "y", "members": [f"{p}-bob", f"{p}-dan"]})
    # bob leaves the cohort: he leaves its teams too.
    teach.ok("DELETE", course.path(cohort["name"], "members", f"{p}-bob"))
    listed = {t["name"]: t["members"] for t in teach.ok("GET", teams)["teams"]}
    assert listed == {"x": [f"{p}-ann"], "y": [f"{p}-dan"]}
    gone = teach.ok("DELETE", f"{teams}/y")["team"]
    assert gone["name"] == "y"
    assert [t["name"] for t in teach.ok("GET", teams)["teams"]] == ["x"]
    assert f"{p}-dan" in teach.ok("GET", course.path(cohort["name"]))["cohort"]["members"]
