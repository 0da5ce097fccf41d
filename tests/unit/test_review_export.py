"""``cohortlab review close|release|export`` against a fake service and a real nbgrader
gradebook: the plan (scores, a comment that says where it came from, reviewers as "Review n"),
all-or-nothing writes, refusals in one line, and nothing changed by a refused export. The
whole path with real nbgrader commands and the real service is in
``tests/integration/test_review_export_nbgrader.py``."""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cohortlab.cli import CohortLabCLI, main
from cohortlab.review_cli import ReviewApp
from cohortlab.review_export_cli import CloseReviewApp, ExportReviewApp, ReleaseReviewApp
from cohortlab.review_results_cli import ExcludeReviewApp, OverrideReviewApp, ResultsReviewApp
from cohortlab.reviews.export import MARKER, ExportError, plan_export, write_gradebook
from nbgrader.api import Gradebook
from tornado import web

from tests.helpers.threaded_server import serve_in_thread

COURSE = "demo101"
TOKEN = "instructor-token"
ESSAY = "hw1:essay"
# nbgrader's own Gradebook.add_submission warns through SQLAlchemy (not ours to fix)
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(autouse=True)
def cl_alembic_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader upgrades a gradebook by running ``alembic`` from PATH."""
    monkeypatch.setenv("PATH", f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}")


def peer(review: str, reviewer: str, score: float, comment: str = "", excluded: bool = False):
    return {
        "review": review,
        "reviewer": reviewer,
        "score": score,
        "comment": comment,
        "excluded": excluded,
    }


def results(state: str = "closed") -> dict[str, Any]:
    """Staff results as the service sends them: ada's essay scored by three peers (one
    excluded), ben's overridden by the instructor, and an instructor criterion."""
    reviews = [
        {"id": "r1", "reviewer": "ben", "comment": "Nice work", "excluded": None},
        {"id": "r2", "reviewer": "cy", "comment": "", "excluded": {"reason": "rude"}},
        {"id": "r3", "reviewer": "dee", "comment": "Clear", "excluded": None},
    ]
    return {
        "round": {"assignment": "hw1", "state": state},
        "method": "median",
        "rubric": [
            {
                "key": ESSAY,
                "kind": "nbgrader",
                "notebook": "hw1",
                "grade_id": "essay",
                "title": "Part 3",
                "max_points": 2.0,
            },
            {
                "key": "clarity",
                "kind": "instructor",
                "notebook": None,
                "grade_id": None,
                "title": "Clarity",
                "max_points": 3.0,
            },
        ],
        "submissions": [
            {
                "number": 1,
                "author": "ada",
                "reviews": reviews,
                "criteria": {
                    ESSAY: {
                        "peer": [
                            peer("r1", "ben", 1.5, "Say why"),
                            peer("r2", "cy", 0, "bad", excluded=True),
                            peer("r3", "dee", 1.0),
                        ],
                        "aggregate": 1.25,
                        "override": None,
                        "final": 1.25,
                    },
                    "clarity": {
                        "peer": [peer("r1", "ben", 3), peer("r3", "dee", 2)],
                        "aggregate": 2.5,
                        "override": None,
                        "final": 2.5,
                    },
                },
            },
            {
                "number": 2,
                "author": "ben",
                "reviews": [],
                "criteria": {
                    ESSAY: {
                        "peer": [],
                        "aggregate": None,
                        "override": {"score": 2.0, "reason": "Checked myself"},
                        "final": 2.0,
                    },
                    "clarity": {"peer": [], "aggregate": None, "override": None, "final": None},
                },
            },
        ],
    }


def test_the_plan_says_where_scores_came_from_and_names_no_reviewer() -> None:
    writes, notes = plan_export(results())
    ada, ben = writes
    assert (ada.student, ada.notebook, ada.grade_id, ada.score) == ("ada", "hw1", "essay", 1.25)
    assert ada.comment.startswith(f"{MARKER}: 1.25 / 2, median of 2 peer review(s).")
    assert "Review 1: Say why" in ada.comment and "Review 2" not in ada.comment.split("\n")[1]
    assert "Clarity: 2.5 / 3, median of 2 peer review(s)." in ada.comment
    assert "Review 1, overall: Nice work" in ada.comment
    assert "Review 2, overall: Clear" in ada.comment  # the excluded review does not count
    assert "bad" not in ada.comment and "rude" not in ada.comment
    for name in ("ben", "cy", "dee"):
        assert name not in ada.comment
    assert ben.score == 2.0 and "set by the instructor" in ben.comment
    assert "Instructor: Checked myself" in ben.comment
    assert notes == []


