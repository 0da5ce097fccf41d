"""The cohort workspace against the real hub: opened on demand through the service, two
members editing one notebook over jupyter-collaboration's WebSocket, and who is refused.

Like ``test_cohorts_api.py`` this module makes its own course, people and cohorts at run
time (unique names) and removes them, with the workspace system accounts, at the end.
The culling test starts a hub of its own with a short idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from cohortlab.cohorts.hubhooks import WORKSPACE_STATE_ROOT
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.api import Person
from tests.helpers.collab import NotebookClient, open_session
from tests.helpers.hub import Hub, start_hub, stop_hub
from tests.helpers.waiting import wait_until

ROLES = {
    "teach": "formgrade",
    "ment": "mentor",
    "ann": "nbgrader",
    "bob": "nbgrader",
    "cat": "nbgrader",
    "out": None,
}
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "cells": [
        {"cell_type": "code", "id": "c1", "metadata": {}, "source": "", "outputs": []},
        {"cell_type": "markdown", "id": "c2", "metadata": {}, "source": "# Our notes"},
    ],
}


@dataclass
class Course:
    hub: Hub
    id: str
    prefix: str
    people: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)

    def person(self, role: str) -> Person:
        return Person(self.hub, f"{self.prefix}-{role}")

    def path(self, *parts: str) -> str:
        return "/".join(["courses", self.id, "cohorts", *parts])

    def create(self, members: list[str]) -> dict:
        name = f"w{secrets.token_hex(3)}"
        body = {"name": name, "members": [f"{self.prefix}-{m}" for m in members]}
        cohort = self.person("teach").ok("POST", self.path(), body)["cohort"]
        self.accounts.append(cohort["account"])
        return cohort

    def open(self, who: str, cohort: dict, wait: float = 25) -> tuple[int, dict]:
        resp = self.person(who).call("POST", self.path(cohort["name"], "workspace"), {"wait": wait})
        return resp.status_code, resp.json()

    def server(self, account: str) -> dict:
        return self.hub.admin("GET", f"/users/{account}").json().get("servers", {}).get("", {})

    def restart(self, cohort: dict, who: str) -> dict:
        """Stop the workspace's server through the hub (as the idle cull does), then open it
        again as ``who``; the answer of that open."""
        account = cohort["account"]
        self.hub.admin("DELETE", f"/users/{account}/server")
        wait_until(
            lambda: not self.hub.admin("GET", f"/users/{account}").json().get("servers"),
            timeout=30,
            interval=0.3,
            what="the workspace server to stop",
        )
        status, body = self.open(who, cohort)
        assert status == 200, body
        return body

    def at_workspace(self, who: str, method: str, account: str, path: str, **kw: object) -> int:
        token = self.hub.token_for(f"{self.prefix}-{who}")
        return self.hub.api(method, f"/user/{account}/{path}", token, **kw).status_code


def make_course(hub: Hub) -> Course:
    tag = secrets.token_hex(3)
    c = Course(hub, f"cw{tag}", f"q{tag}")
    c.people = [f"{c.prefix}-{role}" for role in ROLES]
    for name in c.people:
        hub.admin("POST", f"/users/{name}")
    for group in ("formgrade", "mentor", "nbgrader"):
        users = [f"{c.prefix}-{r}" for r, g in ROLES.items() if g == group]
        hub.admin("POST", f"/groups/{group}-{c.id}", json={"users": users})
    return c


def _server_gone(hub: Hub, account: str) -> bool:
    resp = hub.api("GET", f"/hub/api/users/{account}", hub.admin_token)
    return resp.status_code != 200 or not resp.json().get("servers")


def clean_up(c: Course) -> None:
    """Stop workspace servers, delete their system accounts and this course's hub data."""
    hub = c.hub
    for account in c.accounts:
        hub.api("DELETE", f"/hub/api/users/{account}/server", hub.admin_token)
    for account in c.accounts:
        with contextlib.suppress(AssertionError):  # clean-up goes on either way
            wait_until(
                partial(_server_gone, hub, account),
                timeout=30,
                interval=0.5,
                what=f"{account}'s server to stop",
            )
        hub.api("DELETE", f"/hub/api/users/{account}", hub.admin_token)
        shutil.rmtree(WORKSPACE_STATE_ROOT / account, ignore_errors=True)  # the server's state
        try:
            pwd.getpwnam(account)
        except KeyError:
            continue
        subprocess.run(["userdel", "--remove", account], check=False, capture_output=True)
    for group in hub.admin("GET", "/groups").json():
        if group["name"].endswith(f"-{c.id}") or group["name"].startswith(f"cohort-{c.id}-"):
            hub.api("DELETE", f"/hub/api/groups/{group['name']}", hub.admin_token)
    for name in c.people:
        hub.api("DELETE", f"/hub/api/users/{name}", hub.admin_token)


