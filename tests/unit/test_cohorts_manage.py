"""The cohort rules without a hub: names, who may do what, who gets workspace access."""

from __future__ import annotations

import pytest
from cohortlab.access import Caller, require_instructor
from cohortlab.cohorts.manage import (
    ACCOUNT_PREFIX,
    SYSTEM_NAME,
    CohortState,
    account_name,
    can_view,
    check_cohort_name,
    check_new_member,
    check_removal,
    cohort_properties,
    desired_access,
    group_name,
    new_cohort,
    require_active,
    require_view,
    share_changes,
)
from cohortlab.courses import parse_cohort
from cohortlab.errors import APIError
from hypothesis import given
from hypothesis import strategies as st

COURSE = "demo101"
names = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True)
courses = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)
people = st.sets(st.sampled_from(["ada", "ben", "cy", "dee", "eli", "inst", "acct"]))


def caller(name: str, role: str | None, cohorts: frozenset[str] = frozenset()) -> Caller:
    return Caller(name=name, user_id=1, course=COURSE, role=role, cohorts=cohorts)


def cohort(members: tuple[str, ...] = ("ada", "ben"), archived: bool = False) -> CohortState:
    return CohortState(COURSE, "red", "cohort-demo101-red", "cohort-demo101-red", archived, members)


def code(exc: pytest.ExceptionInfo[APIError]) -> tuple[int, str]:
    return exc.value.status_code, exc.value.code


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["red", "team-2", "a", "0", "x" * 32])
def test_valid_cohort_names_are_accepted(name: str) -> None:
    assert check_cohort_name(name) == name


@pytest.mark.parametrize("name", ["", "Red", "-red", "red-", "a_b", "x" * 33, "a/b", 7, None])
def test_invalid_cohort_names_are_400_with_what_a_name_may_be(name: object) -> None:
    with pytest.raises(APIError) as exc:
        check_cohort_name(name)
    assert code(exc) == (400, "invalid_name")
    assert "lowercase" in exc.value.message


def test_the_account_is_named_like_the_group_when_that_is_a_valid_system_name() -> None:
    assert account_name(COURSE, "red") == group_name(COURSE, "red") == "cohort-demo101-red"


def test_a_long_or_odd_course_gets_a_hashed_account_name() -> None:
    long = account_name("data-science-2026", "team-a-long-name")
    assert long.startswith(ACCOUNT_PREFIX) and len(long) == len(ACCOUNT_PREFIX) + 12
    assert account_name("Stats.101", "red").startswith(ACCOUNT_PREFIX)
    assert account_name("Stats.101", "red") != account_name("Stats.101", "blue")
    assert account_name("Stats.101", "red") == account_name("Stats.101", "red")


@given(courses, names)
def test_every_account_name_is_a_valid_system_and_hub_name(course: str, cohort: str) -> None:
    account = account_name(course, cohort)
    assert SYSTEM_NAME.fullmatch(account)
    assert account.startswith(ACCOUNT_PREFIX)
    assert "/" not in account and account == account.strip()


@given(courses, names, courses, names)
def test_different_cohorts_never_share_an_account_unless_they_share_a_group(
    c1: str, n1: str, c2: str, n2: str
) -> None:
    if account_name(c1, n1) == account_name(c2, n2):
        assert group_name(c1, n1) == group_name(c2, n2)


@given(courses, names)
def test_properties_make_the_group_name_parse_back_to_the_cohort(course: str, name: str) -> None:
    props = cohort_properties(course, name, account_name(course, name))
    parsed = parse_cohort(group_name(course, name), props, [])
    assert parsed is not None
    assert (parsed.course, parsed.name) == (course, name)


# --- reading a group ---------------------------------------------------------------------


def test_a_group_reads_as_a_cohort_with_its_account_and_archived_flag() -> None:
    model = {
        "name": "cohort-demo101-red",
        "users": ["ben", "ada"],
        "properties": cohort_properties(COURSE, "red", "cohort-x1", archived=True),
    }
    state = CohortState.from_group(model, [COURSE])
    assert state is not None
    assert (state.account, state.archived, state.members) == ("cohort-x1", True, ("ada", "ben"))


def test_a_cohort_from_the_hub_config_without_an_account_gets_the_derived_one() -> None:
    # load_groups in the hub config rewrites properties at every hub start.
    props = {"cohortlab": {"kind": "cohort", "course": COURSE, "cohort": "red"}}
    state = CohortState.from_group({"name": "cohort-demo101-red", "properties": props}, [])
    assert state is not None
    assert (state.account, state.archived) == ("cohort-demo101-red", False)


def test_an_account_property_that_is_not_a_workspace_name_is_ignored() -> None:
    props = cohort_properties(COURSE, "red", "instructor")
    state = CohortState.from_group({"name": "cohort-demo101-red", "properties": props}, [])
    assert state is not None and state.account == "cohort-demo101-red"


def test_non_cohort_groups_are_not_cohorts() -> None:
    assert CohortState.from_group({"name": "nbgrader-demo101"}, [COURSE]) is None


