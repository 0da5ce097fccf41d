"""The API described as OpenAPI 3.1. A test checks it against the routes, so keep it true."""

from __future__ import annotations

from typing import Any

from .._version import __version__
from .openapi_cohorts import cohort_paths, cohort_schemas
from .openapi_discussions import discussion_paths, discussion_schemas
from .openapi_quizzes import quiz_paths, quiz_schemas
from .openapi_review_results import review_result_paths, review_result_schemas
from .openapi_reviews import review_paths, review_schemas
from .openapi_workspace_activity import workspace_activity_paths, workspace_activity_schemas

ERROR = {"$ref": "#/components/responses/Error"}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): ERROR for s in statuses}


def openapi_document(base_url: str) -> dict[str, Any]:
    auth = [{"hubToken": []}, {"hubOAuthCookie": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CohortLab service API",
            "version": __version__,
            "description": (
                "The CohortLab hub service. Every request needs a JupyterHub identity: "
                "a hub token (`Authorization: token ...`) or the service's OAuth cookie. "
                'Errors have one shape: `{"error": {"code", "message"}}`.'
            ),
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "security": auth,
        "paths": {
            "/api/v1": {
                "get": {
                    "summary": "Service version",
                    "description": "Any hub identity (user or service).",
                    "operationId": "getVersion",
                    "responses": {
                        "200": {
                            "description": "The service's version",
                            "content": {"application/json": {"schema": _ref("Version")}},
                        },
                        **_errors(401, 403),
                    },
                }
            },
            "/api/v1/me": {
                "get": {
                    "summary": "Who I am: courses with my role in each, and my cohorts",
                    "description": "Hub users only (services get 403).",
                    "operationId": "getMe",
                    "responses": {
                        "200": {
                            "description": "The caller",
                            "content": {"application/json": {"schema": _ref("Me")}},
                        },
                        **_errors(401, 403, 503),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "description": "Any hub identity.",
                    "operationId": "getOpenAPI",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(401, 403),
                    },
                }
            },
            "/api/v1/events": {
                "get": {
                    "summary": "Per-user event stream (WebSocket)",
                    "description": (
                        "Upgrade to a WebSocket. Hub users only; each connection receives only "
                        "events addressed to its own user. Frames are JSON objects with a "
                        '`type`; the first is `{"type": "hello", "user": <name>}`.'
                    ),
                    "operationId": "streamEvents",
                    "responses": {
                        "101": {"description": "Switching to the WebSocket protocol"},
                        **_errors(400, 401, 403),
                    },
                }
            },
            **discussion_paths(),
            **quiz_paths(),
            **cohort_paths(),
            **review_paths(),
            **review_result_paths(),
            **workspace_activity_paths(),
            "/api/v1/events/ping": {
                "post": {
                    "summary": "Send a pong event to my own stream",
                    "description": "Hub users only; reaches only the caller's own connections.",
                    "operationId": "pingEvents",
                    "parameters": [
                        {
                            "name": "token",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 64},
                        }
                    ],
                    "responses": {
                        "202": {
                            "description": "Published",
                            "content": {"application/json": {"schema": _ref("Ping")}},
                        },
                        **_errors(400, 401, 403),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "hubToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <JupyterHub API token>`",
                },
                "hubOAuthCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "cohortlab-oauth",
                    "description": "Set by the service's OAuth flow with the hub "
                    "(cookie name is `<JUPYTERHUB_CLIENT_ID>`)",
                },
            },
            "responses": {
                "Error": {
                    "description": "An error a person can act on",
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Version": {
                    "type": "object",
                    "required": ["version", "api"],
                    "properties": {"version": {"type": "string"}, "api": {"const": "v1"}},
                },
                "Course": {
                    "type": "object",
                    "required": ["id", "role", "roles"],
                    "properties": {
                        "id": {"type": "string"},
                        "role": {"enum": ["instructor", "mentor", "learner"]},
                        "roles": {
                            "type": "array",
                            "items": {"enum": ["instructor", "mentor", "learner"]},
                        },
                    },
                },
                "Cohort": {
                    "type": "object",
                    "required": ["course", "name", "group"],
                    "properties": {
                        "course": {"type": "string"},
                        "name": {"type": "string"},
                        "group": {"type": "string"},
                    },
                },
                "Me": {
                    "type": "object",
                    "required": ["name", "admin", "courses", "cohorts"],
                    "properties": {
                        "name": {"type": "string"},
                        "admin": {"type": "boolean"},
                        "courses": {"type": "array", "items": _ref("Course")},
                        "cohorts": {"type": "array", "items": _ref("Cohort")},
                    },
                },
                **discussion_schemas(),
                **quiz_schemas(),
                **cohort_schemas(),
                **review_schemas(),
                **review_result_schemas(),
                **workspace_activity_schemas(),
                "Ping": {
                    "type": "object",
                    "required": ["sent", "token"],
                    "properties": {"sent": {"type": "boolean"}, "token": {"type": "string"}},
                },
            },
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
