"""nbgrader's generate_assignment stamps CohortLab's keys on every ungraded cell, once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
import pytest
from cohortlab.discussions.anchoring import notebook_key, stable_cell_key
from cohortlab.nbgrader.preprocessors import StampCellKeys
from cohortlab.nbgrader.quizzes import PublishQuizzes
from nbconvert.exporters import NotebookExporter
from nbformat import NotebookNode
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import IncludeHeaderFooter
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[2]
HW1 = REPO / "notebooks" / "source" / "hw1" / "hw1.ipynb"
RESOURCES = {"nbgrader": {"assignment": "hw1", "notebook": "hw1", "student": "."}}


def graded(cell: NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade_id"))


def stamp(nb: NotebookNode, **config: Any) -> NotebookNode:
    preprocessor = StampCellKeys(**config)
    nb, _ = preprocessor(nb, copy.deepcopy(RESOURCES))
    return nb


@pytest.fixture
def hw1() -> NotebookNode:
    return nbformat.read(HW1, as_version=4)


def test_the_demo_assignment_has_graded_and_ungraded_cells(hw1: NotebookNode) -> None:
    kinds = {(cell.cell_type, graded(cell)) for cell in hw1.cells}
    assert kinds == {("markdown", False), ("code", False), ("markdown", True), ("code", True)}
    nbformat.validate(hw1)


def test_every_ungraded_cell_gets_a_unique_stamp(hw1: NotebookNode) -> None:
    nb = stamp(hw1, course_id="demo101")
    ungraded = [cell for cell in nb.cells if not graded(cell)]
    stamps = [cell.metadata["cohortlab"]["cell_key"] for cell in ungraded]
    assert len(ungraded) >= 5
    assert len(set(stamps)) == len(stamps)
    # The source's cell ids become the keys, so regenerating the assignment keeps them.
    assert stamps == [cell.id for cell in ungraded]
    assert [stable_cell_key(cell) for cell in ungraded] == stamps


def test_cells_with_a_grade_id_are_never_touched(hw1: NotebookNode) -> None:
    before = [copy.deepcopy(cell) for cell in hw1.cells if graded(cell)]
    nb = stamp(hw1, course_id="demo101")
    after = [cell for cell in nb.cells if graded(cell)]
    assert after == before
    assert [stable_cell_key(cell) for cell in after] == [
        cell.metadata.nbgrader.grade_id for cell in before
    ]


def test_stamping_again_changes_nothing(hw1: NotebookNode) -> None:
    once = stamp(hw1, course_id="demo101")
    snapshot = copy.deepcopy(once)
    assert stamp(once, course_id="demo101") == snapshot


def test_notebook_key_and_course_are_set(hw1: NotebookNode) -> None:
    hw1.metadata["cohortlab"] = {"notebook_key": "a-uuid-the-lab-stamped-on-the-source"}
    nb = stamp(hw1, course_id="demo101")
    assert nb.metadata.cohortlab == {"notebook_key": "hw1/hw1.ipynb", "course": "demo101"}
    assert notebook_key(nb) == "hw1/hw1.ipynb"
    assert nb.metadata.kernelspec.name == "python3"  # the rest of the metadata is kept


def test_cells_without_ids_get_fresh_keys(hw1: NotebookNode) -> None:
    """A notebook older than nbformat 4.5 has no cell ids; its cells still get keys."""
    for cell in hw1.cells:
        del cell["id"]
    nb = stamp(hw1, course_id="demo101")
    keys = [stable_cell_key(cell) for cell in nb.cells]
    assert None not in keys
    assert len(set(keys)) == len(keys)


def test_course_comes_from_nbgrader_course_directory(hw1: NotebookNode) -> None:
    """Registered the way nbgrader does it: the converter's exporter builds the preprocessor
    from its class, and the course id is the converter's CourseDirectory.course_id."""
    converter = GenerateAssignment(coursedir=CourseDirectory(course_id="demo101"))
    exporter = NotebookExporter(parent=converter)
    exporter.register_preprocessor(StampCellKeys)  # as BaseConverter.start() does: enabled=False
    output, _ = exporter.from_notebook_node(hw1, resources=copy.deepcopy(RESOURCES))
    nb = nbformat.reads(output, as_version=4)
    assert nb.metadata.cohortlab.course == "demo101"
    assert all(stable_cell_key(cell) for cell in nb.cells)


def test_course_comes_from_config_outside_a_converter() -> None:
    config = Config({"CourseDirectory": {"course_id": "demo101"}})
    assert StampCellKeys(config=config).course_id == "demo101"


def test_the_hub_config_puts_quizzes_first_and_the_stamp_after_nbgraders_own() -> None:
    config = Config()
    # nbgrader loads a course config twice from the course folder; it must not add us twice.
    for _ in range(2):
        loaded = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "hub_config"))
        config.merge(loaded.load_config())
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
    header, *rest = GenerateAssignment.class_traits()["preprocessors"].default()
    assert header is IncludeHeaderFooter
    # PublishQuizzes (cohortlab.nbgrader.quizzes) replaces quiz spec cells before nbgrader's
    # own steps see them; the stamp stays last.
    assert converter.preprocessors == [header, PublishQuizzes, *rest, StampCellKeys]
    assert config.Exchange.path_includes_course is True
