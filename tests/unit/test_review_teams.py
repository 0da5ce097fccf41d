"""Cohort teams in peer review: the roster knows each person's teams (from the hub's team
groups), and a round with ``separate_teams`` never gives a reviewer a teammate's work, on
every backend; refused, saying why, when the teams make it impossible."""

from __future__ import annotations

from typing import Any

import pytest
from cohortlab.access import Caller
from cohortlab.cohorts.teams import team_group, team_properties
from cohortlab.errors import APIError
from cohortlab.reviews import records
from cohortlab.reviews.state import TeamRoster, course_teams, team_of

from tests.unit import test_review_store as store
from tests.unit.test_review_store import LEARNERS, NOW, RUBRIC, refused, run, staff_view

factory = store.factory
people = store.people

# team "x" in both cohorts: two different teams that share a name
TEAMS = {"red/x": ["ada", "ben"], "red/y": ["cyrus"], "blue/x": ["dee", "eli"]}


def hub_groups(teams: dict[str, list[str]], course: str = store.COURSE) -> tuple[dict, dict]:
    """The hub's groups as the service caches them: name -> users, name -> properties."""
    users: dict[str, list[str]] = {f"nbgrader-{course}": list(LEARNERS)}
    props: dict[str, dict[str, Any]] = {f"nbgrader-{course}": {}}
    for key, members in teams.items():
        cohort, team = key.split("/")
        group = team_group(course, cohort, team)
        users[group], props[group] = members, team_properties(course, cohort, team)
    return users, props


def team_roster(teams: dict[str, list[str]]) -> TeamRoster:
    users, props = hub_groups(teams)
    return TeamRoster(store.roster(), course_teams(store.COURSE, users, props))


def open_with(
    factory: Any, people: dict[str, Caller], roster: TeamRoster, **settings: Any
) -> dict[str, Any]:
    body = {"authors": LEARNERS, "criteria": RUBRIC, "k": 2, **settings}
    teacher = people["teacher"]
    upload = run(factory, records.start_upload, teacher, "hw", body, roster)["upload"]
    for author in upload["to_upload"]:
        store.stage(factory, people, upload, author)
    summary, _told = run(factory, records.commit_upload, teacher, "hw", upload["id"], roster, NOW)
    return summary


def teammates(roster: TeamRoster, a: str, b: str) -> bool:
    return bool(roster.teams.get(a, frozenset()) & roster.teams.get(b, frozenset()))


def test_teams_come_from_the_hubs_team_groups_of_the_course() -> None:
    users, props = hub_groups({**TEAMS, "blue/z": ["fay"]})
    # not teams: a group whose name does not match its properties, another course's team,
    # a group with no properties, and a cohort group
    users["team-c1-red-q"], props["team-c1-red-q"] = ["fay"], team_properties("c1", "red", "w")
    users["team-c2-red-x"], props["team-c2-red-x"] = ["fay"], team_properties("c2", "red", "x")
    users["team-c1-blue-v"], props["team-c1-blue-v"] = ["fay"], {}
    users["cohort-c1-red"] = ["ada", "ben", "cyrus"]
    props["cohort-c1-red"] = {"cohortlab": {"kind": "cohort", "course": "c1", "cohort": "red"}}
    teams = course_teams("c1", users, props)
    assert teams == {
        "ada": {"red/x"}, "ben": {"red/x"}, "cyrus": {"red/y"},
        "dee": {"blue/x"}, "eli": {"blue/x"}, "fay": {"blue/z"},
    }  # fmt: skip
    roster = TeamRoster(store.roster(), teams)
    assert dict(roster) == store.roster()  # the shared roster, unchanged
    assert team_of(roster, "ada") == "red/x" and team_of(roster, "teacher") is None
    assert team_of(store.roster(), "ada") is None  # a roster without teams: nobody in one
    both = TeamRoster(store.roster(), {"fay": frozenset({"red/x", "blue/x"})})
    assert team_of(both, "fay") == "blue/x+red/x"


def test_separate_teams_never_gives_a_reviewer_a_teammates_work(
    factory: Any, people: dict[str, Caller]
) -> None:
    roster = team_roster(TEAMS)
    summary = open_with(factory, people, roster, separate_teams=True)
    assert summary["round"]["separate_teams"] is True and summary["added_assignments"] == 12
    view = staff_view(factory, people)
    assert view["round"]["separate_teams"] is True
    for sub in view["submissions"]:
        assert len(sub["reviewers"]) == 2
        for r in sub["reviewers"]:
            assert not teammates(roster, r["user"], sub["author"]), (r["user"], sub["author"])
    # red's team x and blue's team x are different teams: not a clash
    assert team_of(roster, "ada") == "red/x" != team_of(roster, "dee") == "blue/x"


def test_someone_in_two_teams_reviews_neither_teams_work(
    factory: Any, people: dict[str, Caller]
) -> None:
    teams = {**TEAMS, "red/x": ["ada", "ben", "fay"], "blue/x": ["dee", "eli", "fay"]}
    roster = team_roster(teams)
    assert team_of(roster, "fay") == "blue/x+red/x"
    open_with(factory, people, roster, separate_teams=True, k=1)
    for sub in staff_view(factory, people)["submissions"]:
        [reviewer] = [r["user"] for r in sub["reviewers"]]
        assert not teammates(roster, reviewer, sub["author"]), (reviewer, sub["author"])
        if sub["author"] == "fay":
            assert reviewer == "cyrus"  # the only one in neither of fay's teams


def test_a_team_rule_that_cannot_be_met_is_refused_before_any_upload(
    factory: Any, people: dict[str, Caller]
) -> None:
    roster = team_roster({"red/x": ["ada", "ben", "cyrus", "dee", "eli"]})
    body = {"authors": LEARNERS, "criteria": RUBRIC, "k": 2, "separate_teams": True}
    with pytest.raises(APIError) as info:
        run(factory, records.start_upload, people["teacher"], "hw", body, roster)
    error = info.value
    assert error.status_code == 400 and error.code == "constraint_unsatisfiable"
    assert "Never the same team" in error.message and "team 'red/x'" in error.message
    assert "allocate without this rule" in error.message
    # without the rule the same people are fine
    open_with(factory, people, roster, separate_teams=False)


def test_the_team_rule_is_fixed_once_reviewers_are_allocated(
    factory: Any, people: dict[str, Caller]
) -> None:
    roster = team_roster(TEAMS)
    open_with(factory, people, roster, separate_teams=True)
    teacher = people["teacher"]
    body = {"authors": LEARNERS, "separate_teams": False}
    assert refused(409, factory, records.start_upload, teacher, "hw", body, roster) == (
        "constraints_changed"
    )
    body = {"authors": LEARNERS, "separate_teams": "yes"}
    assert refused(400, factory, records.start_upload, teacher, "hw", body, roster) == (
        "invalid_settings"
    )
    # a re-run that leaves the rule out keeps it
    summary = open_with(factory, people, roster)
    assert summary["round"]["separate_teams"] is True and summary["added_assignments"] == 0
