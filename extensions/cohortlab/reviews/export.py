"""From a round's results to nbgrader's gradebook: what ``cohortlab review export`` writes.

Pure planning (:func:`plan_export`, over the staff results JSON of
``GET .../reviews/<assignment>/results``) and the gradebook side (:func:`write_gradebook`,
:func:`read_autograde`, through nbgrader's own ``Gradebook`` API, imported only when used).

For each submission and each rubric criterion that is an nbgrader manually graded cell, the
final score (the instructor's override, else the peers' aggregate) becomes that cell's
``manual_score``, and a comment saying it came from CohortLab peer review (the method, how many
reviews, the reviewers' comments as "Review 1..n", never their names) becomes its
``manual_comment``. Criteria the instructor added have no cell, so their scores and the
reviews' overall comments go into the comment of the submission's first nbgrader criterion.

All or nothing: every grade and comment is found before any is changed, and the changes are
committed in one gradebook transaction. A manual score a grader set by hand is not
overwritten unless asked (``overwrite``); a score an earlier export wrote is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MARKER = "CohortLab peer review"
METHOD_WORDS = {"median": "median", "mean": "mean", "pg1": "reliability-weighted score"}


class ExportError(Exception):
    """Why nothing was written, in words the instructor can act on."""


@dataclass(frozen=True)
class GradeWrite:
    student: str
    notebook: str
    grade_id: str
    score: float | None  # None: no score to write (nobody scored it); the cell is left as is
    comment: str


def _points(value: float) -> str:
    return f"{value:g}"


def _reviews(sub: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The counted reviews of a submission with the labels its author sees."""
    counted = [r for r in sub["reviews"] if not r.get("excluded")]
    return [(f"Review {i}", r) for i, r in enumerate(counted, 1)]


def _criterion_text(
    criterion: dict[str, Any], result: dict[str, Any], method: str, labels: dict[str, str]
) -> str:
    most = _points(criterion["max_points"])
    counted = [p for p in result["peer"] if not p.get("excluded") and p["score"] is not None]
    how = f"{METHOD_WORDS.get(method, method)} of {len(counted)} peer review(s)"
    lines = []
    if result.get("override"):
        peer = result.get("aggregate")
        was = f"; peers: {_points(peer)} / {most}, {how}" if peer is not None else ""
        lines.append(f"{MARKER}: {_points(result['final'])} / {most}, set by the instructor{was}.")
        if result["override"].get("reason"):
            lines.append(f"Instructor: {result['override']['reason']}")
    elif result.get("final") is not None:
        lines.append(f"{MARKER}: {_points(result['final'])} / {most}, {how}.")
    else:
        lines.append(f"{MARKER}: no peer score.")
    for p in counted:
        if p.get("comment"):
            lines.append(f"{labels[p['review']]}: {p['comment']}")
    return "\n".join(lines)


def _overall_text(
    sub: dict[str, Any], rubric: list[dict[str, Any]], method: str, labels: dict[str, str]
) -> str:
    lines = []
    extra = [c for c in rubric if c["kind"] != "nbgrader"]
    for c in extra:
        result = sub["criteria"][c["key"]]
        text = _criterion_text(c, result, method, labels).replace(f"{MARKER}: ", "", 1)
        lines.append(f"{c['title']}: {text}")
    for label, review in _reviews(sub):
        if review.get("comment"):
            lines.append(f"{label}, overall: {review['comment']}")
    return "\n".join(lines)


def plan_export(results: dict[str, Any]) -> tuple[list[GradeWrite], list[str]]:
    """The gradebook writes for a closed round, and notes for the person (criteria nobody
    scored). Refuses a round still open, or a rubric with nothing nbgrader can hold."""
    rnd = results["round"]
    if rnd["state"] != "closed":
        raise ExportError(
            f"the peer review of {rnd['assignment']} is still open; close it first "
            f"(Close reviewing in the Peer review panel, or cohortlab review close "
            f"{rnd['assignment']}) so scores stop changing, then export."
        )
    rubric = results["rubric"]
    cells = [c for c in rubric if c["kind"] == "nbgrader"]
    if not cells:
        raise ExportError(
            "the rubric has no nbgrader cells (only instructor criteria), so there is nothing "
            "to write into the gradebook."
        )
    method = results["method"]
    writes: list[GradeWrite] = []
    notes: list[str] = []
    for sub in results["submissions"]:
        labels = {r["id"]: label for label, r in _reviews(sub)}
        overall = _overall_text(sub, rubric, method, labels)
        for i, c in enumerate(cells):
            result = sub["criteria"][c["key"]]
            text = _criterion_text(c, result, method, labels)
            if i == 0 and overall:
                text += "\n\n" + overall
            if result.get("final") is None:
                notes.append(f"{sub['author']}: nobody scored {c['title']}; its score is left")
            writes.append(
                GradeWrite(sub["author"], c["notebook"], c["grade_id"], result.get("final"), text)
            )
    return writes, notes


