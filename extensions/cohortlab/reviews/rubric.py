"""What a peer review round accepts, checked in one place before anything is written.

Pure functions over JSON bodies (no database): a round's settings, its rubric, the anonymous
copies an upload stages, and a reviewer's review. Each raises :class:`~cohortlab.errors.APIError`
(400) with a sentence saying what to change, so the service never stores half-checked input
and the CLI can print the message as it is.

The rubric is nbgrader's manually graded cells (key ``<notebook>:<grade_id>``, so the export
slice can write a score back to that very cell) plus criteria the instructor adds (key: their
``id``, which cannot contain ``:``, so the two never clash).
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import APIError
from ..quizzes.spec import SpecError, parse_time
from .anonymize import MIN_FREE_LENGTH, find_identifying
from .names import is_common

MAX_K = 20
MAX_LEASE_HOURS = 24 * 365
MAX_CRITERIA = 100
MAX_POINTS = 1000.0
MAX_TEXT = 5000
MAX_OVERALL = 20000
MAX_CELL_COMMENTS = 500
MAX_NOTEBOOKS = 50
MAX_AUTHORS = 20000
MIN_SEED = 16
RULES = ("across_cohorts", "separate_teams")  # allocation rules (allocation.Constraints)
PACK_MATCHING_BELOW = 256 * 1024  # bytes of JSON; above, pack() uses Huffman coding only
CELL_STATUSES = ("unchanged", "changed", "added", "unknown")
DEFAULTS = {"k": 3, "lease_hours": 48.0, "balance": "strict", "due_at": None}
SETTING_FIELDS = ("k", "due_at", "lease_hours", "across_cohorts", "separate_teams", "balance")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def bad(code: str, message: str) -> APIError:
    return APIError(400, code, message)


def _unknown(body: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad(
            "invalid_field",
            f"Unknown field(s) in {what}: {', '.join(unknown)}; send any of "
            f"{', '.join(sorted(allowed))}.",
        )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any, where: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad("invalid_field", f"{where} must be {'non-empty ' if required else ''}text.")
    if len(value) > limit:
        raise bad("invalid_field", f"{where} is longer than {limit} characters.")
    return value


# --- settings ---------------------------------------------------------------------------------


def parse_settings(body: Mapping[str, Any]) -> dict[str, Any]:
    """The round settings present in ``body`` (absent ones are left to the round or defaults).

    ``due_at`` is an ISO 8601 time with a zone or null; ``lease_hours`` a number of hours
    (fractions allowed) or null for no lease; ``across_cohorts`` and ``separate_teams``
    booleans; ``balance``
    ``strict`` (loads within ±1 or refuse) or ``best`` (the most even loads the rules allow).
    """
    out: dict[str, Any] = {}
    if "k" in body:
        k = body["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise bad("invalid_settings", f"k (reviews per submission) must be 1 to {MAX_K}.")
        out["k"] = k
    if "due_at" in body:
        try:
            due = parse_time(body["due_at"], "due_at")
        except SpecError as e:
            raise bad("invalid_settings", str(e)) from None
        out["due_at"] = due.isoformat() if due else None
    if "lease_hours" in body:
        lease = body["lease_hours"]
        if lease is not None and (not _number(lease) or not 0 < lease <= MAX_LEASE_HOURS):
            raise bad(
                "invalid_settings",
                f"lease_hours must be a number of hours above 0 and at most {MAX_LEASE_HOURS}, "
                "or null for no lease.",
            )
        out["lease_hours"] = float(lease) if lease is not None else None
    for rule in RULES:
        if rule in body:
            if not isinstance(body[rule], bool):
                raise bad("invalid_settings", f"{rule} must be true or false.")
            out[rule] = body[rule]
    if "balance" in body:
        if body["balance"] not in ("strict", "best"):
            raise bad("invalid_settings", "balance must be strict or best.")
        out["balance"] = body["balance"]
    return out


def parse_due(value: Any, where: str) -> datetime | None:
    try:
        return parse_time(value, where)
    except SpecError as e:
        raise bad("invalid_time", str(e)) from None


def parse_seed(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not MIN_SEED <= len(value) <= 128 or not value.isprintable():
        raise bad(
            "invalid_seed",
            f"seed must be printable text of {MIN_SEED} to 128 characters (a secret: anyone "
            "who knows it and the class list can recompute who reviews whom).",
        )
    return value


def parse_authors(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value):
        raise bad("invalid_field", "authors must be a list of the submitters' user names.")
    if len(value) > MAX_AUTHORS or any(len(a) > 255 for a in value):
        raise bad("invalid_field", f"authors holds at most {MAX_AUTHORS} user names.")
    if len(set(value)) != len(value):
        raise bad("invalid_field", "authors lists someone twice; nbgrader keeps one per learner.")
    return value


# --- rubric -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    key: str
    kind: str
    title: str
    max_points: float
    description: str = ""
    notebook: str | None = None
    grade_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "max_points": self.max_points,
            "notebook": self.notebook,
            "grade_id": self.grade_id,
        }


def parse_criteria(value: Any) -> list[Criterion]:
    """The rubric: nbgrader cells ``{"kind": "nbgrader", "notebook", "grade_id", "max_points"}``
    and instructor criteria ``{"kind": "instructor", "id", "title", "max_points"}``."""
    if not isinstance(value, list) or len(value) > MAX_CRITERIA:
        raise bad("invalid_rubric", f"criteria must be a list of at most {MAX_CRITERIA} items.")
    out: list[Criterion] = []
    for i, item in enumerate(value):
        where = f"criteria[{i}]"
        if not isinstance(item, Mapping):
            raise bad("invalid_rubric", f"{where} must be an object.")
        kind = item.get("kind")
        points = item.get("max_points")
        if not _number(points) or not 0 < points <= MAX_POINTS:
            raise bad("invalid_rubric", f"{where}.max_points must be above 0, at most 1000.")
        description = _text(item.get("description"), f"{where}.description", MAX_TEXT)
        if kind == "nbgrader":
            _unknown(
                item, {"kind", "notebook", "grade_id", "max_points", "title", "description"}, where
            )
            notebook = _text(item.get("notebook"), f"{where}.notebook", 255, required=True)
            grade_id = _text(item.get("grade_id"), f"{where}.grade_id", 128, required=True)
            title = _text(item.get("title"), f"{where}.title", 300) or grade_id
            key = f"{notebook}:{grade_id}"
            out.append(Criterion(key, kind, title, float(points), description, notebook, grade_id))
        elif kind == "instructor":
            _unknown(item, {"kind", "id", "max_points", "title", "description"}, where)
            key = item.get("id")
            if not isinstance(key, str) or not _ID.match(key):
                raise bad(
                    "invalid_rubric",
                    f"{where}.id must be 1-64 lowercase letters, digits, '-' or '_'.",
                )
            title = _text(item.get("title"), f"{where}.title", 300, required=True)
            out.append(Criterion(key, kind, title, float(points), description))
        else:
            raise bad("invalid_rubric", f"{where}.kind must be nbgrader or instructor.")
    keys = [c.key for c in out]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise bad("invalid_rubric", f"The rubric has criterion {dup!r} twice.")
    return out


# --- anonymous copies -------------------------------------------------------------------------


def parse_copies(value: Any, author: str) -> list[dict[str, Any]]:
    """The notebooks of one staged submission, checked: names, nbformat 4 shape, one status
    per cell, and no trace of the author's user name left (the service's own check behind
    the CLI's anonymisation). Not checked: user names shorter than ``MIN_FREE_LENGTH`` (two
    letters turn up in any image's bytes) and user names that are common words (``will``):
    staff may have chosen to keep those (:mod:`cohortlab.reviews.names`)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_NOTEBOOKS:
        raise bad("invalid_copy", f"notebooks must be a list of 1 to {MAX_NOTEBOOKS} notebooks.")
    out, names = [], set()
    for i, item in enumerate(value):
        where = f"notebooks[{i}]"
        if not isinstance(item, Mapping):
            raise bad("invalid_copy", f"{where} must be an object.")
        _unknown(item, {"name", "content", "cells"}, where)
        name = item.get("name")
        if (
            not isinstance(name, str)
            or not name.endswith(".ipynb")
            or not 6 < len(name) <= 255
            or name.startswith(".")
            or any(c in name for c in "/\\\0")
        ):
            raise bad("invalid_copy", f"{where}.name must be a notebook file name (x.ipynb).")
        if name in names:
            raise bad("invalid_copy", f"Notebook {name!r} is listed twice.")
        names.add(name)
        content = item.get("content")
        cells = content.get("cells") if isinstance(content, Mapping) else None
        if not isinstance(cells, list) or content.get("nbformat") != 4:
            raise bad("invalid_copy", f"{where}.content is not an nbformat 4 notebook.")
        if not all(isinstance(c, Mapping) and isinstance(c.get("cell_type"), str) for c in cells):
            raise bad("invalid_copy", f"{where}.content has a cell without a cell_type.")
        statuses = item.get("cells")
        if statuses is None:
            statuses = [{"status": "unknown"}] * len(cells)
        if not isinstance(statuses, list) or len(statuses) != len(cells):
            raise bad("invalid_copy", f"{where}.cells must have one entry per cell of the copy.")
        info = []
        for cell, status in zip(cells, statuses, strict=True):
            if not isinstance(status, Mapping) or status.get("status") not in CELL_STATUSES:
                raise bad(
                    "invalid_copy",
                    f"{where}.cells entries are {{'status': {' | '.join(CELL_STATUSES)}}}.",
                )
            outputs = cell.get("outputs")
            info.append(
                {
                    "status": status["status"],
                    "outputs": len(outputs) if isinstance(outputs, list) else 0,
                }
            )
        out.append({"name": name, "content": dict(content), "cells": info})
    if len(author) >= MIN_FREE_LENGTH and not is_common(author):
        found = find_identifying(
            {"names": sorted(names), "notebooks": [c["content"] for c in out]},
            [author],
            whole_words=True,
            notebook_words=True,
        )
        if found:
            places = ", ".join(f.where for f in found[:3])
            raise bad(
                "not_anonymous",
                f"The copy of {author}'s submission still shows their user name ({places}); "
                "anonymise it first (cohortlab review open does).",
            )
    return out


