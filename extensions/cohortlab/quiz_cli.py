"""``cohortlab quiz ...``: publish quizzes from a notebook, read scores, export them to nbgrader.

Run by an instructor where they keep their course: a terminal in their JupyterLab (which
has ``JUPYTERHUB_API_TOKEN`` and ``COHORTLAB_SERVICE_URL``), or their nbgrader course folder
for ``export-gradebook``. Every command talks to the service as the person whose hub token
it holds (:class:`cohortlab.client.ServiceClient`); the service decides what they may do.

- ``publish NOTEBOOK``: for notebooks outside nbgrader (nbgrader's ``generate_assignment``
  publishes through :class:`cohortlab.nbgrader.quizzes.PublishQuizzes` instead). Stores
  every quiz spec cell in the service and writes the copy to hand out, without any key.
- ``scores QUIZ``: the quiz's scores as CSV, one row per learner of the course.
- ``export-gradebook QUIZ``: each learner's quiz score into nbgrader's gradebook, through
  nbgrader's own :class:`nbgrader.api.Gradebook` (see :func:`write_quiz_grades`).

Mistakes end in one line on stderr and a non-zero exit, never a traceback: the message says
what to change.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from traitlets import Bool, Unicode

from ._version import __version__
from .appbase import CommandGroup
from .commands import CommandError, ServiceCommand, service_path
from .discussions.anchoring import notebook_key
from .quizzes.notebook import SPEC_TAG, QuizNotebookError, find_quizzes, release

GRADE_CELL_PREFIX = "cohortlab-quiz-"


class QuizCommandError(CommandError):
    """A mistake in a ``cohortlab quiz`` command; the message says how to fix it."""


class QuizCommand(ServiceCommand):
    """What every ``cohortlab quiz`` command shares: course, service, and one-line errors."""

    person_errors = (*ServiceCommand.person_errors, QuizNotebookError)

    def argument(self, what: str) -> str:
        """The one positional argument the command takes."""
        if len(self.extra_args) != 1:
            raise QuizCommandError(
                f"give exactly one {what} (got {len(self.extra_args)}); see --help."
            )
        return self.extra_args[0]


def quiz_path(course: str, quiz: str, *rest: str) -> str:
    """The service path of a quiz (ids quoted, so an odd id cannot reach another route)."""
    return service_path("courses", course, "quizzes", quiz, *rest)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise QuizCommandError(f"{path}: no such notebook.") from None
    except (OSError, ValueError) as e:  # nbformat's NotJSONError is a ValueError
        raise QuizCommandError(f"{path}: cannot be read as a notebook ({e}).") from None


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write through a temporary file, so a failed write never leaves half a notebook."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PublishQuizApp(QuizCommand):
    name = "cohortlab-quiz-publish"
    description = (
        "Publish the quiz spec cells (tag cohortlab-quiz) of a notebook outside nbgrader, and "
        "write the copy to hand out, with each quiz replaced by its widget. For nbgrader "
        "assignments, `nbgrader generate_assignment` does this."
    )
    examples = "cohortlab quiz publish lesson3.ipynb --course demo101"

    output = Unicode(
        help="Where to write the released copy. Default <notebook>.released.ipynb beside it."
    ).tag(config=True)
    dry_run = Bool(
        False, help="Only check the quiz specs and say what would be published; write nothing."
    ).tag(config=True)

    aliases = {**QuizCommand.aliases, "output": "PublishQuizApp.output"}
    flags = {
        "dry-run": (
            {"PublishQuizApp": {"dry_run": True}},
            "Only check the specs and print what would be published.",
        )
    }

    def run(self) -> None:
        source = Path(self.argument("notebook"))
        nb = read_notebook(source)
        quizzes = find_quizzes(nb)
        if not quizzes:
            raise QuizCommandError(f"{source}: no cell is tagged {SPEC_TAG}; nothing to publish.")
        course = self.course_id()
        output = Path(self.output) if self.output else source.with_suffix(".released.ipynb")
        if output.resolve() == source.resolve():
            raise QuizCommandError(
                f"--output {output} is the source notebook; the source keeps the specs, so "
                "write the released copy elsewhere."
            )
        released = release(nb, course, quizzes)  # before any publishing: fail early
        verb = "would publish" if self.dry_run else "published"
        client = None if self.dry_run else self.client()
        body_key = notebook_key(nb)
        for number, spec_cell in enumerate(quizzes, 1):
            quiz = spec_cell.quiz
            if client is not None:
                body: dict[str, Any] = {"spec": spec_cell.text}
                if body_key:
                    body["notebook_key"] = body_key
                client.put(quiz_path(course, quiz.id), body)
            points = sum(q.points for q in quiz.questions)
            print(
                f"[{number}/{len(quizzes)}] {verb} quiz {quiz.id!r} ({quiz.title!r}, "
                f"{len(quiz.questions)} question(s), {points:g} point(s)) from "
                f"{spec_cell.place} to course {course}",
                flush=True,
            )
        if self.dry_run:
            print(f"would write the released copy to {output}; nothing published or written")
            return
        write_notebook(released, output)
        print(f"wrote the released copy to {output} (it holds no answer key)")


class QuizScoresApp(QuizCommand):
    name = "cohortlab-quiz-scores"
    description = "Print a quiz's scores as CSV (one row per learner), or write them to a file."
    examples = "cohortlab quiz scores week-3 --course demo101 --csv week-3.csv"

    csv = Unicode(help="Write the CSV to this file instead of printing it.").tag(config=True)

    aliases = {**QuizCommand.aliases, "csv": "QuizScoresApp.csv"}

    def run(self) -> None:
        quiz = self.argument("quiz id")
        course = self.course_id()
        text = self.client().request(
            "GET", quiz_path(course, quiz, "scores"), params={"format": "csv"}, raw=True
        )
        if not self.csv or self.csv == "-":
            sys.stdout.write(text)
            return
        target = Path(self.csv)
        try:
            target.write_text(text, encoding="utf-8", newline="")
        except OSError as e:
            raise QuizCommandError(f"cannot write {target}: {e.strerror}.") from None
        rows = max(len(text.splitlines()) - 1, 0)
        print(f"wrote the scores of {rows} learner(s) to {target}")


@dataclass
class GradebookReport:
    """What :func:`write_quiz_grades` did, for the command to tell the instructor."""

    grade_cell: str
    notebook: str
    max_score: float
    written: list[tuple[str, float]] = field(default_factory=list)
    without_submission: list[str] = field(default_factory=list)
    not_in_course: list[str] = field(default_factory=list)


def write_quiz_grades(
    gb: Any,
    quiz: str,
    assignment: str,
    notebook: str,
    rows: list[dict[str, Any]],
    progress: Any = None,
) -> GradebookReport:
    """Write a quiz's scores into an nbgrader gradebook as one more grade of ``notebook``.

    How, and why so (nbgrader 0.9's :mod:`nbgrader.api`):

    - the quiz becomes a grade cell ``cohortlab-quiz-<quiz>`` of the notebook the quiz is
      in, worth the quiz's points, of cell type ``markdown`` so nbgrader counts it as a
      written (manually graded) part; nbgrader then adds it to the notebook's and the
      assignment's totals, its exports and the formgrader's scores;
    - each learner's score goes into ``Grade.manual_score`` of their submission, with
      ``needs_manual_grade`` cleared. A manual score is the one nbgrader's autograder never
      overwrites, and instructors can still change it in the formgrader;
    - learners with no submission of the assignment are skipped and reported: nbgrader
      creates a submission when it collects or autogrades what a learner handed in, and one
      made up here would tell the formgrader that they submitted work they never did. Run
      the export again after collecting and autograding late submissions; it is idempotent;
    - a learner whose quiz was sampled to a smaller maximum is scaled to the cell's maximum.

    ``gb`` is an open :class:`nbgrader.api.Gradebook`; everything is committed at the end,
    so an error leaves the gradebook as it was.
    """
    from nbgrader.api import MissingEntry

    try:
        gb.find_notebook(notebook, assignment)
    except MissingEntry:
        names = ", ".join(sorted(n.name for n in gb.find_assignment(assignment).notebooks))
        raise QuizCommandError(
            f"assignment {assignment} has no notebook {notebook!r} in the gradebook "
            f"(it has: {names or 'none'}); pick one with --notebook."
        ) from None
    if not rows:
        raise QuizCommandError(f"quiz {quiz!r} has no learners to export.")
    max_score = max(float(row["max_score"]) for row in rows)
    if max_score <= 0:
        raise QuizCommandError(f"quiz {quiz!r} is worth no points; nothing to export.")
    name = f"{GRADE_CELL_PREFIX}{quiz}"
    cell = gb.update_or_create_grade_cell(
        name, notebook, assignment, max_score=max_score, cell_type="markdown"
    )
    report = GradebookReport(grade_cell=name, notebook=notebook, max_score=max_score)
    submissions = {s.student.id: s for s in gb.find_assignment(assignment).submissions}
    learners = {row["user"]: row for row in rows}
    for number, user in enumerate(sorted(learners), 1):
        row = learners[user]
        if user not in submissions:
            report.without_submission.append(user)
            if progress:
                progress(number, len(learners), f"{user}: no {assignment} submission, skipped")
            continue
        grade = _grade(gb, cell, notebook, assignment, user)
        score, own_max = float(row["score"]), float(row["max_score"])
        if own_max > 0 and own_max != max_score:
            score = score * max_score / own_max
        grade.manual_score = round(score, 6)
        grade.needs_manual_grade = False
        report.written.append((user, grade.manual_score))
        if progress:
            progress(number, len(learners), f"{user}: {grade.manual_score:g}/{max_score:g}")
    report.not_in_course = sorted(set(submissions) - set(learners))
    for user in report.not_in_course:  # an empty grade, as nbgrader gives every grade cell
        _grade(gb, cell, notebook, assignment, user)
    gb.db.commit()
    return report


def _grade(gb: Any, cell: Any, notebook: str, assignment: str, user: str) -> Any:
    """The submission's grade for ``cell``, made if missing.

    nbgrader gives a submission a grade per grade cell when the submission is created
    (``Gradebook.add_submission``), and its formgrader expects one; submissions made before
    the quiz's grade cell existed have none yet.
    """
    from nbgrader.api import Grade

    submitted = gb.find_submission_notebook(notebook, assignment, user)
    grade = next((g for g in submitted.grades if g.cell_id == cell.id), None)
    if grade is None:
        grade = Grade(cell_id=cell.id, notebook=submitted)
        gb.db.add(grade)
    return grade


class ExportGradebookApp(QuizCommand):
    name = "cohortlab-quiz-export-gradebook"
    description = (
        "Write each learner's score of a quiz into nbgrader's gradebook, as a grade of the "
        "assignment's notebook. Run it in your nbgrader course folder (where nbgrader's "
        "commands run), after collecting and autograding; running it again updates the scores."
    )
    examples = "cohortlab quiz export-gradebook week-3 --assignment hw1"

    assignment = Unicode(help="The nbgrader assignment the quiz counts towards.").tag(config=True)
    notebook = Unicode(
        help=(
            "The assignment's notebook (name without .ipynb) the quiz's grade belongs to. "
            "Default: the released notebook that shows the quiz, else the assignment's only one."
        )
    ).tag(config=True)

    aliases = {
        **QuizCommand.aliases,
        "assignment": "ExportGradebookApp.assignment",
        "notebook": "ExportGradebookApp.notebook",
    }

    def run(self) -> None:
        from nbgrader.api import Gradebook, MissingEntry

        quiz = self.argument("quiz id")
        if not self.assignment:
            raise QuizCommandError("which nbgrader assignment? Give --assignment <name>.")
        coursedir = self._course_directory()
        course = self.course or os.environ.get("COHORTLAB_COURSE") or coursedir.course_id
        if not course:
            raise QuizCommandError(
                "which course? Give --course, or set c.CourseDirectory.course_id in the course's "
                "nbgrader_config.py."
            )
        database = _sqlite_file(coursedir.db_url)
        if database is not None and not database.exists():
            # nbgrader's Gradebook would create an empty one; say where we looked instead.
            raise QuizCommandError(
                f"no nbgrader gradebook at {database}: run this in your nbgrader course folder."
            )
        print(f"reading the scores of quiz {quiz!r} in course {course}...", flush=True)
        rows = self.client().get(quiz_path(course, quiz, "scores"))["scores"]
        with Gradebook(coursedir.db_url, coursedir.course_id or course) as gb:
            try:
                gb.find_assignment(self.assignment)
            except MissingEntry:
                raise QuizCommandError(
                    f"nbgrader's gradebook has no assignment {self.assignment!r}; run "
                    f"`nbgrader generate_assignment {self.assignment}` first."
                ) from None
            notebook = self.notebook or self._quiz_notebook(gb, coursedir, quiz)
            report = write_quiz_grades(
                gb, quiz, self.assignment, notebook, rows, progress=_progress
            )
        print(
            f"wrote {len(report.written)} score(s) to grade cell {report.grade_cell} of "
            f"{self.assignment}/{report.notebook} (out of {report.max_score:g})"
        )
        if report.without_submission:
            print(
                f"skipped {len(report.without_submission)} learner(s) without a "
                f"{self.assignment} submission: {', '.join(report.without_submission)} "
                "(collect and autograde their work, then run this again)"
            )
        if report.not_in_course:
            print(
                f"left alone {len(report.not_in_course)} submission(s) of people who are not "
                f"learners of {course} in the hub: {', '.join(report.not_in_course)}"
            )

    def _course_directory(self) -> Any:
        """nbgrader's CourseDirectory, configured exactly as nbgrader's own commands see it
        (machine-wide, user and course ``nbgrader_config.py``), so the same gradebook."""
        from nbgrader.apps.baseapp import NbGrader
        from nbgrader.coursedir import CourseDirectory

        # Quiet below errors: nbgrader warns when a folder has no nbgrader_config.py, and the
        # missing gradebook is reported on its own, in one line.
        nbgrader = NbGrader(log_level=max(self.log_level, logging.ERROR))
        nbgrader.initialize([])
        return CourseDirectory(parent=nbgrader)

    def _quiz_notebook(self, gb: Any, coursedir: Any, quiz: str) -> str:
        """The notebook of the assignment that shows the quiz (as generate_assignment
        released it), else the assignment's only notebook."""
        release_dir = Path(coursedir.format_path(coursedir.release_directory, ".", self.assignment))
        for path in sorted(release_dir.glob("*.ipynb")):
            try:
                nb = nbformat.read(path, as_version=4)
            except (OSError, ValueError):
                continue
            if any(cell.metadata.get("cohortlab", {}).get("quiz") == quiz for cell in nb.cells):
                return path.stem
        names = sorted(n.name for n in gb.find_assignment(self.assignment).notebooks)
        if len(names) == 1:
            return names[0]
        raise QuizCommandError(
            f"which notebook of {self.assignment} does quiz {quiz!r} count towards? Give "
            f"--notebook (one of: {', '.join(names) or 'none'})."
        )


def _progress(number: int, total: int, message: str) -> None:
    print(f"[{number}/{total}] {message}", flush=True)


def _sqlite_file(db_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(db_url[len(prefix) :]) if db_url.startswith(prefix) else None


class QuizApp(CommandGroup):
    name = "cohortlab-quiz"
    version = __version__
    description = "Publish quizzes, read their scores, export them to nbgrader's gradebook."
    subcommands = {
        "publish": (PublishQuizApp, "Publish a notebook's quizzes and write the released copy."),
        "scores": (QuizScoresApp, "A quiz's scores as CSV."),
        "export-gradebook": (ExportGradebookApp, "Write a quiz's scores into nbgrader."),
    }
