"""``cohortlab review open``: start (or extend) a peer review round from an nbgrader course.

Run by an instructor in their nbgrader course folder, where nbgrader's own commands run (a
terminal in their JupyterLab has ``JUPYTERHUB_API_TOKEN`` and ``COHORTLAB_SERVICE_URL``). It
reads what nbgrader knows, through nbgrader's own API and paths:

- the submissions: each learner's notebooks as collected (``CourseDirectory.format_path``, so
  a course's own ``directory_structure`` is honoured), or with ``--source autograded`` as
  nbgrader autograded them. An autograded copy carries the instructor's *hidden tests*:
  nbgrader restores every test cell from the gradebook's source version, and the outputs of
  running them quote them in tracebacks. So in autograded copies every autograder test cell
  gets the released template's source back and loses its outputs
  (:func:`hide_tests`); collected copies never held them;
- the rubric: the assignment's manually graded cells in the gradebook (``Gradebook``: markdown
  grade cells, code cells that are both grade and solution, task cells) with their points,
  plus criteria from ``--criteria`` (YAML or JSON);
- the released template (``release/<assignment>``), to mark each cell the learner changed
  or added;
- learners' full names and emails from the gradebook, removed along with the user name.

Every notebook is read before anything is sent, so a corrupt one stops the run at once. Then
the service is told the settings and the authors (it refuses impossible rounds, e.g. k too
large, before any upload), each new submission is anonymised with
:func:`cohortlab.reviews.anonymize.anonymize_notebook` and staged, and the upload is
committed: the round appears in one transaction, or not at all. Re-running adds late
submissions and changes nothing else. Mistakes end in one line on stderr and exit 1.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
import yaml
from traitlets import Bool, Enum, Float, Integer, Unicode
from traitlets.config import Application

from ._version import __version__
from .appbase import CommandGroup
from .client import ServiceClient, ServiceError
from .reviews.anonymize import Author, anonymize_notebook

SOURCES = ("submitted", "autograded")
UPLOAD_TIMEOUT = 300.0


class ReviewCommandError(Exception):
    """A mistake the person running the command can fix; the message says how."""


def review_path(course: str, assignment: str, *rest: str) -> str:
    parts = ["courses", course, "reviews", assignment, *rest]
    return "/".join(quote(part, safe="") for part in parts)


class OpenReviewApp(Application):
    name = "cohortlab-review-open"
    version = __version__
    description = (
        "Open a peer review round on an nbgrader assignment: anonymise the collected (or "
        "autograded) submissions, upload them, and allocate reviewers. Run it in your nbgrader "
        "course folder after collecting; running it again adds late submissions."
    )
    examples = (
        "cohortlab review open hw1 --course demo101 --per-submission 3 --due 2026-12-10T17:00Z"
    )

    course = Unicode(
        help="The course id (nbgrader-<course> groups). Default $COHORTLAB_COURSE, else the "
        "course's nbgrader CourseDirectory.course_id."
    ).tag(config=True)
    service_url = Unicode(
        help="Base URL of the CohortLab service. Default $COHORTLAB_SERVICE_URL; the token comes "
        "from $JUPYTERHUB_API_TOKEN or $COHORTLAB_TOKEN, never from the command line."
    ).tag(config=True)
    per_submission = Integer(
        0, help="Reviewers per submission (k). Default 3 for a new round; re-runs keep the round's."
    ).tag(config=True)
    due = Unicode(
        help="When reviews are due: ISO 8601 with a time zone, e.g. 2026-12-10T17:00Z."
    ).tag(config=True)
    lease_hours = Float(
        0.0,
        help="Hours a reviewer has to open a review before it goes to someone else. Default 48 "
        "for a new round; re-runs keep the round's.",
    ).tag(config=True)
    across_cohorts = Bool(False, help="Reviewers only from another cohort than the author's.").tag(
        config=True
    )
    uneven_loads = Bool(
        False,
        help="Accept the most even loads the cohort rule allows when ±1 is impossible, instead "
        "of refusing.",
    ).tag(config=True)
    seed_file = Unicode(
        help="A file holding the round's secret seed, to reproduce the allocation and "
        "pseudonyms; created with a new random seed (mode 600) if missing. Keep it secret: with "
        "it and the class list, anyone can work out who reviews whom. Default: the service "
        "makes a seed and keeps it."
    ).tag(config=True)
    criteria = Unicode(
        help="A YAML or JSON file of extra rubric criteria: a list of {id, title, max_points, "
        "description}. nbgrader's manually graded cells are always criteria."
    ).tag(config=True)
    source = Enum(
        SOURCES,
        "submitted",
        help="Which copies to review: submitted (as collected, the default) or autograded "
        "(as nbgrader ran them; test cells are put back as released, without outputs, so "
        "hidden tests never reach a reviewer).",
    ).tag(config=True)

    aliases = {
        "course": "OpenReviewApp.course",
        "service-url": "OpenReviewApp.service_url",
        "per-submission": "OpenReviewApp.per_submission",
        "due": "OpenReviewApp.due",
        "lease-hours": "OpenReviewApp.lease_hours",
        "seed-file": "OpenReviewApp.seed_file",
        "criteria": "OpenReviewApp.criteria",
        "source": "OpenReviewApp.source",
        "log-level": "Application.log_level",
    }
    flags = {
        "across-cohorts": (
            {"OpenReviewApp": {"across_cohorts": True}},
            "Reviewers only from another cohort than the author's.",
        ),
        "uneven-loads": (
            {"OpenReviewApp": {"uneven_loads": True}},
            "Accept uneven reviewer loads when the cohort rule forces them.",
        ),
    }

    def start(self) -> None:
        try:
            self.run()
        except (ReviewCommandError, ServiceError) as e:
            print(f"cohortlab: {e}", file=sys.stderr)
            self.exit(1)

    def run(self) -> None:
        if len(self.extra_args) != 1:
            raise ReviewCommandError(
                f"give exactly one assignment (got {len(self.extra_args)}); see --help."
            )
        assignment = self.extra_args[0]
        coursedir = course_directory(self.log_level)
        course = self.course or os.environ.get("COHORTLAB_COURSE") or coursedir.course_id
        if not course:
            raise ReviewCommandError("which course? Give --course <course id>.")
        work = read_course(coursedir, course, assignment, self.source)
        rubric = work.rubric + (read_criteria(self.criteria) if self.criteria else [])
        print(f"checking {len(work.found)} submission(s) of {assignment}...", flush=True)
        for student in sorted(work.found):  # all readable before anything is sent
            work.load(student)
        body: dict[str, Any] = {"authors": sorted(work.found), "criteria": rubric}
        body.update(self.settings_body())
        # a submission is megabytes and is checked on arrival: more than the default 15 s
        client = ServiceClient(url=self.service_url or None, timeout=UPLOAD_TIMEOUT)
        started = client.post(review_path(course, assignment, "uploads"), body)["upload"]
        upload = started["id"]
        try:
            self.report_start(started)
            todo = started["to_upload"]
            for number, student in enumerate(todo, 1):
                copies = work.copies(student, started["copy_key"])
                client.put(
                    review_path(course, assignment, "uploads", upload, "submissions", student),
                    {"notebooks": copies},
                )
                print(f"[{number}/{len(todo)}] {student}: {len(copies)} notebook(s)", flush=True)
            summary = client.post(review_path(course, assignment, "uploads", upload, "commit"))
        except BaseException:
            with contextlib.suppress(ServiceError):  # else the next run replaces it anyway
                client.request("DELETE", review_path(course, assignment, "uploads", upload))
            raise
        self.report_commit(assignment, summary)
        from .review_export_cli import send_autograde  # nbgrader's scores beside the peers'

        send_autograde(client, coursedir, course, assignment, sorted(work.found), work.rubric)

    def settings_body(self) -> dict[str, Any]:
        """Only what was given: a re-run without --due keeps the round's due date."""
        out: dict[str, Any] = {}
        if self.per_submission:
            out["k"] = self.per_submission
        if self.due:
            out["due_at"] = self.due
        if self.lease_hours:
            out["lease_hours"] = self.lease_hours
        if self.across_cohorts:
            out["across_cohorts"] = True
        if self.uneven_loads:
            out["balance"] = "best"
        if self.seed_file:
            out["seed"] = read_seed(Path(self.seed_file))
        return out

    def report_start(self, started: dict[str, Any]) -> None:
        if started["in_round"]:
            print(
                f"{len(started['in_round'])} submission(s) already in the round, kept as they are"
            )
        if started["not_learners"]:
            print(
                f"left out {len(started['not_learners'])} submission(s) of people who are not "
                f"learners of the course in the hub: {', '.join(started['not_learners'])}"
            )
        print(f"uploading {len(started['to_upload'])} anonymous submission(s)", flush=True)

    def report_commit(self, assignment: str, summary: dict[str, Any]) -> None:
        rnd = summary["round"]
        verb = "opened" if summary["created"] else "updated"
        due = f", due {rnd['due_at']}" if rnd["due_at"] else ""
        print(
            f"{verb} peer review of {assignment}: {summary['submissions']} submission(s), "
            f"{summary['added_submissions']} new, {summary['added_assignments']} review(s) "
            f"allocated now, {rnd['k']} per submission{due}"
        )


