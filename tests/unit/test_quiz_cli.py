"""``cohortlab quiz ...`` run as an instructor runs it, against a small fake service.

The fake is a Tornado app on 127.0.0.1 in a thread of its own, speaking the contract of
``docs/quizzes.md`` (PUT a quiz, GET its scores) with the real spec checker; the commands
run as subprocesses, so their exit codes and output are exactly what a person sees. The
real service is exercised by ``tests/integration/test_quiz_publish_nbgrader.py``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from cohortlab.cli import CohortLabCLI, main
from cohortlab.quiz_cli import (
    GRADE_CELL_PREFIX,
    ExportGradebookApp,
    PublishQuizApp,
    QuizApp,
    QuizScoresApp,
)
from cohortlab.quizzes.notebook import SPEC_TAG
from cohortlab.quizzes.spec import SpecError, parse_quiz
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from tornado import web

from tests.helpers.threaded_server import serve_in_thread

BIN = Path(sys.prefix) / "bin"
COURSE = "demo101"
INSTRUCTOR_TOKEN = "instructor-token"
LEARNER_TOKEN = "learner-token"

QUIZ = {
    "id": "check-1",
    "title": "A quick check",
    "questions": [
        {
            "id": "pick",
            "type": "single",
            "prompt": "Pick b",
            "choices": [
                {"id": "a", "text": "A", "correct": False, "feedback": "walrus-feedback-12"},
                {"id": "b", "text": "B", "correct": True},
            ],
        },
        {"id": "num", "type": "numeric", "prompt": "2 + 2?", "answer": 4, "points": 2},
    ],
}
OTHER = {**QUIZ, "id": "check-2", "title": "Another check"}


@dataclass
class FakeService:
    """What the fake was asked, what it holds, and what it answers with scores."""

    port: int = 0
    quizzes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/cohortlab/"


class FakeHandler(web.RequestHandler):
    @property
    def state(self) -> FakeService:
        return self.settings["state"]

    def fail(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.finish({"error": {"code": code, "message": message}})

    def prepare(self) -> None:
        token = self.request.headers.get("Authorization", "").removeprefix("token ")
        if token not in (INSTRUCTOR_TOKEN, LEARNER_TOKEN):
            self.fail(401, "unauthenticated", "Invalid or expired hub token.")
            return
        self.instructor = token == INSTRUCTOR_TOKEN
        body = json.loads(self.request.body) if self.request.body else None
        self.state.requests.append((self.request.method or "", self.request.uri or "", body))


class QuizHandler(FakeHandler):
    def put(self, course: str, quiz: str) -> None:
        if not self.instructor:
            self.fail(403, "forbidden", f"Only instructors of {course} may publish quizzes.")
            return
        body = json.loads(self.request.body)
        try:
            parsed = parse_quiz(body["spec"])
        except SpecError as e:
            self.fail(400, "invalid_spec", f"The quiz spec is not valid: {e}")
            return
        if parsed.id != quiz:
            self.fail(
                409, "id_mismatch", f"The spec's id is {parsed.id!r} but it was sent to {quiz!r}."
            )
            return
        created = (course, quiz) not in self.state.quizzes
        self.state.quizzes[(course, quiz)] = body
        self.set_status(201 if created else 200)
        self.finish(
            {"quiz": {"id": quiz, "course": course, "notebook_key": body.get("notebook_key")}}
        )


class ScoresHandler(FakeHandler):
    def get(self, course: str, quiz: str) -> None:
        if (course, quiz) not in self.state.quizzes:
            self.fail(404, "unknown_quiz", f"Course {course} has no quiz {quiz!r}.")
            return
        if self.get_argument("format", "json") == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["user", "score", "max_score", "answered"])
            for row in self.state.scores:
                writer.writerow([row["user"], row["score"], row["max_score"], row["answered"]])
            self.set_header("Content-Type", "text/csv; charset=UTF-8")
            self.finish(out.getvalue())
            return
        self.finish({"quiz": quiz, "scores": self.state.scores})


@contextmanager
def serving() -> Iterator[FakeService]:
    """The fake service on 127.0.0.1, in a thread with its own event loop (the commands under
    test call it synchronously)."""
    state = FakeService()

    def app() -> web.Application:
        prefix = r"/services/cohortlab/api/v1/courses/(?P<course>[^/]+)/quizzes/(?P<quiz>[^/]+)"
        return web.Application(
            [(prefix, QuizHandler), (rf"{prefix}/scores", ScoresHandler)], state=state
        )

    with serve_in_thread(app) as port:
        state.port = port
        yield state


@pytest.fixture
def cl_fake_service() -> Iterator[FakeService]:
    with serving() as state:
        yield state


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def environment(service: FakeService | None, home: Path, token: str) -> dict[str, str]:
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",  # nbgrader runs `alembic` for a new gradebook
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "COHORTLAB_TOKEN": token,
        "COHORTLAB_SERVICE_URL": service.url if service else "http://127.0.0.1:9/nothing/",
    }


@pytest.fixture
def cl_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``cohortlab quiz <args>`` in this process (seconds faster than a subprocess per
    call), as ``cohortlab``'s entry point runs it; an uncaught exception fails the test."""

    def run(
        service: FakeService | None, *args: str, cwd: Path, token: str = INSTRUCTOR_TOKEN
    ) -> Run:
        monkeypatch.chdir(cwd)
        for name, value in environment(service, cwd, token).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
        capsys.readouterr()
        code = 0
        try:
            main(["quiz", *args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            for app in (CohortLabCLI, QuizApp, PublishQuizApp, QuizScoresApp, ExportGradebookApp):
                app.clear_instance()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def one_line_error(result: Run) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def lesson(*specs: dict[str, Any]) -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Lesson 3")]
    for number, spec in enumerate(specs):
        source = f"```json\n{json.dumps(spec, indent=1)}\n```"
        make = new_markdown_cell if number % 2 == 0 else new_raw_cell
        cells.append(make(source, metadata={"tags": [SPEC_TAG]}))
    cells.append(new_code_cell("print('the rest of the lesson')"))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture
def lesson_file(tmp_path: Path) -> Path:
    path = tmp_path / "lesson3.ipynb"
    nbformat.write(lesson(QUIZ, OTHER), path)
    return path


# --- publish ----------------------------------------------------------------------------


def test_publish_stores_every_quiz_and_writes_a_released_copy_without_keys(
    cl_cli: Any, cl_fake_service: FakeService, lesson_file: Path
) -> None:
    before = lesson_file.read_text()
    result = cl_cli(
        cl_fake_service, "publish", lesson_file.name, "--course", COURSE, cwd=lesson_file.parent
    )
    assert result.returncode == 0, result.stderr
    assert set(cl_fake_service.quizzes) == {(COURSE, "check-1"), (COURSE, "check-2")}
    assert json.loads(cl_fake_service.quizzes[(COURSE, "check-1")]["spec"]) == QUIZ
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "[1/2] published quiz 'check-1' ('A quick check', 2 question(s), 3 point(s)) from cell 2"
    )
    assert lines[1].startswith("[2/2] published quiz 'check-2'")
    released_path = lesson_file.with_name("lesson3.released.ipynb")
    assert lines[-1] == f"wrote the released copy to {released_path.name} (it holds no answer key)"
    released = nbformat.read(released_path, as_version=4)
    nbformat.validate(released)
    assert [c.metadata.get("cohortlab", {}).get("quiz") for c in released.cells] == [
        None,
        "check-1",
        "check-2",
        None,
    ]
    text = released_path.read_text()
    for needle in ("walrus-feedback-12", '"correct"', "Pick b", SPEC_TAG):
        assert needle not in text
    assert lesson_file.read_text() == before  # the source keeps its specs


def test_publish_again_updates_and_writes_where_asked(
    cl_cli: Any, cl_fake_service: FakeService, lesson_file: Path
) -> None:
    args = ("publish", str(lesson_file), "--course", COURSE, "--output", "out/copy.ipynb")
    (lesson_file.parent / "out").mkdir()
    for _ in range(2):
        result = cl_cli(cl_fake_service, *args, cwd=lesson_file.parent)
        assert result.returncode == 0, result.stderr
    assert [r[0] for r in cl_fake_service.requests] == ["PUT"] * 4
    assert (lesson_file.parent / "out" / "copy.ipynb").exists()


def test_a_dry_run_checks_and_tells_but_publishes_and_writes_nothing(
    cl_cli: Any, cl_fake_service: FakeService, lesson_file: Path
) -> None:
    result = cl_cli(
        None, "publish", str(lesson_file), "--course", COURSE, "--dry-run", cwd=lesson_file.parent
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("[1/2] would publish quiz 'check-1'")
    assert "nothing published or written" in result.stdout
    assert not lesson_file.with_name("lesson3.released.ipynb").exists()


def test_a_dry_run_reports_a_bad_spec_with_its_cell(cl_cli: Any, tmp_path: Path) -> None:
    bad = {**QUIZ, "questions": [{**QUIZ["questions"][0], "choices": []}]}
    path = tmp_path / "bad.ipynb"
    nb = lesson(bad)
    nb.cells[1]["id"] = "quiz-cell"
    nbformat.write(nb, path)
    result = cl_cli(None, "publish", str(path), "--course", COURSE, "--dry-run", cwd=tmp_path)
    assert one_line_error(result) == (
        "cohortlab: cell 2 (id quiz-cell): questions[0].choices: needs at least 2 entries"
    )


def test_a_refusal_is_one_line_with_the_services_message_and_nothing_is_written(
    cl_cli: Any, cl_fake_service: FakeService, lesson_file: Path
) -> None:
    result = cl_cli(
        cl_fake_service,
        "publish",
        str(lesson_file),
        "--course",
        COURSE,
        cwd=lesson_file.parent,
        token=LEARNER_TOKEN,
    )
    assert one_line_error(result) == f"cohortlab: Only instructors of {COURSE} may publish quizzes."
    assert not lesson_file.with_name("lesson3.released.ipynb").exists()


def test_an_unreachable_service_is_one_line_and_nothing_is_written(
    cl_cli: Any, lesson_file: Path
) -> None:
    result = cl_cli(None, "publish", str(lesson_file), "--course", COURSE, cwd=lesson_file.parent)
    assert "could not be reached" in one_line_error(result)
    assert not lesson_file.with_name("lesson3.released.ipynb").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("publish", "missing.ipynb", "--course", COURSE),
            "cohortlab: missing.ipynb: no such notebook.",
        ),
        (("publish", "lesson3.ipynb"), "cohortlab: which course? Give --course <course id>."),
        (
            ("publish", "--course", COURSE),
            "cohortlab: give exactly one notebook (got 0); see --help.",
        ),
        (
            ("publish", "lesson3.ipynb", "--course", COURSE, "--output", "lesson3.ipynb"),
            "cohortlab: --output lesson3.ipynb is the source notebook; the source keeps the "
            "specs, so write the released copy elsewhere.",
        ),
        (
            ("publish", "plain.ipynb", "--course", COURSE),
            f"cohortlab: plain.ipynb: no cell is tagged {SPEC_TAG}; nothing to publish.",
        ),
        (("publish", "junk.ipynb", "--course", COURSE), None),
        (("scores", "check-1"), "cohortlab: which course? Give --course <course id>."),
    ],
)
def test_mistakes_end_in_one_clear_line(
    cl_cli: Any, lesson_file: Path, args: tuple[str, ...], message: str | None
) -> None:
    nbformat.write(lesson(), lesson_file.parent / "plain.ipynb")
    (lesson_file.parent / "junk.ipynb").write_text("not a notebook")
    line = one_line_error(cl_cli(None, *args, cwd=lesson_file.parent))
    if message is None:
        assert line.startswith("cohortlab: junk.ipynb: cannot be read as a notebook")
    else:
        assert line == message


