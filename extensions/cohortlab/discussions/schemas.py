"""Input checks for discussion requests: one place, before any write.

Each function takes the decoded JSON body and returns clean values or raises a
400/422 :class:`~cohortlab.errors.APIError` whose message says what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import APIError
from ..store.discussions import KINDS, VISIBILITIES
from .anchoring import Anchor

MAX_BODY = 20_000
MAX_TITLE = 300
MAX_KEY = 255
MAX_NOTEBOOK_KEY = 512
MAX_CATEGORY = 100
MAX_FLAG_REASON = 1000


def _str(data: dict[str, Any], key: str, *, required: bool, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise APIError(400, "missing_field", f"{key!r} is required.")
        return None
    if not isinstance(value, str):
        raise APIError(400, "invalid_field", f"{key!r} must be a string.")
    if len(value) > limit:
        raise APIError(
            400, "too_long", f"{key!r} is {len(value):,} characters; the limit is {limit:,}."
        )
    return value


def _bool(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise APIError(400, "invalid_field", f"{key!r} must be true or false.")
    return value


def body_text(data: dict[str, Any]) -> str:
    body = _str(data, "body", required=True, limit=MAX_BODY)
    assert body is not None
    if not body.strip():
        raise APIError(400, "empty_body", "Write something before posting.")
    return body


def _unknown(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")


@dataclass(frozen=True)
class NewThread:
    kind: str
    title: str
    body: str
    notebook_key: str | None
    cell_key: str | None
    anchor: dict[str, Any] | None
    category: str | None
    visibility: str
    cohort: str | None
    anonymous: bool


MAX_PATH = 1024


def _anchor(anchor: Any, notebook_key: str | None) -> dict[str, Any] | None:
    """The anchor as stored: the fingerprint fields, plus the notebook's ``path`` in the
    author's server (relative, optional) so others' clients can offer to open it."""
    if anchor is None:
        return None
    if len(str(anchor)) > 4000:
        raise APIError(400, "invalid_anchor", "anchor is too large (keep the quote short).")
    try:
        stored: dict[str, Any] = Anchor.from_json(anchor).to_json()
    except ValueError as e:
        raise APIError(400, "invalid_anchor", str(e)) from None
    if not notebook_key:
        raise APIError(400, "invalid_anchor", "An anchor needs the notebook_key it is in.")
    path = anchor.get("path")
    if path is not None:
        if (
            not isinstance(path, str)
            or not path.endswith(".ipynb")
            or path.startswith("/")
            or ".." in path.split("/")
            or len(path) > MAX_PATH
        ):
            raise APIError(
                400,
                "invalid_anchor",
                "anchor.path must be a notebook's path relative to the server's root.",
            )
        stored["path"] = path
    return stored


def new_thread(data: dict[str, Any]) -> NewThread:
    _unknown(
        data,
        {
            "kind",
            "title",
            "body",
            "notebook_key",
            "cell_key",
            "anchor",
            "category",
            "visibility",
            "cohort",
            "anonymous",
        },
    )
    kind = data.get("kind", "comment")
    if kind not in KINDS:
        raise APIError(400, "invalid_kind", f"kind must be one of {', '.join(KINDS)}.")
    visibility = data.get("visibility", "course")
    if visibility not in VISIBILITIES:
        raise APIError(
            400, "invalid_visibility", f"visibility must be one of {', '.join(VISIBILITIES)}."
        )
    title = (_str(data, "title", required=False, limit=MAX_TITLE) or "").strip()
    body = body_text(data)
    notebook_key = _str(data, "notebook_key", required=False, limit=MAX_NOTEBOOK_KEY)
    cell_key = _str(data, "cell_key", required=False, limit=MAX_KEY)
    if cell_key and not notebook_key:
        raise APIError(400, "invalid_anchor", "A cell_key needs the notebook_key it belongs to.")
    anchor = _anchor(data.get("anchor"), notebook_key)
    category = _str(data, "category", required=False, limit=MAX_CATEGORY)
    if category and notebook_key:
        raise APIError(400, "invalid_category", "Categories are for course Q&A threads only.")
    cohort = _str(data, "cohort", required=False, limit=MAX_KEY)
    if visibility == "cohort" and not cohort:
        raise APIError(400, "missing_field", "A cohort-only thread needs 'cohort'.")
    if visibility != "cohort" and cohort:
        raise APIError(400, "invalid_field", "'cohort' is only for visibility 'cohort'.")
    if not title:
        title = " ".join(body.split())[:80]
    return NewThread(
        kind=kind,
        title=title,
        body=body,
        notebook_key=notebook_key,
        cell_key=cell_key,
        anchor=anchor,
        category=category,
        visibility=visibility,
        cohort=cohort,
        anonymous=_bool(data, "anonymous"),
    )


@dataclass(frozen=True)
class NewPost:
    body: str
    parent_id: int | None
    anonymous: bool


def new_post(data: dict[str, Any]) -> NewPost:
    _unknown(data, {"body", "parent_id", "anonymous"})
    parent = data.get("parent_id")
    if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
        raise APIError(400, "invalid_field", "'parent_id' must be a post id (an integer).")
    return NewPost(body=body_text(data), parent_id=parent, anonymous=_bool(data, "anonymous"))


THREAD_FLAGS = ("resolved", "pinned", "locked", "hidden")


@dataclass(frozen=True)
class ThreadChange:
    flags: dict[str, bool]
    accepted_post_id: int | None
    clear_accepted: bool
    title: str | None
    move_to: tuple[str | None, str | None] | None
    #: a new anchor for a move onto a cell (None: the thread keeps no anchor)
    move_anchor: dict[str, Any] | None = None
    #: a Q&A category (``""`` clears it); None leaves it as it is
    category: str | None = None


def thread_change(data: dict[str, Any]) -> ThreadChange:
    _unknown(
        data,
        {
            *THREAD_FLAGS,
            "accepted_post_id",
            "title",
            "notebook_key",
            "cell_key",
            "anchor",
            "category",
        },
    )
    if not data:
        raise APIError(400, "empty_change", "Say what to change.")
    flags = {k: _bool(data, k) for k in THREAD_FLAGS if k in data}
    accepted = data.get("accepted_post_id", ...)
    if (
        accepted is not ...
        and accepted is not None
        and (not isinstance(accepted, int) or isinstance(accepted, bool))
    ):
        raise APIError(400, "invalid_field", "'accepted_post_id' must be a post id or null.")
    title = _str(data, "title", required=False, limit=MAX_TITLE)
    if title is not None and not title.strip():
        raise APIError(400, "invalid_field", "The title cannot be empty.")
    move_to = None
    if "notebook_key" in data or "cell_key" in data:
        nb = _str(data, "notebook_key", required=False, limit=MAX_NOTEBOOK_KEY)
        cell = _str(data, "cell_key", required=False, limit=MAX_KEY)
        if cell and not nb:
            raise APIError(400, "invalid_anchor", "A cell_key needs the notebook_key.")
        move_to = (nb, cell)
    if "anchor" in data and (move_to is None or not move_to[1]):
        raise APIError(400, "invalid_anchor", "An anchor comes with a move onto a cell.")
    move_anchor = _anchor(data.get("anchor"), move_to[0] if move_to else None)
    category = None
    if "category" in data:
        category = (_str(data, "category", required=False, limit=MAX_CATEGORY) or "").strip()
    return ThreadChange(
        flags=flags,
        accepted_post_id=None if accepted is ... else accepted,
        clear_accepted=accepted is None and "accepted_post_id" in data,
        title=title.strip() if title else None,
        move_to=move_to,
        move_anchor=move_anchor,
        category=category,
    )


def flag_reason(data: dict[str, Any]) -> str:
    _unknown(data, {"reason"})
    reason = (_str(data, "reason", required=False, limit=MAX_FLAG_REASON) or "").strip()
    return reason or "No reason given"