@dataclass
class CourseWork:
    """What nbgrader knows about one assignment, read once: its notebooks, their released
    templates, the rubric, the submissions to review and their authors' other names."""

    notebooks: list[str]
    templates: dict[str, Any]
    rubric: list[dict[str, Any]]
    found: dict[str, Path]
    names: dict[str, tuple[str, ...]]
    autograded: bool

    def load(self, student: str) -> dict[str, Any]:
        nbs = load_submission(self.found[student], self.notebooks, student)
        if self.autograded:
            nbs = {name: hide_tests(nb, self.templates[name]) for name, nb in nbs.items()}
        return nbs

    def copies(self, student: str, key: str) -> list[dict[str, Any]]:
        """The anonymous copies of one submission, as the service stages them."""
        author = Author(student, self.names[student])
        return [
            {
                "name": f"{name}.ipynb",
                "content": anonymize_notebook(nb, author, secret=key),
                "cells": cell_statuses(nb, self.templates.get(name)),
            }
            for name, nb in self.load(student).items()
        ]


def read_course(coursedir: Any, course: str, assignment: str, source: str) -> CourseWork:
    from nbgrader.api import Gradebook, MissingEntry

    database = coursedir.db_url.removeprefix("sqlite:///")
    if coursedir.db_url.startswith("sqlite:///") and not Path(database).exists():
        raise ReviewCommandError(
            f"no nbgrader gradebook at {database}: run this in your nbgrader course folder."
        )
    with Gradebook(coursedir.db_url, coursedir.course_id or course) as gb:
        try:
            notebooks = sorted(n.name for n in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise ReviewCommandError(
                f"nbgrader's gradebook has no assignment {assignment!r}; run "
                f"`nbgrader generate_assignment {assignment}` first."
            ) from None
        templates = read_templates(coursedir, assignment, notebooks)
        if source == "autograded" and (missing := sorted(set(notebooks) - set(templates))):
            raise ReviewCommandError(
                f"--source autograded needs the released {', '.join(missing)} (to keep hidden "
                f"tests out of the copies); run `nbgrader generate_assignment {assignment}`."
            )
        found = find_submissions(coursedir, assignment, source)
        if not found:
            kind, step = ("autograded ", "autograde") if source == "autograded" else ("", "collect")
            raise ReviewCommandError(
                f"no {kind}submissions of {assignment} in {coursedir.root}: run "
                f"`nbgrader {step} {assignment}` first."
            )
        return CourseWork(
            notebooks=notebooks,
            templates=templates,
            rubric=manual_criteria(gb, assignment, templates),
            found=found,
            names={student: author_names(gb, student) for student in found},
            autograded=source == "autograded",
        )


def course_directory(log_level: int) -> Any:
    """nbgrader's CourseDirectory as nbgrader's own commands see it (machine-wide, user and
    course ``nbgrader_config.py``), so the same folders and gradebook."""
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.coursedir import CourseDirectory

    nbgrader = NbGrader(log_level=max(log_level, logging.ERROR))
    nbgrader.initialize([])
    return CourseDirectory(parent=nbgrader)


def find_submissions(coursedir: Any, assignment: str, source: str) -> dict[str, Path]:
    """student id -> the folder of the copy to review."""
    step = (
        coursedir.autograded_directory if source == "autograded" else coursedir.submitted_directory
    )
    pattern = re.compile(coursedir.format_path(step, "(?P<student>[^/]+)", assignment, True))
    found: dict[str, Path] = {}
    for path in glob.glob(coursedir.format_path(step, "*", assignment)):
        match = pattern.fullmatch(path)
        if match and Path(path).is_dir():
            found[match["student"]] = Path(path)
    return found


def hide_tests(nb: Any, template: Any) -> Any:
    """An autograded notebook with every autograder test cell as the learner got it: the
    released source (no hidden tests) and no outputs (tracebacks quote failing asserts)."""
    released = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in template.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            original = released.get(meta.get("grade_id"))
            cell.source = original.source if original is not None else ""
            cell.outputs, cell.execution_count = [], None
    return nb


def load_submission(folder: Path, notebooks: list[str], student: str) -> dict[str, Any]:
    """The assignment's notebooks in one learner's folder (other files are not reviewed)."""
    out = {}
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as e:  # nbformat raises several kinds for a damaged file
            raise ReviewCommandError(
                f"{path}: cannot be read as a notebook ({type(e).__name__}); fix or remove "
                f"{student}'s submission, then run this again. Nothing was uploaded."
            ) from None
        if not isinstance(nb.get("cells"), list):
            raise ReviewCommandError(f"{path}: has no cells; nothing was uploaded.")
        out[name] = nb
    if not out:
        raise ReviewCommandError(
            f"{folder} holds none of the assignment's notebooks ({', '.join(notebooks)})."
        )
    return out


def read_templates(coursedir: Any, assignment: str, notebooks: list[str]) -> dict[str, Any]:
    """The released notebooks, to compare submissions with (missing ones: statuses unknown)."""
    folder = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    out = {}
    for name in notebooks:
        try:
            out[name] = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        except (OSError, ValueError):
            print(f"note: no released {name}.ipynb in {folder}; changed cells are not marked")
    return out


def manual_criteria(gb: Any, assignment: str, templates: dict[str, Any]) -> list[dict[str, Any]]:
    """nbgrader's manually graded cells of the assignment, in notebook order, with points.

    Manually graded: markdown grade cells, code cells that are both grade and solution
    ("manually graded answer"), and task cells; autograder tests are not peer reviewed.
    """
    out = []
    for notebook in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name):
        solutions = {c.name for c in notebook.solution_cells}
        cells = [
            c for c in notebook.grade_cells if c.cell_type == "markdown" or c.name in solutions
        ]
        cells += list(notebook.task_cells)
        order, titles = _template_order(templates.get(notebook.name))
        cells.sort(key=lambda c: (order.get(c.name, len(order)), c.name))
        out += [
            {
                "kind": "nbgrader",
                "notebook": notebook.name,
                "grade_id": c.name,
                "max_points": float(c.max_score),
                "title": titles.get(c.name, c.name),
            }
            for c in cells
        ]
    return out


