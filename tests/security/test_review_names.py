"""Learners sign their peer-reviewed homework in every form of their name; their reviewers,
on the real hub, find none of them in what they get (issue 13, item 4, first point).

As each person really does it: ada, cy and fay fetch hw1 with nbgrader in their own terminal,
write their names the ways people do (:mod:`tests.helpers.names`: first name alone, surname
alone, "A. Surname", "A Surname", "Surname, First", user name, email and its local part, in
capitals, spaced out, without accents, parts of a hyphenated surname; in markdown, comments,
strings, saved outputs and the file names in them; fay's first name and surname, Rose Young,
are also common words) and submit. The instructor collects, records their names in the
gradebook, and opens the round in a terminal, deciding to replace "rose" and "young" when
the command lists them. Then every reviewer takes their copies the two ways a learner can:
through the service's API with their own token, and in their own JupyterLab server, which
writes the copy into their home, where they read it in their terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cohortlab.reviews.anonymize import find_identifying

from tests.helpers.hub import Hub
from tests.helpers.names import GRADEBOOK, identifying, sign, written_forms
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
from tests.security.learner import run_as as terminal

ASSIGNMENT = "hw1sign"
LEARNERS = ("ada", "cy", "fay")
API = f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{ASSIGNMENT}"


@pytest.fixture(scope="module")
def cl_signed_round(cl_hub: Hub) -> Iterator[NbgraderCourse]:
    with private_course("sign") as folder:
        copy_assignment(folder, ASSIGNMENT)
        course = NbgraderCourse(
            cl_hub, folder, course_exchange(cl_hub, "sign"), instructor_terminal(cl_hub)
        )
        course.release(ASSIGNMENT)
        for learner in LEARNERS:
            course.hand_in(learner, ASSIGNMENT, write=sign)
        course.nbgrader("instructor", folder, "collect", ASSIGNMENT)
        for learner in LEARNERS:
            first, last, email = GRADEBOOK[learner]
            course.add_student(learner, first, last, email)
        command = [str(VENV / "bin" / "cohortlab"), "review", "open", ASSIGNMENT]
        command += ["--course", COURSE, "--per-submission", "2"]
        listed = run_as("instructor", folder, command, **course.env)
        assert listed.returncode == 1 and '"rose":' in listed.stdout, listed.stdout
        decided = [*command, "--replace=rose", "--replace=young"]
        assert "opened peer review" in ok(run_as("instructor", folder, decided, **course.env))
        yield course


def test_the_forms_are_what_a_reviewer_would_have_recognised(
    cl_signed_round: NbgraderCourse,
) -> None:
    """The control: each learner's submission, as nbgrader collected it, holds every form."""
    for learner in LEARNERS:
        submitted = cl_signed_round.folder / "submitted" / learner / ASSIGNMENT / "hw1.ipynb"
        text = json.dumps(json.loads(submitted.read_text()))
        for form in written_forms(learner):
            assert json.dumps(form)[1:-1] in text, (learner, form)
        assert find_identifying(json.loads(text), identifying(learner), whole_words=True)


def test_a_reviewer_finds_no_form_of_the_authors_name_in_the_api_or_in_their_lab(
    cl_signed_round: NbgraderCourse,
) -> None:
    hub = cl_signed_round.hub
    staff = hub.api("GET", API, hub.token_for("instructor")).json()
    author_of = {s["number"]: s["author"] for s in staff["submissions"]}
    reviewed = set()
    for reviewer in LEARNERS:
        hub.start_server(reviewer)
        token = hub.token_for(reviewer)
        mine = hub.api("GET", API, token).json()["assignments"]
        assert len(mine) == 2
        for a in mine:
            number = a["submission"]
            author = author_of[number]
            reviewed.add(author)
            strings = identifying(author)
            # through the service, as the lab's panel asks for it
            resp = hub.api("GET", f"{API}/submissions/{number}", token)
            assert resp.status_code == 200, resp.text
            assert find_identifying(resp.json(), strings, whole_words=True) == []
            # in their own JupyterLab: the copy written into their home, read in a terminal
            body = {"course": COURSE, "assignment": ASSIGNMENT, "submission": number}
            wrote = hub.api("POST", f"/user/{reviewer}/cohortlab/reviews/copies", token, json=body)
            assert wrote.status_code == 200, wrote.text
            [path] = wrote.json()["paths"]
            on_disk = json.loads(terminal(reviewer, 'cat -- "$HOME/$1"', path))
            assert find_identifying(on_disk, strings, whole_words=True) == [], path
            ls = terminal(reviewer, 'ls -R -- "$HOME/peer-review/$1"', ASSIGNMENT)
            assert find_identifying({"ls": ls}, strings, whole_words=True) == []
    assert reviewed == set(LEARNERS)
