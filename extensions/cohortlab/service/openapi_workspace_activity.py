"""OpenAPI paths and schemas for cohort workspace activity (``handlers/workspace_activity.py``)."""

from __future__ import annotations

from typing import Any

from .openapi_discussions import COURSE, _op, _path_params, _ref

ERRORS = "; an unknown course or cohort is 404, a person not in the course 403"


def workspace_activity_paths() -> dict[str, Any]:
    return {
        f"{COURSE}/cohorts/{{cohort}}/activity": {
            "parameters": _path_params("course", "cohort"),
            "post": _op(
                "reportWorkspaceActivity",
                "Add the caller's own edits and runs of one workspace notebook (the lab "
                "client reports them every few seconds); answers the caller's totals for it",
                "A member of the cohort or an instructor of the course, with their own "
                "session (a workspace's shared account gets 403 `workspace_account`; a "
                "learner of another cohort 404, a mentor who is not a member 403)" + ERRORS,
                ok=(200, {"type": "object", "properties": {"activity": _ref("ActivityRow")}}),
                body=_ref("ActivityReport"),
                errors=(400, 401, 403, 404),
            ),
            "get": _op(
                "getWorkspaceActivity",
                "Per-member contribution counts of the cohort's workspace: edits and runs in "
                "all, per notebook, and when last (members with none are listed with 0)",
                "An instructor of the course (learners and mentors get 403)" + ERRORS,
                ok=(200, _ref("WorkspaceActivity")),
                errors=(401, 403, 404),
            ),
        }
    }


def workspace_activity_schemas() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    return {
        "ActivityReport": {
            "type": "object",
            "required": ["notebook"],
            "additionalProperties": False,
            "properties": {
                "notebook": {"type": "string", "minLength": 1, "maxLength": 1024},
                "edits": {**count, "maximum": 1000},
                "runs": {**count, "maximum": 1000},
            },
        },
        "ActivityRow": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "notebook": {"type": "string"},
                "edits": count,
                "runs": count,
            },
        },
        "WorkspaceActivity": {
            "type": "object",
            "properties": {
                "course": {"type": "string"},
                "cohort": {"type": "string"},
                "members": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "role": {"type": ["string", "null"]},
                            "edits": count,
                            "runs": count,
                            "last_at": {"type": ["string", "null"], "format": "date-time"},
                            "notebooks": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "object",
                                    "properties": {"edits": count, "runs": count},
                                },
                            },
                        },
                    },
                },
            },
        },
    }