# --- nbgrader's gradebook ---------------------------------------------------------------------


def write_gradebook(
    gb: Any,
    assignment: str,
    writes: list[GradeWrite],
    *,
    overwrite: bool = False,
    progress: Callable[[str], None] = print,
    commit: bool = True,
) -> int:
    """Write every score and comment in one transaction; the number of scores written.

    ``gb`` is an open ``nbgrader.api.Gradebook``. Every grade is looked up first: a missing
    submission or cell, or a hand-set score (without ``overwrite``), stops the export before
    anything changes. ``commit=False`` checks and counts, then rolls back (a dry run).
    """
    from nbgrader.api import MissingEntry

    problems: list[str] = []
    found = []
    missing: set[str] = set()
    students = sorted({w.student for w in writes})
    for student in students:
        try:
            gb.find_submission(assignment, student)
        except MissingEntry:
            missing.add(student)
            problems.append(
                f"{student} has no submission of {assignment} in the gradebook (run "
                f"`nbgrader collect {assignment}` and `nbgrader autograde {assignment}`)"
            )
    for w in writes:
        if w.student in missing:
            continue
        try:
            grade = gb.find_grade(w.grade_id, w.notebook, assignment, w.student)
        except MissingEntry:
            problems.append(
                f"{w.student}'s {w.notebook} has no graded cell {w.grade_id!r} in the gradebook"
            )
            continue
        try:
            comment = gb.find_comment(w.grade_id, w.notebook, assignment, w.student)
        except MissingEntry:
            comment = None  # a grade cell without an answer cell: nbgrader keeps no comment
        hand_set = (
            grade.manual_score is not None
            and w.score is not None
            and abs(grade.manual_score - w.score) > 1e-9
            and MARKER not in ((comment.manual_comment or "") if comment else "")
        )
        if hand_set and not overwrite:
            problems.append(
                f"{w.student}'s {w.grade_id} already has a score a grader set by hand "
                f"({_points(grade.manual_score)}); give --overwrite to replace it"
            )
        found.append((w, grade, comment))
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        shown = "; ".join(problems[:5]) + more
        raise ExportError(f"nothing was written: {shown}.")
    written = 0
    try:
        for n, student in enumerate(students, 1):
            mine = [(w, g, c) for w, g, c in found if w.student == student]
            for w, grade, comment in mine:
                if w.score is not None:
                    grade.manual_score = w.score
                    grade.needs_manual_grade = False
                    written += 1
                if comment is not None:
                    comment.manual_comment = w.comment
            progress(f"[{n}/{len(students)}] {student}: {len(mine)} cell(s)")
        if not commit:
            gb.db.rollback()
            return written
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise
    return written


def read_autograde(
    gb: Any, assignment: str, students: list[str], rubric: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """nbgrader's autograde scores per student, for the results view: per rubric cell
    (its ``auto_score``, usually none for manually graded cells) and the total of every
    autograded cell with its maximum. Students nbgrader has not autograded are left out."""
    from nbgrader.api import MissingEntry

    out: dict[str, dict[str, Any]] = {}
    for student in students:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            continue
        grades = [g for nb in submission.notebooks for g in nb.grades]
        auto = [g for g in grades if g.auto_score is not None]
        if not auto:
            continue
        by_cell = {(g.notebook.name, g.name): g.auto_score for g in grades}
        out[student] = {
            "scores": {
                f"{c['notebook']}:{c['grade_id']}": by_cell[(c["notebook"], c["grade_id"])]
                for c in rubric
                if c.get("kind") == "nbgrader" and (c["notebook"], c["grade_id"]) in by_cell
            },
            "total": sum(g.auto_score for g in auto),
            "max_total": sum(g.max_score for g in auto),
        }
    return out
