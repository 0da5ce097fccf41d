"""OpenAPI paths and schemas for cohort management (merged into openapi.py)."""

from __future__ import annotations

from typing import Any

from .openapi_discussions import COURSE, _op, _path_params, _ref

COHORT = f"{COURSE}/cohorts/{{cohort}}"
INSTRUCTOR = "An instructor of the course (formgrade- group); learners and mentors get 403"
VIEWER = (
    "The course's instructors and mentors, or a learner who is a member of the cohort "
    "(anyone else gets 404, as for a cohort that does not exist)"
)
COURSE_ERRORS = "; an unknown course is 404, a person not in the course gets 403"
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 502, 503)
READ_ERRORS = (400, 401, 403, 404, 502, 503)


def _result(**extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["cohort"],
        "properties": {"cohort": _ref("CohortDetail"), **extra},
    }


def cohort_paths() -> dict[str, Any]:
    params = _path_params("course", "cohort")
    strings = {"type": "array", "items": {"type": "string"}}
    open_workspace = _op(
        "openCohortWorkspace",
        "Open the cohort's shared workspace: start its server if it is not running (a dead "
        "one is restarted) and say where it is; 200 when ready, 202 while starting (call "
        "again); a failed start is 503 with the hub's reason",
        "A member of the cohort or an instructor of the course (a learner of another cohort "
        "gets 404, a mentor who is not a member 403, an archived cohort 409)" + COURSE_ERRORS,
        ok=(200, {"type": "object", "properties": {"workspace": _ref("Workspace")}}),
        body=_ref("OpenWorkspace"),
        errors=WRITE_ERRORS,
    )
    open_workspace["requestBody"]["required"] = False  # an empty body waits for nothing
    archive = _op(
        "archiveCohort",
        "Archive: nobody keeps access, a snapshot of the workspace's files is stored (the "
        "server is started for it if needed), the server stops, nothing is deleted; "
        "repeating it finishes an archive that failed half-way and never stores the same "
        "snapshot twice. A snapshot that cannot be taken is 503 snapshot_failed (archived, "
        'server left running); {"snapshot": false} archives without one',
        INSTRUCTOR + COURSE_ERRORS,
        ok=(
            200,
            _result(
                server_stopped={"type": "boolean"},
                snapshot={"oneOf": [_ref("Snapshot"), {"type": "null"}]},
                snapshot_created={"type": "boolean"},
            ),
        ),
        body={
            "type": "object",
            "additionalProperties": False,
            "properties": {"snapshot": {"type": "boolean", "description": "default true"}},
        },
        errors=WRITE_ERRORS,
    )
    archive["requestBody"]["required"] = False
    return {
        f"{COURSE}/cohorts": {
            "parameters": _path_params("course"),
            "get": _op(
                "listCohorts",
                "The course's cohorts (a learner sees only their own)",
                "A person in the course" + COURSE_ERRORS,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {"cohorts": {"type": "array", "items": _ref("CohortDetail")}},
                    },
                ),
                errors=READ_ERRORS,
            ),
            "post": _op(
                "createCohort",
                "Create a cohort: its hub group, its collaboration account and members' "
                "access; nothing is left behind if a step fails",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(201, _result()),
                body=_ref("NewCohort"),
                errors=WRITE_ERRORS,
            ),
        },
        COHORT: {
            "parameters": params,
            "get": _op(
                "getCohort",
                "One cohort with its members and staff (instructors also get `access`: who "
                "holds a share of the workspace now)",
                VIEWER + COURSE_ERRORS,
                ok=(200, _result()),
                errors=READ_ERRORS,
            ),
        },
        f"{COHORT}/members": {
            "parameters": params,
            "get": _op(
                "listCohortMembers",
                "The cohort's members",
                VIEWER + COURSE_ERRORS,
                ok=(200, {"type": "object", "properties": {"members": strings}}),
                errors=READ_ERRORS,
            ),
        },
        f"{COHORT}/members/{{user}}": {
            "parameters": [*params, *_path_params("user")],
            "put": _op(
                "addCohortMember",
                "Add a learner or mentor of the course and give them access to the "
                "workspace (201 when new, 200 when already a member); instructors are 409: "
                "they always have access",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(200, _result(added={"type": "boolean"})),
                errors=WRITE_ERRORS,
            ),
            "delete": _op(
                "removeCohortMember",
                "Revoke a member's access to the workspace, then their membership (open "
                "requests stop within the workspace's auth cache period, docs/cohorts.md); "
                "instructors are 409: they keep access to every cohort of their course",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(200, _result()),
                errors=WRITE_ERRORS,
            ),
        },
        f"{COHORT}/archive": {
            "parameters": params,
            "post": archive,
        },
        f"{COHORT}/sync": {
            "parameters": params,
            "post": _op(
                "syncCohort",
                "Make workspace access match the hub group again (after edits in the hub's "
                "admin page or a failed change); idempotent",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(
                    200,
                    _result(
                        granted=strings,
                        revoked=strings,
                        created_account={"type": "boolean"},
                    ),
                ),
                errors=WRITE_ERRORS,
            ),
        },
        f"{COHORT}/workspace": {
            "parameters": params,
            "post": open_workspace,
        },
        **team_paths(),
        **snapshot_paths(),
        f"{COURSE}/cohort-templates": {
            "parameters": _path_params("course"),
            "post": _op(
                "pushCohortTemplate",
                "Write a notebook into the workspace of every active cohort of the course (or "
                "the ones named), starting servers as needed; never over existing work: a new "
                "name (`t (2).ipynb`) or, with on_conflict refuse, the cohort is reported "
                "refused; a copy with the same cells counts as unchanged. One result per cohort",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(
                    200,
                    {
                        "type": "object",
                        "required": ["name", "results"],
                        "properties": {
                            "name": {"type": "string"},
                            "results": {"type": "array", "items": _ref("TemplateResult")},
                        },
                    },
                ),
                body=_ref("TemplatePush"),
                errors=(400, 401, 403, 404, 413, 502, 503),
            ),
        },
    }


