"""Preprocessors that nbgrader runs while it makes the notebooks it releases.

:class:`StampCellKeys` runs in ``nbgrader generate_assignment``, after nbgrader's own
preprocessors, so every learner's copy of a course notebook carries the same discussion keys:

- ``metadata.cohortlab.cell_key`` on every cell without a ``grade_id``
  (:func:`cohortlab.discussions.anchoring.stamp_cell_keys`); graded cells are already known by
  their ``grade_id``, which nbgrader copies into every copy and checks with its checksums, so
  they are left alone;
- ``metadata.cohortlab.notebook_key`` = ``"<assignment>/<notebook file>"`` and
  ``metadata.cohortlab.course`` = nbgrader's ``CourseDirectory.course_id``.

Running it last keeps the stamp out of nbgrader's way: nbgrader's checksums cover only graded,
solution and read-only cells (source, type, flags, grade_id, points), never other metadata, and
cells added by ``IncludeHeaderFooter`` are stamped too.

Finding the course (:func:`nbgrader_course_id`) and the notebook key
(:func:`nbgrader_notebook_key`) is shared with :mod:`cohortlab.nbgrader.quizzes` through
:class:`CoursePreprocessor`, so threads and quizzes of one notebook are always filed under
the same course and key.
"""

from __future__ import annotations

from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode, default
from traitlets.config import Configurable

from ..discussions import anchoring


def nbgrader_course_directory(configurable: Configurable) -> CourseDirectory | None:
    """The CourseDirectory of the nbgrader converter running ``configurable``, if any.

    nbgrader hands preprocessors neither its CourseDirectory nor the course id, but the
    converter that runs them holds it and is their exporter's parent, so it is found by
    walking up the ``parent`` chain.
    """
    owner = getattr(configurable, "parent", None)
    while owner is not None:
        coursedir = getattr(owner, "coursedir", None)
        if isinstance(coursedir, CourseDirectory):
            return coursedir
        owner = getattr(owner, "parent", None)
    return None


def nbgrader_course_id(configurable: Configurable) -> str:
    """The nbgrader course id: the running converter's, else the one in the shared config."""
    coursedir = nbgrader_course_directory(configurable)
    if coursedir is not None:
        return coursedir.course_id
    return str(configurable.config.get("CourseDirectory", {}).get("course_id", ""))


def nbgrader_notebook_key(resources: ResourcesDict) -> str | None:
    """``"<assignment>/<notebook file>"``, from what nbgrader's converters put in resources."""
    info: Any = resources.get("nbgrader") or {}
    assignment, notebook = info.get("assignment"), info.get("notebook")
    if not (isinstance(assignment, str) and assignment and isinstance(notebook, str) and notebook):
        return None
    return f"{assignment}/{notebook}.ipynb"


class CoursePreprocessor(NbGraderPreprocessor):
    """Base of CohortLab's nbgrader preprocessors: the course id they file things under.

    Subclasses nbgrader's base so that they are enabled by default (nbconvert's
    preprocessors are not) and can be switched off per course with
    ``c.<Name>.enabled = False``. ``c.CoursePreprocessor.course_id`` sets the course for all.
    """

    course_id = Unicode(
        help=(
            "The course id CohortLab files this notebook's threads and quizzes under. Defaults "
            "to nbgrader's CourseDirectory.course_id, which is the course's id in the service."
        )
    ).tag(config=True)

    @default("course_id")
    def _course_id_default(self) -> str:
        return nbgrader_course_id(self)


class StampCellKeys(CoursePreprocessor):
    """Stamp CohortLab's cell keys, notebook key and course into a released notebook."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        keyless = sum(1 for cell in nb.cells if anchoring.stable_cell_key(cell) is None)
        if keyless:
            # Such cells get random keys, new each time the assignment is generated, so
            # threads opened on an earlier release find them only by content.
            self.log.warning(
                "%d cell(s) have no id (nbformat < 4.5): their discussion keys change each "
                "time the assignment is generated. Open and save the source notebook in "
                "JupyterLab to give its cells ids.",
                keyless,
            )
        stamped = anchoring.stamp_cell_keys(nb)
        cohortlab = _section(nb)
        key = nbgrader_notebook_key(resources)
        if key is None:
            self.log.warning("No nbgrader assignment or notebook name: notebook key not set.")
        else:
            cohortlab["notebook_key"] = key
        if self.course_id:
            cohortlab["course"] = self.course_id
        else:
            self.log.warning("No CourseDirectory.course_id: the notebook names no course.")
        self.log.debug("Stamped %d cell key(s); notebook key %s", stamped, key)
        return nb, resources


def _section(nb: NotebookNode) -> NotebookNode:
    metadata = nb.setdefault("metadata", NotebookNode())
    section = metadata.get("cohortlab")
    if not isinstance(section, dict):
        section = metadata["cohortlab"] = NotebookNode()
    return section
