"""``cohortlab cohort team ...``, ``push-template`` and ``snapshots`` against a scripted fake
service: what each command sends, what it prints, and that the service's refusals end in
one line.

The fake answers each (method, path under the course) with a scripted status and body and
records every request; the service's own rules are tested in
``tests/integration/test_cohort_teams_api.py`` and ``test_cohort_files_api.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cohortlab.cli import CohortLabCLI, main
from cohortlab.cohort_cli import (
    ActivityApp,
    AddTeamMembersApp,
    ArchiveCohortApp,
    CohortApp,
    CreateTeamApp,
    DeleteTeamApp,
    ListTeamsApp,
    PushTemplateApp,
    RemoveTeamMembersApp,
    SnapshotsApp,
    TeamApp,
)
from tornado import web

from tests.helpers.threaded_server import serve_in_thread

COURSE = "demo101"
PREFIX = f"/services/cohortlab/api/v1/courses/{COURSE}/"


@dataclass
class Scripted:
    port: int = 0
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/cohortlab/"

    def on(self, method: str, path: str, status: int, body: Any) -> None:
        self.answers[(method, path)] = (status, body)

    def refuse(self, method: str, path: str, status: int, code: str, message: str) -> None:
        self.on(method, path, status, {"error": {"code": code, "message": message}})


class Handler(web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "POST", "PUT", "DELETE")

    def answer(self) -> None:
        state: Scripted = self.settings["state"]
        path = self.request.path.removeprefix(PREFIX)
        body = json.loads(self.request.body) if self.request.body else None
        state.requests.append((self.request.method or "", path, body))
        status, data = state.answers.get(
            (self.request.method or "", path),
            (404, {"error": {"code": "unscripted", "message": f"nothing at {path}"}}),
        )
        self.set_status(status)
        self.finish(data)

    get = post = put = delete = answer  # type: ignore[assignment]


@pytest.fixture
def cl_scripted() -> Iterator[Scripted]:
    state = Scripted()
    with serve_in_thread(lambda: web.Application([(r".*", Handler)], state=state)) as port:
        state.port = port
        yield state


APPS = (
    CohortLabCLI,
    CohortApp,
    TeamApp,
    ListTeamsApp,
    CreateTeamApp,
    DeleteTeamApp,
    AddTeamMembersApp,
    RemoveTeamMembersApp,
    PushTemplateApp,
)


@pytest.fixture
def cl_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Any:
    def run(service: Scripted, *args: str, apps: tuple[type, ...] = APPS) -> tuple[int, str, str]:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("COHORTLAB_TOKEN", "token")
        monkeypatch.setenv("COHORTLAB_SERVICE_URL", service.url)
        monkeypatch.setenv("COHORTLAB_COURSE", COURSE)
        monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
        capsys.readouterr()
        code = 0
        try:
            main(["cohort", *args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        finally:
            for app in apps:
                app.clear_instance()
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def team(name: str, members: list[str]) -> dict[str, Any]:
    group = f"team-{COURSE}-red-{name}"
    return {"course": COURSE, "cohort": "red", "name": name, "group": group, "members": members}


def test_team_create_list_and_delete_send_the_right_calls(
    cl_run: Any, cl_scripted: Scripted
) -> None:
    cl_scripted.on("POST", "cohorts/red/teams", 201, {"team": team("a", ["ada", "ben"])})
    cl_scripted.on(
        "GET", "cohorts/red/teams", 200, {"teams": [team("a", ["ada", "ben"]), team("b", [])]}
    )
    cl_scripted.on("DELETE", "cohorts/red/teams/a", 200, {"team": team("a", [])})
    code, out, err = cl_run(cl_scripted, "team", "create", "red", "a", "ada", "ben")
    assert code == 0, err
    assert out.strip() == "created team a in cohort red: members ada, ben"
    assert cl_scripted.requests[-1] == (
        "POST",
        "cohorts/red/teams",
        {"name": "a", "members": ["ada", "ben"]},
    )
    code, out, _ = cl_run(cl_scripted, "team", "list", "red")
    assert out.splitlines() == ["a\tada, ben", "b\tnone"]
    code, out, _ = cl_run(cl_scripted, "team", "delete", "red", "a")
    assert code == 0 and out.startswith("deleted team a of cohort red")


def test_team_add_and_remove_each_person(cl_run: Any, cl_scripted: Scripted) -> None:
    path = "cohorts/red/teams/a/members/"
    cl_scripted.on("PUT", path + "ada", 201, {"team": team("a", ["ada"]), "changed": True})
    cl_scripted.on("PUT", path + "ben", 200, {"team": team("a", ["ada", "ben"]), "changed": False})
    cl_scripted.on("DELETE", path + "ada", 200, {"team": team("a", ["ben"]), "changed": True})
    code, out, err = cl_run(cl_scripted, "team", "add", "red", "a", "ada", "ben")
    assert (code, out.splitlines()) == (0, ["added ada to team a", "ben was already in a"]), err
    code, out, _ = cl_run(cl_scripted, "team", "remove", "red", "a", "ada")
    assert out.strip() == "removed ada from team a"


@pytest.mark.parametrize(
    ("args", "method", "path"),
    [
        (("team", "create", "red", "a"), "POST", "cohorts/red/teams"),
        (("team", "delete", "red", "a"), "DELETE", "cohorts/red/teams/a"),
        (("team", "add", "red", "a", "ada"), "PUT", "cohorts/red/teams/a/members/ada"),
        (("team", "remove", "red", "a", "ada"), "DELETE", "cohorts/red/teams/a/members/ada"),
    ],
)
def test_a_learners_team_change_is_refused_in_one_line(
    cl_run: Any, cl_scripted: Scripted, args: tuple[str, ...], method: str, path: str
) -> None:
    message = "Only the course's instructors can change team members."
    cl_scripted.refuse(method, path, 403, "instructor_only", message)
    code, out, err = cl_run(cl_scripted, *args)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [f"cohortlab: {message}"]


def test_a_member_from_outside_the_cohort_is_the_services_message(
    cl_run: Any, cl_scripted: Scripted
) -> None:
    message = "dee is not in cohort 'red'; a team's members must be members of its cohort."
    cl_scripted.refuse(
        "PUT", "cohorts/red/teams/a/members/dee", 422, "not_a_cohort_member", message
    )
    code, _out, err = cl_run(cl_scripted, "team", "add", "red", "a", "dee")
    assert (code, err.strip()) == (1, f"cohortlab: {message}")


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (("team", "list"), "usage: cohortlab cohort team list COHORT"),
        (("team", "add", "red", "a"), "usage: cohortlab cohort team add COHORT TEAM USER"),
        (("team", "delete", "red"), "usage: cohortlab cohort team delete COHORT TEAM"),
    ],
)
def test_wrong_team_arguments_say_the_usage(
    cl_run: Any, cl_scripted: Scripted, args: tuple[str, ...], usage: str
) -> None:
    code, _out, err = cl_run(cl_scripted, *args)
    assert code == 1 and usage in err and cl_scripted.requests == []


# --- push-template -----------------------------------------------------------------------


def cohort(name: str, archived: bool = False) -> dict[str, Any]:
    return {"name": name, "archived": archived}


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "week1.ipynb"
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Week 1"}]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def test_push_template_reports_each_active_cohort_as_it_goes(
    cl_run: Any, cl_scripted: Scripted, notebook: Path
) -> None:
    cl_scripted.on(
        "GET", "cohorts", 200, {"cohorts": [cohort("blue"), cohort("old", True), cohort("red")]}
    )
    written = {"status": "written", "path": "week1.ipynb", "message": "written as week1.ipynb"}
    answer = {"name": "week1.ipynb", "results": [{"cohort": "x", **written}]}
    cl_scripted.on("POST", "cohort-templates", 200, answer)
    code, out, err = cl_run(cl_scripted, "push-template", str(notebook))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "[1/2] blue: written: written as week1.ipynb"
    assert lines[1].startswith("[2/2] red: written")
    assert lines[2] == f"week1.ipynb into 2 cohort(s) of {COURSE}: 2 written"
    pushes = [r for r in cl_scripted.requests if r[0] == "POST"]
    assert [r[2]["cohorts"] for r in pushes] == [["blue"], ["red"]]
    assert pushes[0][2]["name"] == "week1.ipynb" and pushes[0][2]["on_conflict"] == "rename"
    assert pushes[0][2]["notebook"]["cells"][0]["source"] == "# Week 1"


def test_push_template_with_refuse_and_a_name_exits_1_when_a_cohort_refused(
    cl_run: Any, cl_scripted: Scripted, notebook: Path
) -> None:
    cl_scripted.on("GET", "cohorts", 200, {"cohorts": [cohort("red")]})
    cl_scripted.on("POST", "cohort-templates", 200, {"name": "w.ipynb", "results": [
        {"cohort": "red", "status": "refused", "path": "w.ipynb",
         "message": "w.ipynb already exists in its workspace; nothing written"}
    ]})  # fmt: skip
    args = ("push-template", str(notebook), "--name", "w.ipynb", "--on-conflict", "refuse")
    code, out, err = cl_run(cl_scripted, *args)
    assert code == 1
    assert "[1/1] red: refused: w.ipynb already exists" in out
    assert "did not get the template" in err
    body = cl_scripted.requests[-1][2]
    assert (body["name"], body["on_conflict"]) == ("w.ipynb", "refuse")


def test_a_learners_push_is_refused_in_one_line(
    cl_run: Any, cl_scripted: Scripted, notebook: Path
) -> None:
    message = "Only the course's instructors can push templates into cohort workspaces."
    cl_scripted.on("GET", "cohorts", 200, {"cohorts": [cohort("red")]})
    cl_scripted.refuse("POST", "cohort-templates", 403, "instructor_only", message)
    code, out, err = cl_run(cl_scripted, "push-template", str(notebook))
    assert code == 1 and err.strip() == f"cohortlab: {message}"
    assert out.strip() == "[1/1] red: not pushed"


def test_an_unreadable_notebook_is_one_line_before_any_call(
    cl_run: Any, cl_scripted: Scripted, tmp_path: Path
) -> None:
    code, _out, err = cl_run(cl_scripted, "push-template", str(tmp_path / "missing.ipynb"))
    assert code == 1 and "cannot read" in err and cl_scripted.requests == []


# --- archive and snapshots ---------------------------------------------------------------

SNAP = {
    "id": 7,
    "course": COURSE,
    "cohort": "red",
    "taken_at": "2026-12-02T10:00:00Z",
    "taken_by": "instructor",
    "members": ["ada"],
    "file_count": 2,
    "total_bytes": 120,
    "skipped": [{"path": "big.bin", "reason": "larger than 20 MB"}],
}


def test_archive_reports_the_snapshot_it_kept(cl_run: Any, cl_scripted: Scripted) -> None:
    answer = {"cohort": {}, "server_stopped": True, "snapshot": SNAP, "snapshot_created": True}
    cl_scripted.on("POST", "cohorts/red/archive", 200, answer)
    code, out, err = cl_run(cl_scripted, "archive", "red", apps=(*APPS, ArchiveCohortApp))
    assert code == 0, err
    assert out.splitlines() == [
        "archived red: nobody has access to its workspace; the server is stopped",
        "snapshot 7 kept: 2 file(s), 120 bytes; see `cohortlab cohort snapshots red`",
        "  left out big.bin: larger than 20 MB",
    ]
    assert cl_scripted.requests[-1] == ("POST", "cohorts/red/archive", None)


def test_archive_without_a_snapshot_says_so_to_the_service(
    cl_run: Any, cl_scripted: Scripted
) -> None:
    answer = {"cohort": {}, "server_stopped": True, "snapshot": None, "snapshot_created": False}
    cl_scripted.on("POST", "cohorts/red/archive", 200, answer)
    args = ("archive", "red", "--no-snapshot")
    code, out, _ = cl_run(cl_scripted, *args, apps=(*APPS, ArchiveCohortApp))
    assert code == 0 and "snapshot" not in out
    assert cl_scripted.requests[-1][2] == {"snapshot": False}


def test_snapshots_lists_and_shows_files_with_their_read_only_view(
    cl_run: Any, cl_scripted: Scripted
) -> None:
    cl_scripted.on("GET", "cohorts/red/snapshots", 200, {"snapshots": [SNAP]})
    files = [
        {"path": "notes.ipynb", "kind": "notebook", "format": "json", "size": 100},
        {"path": "sub/img.png", "kind": "file", "format": "base64", "size": 20},
    ]
    cl_scripted.on("GET", "cohorts/red/snapshots/7", 200, {"snapshot": {**SNAP, "files": files}})
    apps = (*APPS, SnapshotsApp)
    code, out, err = cl_run(cl_scripted, "snapshots", "red", apps=apps)
    assert (code, out.strip()) == (0, "7\t2026-12-02T10:00:00Z\t2 file(s)\tby instructor"), err
    code, out, _ = cl_run(cl_scripted, "snapshots", "red", "7", apps=apps)
    lines = out.splitlines()
    assert lines[1] == (
        "notes.ipynb\t100 bytes\t/services/cohortlab/api/v1/courses/demo101/cohorts/red/"
        "snapshots/7/view/notes.ipynb"
    )
    assert lines[2] == "sub/img.png\t20 bytes"


def test_a_learner_of_another_cohort_gets_the_services_404(
    cl_run: Any, cl_scripted: Scripted
) -> None:
    message = "Course demo101 has no cohort 'red'."
    cl_scripted.refuse("GET", "cohorts/red/snapshots", 404, "unknown_cohort", message)
    code, _out, err = cl_run(cl_scripted, "snapshots", "red", apps=(*APPS, SnapshotsApp))
    assert (code, err.strip()) == (1, f"cohortlab: {message}")


def test_activity_prints_each_members_edits_and_runs(cl_run: Any, cl_scripted: Scripted) -> None:
    ada = {
        "name": "ada",
        "role": "learner",
        "edits": 5,
        "runs": 2,
        "last_at": "2026-12-02T10:00:00+00:00",
        "notebooks": {"together.ipynb": {"edits": 5, "runs": 2}},
    }
    ben = {
        "name": "ben",
        "role": "learner",
        "edits": 0,
        "runs": 0,
        "last_at": None,
        "notebooks": {},
    }
    body = {"course": COURSE, "cohort": "red", "members": [ada, ben]}
    cl_scripted.on("GET", "cohorts/red/activity", 200, body)
    code, out, err = cl_run(cl_scripted, "activity", "red", apps=(*APPS, ActivityApp))
    assert code == 0, err
    assert out.splitlines()[1:] == [
        "ada\t5 edit(s)\t2 run(s)\tlast 2026-12-02T10:00:00+00:00",
        "  together.ipynb\t5 edit(s)\t2 run(s)",
        "ben\t0 edit(s)\t0 run(s)\tlast never",
    ]


def test_activity_refused_to_a_learner_ends_in_the_services_message(
    cl_run: Any, cl_scripted: Scripted
) -> None:
    message = "Only instructors can see who contributed what in a cohort workspace."
    cl_scripted.refuse("GET", "cohorts/red/activity", 403, "instructor_only", message)
    code, _out, err = cl_run(cl_scripted, "activity", "red", apps=(*APPS, ActivityApp))
    assert code != 0 and message in err
