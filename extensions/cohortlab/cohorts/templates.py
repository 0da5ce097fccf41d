"""Pushing a notebook template into the workspaces of a course's cohorts, never over work.

For each active cohort (or the ones named) the service starts the workspace server if
needed and writes the notebook through its contents API (``cohorts.contents``: the same
path on one machine and on Kubernetes, and jupyter_server's own checks). A file of that
name is never replaced:

- ``rename`` (default): the first free name of ``template.ipynb``, ``template (2).ipynb``,
  ``template (3).ipynb``, ... (``renamed``);
- ``refuse``: the cohort is reported ``refused`` with the file that is in the way.

A candidate that already holds the same cells as the template counts as done
(``unchanged``), so pushing again after a partial failure fills in the cohorts that missed
it instead of making copies everywhere. Each cohort gets its own outcome (``written``,
``renamed``, ``unchanged``, ``refused``, ``failed`` with the reason); one cohort failing
does not stop the others.

Between looking for a free name and writing, a member could create the same file; the
contents API has no "create only if absent", so that window (milliseconds) remains.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import nbformat

from ..errors import APIError
from .contents import WorkspaceCallError, ensure_running, workspace_files
from .hub import HubClient, list_cohorts, load_cohort
from .manage import CohortState, check_cohort_name

log = logging.getLogger(__name__)

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
#: How many "name (n).ipynb" to try before giving up on a cohort.
MAX_COPIES = 50
FILE_NAME = re.compile(r"[^/\\\x00-\x1f]{1,200}\.ipynb")

OnConflict = Literal["rename", "refuse"]
Status = Literal["written", "renamed", "unchanged", "refused", "failed"]


@dataclass(frozen=True)
class Template:
    name: str
    notebook: dict[str, Any]
    on_conflict: OnConflict
    cohorts: tuple[str, ...] | None  # None: every active cohort of the course


def check_template(data: Mapping[str, Any]) -> Template:
    """Check a push body before any workspace is touched (400 with what to fix)."""
    extra = sorted(set(data) - {"name", "notebook", "on_conflict", "cohorts"})
    if extra:
        raise APIError(400, "unknown_field", f"Unknown field(s): {', '.join(extra)}.")
    name = data.get("name")
    if not isinstance(name, str) or not FILE_NAME.fullmatch(name) or name.startswith("."):
        raise APIError(
            400,
            "invalid_name",
            f"{name!r} is not a notebook file name: give a name ending in .ipynb, without "
            "folders ('/'), not starting with '.'.",
        )
    on_conflict = data.get("on_conflict", "rename")
    if on_conflict not in ("rename", "refuse"):
        raise APIError(400, "invalid_field", "'on_conflict' is 'rename' (default) or 'refuse'.")
    cohorts = data.get("cohorts")
    if cohorts is not None:
        if not isinstance(cohorts, list) or not cohorts:
            raise APIError(400, "invalid_field", "'cohorts' is a non-empty list of cohort names.")
        cohorts = tuple(dict.fromkeys(check_cohort_name(c) for c in cohorts))
    return Template(name, check_notebook(data.get("notebook")), on_conflict, cohorts)


def check_notebook(raw: Any) -> dict[str, Any]:
    """A valid nbformat 4 notebook (older ones are converted), at most 5 MB."""
    if not isinstance(raw, dict):
        raise APIError(400, "invalid_notebook", "'notebook' must be the notebook's JSON.")
    if len(json.dumps(raw)) > MAX_TEMPLATE_BYTES:
        raise APIError(413, "too_large", "The template is larger than 5 MB; make it smaller.")
    try:
        node = nbformat.from_dict(raw)
        node = nbformat.convert(node, 4) if node.get("nbformat", 4) != 4 else node
        nbformat.validate(node)
    except Exception as e:  # nbformat raises several kinds for a broken notebook
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise APIError(
            400, "invalid_notebook", f"'notebook' is not a valid notebook: {first}"
        ) from None
    return dict(node)


def candidates(name: str) -> list[str]:
    stem = name[: -len(".ipynb")]
    return [name] + [f"{stem} ({n}).ipynb" for n in range(2, MAX_COPIES + 1)]


def same_cells(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two notebooks hold the same cells (type and source), whatever else differs."""

    def cells(nb: Mapping[str, Any]) -> list[tuple[str, str]]:
        out = []
        for cell in nb.get("cells") or []:
            source = cell.get("source", "")
            out.append(
                (cell.get("cell_type", ""), "".join(source) if isinstance(source, list) else source)
            )
        return out

    return cells(a) == cells(b)


@dataclass(frozen=True)
class Outcome:
    cohort: str
    status: Status
    path: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"cohort": self.cohort, "status": self.status, "path": self.path,
                "message": self.message}  # fmt: skip


async def targets(hub: HubClient, course: str, names: Sequence[str] | None) -> list[CohortState]:
    """The cohorts to push to: every active one, or the ones named (each must exist: 404)."""
    if names is None:
        return [c for c in await list_cohorts(hub, course) if not c.archived]
    return [await load_cohort(hub, course, name) for name in names]


async def push_template(hub: HubClient, course: str, template: Template) -> list[Outcome]:
    """Write the template into each target cohort's workspace; one outcome per cohort."""
    return [
        await push_one(hub, cohort, template)
        for cohort in await targets(hub, course, template.cohorts)
    ]


async def push_one(hub: HubClient, cohort: CohortState, template: Template) -> Outcome:
    if cohort.archived:
        return Outcome(cohort.name, "failed", None, "archived: its workspace takes no new files")
    try:
        await ensure_running(hub, cohort)
        async with workspace_files(hub, cohort, f"template {template.name}") as files:
            return await _place(files, cohort, template)
    except APIError as e:
        return Outcome(cohort.name, "failed", None, e.message)
    except WorkspaceCallError as e:
        log.warning("Template %s into %s failed: %s", template.name, cohort.group, e)
        return Outcome(
            cohort.name, "failed", None, f"the workspace answered {e.status}: {e.message}"
        )


async def _place(files: Any, cohort: CohortState, template: Template) -> Outcome:
    names = candidates(template.name)
    for i, path in enumerate(names):
        existing = await files.get(path)
        if existing is None:
            await files.put(
                path, {"type": "notebook", "format": "json", "content": template.notebook}
            )
            status: Status = "written" if i == 0 else "renamed"
            verb = "written as" if i == 0 else f"{template.name} exists, written as"
            return Outcome(cohort.name, status, path, f"{verb} {path}")
        if existing.get("type") == "notebook" and same_cells(
            existing.get("content") or {}, template.notebook
        ):
            return Outcome(cohort.name, "unchanged", path, f"already there as {path} (same cells)")
        if template.on_conflict == "refuse":
            return Outcome(
                cohort.name, "refused", path,
                f"{path} already exists in its workspace; nothing written",
            )  # fmt: skip
    return Outcome(
        cohort.name, "failed", None,
        f"{names[0]} to {names[-1]} all exist; push it under another --name",
    )  # fmt: skip


__all__ = [
    "Outcome",
    "Template",
    "candidates",
    "check_template",
    "push_one",
    "push_template",
    "same_cells",
]