def _template_order(template: Any) -> tuple[dict[str, int], dict[str, str]]:
    """Each grade id's position in the released notebook, and the heading above it."""
    order: dict[str, int] = {}
    titles: dict[str, str] = {}
    heading = ""
    for i, cell in enumerate(template.cells if template is not None else []):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            heading = cell.source.lstrip().splitlines()[0].lstrip("#").strip()
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            order[grade_id] = i
            if heading:
                titles[grade_id] = heading[:300]
    return order, titles


def cell_statuses(nb: Any, template: Any) -> list[dict[str, str]]:
    """For each cell of a submission: ``unchanged``, ``changed`` or ``added`` against the
    released template (matched by nbgrader grade id, else by cell id), or ``unknown``."""
    if template is None:
        return [{"status": "unknown"} for _ in nb.cells]
    by_grade = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in template.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }
    by_id = {c["id"]: c for c in template.cells if c.get("id")}
    out = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        original = by_grade.get(grade_id) if grade_id else None
        if original is None and cell.get("id"):
            original = by_id.get(cell["id"])
        if original is None:
            out.append({"status": "added"})
            continue
        same = original.cell_type == cell.cell_type and (
            original.source.rstrip() == cell.source.rstrip()
        )
        out.append({"status": "unchanged" if same else "changed"})
    return out


