"""What nbgrader knows about one assignment, read for ``cohortlab review open``.

Everything here goes through nbgrader's own API and paths (``CourseDirectory.format_path``,
so a course's own ``directory_structure`` is honoured; ``Gradebook``), never around them:
the submissions as collected or autograded, the released templates, the rubric (manually
graded cells with their points), and learners' other names. ``cohortlab.review_cli`` runs
the command; this module only reads.
"""

from __future__ import annotations

import glob
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_core.paths import jupyter_config_path
from traitlets.config import Application, Config

from .anonymize import Author, Occurrences, anonymize_notebook, common_words_in
from .names import Decisions, name_forms
from .sending import Made

_log = logging.getLogger("cohortlab.nbgrader")


class ReviewCommandError(Exception):
    """A mistake the person running the command can fix; the message says how. ``code`` and
    ``status`` are what the server extension answers with (the CLI prints the message)."""

    def __init__(self, message: str, code: str = "invalid_course_work", status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


@dataclass
class CourseWork:
    """What nbgrader knows about one assignment, read once: its notebooks, their released
    templates, the rubric, the submissions to review and their authors' other names."""

    notebooks: list[str]
    templates: dict[str, Any]
    rubric: list[dict[str, Any]]
    found: dict[str, Path]
    authors: dict[str, Author]
    autograded: bool
    #: staff's decisions on common words that are also names, for this run (see .names)
    words: Decisions = field(default_factory=dict)

    def load(self, student: str) -> dict[str, Any]:
        nbs = load_submission(self.found[student], self.notebooks, student)
        if self.autograded:
            nbs = {name: hide_tests(nb, self.templates[name]) for name, nb in nbs.items()}
        return nbs

    def copies(self, student: str, key: str) -> Made:
        """The anonymous copies of one submission, as the service stages them, with the
        seconds spent reading and anonymising."""
        author = self.authors[student]
        reading = time.perf_counter()
        notebooks = self.load(student)
        anonymising = time.perf_counter()
        copies = [
            {
                "name": f"{name}.ipynb",
                "content": anonymize_notebook(nb, author, secret=key, words=self.words),
                "cells": cell_statuses(nb, self.templates.get(name)),
            }
            for name, nb in notebooks.items()
        ]
        done = time.perf_counter()
        return copies, anonymising - reading, done - anonymising

    def common_words(self, student: str) -> dict[str, list[Occurrences]]:
        """Notebook name -> the forms of the author's name in it that are also common words
        (what staff decide before the copies are made), empty notebooks left out. An author
        none of whose name forms is a common word is not read again."""
        if not any(form.word for form in name_forms(self.authors[student])):
            return {}
        out = {}
        for name, nb in self.load(student).items():
            if found := common_words_in(nb, self.authors[student]):
                out[f"{name}.ipynb"] = found
        return out


def gradebook_path(coursedir: Any) -> str:
    """The gradebook's file (or its database URL when it is not SQLite), refusing a missing
    SQLite file: opening it would create an empty gradebook in the wrong place."""
    database = coursedir.db_url.removeprefix("sqlite:///")
    if coursedir.db_url.startswith("sqlite:///") and not Path(database).exists():
        raise ReviewCommandError(
            f"no nbgrader gradebook at {database}: run this in your nbgrader course folder.",
            "no_course",
            404,
        )
    return database


def read_course(
    coursedir: Any,
    course: str,
    assignment: str,
    source: str,
    note: Callable[[str], None] = print,
) -> CourseWork:
    from nbgrader.api import Gradebook, MissingEntry

    gradebook_path(coursedir)
    with Gradebook(coursedir.db_url, coursedir.course_id or course) as gb:
        try:
            notebooks = sorted(n.name for n in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            raise ReviewCommandError(
                f"nbgrader's gradebook has no assignment {assignment!r}; run "
                f"`nbgrader generate_assignment {assignment}` first.",
                "unknown_assignment",
                404,
            ) from None
        templates = read_templates(coursedir, assignment, notebooks, note)
        if source == "autograded" and (missing := sorted(set(notebooks) - set(templates))):
            raise ReviewCommandError(
                f"--source autograded needs the released {', '.join(missing)} (to keep hidden "
                f"tests out of the copies); run `nbgrader generate_assignment {assignment}`.",
                "not_released",
                409,
            )
        found = find_submissions(coursedir, assignment, source)
        if not found:
            kind, step = ("autograded ", "autograde") if source == "autograded" else ("", "collect")
            raise ReviewCommandError(
                f"no {kind}submissions of {assignment} in {coursedir.root}: run "
                f"`nbgrader {step} {assignment}` first.",
                "no_submissions",
                409,
            )
        return CourseWork(
            notebooks=notebooks,
            templates=templates,
            rubric=manual_criteria(gb, assignment, templates),
            found=found,
            authors={student: author_of(gb, student) for student in found},
            autograded=source == "autograded",
        )


def course_directory(log_level: int = logging.ERROR, folder: str | Path | None = None) -> Any:
    """nbgrader's CourseDirectory as nbgrader's own commands see it (machine-wide, user and
    course ``nbgrader_config.py``), so the same folders and gradebook.

    Without ``folder``: as nbgrader run in the current directory (the CLI). With ``folder``: as
    nbgrader would run there, without changing directory (a server is one process serving
    many requests): config read from ``[folder] + jupyter_config_path()`` in nbgrader's order,
    the root being the configured one or else ``folder`` (nbgrader's default is its cwd), and
    the root's own ``nbgrader_config.py`` read last, as ``NbGrader.initialize`` does.
    """
    from nbgrader.coursedir import CourseDirectory

    if folder is None:
        from nbgrader.apps.baseapp import NbGrader

        nbgrader = NbGrader(log_level=max(log_level, logging.ERROR))
        nbgrader.initialize([])
        return CourseDirectory(parent=nbgrader)
    folder = Path(folder).absolute()
    config = nbgrader_config([str(folder), *jupyter_config_path()])
    root = str(config.CourseDirectory.root) if "root" in config.CourseDirectory else str(folder)
    if Path(root).absolute() != folder:
        config.merge(nbgrader_config([root], names=("nbgrader_config",)))
    return CourseDirectory(config=config, root=root)


def nbgrader_config(
    paths: list[str], names: tuple[str, ...] = ("jupyter_config", "nbgrader_config")
) -> Config:
    """``jupyter_config`` then ``nbgrader_config`` (``.py`` and ``.json``) from ``paths``, the
    first path winning, merged as a Jupyter application merges them."""
    config = Config()
    for name in names:
        for loaded, _filename in Application._load_config_files(name, path=paths, log=_log):
            config.merge(loaded)
    return config


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


def read_templates(
    coursedir: Any, assignment: str, notebooks: list[str], note: Callable[[str], None] = print
) -> dict[str, Any]:
    """The released notebooks, to compare submissions with (missing ones: statuses unknown)."""
    folder = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    out = {}
    for name in notebooks:
        try:
            out[name] = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        except (OSError, ValueError):
            note(f"note: no released {name}.ipynb in {folder}; changed cells are not marked")
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


def author_of(gb: Any, student: str) -> Author:
    """The learner as nbgrader's gradebook knows them: user name, whole strings
    (:func:`author_names`), and first and last name, from which every other form of their
    name is made (:func:`cohortlab.reviews.names.name_forms`)."""
    from nbgrader.api import MissingEntry

    try:
        s = gb.find_student(student)
    except MissingEntry:
        return Author(student)
    return Author(student, author_names(gb, student), s.first_name or "", s.last_name or "")


def author_names(gb: Any, student: str) -> tuple[str, ...]:
    """The whole strings that name a learner in nbgrader's gradebook: full name (both
    orders), email, LMS id. Their parts come from :func:`author_of`'s first and last name,
    where common words among them are told apart (:mod:`cohortlab.reviews.names`)."""
    from nbgrader.api import MissingEntry

    try:
        s = gb.find_student(student)
    except MissingEntry:
        return ()
    names = [s.email, s.lms_user_id]
    if s.first_name and s.last_name:
        names += [f"{s.first_name} {s.last_name}", f"{s.last_name}, {s.first_name}"]
    return tuple(n for n in names if n)
