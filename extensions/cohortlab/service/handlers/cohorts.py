"""Cohorts of a course: ``/api/v1/courses/<course>/cohorts[/<cohort>[/members[/<user>]]]``,
opening a cohort's workspace: ``.../cohorts/<cohort>/workspace`` (``cohorts.workspace``),
teams inside a cohort: ``.../cohorts/<cohort>/teams[/<team>[/members/<user>]]``
(``cohorts.teams``), archive snapshots: ``.../cohorts/<cohort>/snapshots[/<id>[/files|view/
<path>]]`` (``cohorts.snapshots``) and template pushes: ``.../courses/<course>/cohort-templates``
(``cohorts.templates``).

Every route needs a person in a course the hub knows (:func:`cohort_course_member`: an
unknown course is a 404, a course the caller is not in a 403). Reads are for the course's
staff, or a learner's own cohorts (snapshots: also its former members); every change is for
the course's instructors (``cohortlab.access.require_instructor``). The work is done on the
hub by ``cohorts.hub``: the service keeps no cohort data of its own except archive snapshots.
"""

from __future__ import annotations

import logging
from typing import Any

from tornado.ioloop import IOLoop

from ...access import require_instructor
from ...cohorts import hub as cohort_hub
from ...cohorts import snapshots as cohort_snapshots
from ...cohorts import teams as cohort_teams
from ...cohorts import templates as cohort_templates
from ...cohorts import workspace as cohort_workspace
from ...cohorts.manage import (
    CohortState,
    can_view,
    check_cohort_name,
    check_user_name,
    new_cohort,
    require_view,
)
from ...courses import course_roles
from ...errors import APIError
from ..base import BaseHandler
from ..permissions import allow, course_member

log = logging.getLogger(__name__)

COHORTS = r"api/v1/courses/(?P<course>[^/]+)/cohorts"
COHORT = rf"{COHORTS}/(?P<cohort>[^/]+)"


async def cohort_course_member(
    handler: BaseHandler, course: str, *args: Any, **kwargs: Any
) -> None:
    """:func:`~cohortlab.service.permissions.course_member`, after a 404 for a course the hub
    has no groups for, so an instructor's typo reads "no such course", not "not yours"."""
    groups = await handler.settings["hub_groups"].properties()
    if course not in course_roles(groups):
        raise APIError(404, "unknown_course", f"JupyterHub has no course {course!r}.")
    await course_member(handler, course)


class CohortHandler(BaseHandler):
    @property
    def hub(self) -> cohort_hub.HubClient:
        """One hub client per service process, with the service's own hub token."""
        client = self.settings.get("cohort_hub")
        if client is None:
            auth = self.settings["hub_auth"]
            client = self.settings["cohort_hub"] = cohort_hub.HubClient(
                auth.api_url, auth.api_token
            )
        return client

    def write_synced(self, synced: cohort_hub.Synced, status: int = 200, **extra: Any) -> None:
        self.write_json({"cohort": synced.cohort.to_json(synced.staff), **extra}, status=status)


class CohortListHandler(CohortHandler):
    @allow(cohort_course_member)
    async def get(self, course: str) -> None:
        assert self.caller is not None
        staff = await cohort_hub.instructors(self.hub, course)
        cohorts = await cohort_hub.list_cohorts(self.hub, course)
        visible = [c for c in cohorts if can_view(self.caller, c)]
        self.write_json({"cohorts": [c.to_json(staff) for c in visible]})

    @allow(cohort_course_member)
    async def post(self, course: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "create cohorts")
        new = new_cohort(self.json_body())
        synced = await cohort_hub.create_cohort(self.hub, course, new)
        log.info("%s created cohort %s", self.caller.name, synced.cohort.group)
        self.write_synced(synced, status=201)


