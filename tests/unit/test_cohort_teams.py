"""Teams inside a cohort against the in-memory hub of ``test_cohorts_hub``: the group shape
live quizzes read, members from the cohort only, clashes, archived cohorts, leaving."""

from __future__ import annotations

import pytest
from cohortlab.cohorts import hub as ops
from cohortlab.cohorts import teams
from cohortlab.cohorts.manage import NewCohort
from cohortlab.courses import course_members, membership
from cohortlab.errors import APIError

from tests.unit.test_cohorts_hub import COURSE, FakeHub

RED = f"cohort-{COURSE}-red"


@pytest.fixture
async def hub() -> FakeHub:
    fake = FakeHub()
    fake.add_group(f"nbgrader-{COURSE}", ["ada", "ben", "cy", "dee"])
    fake.add_group(f"formgrade-{COURSE}", ["inst"])
    await ops.create_cohort(fake, COURSE, NewCohort("red", ("ada", "ben", "cy")))
    await ops.create_cohort(fake, COURSE, NewCohort("blue", ("dee",)))
    return fake


def code(exc: pytest.ExceptionInfo[APIError]) -> tuple[int, str]:
    return exc.value.status_code, exc.value.code


async def test_a_team_is_a_hub_group_with_the_properties_live_quizzes_read(hub: FakeHub) -> None:
    team = await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada", "ben")))
    assert (team.group, team.members) == (f"team-{COURSE}-red-a", ("ada", "ben"))
    group = hub.groups[team.group]
    assert group["users"] == ["ada", "ben"]
    assert group["properties"] == {
        "cohortlab": {"kind": "team", "course": COURSE, "cohort": "red", "team": "a"}
    }
    cohort = await ops.load_cohort(hub, COURSE, "red")
    assert [t.name for t in await teams.list_teams(hub, cohort)] == ["a"]
    # Never read as a cohort: not by cohort listing, the roster reviews use, or /me.
    assert [c.name for c in await ops.list_cohorts(hub, COURSE)] == ["blue", "red"]
    users = {name: g["users"] for name, g in hub.groups.items()}
    props = {name: g["properties"] for name, g in hub.groups.items()}
    assert course_members(COURSE, users, props)["ada"] == ("learner", frozenset({"red"}))
    assert [c.name for c in membership(hub.users["ada"], props).cohorts] == ["red"]


async def test_team_members_must_be_cohort_members(hub: FakeHub) -> None:
    with pytest.raises(APIError) as exc:
        await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada", "dee")))
    assert code(exc) == (422, "not_a_cohort_member") and "dee" in exc.value.message
    assert f"team-{COURSE}-red-a" not in hub.groups
    await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada",)))
    with pytest.raises(APIError) as exc:
        await teams.change_team_member(hub, COURSE, "red", "a", "dee", add=True)
    assert code(exc) == (422, "not_a_cohort_member")


async def test_adding_and_removing_members_is_idempotent_and_clear(hub: FakeHub) -> None:
    await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ()))
    team, changed = await teams.change_team_member(hub, COURSE, "red", "a", "ben", add=True)
    assert (team.members, changed) == (("ben",), True)
    team, changed = await teams.change_team_member(hub, COURSE, "red", "a", "ben", add=True)
    assert changed is False
    team, changed = await teams.change_team_member(hub, COURSE, "red", "a", "ben", add=False)
    assert (team.members, changed) == ((), True)
    with pytest.raises(APIError) as exc:
        await teams.change_team_member(hub, COURSE, "red", "a", "ben", add=False)
    assert code(exc) == (404, "not_a_team_member")
    with pytest.raises(APIError) as exc:
        await teams.change_team_member(hub, COURSE, "red", "zz", "ben", add=True)
    assert code(exc) == (404, "unknown_team")


async def test_duplicate_names_and_clashing_groups_are_409(hub: FakeHub) -> None:
    await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada",)))
    with pytest.raises(APIError) as exc:
        await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ben",)))
    assert code(exc) == (409, "team_exists")
    assert hub.groups[f"team-{COURSE}-red-a"]["users"] == ["ada"]
    hub.add_group(f"team-{COURSE}-red-x", ["cy"])  # someone's group, not a team
    with pytest.raises(APIError) as exc:
        await teams.create_team(hub, COURSE, "red", teams.NewTeam("x", ()))
    assert code(exc) == (409, "team_name_taken")
    assert hub.groups[f"team-{COURSE}-red-x"]["properties"] == {}  # never taken over


async def test_a_failed_marking_deletes_the_new_group_again(hub: FakeHub) -> None:
    hub.fail[("PUT", rf"/groups/team-{COURSE}-red-a/properties")] = 500
    with pytest.raises(APIError) as exc:
        await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada",)))
    assert code(exc) == (502, "hub_error")
    assert f"team-{COURSE}-red-a" not in hub.groups


async def test_leaving_the_cohort_leaves_its_teams_and_deleting_a_team_keeps_members(
    hub: FakeHub,
) -> None:
    await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada", "ben")))
    await teams.create_team(hub, COURSE, "red", teams.NewTeam("b", ("ben", "cy")))
    await ops.remove_member(hub, COURSE, "red", "ben")
    assert hub.groups[f"team-{COURSE}-red-a"]["users"] == ["ada"]
    assert hub.groups[f"team-{COURSE}-red-b"]["users"] == ["cy"]
    await teams.delete_team(hub, COURSE, "red", "a")
    assert f"team-{COURSE}-red-a" not in hub.groups
    assert "ada" in hub.groups[RED]["users"]


async def test_an_archived_cohorts_teams_stay_but_do_not_change(hub: FakeHub) -> None:
    await teams.create_team(hub, COURSE, "red", teams.NewTeam("a", ("ada",)))
    await ops.archive(hub, COURSE, "red")
    attempts = [
        teams.create_team(hub, COURSE, "red", teams.NewTeam("b", ())),
        teams.change_team_member(hub, COURSE, "red", "a", "ben", add=True),
        teams.delete_team(hub, COURSE, "red", "a"),
    ]
    for attempt in attempts:
        with pytest.raises(APIError) as exc:
            await attempt
        assert code(exc) == (409, "cohort_archived")
    cohort = await ops.load_cohort(hub, COURSE, "red")
    assert [t.members for t in await teams.list_teams(hub, cohort)] == [("ada",)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "missing_field"),
        ({"name": "A"}, "invalid_name"),
        ({"name": "a", "members": "ada"}, "invalid_field"),
        ({"name": "a", "size": 3}, "unknown_field"),
        ({"name": "a", "members": ["a/b"]}, "invalid_user"),
    ],
)
def test_bad_team_bodies_are_400(body: dict[str, object], expected: str) -> None:
    with pytest.raises(APIError) as exc:
        teams.new_team(body)
    assert code(exc) == (400, expected)


def test_a_group_is_a_team_only_when_its_name_matches_its_properties() -> None:
    props = {"cohortlab": {"kind": "team", "course": COURSE, "cohort": "red", "team": "a"}}
    good = {"name": f"team-{COURSE}-red-a", "users": ["b", "a"], "properties": props}
    assert teams.TeamState.from_group(good).members == ("a", "b")  # type: ignore[union-attr]
    assert teams.TeamState.from_group({**good, "name": f"team-{COURSE}-blue-a"}) is None
    assert teams.TeamState.from_group({**good, "properties": {}}) is None
