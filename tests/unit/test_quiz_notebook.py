"""Quiz spec cells: found, checked, published through nbgrader, and never released.

The service is replaced by a recording stand-in for :class:`cohortlab.client.ServiceClient`
here; ``tests/unit/test_quiz_cli.py`` talks HTTP to a fake service and
``tests/integration/test_quiz_publish_nbgrader.py`` to the real one.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from cohortlab.client import ServiceError
from cohortlab.nbgrader import quizzes as nbgrader_quizzes
from cohortlab.nbgrader.preprocessors import StampCellKeys
from cohortlab.nbgrader.quizzes import PublishQuizzes, QuizPublishError
from cohortlab.quizzes.notebook import (
    SPEC_TAG,
    QuizNotebookError,
    find_quizzes,
    release,
    strip_fence,
    widget_source,
)
from nbconvert.exporters import NotebookExporter
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateAssignment
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import IncludeHeaderFooter
from traitlets.config import Config

COURSE = "demo101"
RESOURCES = {"nbgrader": {"assignment": "hw1", "notebook": "hw1", "student": "."}}

# One question of every type, with every kind of key field, each with a distinctive value.
RICH_SPEC = textwrap.dedent(
    r"""
    id: week-3-regression
    title: "Week 3: linear regression"
    shuffle_choices: true
    attempts: 2
    live: {countdown: 20}
    questions:
      - id: loss
        type: single
        prompt: Which loss does **least squares** minimise?
        points: 2
        explanation: Least squares minimises the sum of squared residuals.
        choices:
          - id: abs
            text: Absolute error
            correct: false
            feedback: That is least absolute deviations.
          - {id: sq, text: Squared error, correct: true}
          - {id: hinge, text: Hinge loss, correct: false}
      - id: assumptions
        type: multiple
        prompt: Which are assumptions of the linear model?
        scoring: partial
        choices:
          - {id: linear, text: The mean of y is linear in x, correct: true}
          - {id: indep, text: Independent errors, correct: true}
          - id: normal-x
            text: Normally distributed x
            correct: false
            feedback: x need not be normal.
      - id: slope
        type: numeric
        prompt: What slope does `fit_line` return? (2 decimals)
        answer: 3.0217
        tolerance: 0.0091
        feedback: Did you pass x and y in the right order?
      - id: growth
        type: numeric
        prompt: By what factor does the error grow?
        answer: 41.75
        relative_tolerance: 0.0123
      - id: method
        type: text
        prompt: Name the method `np.linalg.lstsq` uses.
        answers: ["ordinary least squares", "OLS-method-xyz"]
        pattern: 'ordinary\s+least[- ]squares?( method)?'
        case_sensitive: false
      - id: steps
        type: ordering
        prompt: Put the steps of the exercise in order.
        scoring: partial
        explanation: First the data, then the fit, then the plot.
        items:
          - {id: load, text: Generate the data}
          - {id: fit, text: Fit the line}
          - {id: plot, text: Plot data and fit}
    """
).strip()

SMALL_SPEC = {
    "id": "check-1",
    "title": "A quick check",
    "questions": [
        {
            "id": "q1",
            "type": "single",
            "prompt": "Pick b",
            "choices": [
                {"id": "a", "text": "A", "correct": False},
                {"id": "b", "text": "B", "correct": True, "feedback": "zebra-feedback-77"},
            ],
        }
    ],
}


def spec_cell(source: str, *, kind: str = "markdown", cell_id: str = "quiz-cell") -> NotebookNode:
    make = {"markdown": new_markdown_cell, "raw": new_raw_cell, "code": new_code_cell}[kind]
    cell = make(source, metadata={"tags": [SPEC_TAG], "collapsed": False})
    cell["id"] = cell_id
    return cell


def notebook(*spec_cells: NotebookNode) -> NotebookNode:
    intro = new_markdown_cell("# Lesson\n\nSome prose.")
    intro["id"] = "intro"
    code = new_code_cell("x = 1", execution_count=3)
    code["id"] = "code"
    nb = new_notebook(cells=[intro, *spec_cells, code])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.validate(nb)
    return nb


def fenced(spec: str, lang: str = "yaml") -> str:
    return f"```{lang}\n{spec}\n```\n"


def rich_notebook() -> NotebookNode:
    return notebook(
        spec_cell(fenced(RICH_SPEC), cell_id="rich"),
        spec_cell(json.dumps(SMALL_SPEC, indent=2), kind="raw", cell_id="small"),
    )


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


# --- finding and replacing --------------------------------------------------------------


def test_spec_cells_become_quiz_widget_cells_that_keep_their_ids() -> None:
    nb = rich_notebook()
    out = release(nb, COURSE)
    nbformat.validate(out)
    assert [cell.cell_type for cell in out.cells] == ["markdown", "code", "code", "code"]
    for index, (quiz_id, cell_id) in enumerate(
        [("week-3-regression", "rich"), ("check-1", "small")], 1
    ):
        cell = out.cells[index]
        assert cell.id == cell_id
        assert cell.source == (
            f'from cohortlab.widgets import Quiz\nQuiz("{quiz_id}", course="{COURSE}")'
        )
        assert cell.metadata == {"cohortlab": {"quiz": quiz_id}}
        assert cell.outputs == [] and cell.execution_count is None


def test_other_cells_and_the_source_notebook_are_left_alone() -> None:
    nb = rich_notebook()
    before = copy.deepcopy(nb)
    out = release(nb, COURSE)
    assert nb == before
    assert out.cells[0] == nb.cells[0] and out.cells[-1] == nb.cells[-1]
    assert out.metadata == nb.metadata


def test_found_quizzes_carry_the_spec_text_without_its_fence() -> None:
    found = find_quizzes(rich_notebook())
    assert [(q.index, q.cell_id, q.quiz.id) for q in found] == [
        (1, "rich", "week-3-regression"),
        (2, "small", "check-1"),
    ]
    assert found[0].text == RICH_SPEC
    assert found[0].place == "cell 2 (id rich)"
    assert yaml.safe_load(found[1].text) == SMALL_SPEC


@pytest.mark.parametrize(
    "source",
    [
        RICH_SPEC,
        fenced(RICH_SPEC),
        fenced(RICH_SPEC, "yml"),
        fenced(RICH_SPEC, "YAML"),
        fenced(RICH_SPEC, ""),
        f"~~~yaml\n{RICH_SPEC}\n~~~",
        f"\n\n```yaml\n{RICH_SPEC}\n```\n\n",
    ],
)
def test_a_fence_around_the_spec_is_optional(source: str) -> None:
    assert strip_fence(source).strip() == RICH_SPEC
    assert find_quizzes(notebook(spec_cell(source)))[0].quiz.id == "week-3-regression"


def test_a_json_spec_in_a_json_fence_parses() -> None:
    source = fenced(json.dumps(SMALL_SPEC), "json")
    assert find_quizzes(notebook(spec_cell(source)))[0].quiz.id == "check-1"


def test_a_notebook_without_quizzes_is_released_as_it_is() -> None:
    nb = notebook()
    assert find_quizzes(nb) == []
    assert release(nb, COURSE) == nb


def test_releasing_twice_changes_nothing_more() -> None:
    once = release(rich_notebook(), COURSE)
    assert release(once, COURSE) == once


def test_quiz_and_course_ids_are_quoted_as_python_strings() -> None:
    source = widget_source("check-1", 'odd"course\\')
    namespace: dict[str, Any] = {}
    call = source.splitlines()[1]
    exec(f"def Quiz(quiz, course):\n    return quiz, course\nresult = {call}", namespace)
    assert namespace["result"] == ("check-1", 'odd"course\\')


# --- the key never stays ---------------------------------------------------------------


def test_the_released_notebook_holds_nothing_of_any_spec() -> None:
    nb = rich_notebook()
    nb.cells[1]["attachments"] = {"key.png": {"image/png": "a2V5LWluLWFuLWF0dGFjaG1lbnQ="}}
    text = nbformat.writes(release(nb, COURSE))
    rich = yaml.safe_load(RICH_SPEC)
    key_values = [
        "correct",
        "feedback",
        "explanation",
        "tolerance",
        "pattern",
        "answers",
        "scoring",
        "case_sensitive",
        "That is least absolute deviations.",
        "x need not be normal.",
        "Did you pass x and y in the right order?",
        "Least squares minimises",
        "First the data, then the fit",
        "3.0217",
        "0.0091",
        "41.75",
        "0.0123",
        "ordinary least squares",
        "OLS-method-xyz",
        "least[- ]squares?",
        "zebra-feedback-77",
        "a2V5LWluLWFuLWF0dGFjaG1lbnQ=",
        SPEC_TAG,
    ]
    # Nothing else of the specs either (titles, prompts, choice texts): only the quiz ids.
    rest = [
        leaf
        for spec in (rich, SMALL_SPEC)
        for leaf in leaves(spec)
        if isinstance(leaf, str) and len(leaf) >= 5 and leaf not in (rich["id"], SMALL_SPEC["id"])
    ]
    assert len(rest) > 20
    for needle in [*key_values, *rest]:
        assert needle.lower() not in text.lower(), f"{needle!r} leaked into the released notebook"
    assert "week-3-regression" in text and "check-1" in text


# --- mistakes name their cell ----------------------------------------------------------


def test_a_spec_error_names_the_cell_and_the_place_in_the_spec() -> None:
    bad = copy.deepcopy(SMALL_SPEC)
    bad["questions"].append({**bad["questions"][0], "id": "Not A Slug"})
    nb = notebook(spec_cell(json.dumps(bad), cell_id="abc"))
    with pytest.raises(QuizNotebookError) as error:
        find_quizzes(nb)
    assert str(error.value).startswith("cell 2 (id abc): questions[1].id: 'Not A Slug'")


def test_invalid_yaml_names_the_cell_and_the_line() -> None:
    nb = notebook(spec_cell(fenced("id: x\ntitle: [unclosed\n"), cell_id="broken"))
    with pytest.raises(QuizNotebookError, match=r"^cell 2 \(id broken\): .*not valid YAML.*line"):
        find_quizzes(nb)


def test_an_empty_spec_cell_is_refused() -> None:
    with pytest.raises(QuizNotebookError, match=r"^cell 2 \(id e\): the quiz spec is empty"):
        find_quizzes(notebook(spec_cell("```yaml\n```", cell_id="e")))


def test_two_cells_with_one_quiz_id_are_refused() -> None:
    nb = notebook(
        spec_cell(json.dumps(SMALL_SPEC), cell_id="first"),
        spec_cell(json.dumps(SMALL_SPEC), kind="raw", cell_id="second"),
    )
    with pytest.raises(QuizNotebookError) as error:
        find_quizzes(nb)
    assert str(error.value) == (
        "cell 3 (id second): quiz id 'check-1' is already used by cell 2 (id first); "
        "give every quiz in a notebook its own id."
    )


def test_a_tagged_code_cell_is_refused_not_released() -> None:
    nb = notebook(spec_cell(json.dumps(SMALL_SPEC), kind="code", cell_id="c"))
    with pytest.raises(QuizNotebookError, match=r"^cell 2 \(id c\): .*code cell"):
        find_quizzes(nb)
    with pytest.raises(QuizNotebookError):
        release(nb, COURSE)


@pytest.mark.parametrize("kind", ["grade", "solution", "task", "locked"])
def test_a_spec_cell_that_nbgrader_would_keep_is_refused(kind: str) -> None:
    cell = spec_cell(json.dumps(SMALL_SPEC), cell_id="g")
    cell.metadata["nbgrader"] = {kind: True, "grade_id": "g", "schema_version": 3}
    with pytest.raises(QuizNotebookError, match=rf"^cell 2 \(id g\): .*marked {kind}"):
        find_quizzes(notebook(cell))


def test_a_cell_without_an_id_is_named_by_position() -> None:
    nb = notebook(spec_cell("id: x"))
    del nb.cells[1]["id"]  # as in a notebook older than nbformat 4.5
    with pytest.raises(QuizNotebookError, match=r"^cell 2: "):
        find_quizzes(nb)


def test_releasing_needs_a_course() -> None:
    with pytest.raises(QuizNotebookError, match="No course id"):
        release(rich_notebook(), "")


# --- the nbgrader preprocessor ------------------------------------------------------------


class RecordingClient:
    """Stands in for ServiceClient: records each PUT, or refuses with the given error."""

    calls: list[tuple[str, Any]] = []
    refuse: ServiceError | None = None

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 15):
        self.url = url

    def put(self, path: str, body: Any = None) -> Any:
        if RecordingClient.refuse is not None:
            raise RecordingClient.refuse
        RecordingClient.calls.append((path, body))
        return {"quiz": {"id": body["spec"]}}


@pytest.fixture
def cl_service(monkeypatch: pytest.MonkeyPatch) -> type[RecordingClient]:
    RecordingClient.calls = []
    RecordingClient.refuse = None
    monkeypatch.setattr(nbgrader_quizzes, "ServiceClient", RecordingClient)
    return RecordingClient


def run_exporter(nb: NotebookNode, *preprocessors: type) -> NotebookNode:
    """As nbgrader's converter does it: the exporter builds the preprocessors from classes."""
    converter = GenerateAssignment(coursedir=CourseDirectory(course_id=COURSE))
    exporter = NotebookExporter(parent=converter)
    for preprocessor in preprocessors:
        exporter.register_preprocessor(preprocessor)
    output, _ = exporter.from_notebook_node(nb, resources=copy.deepcopy(RESOURCES))
    return nbformat.reads(output, as_version=4)