SNAPSHOT_READER = (
    "The course's instructors and mentors, and members of the cohort when the snapshot was "
    "taken or now (anyone else gets 404)"
)


def snapshot_paths() -> dict[str, Any]:
    params = [*_path_params("course", "cohort"), *_path_params("snapshot")]
    one = f"{COHORT}/snapshots/{{snapshot}}"
    view = _op(
        "viewCohortSnapshotFile",
        "A notebook (rendered by nbconvert, user HTML sanitized) or text file as a read-only "
        "HTML page whose Content-Security-Policy runs no script; other files are 415",
        SNAPSHOT_READER + COURSE_ERRORS,
        errors=(*READ_ERRORS, 415),
    )
    view["responses"]["200"] = {
        "description": "the page",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    return {
        f"{COHORT}/snapshots": {
            "parameters": _path_params("course", "cohort"),
            "get": _op(
                "listCohortSnapshots",
                "Snapshots of the cohort's workspace taken when it was archived, newest first",
                SNAPSHOT_READER + COURSE_ERRORS,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {"snapshots": {"type": "array", "items": _ref("Snapshot")}},
                    },
                ),
                errors=READ_ERRORS,
            ),
        },
        one: {
            "parameters": params,
            "get": _op(
                "getCohortSnapshot",
                "One snapshot with its list of files",
                SNAPSHOT_READER + COURSE_ERRORS,
                ok=(200, {"type": "object", "properties": {"snapshot": _ref("Snapshot")}}),
                errors=READ_ERRORS,
            ),
        },
        f"{one}/files/{{path}}": {
            "parameters": [*params, *_path_params("path")],
            "get": _op(
                "getCohortSnapshotFile",
                "One file of a snapshot: a notebook as JSON (format json), text as text, "
                "anything else base64",
                SNAPSHOT_READER + COURSE_ERRORS,
                ok=(200, {"type": "object", "properties": {"file": _ref("SnapshotFile")}}),
                errors=READ_ERRORS,
            ),
        },
        f"{one}/view/{{path}}": {
            "parameters": [*params, *_path_params("path")],
            "get": view,
        },
    }


def team_paths() -> dict[str, Any]:
    params = _path_params("course", "cohort")
    team_params = [*params, *_path_params("team")]
    team = {"type": "object", "required": ["team"], "properties": {"team": _ref("Team")}}
    changed = {
        "type": "object",
        "required": ["team", "changed"],
        "properties": {"team": _ref("Team"), "changed": {"type": "boolean"}},
    }
    team_writes = (400, 401, 403, 404, 409, 422, 502, 503)
    return {
        f"{COHORT}/teams": {
            "parameters": params,
            "get": _op(
                "listCohortTeams",
                "The cohort's teams (hub groups team-<course>-<cohort>-<team>) and their members",
                VIEWER + COURSE_ERRORS,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {"teams": {"type": "array", "items": _ref("Team")}},
                    },
                ),
                errors=READ_ERRORS,
            ),
            "post": _op(
                "createCohortTeam",
                "Make a team inside the cohort; its members must be members of the cohort "
                "(422 not_a_cohort_member); a name in use is 409",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(201, team),
                body=_ref("NewTeam"),
                errors=team_writes,
            ),
        },
        f"{COHORT}/teams/{{team}}": {
            "parameters": team_params,
            "get": _op(
                "getCohortTeam",
                "One team",
                VIEWER + COURSE_ERRORS,
                ok=(200, team),
                errors=READ_ERRORS,
            ),
            "delete": _op(
                "deleteCohortTeam",
                "Delete a team (its hub group); its members stay in the cohort",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(200, team),
                errors=team_writes,
            ),
        },
        f"{COHORT}/teams/{{team}}/members/{{user}}": {
            "parameters": [*team_params, *_path_params("user")],
            "put": _op(
                "addCohortTeamMember",
                "Add a member of the cohort to the team (201 when new, 200 when already in it)",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(200, changed),
                errors=team_writes,
            ),
            "delete": _op(
                "removeCohortTeamMember",
                "Take someone out of the team (they stay in the cohort)",
                INSTRUCTOR + COURSE_ERRORS,
                ok=(200, changed),
                errors=team_writes,
            ),
        },
    }


