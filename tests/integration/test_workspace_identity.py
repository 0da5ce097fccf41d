"""Identity inside a cohort workspace, against the real hub: the workspace's shared account
is refused by the service, its relay refuses, its kernels hold no hub token, and what each
member does (edits over the collaboration WebSocket, runs over the kernel WebSocket) is
attributed to that member, and contribution counts are taken from the workspace server
alone (tests/security/test_workspace_members.py tries to inflate them as a member).

A course, people and cohorts of its own (unique names), removed at the end, as in
``test_cohort_workspace.py`` whose helpers it uses.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cohortlab.cohorts.hubhooks import WORKSPACE_STATE_ROOT
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.collab import NotebookClient
from tests.helpers.waiting import wait_until
from tests.integration.test_cohort_workspace import NOTEBOOK, Course, _pids_of


@pytest.fixture(scope="module")
def cohort(course: Course) -> dict:
    cohort = course.create(["ann", "bob"])
    status, body = course.open("ann", cohort)
    assert status == 200, body
    return cohort


@pytest.fixture(scope="module")
def other(course: Course) -> dict:
    return course.create(["cat"])


@pytest.fixture(scope="module")
def notebook(course: Course, cohort: dict) -> str:
    path = f"attributed-{secrets.token_hex(2)}.ipynb"
    status = course.at_workspace(
        "ann",
        "PUT",
        cohort["account"],
        f"api/contents/{path}",
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
    )
    assert status == 201
    return path


def account_token(account: str) -> str:
    """The workspace server's own hub token, as any code running as the account can read it."""
    for pid in _pids_of(account):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in environ:
            if entry.startswith(b"JUPYTERHUB_API_TOKEN="):
                return entry.split(b"=", 1)[1].decode()
    raise AssertionError(f"no process of {account} holds a hub token")