def test_publish_quizzes_stores_each_quiz_then_releases_only_widgets(
    cl_service: type[RecordingClient],
) -> None:
    out = run_exporter(rich_notebook(), PublishQuizzes, StampCellKeys)
    assert cl_service.calls == [
        (
            "courses/demo101/quizzes/week-3-regression",
            {"spec": RICH_SPEC, "notebook_key": "hw1/hw1.ipynb"},
        ),
        (
            "courses/demo101/quizzes/check-1",
            {"spec": json.dumps(SMALL_SPEC, indent=2), "notebook_key": "hw1/hw1.ipynb"},
        ),
    ]
    assert [cell.metadata.get("cohortlab", {}).get("quiz") for cell in out.cells] == [
        None,
        "week-3-regression",
        "check-1",
        None,
    ]
    # The stamp after it keys the widget cells by the spec cells' ids.
    assert [out.cells[i].metadata.cohortlab.cell_key for i in (1, 2)] == ["rich", "small"]
    assert "zebra-feedback-77" not in nbformat.writes(out)


def test_a_refusal_stops_the_notebook_with_the_services_message(
    cl_service: type[RecordingClient],
) -> None:
    cl_service.refuse = ServiceError(403, "forbidden", "Only instructors may publish quizzes.")
    with pytest.raises(QuizPublishError) as error:
        run_exporter(rich_notebook(), PublishQuizzes)
    assert str(error.value) == (
        "hw1/hw1.ipynb, cell 2 (id rich): quiz 'week-3-regression' was not published, so the "
        "notebook is not released: Only instructors may publish quizzes."
    )


