"""The rules of cohort management, as pure functions: no hub calls, no I/O.

A cohort is a hub group ``cohort-<course>-<name>`` (``cohortlab.courses``) plus one
*collaboration account*: a hub user whose server is the cohort's shared workspace. The
hub stays the source of truth for who is in the cohort (the group's users); who may open
the workspace is derived from it (:func:`desired_access`) and applied as per-person
JupyterHub shares by ``cohorts.hub`` (docs/cohorts.md says why shares and not roles or
group shares).

The rules, each raising an :class:`~cohortlab.errors.APIError` a person can act on:

- only instructors of the course change cohorts (``cohortlab.access.require_instructor``,
  the one rule and code, ``instructor_only``, every domain shares);
- names are short lowercase slugs (:func:`check_cohort_name`), because they become part
  of a hub user name and, with the one-machine spawner, a system account name;
- members are learners or mentors of the course (:func:`check_new_member`);
- instructors of the course are never members: they always have access to every cohort
  of their course, so a cohort can never lose its last instructor; asking to add or
  remove one is a 409 that says so (:func:`check_new_member`, :func:`check_removal`);
- an archived cohort keeps its group and account but nobody has access, and it cannot
  change any more (:func:`require_active`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..access import Caller
from ..courses import COHORT_PREFIX, course_roles, parse_cohort
from ..errors import APIError
from ..origins import Origins

#: Every collaboration account is a member of this hub group. The service's role grants
#: shares and server control filtered to it (``shares!group=cohortlab-workspaces``), the
#: hub's spawn hook recognises workspace accounts by it, and logins are refused for it.
WORKSPACES_GROUP = "cohortlab-workspaces"
#: Collaboration account names start with this; logins with such a name are refused.
ACCOUNT_PREFIX = COHORT_PREFIX

#: 1-32 characters: lowercase letters, digits and inner hyphens.
COHORT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
#: What ``useradd`` accepts (Debian's default NAME_REGEX, 32 characters at most), which
#: is also a valid hub user name: the one-machine hub runs each server as a system user.
SYSTEM_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
#: Hub user names in bodies and paths: anything a hub name can be, within reason.
MAX_USER_NAME = 255
MAX_MEMBERS = 500


def check_cohort_name(name: Any) -> str:
    """The cohort name, or a 400 saying what a name may look like."""
    if not isinstance(name, str) or not COHORT_NAME.fullmatch(name):
        raise APIError(
            400,
            "invalid_name",
            f"{name!r} is not a valid cohort name: use 1-32 lowercase letters, digits and "
            "hyphens, starting and ending with a letter or digit (e.g. 'red' or 'team-2').",
        )
    return name


def check_user_name(name: Any) -> str:
    """A hub user name as sent by a client (it is looked up on the hub afterwards)."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_USER_NAME
        or "/" in name
        or name != name.strip()
    ):
        raise APIError(400, "invalid_user", f"{name!r} is not a JupyterHub user name.")
    return name


def group_name(course: str, cohort: str) -> str:
    return f"{COHORT_PREFIX}{course}-{cohort}"


def account_name(course: str, cohort: str) -> str:
    """The collaboration account's hub user name, derived from the course and cohort.

    Readable (``cohort-demo101-red``) when that is a valid system account name, else
    ``cohort-`` and 12 hex digits of a hash. Derived rather than only stored, because
    JupyterHub rewrites the properties of groups declared in ``load_groups`` at every
    start, so a stored name could be lost. A hashed name has one hyphen and a readable one
    at least two, so the two forms never collide; two cohorts whose readable names collide
    also share a group name, which the hub already refuses.
    """
    readable = group_name(course, cohort)
    if SYSTEM_NAME.fullmatch(readable):
        return readable
    digest = hashlib.sha256(f"{course}\0{cohort}".encode()).hexdigest()[:12]
    return f"{ACCOUNT_PREFIX}{digest}"


def cohort_properties(
    course: str, cohort: str, account: str, *, archived: bool = False
) -> dict[str, Any]:
    """The group properties that make the cohort unambiguous (``courses.parse_cohort``)."""
    return {
        "cohortlab": {
            "kind": "cohort",
            "course": course,
            "cohort": cohort,
            "account": account,
            "archived": archived,
        }
    }