def cohort_schemas() -> dict[str, Any]:
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "OpenWorkspace": {
            "type": "object",
            "additionalProperties": False,
            "description": "optional (an empty body waits for nothing)",
            "properties": {
                "wait": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 25,
                    "description": "seconds to wait for a starting server before answering",
                },
            },
        },
        "Workspace": {
            "type": "object",
            "required": ["course", "cohort", "account", "url", "state", "message", "started"],
            "properties": {
                "course": {"type": "string"},
                "cohort": {"type": "string"},
                "account": {"type": "string"},
                "url": {"type": "string", "description": "the workspace's JupyterLab"},
                "state": {"type": "string", "enum": ["ready", "starting"]},
                "message": {"type": "string"},
                "started": {"type": "boolean", "description": "this call started the server"},
            },
        },
        "TemplatePush": {
            "type": "object",
            "required": ["name", "notebook"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "description": "file name ending in .ipynb, no '/'"},
                "notebook": {"type": "object", "description": "the notebook (nbformat 4 JSON)"},
                "on_conflict": {"type": "string", "enum": ["rename", "refuse"]},
                "cohorts": {
                    **strings,
                    "description": "only these cohorts (default: every active one)",
                },
            },
        },
        "TemplateResult": {
            "type": "object",
            "required": ["cohort", "status", "path", "message"],
            "properties": {
                "cohort": {"type": "string"},
                "status": {
                    "type": "string",
                    "enum": ["written", "renamed", "unchanged", "refused", "failed"],
                },
                "path": {"type": ["string", "null"], "description": "the file in the workspace"},
                "message": {"type": "string"},
            },
        },
        "Snapshot": {
            "type": "object",
            "required": ["id", "course", "cohort", "taken_at", "members", "file_count"],
            "properties": {
                "id": {"type": "integer"},
                "course": {"type": "string"},
                "cohort": {"type": "string"},
                "taken_at": {"type": "string", "format": "date-time"},
                "taken_by": {"type": ["string", "null"]},
                "members": {**strings, "description": "the cohort's members when it was taken"},
                "file_count": {"type": "integer"},
                "total_bytes": {"type": "integer"},
                "skipped": {
                    "type": "array",
                    "description": "files left out (hidden ones are never listed) and why",
                    "items": {
                        "type": "object",
                        "properties": {"path": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
                "files": {"type": "array", "items": _ref("SnapshotFile")},
            },
        },
        "SnapshotFile": {
            "type": "object",
            "required": ["path", "kind", "format", "size"],
            "properties": {
                "path": {"type": "string"},
                "kind": {"type": "string", "enum": ["notebook", "file"]},
                "format": {"type": "string", "enum": ["json", "text", "base64"]},
                "mimetype": {"type": ["string", "null"]},
                "size": {"type": "integer"},
                "last_modified": {"type": ["string", "null"]},
                "content": {"description": "only when one file is asked for"},
            },
        },
        "NewTeam": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": "^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$",
                    "description": "1-32 lowercase letters, digits and inner hyphens",
                },
                "members": {**strings, "maxItems": 500, "description": "members of the cohort"},
            },
        },
        "Team": {
            "type": "object",
            "required": ["course", "cohort", "name", "group", "members"],
            "properties": {
                "course": {"type": "string"},
                "cohort": {"type": "string"},
                "name": {"type": "string"},
                "group": {"type": "string", "description": "the hub group"},
                "members": strings,
            },
        },
        "NewCohort": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": "^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$",
                    "description": "1-32 lowercase letters, digits and inner hyphens",
                },
                "members": {**strings, "maxItems": 500},
            },
        },
        "CohortDetail": {
            "type": "object",
            "required": [
                "course",
                "name",
                "group",
                "account",
                "workspace_url",
                "archived",
                "members",
                "staff",
            ],
            "properties": {
                "course": {"type": "string"},
                "name": {"type": "string"},
                "group": {"type": "string", "description": "the hub group cohort-<course>-<name>"},
                "account": {
                    "type": "string",
                    "description": "the collaboration account whose server is the workspace",
                },
                "workspace_url": {"type": "string"},
                "archived": {"type": "boolean"},
                "members": strings,
                "staff": {**strings, "description": "the course's instructors (always access)"},
                "access": {**strings, "description": "instructors only: who holds a share"},
            },
        },
    }