def test_the_installed_command_exits_non_zero_with_one_line_and_no_traceback(
    lesson_file: Path,
) -> None:
    result = subprocess.run(
        [str(BIN / "cohortlab"), "quiz", "publish", lesson_file.name, "--course", COURSE],
        cwd=lesson_file.parent,
        env=environment(None, lesson_file.parent, INSTRUCTOR_TOKEN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("cohortlab: The CohortLab service at http://127.0.0.1:9/")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


# --- scores -----------------------------------------------------------------------------


def test_scores_print_csv_or_write_it_to_a_file(
    cl_cli: Any, cl_fake_service: FakeService, tmp_path: Path
) -> None:
    cl_fake_service.quizzes[(COURSE, "check-1")] = {"spec": QUIZ}
    cl_fake_service.scores = [
        {"user": "ada", "score": 3, "max_score": 3, "answered": 2, "questions": {}},
        {"user": "ben", "score": 0, "max_score": 3, "answered": 0, "questions": {}},
    ]
    printed = cl_cli(cl_fake_service, "scores", "check-1", "--course", COURSE, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert list(csv.reader(io.StringIO(printed.stdout))) == [
        ["user", "score", "max_score", "answered"],
        ["ada", "3", "3", "2"],
        ["ben", "0", "3", "0"],
    ]
    assert cl_fake_service.requests[-1][1].endswith("/quizzes/check-1/scores?format=csv")
    written = cl_cli(
        cl_fake_service, "scores", "check-1", "--course", COURSE, "--csv", "s.csv", cwd=tmp_path
    )
    assert written.stdout == "wrote the scores of 2 learner(s) to s.csv\n"
    assert (tmp_path / "s.csv").read_bytes().decode() == printed.stdout  # CSV keeps its CRLF


def test_scores_of_an_unknown_quiz_say_so(
    cl_cli: Any, cl_fake_service: FakeService, tmp_path: Path
) -> None:
    result = cl_cli(cl_fake_service, "scores", "nope", "--course", COURSE, cwd=tmp_path)
    assert one_line_error(result) == "cohortlab: Course demo101 has no quiz 'nope'."


# --- export-gradebook ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An nbgrader course whose hw1 holds quiz check-1, generated by the real
    ``nbgrader generate_assignment`` with PublishQuizzes (against a fake service). Made once:
    it takes seconds."""
    course = tmp_path_factory.mktemp("generated") / "course"
    source = course / "source" / "hw1"
    source.mkdir(parents=True)
    nb = lesson(QUIZ)
    nbgrader = {"grade": True, "solution": False, "locked": True, "grade_id": "test"}
    nb.cells.append(new_code_cell("assert True", metadata={"nbgrader": {**nbgrader, "points": 1}}))
    nb.cells[-1].metadata.nbgrader["schema_version"] = 3
    nbformat.write(nb, source / "hw1.ipynb")
    (course / "nbgrader_config.py").write_text(
        "from cohortlab.nbgrader.preprocessors import StampCellKeys\n"
        "from cohortlab.nbgrader.quizzes import PublishQuizzes\n"
        "from nbgrader.converters import GenerateAssignment\n"
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n"
        "own = GenerateAssignment.class_traits()['preprocessors'].default()\n"
        "c.GenerateAssignment.preprocessors = [own[0], PublishQuizzes, *own[1:], StampCellKeys]\n"
    )
    with serving() as service:
        generated = subprocess.run(
            [str(BIN / "nbgrader"), "generate_assignment", "hw1"],
            cwd=course,
            env=environment(service, course.parent, INSTRUCTOR_TOKEN),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
        assert (COURSE, "check-1") in service.quizzes
    released = nbformat.read(course / "release" / "hw1" / "hw1.ipynb", as_version=4)
    assert released.cells[1].metadata.cohortlab.quiz == "check-1"
    return course


@pytest.fixture
def nbgrader_course(cl_fake_service: FakeService, generated_course: Path, tmp_path: Path) -> Path:
    """A copy of the generated course with submissions of ada and zed (not ben), and the fake
    service holding its quiz."""
    course = tmp_path / "course"
    shutil.copytree(generated_course, course)
    cl_fake_service.quizzes[(COURSE, "check-1")] = {"spec": json.dumps(QUIZ)}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb, warnings.catch_warnings():
        # nbgrader's own add_submission trips an SQLAlchemy autoflush warning.
        warnings.simplefilter("ignore", SAWarning)
        for student in ("ada", "zed"):
            gb.add_student(student)
            gb.add_submission("hw1", student)
    return course


def grades(course: Path) -> dict[str, tuple[float | None, bool]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
        out = {}
        for student in ("ada", "zed"):
            grade = gb.find_grade(f"{GRADE_CELL_PREFIX}check-1", "hw1", "hw1", student)
            out[student] = (grade.manual_score, grade.needs_manual_grade)
        out["max"] = (
            gb.find_grade_cell(f"{GRADE_CELL_PREFIX}check-1", "hw1", "hw1").max_score,
            False,
        )
        out["total"] = (gb.find_submission("hw1", "ada").score, False)
        return out


def test_export_gradebook_writes_each_learners_score_as_a_manual_grade(
    cl_cli: Any, cl_fake_service: FakeService, nbgrader_course: Path
) -> None:
    cl_fake_service.scores = [
        {"user": "ada", "score": 2, "max_score": 3, "answered": 2},
        {"user": "ben", "score": 3, "max_score": 3, "answered": 2},
    ]
    result = cl_cli(
        cl_fake_service, "export-gradebook", "check-1", "--assignment", "hw1", cwd=nbgrader_course
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"reading the scores of quiz 'check-1' in course {COURSE}...",
        "[1/2] ada: 2/3",
        "[2/2] ben: no hw1 submission, skipped",
        f"wrote 1 score(s) to grade cell {GRADE_CELL_PREFIX}check-1 of hw1/hw1 (out of 3)",
        "skipped 1 learner(s) without a hw1 submission: ben (collect and autograde their "
        "work, then run this again)",
        f"left alone 1 submission(s) of people who are not learners of {COURSE} in the hub: zed",
    ]
    assert grades(nbgrader_course) == {
        "ada": (2.0, False),
        "zed": (None, True),
        "max": (3.0, False),
        "total": (2.0, False),
    }
    # Again, after ada answered more: updated in place, nothing added.
    cl_fake_service.scores[0]["score"] = 3
    again = cl_cli(
        cl_fake_service, "export-gradebook", "check-1", "--assignment", "hw1", cwd=nbgrader_course
    )
    assert again.returncode == 0, again.stderr
    assert grades(nbgrader_course)["ada"] == (3.0, False)


def test_a_sampled_quiz_is_scaled_to_the_grade_cells_maximum(
    cl_cli: Any, cl_fake_service: FakeService, nbgrader_course: Path
) -> None:
    cl_fake_service.scores = [
        {"user": "ada", "score": 1, "max_score": 2, "answered": 1},
        {"user": "zed", "score": 4, "max_score": 4, "answered": 2},
    ]
    result = cl_cli(
        cl_fake_service, "export-gradebook", "check-1", "--assignment", "hw1", cwd=nbgrader_course
    )
    assert result.returncode == 0, result.stderr
    assert grades(nbgrader_course)["ada"] == (2.0, False)
    assert grades(nbgrader_course)["zed"] == (4.0, False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--assignment", "hw9"),
            "cohortlab: nbgrader's gradebook has no assignment 'hw9'; run "
            "`nbgrader generate_assignment hw9` first.",
        ),
        (
            ("--assignment", "hw1", "--notebook", "nb2"),
            "cohortlab: assignment hw1 has no notebook 'nb2' in the gradebook (it has: hw1); "
            "pick one with --notebook.",
        ),
        ((), "cohortlab: which nbgrader assignment? Give --assignment <name>."),
    ],
)
def test_export_gradebook_mistakes_end_in_one_clear_line(
    cl_cli: Any,
    cl_fake_service: FakeService,
    nbgrader_course: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    cl_fake_service.scores = [{"user": "ada", "score": 1, "max_score": 3, "answered": 1}]
    result = cl_cli(cl_fake_service, "export-gradebook", "check-1", *args, cwd=nbgrader_course)
    assert one_line_error(result) == message


def test_export_gradebook_outside_a_course_folder_says_where_it_looked(
    cl_cli: Any, cl_fake_service: FakeService, tmp_path: Path
) -> None:
    result = cl_cli(
        cl_fake_service,
        "export-gradebook",
        "check-1",
        "--course",
        COURSE,
        "--assignment",
        "hw1",
        cwd=tmp_path,
    )
    assert one_line_error(result) == (
        f"cohortlab: no nbgrader gradebook at {tmp_path / 'gradebook.db'}: run this in your "
        "nbgrader course folder."
    )
    assert not (tmp_path / "gradebook.db").exists()