def workspace_info(course: Course, cohort: dict, who: str, path: str = "") -> dict:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    resp = course.hub.api(
        "GET", f"/user/{cohort['account']}/cohortlab/workspace", token, params={"path": path}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def saved_record(account: str, path: str) -> dict:
    """Cell id -> record, for one notebook, as the workspace server last saved them
    (``cohortlab.workspace_server.app.WorkspaceExtension.record_path``)."""
    state = WORKSPACE_STATE_ROOT / account  # the server's state folder, outside the home
    store = state / "data" / "cohortlab" / "workspace-attribution.json"
    keys = ("edited_by", "edited_at", "run_by", "run_at")
    return {
        entry["cell"]: {key: entry.get(key) for key in keys}
        for entry in json.loads(store.read_text())["cells"]
        if entry["path"] == path
    }


def activity(course: Course, cohort: dict) -> str:
    return course.path(cohort["name"], "activity")


# --- the shared account ------------------------------------------------------------------


def test_the_workspace_accounts_own_token_is_refused_by_the_service(
    course: Course, cohort: dict, other: dict
) -> None:
    token = account_token(cohort["account"])
    for path in ("api/v1/me", f"api/v1/{course.path()}"):
        resp = course.hub.api("GET", f"/services/cohortlab/{path}", token)
        assert resp.status_code == 403, (path, resp.text)
        assert resp.json()["error"]["code"] == "workspace_account"
    # It reports contribution counts, for its own cohort only, and reads none.
    resp = course.hub.api("GET", f"/services/cohortlab/api/v1/{activity(course, cohort)}", token)
    assert resp.status_code == 403, resp.text
    report = {"reports": [{"name": f"{course.prefix}-cat", "notebook": "x.ipynb", "edits": 5}]}
    resp = course.hub.api(
        "POST", f"/services/cohortlab/api/v1/{activity(course, other)}", token, json=report
    )
    assert (resp.status_code, resp.json()["error"]["code"]) == (403, "workspace_server_only")


def test_the_relay_of_a_workspace_server_refuses_and_says_to_go_direct(
    course: Course, cohort: dict
) -> None:
    for who in ("ann", "teach"):
        token = course.hub.token_for(f"{course.prefix}-{who}")
        resp = course.hub.api("GET", f"/user/{cohort['account']}/cohortlab/api/v1/me", token)
        assert (resp.status_code, resp.json()["error"]["code"]) == (409, "use_direct_mode")


def test_the_workspace_knows_its_cohort_and_who_asks(course: Course, cohort: dict) -> None:
    info = workspace_info(course, cohort, "bob")
    assert (info["course"], info["cohort"]) == (course.id, cohort["name"])
    assert info["me"] == f"{course.prefix}-bob"
    assert info["attribution"] is True


# --- attribution ---------------------------------------------------------------------------


async def _connect(course: Course, cohort: dict, path: str, who: str) -> NotebookClient:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    return await NotebookClient.connect(course.hub.url, cohort["account"], path, token, who)


async def test_each_cell_shows_who_last_edited_it_and_who_is_here(
    course: Course, cohort: dict, notebook: str
) -> None:
    ann = await _connect(course, cohort, notebook, "ann")
    bob = await _connect(course, cohort, notebook, "bob")
    ann_name, bob_name = f"{course.prefix}-ann", f"{course.prefix}-bob"
    try:
        info = workspace_info(course, cohort, "teach", notebook)
        assert {ann_name, bob_name} <= set(info["present"])
        assert info["cells"] == {}  # opening (the sync of the file's content) is no edit
        ann.append("x = 1\n")
        bob.append(" by bob", index=1)
        await bob.wait_for(lambda c: c.text() == "x = 1\n", 10)
        await ann.wait_for(lambda c: c.text(1).endswith(" by bob"), 10)
        cells = workspace_info(course, cohort, "ann", notebook)["cells"]
        assert cells["c1"]["edited_by"] == ann_name
        assert cells["c2"]["edited_by"] == bob_name
        # Both in the same cell: the last one to type is shown.
        ann.append("y = 2\n", index=1)
        await bob.wait_for(lambda c: c.text(1).endswith("y = 2\n"), 10)
        cells = workspace_info(course, cohort, "bob", notebook)["cells"]
        assert cells["c2"]["edited_by"] == ann_name
    finally:
        ann.close()
        bob.close()
    await asyncio.to_thread(
        wait_until,
        lambda: bob_name not in workspace_info(course, cohort, "teach")["present"],
        timeout=10,
        interval=0.3,
        what="bob to be gone from who is present after leaving",
    )


async def run_cell(
    course: Course, cohort: dict, who: str, path: str, cell_id: str, code: str
) -> str:
    """Run ``code`` as cell ``cell_id`` of ``path`` in a kernel session, as JupyterLab does."""
    import requests

    token = course.hub.token_for(f"{course.prefix}-{who}")
    base = course.hub.at(f"/user/{cohort['account']}/api")
    headers = {"Authorization": f"token {token}"}
    resp = requests.post(
        f"{base}/sessions",
        headers=headers,
        json={"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}},
        timeout=60,
    )
    resp.raise_for_status()
    kernel_id = resp.json()["kernel"]["id"]
    session = uuid.uuid4().hex
    url = f"{base}/kernels/{kernel_id}/channels?session_id={session}".replace("http", "ws", 1)
    conn = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=60))
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "username": who,
        "session": session,
        "msg_type": "execute_request",
        "version": "5.3",
        "date": datetime.now(UTC).isoformat(),
    }
    content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
    conn.write_message(
        json.dumps(
            {
                "header": header,
                "parent_header": {},
                "metadata": {"cellId": cell_id},
                "content": {**content, "user_expressions": {}, "stop_on_error": True},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out: list[str] = []
    try:
        while True:
            raw = await asyncio.wait_for(conn.read_message(), 60)
            assert raw is not None, "kernel WebSocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.extend(msg["content"]["traceback"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
    finally:
        conn.close()


async def test_a_run_is_attributed_to_who_ran_it_and_the_kernel_has_no_hub_token(
    course: Course, cohort: dict, notebook: str
) -> None:
    code = "import os; print(sorted(k for k in os.environ if 'TOKEN' in k or 'API' in k))"
    out = await run_cell(course, cohort, "bob", notebook, "c1", code)
    assert "JUPYTERHUB_API_TOKEN" not in out and "JPY_API_TOKEN" not in out, out
    cells = workspace_info(course, cohort, "ann", notebook)["cells"]
    assert cells["c1"]["run_by"] == f"{course.prefix}-bob"
    assert cells["c1"]["run_at"] is not None


def test_who_edited_and_ran_each_cell_is_still_shown_after_the_workspace_restarts(
    course: Course, cohort: dict, notebook: str
) -> None:
    before = workspace_info(course, cohort, "ann", notebook)["cells"]
    assert before["c1"]["run_by"] and before["c2"]["edited_by"]  # from the tests above
    # the record on disk (saved within a second of a change), before the server stops
    wait_until(
        lambda: saved_record(cohort["account"], notebook) == before,
        timeout=10,
        what="the workspace server to save who edited and ran each cell",
    )
    body = course.restart(cohort, "bob")
    assert body["workspace"]["started"] is True
    after = workspace_info(course, cohort, "ann", notebook)
    assert after["cells"] == before, course.hub.log_tail(80)
    assert after["present"] == []


# --- contribution counts (the service) -----------------------------------------------------


def test_who_may_report_and_read_workspace_activity(
    course: Course, cohort: dict, other: dict
) -> None:
    path = activity(course, cohort)
    report = {"reports": [{"name": f"{course.prefix}-ann", "notebook": "a.ipynb", "edits": 1}]}
    assert course.person("ann").refused(403, "GET", path) == "instructor_only"
    assert course.person("ment").refused(403, "GET", path) == "instructor_only"
    assert course.person("cat").refused(403, "GET", path) == "instructor_only"
    assert course.person("out").refused(403, "GET", path) == "not_in_course"
    for who in ("ann", "bob", "cat", "ment", "out", "teach"):  # nobody reports by hand
        assert course.person(who).refused(403, "POST", path, report) == "workspace_server_only"
    nope = course.path("nope", "activity")
    assert course.person("teach").refused(404, "GET", nope) == "unknown_cohort"
    assert course.person("teach").refused(403, "POST", nope, report) == "workspace_server_only"
    for body in (
        {"reports": [{"name": "a", "notebook": "", "edits": 1}]},
        {"reports": [{"name": "a", "notebook": "a", "edits": 1001}]},
        {"reports": [{"name": "a", "notebook": "a", "edits": -1}]},
        {"reports": [{"name": "a", "notebook": "a"}]},
        {"reports": [{"name": "a", "notebook": "a", "x": 1}]},
        {"reports": [{"name": "a", "notebook": "a", "edits": True}]},
        {"reports": []},
        {"notebook": "a", "edits": 1},
    ):
        assert course.person("ann").refused(400, "POST", path, body) in (
            "invalid_field",
            "unknown_field",
            "empty_report",
        )
