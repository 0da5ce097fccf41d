"""``cohortlab cohort ...`` run as an instructor runs it, against a small fake service.

The fake is a Tornado app on 127.0.0.1 in a thread of its own speaking the cohort API's
contract (docs/cohorts.md): the routes, the bodies and the one error shape. The commands
run in this process through ``cohortlab``'s entry point, so exit codes and output are
what a person sees. The real service is exercised by
``tests/integration/test_cohorts_api.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cohortlab.cli import CohortLabCLI, main
from cohortlab.cohort_cli import (
    AddMembersApp,
    ArchiveCohortApp,
    CohortApp,
    CreateCohortApp,
    ListCohortsApp,
    RemoveMembersApp,
    SyncCohortApp,
)
from tornado import web

from tests.helpers.threaded_server import serve_in_thread

COURSE = "demo101"
INSTRUCTOR_TOKEN = "instructor-token"
LEARNER_TOKEN = "learner-token"
LEARNERS = {"ada", "ben", "cy"}


@dataclass
class FakeService:
    port: int = 0
    cohorts: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/cohortlab/"

    def add(self, name: str, members: list[str], archived: bool = False) -> None:
        self.cohorts[name] = {
            "course": COURSE,
            "name": name,
            "group": f"cohort-{COURSE}-{name}",
            "account": f"cohort-{COURSE}-{name}",
            "workspace_url": f"/user/cohort-{COURSE}-{name}/",
            "archived": archived,
            "members": sorted(members),
            "staff": ["instructor"],
        }


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


class FakeHandler(web.RequestHandler):
    @property
    def state(self) -> FakeService:
        return self.settings["state"]

    def prepare(self) -> None:
        token = self.request.headers.get("Authorization", "").removeprefix("token ")
        if token not in (INSTRUCTOR_TOKEN, LEARNER_TOKEN):
            self.fail(Refused(401, "not_authenticated", "Invalid or expired hub token."))
            return
        self.instructor = token == INSTRUCTOR_TOKEN
        body = json.loads(self.request.body) if self.request.body else None
        self.state.requests.append((self.request.method or "", self.request.path, body))

    def fail(self, e: Refused) -> None:
        self.set_status(e.status)
        self.finish({"error": {"code": e.code, "message": e.message}})

    def cohort(self, course: str, name: str) -> dict[str, Any]:
        if course != COURSE:
            raise Refused(404, "unknown_course", f"JupyterHub has no course {course!r}.")
        if name not in self.state.cohorts:
            raise Refused(404, "unknown_cohort", f"Course {course} has no cohort {name!r}.")
        return self.state.cohorts[name]

    def instructor_only(self) -> None:
        if not self.instructor:
            raise Refused(403, "instructor_only", f"Only instructors of {COURSE} can do this.")

    def _handle(self, work: Any, *args: str) -> None:
        try:
            status, data = work(*args)
        except Refused as e:
            self.fail(e)
            return
        self.set_status(status)
        self.finish(data)


class ListHandler(FakeHandler):
    def get(self, course: str) -> None:
        self._handle(lambda: (200, {"cohorts": sorted(self.state.cohorts.values(),
                                                      key=lambda c: c["name"])}))  # fmt: skip

    def post(self, course: str) -> None:
        def work() -> tuple[int, dict[str, Any]]:
            self.instructor_only()
            body = json.loads(self.request.body)
            if body["name"] in self.state.cohorts:
                raise Refused(409, "cohort_exists", f"Course {course} already has a cohort.")
            unknown = [m for m in body["members"] if m not in LEARNERS]
            if unknown:
                raise Refused(404, "unknown_user", f"JupyterHub has no user {unknown[0]!r}.")
            self.state.add(body["name"], body["members"])
            return 201, {"cohort": self.state.cohorts[body["name"]]}

        self._handle(work)


class ItemHandler(FakeHandler):
    def get(self, course: str, cohort: str) -> None:
        def work() -> tuple[int, dict[str, Any]]:
            data = dict(self.cohort(course, cohort))
            if self.instructor:
                data["access"] = sorted([*data["members"], "instructor"])
            return 200, {"cohort": data}

        self._handle(work)


class MemberHandler(FakeHandler):
    def put(self, course: str, cohort: str, user: str) -> None:
        def work() -> tuple[int, dict[str, Any]]:
            self.instructor_only()
            data = self.cohort(course, cohort)
            if user not in LEARNERS:
                raise Refused(404, "unknown_user", f"JupyterHub has no user {user!r}.")
            added = user not in data["members"]
            data["members"] = sorted({*data["members"], user})
            return (201 if added else 200), {"cohort": data, "added": added}

        self._handle(work)

    def delete(self, course: str, cohort: str, user: str) -> None:
        def work() -> tuple[int, dict[str, Any]]:
            self.instructor_only()
            data = self.cohort(course, cohort)
            if user == "instructor":
                raise Refused(409, "instructor_keeps_access", "Instructors keep access.")
            if user not in data["members"]:
                raise Refused(404, "not_a_member", f"{user} is not a member of {cohort!r}.")
            data["members"].remove(user)
            return 200, {"cohort": data}

        self._handle(work)


class ArchiveHandler(FakeHandler):
    def post(self, course: str, cohort: str) -> None:
        def work() -> tuple[int, dict[str, Any]]:
            self.instructor_only()
            data = self.cohort(course, cohort)
            data["archived"] = True
            return 200, {"cohort": data, "server_stopped": True}

        self._handle(work)


class SyncHandler(FakeHandler):
    def post(self, course: str, cohort: str) -> None:
        def work() -> tuple[int, dict[str, Any]]:
            self.instructor_only()
            data = self.cohort(course, cohort)
            granted = ["cy"] if cohort == "drifted" else []
            return 200, {
                "cohort": data,
                "granted": granted,
                "revoked": [],
                "created_account": False,
            }

        self._handle(work)


@contextmanager
def serving() -> Iterator[FakeService]:
    state = FakeService()

    def app() -> web.Application:
        base = r"/services/cohortlab/api/v1/courses/(?P<course>[^/]+)/cohorts"
        one = rf"{base}/(?P<cohort>[^/]+)"
        return web.Application(
            [
                (base, ListHandler),
                (one, ItemHandler),
                (rf"{one}/members/(?P<user>[^/]+)", MemberHandler),
                (rf"{one}/archive", ArchiveHandler),
                (rf"{one}/sync", SyncHandler),
            ],
            state=state,
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


APPS = (
    CohortLabCLI,
    CohortApp,
    ListCohortsApp,
    CreateCohortApp,
    AddMembersApp,
    RemoveMembersApp,
    ArchiveCohortApp,
    SyncCohortApp,
)


@pytest.fixture
def cl_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Any:
    """Run ``cohortlab cohort <args>`` in this process, as the entry point runs it."""

    def run(
        service: FakeService | None,
        *args: str,
        token: str = INSTRUCTOR_TOKEN,
        course: str | None = COURSE,
    ) -> Run:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("COHORTLAB_TOKEN", token)
        monkeypatch.setenv(
            "COHORTLAB_SERVICE_URL", service.url if service else "http://127.0.0.1:9/nothing/"
        )
        if course is None:
            monkeypatch.delenv("COHORTLAB_COURSE", raising=False)
        else:
            monkeypatch.setenv("COHORTLAB_COURSE", course)
        monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
        capsys.readouterr()
        code = 0
        try:
            main(["cohort", *args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            for app in APPS:
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


def test_create_sends_the_name_and_members_and_reports_the_workspace(
    cl_cli: Any, cl_fake_service: FakeService
) -> None:
    result = cl_cli(cl_fake_service, "create", "red", "ada", "ben")
    assert result.returncode == 0, result.stderr
    assert cl_fake_service.requests == [
        (
            "POST",
            f"/services/cohortlab/api/v1/courses/{COURSE}/cohorts",
            {"name": "red", "members": ["ada", "ben"]},
        )
    ]
    assert "created cohort red in demo101" in result.stdout
    assert "/user/cohort-demo101-red/" in result.stdout
    assert "ada, ben" in result.stdout


def test_list_shows_every_visible_cohort_and_one_in_detail(
    cl_cli: Any, cl_fake_service: FakeService
) -> None:
    cl_fake_service.add("red", ["ada", "ben"])
    cl_fake_service.add("blue", ["cy"], archived=True)
    listed = cl_cli(cl_fake_service, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert lines[0].startswith("blue\t1 member(s)") and lines[0].endswith("archived")
    assert lines[1].startswith("red\t2 member(s)")
    detail = cl_cli(cl_fake_service, "list", "red")
    assert "members    ada, ben" in detail.stdout
    assert "access     ada, ben, instructor" in detail.stdout
    as_json = cl_cli(cl_fake_service, "list", "--json")
    assert [c["name"] for c in json.loads(as_json.stdout)] == ["blue", "red"]


def test_add_and_remove_each_person_and_say_what_happened(
    cl_cli: Any, cl_fake_service: FakeService
) -> None:
    cl_fake_service.add("red", ["ada"])
    added = cl_cli(cl_fake_service, "add", "red", "ben", "ada")
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == ["added ben to red", "ada was already in red"]
    removed = cl_cli(cl_fake_service, "remove", "red", "ben")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("removed ben from red")
    assert "auth cache" in removed.stdout
    assert cl_fake_service.cohorts["red"]["members"] == ["ada"]


def test_a_refusal_midway_keeps_what_was_done_and_ends_in_one_line(
    cl_cli: Any, cl_fake_service: FakeService
) -> None:
    cl_fake_service.add("red", ["ada"])
    result = cl_cli(cl_fake_service, "add", "red", "ben", "ghost", "cy")
    assert result.stdout.splitlines() == ["added ben to red"]
    assert one_line_error(result) == "cohortlab: JupyterHub has no user 'ghost'."
    assert cl_fake_service.cohorts["red"]["members"] == ["ada", "ben"]


def test_archive_and_sync_report_their_outcome(cl_cli: Any, cl_fake_service: FakeService) -> None:
    cl_fake_service.add("red", ["ada"])
    cl_fake_service.add("drifted", ["ada", "cy"])
    archived = cl_cli(cl_fake_service, "archive", "red")
    assert archived.stdout.strip() == (
        "archived red: nobody has access to its workspace; the server is stopped"
    )
    assert cl_cli(cl_fake_service, "sync", "red").stdout.strip() == (
        "red: workspace access already matches its members"
    )
    assert cl_cli(cl_fake_service, "sync", "drifted").stdout.strip() == (
        "drifted: granted cy; revoked none"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "red"), "cohortlab: Course demo101 already has a cohort."),
        (("remove", "red", "instructor"), "cohortlab: Instructors keep access."),
        (("remove", "red", "cy"), "cohortlab: cy is not a member of 'red'."),
        (("archive", "green"), "cohortlab: Course demo101 has no cohort 'green'."),
    ],
)
def test_the_services_refusals_are_one_line_with_its_message(
    cl_cli: Any, cl_fake_service: FakeService, args: tuple[str, ...], message: str
) -> None:
    cl_fake_service.add("red", ["ada"])
    assert one_line_error(cl_cli(cl_fake_service, *args)) == message


@pytest.mark.parametrize(
    "args",
    [
        ("create", "blue"),
        ("add", "red", "ben"),
        ("remove", "red", "ada"),
        ("archive", "red"),
        ("sync", "red"),
    ],
)
def test_a_learner_is_refused_every_change(
    cl_cli: Any, cl_fake_service: FakeService, args: tuple[str, ...]
) -> None:
    cl_fake_service.add("red", ["ada"])
    error = one_line_error(cl_cli(cl_fake_service, *args, token=LEARNER_TOKEN))
    assert "Only instructors" in error
    assert cl_fake_service.cohorts["red"] == {**cl_fake_service.cohorts["red"], "archived": False}
    assert cl_fake_service.cohorts["red"]["members"] == ["ada"]
    assert "blue" not in cl_fake_service.cohorts


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("create",), "usage: cohortlab cohort create NAME [USER ...]"),
        (("add", "red"), "usage: cohortlab cohort add NAME USER [USER ...]"),
        (("archive",), "usage: cohortlab cohort archive NAME"),
        (("list", "a", "b"), "usage: cohortlab cohort list [NAME]"),
    ],
)
def test_wrong_arguments_say_the_usage_without_calling_the_service(
    cl_cli: Any, cl_fake_service: FakeService, args: tuple[str, ...], expected: str
) -> None:
    assert expected in one_line_error(cl_cli(cl_fake_service, *args))
    assert cl_fake_service.requests == []


def test_no_course_and_no_service_are_one_line_errors(cl_cli: Any) -> None:
    assert "could not be reached" in one_line_error(cl_cli(None, "list"))
    assert "--course" in one_line_error(cl_cli(None, "list", course=None))
    explicit = cl_cli(None, "list", "--course", "stats", course=None)
    assert "could not be reached" in one_line_error(explicit)


def test_odd_names_are_quoted_into_one_path_segment(
    cl_cli: Any, cl_fake_service: FakeService
) -> None:
    result = cl_cli(cl_fake_service, "archive", "../../x")
    assert "has no cohort '../../x'" in one_line_error(result)
    assert cl_fake_service.requests[0][1].endswith("/cohorts/..%2F..%2Fx/archive")
