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
                "The cohort's workspace server adds what it saw each person do since its last "
                "report: cells edited and cells run, per notebook, from the authenticated "
                "connection that carried each change; answers how many entries were counted "
                "and who was skipped (not in the workspace)",
                "The cohort's own workspace server, with its hub token; everyone else (members "
                "included) gets 403 `workspace_server_only`" + ERRORS,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "counted": {"type": "integer"},
                            "skipped": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ),
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
            "required": ["reports"],
            "additionalProperties": False,
            "properties": {
                "reports": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 500,
                    "items": {
                        "type": "object",
                        "required": ["name", "notebook"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 255},
                            "notebook": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "edits": {**count, "maximum": 1000},
                            "runs": {**count, "maximum": 1000},
                        },
                    },
                }
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