def test_a_bad_spec_stops_the_notebook_before_anything_is_published(
    cl_service: type[RecordingClient],
) -> None:
    nb = rich_notebook()
    nb.cells[2].source = nb.cells[2].source.replace('"single"', '"singel"')
    with pytest.raises(QuizPublishError, match=r"^hw1/hw1.ipynb, cell 3 \(id small\): "):
        run_exporter(nb, PublishQuizzes)
    assert cl_service.calls == []


def test_disabling_publish_quizzes_does_not_release_spec_cells(
    cl_service: type[RecordingClient],
) -> None:
    config = Config({"PublishQuizzes": {"enabled": False}})
    with pytest.raises(QuizPublishError, match="PublishQuizzes is disabled"):
        PublishQuizzes(config=config, course_id=COURSE)(rich_notebook(), copy.deepcopy(RESOURCES))
    plain = notebook()
    assert PublishQuizzes(config=config)(plain, {})[0] == plain


def test_quizzes_need_a_course(cl_service: type[RecordingClient]) -> None:
    with pytest.raises(QuizPublishError, match="no course id"):
        PublishQuizzes(course_id="")(rich_notebook(), copy.deepcopy(RESOURCES))


# --- a whole generate_assignment, in a course folder of its own ----------------------------


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An empty nbgrader gradebook, made once: nbgrader stamps each new gradebook by running
    the `alembic` command (from PATH), which takes seconds."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    env_path = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env_path}"
    try:
        Gradebook(f"sqlite:///{path}", COURSE).close()
    finally:
        os.environ["PATH"] = env_path
    return path.read_bytes()


