"""OpenAPI paths and schemas for discussions and notifications (merged into openapi.py)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}
COURSE = "/api/v1/courses/{course}"
MEMBER = "A person in the course (learner, mentor or instructor)"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(
    op_id: str,
    summary: str,
    who: str,
    *,
    ok: tuple[int, dict[str, Any]] = (200, {"type": "object"}),
    body: dict[str, Any] | None = None,
    errors: tuple[int, ...] = (400, 401, 403, 404),
    query: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    status, schema = ok
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "description": who,
        "responses": {
            str(status): {"description": "No content"} if status == 204 else _json(schema),
            **{str(e): ERROR for e in errors},
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if query:
        op["parameters"] = [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in query
        ]
    return op


def _path_params(*names: str) -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "in": "path",
            "required": True,
            "schema": {"type": "integer"} if n.endswith("_id") else {"type": "string"},
        }
        for n in names
    ]


THREAD = _ref("ThreadDetail")
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 429)


def discussion_paths() -> dict[str, Any]:
    thread_params = _path_params("course", "thread_id")
    post_params = _path_params("course", "post_id")
    return {
        f"{COURSE}/threads": {
            "parameters": _path_params("course"),
            "get": _op(
                "listThreads",
                "List visible threads (course Q&A, a notebook, a cell, or a search)",
                MEMBER,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {"threads": {"type": "array", "items": _ref("Thread")}},
                    },
                ),
                query=[
                    ("scope", "course (Q&A), notebook or all"),
                    ("notebook_key", "the notebook"),
                    ("cell_key", "one cell"),
                    ("category", "a Q&A category"),
                    ("q", "search text"),
                ],
            ),
            "post": _op(
                "openThread",
                "Open a thread",
                MEMBER + "; cohort threads only in one's own cohort",
                ok=(201, THREAD),
                body=_ref("NewThread"),
                errors=WRITE_ERRORS,
            ),
        },
        f"{COURSE}/threads/{{thread_id}}": {
            "parameters": thread_params,
            "get": _op(
                "getThread", "A thread with its posts", MEMBER + " who may see it", ok=(200, THREAD)
            ),
            "patch": _op(
                "changeThread",
                "Resolve/reopen, accept an answer, retitle (author or "
                "staff); pin, lock, hide, move (staff)",
                MEMBER + " with the right given in the summary",
                ok=(200, THREAD),
                body=_ref("ThreadChange"),
                errors=WRITE_ERRORS,
            ),
            "delete": _op(
                "deleteThread",
                "Delete a thread (soft)",
                "Its author or staff",
                ok=(204, {}),
                errors=(401, 403, 404),
            ),
        },
        f"{COURSE}/threads/{{thread_id}}/posts": {
            "parameters": thread_params,
            "post": _op(
                "reply",
                "Reply to a thread",
                MEMBER + " who may see it; not when locked (except staff). Answers with the "
                "new post and the thread's summary (not its posts: fetch the thread for those)",
                ok=(201, _ref("Reply")),
                body=_ref("NewPost"),
                errors=WRITE_ERRORS,
            ),
        },
        f"{COURSE}/threads/{{thread_id}}/follow": {
            "parameters": thread_params,
            "put": _op("follow", "Follow a thread", MEMBER + " who may see it"),
            "delete": _op("unfollow", "Stop following a thread", MEMBER + " who may see it"),
        },
        f"{COURSE}/thread-counts": {
            "parameters": _path_params("course"),
            "get": _op(
                "threadCounts",
                "Visible threads per cell of a notebook",
                MEMBER,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {
                            "notebook_key": {"type": "string"},
                            "counts": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                            },
                        },
                    },
                ),
                query=[("notebook_key", "the notebook (required)")],
            ),
        },
        f"{COURSE}/posts/{{post_id}}": {
            "parameters": post_params,
            "patch": _op(
                "changePost",
                "Edit one's own post ({body}, history kept) or hide a post ({hidden}, staff)",
                "The author (edit) or staff (hide)",
                ok=(200, THREAD),
                body={
                    "type": "object",
                    "properties": {
                        "body": {"type": "string", "maxLength": 20000},
                        "hidden": {"type": "boolean"},
                    },
                },
                errors=WRITE_ERRORS,
            ),
            "delete": _op(
                "deletePost",
                "Delete a post (soft, shown as deleted)",
                "The author or staff",
                ok=(200, THREAD),
            ),
        },
        f"{COURSE}/posts/{{post_id}}/revisions": {
            "parameters": post_params,
            "get": _op("postRevisions", "Earlier bodies of an edited post", "The author or staff"),
        },
        f"{COURSE}/posts/{{post_id}}/vote": {
            "parameters": post_params,
            "put": _op(
                "upvote",
                "Upvote a post",
                MEMBER + " who may see it (not one's own)",
                ok=(200, THREAD),
                errors=(401, 403, 404, 409),
            ),
            "delete": _op(
                "unvote", "Take back an upvote", MEMBER + " who may see it", ok=(200, THREAD)
            ),
        },
        f"{COURSE}/posts/{{post_id}}/endorsement": {
            "parameters": post_params,
            "put": _op(
                "endorse", "Endorse a post", "Staff (instructors and mentors)", ok=(200, THREAD)
            ),
            "delete": _op("unendorse", "Withdraw an endorsement", "Staff", ok=(200, THREAD)),
        },
        f"{COURSE}/posts/{{post_id}}/flags": {
            "parameters": post_params,
            "post": _op(
                "flagPost",
                "Flag a post for staff",
                MEMBER + " who may see it (not one's own)",
                ok=(201, {"type": "object"}),
                body={"type": "object", "properties": {"reason": {"type": "string"}}},
                errors=(400, 401, 403, 404, 409),
            ),
            "delete": _op(
                "dismissFlags",
                "Dismiss a post's open flags without hiding it (logged)",
                "Staff",
                ok=(200, {"type": "object", "properties": {"dismissed": {"type": "integer"}}}),
            ),
        },
        f"{COURSE}/flags": {
            "parameters": _path_params("course"),
            "get": _op("listFlags", "Flagged posts with counts and reasons", "Staff"),
        },
        f"{COURSE}/moderation-log": {
            "parameters": _path_params("course"),
            "get": _op("moderationLog", "Every moderation action: who, what, when", "Staff"),
        },
        f"{COURSE}/members": {
            "parameters": _path_params("course"),
            "get": _op(
                "listMembers",
                "Course members for @mention completion",
                MEMBER,
                query=[("q", "name prefix")],
            ),
        },
        "/api/v1/notifications": {
            "get": _op(
                "listNotifications",
                "My notifications and unread count, about threads I may see now (none "
                "about a course or cohort I have left)",
                "Hub users (their own only)",
                query=[("unread", "true: unread only")],
                errors=(401, 403),
            ),
        },
        "/api/v1/notifications/read": {
            "post": _op(
                "markNotificationsRead",
                "Mark my notifications read",
                "Hub users (their own only)",
                body={
                    "type": "object",
                    "properties": {
                        "ids": {"type": "array", "items": {"type": "integer"}},
                        "all": {"type": "boolean"},
                    },
                },
                errors=(400, 401, 403),
            ),
        },
    }


def discussion_schemas() -> dict[str, Any]:
    nullable_str = {"type": ["string", "null"]}
    thread_props: dict[str, Any] = {
        "id": {"type": "integer"},
        "course": {"type": "string"},
        "notebook_key": {
            "type": ["string", "null"],
            "description": "null to peers of an anonymous thread on a notebook nbgrader did "
            "not release (its key may be the asker's alone): they list it in the course Q&A",
        },
        "cell_key": {
            "type": ["string", "null"],
            "description": "null where notebook_key is null to peers",
        },
        "anchor": {
            "type": ["object", "null"],
            "description": "the cell's fingerprint; null to peers of an anonymous thread",
        },
        "category": nullable_str,
        "kind": {"enum": ["comment", "question", "note"]},
        "title": {"type": "string"},
        "visibility": {"enum": ["course", "cohort", "staff"]},
        "cohort": nullable_str,
        "author": {
            "type": ["string", "null"],
            "description": "null for anonymous posts, except to staff and the author",
        },
        "anonymous": {"type": "boolean"},
        "mine": {"type": "boolean"},
        "resolved": {"type": "boolean"},
        "pinned": {"type": "boolean"},
        "locked": {"type": "boolean"},
        "hidden": {"type": "boolean"},
        "deleted": {"type": "boolean"},
        "accepted_post_id": {"type": ["integer", "null"]},
        "reply_count": {"type": "integer"},
        "following": {"type": "boolean"},
        "created_at": {"type": "string"},
        "last_activity_at": {"type": "string"},
    }
    return {
        "Thread": {"type": "object", "properties": thread_props},
        "ThreadDetail": {
            "type": "object",
            "properties": {**thread_props, "posts": {"type": "array", "items": _ref("Post")}},
        },
        "Reply": {
            "type": "object",
            "required": ["post", "thread"],
            "properties": {"post": _ref("Post"), "thread": _ref("Thread")},
        },
        "Post": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "thread_id": {"type": "integer"},
                "parent_id": {"type": ["integer", "null"]},
                "author": nullable_str,
                "anonymous": {"type": "boolean"},
                "mine": {"type": "boolean"},
                "body": {
                    "type": ["string", "null"],
                    "description": "Markdown source; null when deleted or hidden",
                },
                "deleted": {"type": "boolean"},
                "hidden": {"type": "boolean"},
                "votes": {"type": "integer"},
                "voted": {"type": "boolean"},
                "endorsed": {"type": "boolean"},
                "endorsed_by": nullable_str,
                "accepted": {"type": "boolean"},
            },
        },
        "NewThread": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "kind": {"enum": ["comment", "question", "note"]},
                "title": {"type": "string", "maxLength": 300},
                "body": {"type": "string", "minLength": 1, "maxLength": 20000},
                "notebook_key": {"type": "string"},
                "cell_key": {"type": "string"},
                "anchor": {"type": "object"},
                "category": {"type": "string"},
                "visibility": {"enum": ["course", "cohort", "staff"]},
                "cohort": {"type": "string"},
                "anonymous": {"type": "boolean"},
            },
        },
        "NewPost": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "body": {"type": "string", "minLength": 1, "maxLength": 20000},
                "parent_id": {"type": "integer"},
                "anonymous": {"type": "boolean"},
            },
        },
        "ThreadChange": {
            "type": "object",
            "properties": {
                "resolved": {"type": "boolean"},
                "pinned": {"type": "boolean"},
                "locked": {"type": "boolean"},
                "hidden": {"type": "boolean"},
                "accepted_post_id": {"type": ["integer", "null"]},
                "title": {"type": "string"},
                "notebook_key": nullable_str,
                "cell_key": nullable_str,
                "anchor": {
                    "type": "object",
                    "description": "the new cell's fingerprint, with a move onto a cell",
                },
                "category": {
                    "type": ["string", "null"],
                    "description": "Q&A category of a course-level thread; empty clears it",
                },
            },
        },
    }
