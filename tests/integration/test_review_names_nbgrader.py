"""Learners sign their hw1 in every form of their name; ``cohortlab review open`` on the real
nbgrader course removes all of them from the copies reviewers get, and stops, before anything
is uploaded, on the names that are also common words (Rose, Young; later Will) until the
instructor decides each one for that run.

Real commands, each as its person's system user: the instructor releases, ada, cy and fay
fetch, sign (:mod:`tests.helpers.names`) and submit, the instructor collects, records their
names in the gradebook and runs ``cohortlab review open`` in a terminal; reviewers read their
copies through the service as the hub lets them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from cohortlab.reviews.anonymize import find_identifying

from tests.helpers.hub import Hub
from tests.helpers.names import GRADEBOOK, identifying, sign
from tests.helpers.nbgrader import (
    COURSE,
    VENV,
    NbgraderCourse,
    copy_assignment,
    course_exchange,
    instructor_terminal,
    ok,
    private_course,
    run_as,
)

ASSIGNMENT = "hw1names"
LEARNERS = ("ada", "cy", "fay")
API = f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{ASSIGNMENT}"


class Course(NbgraderCourse):
    def review_open(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(VENV / "bin" / "cohortlab"), "review", "open", ASSIGNMENT, *args]
        return run_as("instructor", self.folder, [*command, "--course", COURSE], **self.env)

    def api(self, user: str, path: str = "") -> Any:
        resp = self.hub.api("GET", f"{API}{path}", self.hub.token_for(user))
        assert resp.status_code == 200, f"{user} GET {path}: {resp.status_code} {resp.text}"
        return resp.json()

    def round_status(self) -> int:
        return self.hub.api("GET", API, self.hub.token_for("instructor")).status_code

    def enrol(self, learner: str) -> None:
        first, last, email = GRADEBOOK[learner]
        self.add_student(learner, first, last, email)


@pytest.fixture(scope="module")
def cl_names_course(cl_hub: Hub) -> Iterator[Course]:
    """hw1 as hw1names, released, signed and submitted by ada, cy and fay, collected, their
    names in the gradebook."""
    with private_course("names") as folder:
        copy_assignment(folder, ASSIGNMENT)
        course = Course(
            cl_hub, folder, course_exchange(cl_hub, "names"), instructor_terminal(cl_hub)
        )
        course.release(ASSIGNMENT)
        for learner in LEARNERS:
            course.hand_in(learner, ASSIGNMENT, write=sign)
        course.nbgrader("instructor", folder, "collect", ASSIGNMENT)
        for learner in LEARNERS:
            course.enrol(learner)
        yield course


def stopped(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout, result.stdout
    return result.stdout


def test_common_words_are_listed_and_nothing_is_uploaded_until_each_is_decided(
    cl_names_course: Course,
) -> None:
    course = cl_names_course
    out = stopped(course.review_open("--per-submission", "2"))
    assert "2 word(s) in these submissions are both a learner's name and a common word" in out
    assert '"rose":' in out and '"young":' in out and "Nothing was uploaded" in out
    assert "fay's hw1.ipynb: 5 place(s)" in out, out  # Rose, four times alone, once in code
    assert "«R. Young»" in out and "--replace=WORD or --keep=WORD" in out
    assert "ada's" not in out and "cy's" not in out  # nothing of theirs is a common word
    assert course.round_status() == 404
    # one word decided is not enough
    out = stopped(course.review_open("--per-submission", "2", "--replace=Rose"))
    assert '"young":' in out and '"rose":' not in out
    assert course.round_status() == 404


def test_reviewers_get_copies_without_any_form_of_the_authors_name(
    cl_names_course: Course,
) -> None:
    course = cl_names_course
    if course.round_status() == 404:
        out = ok(course.review_open("--per-submission", "2", "--replace=rose", "--replace=young"))
        assert 'replacing "rose": 5 place(s) in 1 submission(s)' in out, out
        assert "opened peer review of hw1names: 3 submission(s)" in out
    view = course.api("instructor")
    author_of = {s["number"]: s["author"] for s in view["submissions"]}
    seen = set()
    for reviewer in LEARNERS:
        for a in course.api(reviewer)["assignments"]:
            copy = course.api(reviewer, f"/submissions/{a['submission']}")
            author = author_of[a["submission"]]
            seen.add(author)
            found = find_identifying(copy, identifying(author), whole_words=True)
            assert found == [], (author, found)
            text = json.dumps(copy)
            assert "Friday was unusually warm" in text  # the assignment's own text is kept
            assert "/home/learner" in text and "results_learner_learner.csv" in text
    assert seen == set(LEARNERS)


def test_a_late_run_asks_again_about_only_what_it_adds(cl_names_course: Course) -> None:
    """Decisions hold for one run: eli's late work (signed "Will Brandt") brings "will",
    which hw1's own text uses too; the instructor keeps it, and his surname still goes."""
    course = cl_names_course
    if course.round_status() == 404:
        ok(course.review_open("--per-submission", "2", "--replace=rose", "--replace=young"))
    course.hand_in("eli", ASSIGNMENT, write=sign)
    course.nbgrader("instructor", course.folder, "collect", ASSIGNMENT, "--update")
    course.enrol("eli")
    out = stopped(course.review_open())
    assert '"will":' in out and "eli's hw1.ipynb" in out
    assert '"rose"' not in out and '"young"' not in out  # fay's work is in the round already
    assert "You «will» summarise" in out  # the excerpt shows the word is hw1's own
    out = ok(course.review_open("--keep=will"))
    assert 'keeping "will"' in out and "4 submission(s), 1 new" in out
    eli = next(s for s in course.api("instructor")["submissions"] if s["author"] == "eli")
    copy = course.api("instructor", f"/submissions/{eli['number']}")["submission"]["notebooks"]
    assert "You will summarise" in json.dumps(copy)  # staff see the author; the copy does not
    kept = {"Will", "will", "WILL"}
    found = find_identifying(
        copy, [w for w in identifying("eli") if w not in kept], whole_words=True
    )
    assert found == [], found