def test_an_open_round_or_a_rubric_without_cells_is_refused() -> None:
    with pytest.raises(ExportError, match="still open; close it first"):
        plan_export(results("open"))
    only_extra = results()
    only_extra["rubric"] = only_extra["rubric"][1:]
    with pytest.raises(ExportError, match="no nbgrader cells"):
        plan_export(only_extra)


def make_gradebook(folder: Path, students: list[str]) -> str:
    url = f"sqlite:///{folder / 'gradebook.db'}"
    with Gradebook(url, COURSE) as gb:
        gb.add_assignment("hw1")
        gb.add_notebook("hw1", "hw1")
        gb.add_grade_cell("essay", "hw1", "hw1", max_score=2, cell_type="markdown")
        gb.add_solution_cell("essay", "hw1", "hw1")
        gb.add_grade_cell("test_mean", "hw1", "hw1", max_score=1, cell_type="code")
        for student in students:
            gb.add_student(student)
            gb.add_submission("hw1", student)
    return url


def grades(url: str, students: list[str]) -> dict[str, tuple[Any, Any]]:
    with Gradebook(url, COURSE) as gb:
        return {
            s: (
                gb.find_grade("essay", "hw1", "hw1", s).manual_score,
                gb.find_comment("essay", "hw1", "hw1", s).manual_comment,
            )
            for s in students
        }


def test_writes_are_all_or_nothing(tmp_path: Path) -> None:
    url = make_gradebook(tmp_path, ["ada"])  # ben's submission is not in the gradebook
    writes, _notes = plan_export(results())
    with Gradebook(url, COURSE) as gb, pytest.raises(ExportError) as info:
        write_gradebook(gb, "hw1", writes, progress=lambda _line: None)
    assert "ben has no submission of hw1 in the gradebook" in str(info.value)
    assert "nothing was written" in str(info.value)
    assert grades(url, ["ada"]) == {"ada": (None, None)}


def test_hand_set_scores_stay_unless_overwrite(tmp_path: Path) -> None:
    url = make_gradebook(tmp_path, ["ada", "ben"])
    with Gradebook(url, COURSE) as gb:
        gb.find_grade("essay", "hw1", "hw1", "ben").manual_score = 1.0
        gb.db.commit()
    writes, _notes = plan_export(results())
    with Gradebook(url, COURSE) as gb, pytest.raises(ExportError, match="--overwrite"):
        write_gradebook(gb, "hw1", writes, progress=lambda _line: None)
    assert grades(url, ["ada", "ben"])["ada"] == (None, None)
    lines: list[str] = []
    with Gradebook(url, COURSE) as gb:
        assert write_gradebook(gb, "hw1", writes, overwrite=True, progress=lines.append) == 2
    assert lines == ["[1/2] ada: 1 cell(s)", "[2/2] ben: 1 cell(s)"]
    after = grades(url, ["ada", "ben"])
    assert after["ada"][0] == 1.25 and after["ben"][0] == 2.0
    assert after["ada"][1].startswith(MARKER)
    with Gradebook(url, COURSE) as gb:  # a second export replaces its own scores freely
        assert write_gradebook(gb, "hw1", writes, progress=lines.append) == 2
        assert gb.find_grade("essay", "hw1", "hw1", "ada").needs_manual_grade is False


# --- the commands -----------------------------------------------------------------------------


@dataclass
class FakeService:
    port: int = 0
    results: dict[str, Any] = field(default_factory=results)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/cohortlab/"


class FakeHandler(web.RequestHandler):
    def prepare(self) -> None:
        state = self.settings["state"]
        body = json.loads(self.request.body) if self.request.body else None
        state.requests.append((self.request.method, self.request.path, body))
        if self.request.headers.get("Authorization") != f"token {TOKEN}":
            self.set_status(403)
            self.finish({"error": {"code": "instructor_only", "message": "Only instructors."}})


class ResultsHandler(FakeHandler):
    def get(self, course: str, assignment: str) -> None:
        self.finish(self.settings["state"].results)


