"""Cohort workspace activity: ``/api/v1/courses/<course>/cohorts/<cohort>/activity``.

- ``POST``: a person in the workspace reports their own edits and runs of one notebook
  (the lab client does it every few seconds, with the person's own session). Members of
  the cohort and the course's instructors (who may enter every workspace).
- ``GET``: per-member contribution counts, for the course's instructors.

The workspace's shared account never gets here (``base.refuse_workspace_account``), so a
count is always added by the person it counts; nobody can add to someone else's.
"""

from __future__ import annotations

from typing import Any

from ...access import Caller, require_instructor
from ...courses import COHORT_PREFIX, parse_cohort
from ...errors import APIError
from ...store.workspace_activity import add_activity, cohort_activity
from ..base import BaseHandler
from ..permissions import allow, course_member

ACTIVITY = r"api/v1/courses/(?P<course>[^/]+)/cohorts/(?P<cohort>[^/]+)/activity"
#: The most one report may add (a client reports every few seconds; more is a bug or abuse).
MAX_PER_REPORT = 1000
MAX_NOTEBOOK = 1024


def activity_report(data: dict[str, Any]) -> tuple[str, int, int]:
    """Check a report ``{"notebook", "edits", "runs"}``; (notebook, edits, runs)."""
    extra = sorted(set(data) - {"notebook", "edits", "runs"})
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")
    notebook = data.get("notebook")
    if not isinstance(notebook, str) or not 0 < len(notebook) <= MAX_NOTEBOOK:
        raise APIError(
            400,
            "invalid_field",
            f"'notebook' is the notebook's path in the workspace (1-{MAX_NOTEBOOK} characters).",
        )
    counts = []
    for key in ("edits", "runs"):
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise APIError(400, "invalid_field", f"'{key}' must be a whole number.")
        if not 0 <= value <= MAX_PER_REPORT:
            raise APIError(
                400, "invalid_field", f"'{key}' must be from 0 to {MAX_PER_REPORT} per report."
            )
        counts.append(value)
    if not any(counts):
        raise APIError(400, "empty_report", "A report needs at least one edit or run.")
    return notebook, counts[0], counts[1]


class ActivityHandler(BaseHandler):
    async def cohort_exists(self, course: str, cohort: str) -> bool:
        groups = await self.settings["hub_groups"].properties()
        group = f"{COHORT_PREFIX}{course}-{cohort}"
        if group not in groups:
            return False
        found = parse_cohort(group, groups[group], [course])
        return found is not None and found.name == cohort

    async def require_participant(self, caller: Caller, cohort: str) -> None:
        """Members of the cohort and the course's instructors, like opening the workspace."""
        if cohort in caller.cohorts:
            return
        if caller.role == "learner" or not await self.cohort_exists(caller.course, cohort):
            raise APIError(404, "unknown_cohort", f"There is no cohort {cohort!r} of yours.")
        if caller.role != "instructor":
            raise APIError(
                403,
                "members_only",
                f"Only members of cohort {cohort!r} and the instructors of {caller.course} "
                "work in its workspace.",
            )

    @allow(course_member)
    async def post(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        notebook, edits, runs = activity_report(self.json_body())
        await self.require_participant(self.caller, cohort)
        caller = self.caller
        row = await self.run_db(
            lambda s: _to_json(
                add_activity(s, course, cohort, caller.user_id, notebook, edits, runs)
            )
        )
        self.write_json({"activity": {"name": caller.name, **row}})

    @allow(course_member)
    async def get(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "see who contributed what in a cohort workspace")
        if not await self.cohort_exists(course, cohort):
            raise APIError(404, "unknown_cohort", f"There is no cohort {cohort!r} in {course}.")
        rows = await self.run_db(cohort_activity, course, cohort)
        roster = await self.roster(course)
        members = {
            name: _no_activity(name, role)
            for name, (role, cohorts) in roster.items()
            if cohort in cohorts
        }
        for name, notebook, edits, runs, last_at in rows:
            # former members and instructors who worked in the workspace count too
            role = roster.get(name, (None, frozenset()))[0]
            entry = members.setdefault(name, _no_activity(name, role))
            entry["edits"] += edits
            entry["runs"] += runs
            entry["notebooks"][notebook] = {"edits": edits, "runs": runs}
            stamp = last_at.isoformat()
            if entry["last_at"] is None or stamp > entry["last_at"]:
                entry["last_at"] = stamp
        self.write_json(
            {
                "course": course,
                "cohort": cohort,
                "members": sorted(
                    members.values(), key=lambda m: (-m["edits"] - m["runs"], m["name"])
                ),
            }
        )


def _no_activity(name: str, role: str | None) -> dict[str, Any]:
    return {"name": name, "role": role, "edits": 0, "runs": 0, "last_at": None, "notebooks": {}}


def _to_json(row: Any) -> dict[str, Any]:
    return {"notebook": row.notebook, "edits": row.edits, "runs": row.runs}


default_handlers: list[tuple[str, Any]] = [(ACTIVITY, ActivityHandler)]