def parse_stage(raw: bytes, author: str) -> list[dict[str, Any]]:
    """A staged submission's request body, parsed and checked (``parse_copies``), each
    notebook's ``content`` packed: everything the service does to a copy before storing it."""
    try:
        body = json.loads(raw) if raw else None
    except ValueError as e:
        raise APIError(400, "invalid_json", f"The body is not valid JSON: {e}.") from None
    if not isinstance(body, dict) or set(body) != {"notebooks"}:
        raise bad("invalid_copy", 'Send {"notebooks": [{"name", "content", "cells"}]}.')
    notebooks = parse_copies(body["notebooks"], author)
    return [{**nb, "content": pack(nb["content"])} for nb in notebooks]


def check_stage(raw: bytes, author: str) -> tuple[Any, ...]:
    """:func:`parse_stage` for a worker process: ``("ok", notebooks)`` or ``("error", status,
    code, message)`` (an ``APIError`` does not survive pickling)."""
    try:
        return ("ok", parse_stage(raw, author))
    except APIError as e:
        return ("error", e.status_code, e.code, e.message)


def pack(value: Any) -> bytes:
    """Compact JSON, deflated. Big notebooks are mostly base64 images, where zlib's string
    matching finds nothing and costs ~30 ms per MB: for those, Huffman coding alone (the
    64-letter alphabet: ~25% smaller, ~6 ms per MB). Either way a zlib stream (``unpack``)."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    if len(raw) < PACK_MATCHING_BELOW:
        return zlib.compress(raw, 6)
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS, 8, zlib.Z_HUFFMAN_ONLY)
    return packer.compress(raw) + packer.flush()


def unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


# --- reviews ----------------------------------------------------------------------------------


def parse_review(
    body: Mapping[str, Any], criteria: list[Criterion], notebooks: Mapping[str, list[dict]]
) -> tuple[dict[str, Any], str, list[dict[str, Any]], bool]:
    """``(scores, comment, cell_comments, submit)`` from a review body, every part checked.

    ``notebooks`` maps each notebook of the submission to its cell info (one entry per cell,
    with its output count), so a comment can only point at a cell or output that exists.
    A draft may leave criteria unscored; submitting needs a score for every criterion.
    """
    _unknown(body, {"scores", "comment", "cell_comments", "submit"}, "the review")
    submit = body.get("submit", False)
    if not isinstance(submit, bool):
        raise bad("invalid_review", "submit must be true (submit) or false (save a draft).")
    by_key = {c.key: c for c in criteria}
    raw = body.get("scores") or {}
    if not isinstance(raw, Mapping):
        raise bad("invalid_review", 'scores must map criteria to {"score": n, "comment": "..."}.')
    scores: dict[str, Any] = {}
    for key, entry in raw.items():
        criterion = by_key.get(key)
        if criterion is None:
            raise bad(
                "unknown_criterion",
                f"The rubric has no criterion {str(key)[:80]!r}; it has: "
                f"{', '.join(by_key) or 'none'}.",
            )
        if not isinstance(entry, Mapping):
            raise bad(
                "invalid_review", f'scores[{key!r}] must be {{"score": n, "comment": "..."}}.'
            )
        _unknown(entry, {"score", "comment"}, f"scores[{key!r}]")
        score = entry.get("score")
        if score is not None and (not _number(score) or not 0 <= score <= criterion.max_points):
            raise bad(
                "score_out_of_range",
                f"The score for {criterion.title!r} must be a number from 0 to "
                f"{criterion.max_points:g}.",
            )
        comment = _text(entry.get("comment"), f"scores[{key!r}].comment", MAX_TEXT)
        scores[key] = {"score": score, "comment": comment}
    if submit:
        missing = [c.title for c in criteria if scores.get(c.key, {}).get("score") is None]
        if missing:
            raise bad(
                "missing_scores",
                f"Score every criterion before submitting; missing: {', '.join(missing)}. "
                "Save a draft to finish later.",
            )
    comment = _text(body.get("comment"), "comment", MAX_OVERALL)
    return scores, comment, _cell_comments(body.get("cell_comments") or [], notebooks), submit


def _cell_comments(value: Any, notebooks: Mapping[str, list[dict]]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_CELL_COMMENTS:
        raise bad("invalid_review", f"cell_comments must be a list of at most {MAX_CELL_COMMENTS}.")
    out = []
    for i, item in enumerate(value):
        where = f"cell_comments[{i}]"
        if not isinstance(item, Mapping):
            raise bad("invalid_review", f"{where} must be an object.")
        _unknown(item, {"notebook", "cell", "output", "text"}, where)
        name, cell, output = item.get("notebook"), item.get("cell"), item.get("output")
        if name not in notebooks:
            raise bad(
                "invalid_anchor",
                f"{where}.notebook must be one of the submission's notebooks: "
                f"{', '.join(notebooks)}.",
            )
        cells = notebooks[name]
        if isinstance(cell, bool) or not isinstance(cell, int) or not 0 <= cell < len(cells):
            raise bad(
                "invalid_anchor",
                f"{where}.cell must be a cell index of {name} (0 to {len(cells) - 1}).",
            )
        if output is not None and (
            isinstance(output, bool)
            or not isinstance(output, int)
            or not 0 <= output < cells[cell]["outputs"]
        ):
            raise bad(
                "invalid_anchor", f"{where}.output: cell {cell} of {name} has no such output."
            )
        text = _text(item.get("text"), f"{where}.text", MAX_TEXT, required=True)
        out.append({"notebook": name, "cell": cell, "output": output, "text": text})
    return out