def test_updating_properties_keeps_what_others_stored_in_the_group() -> None:
    state = CohortState(
        COURSE, "red", "cohort-demo101-red", "cohort-demo101-red", False, (),
        properties={"lti": {"context": "abc"}},
    )  # fmt: skip
    props = state.with_properties(archived=True)
    assert props["lti"] == {"context": "abc"}
    assert props["cohortlab"]["archived"] is True


# --- create bodies -----------------------------------------------------------------------


def test_a_create_body_gives_the_name_and_unique_members_in_order() -> None:
    new = new_cohort({"name": "red", "members": ["ben", "ada", "ben"]})
    assert (new.name, new.members) == ("red", ("ben", "ada"))
    assert new_cohort({"name": "red"}).members == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "missing_field"),
        ({"name": "red", "extra": 1}, "unknown_field"),
        ({"name": "red", "members": "ada"}, "invalid_field"),
        ({"name": "red", "members": ["ada", 3]}, "invalid_user"),
        ({"name": "red", "members": ["a/b"]}, "invalid_user"),
        ({"name": "red", "members": [" ada"]}, "invalid_user"),
        ({"name": "red", "members": ["u"] * 501}, "too_many"),
        ({"name": "Red"}, "invalid_name"),
    ],
)
def test_bad_create_bodies_are_400_before_anything_is_written(
    body: dict[str, object], expected: str
) -> None:
    with pytest.raises(APIError) as exc:
        new_cohort(body)
    assert code(exc) == (400, expected)


# --- who may do what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["learner", "mentor"])
def test_only_instructors_change_cohorts(role: str) -> None:
    with pytest.raises(APIError) as exc:
        require_instructor(caller("x", role), "create cohorts")
    assert code(exc) == (403, "instructor_only")
    require_instructor(caller("x", "instructor"), "create cohorts")


def test_staff_see_every_cohort_and_learners_only_their_own() -> None:
    red = cohort(("ada", "ben"))
    assert can_view(caller("inst", "instructor"), red)
    assert can_view(caller("men", "mentor"), red)
    assert can_view(caller("ada", "learner"), red)
    assert not can_view(caller("dee", "learner", frozenset({"blue"})), red)


def test_a_learner_asking_for_another_cohort_gets_the_unknown_cohort_404() -> None:
    with pytest.raises(APIError) as exc:
        require_view(caller("dee", "learner"), cohort())
    assert code(exc) == (404, "unknown_cohort")


@pytest.mark.parametrize("group", ["nbgrader-demo101", "mentor-demo101"])
def test_learners_and_mentors_of_the_course_can_join(group: str) -> None:
    check_new_member(COURSE, "ada", [group, "cohort-demo101-blue"])


def test_people_outside_the_course_cannot_join() -> None:
    with pytest.raises(APIError) as exc:
        check_new_member(COURSE, "zed", ["nbgrader-other", "cohortlab-workspaces"])
    assert code(exc) == (422, "not_in_course")
    assert "nbgrader-demo101" in exc.value.message


def test_instructors_are_not_added_because_they_always_have_access() -> None:
    with pytest.raises(APIError) as exc:
        check_new_member(COURSE, "inst", ["formgrade-demo101", "nbgrader-demo101"])
    assert code(exc) == (409, "instructor_has_access")


def test_removing_an_instructor_is_refused_so_no_cohort_loses_its_last_one() -> None:
    with pytest.raises(APIError) as exc:
        check_removal(COURSE, cohort(("inst",)), "inst", ["formgrade-demo101"])
    assert code(exc) == (409, "instructor_keeps_access")
    assert "formgrade-demo101" in exc.value.message


def test_removing_someone_who_is_not_a_member_is_404() -> None:
    with pytest.raises(APIError) as exc:
        check_removal(COURSE, cohort(("ada",)), "ben", ["nbgrader-demo101"])
    assert code(exc) == (404, "not_a_member")
    check_removal(COURSE, cohort(("ada",)), "ada", ["nbgrader-demo101"])


def test_an_archived_cohort_does_not_change() -> None:
    with pytest.raises(APIError) as exc:
        require_active(cohort(archived=True), "take new members")
    assert code(exc) == (409, "cohort_archived")
    require_active(cohort(), "take new members")


# --- who gets access ---------------------------------------------------------------------


def test_access_is_members_and_instructors_and_never_the_account() -> None:
    state = cohort(("ada", "cohort-demo101-red"))
    assert desired_access(state, ["inst"]) == {"ada", "inst"}


def test_an_archived_cohort_gives_nobody_access() -> None:
    assert desired_access(cohort(archived=True), ["inst"]) == frozenset()


def test_share_changes_grant_the_missing_and_revoke_the_rest_and_every_group_share() -> None:
    changes = share_changes({"ada", "ben"}, {"ben", "cy"}, {"cohort-demo101-red"})
    assert changes.grant == ("ada",)
    assert changes.revoke_users == ("cy",)
    assert changes.revoke_groups == ("cohort-demo101-red",)


@given(people, people)
def test_applying_share_changes_reaches_exactly_the_desired_set(
    desired: set[str], shared: set[str]
) -> None:
    changes = share_changes(desired, shared, [])
    after = (shared - set(changes.revoke_users)) | set(changes.grant)
    assert after == desired
    assert share_changes(desired, after, []).empty
