"""Publish a notebook's quizzes while nbgrader generates the assignment learners receive.

:class:`PublishQuizzes` runs in ``nbgrader generate_assignment``. For every cell tagged
``cohortlab-quiz`` (:mod:`cohortlab.quizzes.notebook`) it stores the quiz, key included, in
the service (``PUT courses/<course>/quizzes/<id>``, as the instructor whose hub token the
process holds) and replaces the cell with the code cell that shows the quiz widget.

Where it runs in nbgrader's list (``hub_config/nbgrader_config.py``): right after
``IncludeHeaderFooter`` and before every other nbgrader preprocessor. After the header and
footer, so a quiz written there is published too; before the rest, so that none of them
ever sees the key: ``SaveCells`` copies the source of graded and read-only cells into the
gradebook, ``ComputeChecksums`` hashes it, and ``LockCells``/``ClearSolutions`` would work
on a cell that is about to go.

Failing is the safe side. If any quiz cannot be stored (bad spec, service refuses or is
unreachable, no token), the preprocessor raises: nbgrader then logs the message, removes
what it generated for the assignment and exits non-zero, so an instructor can never
release a notebook whose quiz the service does not have. The same goes for the two ways
nbgrader could release a spec without us replacing it:

- ``c.PublishQuizzes.enabled = False`` on a notebook with spec cells is refused rather
  than letting nbconvert pass the notebook through untouched;
- nbgrader copies every other file of the assignment's source folder (not ``*.ipynb``, but
  e.g. ``quiz.yaml`` or a hidden ``.draft.ipynb``) into the release unchanged. Such copies
  that hold a quiz spec are deleted from the release and reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.converters import GenerateAssignment
from traitlets import Float, Unicode

from ..client import ServiceClient, ServiceError
from ..quizzes.notebook import QuizNotebookError, find_quizzes, is_spec_cell, release
from .preprocessors import CoursePreprocessor, nbgrader_notebook_key

# Files larger than this are not read when looking for copied quiz specs (a spec is small;
# data files can be large).
MAX_SCANNED_BYTES = 1_000_000


class QuizPublishError(RuntimeError):
    """A quiz of the notebook was not published, so the notebook must not be released."""


class PublishQuizzes(CoursePreprocessor):
    """Publish the notebook's quiz spec cells to the service and release only the widgets."""

    service_url = Unicode(
        help=(
            "Base URL of the CohortLab service (…/services/cohortlab/). Default "
            "$COHORTLAB_SERVICE_URL, which JupyterHub sets in every CohortLab server. The token "
            "is never configured here: it is $JUPYTERHUB_API_TOKEN (or $COHORTLAB_TOKEN), so "
            "quizzes are published as the instructor running nbgrader."
        )
    ).tag(config=True)

    timeout = Float(
        15.0, help="Seconds to wait for the service on each quiz before giving up."
    ).tag(config=True)

    def __call__(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        # nbconvert returns a disabled preprocessor's notebook untouched, which would
        # release the spec cell; so disabled is only allowed for notebooks without one.
        if not self.enabled:
            if any(is_spec_cell(cell) for cell in nb.cells):
                raise self._fail(
                    f"{_where(resources)}: has quiz spec cells but PublishQuizzes is disabled; "
                    "releasing it would hand learners the answer key. Enable PublishQuizzes or "
                    "remove the cells tagged cohortlab-quiz."
                )
            return nb, resources
        return self.preprocess(nb, resources)

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        self._remove_copied_specs(resources)
        where = _where(resources)
        try:
            quizzes = find_quizzes(nb)
        except QuizNotebookError as e:
            raise self._fail(f"{where}, {e}") from None
        if not quizzes:
            return nb, resources
        course = self.course_id
        if not course:
            raise self._fail(
                f"{where}: has quizzes but no course id; set c.CourseDirectory.course_id in the "
                "course's nbgrader_config.py."
            )
        key = nbgrader_notebook_key(resources)
        client = ServiceClient(url=self.service_url or None, timeout=self.timeout)
        for number, spec_cell in enumerate(quizzes, 1):
            body: dict[str, Any] = {"spec": spec_cell.text}
            if key:
                body["notebook_key"] = key
            path = f"courses/{quote(course, safe='')}/quizzes/{spec_cell.quiz.id}"
            try:
                client.put(path, body)
            except ServiceError as e:
                raise self._fail(
                    f"{where}, {spec_cell.place}: quiz {spec_cell.quiz.id!r} was not published, "
                    f"so the notebook is not released: {e.message}"
                ) from None
            self.log.info(
                "Published quiz %r (%d/%d) of %s to course %s",
                spec_cell.quiz.id,
                number,
                len(quizzes),
                where,
                course,
            )
        return release(nb, course, quizzes), resources

    def _fail(self, message: str) -> QuizPublishError:
        # nbgrader logs an exception as a traceback; log the message on its own line too,
        # so the instructor reads the reason, not only a stack.
        self.log.error(message)
        return QuizPublishError(message)

    def _remove_copied_specs(self, resources: ResourcesDict) -> None:
        """Delete quiz specs nbgrader copied unchanged into the release, and fail.

        ``generate_assignment`` copies the assignment's other files before it converts the
        notebooks, so they are already in the release folder when the first notebook gets
        here. Deleting the copies matters: for ``--notebook`` runs nbgrader removes only the
        failed notebook, not the copied files.
        """
        folder = self._release_folder(resources)
        if folder is None or not folder.is_dir():
            return
        leaked = [path for path in sorted(folder.rglob("*")) if _holds_quiz_spec(path)]
        if not leaked:
            return
        for path in leaked:
            path.unlink()
        names = ", ".join(str(path.relative_to(folder)) for path in leaked)
        raise self._fail(
            f"nbgrader copies every non-notebook file of the assignment into the release "
            f"unchanged, and {names} hold(s) a quiz with its answer key (removed from the "
            "release again). Keep quiz specs in notebook cells tagged cohortlab-quiz, or move "
            "those files out of the assignment's source folder (or add them to "
            "c.CourseDirectory.ignore)."
        )

    def _release_folder(self, resources: ResourcesDict) -> Path | None:
        """The assignment's release folder, when a ``generate_assignment`` is running us."""
        owner = self.parent
        while owner is not None and not isinstance(owner, GenerateAssignment):
            owner = getattr(owner, "parent", None)
        assignment = (resources.get("nbgrader") or {}).get("assignment")
        if owner is None or owner.coursedir is None or not isinstance(assignment, str):
            return None
        coursedir = owner.coursedir
        return Path(coursedir.format_path(coursedir.release_directory, ".", assignment))


def _where(resources: ResourcesDict) -> str:
    return nbgrader_notebook_key(resources) or "the notebook"


def _holds_quiz_spec(path: Path) -> bool:
    """Whether a file nbgrader copied would hand learners a quiz spec (and so its key)."""
    suffix = path.suffix.lower()
    if suffix not in (".ipynb", ".yaml", ".yml", ".json") or not path.is_file():
        return False
    try:
        if path.stat().st_size > MAX_SCANNED_BYTES:
            return False
        text = path.read_text(encoding="utf-8")
        if suffix == ".ipynb":
            cells = json.loads(text).get("cells", [])
            return any(isinstance(cell, dict) and is_spec_cell(cell) for cell in cells)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and isinstance(data.get("questions"), list)