@pytest.fixture(scope="module")
def cohort(course: Course) -> dict:
    """A cohort of ann and bob whose workspace is opened by the first test that needs it."""
    return course.create(["ann", "bob"])


@pytest.fixture(scope="module")
def other(course: Course) -> dict:
    """Another cohort of the course, of cat: a learner of another cohort."""
    return course.create(["cat"])


@pytest.fixture(scope="module")
def opened(course: Course, cohort: dict) -> dict:
    """The workspace, opened by ann: the answer of the cold open."""
    assert course.server(cohort["account"]) == {}, "the workspace must start cold"
    status, body = course.open("ann", cohort)
    assert status == 200, body
    return body["workspace"]


@pytest.fixture(scope="module")
def notebook(course: Course, cohort: dict, opened: dict) -> str:
    """A notebook in the workspace, written by ann through the server's contents API."""
    path = f"together-{secrets.token_hex(2)}.ipynb"
    status = course.at_workspace(
        "ann",
        "PUT",
        cohort["account"],
        f"api/contents/{path}",
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
    )
    assert status == 201
    return path


async def connect(course: Course, cohort: dict, path: str, who: str) -> NotebookClient:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    return await NotebookClient.connect(course.hub.url, cohort["account"], path, token, who)


# --- opening -----------------------------------------------------------------------------


def test_a_member_starts_the_workspace_on_demand_and_gets_its_lab(
    course: Course, cohort: dict, opened: dict
) -> None:
    account = cohort["account"]
    assert opened == {
        "course": course.id,
        "cohort": cohort["name"],
        "account": account,
        "url": course.hub.at(f"/user/{account}/lab"),
        "state": "ready",
        "message": f"The workspace of cohort {cohort['name']!r} is ready.",
        "started": True,
    }
    assert course.server(account)["ready"] is True
    for who in ("ann", "bob", "teach"):
        assert course.at_workspace(who, "GET", account, "lab") == 200, who


def test_opening_a_running_workspace_answers_at_once_without_starting_it(
    course: Course, cohort: dict, opened: dict
) -> None:
    started_at = course.server(cohort["account"])["started"]
    for who in ("bob", "teach"):
        t0 = time.monotonic()
        status, body = course.open(who, cohort, wait=0)
        assert (status, body["workspace"]["state"]) == (200, "ready"), body
        assert body["workspace"]["started"] is False
        assert time.monotonic() - t0 < 2
    assert course.server(cohort["account"])["started"] == started_at


def test_the_workspace_server_runs_jupyter_collaboration(
    course: Course, cohort: dict, notebook: str
) -> None:
    token = course.hub.token_for(f"{course.prefix}-bob")
    session = asyncio.run(open_session(course.hub.url, cohort["account"], notebook, token))
    assert session["format"] == "json" and session["type"] == "notebook"
    assert session["fileId"] and session["sessionId"]
    log = course.hub.log_path.read_text(errors="replace")
    assert "jupyter_server_ydoc | extension was successfully loaded" in log


def test_workspace_servers_are_set_up_to_cull_themselves_and_to_go_direct(
    course: Course, cohort: dict, opened: dict
) -> None:
    """The spawn hook's settings reach the running server (its command line and config)."""
    pids = _pids_of(cohort["account"])
    assert pids, "no process runs as the workspace account"
    argv = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in pids)
    assert "--ServerApp.shutdown_no_activity_timeout=" in argv
    assert "--MappingKernelManager.cull_idle_timeout=" in argv
    config = course.hub.api(
        "GET",
        f"/user/{cohort['account']}/cohortlab/config",
        course.hub.token_for(f"{course.prefix}-ann"),
    ).json()
    assert config["mode"] == "direct"  # the lab client acts as the person, not the account