def author_names(gb: Any, student: str) -> tuple[str, ...]:
    """The other strings that name a learner in nbgrader's gradebook: full name (both
    orders), email, LMS id. A lone first or last name is not passed: it may be a word."""
    from nbgrader.api import MissingEntry

    try:
        s = gb.find_student(student)
    except MissingEntry:
        return ()
    names = [s.email, s.lms_user_id]
    if s.first_name and s.last_name:
        names += [f"{s.first_name} {s.last_name}", f"{s.last_name}, {s.first_name}"]
    return tuple(n for n in names if n)


def read_criteria(path: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ReviewCommandError(f"{path}: cannot read the criteria ({e}).") from None
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise ReviewCommandError(f"{path}: criteria must be a list of {{id, title, max_points}}.")
    out = []
    for item in data:
        points = item.get("max_points", item.get("points"))
        rest = {k: v for k, v in item.items() if k not in ("points", "max_points")}
        out.append({"kind": "instructor", **rest, "max_points": points})
    return out


def read_seed(path: Path) -> str:
    """The round's seed from ``path``, or a new one written there readable by you alone."""
    if path.exists():
        seed = path.read_text(encoding="utf-8").strip()
        if len(seed) < 16:
            raise ReviewCommandError(f"{path}: a seed needs at least 16 characters.")
        return seed
    seed = secrets.token_hex(16)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise ReviewCommandError(f"cannot create the seed file {path}: {e.strerror}.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(seed + "\n")
    print(f"wrote a new secret seed to {path} (keep it private)")
    return seed


class ReviewApp(CommandGroup):
    name = "cohortlab-review"
    version = __version__
    description = "Peer review of nbgrader assignments."
    subcommands = {
        "open": (OpenReviewApp, "Open (or extend) a peer review round on an assignment."),
        "close": (
            "cohortlab.review_export_cli.CloseReviewApp",
            "Close a round: reviews stop changing (the sign-off before export).",
        ),
        "release": (
            "cohortlab.review_export_cli.ReleaseReviewApp",
            "Show authors their feedback in JupyterLab.",
        ),
        "export": (
            "cohortlab.review_export_cli.ExportReviewApp",
            "Write a closed round's final scores and comments into nbgrader's gradebook.",
        ),
    }