class RoundHandler(FakeHandler):
    def patch(self, course: str, assignment: str) -> None:
        state = self.settings["state"]
        body = json.loads(self.request.body)
        rnd = {"assignment": assignment, "state": "open", "released": False,
               "names_visible": False}  # fmt: skip
        rnd.update(body)
        state.results["round"]["state"] = rnd["state"]
        self.finish({"round": rnd})


@pytest.fixture
def cl_fake_service() -> Iterator[FakeService]:
    state = FakeService()

    def app() -> web.Application:
        base = r"/services/cohortlab/api/v1/courses/(?P<course>[^/]+)/reviews/(?P<assignment>[^/]+)"
        return web.Application(
            [(base, RoundHandler), (rf"{base}/results", ResultsHandler)], state=state
        )

    with serve_in_thread(app) as port:
        state.port = port
        yield state


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


REVIEW_APPS = (
    CohortLabCLI, ReviewApp, CloseReviewApp, ReleaseReviewApp, ExportReviewApp,
    ResultsReviewApp, OverrideReviewApp, ExcludeReviewApp,
)  # fmt: skip


@pytest.fixture
def cl_review(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Any:
    """Run ``cohortlab review <args>`` in a course folder, as the entry point runs it."""

    def run(service: FakeService, *args: str, token: str = TOKEN) -> Run:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("COHORTLAB_TOKEN", token)
        monkeypatch.setenv("COHORTLAB_SERVICE_URL", service.url)
        monkeypatch.setenv("COHORTLAB_COURSE", COURSE)
        monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
        capsys.readouterr()
        code = 0
        try:
            main(["review", *args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            for app in REVIEW_APPS:
                app.clear_instance()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def one_line_error(result: Run) -> str:
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_export_refuses_an_open_round_then_writes_once_closed(
    cl_review: Any, cl_fake_service: FakeService, tmp_path: Path
) -> None:
    url = make_gradebook(tmp_path, ["ada", "ben"])
    cl_fake_service.results["round"]["state"] = "open"
    line = one_line_error(cl_review(cl_fake_service, "export", "hw1"))
    assert "still open; close it first" in line and "cohortlab review close hw1)" in line
    closed = cl_review(cl_fake_service, "close", "hw1")
    assert closed.returncode == 0 and "peer review of hw1 is closed" in closed.stdout
    assert cl_fake_service.requests[-1][0] == "PATCH"
    assert cl_fake_service.requests[-1][2] == {"state": "closed"}
    dry = cl_review(cl_fake_service, "export", "hw1", "--dry-run")
    assert dry.returncode == 0 and "would write 2" in dry.stdout, dry.stderr
    assert grades(url, ["ada"])["ada"] == (None, None)
    done = cl_review(cl_fake_service, "export", "hw1")
    assert done.returncode == 0, done.stderr
    assert "[1/2] ada" in done.stdout and "[2/2] ben" in done.stdout
    assert "wrote 2 peer review score(s)" in done.stdout
    assert grades(url, ["ada", "ben"])["ben"][0] == 2.0


def test_export_refusals_are_one_line_and_write_nothing(
    cl_review: Any, cl_fake_service: FakeService, tmp_path: Path
) -> None:
    line = one_line_error(cl_review(cl_fake_service, "export", "hw1"))
    assert "no nbgrader gradebook" in line  # not in a course folder
    url = make_gradebook(tmp_path, ["ada"])
    line = one_line_error(cl_review(cl_fake_service, "export", "hw1"))
    assert "nothing was written: ben has no submission of hw1" in line
    assert grades(url, ["ada"])["ada"] == (None, None)
    line = one_line_error(cl_review(cl_fake_service, "export", "hw1", token="learner"))
    assert line == "cohortlab: Only instructors."
    assert "give exactly one assignment" in one_line_error(cl_review(cl_fake_service, "export"))


def test_release_shows_feedback_and_optionally_names(
    cl_review: Any, cl_fake_service: FakeService
) -> None:
    done = cl_review(cl_fake_service, "release", "hw1", "--names")
    assert done.returncode == 0 and "released to authors with reviewers' names" in done.stdout
    assert cl_fake_service.requests[-1][2] == {"released": True, "names_visible": True}
    hidden = cl_review(cl_fake_service, "release", "hw1", "--withdraw")
    assert "hidden from authors" in hidden.stdout
    assert copy.deepcopy(cl_fake_service.requests[-1][2]) == {"released": False}
