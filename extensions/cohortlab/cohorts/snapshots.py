"""Archive snapshots: the workspace's files kept in the service when a cohort is archived,
readable afterwards by its former members and the course's staff, never editable.

**Why a copy and not a read-only workspace.** jupyter-collaboration cannot enforce
read-only access on a running server, so an archived cohort's workspace is stopped and
nobody holds a share. What it held is copied into the service's database first.

**How.** :func:`take` reads every file through the workspace server's contents API
(``cohorts.contents``: as the account, behind the proxy), starting the server if it is not
running: the only reader that works with any spawner (the files may live on a volume only
the workspace's pod mounts). It runs after the shares are removed and before the server is
stopped (``hub.archive``'s ``before_stop``), so nobody new gets in while it reads; edits
that a still-open connection makes in those seconds reach the files on disk, which are
never deleted, but may miss the snapshot.

**Limits.** Hidden files and folders are left out (the contents API hides them, as
JupyterLab does), and so is any file over :data:`MAX_FILE_BYTES`, anything past
:data:`MAX_FILES` files or :data:`MAX_TOTAL_BYTES`; each is listed in ``skipped`` with why.

**Idempotent.** Archiving again after a snapshot was stored takes none; an archive that
failed before storing one takes it then. A new snapshot identical to the cohort's latest
(same ``digest``) is not stored twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..access import Caller
from ..errors import APIError
from ..store.cohort_snapshots import (
    CohortSnapshot,
    CohortSnapshotFile,
    compress,
    file_of,
    files_of,
    snapshots_of,
)
from ..store.models import User
from .contents import WorkspaceCallError, WorkspaceFiles, ensure_running, workspace_files
from .hub import HubClient
from .manage import CohortState, unknown_cohort

MAX_FILES = 2000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_DEPTH = 20


@dataclass(frozen=True)
class TakenFile:
    path: str
    kind: str  # notebook | file
    format: str  # json | text | base64
    mimetype: str | None
    data: bytes
    last_modified: datetime | None


@dataclass
class Taken:
    files: list[TakenFile] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(len(f.data) for f in self.files)

    @property
    def digest(self) -> str:
        """Over every path and its bytes: the same files give the same digest."""
        h = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.path):
            h.update(f.path.encode() + b"\0" + hashlib.sha256(f.data).digest())
        return h.hexdigest()


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _bytes(model: dict[str, Any]) -> tuple[str, bytes]:
    """(format, bytes) of a contents model with content."""
    content = model.get("content")
    if model.get("type") == "notebook":
        return "json", json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
    if model.get("format") == "base64":
        return "base64", base64.b64decode(content or "")
    return "text", str(content or "").encode()


async def read_files(files: WorkspaceFiles) -> Taken:
    """Walk the workspace from its root and read every file within the limits."""
    taken = Taken()
    folders: list[tuple[str, int]] = [("", 0)]
    while folders:
        folder, depth = folders.pop()
        listing = await files.get(folder)
        for entry in sorted((listing or {}).get("content") or [], key=lambda e: e["path"]):
            path, kind = entry["path"], entry.get("type")
            if kind == "directory":
                if depth + 1 > MAX_DEPTH:
                    taken.skipped.append({"path": path, "reason": f"deeper than {MAX_DEPTH}"})
                else:
                    folders.append((path, depth + 1))
                continue
            size = entry.get("size")
            if isinstance(size, int) and size > MAX_FILE_BYTES:
                taken.skipped.append({"path": path, "reason": "larger than 20 MB"})
                continue
            if len(taken.files) >= MAX_FILES:
                taken.skipped.append({"path": path, "reason": f"over {MAX_FILES} files"})
                continue
            model = await files.get(path)
            if model is None:  # gone since the listing
                continue
            fmt, data = _bytes(model)
            if len(data) > MAX_FILE_BYTES:
                taken.skipped.append({"path": path, "reason": "larger than 20 MB"})
                continue
            if taken.total_bytes + len(data) > MAX_TOTAL_BYTES:
                taken.skipped.append({"path": path, "reason": "over 200 MB in all"})
                continue
            taken.files.append(
                TakenFile(
                    path,
                    "notebook" if model.get("type") == "notebook" else "file",
                    fmt,
                    model.get("mimetype"),
                    data,
                    _when(model.get("last_modified")),
                )
            )
    return taken


async def take(hub: HubClient, cohort: CohortState) -> Taken:
    """Start the workspace if needed and read its files (503 ``snapshot_failed`` if not)."""
    try:
        await ensure_running(hub, cohort)
        async with workspace_files(hub, cohort, "archive snapshot") as files:
            return await read_files(files)
    except (APIError, WorkspaceCallError) as e:
        reason = e.message
        raise APIError(
            503,
            "snapshot_failed",
            f"Cohort {cohort.name!r} is archived (nobody has access) but its workspace could "
            f"not be copied ({reason}), so its server was left running. Archive it again to "
            "retry, or archive with snapshot false (CLI --no-snapshot) to stop it without a "
            "copy; its files stay in the workspace account either way.",
        ) from None


# --- storing and reading (in a transaction: ``run_db``) ---------------------------------------


def latest(session: Session, course: str, cohort: str) -> CohortSnapshot | None:
    found = snapshots_of(session, course, cohort)
    return found[0] if found else None


def latest_json(session: Session, course: str, cohort: str) -> dict[str, Any] | None:
    row = latest(session, course, cohort)
    return row.to_json(_user_name(session, row.taken_by)) if row else None


def store(
    session: Session, cohort: CohortState, caller: Caller, taken: Taken
) -> tuple[dict[str, Any], bool]:
    """Store ``taken`` unless the cohort's latest snapshot has the same files; (it, new)."""
    digest = taken.digest
    last = latest(session, cohort.course, cohort.name)
    if last is not None and last.digest == digest:
        return last.to_json(_user_name(session, last.taken_by)), False
    row = CohortSnapshot(
        course=cohort.course,
        cohort=cohort.name,
        account=cohort.account,
        members=list(cohort.members),
        digest=digest,
        file_count=len(taken.files),
        total_bytes=taken.total_bytes,
        skipped=taken.skipped,
        taken_by=caller.user_id,
    )
    session.add(row)
    session.flush()
    for f in taken.files:
        session.add(
            CohortSnapshotFile(
                snapshot_id=row.id,
                path=f.path,
                kind=f.kind,
                format=f.format,
                mimetype=f.mimetype,
                size=len(f.data),
                last_modified=f.last_modified,
                content=compress(f.data),
            )
        )
    session.flush()
    return row.to_json(caller.name), True


