"""A cohort workspace keeps outputs untrusted (``WorkspaceExtension.untrusted_outputs``, on by
default): code ada runs in the shared kernel prints a JavaScript output, HTML with an event
handler, an ipywidgets HTML widget and anywidgets (one with code at its top level and in its
``initialize``, which anywidget would run as soon as the model exists; one claiming to be a
CohortLab quiz, with a stylesheet of its own), each of which would leave a mark on the page if
its code ran; neither ada's browser nor ben's runs any of them (without the setting, they run
in both: docs/cohort-workspace.md). CohortLab's own Leaderboard, displayed by the same cell,
is drawn from the lab extension's bundled code.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_cohort_workspace import cohort  # noqa: F401
from tests.browser.test_workspace_quiz import _workspace_tab
from tests.helpers.api import Person
from tests.helpers.hub import Hub
from tests.helpers.waiting import output_settled

COURSE = "demo101"
HOSTILE = f'''from IPython.display import HTML, Javascript, display
display(Javascript("document.body.dataset.clJs = 'ran'"))
display(HTML('<img src=x onerror="document.body.dataset.clImg = 1"><b>html</b>'))
import ipywidgets
display(ipywidgets.HTML('<img src=x onerror="document.body.dataset.clWidget = 1">'))
import anywidget, traitlets
class Probe(anywidget.AnyWidget):
    _esm = """document.body.dataset.clAnyTop = 1;
export default {{
  initialize() {{ document.body.dataset.clAnyInit = 1; }},
  render() {{ document.body.dataset.clAny = 1; }},
}};"""
display(Probe())
class Spoof(anywidget.AnyWidget):
    _esm = "document.body.dataset.clSpoof = 1; export default {{ render() {{}} }}"
    _css = "body {{ outline: 7px solid red; }}"
    _cohortlab_view = traitlets.Unicode("quiz").tag(sync=True)
    quiz_id = traitlets.Unicode("nothing-here").tag(sync=True)
    shared_server = traitlets.Bool(True).tag(sync=True)
    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        data["application/vnd.cohortlab.widget-view+json"] = {{"model_id": self.model_id}}
        return data, metadata
display(Spoof())
from cohortlab.widgets import Leaderboard
display(Leaderboard(course="{COURSE}"))
print("done")
'''
MARKS = "Object.keys(document.body.dataset).filter(k => k.startsWith('cl'))"


def test_no_output_of_the_shared_kernel_runs_script_in_any_members_browser(
    cl_browser: Any,
    cl_hub: Hub,
    cohort: dict,  # noqa: F811
) -> None:
    route = f"courses/{COURSE}/cohorts/{cohort['name']}/workspace"
    assert Person(cl_hub, "ada").ok("POST", route, {"wait": 25})["workspace"]["state"] == "ready"
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
        expect(output, f"{who} never saw the outputs").to_contain_text(
            "done", timeout=120_000, use_inner_text=True
        )
        board = output.locator('[data-testid="leaderboard"]')
        board.wait_for(timeout=30000)  # CohortLab's own widget is drawn, as this person
        output.locator('[data-testid="leaderboard-loading"]').wait_for(state="detached")
        assert output.locator('[data-testid="leaderboard-error"]').count() == 0
        # The spoof's view drawn too: every output and widget model has reached this page.
        output.locator('[data-testid="quiz"]').wait_for(state="attached", timeout=30000)
        # Until the images' loads have failed, their handlers had their turn, and a module
        # imported after the widgets' models were made (anywidget imports `_esm` then) ran.
        output_settled(output)
        assert tab.evaluate(MARKS) == [], who
        assert tab.evaluate("getComputedStyle(document.body).outlineWidth") != "7px", who
        text = output.inner_text()
        assert "html" in text  # the HTML itself is shown, sanitized
        assert "HTML(value=" in text  # widgets appear as their text, not drawn
        assert "Probe object" in text, text  # shown as its text, not run
        # the spoof names a CohortLab view: the bundled quiz draws it (CohortLab's code, not
        # the kernel's) and finds no such quiz
        assert output.locator('[data-testid="quiz"]').count() == 1
        # the note for static renderers is hidden where the widgets are drawn
        assert not output.locator(".cl-static-fallback").first.is_visible()
    for tab in tabs.values():
        tab.context.close()
