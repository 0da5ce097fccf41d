"""The instructor's two pipelines of peer review, shared by the ``cohortlab review`` commands
and the instructor's own server (:mod:`cohortlab.serverext.review_jobs`):

- :func:`open_round`: read the submissions nbgrader collected (:mod:`.coursework`), check
  every notebook before anything is sent, tell the service the settings and the authors (it
  refuses impossible rounds, e.g. k too large, before any upload), stage the anonymous copies
  ``parallel`` at a time (:mod:`.sending`), commit (the round appears in one transaction or
  not at all; a failed run deletes its upload), then send nbgrader's autograde scores;
- :func:`export_round`: write a closed round's final scores and comments into the course's
  gradebook (:mod:`.export`: all or nothing).

Neither prints: each reports ``progress(phase, done, total, line)``, where ``line`` is the
sentence the CLI prints (empty when there is nothing to say) and ``done``/``total`` count the
phase's steps, so the lab can draw a progress bar. Mistakes are
:class:`~.coursework.ReviewCommandError`, :class:`~.export.ExportError` or the service's own
:class:`~cohortlab.client.ServiceError`, each with a message meant for the instructor.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..client import ServiceClient, ServiceError
from ..commands import service_path
from .coursework import CourseWork, ReviewCommandError, gradebook_path, read_course
from .export import plan_export, read_autograde, write_gradebook
from .name_check import findings, new_authors, require_decisions
from .sending import send_all

#: progress(phase, done, total, line): line is what the CLI prints ("" for nothing)
Progress = Callable[[str, int, int, str], None]
#: a new client of the service, as the instructor (one per sending thread)
Connect = Callable[[], ServiceClient]
UPLOAD_TIMEOUT = 300.0  # a submission is megabytes and is checked on arrival


def printed(phase: str, done: int, total: int, line: str) -> None:
    """The CLI's progress: each line as it comes."""
    if line:
        print(line, flush=True)


def review_path(course: str, assignment: str, *rest: str) -> str:
    return service_path("courses", course, "reviews", assignment, *rest)


@dataclass
class OpenRequest:
    """What to open. ``settings`` are the round settings the service's upload takes (only
    those given: a re-run without a due date keeps the round's), or a function making them
    once every notebook has been read (the CLI creates a seed file only then)."""

    course: str
    assignment: str
    source: str = "submitted"
    settings: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(default_factory=dict)
    criteria: list[dict[str, Any]] = field(default_factory=list)  # the instructor's own
    parallel: int = 4
    #: staff's decisions on names that are also common words, for this run (.name_check)
    words: Mapping[str, str] = field(default_factory=dict)
    cli: bool = True  # who is told how to decide: the CLI's options or the lab's check step


def instructor_criteria(items: list[Any], where: str = "criteria") -> list[dict[str, Any]]:
    """Criteria the instructor adds (``{id, title, max_points | points, description}``) as
    the service's rubric items; the service checks them (the CLI's file, the lab's form)."""
    if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
        raise ReviewCommandError(
            f"{where}: criteria must be a list of {{id, title, max_points}}.", "invalid_rubric"
        )
    out = []
    for item in items:
        points = item.get("max_points", item.get("points"))
        rest = {k: v for k, v in item.items() if k not in ("points", "max_points")}
        out.append({"kind": "instructor", **rest, "max_points": points})
    return out


def open_round(
    coursedir: Any,
    request: OpenRequest,
    connect: Connect,
    progress: Progress = printed,
    work: CourseWork | None = None,
) -> dict[str, Any]:
    """Open (or extend) the round; the service's commit summary plus ``autograde`` (what
    happened to nbgrader's scores). ``work``: the course already read (the server reads it
    before answering, to refuse an unknown assignment at once)."""
    course, assignment = request.course, request.assignment
    if work is None:
        work = read_course(
            coursedir,
            course,
            assignment,
            request.source,
            lambda line: progress("checking", 0, 0, line),
        )
    students = sorted(work.found)
    progress(
        "checking", 0, len(students), f"checking {len(students)} submission(s) of {assignment}..."
    )
    checking = time.perf_counter()
    for n, student in enumerate(students, 1):  # all readable before anything is sent
        work.load(student)
        progress("checking", n, len(students), "")
    client = connect()
    found = findings(work, new_authors(client, course, assignment, students))
    require_decisions(found, request.words, cli=request.cli)  # before anything is sent
    for line in decision_lines(found, request.words):
        progress("checking", len(students), len(students), line)
    work.words = dict(request.words)
    checked = time.perf_counter() - checking
    settings = request.settings() if callable(request.settings) else request.settings
    body: dict[str, Any] = {"authors": students, "criteria": work.rubric + request.criteria}
    body.update(settings)
    started = client.post(review_path(course, assignment, "uploads"), body)["upload"]
    upload = started["id"]
    todo = started["to_upload"]
    local = threading.local()  # one HTTP session per sending thread

    def put(student: str, copy: dict[str, Any]) -> None:
        if not hasattr(local, "client"):
            local.client = connect()
        path = review_path(course, assignment, "uploads", upload, "submissions", student)
        local.client.put(path, copy)

    def sent(done: int, student: str, count: int) -> None:
        progress(
            "uploading", done, len(todo), f"[{done}/{len(todo)}] {student}: {count} notebook(s)"
        )

    try:
        for line in start_lines(started):
            progress("uploading", 0, len(todo), line)
        timing = send_all(
            todo,
            lambda student: work.copies(student, started["copy_key"]),
            put,
            workers=request.parallel,
            progress=sent,
        )
        progress("committing", 0, 1, "")
        committing = time.perf_counter()
        summary = client.post(review_path(course, assignment, "uploads", upload, "commit"))
        commit = time.perf_counter() - committing
    except BaseException:
        with contextlib.suppress(ServiceError):  # else the next run replaces it anyway
            client.request("DELETE", review_path(course, assignment, "uploads", upload))
        raise
    progress("committing", 1, 1, f"{timing.line(commit)}, precheck {checked:.2f} s")
    progress("committing", 1, 1, commit_line(assignment, summary))
    autograde = send_autograde(
        client, coursedir, course, assignment, students, work.rubric, progress
    )
    return {**summary, "autograde": autograde}


