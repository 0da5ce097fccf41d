"""Peer review jobs in the instructor's own server (``cohortlab.serverext.review_jobs``): a real
jupyter_server with the extension, a real nbgrader course folder and gradebook in its root, and
a stand-in service. The job registry and the pipelines' progress are tested on their own too.
The whole path through a real hub and real nbgrader commands is
``tests/integration/test_review_jobs_hub.py``."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nbformat
import pytest
from cohortlab.client import ServiceClient
from cohortlab.errors import APIError
from cohortlab.reviews.coursework import course_directory
from cohortlab.reviews.opening import OpenRequest, export_round, open_round
from cohortlab.serverext.jobs import JobRegistry
from cohortlab.serverext.review_jobs import parse_open
from jupyter_server.auth import User
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tornado import web
from tornado.httpclient import HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from tests.helpers.jupyter_server import *  # noqa: F403
from tests.helpers.threaded_server import serve_in_thread
from tests.helpers.waiting import wait_until, wait_until_async
from tests.unit.test_review_export import grades, make_gradebook, results

COURSE = "demo101"
OWNER = "ins"
SERVER_TOKEN = "instructor-hub-token"
STUDENTS = ["ada", "ben", "cy"]
T = TypeVar("T")
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


# --- a stand-in service -----------------------------------------------------------------------


@dataclass
class Service:
    role: str = "instructor"
    results: dict[str, Any] = field(default_factory=results)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)  # set: uploads go on
    refuse_put: str | None = None
    port: int = 0

    def __post_init__(self) -> None:
        self.hold.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/cohortlab/"

    def seen(self, method: str, ending: str) -> list[Any]:
        return [b for m, p, b in self.requests if m == method and p.endswith(ending)]


class Fake(web.RequestHandler):
    def prepare(self) -> None:
        state: Service = self.settings["state"]
        body = json.loads(self.request.body) if self.request.body else None
        state.requests.append((self.request.method, self.request.path, body))
        if self.request.headers.get("Authorization") != f"token {SERVER_TOKEN}":
            self.refuse(403, "forbidden", "Wrong token.")

    def refuse(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.finish({"error": {"code": code, "message": message}})

    @property
    def state(self) -> Service:
        return self.settings["state"]


class MeHandler(Fake):
    def get(self) -> None:
        courses = [{"id": c, "role": self.state.role} for c in (COURSE, "other101")]
        self.finish({"name": OWNER, "courses": courses})


class UploadsHandler(Fake):
    def post(self, course: str, assignment: str) -> None:
        if self.state.role != "instructor":
            return self.refuse(403, "instructor_only", "Only the course's instructors can open.")
        body = json.loads(self.request.body)
        authors = body["authors"]
        if body.get("k", 3) > len(authors) - 1:
            return self.refuse(
                400, "invalid_settings", f"at most {len(authors) - 1} reviews per submission"
            )
        upload = {"id": "u1", "copy_key": "k" * 32, "to_upload": authors, "in_round": []}
        self.finish({"upload": {**upload, "not_learners": []}})


class StagedHandler(Fake):
    async def put(self, course: str, assignment: str, upload: str, student: str) -> None:
        await wait_until_async(self.state.hold.is_set, 30, "the test to let uploads go on")
        if student == self.state.refuse_put:
            return self.refuse(400, "not_anonymous", f"The copy still names {student}.")
        self.finish({"staged": student})


class UploadHandler(Fake):
    def delete(self, course: str, assignment: str, upload: str) -> None:
        self.set_status(204)
        self.finish()


class CommitHandler(Fake):
    def post(self, course: str, assignment: str, upload: str) -> None:
        rnd = {"k": 2, "due_at": None, "across_cohorts": False, "separate_teams": False}
        self.finish(
            {
                "round": rnd,
                "created": True,
                "submissions": 3,
                "added_submissions": 3,
                "added_assignments": 6,
            }
        )


class AutogradeHandler(Fake):
    def put(self, course: str, assignment: str) -> None:
        self.finish({"stored": len(json.loads(self.request.body)["submissions"])})


class ResultsHandler(Fake):
    def get(self, course: str, assignment: str) -> None:
        self.finish(self.state.results)


def service_app(state: Service) -> web.Application:
    base = r"/services/cohortlab/api/v1"
    rnd = rf"{base}/courses/([^/]+)/reviews/([^/]+)"
    return web.Application(
        [
            (rf"{base}/me", MeHandler),
            (rf"{rnd}/uploads", UploadsHandler),
            (rf"{rnd}/uploads/([^/]+)/submissions/([^/]+)", StagedHandler),
            (rf"{rnd}/uploads/([^/]+)/commit", CommitHandler),
            (rf"{rnd}/uploads/([^/]+)", UploadHandler),
            (rf"{rnd}/autograde", AutogradeHandler),
            (rf"{rnd}/results", ResultsHandler),
        ],
        state=state,
    )


# --- a real nbgrader course folder ------------------------------------------------------------


def template() -> Any:
    meta = {"nbgrader": {"grade_id": "essay", "grade": True, "solution": True, "points": 2}}
    test = {"nbgrader": {"grade_id": "test_mean", "grade": True, "solution": False, "points": 1}}
    return new_notebook(
        cells=[
            new_markdown_cell("# Part 1: why", id="intro"),
            new_markdown_cell("YOUR ANSWER HERE", id="essay", metadata=meta),
            new_code_cell("assert True", id="test", metadata=test),
        ]
    )


def make_course(folder: Path, *, config: str = "") -> Path:
    """hw1 released, submitted by ada, ben and cy (collected) and in the gradebook."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE!r}\n{config}"
    )
    make_gradebook(folder, STUDENTS)
    (folder / "release" / "hw1").mkdir(parents=True)
    nbformat.write(template(), folder / "release" / "hw1" / "hw1.ipynb")
    for student in STUDENTS:
        nb = template()
        nb.cells[1].source = f"An answer by someone {len(student)}"
        (folder / "submitted" / student / "hw1").mkdir(parents=True)
        nbformat.write(nb, folder / "submitted" / student / "hw1" / "hw1.ipynb")
    return folder