# --- two members, one notebook -----------------------------------------------------------


async def test_two_members_editing_one_notebook_converge(
    course: Course, cohort: dict, notebook: str
) -> None:
    ann = await connect(course, cohort, notebook, "ann")
    bob = await connect(course, cohort, notebook, "bob")
    try:
        ann.append("x = 1\n")
        await bob.wait_for(lambda c: c.text() == "x = 1\n", 10)
        bob.append("y = x + 1\n")
        await ann.wait_for(lambda c: c.text() == "x = 1\ny = x + 1\n", 10)
        bob.append(" and more", index=1)  # another cell, the markdown one
        await ann.wait_for(lambda c: c.text(1) == "# Our notes and more", 10)
    finally:
        ann.close()
        bob.close()


async def test_two_members_typing_into_the_same_cell_at_once_converge(
    course: Course, cohort: dict, notebook: str
) -> None:
    ann = await connect(course, cohort, notebook, "ann")
    bob = await connect(course, cohort, notebook, "bob")
    try:
        start = ann.text()
        await bob.wait_for(lambda c: c.text() == start, 10)
        # Both type at the end of the cell, each keystroke made before the other's arrives:
        # every pair is a concurrent insert at the same place (the next pair once both
        # have both keystrokes of this one).
        for n, (a, b) in enumerate(zip("ann-was-here", "BOB+WAS+HERE", strict=True), 1):
            ann.append(a)
            bob.append(b)
            await ann.wait_for(lambda c, n=n: len(c.text()) == len(start) + 2 * n, 10)
            await bob.wait_for(lambda c, n=n: len(c.text()) == len(start) + 2 * n, 10)
        expected = len(start) + 24
        await ann.wait_for(lambda c: len(c.text()) == expected, 10)
        await bob.wait_for(lambda c: len(c.text()) == expected, 10)
        final = ann.text()
        assert bob.text() == final
        typed = final[len(start) :]
        assert final.startswith(start)
        # Nothing lost, and each person's keystrokes keep their order (interleaved).
        assert "".join(ch for ch in typed if ch.islower() or ch == "-") == "ann-was-here"
        assert "".join(ch for ch in typed if ch.isupper() or ch == "+") == "BOB+WAS+HERE"
        # A late joiner and the saved file see the same text.
        cy = await connect(course, cohort, notebook, "teach")
        assert cy.text() == final
        cy.close()
        await asyncio.to_thread(  # in a thread: the clients' readers keep running meanwhile
            wait_until,
            lambda: _saved_source(course, cohort, notebook) == final,
            timeout=15,
            interval=0.5,
            what="the room to autosave the edits",
        )
    finally:
        ann.close()
        bob.close()


def _saved_source(course: Course, cohort: dict, path: str) -> str:
    token = course.hub.token_for(f"{course.prefix}-ann")
    resp = course.hub.api("GET", f"/user/{cohort['account']}/api/contents/{path}", token)
    source = resp.json()["content"]["cells"][0]["source"]
    return "".join(source) if isinstance(source, list) else source


@pytest.mark.parametrize("who", ["cat", "ment", "out"])
async def test_a_non_member_is_refused_on_the_room(
    course: Course, cohort: dict, notebook: str, other: dict, who: str
) -> None:
    member = course.hub.token_for(f"{course.prefix}-ann")
    session = await open_session(course.hub.url, cohort["account"], notebook, member)
    token = course.hub.token_for(f"{course.prefix}-{who}")
    with pytest.raises(HTTPClientError) as refused:
        await open_session(course.hub.url, cohort["account"], notebook, token)
    assert refused.value.code == 403
    room = f"json:notebook:{session['fileId']}?sessionId={session['sessionId']}"
    url = course.hub.at(f"/user/{cohort['account']}/api/collaboration/room/{room}")
    with pytest.raises(HTTPClientError) as closed:
        await websocket_connect(
            HTTPRequest(url.replace("http", "ws", 1), headers={"Authorization": f"token {token}"})
        )
    assert closed.value.code == 403


