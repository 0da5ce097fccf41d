"""``cohortlab review open`` on a real nbgrader course, then reviewing through the API.

Real commands, each as its person's system user where they would run it: the instructor
generates and releases ``hw1`` (with the hub token and service address their JupyterLab
terminal has, since hw1 publishes a quiz), ada, ben and dee fetch it, write their answers
(with their names and home paths in them, as learners do) and submit; the instructor
collects, records their full names in the gradebook, autogrades and runs
``cohortlab review open``. Then the learners review each other through the service, and a
late submission joins on a re-run.

The run uses its own exchange inside the hub's state folder and a private copy of the course
folder (``tests.helpers.nbgrader.private_course``), removed afterwards.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cohortlab.reviews.anonymize import find_identifying

from tests.helpers.hub import Hub
from tests.helpers.nbgrader import (
    ASSIGNMENT,
    COURSE,
    FULL_NAMES,
    VENV,
    NbgraderCourse,
    course_exchange,
    instructor_terminal,
    ok,
    private_course,
    run_as,
)

API = f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{ASSIGNMENT}"
# ben signs "(ben)": his user name is also a common word, which the instructor decides
# (tests/integration/test_review_names_nbgrader.py has the whole check)
BEN = "--replace=ben"


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """A refused run: exit 1 and exactly one ``cohortlab:`` line saying why."""
    assert result.returncode == 1, result.stdout
    errors = [line for line in result.stdout.splitlines() if line.startswith("cohortlab:")]
    assert len(errors) == 1 and "Traceback" not in result.stdout, result.stdout
    return errors[0]


@dataclass
class Course(NbgraderCourse):
    before_collect: subprocess.CompletedProcess

    def review_open(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(VENV / "bin" / "cohortlab"), "review", "open", ASSIGNMENT, *args]
        return run_as("instructor", self.folder, [*command, "--course", COURSE], **self.env)

    def api(self, method: str, user: str, path: str = "", **kw: Any) -> Any:
        resp = self.hub.api(method, f"{API}{path}", self.hub.token_for(user), **kw)
        assert resp.status_code < 300, f"{user} {method} {path}: {resp.status_code} {resp.text}"
        return resp.json()

    def status(self, method: str, user: str, path: str = "", **kw: Any) -> int:
        return self.hub.api(method, f"{API}{path}", self.hub.token_for(user), **kw).status_code


@pytest.fixture(scope="module")
def cl_review_course(cl_hub: Hub) -> Iterator[Course]:
    """hw1 generated, released, submitted by ada, ben and dee, collected and autograded."""
    exchange = course_exchange(cl_hub, "reviews")
    env = instructor_terminal(cl_hub)
    with private_course("reviews") as folder:
        course = Course(cl_hub, folder, exchange, env, subprocess.CompletedProcess([], 0))
        course.release()
        for learner in ("ada", "ben", "dee"):
            course.hand_in(learner)
        course.before_collect = course.review_open("--per-submission", "2")
        course.nbgrader("instructor", folder, "collect", ASSIGNMENT)
        for learner in ("ada", "ben", "dee"):
            course.add_student(learner)
        course.nbgrader("instructor", folder, "autograde", ASSIGNMENT)
        yield course


def test_refusals_say_why_in_one_line_and_open_nothing(cl_review_course: Course) -> None:
    course = cl_review_course
    line = one_error_line(course.before_collect)
    assert "no submissions of hw1" in line and "nbgrader collect hw1" in line
    line = one_error_line(course.review_open("--per-submission", "3", BEN))
    assert "at most 2 reviews per submission" in line
    broken = course.folder / "submitted" / "ben" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    good = broken.read_bytes()
    try:
        broken.write_text('{"cells": [', encoding="utf-8")
        line = one_error_line(course.review_open("--per-submission", "2"))
        assert str(broken) in line and "Nothing was uploaded" in line
    finally:
        broken.write_bytes(good)
    assert course.status("GET", "instructor") == 404  # no round, not even a partial one


def test_review_open_anonymises_uploads_and_allocates(cl_review_course: Course) -> None:
    course = cl_review_course
    seed = course.folder / "review-seed.txt"
    out = ok(
        course.review_open(
            "--per-submission",
            "2",
            "--due",
            "2031-06-01T17:00:00Z",
            "--lease-hours",
            "72",
            f"--seed-file={seed}",
            BEN,
        )
    )
    assert 'replacing "ben": 2 place(s) in 1 submission(s)' in out, out
    assert "[1/3]" in out and "[3/3]" in out, out
    assert "opened peer review of hw1: 3 submission(s), 3 new, 6 review(s) allocated" in out
    assert seed.stat().st_mode & 0o777 == 0o600 and len(seed.read_text().strip()) == 32
    view = course.api("GET", "instructor")
    assert view["round"]["k"] == 2 and view["round"]["due_at"] == "2031-06-01T17:00:00Z"
    assert view["round"]["lease_hours"] == 72
    assert {s["author"] for s in view["submissions"]} == {"ada", "ben", "dee"}
    [criterion] = view["rubric"]
    assert criterion["key"] == "hw1:interpretation" and criterion["max_points"] == 2
    assert criterion["title"] == "Part 3: what it means (2 points)"
    # the learners review each other through the API, without learning whose work it is
    for learner in ("ada", "ben", "dee"):
        mine = course.api("GET", learner)["assignments"]
        assert len(mine) == 2
        for a in mine:
            opened = course.api("GET", learner, f"/submissions/{a['submission']}")
            author = next(
                s["author"] for s in view["submissions"] if s["number"] == a["submission"]
            )
            first, last = FULL_NAMES[author]
            text = json.dumps(opened)
            strings = [author, first, last, f"{author}@uni.example"]
            found = find_identifying(opened, strings, whole_words=True)  # "ada" is in "metadata"
            assert found == [], found
            assert "/home/learner/notes.txt" in text
            [notebook] = opened["submission"]["notebooks"]
            assert notebook["name"] == "hw1.ipynb"
            statuses = {
                c.get("metadata", {}).get("nbgrader", {}).get("grade_id") or c.get("id"): s[
                    "status"
                ]
                for c, s in zip(notebook["content"]["cells"], notebook["cells"], strict=True)
            }
            assert statuses["mean"] == "changed" and statuses["interpretation"] == "changed"
            assert statuses["test_mean"] == "unchanged"
            body = {
                "scores": {"hw1:interpretation": {"score": 1.5, "comment": "Say why."}},
                "cell_comments": [{"notebook": "hw1.ipynb", "cell": 10, "text": "Good point"}],
                "submit": True,
            }
            saved = course.api("PUT", learner, f"/submissions/{a['submission']}/review", json=body)
            assert saved["review"]["status"] == "submitted"
            over = {"scores": {"hw1:interpretation": {"score": 3}}}
            path = f"/submissions/{a['submission']}/review"
            assert course.status("PUT", learner, path, json=over) == 400
    done = course.api("GET", "instructor")
    assert done["round"]["reviews_submitted"] == 6


def test_a_rerun_changes_nothing_and_adds_a_late_submission(cl_review_course: Course) -> None:
    course = cl_review_course
    if course.status("GET", "instructor") == 404:
        ok(course.review_open("--per-submission", "2", BEN))
    before = course.api("GET", "instructor")["submissions"]
    out = ok(course.review_open())
    assert "3 submission(s) already in the round" in out and "0 new" in out
    assert course.api("GET", "instructor")["submissions"] == before
    course.hand_in("eli")
    course.nbgrader("instructor", course.folder, "collect", ASSIGNMENT, "--update")
    course.add_student("eli")
    course.nbgrader("instructor", course.folder, "autograde", ASSIGNMENT, "--student", "eli")
    # eli's copy comes as nbgrader autograded it, with the tests as released: no hidden tests
    out = ok(course.review_open("--source", "autograded"))
    assert "[1/1] eli" in out and "4 submission(s), 1 new" in out
    after = course.api("GET", "instructor")
    numbers = {s["author"]: s["number"] for s in after["submissions"]}
    assert numbers["eli"] == 4
    assert {s["author"]: s["number"] for s in before} == {
        a: n for a, n in numbers.items() if a != "eli"
    }
    eli = next(s for s in after["submissions"] if s["author"] == "eli")
    assert len(eli["reviewers"]) == 2 and "eli" not in [r["user"] for r in eli["reviewers"]]
    # the only new work was eli's own submission, so eli got nothing to review; ask for some
    assert course.api("GET", "eli")["assignments"] == []
    extra = course.api("POST", "eli", "/extra")["assignment"]
    assert extra["extra"] is True and extra["submission"] != numbers["eli"]
    copy = course.api("GET", "instructor", f"/submissions/{numbers['eli']}")["submission"]
    cells = {
        c.get("metadata", {}).get("nbgrader", {}).get("grade_id") or c.get("id"): c
        for c in copy["notebooks"][0]["content"]["cells"]
    }
    text = json.dumps(copy)
    assert "HIDDEN" not in text and "mean([-4])" not in text and "threshold=1)" not in text
    assert cells["test_mean"]["outputs"] == []
    [tried] = [c for c in cells.values() if c["source"].startswith('print("checked by')]
    printed = "".join(o.get("text", "") for o in tried["outputs"])
    assert printed == "checked by learner in /home/learner\n"
    assert find_identifying(copy["notebooks"], ["eli", *FULL_NAMES["eli"]], whole_words=True) == []


GRADEBOOK_SCRIPT = """
import json, sys
from nbgrader.api import Gradebook
out = {}
with Gradebook("sqlite:///gradebook.db", "demo101") as gb:
    for student in sys.argv[1:]:
        grade = gb.find_grade("interpretation", "hw1", "hw1", student)
        comment = gb.find_comment("interpretation", "hw1", "hw1", student)
        out[student] = [grade.manual_score, comment.manual_comment, grade.needs_manual_grade]