@pytest.fixture(autouse=True)
def cl_alembic_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader upgrades a gradebook by running ``alembic`` from PATH."""
    monkeypatch.setenv("PATH", f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}")


# --- the pipelines on their own ---------------------------------------------------------------


@pytest.fixture
def cl_threaded_service() -> Iterator[Service]:
    state = Service()
    with serve_in_thread(lambda: service_app(state)) as port:
        state.port = port
        yield state


def test_the_open_pipeline_reports_each_phase_and_prints_nothing(
    tmp_path: Path, cl_threaded_service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_course(tmp_path / "course")
    coursedir = course_directory(folder=folder)
    assert coursedir.root == str(folder) and coursedir.course_id == COURSE
    seen: list[tuple[str, int, int, str]] = []
    request = OpenRequest(COURSE, "hw1", settings={"k": 2})
    service = cl_threaded_service

    def connect() -> ServiceClient:
        return ServiceClient(url=service.url, token=SERVER_TOKEN)

    summary = open_round(coursedir, request, connect, lambda *step: seen.append(step))
    assert capsys.readouterr().out == ""
    assert summary["submissions"] == 3 and summary["autograde"]["stored"] == 0
    phases = [p for p, *_ in seen]
    assert phases.index("checking") < phases.index("uploading") < phases.index("committing")
    assert ("checking", 3, 3, "") in seen
    uploads = [(d, t) for p, d, t, _ in seen if p == "uploading" and d]
    assert uploads == [(1, 3), (2, 3), (3, 3)]
    lines = [line for *_, line in seen if line]
    assert lines[0] == "checking 3 submission(s) of hw1..."
    assert any(line.startswith("opened peer review of hw1: 3 submission(s)") for line in lines)
    [body] = service.seen("POST", "/uploads")
    assert body["k"] == 2 and body["authors"] == STUDENTS
    assert body["criteria"][0]["grade_id"] == "essay"


def test_the_export_pipeline_reports_each_submission(
    tmp_path: Path, cl_threaded_service: Service
) -> None:
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text(f"c.CourseDirectory.course_id = {COURSE!r}\n")
    url = make_gradebook(folder, ["ada", "ben"])
    seen: list[tuple[str, int, int, str]] = []
    client = ServiceClient(url=cl_threaded_service.url, token=SERVER_TOKEN)
    done = export_round(
        course_directory(folder=folder), COURSE, "hw1", client, lambda *s: seen.append(s)
    )
    assert done["written"] == 2 and done["students"] == ["ada", "ben"] and not done["dry_run"]
    assert [(d, t) for p, d, t, line in seen if line.startswith("[")] == [(1, 2), (2, 2)]
    assert grades(url, ["ada"])["ada"][0] == 1.25


def test_a_folders_config_is_read_without_changing_directory(tmp_path: Path) -> None:
    """The course root is the folder's own (nbgrader's default is its cwd), or the one its
    config names; the cwd stays where it was."""
    here = os.getcwd()
    plain = make_course(tmp_path / "plain")
    assert course_directory(folder=plain).root == str(plain)
    elsewhere = tmp_path / "elsewhere"
    pointer = tmp_path / "pointer"
    pointer.mkdir()
    (pointer / "nbgrader_config.py").write_text(f"c.CourseDirectory.root = {str(elsewhere)!r}\n")
    elsewhere.mkdir()
    (elsewhere / "nbgrader_config.py").write_text("c.CourseDirectory.course_id = 'other'\n")
    coursedir = course_directory(folder=pointer)
    assert coursedir.root == str(elsewhere) and coursedir.course_id == "other"
    assert coursedir.db_url == f"sqlite:///{elsewhere / 'gradebook.db'}"
    assert os.getcwd() == here


# --- the registry -----------------------------------------------------------------------------


def wait_for(job: Any, timeout: float = 10) -> dict[str, Any]:
    wait_until(lambda: not job.running, timeout, f"job {job.id} to finish", interval=0.01)
    return job.as_json()


def test_one_running_job_per_round_and_old_ones_are_forgotten() -> None:
    jobs = JobRegistry(keep=3)
    gate = threading.Event()
    first = jobs.reserve("open", COURSE, "hw1")
    jobs.run(first, lambda job: (gate.wait(5), {"ok": True})[1])
    with pytest.raises(APIError) as info:
        jobs.reserve("export", COURSE, "hw1")
    assert info.value.status_code == 409 and info.value.code == "job_running"
    assert first.id in info.value.message
    other = jobs.reserve("open", COURSE, "hw2")  # another round may run beside it
    jobs.discard(other)
    gate.set()
    assert wait_for(first)["result"] == {"ok": True}
    for n in range(5):
        job = jobs.reserve("open", COURSE, f"x{n}")
        jobs.run(job, lambda job: {})
        wait_for(job)
    listed = jobs.newest_first()
    assert len(listed) == 3 and [j.assignment for j in listed] == ["x4", "x3", "x2"]
    assert jobs.get(first.id) is None


def test_a_crash_fails_the_job_in_words_and_reports_progress_lines() -> None:
    jobs = JobRegistry()
    job = jobs.reserve("open", COURSE, "hw1")

    def work(job: Any) -> dict[str, Any]:
        job.report("uploading", 1, 2, "[1/2] ada: 1 notebook(s)")
        raise KeyError("secret internals")

    jobs.run(job, work)
    out = wait_for(job)
    assert out["state"] == "failed" and out["error"]["code"] == "job_crashed"
    assert "secret internals" not in json.dumps(out) and "Traceback" not in json.dumps(out)
    assert out["lines"][0] == "[1/2] ada: 1 notebook(s)" and out["finished_at"]
    assert (out["phase"], out["done"], out["total"]) == ("uploading", 1, 2)


def test_open_bodies_are_checked_with_the_services_messages() -> None:
    request, folder = parse_open(
        {
            "course": COURSE,
            "assignment": "hw1",
            "folder": "course",
            "per_submission": 2,
            "due_at": "2031-06-01T17:00:00Z",
            "uneven_loads": True,
            "criteria": [{"id": "clarity", "title": "Clarity", "max_points": 3}],
        }
    )
    assert folder == "course" and request.settings["k"] == 2
    assert request.settings["balance"] == "best"
    assert request.criteria == [
        {"kind": "instructor", "id": "clarity", "title": "Clarity", "max_points": 3}
    ]
    base = {"course": COURSE, "assignment": "hw1"}
    for extra, code, words in [
        ({"per_submission": 0}, "invalid_settings", "k (reviews per submission)"),
        ({"due_at": "next friday"}, "invalid_settings", "due_at"),
        ({"source": "graded"}, "invalid_field", "submitted or autograded"),
        ({"criteria": [{"id": "Bad Id", "title": "x", "max_points": 1}]}, "invalid_rubric", "id"),
        ({"criteria": [{"id": "a", "title": "x", "max_points": 1, "kind": "nbgrader"}]},
         "invalid_rubric", "unknown field"),
        ({"criteria": {"id": "a"}}, "invalid_rubric", "list"),
        ({"k": 3}, "invalid_field", "Unknown field"),
        ({"assignment": "../hw1"}, "invalid_field", "plain name"),
        ({"across_cohorts": "yes"}, "invalid_settings", "true or false"),
    ]:  # fmt: skip
        with pytest.raises(APIError) as info:
            parse_open({**base, **extra})
        assert info.value.status_code == 400 and info.value.code == code, extra
        assert words in info.value.message, (extra, info.value.message)


# --- the handlers in a real jupyter_server ----------------------------------------------------


@pytest.fixture
def cl_service(jp_asyncio_loop: Any) -> Iterator[Service]:
    """The stand-in service on the Jupyter server's loop."""
    state = Service()

    async def start() -> HTTPServer:
        sock, state.port = bind_unused_port()
        server = HTTPServer(service_app(state))
        server.add_sockets([sock])
        return server

    server = jp_asyncio_loop.run_until_complete(start())
    yield state
    state.hold.set()
    server.stop()


