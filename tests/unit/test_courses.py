"""Roles and cohorts from hub groups, including course ids that contain '-'."""

from __future__ import annotations

from cohortlab.courses import course_roles, membership, parse_cohort
from hypothesis import given
from hypothesis import strategies as st

PROPS = {"cohortlab": {"kind": "cohort", "course": "demo101", "cohort": "red"}}


def test_learner_mentor_instructor_roles_come_from_nbgrader_style_groups() -> None:
    roles = course_roles(["nbgrader-a", "mentor-b", "formgrade-c", "formgrade-a", "other"])
    assert roles == {"a": {"learner", "instructor"}, "b": {"mentor"}, "c": {"instructor"}}


def test_role_shown_is_the_most_capable_one_held() -> None:
    m = membership(["nbgrader-x", "mentor-x"], {})
    assert m.courses_json() == [{"id": "x", "role": "mentor", "roles": ["mentor", "learner"]}]


def test_cohort_group_with_properties_parses_by_its_properties() -> None:
    cohort = parse_cohort("cohort-demo101-red", PROPS, [])
    assert cohort is not None
    assert (cohort.course, cohort.name) == ("demo101", "red")


def test_cohort_properties_that_contradict_the_name_are_refused() -> None:
    props = {"cohortlab": {"kind": "cohort", "course": "demo", "cohort": "red"}}
    assert parse_cohort("cohort-demo101-red", props, []) is None


def test_dashed_course_id_is_read_through_properties() -> None:
    props = {"cohortlab": {"kind": "cohort", "course": "data-sci", "cohort": "team-a"}}
    cohort = parse_cohort("cohort-data-sci-team-a", props, ["data", "data-sci"])
    assert cohort is not None
    assert (cohort.course, cohort.name) == ("data-sci", "team-a")


def test_group_without_properties_parses_when_one_course_fits() -> None:
    cohort = parse_cohort("cohort-data-sci-red", None, ["data-sci", "stats"])
    assert cohort is not None
    assert (cohort.course, cohort.name) == ("data-sci", "red")


def test_ambiguous_group_without_properties_is_skipped_not_guessed() -> None:
    assert parse_cohort("cohort-a-b-x", None, ["a", "a-b"]) is None


def test_non_cohort_groups_are_not_cohorts() -> None:
    assert parse_cohort("nbgrader-demo101", None, ["demo101"]) is None
    assert parse_cohort("cohort-unknown-red", None, ["demo101"]) is None


def test_membership_lists_only_the_callers_cohorts() -> None:
    hub = {
        "nbgrader-demo101": {},
        "cohort-demo101-red": PROPS,
        "cohort-demo101-blue": {
            "cohortlab": {"kind": "cohort", "course": "demo101", "cohort": "blue"}
        },
    }
    m = membership(["nbgrader-demo101", "cohort-demo101-red"], hub)
    assert [c.to_json() for c in m.cohorts] == [
        {"course": "demo101", "name": "red", "group": "cohort-demo101-red"}
    ]


_id = st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,3}", fullmatch=True)


@given(course=_id, cohort=_id, other=_id)
def test_properties_make_any_dashed_names_unambiguous(course: str, cohort: str, other: str) -> None:
    group = f"cohort-{course}-{cohort}"
    props = {"cohortlab": {"kind": "cohort", "course": course, "cohort": cohort}}
    known = [course, other, f"{course}-{cohort.split('-')[0]}"]
    parsed = parse_cohort(group, props, known)
    assert parsed is not None
    assert (parsed.course, parsed.name) == (course, cohort)


@given(course=_id, cohort=_id, known=st.lists(_id, max_size=4))
def test_without_properties_a_reading_is_never_wrong(
    course: str, cohort: str, known: list[str]
) -> None:
    group = f"cohort-{course}-{cohort}"
    parsed = parse_cohort(group, None, [course, *known])
    # Either the one true reading, or none at all when another course also fits.
    if parsed is not None:
        assert f"cohort-{parsed.course}-{parsed.name}" == group
        fits = {
            k
            for k in [course, *known]
            if group.startswith(f"cohort-{k}-") and len(group) > len(f"cohort-{k}-")
        }
        assert fits == {parsed.course}