print(json.dumps(out))
"""


def test_reviews_become_scores_in_the_gradebook_and_feedback(cl_review_course: Course) -> None:
    """After reviewing: the results beside nbgrader's autograde scores, an override, the
    export refused while the round is open, then closed, exported (the gradebook holds the
    scores and a comment that says they came from peer review) and released to authors."""
    course = cl_review_course
    if course.status("GET", "instructor") == 404:
        ok(course.review_open("--per-submission", "2", BEN))
    for learner in ("ada", "ben", "dee", "eli"):
        for a in course.api("GET", learner)["assignments"]:
            if a["state"] != "submitted":
                body = {
                    "scores": {"hw1:interpretation": {"score": 1.5, "comment": "Say why."}},
                    "submit": True,
                }
                course.api("PUT", learner, f"/submissions/{a['submission']}/review", json=body)
    results = course.api("GET", "instructor", "/results")
    by_author = {s["author"]: s for s in results["submissions"]}
    for author in ("ada", "ben", "dee"):
        row = by_author[author]
        assert row["criteria"]["hw1:interpretation"]["final"] == 1.5
        assert row["autograde"] is not None and row["autograde"]["max"] > 0  # from review open
    dee = by_author["dee"]["number"]
    override = {"score": 2, "reason": "The argument holds"}
    course.api("PUT", "instructor", f"/overrides/{dee}/hw1%3Ainterpretation", json=override)
    command = [str(VENV / "bin" / "cohortlab"), "review"]
    args = [ASSIGNMENT, "--course", COURSE]

    def review(*words: str) -> subprocess.CompletedProcess:
        return run_as("instructor", course.folder, [*command, *words, *args], **course.env)

    line = one_error_line(review("export"))
    assert "still open; close it first" in line
    assert "closed" in ok(review("close"))
    out = ok(review("export"))
    assert "wrote" in out and "[1/" in out, out
    students = sorted(by_author)
    script = [str(VENV / "bin" / "python"), "-c", GRADEBOOK_SCRIPT, *students]
    book = json.loads(ok(run_as("instructor", course.folder, script)).strip().splitlines()[-1])
    assert book["ada"][0] == 1.5 and book["ben"][0] == 1.5 and book["dee"][0] == 2.0
    for student, (_score, comment, needs_grading) in book.items():
        assert comment.startswith("CohortLab peer review:"), comment
        assert needs_grading is False
        others = [n for n in FULL_NAMES if n != student]
        assert find_identifying(comment, others, whole_words=True) == [], comment
    counted = len(by_author["ada"]["criteria"]["hw1:interpretation"]["peer"])
    assert f"median of {counted} peer review(s)" in book["ada"][1]
    assert "Review 1: Say why." in book["ada"][1]
    assert "set by the instructor" in book["dee"][1] and "The argument holds" in book["dee"][1]
    # the authors see their feedback once released, scores and cell comments included
    assert course.status("GET", "ada", "/feedback") == 403
    assert "released to authors" in ok(review("release"))
    feedback = course.api("GET", "ada", "/feedback")
    assert feedback["scores"]["hw1:interpretation"] == 1.5
    assert all(
        r["scores"]["hw1:interpretation"]["comment"] == "Say why." for r in feedback["reviews"]
    )
    assert find_identifying(feedback["reviews"], ["ben", "dee", "eli"], whole_words=True) == []
