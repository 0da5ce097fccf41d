"""Two learners of one cohort open its workspace from the CohortLab panel and type into the
same cell of one notebook at the same time; both see the same final text. A learner of
another cohort gets no button and is refused.

The cohort is made at run time in the demo course (only demo people can log in) with ada
and ben, and deleted again afterwards, with its workspace account.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_panel import _open_panel
from tests.helpers.api import Person
from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until

COURSE = "demo101"
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": "# ", "outputs": []}],
}


@pytest.fixture(scope="module")
def cohort(cl_hub: Hub) -> Iterator[dict]:
    name = f"ws{secrets.token_hex(3)}"
    teacher = Person(cl_hub, "instructor")
    made = teacher.ok(
        "POST", f"courses/{COURSE}/cohorts", {"name": name, "members": ["ada", "ben"]}
    )["cohort"]
    try:
        yield made
    finally:
        _delete(cl_hub, made)


def _delete(hub: Hub, cohort: dict) -> None:
    account = cohort["account"]
    hub.api("DELETE", f"/hub/api/users/{account}/server", hub.admin_token)
    with contextlib.suppress(AssertionError):  # clean-up goes on either way
        wait_until(
            lambda: _server_gone(hub, account),
            timeout=30,
            interval=0.5,
            what=f"{account}'s server to stop",
        )
    hub.api("DELETE", f"/hub/api/users/{account}", hub.admin_token)
    hub.api("DELETE", f"/hub/api/groups/{cohort['group']}", hub.admin_token)
    try:
        uid = pwd.getpwnam(account).pw_uid
    except KeyError:
        return
    # The notebooks' kernels may outlive the server by a moment; userdel refuses while any
    # process of the account runs. These are processes this test's hub started.
    with contextlib.suppress(AssertionError):  # those left are killed below
        wait_until(
            lambda: not _pids_of(uid),
            timeout=15,
            interval=0.5,
            what=f"{account}'s processes to end",
        )
    for pid in _pids_of(uid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["userdel", "--remove", account], check=False, capture_output=True)


def _server_gone(hub: Hub, account: str) -> bool:
    resp = hub.api("GET", f"/hub/api/users/{account}", hub.admin_token)
    return resp.status_code != 200 or not resp.json().get("servers")


def _pids_of(uid: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and proc.stat().st_uid == uid:
                pids.append(int(proc.name))
    return pids


def _workspace_controls(page: Any, cohort: dict) -> Any:
    panel = _open_panel(page)
    page.wait_for_selector('[data-testid="cl-service-status"][data-state="ok"]', timeout=30_000)
    item = panel.locator(f'[data-testid="cl-cohort"][data-cohort="{cohort["name"]}"]')
    item.wait_for(timeout=30_000)
    return item


def _enter_workspace(popup: Any, account: str) -> None:
    """Past the hub's one-time "Authorize access" page for a server one does not own."""
    popup.wait_for_url(
        re.compile(rf".*/(user/{account}/lab|hub/api/oauth2/authorize).*"), timeout=LAB_TIMEOUT_MS
    )
    if "/oauth2/authorize" in popup.url:
        popup.click("button:has-text('Authorize')")
    popup.wait_for_url(re.compile(rf".*/user/{account}/lab.*"), timeout=LAB_TIMEOUT_MS)


def _open_notebook(popup: Any, account: str, path: str) -> Any:
    popup.goto(popup.url.split(f"/user/{account}/")[0] + f"/user/{account}/lab/tree/{path}")
    editor = popup.locator(".jp-NotebookPanel .jp-Cell").first.locator(".cm-content")
    editor.wait_for(timeout=LAB_TIMEOUT_MS)
    popup.wait_for_function(
        "() => document.querySelector('.jp-NotebookPanel .jp-Cell .cm-content')"
        "?.textContent === '# '",
        timeout=30_000,
    )
    # At the line's start: the cell toolbar floats over the right of a narrow one-line cell.
    editor.click(position={"x": 4, "y": 4})
    popup.keyboard.press("Control+End")
    return editor


