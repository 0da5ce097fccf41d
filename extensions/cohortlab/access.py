"""Who the caller is within one course: the object every permission rule reads.

Built per request from the hub's identity (never from anything the client
sends) and the hub's groups; see ``cohortlab.courses``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .courses import Membership
from .errors import APIError

STAFF_ROLES = frozenset({"instructor", "mentor"})


@dataclass(frozen=True)
class Caller:
    name: str
    user_id: int
    course: str
    role: str | None
    cohorts: frozenset[str]

    @property
    def is_staff(self) -> bool:
        """Instructors and mentors moderate and see anonymous authors; learners do not."""
        return self.role in STAFF_ROLES

    @classmethod
    def in_course(cls, name: str, user_id: int, course: str, member: Membership) -> Caller:
        """The caller in ``course``, or a 403 that says they are not in it."""
        role = member.role_in(course)
        if role is None:
            raise APIError(403, "not_in_course", f"You are not a member of course {course!r}.")
        cohorts = frozenset(c.name for c in member.cohorts if c.course == course)
        return cls(name=name, user_id=user_id, course=course, role=role, cohorts=cohorts)


def require_staff(caller: Caller, action: str) -> None:
    if not caller.is_staff:
        raise APIError(
            403, "staff_only", f"Only the course's instructors and mentors can {action}."
        )


def require_instructor(caller: Caller, action: str) -> None:
    """Instructors only (publishing, grading, running rounds); mentors are staff but never grade."""
    if caller.role != "instructor":
        raise APIError(403, "instructor_only", f"Only the course's instructors can {action}.")