def decision_lines(found: list[dict[str, Any]], words: Mapping[str, str]) -> list[str]:
    """What the run does with each word staff decided (and which decisions found nothing)."""
    lines = []
    for word, decision in sorted(words.items()):
        mine = [f for f in found if f["word"] == word]
        if not mine:
            lines.append(f'note: "{word}" is in no submission this run uploads; nothing to decide')
            continue
        places = sum(f["count"] for f in mine)
        students = len({f["student"] for f in mine})
        verb = "replacing" if decision == "replace" else "keeping"
        lines.append(f'{verb} "{word}": {places} place(s) in {students} submission(s)')
    return lines


def start_lines(started: dict[str, Any]) -> list[str]:
    """What the service's start of an upload says: kept, left out, to send."""
    lines = []
    if started["in_round"]:
        lines.append(
            f"{len(started['in_round'])} submission(s) already in the round, kept as they are"
        )
    if started["not_learners"]:
        lines.append(
            f"left out {len(started['not_learners'])} submission(s) of people who are not "
            f"learners of the course in the hub: {', '.join(started['not_learners'])}"
        )
    lines.append(f"uploading {len(started['to_upload'])} anonymous submission(s)")
    return lines


def commit_line(assignment: str, summary: dict[str, Any]) -> str:
    rnd = summary["round"]
    verb = "opened" if summary["created"] else "updated"
    due = f", due {rnd['due_at']}" if rnd["due_at"] else ""
    rules = [("across_cohorts", "reviewers from another cohort")]
    rules += [("separate_teams", "never from the author's team")]
    ruled = "".join(f", {words}" for key, words in rules if rnd.get(key))
    return (
        f"{verb} peer review of {assignment}: {summary['submissions']} submission(s), "
        f"{summary['added_submissions']} new, {summary['added_assignments']} review(s) "
        f"allocated now, {rnd['k']} per submission{ruled}{due}"
    )


def send_autograde(
    client: ServiceClient,
    coursedir: Any,
    course: str,
    assignment: str,
    students: list[str],
    rubric: list[dict[str, Any]],
    progress: Progress = printed,
) -> dict[str, Any]:
    """Send nbgrader's autograde scores, so staff see them beside the peers'. Missing scores
    or a refusal are a note, never a failure: the round is open by then."""
    from nbgrader.api import Gradebook

    with Gradebook(coursedir.db_url, coursedir.course_id or course) as gb:
        scores = read_autograde(gb, assignment, students, rubric)
    if not scores:
        note = f"note: nbgrader has no autograde scores for {assignment} yet; none sent"
        progress("autograde", 1, 1, note)
        return {"stored": 0, "note": note}
    path = review_path(course, assignment, "autograde")
    try:
        done = client.put(path, {"submissions": scores})
    except ServiceError as e:
        note = f"note: nbgrader's autograde scores were not sent: {e}"
        progress("autograde", 1, 1, note)
        return {"stored": 0, "note": note}
    progress(
        "autograde", 1, 1, f"sent nbgrader's autograde scores of {done['stored']} submission(s)"
    )
    return {"stored": done["stored"], "note": None}


def export_round(
    coursedir: Any,
    course: str,
    assignment: str,
    client: ServiceClient,
    progress: Progress = printed,
    *,
    overwrite: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Write the closed round's final scores and comments into the course's gradebook (one
    transaction, after every grade was found); what was (or would be) written."""
    from nbgrader.api import Gradebook

    database = gradebook_path(coursedir)
    progress("reading", 0, 1, "")
    results = client.request("GET", review_path(course, assignment, "results"))
    writes, notes = plan_export(results)
    students = sorted({w.student for w in writes})
    progress(
        "writing",
        0,
        len(students),
        f"exporting {len(writes)} score(s) of {len(students)} submission(s) of "
        f"{assignment} ({results['method']}) into {database}",
    )
    for note in notes:
        progress("writing", 0, len(students), f"note: {note}")
    count = 0

    def wrote(line: str) -> None:
        nonlocal count
        count += 1
        progress("writing", count, len(students), line)

    with Gradebook(coursedir.db_url, coursedir.course_id or course) as gb:
        written = write_gradebook(
            gb, assignment, writes, overwrite=overwrite, progress=wrote, commit=not dry_run
        )
    verb = "would write" if dry_run else "wrote"
    progress(
        "writing",
        len(students),
        len(students),
        f"{verb} {written} peer review score(s) and their comments into nbgrader's "
        f"gradebook for {assignment}",
    )
    return {
        "written": written,
        "submissions": len(students),
        "students": students,
        "gradebook": database,
        "method": results["method"],
        "notes": notes,
        "dry_run": dry_run,
    }