def test_two_learners_type_into_the_same_cell_and_see_the_same_text(
    cl_browser: Any, cl_hub: Hub, cohort: dict
) -> None:
    account = cohort["account"]
    ada = open_lab(cl_browser, cl_hub, "ada")
    ben = open_lab(cl_browser, cl_hub, "ben")

    # ada opens it with the keyboard: a cold start, with progress shown meanwhile.
    item = _workspace_controls(ada, cohort)
    button = item.get_by_role("button", name=re.compile("Open the shared workspace of cohort"))
    assert button.inner_text().strip() == "Open cohort workspace"
    button.focus()
    with ada.expect_popup(timeout=LAB_TIMEOUT_MS) as opened:
        ada.keyboard.press("Enter")
    status = item.get_by_test_id("cl-workspace-status")
    ada_tab = opened.value
    _enter_workspace(ada_tab, account)
    assert status.get_attribute("data-state") == "ready"

    # The notebook they will share (written through the workspace's contents API).
    path = f"together-{secrets.token_hex(2)}.ipynb"
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/api/contents/{path}",
        cl_hub.token_for("ada"),
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
    )
    assert resp.status_code == 201, resp.text

    # ben's first try fails (the service says why); "Start it" then opens the workspace.
    ben_item = _workspace_controls(ben, cohort)
    assert ben_item.get_by_test_id("cl-workspace-retry").is_hidden()
    assert ben_item.get_by_test_id("cl-workspace-error").is_hidden()
    failure = {
        "error": {
            "code": "workspace_failed",
            "message": "The workspace of cohort could not start (test). Start it again.",
        }
    }
    endpoint = re.compile(r".*/cohorts/[^/]+/workspace(\?.*)?$")  # lab adds a cache-buster
    ben.route(
        endpoint,
        lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps(failure)
        ),
    )
    ben_item.get_by_test_id("cl-workspace-open").click()
    error = ben_item.get_by_test_id("cl-workspace-error")
    error.wait_for(timeout=30_000)
    assert "could not start (test)" in error.inner_text()
    retry = ben_item.get_by_role("button", name=re.compile("Start the workspace of cohort"))
    assert retry.inner_text().strip() == "Start it"
    # the placeholder tab is closed again (its "close" event, which Playwright delivers only
    # while it is called: a poll with sleeps between would not see it)
    for placeholder in [p for p in ben.context.pages if p != ben]:
        if not placeholder.is_closed():
            placeholder.wait_for_event("close", timeout=10_000)
    assert len(ben.context.pages) == 1, "the placeholder tab stayed open"
    ben.unroute(endpoint)
    with ben.expect_popup(timeout=LAB_TIMEOUT_MS) as opened:
        retry.click()
    ben_tab = opened.value
    _enter_workspace(ben_tab, account)
    assert ben_item.get_by_test_id("cl-workspace-error").is_hidden()

    # Both in the same cell, typing at the same time.
    ada_editor = _open_notebook(ada_tab, account, path)
    ben_editor = _open_notebook(ben_tab, account, path)
    for a, b in zip(["ada ", "was ", "here"], ["BEN ", "TOO ", "HERE"], strict=True):
        ada_tab.keyboard.type(a)
        ben_tab.keyboard.type(b)
    expected_length = len("# ") + 24

    def converged() -> str:
        texts = (ada_editor.inner_text(), ben_editor.inner_text())
        assert texts[0] == texts[1] and len(texts[0]) == expected_length, f"not yet: {texts}"
        return texts[0]

    final = wait_until(converged, timeout=30, what="both editors to show the same whole text")
    # Nothing lost and nothing doubled: the text is an interleaving of the cell's "# " and
    # what each typed. Where each cursor stood is the browser's business (a caret placed
    # while the room was still syncing can land before the "# ").
    assert final.count("#") == 1
    assert "".join(ch for ch in final if ch.islower()) == "adawashere"
    assert "".join(ch for ch in final if ch.isupper()) == "BENTOOHERE"

    # And the room saved it: what a third person opening the file would read.
    def saved_source() -> str:
        content = cl_hub.api(
            "GET", f"/user/{account}/api/contents/{path}", cl_hub.token_for("ben")
        ).json()["content"]
        source = content["cells"][0]["source"]
        return "".join(source) if isinstance(source, list) else source

    wait_until(lambda: saved_source() == final, timeout=15, what="the room to save the notebook")
    for page in (ada, ben):
        assert not page.cl_errors, page.cl_errors
        page.context.close()


def test_a_learner_of_another_cohort_sees_no_button_and_is_refused(
    cl_browser: Any, cl_hub: Hub, cohort: dict
) -> None:
    opened = Person(cl_hub, "ada").ok(
        "POST", f"courses/{COURSE}/cohorts/{cohort['name']}/workspace", {"wait": 25}
    )
    assert opened["workspace"]["state"] == "ready"
    dee = open_lab(cl_browser, cl_hub, "dee")  # in cohort blue
    panel = _open_panel(dee)
    dee.wait_for_selector('[data-testid="cl-service-status"][data-state="ok"]', timeout=30_000)
    assert panel.locator(f'[data-cohort="{cohort["name"]}"]').count() == 0
    assert panel.get_by_test_id("cl-workspace-open").count() == 1  # blue's own
    # Asking the service anyway (through dee's relay): the cohort does not exist for dee.
    answer = dee.evaluate(
        """async (path) => {
            const xsrf = document.cookie.match(/(?:^|; )_xsrf=([^;]*)/)?.[1] ?? '';
            const r = await fetch(path, {method: 'POST', headers: {'X-XSRFToken':
                decodeURIComponent(xsrf)}, credentials: 'same-origin'});
            return {status: r.status, body: await r.json()};
        }""",
        f"/user/dee/cohortlab/api/v1/courses/{COURSE}/cohorts/{cohort['name']}/workspace",
    )
    assert answer["status"] == 404, answer
    assert answer["body"]["error"]["code"] == "unknown_cohort"
    # And the workspace itself refuses dee, with the hub's page rather than a lab.
    response = dee.goto(cl_hub.at(f"/user/{cohort['account']}/lab"))
    assert response is not None and response.status == 403
    dee.context.close()
