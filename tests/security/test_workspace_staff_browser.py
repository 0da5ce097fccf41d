"""The instructor opens, in a real browser, a cohort workspace where a member planted things.

ben, a member of a cohort of the demo course, plants from his own kernel in the workspace a
lab extension and a page configuration in the shared home, saves with his own browser
session lab settings that trust HTML files (the HTML viewer's ``trustByDefault``) and a
saved layout, and leaves an HTML page with a script in the workspace's files. The control:
in ben's own lab the HTML viewer trusts the page (its frame may run scripts). Then the
instructor opens the workspace and that page in Chromium: nothing ben planted ran on the
instructor's page, and the page opens untrusted (its frame runs no script).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.browser.test_cohort_workspace import COURSE, _delete, _enter_workspace
from tests.helpers.api import Person
from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub
from tests.helpers.kernel import run_in_kernel
from tests.helpers.waiting import wait_until

TAG = secrets.token_hex(3)
TRUST = "@jupyterlab/htmlviewer-extension:plugin"
PAGE = "<html><body><p id='cl-page'>hello</p><script>document.title='owned'</script></body></html>"
PLANT = f"""
import json, pathlib
home = pathlib.Path.home()
ext = home / ".local/share/jupyter/labextensions/cl-planted-{TAG}"
(ext / "static").mkdir(parents=True, exist_ok=True)
(ext / "package.json").write_text(json.dumps({{"name": "cl-planted-{TAG}", "version": "0.0.1",
    "jupyterlab": {{"_build": {{"load": "static/remoteEntry.js", "extension": "./extension"}}}}}}))
(ext / "static/remoteEntry.js").write_text("document.body.dataset.clPlanted = 1")
(home / ".jupyter/labconfig").mkdir(parents=True, exist_ok=True)
(home / ".jupyter/labconfig/page_config.json").write_text(json.dumps(
    {{"disabledExtensions": {{"cohortlab": True}}}}))
print("planted")
"""


@pytest.fixture(scope="module")
def cohort(cl_hub: Hub) -> Iterator[dict]:
    name = f"ws{secrets.token_hex(3)}"
    made = Person(cl_hub, "instructor").ok(
        "POST", f"courses/{COURSE}/cohorts", {"name": name, "members": ["ada", "ben"]}
    )["cohort"]
    try:
        yield made
    finally:
        _delete(cl_hub, made)


def _open_in_workspace(browser: Any, hub: Hub, who: str, account: str, path: str) -> Any:
    page = open_lab(browser, hub, who)
    tab = page.context.new_page()
    tab.goto(hub.at(f"/user/{account}/lab/tree/{path}"))
    _enter_workspace(tab, account)
    tab.locator(".jp-HTMLViewer iframe").first.wait_for(timeout=LAB_TIMEOUT_MS)
    tab.cl_errors = page.cl_errors  # type: ignore[attr-defined]
    return tab


def _sandbox_of_page(tab: Any) -> str:
    return tab.locator(".jp-HTMLViewer iframe").first.get_attribute("sandbox") or ""


def test_the_instructor_opens_a_workspace_a_member_planted_things_in(
    cl_browser: Any, cl_hub: Hub, cohort: dict
) -> None:
    account = cohort["account"]
    opened = Person(cl_hub, "ben").ok(
        "POST", f"courses/{COURSE}/cohorts/{cohort['name']}/workspace", {"wait": 25}
    )
    assert opened["workspace"]["state"] == "ready"
    ben = cl_hub.token_for("ben")
    # in a thread of its own: Playwright's sync API holds this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        work = run_in_kernel(cl_hub.url, account, ben, PLANT)
        out, errors = pool.submit(asyncio.run, work).result()
    assert "planted" in out, errors
    path = f"page-{TAG}.html"
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/api/contents/{path}",
        ben,
        data=json.dumps({"type": "file", "format": "text", "content": PAGE}),
    )
    assert resp.status_code == 201, resp.text
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/lab/api/settings/{TRUST}",
        ben,
        data=json.dumps({"raw": json.dumps({"trustByDefault": True})}),
    )
    assert resp.status_code == 204, resp.text
    # the workspace restarts (as the idle cull does), reading the home afresh
    cl_hub.admin("DELETE", f"/users/{account}/server")
    wait_until(
        lambda: not cl_hub.admin("GET", f"/users/{account}").json().get("servers"),
        timeout=30,
        what="the workspace to stop",
    )
    assert (
        Person(cl_hub, "ben").ok(
            "POST", f"courses/{COURSE}/cohorts/{cohort['name']}/workspace", {"wait": 25}
        )["workspace"]["state"]
        == "ready"
    )

    # Control: in ben's own lab the HTML viewer trusts the page (scripts may run in its frame).
    mine = _open_in_workspace(cl_browser, cl_hub, "ben", account, path)
    try:
        mine.wait_for_function(
            "() => (document.querySelector('.jp-HTMLViewer iframe')?.getAttribute('sandbox')"
            " || '').includes('allow-scripts')",
            timeout=LAB_TIMEOUT_MS,
        )
    finally:
        mine.context.close()

    staff = _open_in_workspace(cl_browser, cl_hub, "instructor", account, path)
    try:
        assert "allow-scripts" not in _sandbox_of_page(staff)
        assert staff.evaluate("() => document.body.dataset.clPlanted") is None
        assert staff.evaluate("() => document.title") != "owned"
        # CohortLab's guard is on the page (the planted page config did not turn it off)
        assert (
            staff.evaluate(
                "() => JSON.parse(document.getElementById('jupyter-config-data').textContent)"
                ".cohortlabUntrustedOutputs"
            )
            == "true"
        )
        assert not staff.cl_errors, staff.cl_errors
    finally:
        staff.context.close()
