"""Cohorts of a course: ``/api/v1/courses/<course>/cohorts[/<cohort>[/members[/<user>]]]``,
and opening a cohort's workspace: ``.../cohorts/<cohort>/workspace`` (``cohorts.workspace``).

Every route needs a person in a course the hub knows (:func:`cohort_course_member`: an
unknown course is a 404, a course the caller is not in a 403). Reads are for the course's
staff, or a learner's own cohorts; every change is for the course's instructors
(``cohorts.manage``). The work is done on the hub by ``cohorts.hub``: the service keeps no
cohort data of its own.
"""

from __future__ import annotations

import logging
from typing import Any

from ...access import require_instructor
from ...cohorts import hub as cohort_hub
from ...cohorts import workspace as cohort_workspace
from ...cohorts.manage import (
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


class CohortArchiveHandler(CohortHandler):
    @allow(cohort_course_member)
    async def post(self, course: str, cohort: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "archive cohorts")
        synced, stopped = await cohort_hub.archive(self.hub, course, check_cohort_name(cohort))
        log.info("%s archived cohort %s", self.caller.name, synced.cohort.group)
        self.write_synced(synced, server_stopped=stopped)


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


default_handlers = [
    (COHORTS, CohortListHandler),
    (COHORT, CohortItemHandler),
    (rf"{COHORT}/members", CohortMembersHandler),
    (rf"{COHORT}/members/(?P<user>[^/]+)", CohortMemberHandler),
    (rf"{COHORT}/archive", CohortArchiveHandler),
    (rf"{COHORT}/sync", CohortSyncHandler),
    (rf"{COHORT}/workspace", CohortWorkspaceHandler),
]