# --- who may open, and faults ------------------------------------------------------------


def test_who_may_open_the_workspace(course: Course, cohort: dict, other: dict) -> None:
    path = course.path(cohort["name"], "workspace")
    assert course.person("cat").refused(404, "POST", path) == "unknown_cohort"
    assert course.person("ment").refused(403, "POST", path) == "members_only"
    assert course.person("out").refused(403, "POST", path) == "not_in_course"
    assert course.person("teach").refused(404, "POST", course.path("nope", "workspace")) == (
        "unknown_cohort"
    )
    for body in ({"wait": -1}, {"wait": 26}, {"wait": "5"}, {"later": 1}, "[]"):
        assert course.person("ann").refused(400, "POST", path, body) in (
            "invalid_field",
            "unknown_field",
            "invalid_json",
        )


def test_an_archived_cohort_cannot_be_opened(course: Course) -> None:
    archived = course.create(["ann"])
    course.person("teach").ok("POST", course.path(archived["name"], "archive"))
    path = course.path(archived["name"], "workspace")
    assert course.person("ann").refused(409, "POST", path) == "cohort_archived"
    assert course.server(archived["account"]) == {}


def test_a_cohort_without_shares_yet_is_synced_when_opened(course: Course) -> None:
    """A member added in the hub's admin page (no share yet) gets in by opening it."""
    late = course.create(["cat"])
    bob = f"{course.prefix}-bob"
    course.hub.admin("POST", f"/groups/{late['group']}/users", json={"users": [bob]})
    status, body = course.open("bob", late)
    assert status == 200, body
    assert course.at_workspace("bob", "GET", late["account"], "api/status") == 200


def test_a_workspace_whose_server_died_is_started_again_by_the_next_open(
    course: Course, cohort: dict, opened: dict
) -> None:
    account = cohort["account"]
    for pid in _pids_of(account):  # processes of the workspace this test's hub started
        os.kill(pid, signal.SIGKILL)
    # dead (the server's may stay a zombie until the hub polls it, which is not waited for)
    wait_until(lambda: not _running(account), timeout=10, what="the killed processes to die")
    status, body = course.open("bob", cohort)
    assert status == 200, body
    assert body["workspace"]["started"] is True
    assert course.at_workspace("bob", "GET", account, "api/status") == 200


def _pids_of(account: str) -> list[int]:
    uid = pwd.getpwnam(account).pw_uid
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid]


def _running(account: str) -> list[int]:
    """The account's processes that have not ended (zombies left out)."""
    return [pid for pid in _pids_of(account) if _state(pid) not in ("Z", "X", None)]


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _owner(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


# --- culling -----------------------------------------------------------------------------


@pytest.mark.slow
def test_an_idle_workspace_stops_itself_while_a_learners_server_keeps_running() -> None:
    """On a hub of its own with a 5 s idle timeout: jupyter_server checks once a minute,
    and the hub notices the stopped process at its next poll (every 2 s on this hub)."""
    if os.geteuid() != 0:
        pytest.skip("the one-machine hub runs servers as system users, which needs root")
    hub = start_hub({"COHORTLAB_WORKSPACE_IDLE_TIMEOUT": "5", "COHORTLAB_TEST_POLL_INTERVAL": "2"})
    c = make_course(hub)
    try:
        cohort = c.create(["ann"])
        status, body = c.open("ann", cohort)
        assert status == 200, body
        hub.start_server("ada")  # a demo person's own server: never culled this way
        wait_until(
            lambda: not c.server(cohort["account"]),
            timeout=150,
            interval=2,
            what="the idle workspace to stop",
        )
        assert hub.admin("GET", "/users/ada").json()["servers"][""]["ready"] is True
        # Opening it again starts it on demand.
        status, body = c.open("ann", cohort)
        assert (status, body["workspace"]["started"]) == (200, True), body
    finally:
        hub.api("DELETE", "/hub/api/users/ada/server", hub.admin_token)
        clean_up(c)
        stop_hub(hub)