@pytest.fixture
def course(tmp_path: Path, empty_gradebook: bytes) -> Path:
    (tmp_path / "gradebook.db").write_bytes(empty_gradebook)
    source = tmp_path / "source" / "hw1"
    source.mkdir(parents=True)
    nbformat.write(rich_notebook(), source / "hw1.ipynb")
    return tmp_path


def generate(course: Path) -> None:
    defaults = GenerateAssignment.class_traits()["preprocessors"].default()
    assert defaults[0] is IncludeHeaderFooter
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = COURSE
    config.CourseDirectory.assignment_id = "hw1"
    config.GenerateAssignment.preprocessors = [
        defaults[0],
        PublishQuizzes,
        *defaults[1:],
        StampCellKeys,
    ]
    coursedir = CourseDirectory(config=config)
    GenerateAssignment(coursedir=coursedir, config=config).start()


def test_generate_assignment_releases_widgets_and_keeps_no_key_in_the_gradebook(
    cl_service: type[RecordingClient], course: Path
) -> None:
    generate(course)
    released = course / "release" / "hw1" / "hw1.ipynb"
    text = released.read_text()
    assert "zebra-feedback-77" not in text and "Least squares minimises" not in text
    assert b"zebra-feedback-77" not in (course / "gradebook.db").read_bytes()
    assert len(cl_service.calls) == 2


