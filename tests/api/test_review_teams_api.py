"""Cohort teams in peer review through the service and its hub (the hub API double here): team
groups made on the hub (``team-<course>-<cohort>-<team>`` with their properties, as the cohorts API
makes them) reach the allocation, so a round with ``separate_teams`` never gives a reviewer a
teammate's work; a team rule the class cannot meet is refused with a sentence that says why, before
any upload."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cohortlab.cohorts.teams import team_group, team_properties

from tests.api.test_reviews_api import (
    COURSE,
    LEARNERS,
    RUBRIC,
    open_round,
    path,
    staff_view,
)
from tests.helpers.api import Person
from tests.helpers.hub import Hub


@pytest.fixture(scope="module")
def people(cl_api_hub: Hub) -> dict[str, Person]:
    return {n: Person(cl_api_hub, n) for n in [*LEARNERS, "mentor", "instructor"]}


@pytest.fixture
def teams(cl_api_hub: Hub) -> Iterator[Any]:
    """Make team groups on the hub for the test (a cohort name of its own); removed after."""
    cohort = f"rv{uuid.uuid4().hex[:6]}"
    made: list[str] = []

    def make(spec: dict[str, list[str]]) -> dict[str, set[str]]:
        of: dict[str, set[str]] = {}
        for team, members in spec.items():
            group = team_group(COURSE, cohort, team)
            cl_api_hub.admin("POST", f"/groups/{group}", json={"users": members})
            cl_api_hub.admin(
                "PUT", f"/groups/{group}/properties", json=team_properties(COURSE, cohort, team)
            )
            made.append(group)
            for member in members:
                of.setdefault(member, set()).add(team)
        return of

    yield make
    for group in made:
        cl_api_hub.api("DELETE", f"/hub/api/groups/{group}", cl_api_hub.admin_token)


def test_separate_teams_keeps_teammates_off_each_others_work(
    people: dict[str, Person], teams: Any
) -> None:
    of = teams({"a": ["ada", "ben", "dee"], "b": ["cy", "eli"]})
    assignment = open_round(people, separate_teams=True)
    view = staff_view(people, assignment)
    assert view["round"]["separate_teams"] is True
    for sub in view["submissions"]:
        assert len(sub["reviewers"]) == 2
        for reviewer in sub["reviewers"]:
            shared = of.get(reviewer["user"], set()) & of.get(sub["author"], set())
            assert not shared, (reviewer["user"], sub["author"])
    # the rule holds on re-runs too, and cannot be turned off
    teacher = people["instructor"]
    body = {"authors": LEARNERS, "separate_teams": False}
    code = teacher.refused(409, "POST", path(assignment, "/uploads"), body)
    assert code == "constraints_changed"


def test_a_team_rule_the_class_cannot_meet_is_refused_saying_why(
    people: dict[str, Person], teams: Any
) -> None:
    teams({"all": ["ada", "ben", "cy", "dee", "eli"]})
    assignment = f"hw-{uuid.uuid4().hex[:8]}"
    body = {"authors": LEARNERS, "criteria": RUBRIC, "k": 2, "separate_teams": True}
    resp = people["instructor"].call("POST", path(assignment, "/uploads"), body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "constraint_unsatisfiable"
    assert "Never the same team" in error["message"] and "/all'" in error["message"]
    assert "allocate without this rule" in error["message"]
    people["instructor"].refused(404, "GET", path(assignment))  # no round, not even a partial
    # without the rule, the same class is fine
    open_round(people, assignment=assignment)