def may_read(caller: Caller, snapshot: CohortSnapshot) -> bool:
    """Staff of the course, whoever was a member when it was taken, and members now."""
    return caller.is_staff or caller.name in snapshot.members or snapshot.cohort in caller.cohorts


def _user_name(session: Session, user_id: int) -> str | None:
    user = session.get(User, user_id)
    return user.name if user else None


def list_json(session: Session, caller: Caller, cohort: str) -> list[dict[str, Any]]:
    """The cohort's snapshots the caller may read, newest first; 404 when they may read none
    and are not in the cohort (so a learner of another cohort learns nothing)."""
    rows = snapshots_of(session, caller.course, cohort)
    visible = [r for r in rows if may_read(caller, r)]
    if not visible and not (caller.is_staff or cohort in caller.cohorts):
        raise unknown_cohort(caller.course, cohort)
    return [r.to_json(_user_name(session, r.taken_by)) for r in visible]


def find(session: Session, caller: Caller, cohort: str, snapshot_id: int) -> CohortSnapshot:
    row = session.get(CohortSnapshot, snapshot_id)
    if row is None or (row.course, row.cohort) != (caller.course, cohort):
        raise APIError(404, "unknown_snapshot", f"Cohort {cohort!r} has no snapshot {snapshot_id}.")
    if not may_read(caller, row):
        raise unknown_cohort(caller.course, cohort)
    return row


def snapshot_json(
    session: Session, caller: Caller, cohort: str, snapshot_id: int
) -> dict[str, Any]:
    row = find(session, caller, cohort, snapshot_id)
    return {
        **row.to_json(_user_name(session, row.taken_by)),
        "files": [f.to_json() for f in files_of(session, row.id)],
    }


def stored_file(
    session: Session, caller: Caller, cohort: str, snapshot_id: int, path: str
) -> CohortSnapshotFile:
    row = find(session, caller, cohort, snapshot_id)
    found = file_of(session, row.id, path)
    if found is None:
        raise APIError(404, "unknown_file", f"Snapshot {snapshot_id} has no file {path!r}.")
    session.expunge(found)  # read after the transaction: content is loaded already
    return found


def file_json(f: CohortSnapshotFile) -> dict[str, Any]:
    """A stored file as the API returns it: notebooks as JSON, text as text, else base64."""
    data = f.data
    if f.format == "json":
        content: Any = json.loads(data)
    elif f.format == "text":
        content = data.decode("utf-8", errors="replace")
    else:
        content = base64.b64encode(data).decode()
    return {**f.to_json(), "content": content}


# --- the read-only view ------------------------------------------------------------------

#: The view page may show styles and inline images and nothing else: ``sandbox`` without
#: ``allow-scripts`` runs no script whatever the page holds (nbconvert's template links
#: require.js and MathJax; they are blocked too), and user HTML is sanitized before that.
VIEW_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)

TEXT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><p>{note}</p><pre>{text}</pre></body></html>
"""


def render_view(f: CohortSnapshotFile, note: str) -> str:
    """A stored notebook or text file as a read-only HTML page (user content sanitized)."""
    import html

    if f.format == "json":
        import nbformat
        from nbconvert import HTMLExporter

        node = nbformat.reads(f.data.decode("utf-8"), as_version=4)
        exporter = HTMLExporter(template_name="lab", sanitize_html=True)
        body, _resources = exporter.from_notebook_node(node, resources={"metadata": {"name": note}})
        style = "padding:4px 8px;background:#fff3cd"
        return _insert_banner(body, f'<p role="note" style="{style}">{html.escape(note)}</p>')
    if f.format == "text":
        text = f.data.decode("utf-8", errors="replace")
        return TEXT_PAGE.format(
            title=html.escape(f.path), note=html.escape(note), text=html.escape(text)
        )
    raise APIError(
        415,
        "not_viewable",
        f"{f.path} is not a notebook or a text file; fetch it from the snapshot's files "
        "instead (base64).",
    )


def _insert_banner(page: str, banner: str) -> str:
    """Put ``banner`` first inside ``<body ...>`` (or on top when there is no body tag)."""
    start = page.find("<body")
    end = page.find(">", start) if start >= 0 else -1
    if end < 0:
        return banner + page
    return page[: end + 1] + banner + page[end + 1 :]


__all__ = [
    "VIEW_CSP",
    "Taken",
    "TakenFile",
    "file_json",
    "find",
    "latest",
    "latest_json",
    "list_json",
    "may_read",
    "read_files",
    "render_view",
    "snapshot_json",
    "store",
    "stored_file",
    "take",
]