def test_generate_assignment_fails_and_releases_nothing_when_the_service_refuses(
    cl_service: type[RecordingClient], course: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cl_service.refuse = ServiceError(503, "service_unreachable", "The service is down.")
    with pytest.raises(NbGraderException):
        generate(course)
    assert "quiz 'week-3-regression' was not published" in caplog.text
    assert "The service is down." in caplog.text
    assert not (course / "release" / "hw1").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("quiz.yaml", RICH_SPEC),
        ("extra/quiz.json", json.dumps(SMALL_SPEC)),
        (".draft.ipynb", nbformat.writes(notebook(spec_cell(json.dumps(SMALL_SPEC))))),
    ],
)
def test_a_spec_nbgrader_would_copy_unchanged_is_removed_and_refused(
    cl_service: type[RecordingClient],
    course: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
    content: str,
) -> None:
    extra = course / "source" / "hw1" / name
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(content)
    (course / "source" / "hw1" / "data.json").write_text('{"temperatures": [1, 2]}')
    with pytest.raises(NbGraderException):
        generate(course)
    assert f"unchanged, and {name} hold(s) a quiz with its answer key" in caplog.text
    assert not (course / "release" / "hw1" / name).exists()
    assert cl_service.calls == []


def test_other_data_files_are_released_as_nbgrader_copies_them(
    cl_service: type[RecordingClient], course: Path
) -> None:
    (course / "source" / "hw1" / "data.json").write_text('{"questions": "not a list"}')
    (course / "source" / "hw1" / "notes.yaml").write_text("a: 1\n")
    generate(course)
    assert (course / "release" / "hw1" / "data.json").exists()
    assert (course / "release" / "hw1" / "notes.yaml").exists()


# --- the demo course ------------------------------------------------------------------------


def test_the_demo_assignment_has_a_quiz_that_releases_without_its_key() -> None:
    source = Path(__file__).resolve().parents[2] / "notebooks" / "source" / "hw1" / "hw1.ipynb"
    nb = nbformat.read(source, as_version=4)
    [found] = find_quizzes(nb)
    assert found.quiz.id == "hw1-check"
    assert found.cell_id == "quiz" and nb.cells[found.index].cell_type == "markdown"
    assert len({q.type for q in found.quiz.questions}) == len(found.quiz.questions) == 3
    assert found.quiz.settings.live.countdown == 20
    text = nbformat.writes(release(nb, COURSE))
    # the key's own values and sentences, read from the source (written nowhere else)
    answers = [str(q.answer) for q in found.quiz.questions if q.answer is not None]
    sentences = [
        t
        for q in found.quiz.questions
        for t in (q.explanation, q.feedback, *(c.feedback for c in q.choices))
        if t
    ]
    assert answers and sentences
    for needle in ("correct", "feedback", "explanation", "tolerance", *answers, *sentences):
        assert needle not in text
