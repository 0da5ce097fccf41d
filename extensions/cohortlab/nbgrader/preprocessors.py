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
"""

from __future__ import annotations

from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode, default

from ..discussions import anchoring


class StampCellKeys(NbGraderPreprocessor):
    """Stamp CohortLab's cell keys, notebook key and course into a released notebook.

    Subclasses nbgrader's base so that it is enabled by default (nbconvert's preprocessors are
    not) and can be switched off per course with ``c.StampCellKeys.enabled = False``.
    """

    course_id = Unicode(
        help=(
            "The course id written into metadata.cohortlab.course. Defaults to nbgrader's "
            "CourseDirectory.course_id, which is what threads are filed under in the service."
        )
    ).tag(config=True)

    @default("course_id")
    def _course_id_default(self) -> str:
        # nbgrader gives preprocessors neither its CourseDirectory nor the course id. The
        # converter that runs us holds the CourseDirectory (it is our exporter's parent);
        # outside a converter, read the shared config.
        owner = self.parent
        while owner is not None:
            coursedir = getattr(owner, "coursedir", None)
            if isinstance(coursedir, CourseDirectory):
                return coursedir.course_id
            owner = getattr(owner, "parent", None)
        return str(self.config.get("CourseDirectory", {}).get("course_id", ""))

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
        key = _notebook_key(resources)
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


def _notebook_key(resources: ResourcesDict) -> str | None:
    """``"<assignment>/<notebook file>"``, from what nbgrader's converters put in resources."""
    info: Any = resources.get("nbgrader") or {}
    assignment, notebook = info.get("assignment"), info.get("notebook")
    if not (isinstance(assignment, str) and assignment and isinstance(notebook, str) and notebook):
        return None
    return f"{assignment}/{notebook}.ipynb"


def _section(nb: NotebookNode) -> NotebookNode:
    metadata = nb.setdefault("metadata", NotebookNode())
    section = metadata.get("cohortlab")
    if not isinstance(section, dict):
        section = metadata["cohortlab"] = NotebookNode()
    return section
