"""Cohort workspace activity: ``/api/v1/courses/<course>/cohorts/<cohort>/activity``.

- ``POST``: the cohort's workspace server reports what it saw each person do: the cells
  they edited and ran, per notebook, counted from the authenticated connection that carried
  each change (``workspace_server.activity``). Only that server's own hub token may report,
  for its own cohort, and only about people who may be in the workspace; members' own
  sessions are refused, so no count comes from a browser or a kernel.
- ``GET``: per-member contribution counts, for the course's instructors.
"""

from __future__ import annotations

import logging
from typing import Any

from ...access import require_instructor
from ...cohorts.manage import WORKSPACES_GROUP
from ...courses import COHORT_PREFIX, parse_cohort
from ...errors import APIError
from ...store.workspace_activity import add_activity, cohort_activity
from ..base import BaseHandler
from ..permissions import allow, any_identity, course_member

log = logging.getLogger(__name__)

ACTIVITY = r"api/v1/courses/(?P<course>[^/]+)/cohorts/(?P<cohort>[^/]+)/activity"
#: The most one report may add (a client reports every few seconds; more is a bug or abuse).
MAX_PER_REPORT = 1000
MAX_NOTEBOOK = 1024


#: The most entries one report of a workspace server may carry.
MAX_ENTRIES = 500


def activity_reports(data: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """Check a server's report ``{"reports": [{"name", "notebook", "edits", "runs"}]}``;
    (name, notebook, edits, runs) for each entry."""
    extra = sorted(set(data) - {"reports"})
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")
    entries = data.get("reports")
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_ENTRIES:
        raise APIError(400, "invalid_field", f"'reports' is a list of 1-{MAX_ENTRIES} entries.")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise APIError(400, "invalid_field", "Each report is an object.")
        name = entry.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            raise APIError(400, "invalid_field", "'name' is the hub name of who did it.")
        rest = {k: v for k, v in entry.items() if k != "name"}
        out.append((name, *activity_report(rest)))
    return out


def activity_report(data: dict[str, Any]) -> tuple[str, int, int]:
    """Check one entry ``{"notebook", "edits", "runs"}``; (notebook, edits, runs)."""
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
    #: the workspace's own server reports here with the account's token (and nowhere else)
    workspace_account_allowed = True

    async def cohort_meta(self, course: str, cohort: str) -> dict[str, Any] | None:
        groups = await self.settings["hub_groups"].properties()
        group = f"{COHORT_PREFIX}{course}-{cohort}"
        if group not in groups:
            return None
        found = parse_cohort(group, groups[group], [course])
        if found is None or found.name != cohort:
            return None
        return (groups[group] or {}).get("cohortlab") or {}

    async def cohort_exists(self, course: str, cohort: str) -> bool:
        return await self.cohort_meta(course, cohort) is not None

    @allow(any_identity)
    async def post(self, course: str, cohort: str) -> None:
        reports = activity_reports(self.json_body())
        model = self.hub_user
        meta = await self.cohort_meta(course, cohort)
        account = (meta or {}).get("account")
        if (
            model.get("kind", "user") != "user"
            or WORKSPACES_GROUP not in (model.get("groups") or ())
            or not account
            or model.get("name") != account
        ):
            raise APIError(
                403,
                "workspace_server_only",
                "Contribution counts come from the cohort's workspace server, which sees who "
                "edits and runs what; nobody reports their own.",
            )
        roster = await self.roster(course)
        counted, skipped = [], []
        for name, notebook, edits, runs in reports:
            role, cohorts = roster.get(name, (None, frozenset()))
            if role == "instructor" or cohort in cohorts:
                counted.append((name, notebook, edits, runs))
            else:
                skipped.append(name)
        people = self.settings["people"]
        ids = {name: await people.user_id(name) for name in {c[0] for c in counted}}

        def write(s: Any) -> None:
            for name, notebook, edits, runs in counted:
                add_activity(s, course, cohort, ids[name], notebook, edits, runs)

        if counted:
            await self.run_db(write)
        if skipped:
            log.warning(
                "Workspace %s reported activity of people not in cohort %s: %s",
                account,
                cohort,
                ", ".join(sorted(set(skipped))),
            )
        self.write_json({"counted": len(counted), "skipped": sorted(set(skipped))})

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
