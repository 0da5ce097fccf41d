"""Opening a peer review round from the instructor's JupyterLab: the review jobs of their own
single-user server, started through a real hub, on a real nbgrader course.

The instructor releases an assignment of the test's own (hw1's notebook as ``hw1lab``, so its
round is apart from the hw1 round other modules open), ada, ben and dee fetch it and submit
with real nbgrader commands, the instructor collects. Then everything goes through
``/user/instructor/cohortlab/reviews/...`` with the instructor's hub token, as the lab panel
calls it: the course folder, a round opened as a job and followed to the end, the round in the
service; and what is refused: a learner's token at the instructor's server, a learner at their
own server, a second job on the round, a folder that is no course. Then the round's results,
an override and an exclusion through ``cohortlab review results|override|exclude`` in the
instructor's terminal, and a learner refused by the service.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.hub import Hub
from tests.helpers.nbgrader import (
    COURSE,
    VENV,
    NbgraderCourse,
    collected_course,
    home,
    ok,
    run_as,
)
from tests.helpers.waiting import wait_until

ASSIGNMENT = "hw1lab"
LEARNERS = ("ada", "ben", "dee")
SERVER = "/user/instructor/cohortlab/reviews"


@pytest.fixture(scope="module")
def cl_lab_course(cl_hub: Hub) -> Iterator[NbgraderCourse]:
    """hw1lab released, submitted by ada, ben and dee and collected; the instructor's
    server running."""
    with collected_course(cl_hub, "jobs", ASSIGNMENT, LEARNERS) as course:
        cl_hub.start_server("instructor")
        yield course


def call(hub: Hub, user: str, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    resp = hub.api(method, path, hub.token_for(user), allow_redirects=False, **kw)
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, resp.text


def follow(hub: Hub, job: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    """The job once it is no longer running (a failed read of it ends the wait too)."""
    if job["state"] != "running":
        return job

    def over() -> tuple[int, Any]:
        status, body = call(hub, "instructor", "GET", f"{SERVER}/jobs/{job['id']}")
        assert status != 200 or body["job"]["state"] != "running", body  # in the report
        return status, body

    status, body = wait_until(over, timeout=timeout, interval=0.3, what=f"job {job['id']} to end")
    assert status == 200, body
    return body["job"]


def test_the_instructors_server_opens_a_round_as_a_job(cl_lab_course: NbgraderCourse) -> None:
    course, hub = cl_lab_course, cl_lab_course.hub
    folder = course.folder.name
    status, body = call(hub, "instructor", "GET", f"{SERVER}/course", params={"folder": folder})
    assert status == 200, body
    assert body["folder"] == folder and body["course_id"] == COURSE
    [lab] = [a for a in body["assignments"] if a["name"] == ASSIGNMENT]
    assert lab == {"name": ASSIGNMENT, "submitted": 3, "autograded": 0}

    # the name check first: ben signed "(ben)", a name that is also a common word
    check = {"course": COURSE, "assignment": ASSIGNMENT, "folder": folder}
    status, body = call(hub, "instructor", "POST", f"{SERVER}/names", json=check)
    assert status == 200, body
    assert body["checked"] == sorted(LEARNERS)
    [ben] = body["findings"]
    assert (ben["word"], ben["student"], ben["notebook"], ben["count"]) == (
        "ben", "ben", "hw1.ipynb", 2,
    )  # fmt: skip
    assert any("«ben»" in e for e in ben["excerpts"]), ben
    request = {"course": COURSE, "assignment": ASSIGNMENT, "folder": folder, "per_submission": 2}
    status, body = call(hub, "instructor", "POST", f"{SERVER}/rounds", json=request)
    assert status == 202, body
    undecided = follow(hub, body["job"])  # stops before uploading anything
    assert undecided["state"] == "failed", undecided
    assert undecided["error"]["code"] == "names_to_decide"
    assert '"ben"' in undecided["error"]["message"]
    api = f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{ASSIGNMENT}"
    assert call(hub, "instructor", "GET", api)[0] == 404

    request["words"] = {"ben": "replace"}
    status, body = call(hub, "instructor", "POST", f"{SERVER}/rounds", json=request)
    assert status == 202, body
    job = body["job"]
    assert job["state"] == "running" and job["kind"] == "open"
    again, refused = call(hub, "instructor", "POST", f"{SERVER}/rounds", json=request)
    assert again == 409 and refused["error"]["code"] == "job_running"
    assert job["id"] in refused["error"]["message"]

    done = follow(hub, job)
    assert done["state"] == "done", done
    assert done["result"]["submissions"] == 3 and done["result"]["added_assignments"] == 6
    assert "[3/3]" in "\n".join(done["lines"])
    assert 'replacing "ben": 2 place(s) in 1 submission(s)' in done["lines"]
    status, jobs = call(hub, "instructor", "GET", f"{SERVER}/jobs")
    assert jobs["jobs"][0]["id"] == job["id"]

    status, view = call(hub, "instructor", "GET", api)
    assert status == 200, view
    assert view["round"]["k"] == 2
    assert {s["author"] for s in view["submissions"]} == set(LEARNERS)
    for learner in LEARNERS:
        status, mine = call(hub, learner, "GET", api)
        assert status == 200 and len(mine["assignments"]) == 2

    # export from the lab: the round is still open, so the job fails saying so
    export = {"course": COURSE, "assignment": ASSIGNMENT, "folder": folder}
    status, body = call(hub, "instructor", "POST", f"{SERVER}/exports", json=export)
    assert status == 202, body
    failed = follow(hub, body["job"])
    assert failed["state"] == "failed" and failed["error"]["code"] == "export_refused"
    assert "still open; close it first" in failed["error"]["message"]


def test_learners_are_refused(cl_lab_course: NbgraderCourse) -> None:
    course, hub = cl_lab_course, cl_lab_course.hub
    request = {"course": COURSE, "assignment": ASSIGNMENT, "folder": course.folder.name}
    # jupyter_server (JupyterHub's single-user auth) lets no one else into the server
    for method, path in [("GET", f"{SERVER}/course"), ("GET", f"{SERVER}/jobs")]:
        status, _body = call(hub, "ada", method, path)
        assert status == 403, path
    status, _body = call(hub, "ada", "POST", f"{SERVER}/rounds", json=request)
    assert status == 403
    status, _body = call(hub, "ada", "POST", f"{SERVER}/names", json=request)
    assert status == 403
    # in their own server, the service says a learner runs no rounds, before anything is read
    hub.start_server("ada")
    status, body = call(hub, "ada", "POST", "/user/ada/cohortlab/reviews/rounds", json=request)
    assert status == 403 and body["error"]["code"] == "instructor_only", body
    status, body = call(hub, "ada", "GET", "/user/ada/cohortlab/reviews/jobs")
    assert status == 200 and body == {"jobs": []}


def test_a_folder_that_is_no_course_is_404(cl_lab_course: NbgraderCourse) -> None:
    hub = cl_lab_course.hub
    for folder in ("no-such-folder", "../ada", "/etc"):
        status, body = call(hub, "instructor", "GET", f"{SERVER}/course", params={"folder": folder})
        assert status == 404 and body["error"]["code"] == "no_course", (folder, body)
        request = {"course": COURSE, "assignment": ASSIGNMENT, "folder": folder}
        status, body = call(hub, "instructor", "POST", f"{SERVER}/rounds", json=request)
        assert status == 404 and body["error"]["code"] == "no_course", (folder, body)


def test_results_override_and_exclude_from_a_terminal(cl_lab_course: NbgraderCourse) -> None:
    """``cohortlab review results|override|exclude`` against the real service, on the round
    the instructor's server opened."""
    course, hub = cl_lab_course, cl_lab_course.hub
    api = f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{ASSIGNMENT}"
    if call(hub, "instructor", "GET", api)[0] == 404:
        request = {"course": COURSE, "assignment": ASSIGNMENT, "folder": course.folder.name}
        request["words"] = {"ben": "replace"}
        status, body = call(hub, "instructor", "POST", f"{SERVER}/rounds", json=request)
        assert follow(hub, body["job"])["state"] == "done"
    [mine, *_] = call(hub, "ada", "GET", api)[1]["assignments"]
    opened = f"{api}/submissions/{mine['submission']}"
    call(hub, "ada", "GET", opened)
    body = {"scores": {"hw1:interpretation": {"score": 1.5, "comment": "Say why."}}, "submit": True}
    status, saved = call(hub, "ada", "PUT", f"{opened}/review", json=body)
    assert status == 200, saved

    def review(user: str, *words: str) -> subprocess.CompletedProcess:
        command = [str(VENV / "bin" / "cohortlab"), "review", *words, "--course", COURSE]
        if user == "instructor":
            return run_as(user, course.folder, command, **course.env)
        env = {**course.env, "JUPYTERHUB_API_TOKEN": hub.token_for(user)}
        return run_as(user, home(user), command, **env)

    table = ok(review("instructor", "results", ASSIGNMENT))
    assert table.startswith(f"peer review of {ASSIGNMENT}: open, median, 3 submission(s)")
    for learner in LEARNERS:
        assert f"  {learner}  " in table, table
    raw = json.loads(ok(review("instructor", "results", ASSIGNMENT, "--json")))
    number = mine["submission"]
    [sub] = [s for s in raw["submissions"] if s["number"] == number]
    [peer] = sub["criteria"]["hw1:interpretation"]["peer"]
    assert peer["reviewer"] == "ada" and peer["score"] == 1.5

    n = str(number)
    words = ["override", ASSIGNMENT, n, "hw1:interpretation", "2", "--reason", "Checked"]
    out = ok(review("instructor", *words))
    assert out.strip() == f"submission {n}, hw1:interpretation: 2 set by you (Checked)"
    assert "2*" in ok(review("instructor", "results", ASSIGNMENT))
    ok(review("instructor", "override", ASSIGNMENT, n, "hw1:interpretation", "--clear"))
    out = ok(review("instructor", "exclude", ASSIGNMENT, peer["review"], "--reason", "Test"))
    assert "is excluded" in out
    raw = json.loads(ok(review("instructor", "results", ASSIGNMENT, "--json")))
    [sub] = [s for s in raw["submissions"] if s["number"] == number]
    assert sub["criteria"]["hw1:interpretation"]["peer"][0]["excluded"] is True
    back = ok(review("instructor", "exclude", ASSIGNMENT, peer["review"], "--include"))
    assert "counts again" in back

    refused = review("ben", "results", ASSIGNMENT)
    assert refused.returncode == 1 and "Traceback" not in refused.stdout
    [line] = [x for x in refused.stdout.splitlines() if x.startswith("cohortlab:")]
    assert "instructors and mentors" in line
    refused = review("ben", "override", ASSIGNMENT, n, "hw1:interpretation", "0")
    assert refused.returncode == 1 and "Only the course's instructors" in refused.stdout
