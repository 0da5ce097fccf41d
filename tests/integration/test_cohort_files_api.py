"""Files into and out of cohort workspaces through the real hub and the workspaces' own
servers: template pushes (docs/cohorts.md "Templates").

The service reaches each workspace's contents API through the proxy with a short-lived
token of the workspace account, starting servers on demand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import nbformat
import pytest
import requests

from tests.helpers.cohorts import Course, course_with_people
from tests.helpers.hub import Hub

TEMPLATE = dict(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Week 1")]))


@pytest.fixture(scope="module")
def course(cl_hub: Hub) -> Iterator[Course]:
    with course_with_people(cl_hub) as c:
        yield c


@pytest.fixture(scope="module")
def cohorts(course: Course) -> tuple[dict, dict]:
    """red (ann, bob) with its server running, blue (cat) stopped."""
    red = course.create([f"{course.prefix}-ann", f"{course.prefix}-bob"])
    blue = course.create([f"{course.prefix}-cat"])
    course.hub.start_server(red["account"])
    return red, blue


def read(course: Course, account: str, who: str, path: str) -> dict | None:
    resp = course.hub.api(
        "GET",
        f"/user/{account}/api/contents/{path}",
        course.hub.token_for(f"{course.prefix}-{who}"),
    )
    return resp.json() if resp.status_code == 200 else None


def push(course: Course, **body: object) -> dict[str, dict]:
    body = {"name": "week1.ipynb", "notebook": TEMPLATE, **body}
    result = course.teach.ok("POST", f"courses/{course.id}/cohort-templates", body)
    return {r["cohort"]: r for r in result["results"]}


def test_a_template_reaches_every_active_cohort_and_never_replaces_work(
    course: Course, cohorts: tuple[dict, dict]
) -> None:
    red, blue = cohorts
    first = push(course)
    assert {n: r["status"] for n, r in first.items()} == {
        red["name"]: "written",
        blue["name"]: "written",
    }
    assert course.server(blue["account"])  # started on demand
    for cohort, who in ((red, "ann"), (blue, "cat")):
        saved = read(course, cohort["account"], who, "week1.ipynb")
        assert saved and saved["content"]["cells"][0]["source"] == "# Week 1"
    # Pushing again changes nothing anywhere.
    again = push(course)
    assert {r["status"] for r in again.values()} == {"unchanged"}
    # ann changes the notebook: the next push keeps her work and takes a new name.
    mine = dict(TEMPLATE, cells=[nbformat.v4.new_markdown_cell("# our notes")])
    model = {"type": "notebook", "format": "json", "content": mine}
    token = course.hub.token_for(f"{course.prefix}-ann")
    url = f"/user/{red['account']}/api/contents/week1.ipynb"
    assert course.hub.api("PUT", url, token, data=json.dumps(model)).status_code == 200
    refused = push(course, on_conflict="refuse", cohorts=[red["name"]])
    assert (refused[red["name"]]["status"], refused[red["name"]]["path"]) == (
        "refused",
        "week1.ipynb",
    )
    renamed = push(course, cohorts=[red["name"]])[red["name"]]
    assert (renamed["status"], renamed["path"]) == ("renamed", "week1 (2).ipynb")
    kept = read(course, red["account"], "ann", "week1.ipynb")
    assert kept and kept["content"]["cells"][0]["source"] == "# our notes"
    assert read(course, red["account"], "bob", "week1 (2).ipynb")


def test_archived_cohorts_get_no_template(course: Course) -> None:
    old = course.create([f"{course.prefix}-dan"])
    course.teach.ok("POST", course.path(old["name"], "archive"))
    assert old["name"] not in push(course)
    named = push(course, cohorts=[old["name"]])[old["name"]]
    assert named["status"] == "failed" and "archived" in named["message"]


@pytest.mark.parametrize("who", ["ann", "ment", "out"])
def test_only_instructors_push_templates(
    course: Course, cohorts: tuple[dict, dict], who: str
) -> None:
    body = {"name": "evil.ipynb", "notebook": TEMPLATE}
    code = course.person(who).refused(403, "POST", f"courses/{course.id}/cohort-templates", body)
    assert code == ("not_in_course" if who == "out" else "instructor_only")
    assert read(course, cohorts[0]["account"], "ann", "evil.ipynb") is None


def test_bad_pushes_are_clear_4xx(course: Course, cohorts: tuple[dict, dict]) -> None:
    path = f"courses/{course.id}/cohort-templates"
    cases = [
        (400, {"name": "a/b.ipynb", "notebook": TEMPLATE}, "invalid_name"),
        (400, {"name": "b.ipynb", "notebook": {"cells": 1}}, "invalid_notebook"),
        (404, {"name": "b.ipynb", "notebook": TEMPLATE, "cohorts": ["no-such"]}, "unknown_cohort"),
    ]
    for status, body, code in cases:
        assert course.teach.refused(status, "POST", path, body) == code
    no_course = "courses/no-such-course/cohort-templates"
    assert course.teach.refused(404, "POST", no_course, {"name": "b.ipynb"}) == "unknown_course"


# --- archive snapshots -------------------------------------------------------------------


def put_file(course: Course, account: str, who: str, path: str, model: dict) -> None:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    url = f"/user/{account}/api/contents/{path}"
    resp = course.hub.api("PUT", url, token, data=json.dumps(model))
    assert resp.status_code in (200, 201), resp.text


NASTY = "# Our notes <script>alert('x')</script> <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def archived(course: Course) -> tuple[dict, dict]:
    """A cohort of ann and bob whose workspace held files, archived: (cohort, result)."""
    cohort = course.create([f"{course.prefix}-ann", f"{course.prefix}-bob"])
    account = cohort["account"]
    course.hub.start_server(account)
    notebook = dict(TEMPLATE, cells=[nbformat.v4.new_markdown_cell(NASTY)])
    put_file(course, account, "ann", "notes.ipynb", {"type": "notebook", "content": notebook})
    put_file(course, account, "bob", "sub", {"type": "directory"})
    text = {"type": "file", "format": "text", "content": "plain text\n"}
    put_file(course, account, "bob", "sub/data.txt", text)
    result = course.teach.ok("POST", course.path(cohort["name"], "archive"))
    return cohort, result


def test_archive_keeps_a_snapshot_of_the_workspace_then_stops_it(
    course: Course, archived: tuple[dict, dict]
) -> None:
    cohort, result = archived
    assert result["server_stopped"] is True and course.server(cohort["account"]) == {}
    assert result["snapshot_created"] is True
    snap = result["snapshot"]
    assert snap["members"] == [f"{course.prefix}-ann", f"{course.prefix}-bob"]
    assert snap["taken_by"] == f"{course.prefix}-teach"
    detail = course.teach.ok("GET", course.path(cohort["name"], "snapshots", str(snap["id"])))
    paths = {f["path"]: f for f in detail["snapshot"]["files"]}
    assert {"notes.ipynb", "sub/data.txt"} <= set(paths)
    assert (paths["notes.ipynb"]["kind"], paths["sub/data.txt"]["format"]) == ("notebook", "text")


def test_archiving_again_keeps_the_one_snapshot(
    course: Course, archived: tuple[dict, dict]
) -> None:
    cohort, first = archived
    again = course.teach.ok("POST", course.path(cohort["name"], "archive"))
    assert (again["snapshot"]["id"], again["snapshot_created"]) == (first["snapshot"]["id"], False)
    listed = course.teach.ok("GET", course.path(cohort["name"], "snapshots"))["snapshots"]
    assert [s["id"] for s in listed] == [first["snapshot"]["id"]]


def test_former_members_and_staff_read_the_snapshot_and_nobody_else(
    course: Course, archived: tuple[dict, dict], cohorts: tuple[dict, dict]
) -> None:
    cohort, result = archived
    sid = str(result["snapshot"]["id"])
    base = course.path(cohort["name"], "snapshots")
    file_path = f"{base}/{sid}/files/sub/data.txt"
    for who in ("ann", "bob", "ment", "teach"):
        person = course.person(who)
        assert [s["id"] for s in person.ok("GET", base)["snapshots"]] == [int(sid)]
        assert person.ok("GET", file_path)["file"]["content"] == "plain text\n"
    nb = course.person("ann").ok("GET", f"{base}/{sid}/files/notes.ipynb")["file"]
    assert nb["content"]["cells"][0]["source"] == NASTY
    for method_path in (base, f"{base}/{sid}", file_path, f"{base}/{sid}/view/notes.ipynb"):
        assert course.person("cat").refused(404, "GET", method_path) == "unknown_cohort"
        assert course.person("out").refused(403, "GET", method_path) == "not_in_course"
    assert course.teach.refused(404, "GET", f"{base}/999999") == "unknown_snapshot"
    assert course.teach.refused(404, "GET", f"{base}/{sid}/files/nope.txt") == "unknown_file"


def test_the_read_only_view_is_sanitized_and_runs_no_script(
    course: Course, archived: tuple[dict, dict]
) -> None:
    cohort, result = archived
    path = course.path(cohort["name"], "snapshots", str(result["snapshot"]["id"]), "view")
    resp = course.person("bob").call("GET", f"{path}/notes.ipynb")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    csp = resp.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox;") and "script-src" not in csp and "default-src 'none'" in csp
    assert "Read-only copy" in resp.text
    assert "<script>alert" not in resp.text and "onerror=alert" not in resp.text.replace(
        "&lt;img src=x onerror=alert(1)&gt;", ""
    )
    text = course.person("bob").call("GET", f"{path}/sub/data.txt")
    assert text.status_code == 200 and "plain text" in text.text
    # A browser without a CohortLab session is sent to sign in, not shown an error.
    anonymous = requests.get(
        course.hub.at(f"/services/cohortlab/api/v1/{path}/notes.ipynb"),
        allow_redirects=False,
        timeout=10,
    )
    assert (
        anonymous.status_code == 302
        and "/hub/api/oauth2/authorize" in (anonymous.headers["Location"])
    )


def test_a_stopped_workspace_is_started_for_its_snapshot(course: Course) -> None:
    cohort = course.create([f"{course.prefix}-dan"])
    assert course.server(cohort["account"]) == {}
    result = course.teach.ok("POST", course.path(cohort["name"], "archive"))
    assert result["snapshot_created"] is True and result["server_stopped"] is True
    assert course.server(cohort["account"]) == {}
    bare = course.create([f"{course.prefix}-dan"])
    skipped = course.teach.ok("POST", course.path(bare["name"], "archive"), {"snapshot": False})
    assert skipped["snapshot"] is None
    assert course.teach.ok("GET", course.path(bare["name"], "snapshots"))["snapshots"] == []
