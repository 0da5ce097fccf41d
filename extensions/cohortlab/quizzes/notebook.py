"""Quiz spec cells in an instructor's notebook, and the released copy that keeps no key.

An instructor writes a quiz where they write the rest of the lesson: in a raw or markdown
cell of the source notebook tagged ``cohortlab-quiz`` (see ``docs/quizzes.md``). Both ways
of publishing (nbgrader's ``generate_assignment`` with
:class:`cohortlab.nbgrader.quizzes.PublishQuizzes`, and ``cohortlab quiz publish``) use this
module, so they find the same cells, report mistakes the same way and release the same
widget cell.

The released notebook is the one thing that reaches every learner, so :func:`release`
builds each widget cell afresh instead of editing the spec cell: nothing the spec cell held
(its source, attachments, outputs, metadata) can survive by accident.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from .spec import Quiz, SpecError, parse_quiz

SPEC_TAG = "cohortlab-quiz"
SPEC_CELL_TYPES = ("raw", "markdown")
# A fence around the whole spec, as an author writes it in a markdown cell so that it
# renders as code: ```yaml / ```yml / ```json / ``` ... ``` (or the ~~~ form).
_FENCE = re.compile(
    r"\A\s*(?P<fence>`{3,}|~{3,})[ \t]*(?:yaml|yml|json)?[ \t]*\n(?P<body>.*?)\n?[ \t]*"
    r"(?P=fence)[ \t]*\s*\Z",
    re.DOTALL | re.IGNORECASE,
)
# nbgrader cell kinds that make nbgrader keep or check a cell's source (gradebook,
# checksums): a spec cell must be none of them, or nbgrader would hold on to the key.
_NBGRADER_KINDS = ("grade", "solution", "task", "locked")


class QuizNotebookError(ValueError):
    """A notebook's quiz cells cannot be published; the message names the cell."""


@dataclass(frozen=True)
class SpecCell:
    """One quiz spec found in a notebook.

    ``index`` is the cell's position (from 0); ``text`` is the spec as written, without
    its fence, which is what the service stores.
    """

    index: int
    cell_id: str | None
    text: str
    quiz: Quiz

    @property
    def place(self) -> str:
        return cell_place(self.index, self.cell_id)


def cell_place(index: int, cell_id: str | None) -> str:
    """``"cell 4 (id abc)"``: how errors name a cell, by position (counted from 1, as a
    person counts cells when scrolling) and by id (what survives moving cells around)."""
    return f"cell {index + 1} (id {cell_id})" if cell_id else f"cell {index + 1}"


def is_spec_cell(cell: Mapping[str, Any]) -> bool:
    """Whether the cell is tagged as a quiz spec (whatever its type; see :func:`find_quizzes`)."""
    metadata = cell.get("metadata") or {}
    tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
    return isinstance(tags, list) and SPEC_TAG in tags


def strip_fence(source: str) -> str:
    """The spec inside a Markdown code fence around the whole cell, or the source itself."""
    match = _FENCE.match(source)
    return match.group("body") if match else source


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _check_cell_kind(cell: Mapping[str, Any], place: str) -> None:
    if cell.get("cell_type") not in SPEC_CELL_TYPES:
        raise QuizNotebookError(
            f"{place}: is tagged {SPEC_TAG} but is a {cell.get('cell_type')} cell; "
            "write the quiz in a raw or markdown cell."
        )
    nbgrader = (cell.get("metadata") or {}).get("nbgrader") or {}
    marked = [kind for kind in _NBGRADER_KINDS if nbgrader.get(kind)]
    if marked:
        raise QuizNotebookError(
            f"{place}: a quiz spec cell must not be an nbgrader cell (it is marked "
            f"{', '.join(marked)}): nbgrader would save its source, with the answer key, "
            "in the gradebook. Set its nbgrader cell type to '-'."
        )


def find_quizzes(nb: Mapping[str, Any]) -> list[SpecCell]:
    """Every quiz spec cell of ``nb``, parsed and checked, in notebook order.

    All-or-nothing: the first bad cell raises :class:`QuizNotebookError` naming it, e.g.
    ``cell 4 (id abc): questions[2].id: ...``, so no quiz of a broken notebook is published.
    A tagged code cell is refused rather than skipped: it would otherwise be released as it
    is, spec and all. Two cells with one quiz id are refused too, as the second would
    silently replace the first in the service.
    """
    found: list[SpecCell] = []
    seen: dict[str, SpecCell] = {}
    for index, cell in enumerate(nb.get("cells", [])):
        if not is_spec_cell(cell):
            continue
        cell_id = cell.get("id") or None
        place = cell_place(index, cell_id)
        _check_cell_kind(cell, place)
        text = strip_fence(_source(cell))
        if not text.strip():
            raise QuizNotebookError(f"{place}: the quiz spec is empty.")
        try:
            quiz = parse_quiz(text)
        except SpecError as e:
            raise QuizNotebookError(f"{place}: {e}") from None
        spec_cell = SpecCell(index, cell_id, text, quiz)
        if quiz.id in seen:
            raise QuizNotebookError(
                f"{place}: quiz id {quiz.id!r} is already used by {seen[quiz.id].place}; "
                "give every quiz in a notebook its own id."
            )
        seen[quiz.id] = spec_cell
        found.append(spec_cell)
    return found


def widget_source(quiz_id: str, course: str) -> str:
    """The code a learner's released notebook runs to show the quiz.

    ``json.dumps`` quotes the ids: a JSON string is a valid Python string literal, so an
    unusual course id cannot break (or inject into) the cell.
    """
    call = f"Quiz({json.dumps(quiz_id)}, course={json.dumps(course)})"
    return f"from cohortlab.widgets import Quiz\n{call}"


def widget_cell(spec_cell: SpecCell, course: str) -> NotebookNode:
    """A new code cell showing the quiz, with the spec cell's id and nothing else of it.

    Keeping the id keeps discussion threads anchored on the quiz's place in the notebook
    (``cohortlab.discussions.anchoring`` uses cell ids as keys).
    """
    cell = new_code_cell(
        source=widget_source(spec_cell.quiz.id, course),
        metadata={"cohortlab": {"quiz": spec_cell.quiz.id}},
    )
    cell.execution_count = None
    cell.outputs = []
    if spec_cell.cell_id:
        cell["id"] = spec_cell.cell_id
    return cell


def release(nb: NotebookNode, course: str, quizzes: list[SpecCell] | None = None) -> NotebookNode:
    """A copy of ``nb`` with every quiz spec cell replaced by its widget cell.

    ``quizzes`` is what :func:`find_quizzes` returned for ``nb`` (found again if omitted).
    ``nb`` itself is left as it was, so a caller can still read the specs after releasing.
    """
    if not course:
        raise QuizNotebookError(
            "No course id: the released quiz cell must name the course the quiz is stored in."
        )
    if quizzes is None:
        quizzes = find_quizzes(nb)
    out = copy.deepcopy(nb)
    for spec_cell in quizzes:
        out.cells[spec_cell.index] = widget_cell(spec_cell, course)
    leftover = [i for i, cell in enumerate(out.cells) if is_spec_cell(cell)]
    if leftover:  # a caller passed a stale list: never hand back a notebook with a spec
        raise QuizNotebookError(
            f"{cell_place(leftover[0], out.cells[leftover[0]].get('id'))}: quiz spec cell was "
            "not replaced; find the quizzes of this notebook again."
        )
    return out
