"""A cohort workspace whose server keeps outputs untrusted (``WorkspaceExtension.
untrusted_outputs``): code ada runs in the shared kernel prints a JavaScript output, HTML
with an event handler, an ipywidgets HTML widget and an anywidget, each of which would set a
mark on the page if it ran; neither ada's browser nor ben's runs any of them (without the
setting, all four run in both: docs/cohort-workspace.md).
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import time
from pathlib import Path
from typing import Any

from tests.browser.test_cohort_workspace import cohort  # noqa: F401
from tests.browser.test_workspace_quiz import _workspace_tab
from tests.helpers.api import Person
from tests.helpers.hub import Hub

COURSE = "demo101"
HOSTILE = """from IPython.display import HTML, Javascript, display
display(Javascript("document.body.dataset.clJs = 'ran'"))
display(HTML('<img src=x onerror="document.body.dataset.clImg = 1"><b>html</b>'))
import ipywidgets
display(ipywidgets.HTML('<img src=x onerror="document.body.dataset.clWidget = 1">'))
import anywidget
class Probe(anywidget.AnyWidget):
    _esm = "export default { render() { document.body.dataset.clAny = 1; } }"
display(Probe())
print("done")
"""
MARKS = "Object.keys(document.body.dataset).filter(k => k.startsWith('cl'))"


def _restart_untrusted(hub: Hub, cohort: dict) -> None:  # noqa: F811
    """The workspace started once (its account and home exist), the setting in the account's
    own Jupyter config, and the server started again to read it."""
    person = Person(hub, "ada")
    route = f"courses/{COURSE}/cohorts/{cohort['name']}/workspace"
    assert person.ok("POST", route, {"wait": 25})["workspace"]["state"] == "ready"
    entry = pwd.getpwnam(cohort["account"])
    config = Path(entry.pw_dir) / ".jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(exist_ok=True)
    config.write_text(json.dumps({"WorkspaceExtension": {"untrusted_outputs": True}}))
    for path in (config.parent, config):
        os.chown(path, entry.pw_uid, entry.pw_gid)
    hub.api("DELETE", f"/hub/api/users/{cohort['account']}/server", hub.admin_token)
    deadline = time.monotonic() + 30
    while hub.admin("GET", f"/users/{cohort['account']}").json().get("servers"):
        assert time.monotonic() < deadline, "the workspace server did not stop"
        time.sleep(0.3)
    assert person.ok("POST", route, {"wait": 25})["workspace"]["state"] == "ready"


def test_no_output_of_the_shared_kernel_runs_script_in_any_members_browser(
    cl_browser: Any,
    cl_hub: Hub,
    cohort: dict,  # noqa: F811
) -> None:
    _restart_untrusted(cl_hub, cohort)
    account = cohort["account"]
    path = f"untrusted-{secrets.token_hex(2)}.ipynb"
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "code", "id": "c1", "metadata": {}, "source": HOSTILE, "outputs": []}
        ],
    }
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/api/contents/{path}",
        cl_hub.token_for("ada"),
        data=json.dumps({"type": "notebook", "format": "json", "content": notebook}),
    )
    assert resp.status_code == 201, resp.text
    tabs = {who: _workspace_tab(cl_browser, cl_hub, who, account, path) for who in ("ada", "ben")}
    for tab in tabs.values():  # the guard is on from the panel's creation
        assert tab.locator(".jp-NotebookPanel[data-cl-untrusted]").count() == 1
    tabs["ada"].locator(".jp-NotebookPanel .jp-Cell .cm-content").first.click()
    tabs["ada"].keyboard.press("Shift+Enter")
    for who, tab in tabs.items():
        output = tab.locator(".jp-NotebookPanel .jp-OutputArea").first
        deadline = time.monotonic() + 120
        while "done" not in (output.inner_text() if output.count() else ""):
            assert time.monotonic() < deadline, f"{who} never saw the outputs"
            time.sleep(0.5)
        tab.wait_for_timeout(2000)  # time for anything that would run
        assert tab.evaluate(MARKS) == [], who
        text = output.inner_text()
        assert "html" in text  # the HTML itself is shown, sanitized
        assert "HTML(value=" in text  # widgets appear as their text, not drawn
    for tab in tabs.values():
        tab.context.close()
