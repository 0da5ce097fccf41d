"""Course and cohort membership, derived from JupyterHub groups.

The hub is the one source of truth for who is in which course. We follow
nbgrader's multi-course convention (``nbgrader-<course>`` learners,
``formgrade-<course>`` instructors) and add ``mentor-<course>`` for mentors/TAs.

Cohort groups are named ``cohort-<course>-<name>``. Because a course id may
itself contain ``-``, the name alone can be ambiguous (``cohort-a-b-x`` is
course ``a``/cohort ``b-x`` or course ``a-b``/cohort ``x``). The group's
JupyterHub *properties* settle it: ``{"cohortlab": {"kind": "cohort", "course":
..., "cohort": ...}}``. Groups without properties are parsed against the known
course ids and skipped, with a warning, when more than one reading fits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ROLE_PREFIXES: dict[str, str] = {
    "nbgrader-": "learner",
    "mentor-": "mentor",
    "formgrade-": "instructor",
}
# Highest first: the role shown for a course is the most capable one held.
ROLE_ORDER = ("instructor", "mentor", "learner")
COHORT_PREFIX = "cohort-"


@dataclass(frozen=True)
class Cohort:
    course: str
    name: str
    group: str

    def to_json(self) -> dict[str, str]:
        return {"course": self.course, "name": self.name, "group": self.group}


@dataclass
class Membership:
    """What one person is in: roles per course and cohorts."""

    roles: dict[str, set[str]] = field(default_factory=dict)
    cohorts: list[Cohort] = field(default_factory=list)

    def role_in(self, course: str) -> str | None:
        held = self.roles.get(course, set())
        return next((r for r in ROLE_ORDER if r in held), None)

    def courses_json(self) -> list[dict[str, Any]]:
        return [
            {
                "id": course,
                "role": self.role_in(course),
                "roles": [r for r in ROLE_ORDER if r in held],
            }
            for course, held in sorted(self.roles.items())
        ]


def course_roles(group_names: Iterable[str]) -> dict[str, set[str]]:
    """Map course id -> roles from role groups; prefixes cannot be confused."""
    roles: dict[str, set[str]] = {}
    for name in group_names:
        for prefix, role in ROLE_PREFIXES.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                roles.setdefault(name[len(prefix) :], set()).add(role)
    return roles


def parse_cohort(
    group: str, properties: Mapping[str, Any] | None, known_courses: Iterable[str]
) -> Cohort | None:
    """Read a cohort group; ``None`` when it is not one or cannot be read unambiguously."""
    if not group.startswith(COHORT_PREFIX):
        return None
    meta = (properties or {}).get("cohortlab")
    if isinstance(meta, Mapping) and meta.get("kind") == "cohort":
        course, cohort = meta.get("course"), meta.get("cohort")
        if (
            isinstance(course, str)
            and isinstance(cohort, str)
            and course
            and cohort
            and group == f"{COHORT_PREFIX}{course}-{cohort}"
        ):
            return Cohort(course=course, name=cohort, group=group)
        log.warning("Group %s has cohortlab properties that do not match its name", group)
        return None
    rest = group[len(COHORT_PREFIX) :]
    readings = [
        Cohort(course=c, name=rest[len(c) + 1 :], group=group)
        for c in set(known_courses)
        if rest.startswith(f"{c}-") and len(rest) > len(c) + 1
    ]
    if len(readings) == 1:
        return readings[0]
    if len(readings) > 1:
        log.warning(
            "Cohort group %s is ambiguous (courses %s); set its JupyterHub group property "
            '"cohortlab": {"kind": "cohort", "course": ..., "cohort": ...}',
            group,
            ", ".join(sorted(r.course for r in readings)),
        )
    return None


def membership(
    user_groups: Iterable[str],
    group_properties: Mapping[str, Mapping[str, Any]],
    known_courses: Iterable[str] | None = None,
) -> Membership:
    """Build a person's membership from their group names and the hub's group properties.

    ``known_courses`` defaults to the courses named by role groups in
    ``group_properties`` (all groups the hub has), which is what disambiguates
    cohort names that lack properties.
    """
    user_groups = list(user_groups)
    if known_courses is None:
        known_courses = course_roles(group_properties.keys()).keys()
    known = set(known_courses)
    cohorts = [
        cohort
        for g in sorted(user_groups)
        if (cohort := parse_cohort(g, group_properties.get(g), known)) is not None
    ]
    return Membership(roles=course_roles(user_groups), cohorts=cohorts)


def course_members(
    course: str,
    group_users: Mapping[str, Iterable[str]],
    group_properties: Mapping[str, Mapping[str, Any]],
) -> dict[str, tuple[str, frozenset[str]]]:
    """Everyone in ``course``: name -> (their role there, their cohorts there)."""
    known = course_roles(group_properties.keys()).keys()
    roles: dict[str, set[str]] = {}
    for prefix, role in ROLE_PREFIXES.items():
        for name in group_users.get(f"{prefix}{course}", ()):
            roles.setdefault(name, set()).add(role)
    cohorts: dict[str, set[str]] = {}
    for group, users in group_users.items():
        cohort = parse_cohort(group, group_properties.get(group), known)
        if cohort is not None and cohort.course == course:
            for name in users:
                cohorts.setdefault(name, set()).add(cohort.name)
    return {
        name: (next(r for r in ROLE_ORDER if r in held), frozenset(cohorts.get(name, ())))
        for name, held in roles.items()
    }
