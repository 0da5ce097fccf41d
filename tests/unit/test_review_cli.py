"""The nbgrader side of ``cohortlab review open`` without a hub: changed cells against the
released template, hidden tests kept out of autograded copies, names from the gradebook,
and the seed file. The whole command runs against real nbgrader and a real hub in
``tests/integration/test_review_open_nbgrader.py``."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from cohortlab.client import ServiceError
from cohortlab.review_cli import (
    OpenReviewApp,
    ReviewCommandError,
    author_names,
    cell_statuses,
    hide_tests,
    read_seed,
)
from cohortlab.reviews.opening import commit_line
from cohortlab.reviews.sending import send_all
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def nbgrader(grade_id: str, **flags: object) -> dict[str, object]:
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, **flags}}


def released() -> object:
    return new_notebook(
        cells=[
            new_markdown_cell("# Part 1", id="intro"),
            new_code_cell("def mean(xs):\n    raise NotImplementedError()", id="mean",
                          metadata=nbgrader("mean", solution=True, grade=False)),
            new_code_cell("assert mean([1, 3]) == 2", id="test-mean",
                          metadata=nbgrader("test_mean", grade=True, solution=False, points=2)),
            new_markdown_cell("YOUR ANSWER HERE", id="essay",
                              metadata=nbgrader("essay", grade=True, solution=True, points=2)),
        ]
    )  # fmt: skip


def test_changed_and_added_cells_are_marked_against_the_released_template() -> None:
    nb = released()
    nb.cells[1].source = "def mean(xs):\n    return sum(xs) / len(xs)"
    nb.cells[1].id = "renamed-by-jupyter"  # still found by its grade id
    nb.cells[3].source = "The median resists outliers."
    nb.cells.insert(2, new_code_cell("print(mean([1, 2]))", id="mine"))
    statuses = [s["status"] for s in cell_statuses(nb, released())]
    assert statuses == ["unchanged", "changed", "added", "unchanged", "changed"]
    assert cell_statuses(nb, None) == [{"status": "unknown"}] * 5


def test_autograded_copies_lose_hidden_tests_and_their_tracebacks() -> None:
    autograded = released()
    test = autograded.cells[2]
    test.source += "\n### BEGIN HIDDEN TESTS\nassert mean([-4]) == -4\n### END HIDDEN TESTS"
    test.outputs = [
        new_output("error", ename="AssertionError", evalue="", traceback=["assert mean([-4])"])
    ]
    test.execution_count = 3
    autograded.cells[3].source = "My answer"
    out = hide_tests(autograded, released())
    assert out.cells[2].source == "assert mean([1, 3]) == 2"
    assert out.cells[2].outputs == [] and out.cells[2].execution_count is None
    assert out.cells[3].source == "My answer"  # answers, even graded ones, stay


def test_names_come_from_the_gradebook_whole() -> None:
    class Gradebook:
        def find_student(self, student: str) -> object:
            return SimpleNamespace(
                first_name="Ada", last_name="Lovelace", email="ada@uni.example", lms_user_id=None
            )

    names = author_names(Gradebook(), "ada")
    assert names == ("ada@uni.example", "Ada Lovelace", "Lovelace, Ada")


def test_a_seed_file_is_made_private_once_and_then_read(tmp_path: Path) -> None:
    path = tmp_path / "seed"
    seed = read_seed(path)
    assert path.stat().st_mode & 0o777 == 0o600 and len(seed) == 32
    assert read_seed(path) == seed
    path.write_text("short\n")
    with pytest.raises(ReviewCommandError, match="16 characters"):
        read_seed(path)


def test_the_team_rule_and_parallel_sends_are_options_of_review_open() -> None:
    app = OpenReviewApp()
    app.initialize(["hw1", "--separate-teams", "--across-cohorts", "--parallel", "2"])
    assert app.parallel == 2
    assert app.settings_body() == {"across_cohorts": True, "separate_teams": True}
    plain = OpenReviewApp()
    plain.initialize(["hw1"])
    assert plain.settings_body() == {} and plain.parallel == 4


def test_submissions_are_sent_side_by_side_and_the_first_error_stops_the_rest() -> None:
    sent: list[str] = []
    lock = threading.Lock()

    def make(student: str) -> tuple[list[dict[str, object]], float, float]:
        return [{"name": f"{student}.ipynb"}], 0.01, 0.02

    # Four at a time, not one by one: each send waits until four are under way (one by
    # one, the first would wait alone and break the barrier).
    four_at_once = threading.Barrier(4, timeout=30)

    def put(student: str, body: dict[str, object]) -> None:
        four_at_once.wait()
        with lock:
            sent.append(student)

    done: list[tuple[int, str, int]] = []
    students = [f"s{i}" for i in range(8)]
    timing = send_all(students, make, put, workers=4, progress=lambda *a: done.append(a))
    assert sorted(sent) == students and [d[0] for d in done] == list(range(1, 9))
    assert timing.read == pytest.approx(0.08) and timing.anonymise == pytest.approx(0.16)
    assert "commit 1.50 s" in timing.line(1.5)

    # The error comes while another send is under way: that one ends once s0 has failed.
    s0_failed = threading.Event()

    def failing(student: str, body: dict[str, object]) -> None:
        if student == "s0":
            s0_failed.set()
            raise ServiceError(400, "not_anonymous", "still shows s0")
        assert s0_failed.wait(30)

    with pytest.raises(ServiceError, match="still shows s0"):
        send_all([f"s{i}" for i in range(40)], make, failing, workers=2)


def test_the_summary_names_the_rounds_rules() -> None:
    rnd = {"k": 2, "due_at": None, "across_cohorts": False, "separate_teams": True}
    summary = {
        "round": rnd,
        "created": True,
        "submissions": 6,
        "added_submissions": 6,
        "added_assignments": 12,
    }
    out = commit_line("hw1", summary)
    assert out.startswith("opened peer review of hw1: 6 submission(s), 6 new, 12 review(s)")
    assert "2 per submission, never from the author's team" in out and "cohort" not in out