@dataclass(frozen=True)
class CohortState:
    """One cohort as the hub has it right now (read fresh for every change)."""

    course: str
    name: str
    group: str
    account: str
    archived: bool
    members: tuple[str, ...]
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_group(
        cls, model: Mapping[str, Any], known_courses: Iterable[str]
    ) -> CohortState | None:
        """Read a hub group model; ``None`` when it is not (unambiguously) a cohort."""
        properties = model.get("properties") or {}
        cohort = parse_cohort(model["name"], properties, known_courses)
        if cohort is None:
            return None
        meta = properties.get("cohortlab") if isinstance(properties, Mapping) else None
        meta = meta if isinstance(meta, Mapping) else {}
        account = meta.get("account")
        if not (isinstance(account, str) and account.startswith(ACCOUNT_PREFIX)):
            account = account_name(cohort.course, cohort.name)
        return cls(
            course=cohort.course,
            name=cohort.name,
            group=cohort.group,
            account=account,
            archived=meta.get("archived") is True,
            members=tuple(sorted(model.get("users") or ())),
            properties=properties,
        )

    def with_properties(self, *, archived: bool) -> dict[str, Any]:
        """The group's properties with ours set, keeping anything others stored there."""
        props = dict(self.properties)
        props.update(cohort_properties(self.course, self.name, self.account, archived=archived))
        return props

    def to_json(self, staff: Iterable[str], access: Iterable[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "course": self.course,
            "name": self.name,
            "group": self.group,
            "account": self.account,
            "workspace_url": f"{Origins.from_env().user(self.account)}/user/{self.account}/",
            "archived": self.archived,
            "members": list(self.members),
            "staff": sorted(staff),
        }
        if access is not None:
            data["access"] = sorted(access)
        return data


@dataclass(frozen=True)
class NewCohort:
    name: str
    members: tuple[str, ...]


def named_group_body(
    data: Mapping[str, Any], what: str, check_name: Callable[[Any], str]
) -> tuple[str, tuple[str, ...]]:
    """``(name, members)`` from a create body ``{"name": ..., "members": [...]}`` of a cohort
    or a team, every part checked before anything is written."""
    extra = sorted(set(data) - {"name", "members"})
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")
    if "name" not in data:
        raise APIError(400, "missing_field", f"'name' is required: the {what}'s name.")
    name = check_name(data["name"])
    members = data.get("members", [])
    if not isinstance(members, list):
        raise APIError(400, "invalid_field", "'members' must be a list of hub user names.")
    if len(members) > MAX_MEMBERS:
        raise APIError(
            400, "too_many", f"At most {MAX_MEMBERS} members at once ({len(members)} given)."
        )
    return name, tuple(dict.fromkeys(check_user_name(m) for m in members))


def new_cohort(data: Mapping[str, Any]) -> NewCohort:
    return NewCohort(*named_group_body(data, "cohort", check_cohort_name))


def can_view(caller: Caller, cohort: CohortState) -> bool:
    """Staff (instructors, mentors) see every cohort of the course; learners their own."""
    return caller.is_staff or caller.name in cohort.members


def require_view(caller: Caller, cohort: CohortState) -> None:
    """A 404 like an unknown cohort, so a learner cannot find out other cohorts' names."""
    if not can_view(caller, cohort):
        raise unknown_cohort(cohort.course, cohort.name)


def unknown_cohort(course: str, name: str) -> APIError:
    return APIError(404, "unknown_cohort", f"Course {course} has no cohort {name!r}.")


def require_active(cohort: CohortState, action: str) -> None:
    if cohort.archived:
        raise APIError(
            409,
            "cohort_archived",
            f"Cohort {cohort.name!r} is archived; it cannot {action} any more.",
        )


def check_new_member(course: str, user: str, user_groups: Iterable[str]) -> None:
    """``user`` (who exists on the hub, in ``user_groups``) may join a cohort of ``course``."""
    roles = course_roles(user_groups).get(course, set())
    if "instructor" in roles:
        raise APIError(
            409,
            "instructor_has_access",
            f"{user} is an instructor of {course} and already has access to every cohort "
            "workspace of the course; instructors are not added as members.",
        )
    if not roles & {"learner", "mentor"}:
        raise APIError(
            422,
            "not_in_course",
            f"{user} is not a learner or mentor of {course}; add them to the course's "
            f"nbgrader-{course} or mentor-{course} group first.",
        )


def check_removal(course: str, cohort: CohortState, user: str, user_groups: Iterable[str]) -> None:
    """``user`` may be removed from ``cohort``: a member, and not an instructor."""
    if "instructor" in course_roles(user_groups).get(course, set()):
        raise APIError(
            409,
            "instructor_keeps_access",
            f"{user} is an instructor of {course}: instructors keep access to every cohort of "
            "their course, so no cohort is ever left without one. To end their access, remove "
            f"them from formgrade-{course}.",
        )
    if user not in cohort.members:
        raise APIError(404, "not_a_member", f"{user} is not a member of cohort {cohort.name!r}.")


def desired_access(cohort: CohortState, instructors: Iterable[str]) -> frozenset[str]:
    """Who should hold a share of the workspace: members and the course's instructors,
    nobody once the cohort is archived, and never the account itself."""
    if cohort.archived:
        return frozenset()
    return frozenset(cohort.members).union(instructors) - {cohort.account}


@dataclass(frozen=True)
class ShareChanges:
    grant: tuple[str, ...]
    revoke_users: tuple[str, ...]
    revoke_groups: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.grant or self.revoke_users or self.revoke_groups)


def share_changes(
    desired: Iterable[str], shared_users: Iterable[str], shared_groups: Iterable[str]
) -> ShareChanges:
    """What to grant and revoke so that exactly ``desired`` hold a share.

    Group shares are always revoked: JupyterHub 6.1.1 stores them but they grant nothing
    to tokens (docs/cohorts.md), and one that a later hub honoured would bypass these
    rules.
    """
    want, have = set(desired), set(shared_users)
    return ShareChanges(
        grant=tuple(sorted(want - have)),
        revoke_users=tuple(sorted(have - want)),
        revoke_groups=tuple(sorted(set(shared_groups))),
    )