@pytest.fixture
def jp_server_config(cl_service: Service) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"cohortlab": True}},
        "CohortLabServerExtension": {"service_url": cl_service.url, "harden_process": False},
    }


@pytest.fixture
def cl_server(jp_serverapp: Any, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This server as JupyterHub starts it for ``ins``, with a course folder in its root."""
    provider = jp_serverapp.identity_provider
    real_get_user = provider.get_user

    async def get_user(handler: Any) -> Any:
        user = await real_get_user(handler)
        return User(username=OWNER) if user is not None else None

    monkeypatch.setattr(provider, "get_user", get_user)
    settings = jp_serverapp.web_app.settings["cohortlab"]
    settings["token"], settings["owner"] = SERVER_TOKEN, OWNER
    make_course(jp_root_dir / "course")
    return jp_root_dir


@pytest.fixture
def cl_run(jp_asyncio_loop: Any) -> Callable[[Awaitable[T]], T]:
    return jp_asyncio_loop.run_until_complete


@pytest.fixture
def cl_call(jp_fetch: Any) -> Callable[..., Awaitable[tuple[int, dict[str, Any]]]]:
    """(status, JSON body) of a call to this server, errors included."""

    async def call(method: str, path: str, body: Any = None, **params: str) -> Any:
        kw: dict[str, Any] = {"method": method, "params": params}
        if body is not None:
            kw["body"] = json.dumps(body)
        try:
            resp = await jp_fetch(*path.split("/"), **kw)
        except HTTPClientError as e:
            assert e.response is not None
            return e.code, json.loads(e.response.body)
        return resp.code, json.loads(resp.body)

    return call


async def finished(call: Any, job_id: str, timeout: float = 20) -> dict[str, Any]:
    async def job() -> dict[str, Any] | None:
        status, body = await call("GET", f"cohortlab/reviews/jobs/{job_id}")
        assert status == 200, body
        return body["job"] if body["job"]["state"] != "running" else None

    return await wait_until_async(job, timeout, f"job {job_id} to finish", interval=0.05)


OPEN = {"course": COURSE, "assignment": "hw1", "folder": "course", "per_submission": 2}


def test_the_course_folder_lists_assignments_and_submissions(
    cl_server: Path, cl_call: Any, cl_run: Any, jp_config_dir: Path
) -> None:
    async def go() -> None:
        (cl_server / "course" / "autograded" / "ada" / "hw1").mkdir(parents=True)
        status, body = await cl_call("GET", "cohortlab/reviews/course", folder="course")
        assert status == 200, body
        assert body == {
            "folder": "course",
            "course_id": COURSE,
            "assignments": [{"name": "hw1", "submitted": 3, "autograded": 1}],
        }
        status, body = await cl_call("GET", "cohortlab/reviews/course")
        assert status == 404 and body["error"]["code"] == "no_course"
        assert "choose your course folder" in body["error"]["message"]
        # the course nbgrader's own config names (as ~/.jupyter/nbgrader_config.py does)
        root = cl_server / "course"
        (jp_config_dir / "nbgrader_config.py").write_text(f"c.CourseDirectory.root = {str(root)!r}")
        status, body = await cl_call("GET", "cohortlab/reviews/course")
        assert status == 200 and body["folder"] == "course"
        status, body = await cl_call("GET", "cohortlab/reviews/course", folder="")
        assert status == 200 and body["folder"] == "course"
        # no config names a root: the server's root, if it is a course itself
        (jp_config_dir / "nbgrader_config.py").unlink()
        make_course(cl_server)
        status, body = await cl_call("GET", "cohortlab/reviews/course")
        assert status == 200 and body["folder"] == "" and body["course_id"] == COURSE

    cl_run(go())


def test_no_course_outside_home_or_without_nbgrader(
    cl_server: Path, cl_call: Any, cl_run: Any, tmp_path: Path
) -> None:
    async def go() -> None:
        (cl_server / "notes").mkdir()
        bare = cl_server / "bare"
        bare.mkdir()
        (bare / "nbgrader_config.py").write_text("c.CourseDirectory.course_id = 'x'\n")
        outside = make_course(tmp_path / "outside")
        (cl_server / "link").symlink_to(outside)
        for folder, words in [
            ("../outside", "no folder"),
            (str(outside), "relative to your home"),
            ("link", "no folder"),
            ("missing", "no folder"),
            ("notes", "not an nbgrader course folder"),
            ("bare", "no nbgrader gradebook"),
        ]:
            status, body = await cl_call("GET", "cohortlab/reviews/course", folder=folder)
            assert status == 404 and body["error"]["code"] == "no_course", (folder, body)
            assert words in body["error"]["message"], (folder, body)
            status, body = await cl_call(
                "POST", "cohortlab/reviews/rounds", {**OPEN, "folder": folder}
            )
            assert status == 404 and body["error"]["code"] == "no_course"
        status, body = await cl_call("GET", "cohortlab/reviews/jobs")
        assert body == {"jobs": []}  # refused at once: no job left behind

    cl_run(go())


def test_opening_a_round_is_a_job_with_progress_and_the_services_summary(
    cl_server: Path, cl_call: Any, cl_run: Any, cl_service: Service
) -> None:
    async def go() -> None:
        status, body = await cl_call("POST", "cohortlab/reviews/rounds", OPEN)
        assert status == 202, body
        job = body["job"]
        assert (job["kind"], job["course"], job["assignment"]) == ("open", COURSE, "hw1")
        assert job["state"] == "running" and job["error"] is None and job["finished_at"] is None
        done = await finished(cl_call, job["id"])
        assert done["state"] == "done", done
        assert done["result"]["submissions"] == 3 and done["result"]["added_assignments"] == 6
        assert done["result"]["round"]["k"] == 2
        assert "[3/3]" in " ".join(done["lines"])
        assert done["lines"][-1].startswith("note: nbgrader has no autograde scores")
        [upload] = cl_service.seen("POST", "/uploads")
        assert upload["k"] == 2 and upload["authors"] == STUDENTS
        assert len(cl_service.seen("PUT", "/submissions/ada")) == 1
        status, body = await cl_call("GET", "cohortlab/reviews/jobs")
        assert [j["id"] for j in body["jobs"]] == [job["id"]]

    cl_run(go())


def test_a_second_open_while_one_runs_is_409(
    cl_server: Path, cl_call: Any, cl_run: Any, cl_service: Service
) -> None:
    async def go() -> None:
        cl_service.hold.clear()
        status, body = await cl_call("POST", "cohortlab/reviews/rounds", OPEN)
        assert status == 202
        first = body["job"]["id"]
        status, body = await cl_call("POST", "cohortlab/reviews/rounds", OPEN)
        assert status == 409 and body["error"]["code"] == "job_running"
        assert first in body["error"]["message"]
        export = {"course": COURSE, "assignment": "hw1", "folder": "course"}
        status, body = await cl_call("POST", "cohortlab/reviews/exports", export)
        assert status == 409 and body["error"]["code"] == "job_running"
        cl_service.hold.set()
        assert (await finished(cl_call, first))["state"] == "done"

    cl_run(go())


def test_refusals_come_at_once_or_as_a_failed_job_never_a_500(
    cl_server: Path, cl_call: Any, cl_run: Any, cl_service: Service
) -> None:
    async def go() -> None:
        rounds = "cohortlab/reviews/rounds"
        for body, status, code in [
            ({**OPEN, "assignment": "hw9"}, 404, "unknown_assignment"),
            ({**OPEN, "course": "other101"}, 409, "course_mismatch"),
            ({**OPEN, "due_at": "tomorrow"}, 400, "invalid_settings"),
            ({**OPEN, "source": "autograded"}, 409, "no_submissions"),
            ({**OPEN, "criteria": [{"title": "x"}]}, 400, "invalid_rubric"),
        ]:
            got, answer = await cl_call("POST", rounds, body)
            assert (got, answer["error"]["code"]) == (status, code), answer
        # k too large: the service refuses it before any upload, the job says so
        status, body = await cl_call("POST", rounds, {**OPEN, "per_submission": 5})
        assert status == 202
        failed = await finished(cl_call, body["job"]["id"])
        assert failed["state"] == "failed" and failed["error"]["code"] == "invalid_settings"
        assert "at most 2 reviews per submission" in failed["error"]["message"]
        assert failed["lines"][-1] == f"cohortlab: {failed['error']['message']}"
        # a copy refused mid-upload: the job fails and the upload is deleted (no partial round)
        cl_service.refuse_put = "ben"
        status, body = await cl_call("POST", rounds, OPEN)
        failed = await finished(cl_call, body["job"]["id"])
        assert failed["error"] == {"code": "not_anonymous", "message": "The copy still names ben."}
        assert cl_service.seen("DELETE", "/uploads/u1") and not cl_service.seen("POST", "/commit")

    cl_run(go())


def test_a_learner_is_refused_before_anything_is_read(
    cl_server: Path, cl_call: Any, cl_run: Any, cl_service: Service
) -> None:
    async def go() -> None:
        cl_service.role = "learner"
        export = {"course": COURSE, "assignment": "hw1", "folder": "course"}
        for path, sent in (("rounds", OPEN), ("exports", export)):
            status, body = await cl_call("POST", f"cohortlab/reviews/{path}", sent)
            assert status == 403 and body["error"]["code"] == "instructor_only"
        assert not cl_service.seen("POST", "/uploads") and not cl_service.seen("GET", "/results")

    cl_run(go())


def test_only_the_servers_owner_may_use_the_jobs(
    cl_server: Path, cl_call: Any, cl_run: Any, jp_serverapp: Any
) -> None:
    async def go() -> None:
        jp_serverapp.web_app.settings["cohortlab"]["owner"] = "somebody-else"
        for method, path, body in [
            ("GET", "cohortlab/reviews/course", None),
            ("POST", "cohortlab/reviews/rounds", OPEN),
            ("POST", "cohortlab/reviews/exports", OPEN),
            ("GET", "cohortlab/reviews/jobs", None),
            ("GET", "cohortlab/reviews/jobs/abc", None),
        ]:
            status, answer = await cl_call(method, path, body)
            assert status == 403 and answer["error"]["code"] == "not_owner", path

    cl_run(go())


def test_export_is_a_job_that_writes_the_gradebook(
    cl_server: Path, cl_call: Any, cl_run: Any, cl_service: Service
) -> None:
    async def go() -> None:
        body = {"course": COURSE, "assignment": "hw1", "folder": "course"}
        cl_service.results["round"]["state"] = "open"
        status, answer = await cl_call("POST", "cohortlab/reviews/exports", body)
        assert status == 202
        failed = await finished(cl_call, answer["job"]["id"])
        assert failed["error"]["code"] == "export_refused"
        assert "still open; close it first" in failed["error"]["message"]
        cl_service.results["round"]["state"] = "closed"
        status, answer = await cl_call("POST", "cohortlab/reviews/exports", body)
        done = await finished(cl_call, answer["job"]["id"])
        assert done["state"] == "done", done
        assert done["result"]["written"] == 2 and done["kind"] == "export"
        assert done["lines"][-1].startswith("wrote 2 peer review score(s)")
        gradebook = f"sqlite:///{cl_server / 'course' / 'gradebook.db'}"
        assert grades(gradebook, ["ada"])["ada"][0] == 1.25
        status, answer = await cl_call("GET", "cohortlab/reviews/jobs/nope")
        assert status == 404 and answer["error"]["code"] == "unknown_job"

    cl_run(go())