class CohortItemHandler(CohortHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        state = await cohort_hub.load_cohort(self.hub, course, check_cohort_name(cohort))
        require_view(self.caller, state)
        staff = await cohort_hub.instructors(self.hub, course)
        access = None
        if self.caller.role == "instructor":  # who holds a share now: to check the sync
            access = (await cohort_hub.shares(self.hub, state.account))[0]
        self.write_json({"cohort": state.to_json(staff, access)})


class CohortMembersHandler(CohortHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        state = await cohort_hub.load_cohort(self.hub, course, check_cohort_name(cohort))
        require_view(self.caller, state)
        self.write_json({"members": list(state.members)})


class CohortMemberHandler(CohortHandler):
    @allow(cohort_course_member)
    async def put(self, course: str, cohort: str, user: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "change cohort members")
        synced, added = await cohort_hub.add_member(
            self.hub, course, check_cohort_name(cohort), check_user_name(user)
        )
        self.write_synced(synced, status=201 if added else 200, added=added)

    @allow(cohort_course_member)
    async def delete(self, course: str, cohort: str, user: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "change cohort members")
        synced = await cohort_hub.remove_member(
            self.hub, course, check_cohort_name(cohort), check_user_name(user)
        )
        self.write_synced(synced)


def archive_options(data: dict[str, Any] | None) -> bool:
    """Check an archive body ``{"snapshot": true|false}`` (optional); whether to keep one."""
    if not data:
        return True
    extra = sorted(set(data) - {"snapshot"})
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")
    if not isinstance(data.get("snapshot", True), bool):
        raise APIError(400, "invalid_field", "'snapshot' is true (default) or false.")
    return data.get("snapshot", True)


class CohortArchiveHandler(CohortHandler):
    @allow(cohort_course_member)
    async def post(self, course: str, cohort: str) -> None:
        """Archive, keeping a snapshot of the workspace's files (``cohorts.snapshots``)."""
        assert self.caller is not None
        caller = self.caller
        require_instructor(caller, "archive cohorts")
        keep = archive_options(self.json_body() if self.request.body else None)
        kept: dict[str, Any] = {"snapshot": None, "snapshot_created": False}

        async def snapshot(state: CohortState, was_archived: bool) -> None:
            if not keep:
                return
            if was_archived:  # finishing an archive: a snapshot stored by it is kept
                last = await self.run_db(cohort_snapshots.latest_json, course, state.name)
                if last is not None:
                    kept["snapshot"] = last
                    return
            taken = await cohort_snapshots.take(self.hub, state)
            stored, created = await self.run_db(cohort_snapshots.store, state, caller, taken)
            kept.update(snapshot=stored, snapshot_created=created)

        synced, stopped = await cohort_hub.archive(
            self.hub, course, check_cohort_name(cohort), before_stop=snapshot
        )
        log.info("%s archived cohort %s", caller.name, synced.cohort.group)
        self.write_synced(synced, server_stopped=stopped, **kept)


class CohortSyncHandler(CohortHandler):
    @allow(cohort_course_member)
    async def post(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "repair cohort access")
        synced = await cohort_hub.sync(self.hub, course, check_cohort_name(cohort))
        changes = synced.changes
        self.write_synced(
            synced,
            granted=list(changes.grant),
            revoked=list(changes.revoke_users + changes.revoke_groups),
            created_account=synced.created_account,
        )


class CohortWorkspaceHandler(CohortHandler):
    @allow(cohort_course_member)
    async def post(self, course: str, cohort: str) -> None:
        """Start the workspace if needed; 200 ``ready`` or 202 ``starting`` (call again)."""
        assert self.caller is not None
        wait = cohort_workspace.open_options(self.json_body() if self.request.body else None)
        opened = await cohort_workspace.open_workspace(
            self.hub, self.caller, check_cohort_name(cohort), wait=wait
        )
        status = 200 if opened.state == "ready" else 202
        self.write_json({"workspace": opened.to_json()}, status=status)


class TeamListHandler(CohortHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str) -> None:
        """The cohort's teams: for whoever may see the cohort."""
        assert self.caller is not None
        state = await cohort_hub.load_cohort(self.hub, course, check_cohort_name(cohort))
        require_view(self.caller, state)
        teams = await cohort_teams.list_teams(self.hub, state)
        self.write_json({"teams": [t.to_json() for t in teams]})

    @allow(cohort_course_member)
    async def post(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "make teams")
        new = cohort_teams.new_team(self.json_body())
        team = await cohort_teams.create_team(self.hub, course, check_cohort_name(cohort), new)
        log.info("%s created team %s", self.caller.name, team.group)
        self.write_json({"team": team.to_json()}, status=201)


class TeamItemHandler(CohortHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str, team: str) -> None:
        assert self.caller is not None
        state = await cohort_hub.load_cohort(self.hub, course, check_cohort_name(cohort))
        require_view(self.caller, state)
        found = await cohort_teams.load_team(self.hub, state, cohort_teams.check_team_name(team))
        self.write_json({"team": found.to_json()})

    @allow(cohort_course_member)
    async def delete(self, course: str, cohort: str, team: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "delete teams")
        gone = await cohort_teams.delete_team(
            self.hub, course, check_cohort_name(cohort), cohort_teams.check_team_name(team)
        )
        log.info("%s deleted team %s", self.caller.name, gone.group)
        self.write_json({"team": gone.to_json()})


class TeamMemberHandler(CohortHandler):
    async def change(self, course: str, cohort: str, team: str, user: str, add: bool) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "change team members")
        found, changed = await cohort_teams.change_team_member(
            self.hub,
            course,
            check_cohort_name(cohort),
            cohort_teams.check_team_name(team),
            check_user_name(user),
            add=add,
        )
        status = 201 if add and changed else 200
        self.write_json({"team": found.to_json(), "changed": changed}, status=status)

    @allow(cohort_course_member)
    async def put(self, course: str, cohort: str, team: str, user: str) -> None:
        await self.change(course, cohort, team, user, add=True)

    @allow(cohort_course_member)
    async def delete(self, course: str, cohort: str, team: str, user: str) -> None:
        await self.change(course, cohort, team, user, add=False)


class TemplatePushHandler(CohortHandler):
    body_limit = 6 * 1024 * 1024  # a template of up to 5 MB (cohorts.templates), as JSON

    @allow(cohort_course_member)
    async def post(self, course: str) -> None:
        """Write a notebook into every active cohort's workspace (or the ones named), never
        over existing work; one outcome per cohort (``cohorts.templates``)."""
        assert self.caller is not None
        require_instructor(self.caller, "push templates into cohort workspaces")
        template = cohort_templates.check_template(self.json_body())
        outcomes = await cohort_templates.push_template(self.hub, course, template)
        log.info(
            "%s pushed %s into cohorts of %s: %s",
            self.caller.name,
            template.name,
            course,
            ", ".join(f"{o.cohort} {o.status}" for o in outcomes) or "none",
        )
        self.write_json({"name": template.name, "results": [o.to_json() for o in outcomes]})


class SnapshotHandler(CohortHandler):
    def snapshot_id(self, raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise APIError(400, "invalid_id", "A snapshot id is a number.") from None


class SnapshotListHandler(SnapshotHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str) -> None:
        """Snapshots of archived workspaces: staff, and the cohort's (former) members."""
        assert self.caller is not None
        name = check_cohort_name(cohort)
        found = await self.run_db(cohort_snapshots.list_json, self.caller, name)
        self.write_json({"snapshots": found})


class SnapshotItemHandler(SnapshotHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str, snapshot: str) -> None:
        assert self.caller is not None
        found = await self.run_db(
            cohort_snapshots.snapshot_json,
            self.caller,
            check_cohort_name(cohort),
            self.snapshot_id(snapshot),
        )
        self.write_json({"snapshot": found})


class SnapshotFileHandler(SnapshotHandler):
    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str, snapshot: str, path: str) -> None:
        """One file: a notebook as JSON, text as text, anything else base64."""
        assert self.caller is not None
        stored = await self.run_db(
            cohort_snapshots.stored_file,
            self.caller,
            check_cohort_name(cohort),
            self.snapshot_id(snapshot),
            path,
        )
        self.write_json({"file": cohort_snapshots.file_json(stored)})


class SnapshotViewHandler(SnapshotHandler):
    redirect_to_login = True  # a page people open in the browser: sign in through the hub

    @allow(cohort_course_member)
    async def get(self, course: str, cohort: str, snapshot: str, path: str) -> None:
        """A notebook or text file as a read-only page: sanitized, and no script runs."""
        assert self.caller is not None
        sid = self.snapshot_id(snapshot)
        stored = await self.run_db(
            cohort_snapshots.stored_file, self.caller, check_cohort_name(cohort), sid, path
        )
        note = f"Read-only copy from the archive of cohort {cohort} (snapshot {sid}): {path}"
        page = await IOLoop.current().run_in_executor(
            None, cohort_snapshots.render_view, stored, note
        )  # nbconvert takes ~0.3 s: off the event loop
        self.set_header("Content-Security-Policy", cohort_snapshots.VIEW_CSP)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(page)


TEAM = rf"{COHORT}/teams/(?P<team>[^/]+)"
SNAPSHOT = rf"{COHORT}/snapshots/(?P<snapshot>[^/]+)"

default_handlers = [
    (COHORTS, CohortListHandler),
    (COHORT, CohortItemHandler),
    (rf"{COHORT}/members", CohortMembersHandler),
    (rf"{COHORT}/members/(?P<user>[^/]+)", CohortMemberHandler),
    (rf"{COHORT}/archive", CohortArchiveHandler),
    (rf"{COHORT}/sync", CohortSyncHandler),
    (rf"{COHORT}/workspace", CohortWorkspaceHandler),
    (rf"{COHORT}/teams", TeamListHandler),
    (TEAM, TeamItemHandler),
    (rf"{TEAM}/members/(?P<user>[^/]+)", TeamMemberHandler),
    (r"api/v1/courses/(?P<course>[^/]+)/cohort-templates", TemplatePushHandler),
    (rf"{COHORT}/snapshots", SnapshotListHandler),
    (SNAPSHOT, SnapshotItemHandler),
    (rf"{SNAPSHOT}/files/(?P<path>.+)", SnapshotFileHandler),
    (rf"{SNAPSHOT}/view/(?P<path>.+)", SnapshotViewHandler),
]
