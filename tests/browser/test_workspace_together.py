"""Done for issue 4 in a browser: two learners of one cohort in its workspace see each
other (presence), see who last edited and ran each cell, chat beside the notebook, and
CohortLab there knows each of them as themselves; the instructor then reads who
contributed what.

A cohort of ada and ben made at run time in the demo course, deleted afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_cohort_workspace import COURSE, _delete, _enter_workspace
from tests.browser.test_panel import _open_panel
from tests.helpers.api import Person
from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until

NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "cells": [
        {"cell_type": "code", "id": "c1", "metadata": {}, "source": "1 + 1", "outputs": []},
        {"cell_type": "markdown", "id": "c2", "metadata": {}, "source": "notes"},
    ],
}


@pytest.fixture(scope="module")
def cohort(cl_hub: Hub) -> Iterator[dict]:
    name = f"wt{secrets.token_hex(3)}"
    made = Person(cl_hub, "instructor").ok(
        "POST", f"courses/{COURSE}/cohorts", {"name": name, "members": ["ada", "ben"]}
    )["cohort"]
    try:
        yield made
    finally:
        _delete(cl_hub, made)


def _workspace_tab(browser: Any, hub: Hub, who: str, account: str, path: str) -> Any:
    page = open_lab(browser, hub, who)
    tab = page.context.new_page()
    tab.goto(hub.at(f"/user/{account}/lab/tree/{path}"))
    _enter_workspace(tab, account)
    tab.locator(".jp-NotebookPanel .jp-Cell .cm-content").first.wait_for(timeout=LAB_TIMEOUT_MS)
    tab.cl_errors = page.cl_errors  # type: ignore[attr-defined]
    return tab


def _wait_text(page: Any, selector: str, pattern: str, timeout: float = 30) -> str:
    """The first text of ``selector``'s elements that matches ``pattern``, once one does."""

    def match() -> str:
        texts = page.locator(selector).all_inner_texts()
        found = [text for text in texts if re.search(pattern, text)]
        assert found, f"no {pattern!r} in {texts}"  # the last one is in wait_until's report
        return found[0]

    return wait_until(match, timeout=timeout, what=f"{pattern!r} in {selector}")


def test_two_learners_work_and_chat_in_the_workspace_and_the_instructor_sees_who_did_what(
    cl_browser: Any, cl_hub: Hub, cohort: dict, cl_artifacts: Path
) -> None:
    account = cohort["account"]
    opened = Person(cl_hub, "ada").ok(
        "POST", f"courses/{COURSE}/cohorts/{cohort['name']}/workspace", {"wait": 25}
    )
    assert opened["workspace"]["state"] == "ready"
    path = f"together-{secrets.token_hex(2)}.ipynb"
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/api/contents/{path}",
        cl_hub.token_for("ada"),
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
    )
    assert resp.status_code == 201, resp.text
    ada = _workspace_tab(cl_browser, cl_hub, "ada", account, path)
    ben = _workspace_tab(cl_browser, cl_hub, "ben", account, path)

    # Inside the workspace, CohortLab knows each person as themselves, not the account.
    panel = _open_panel(ada)
    ada.wait_for_selector('[data-testid="cl-service-status"][data-state="ok"]', timeout=30_000)
    assert panel.get_by_test_id("cl-user-name").inner_text().strip() == "ada"

    # Presence: each sees the other.
    _wait_text(ada, '[data-testid="cl-presence"]', r"you and ben")
    _wait_text(ben, '[data-testid="cl-presence"]', r"you and ada")

    # ben edits the first cell; ada runs it: each sees who did what under the cell.
    editor = ben.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
    # At the line's start: the cell toolbar floats over the right of a narrow one-line cell.
    editor.click(position={"x": 4, "y": 4})
    ben.keyboard.press("Control+End")
    ben.keyboard.type(" + 40")
    _wait_text(ada, '[data-testid="cl-cell-attribution"]', r"last edited by ben")
    ada.locator(".jp-NotebookPanel .jp-Cell .cm-content").first.click(position={"x": 4, "y": 4})
    ada.keyboard.press("Shift+Enter")
    _wait_text(ben, '[data-testid="cl-cell-attribution"]', r"last run by ada", timeout=60)
    _wait_text(ada, ".jp-NotebookPanel .jp-OutputArea-output", r"^42$", timeout=60)

    # The cohort chat opens beside the notebook; ada @mentions ben with a message.
    chat_tab = ada.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="-chat.chat")
    chat_tab.first.wait_for(timeout=30_000)
    assert ada.locator(".lm-DockPanel-tabBar").count() == 2  # its own split, beside
    chat_input = ada.locator(".jp-chat-input-container textarea[placeholder]:visible").first
    chat_input.wait_for(timeout=30_000)
    chat_input.click()
    chat_input.fill("@ben the answer is 42")
    ada.keyboard.press("Enter")
    _wait_text(ben, ".jp-chat-rendered-message:visible", r"the answer is 42")
    ben.screenshot(path=str(cl_artifacts / "workspace-together.png"))

    # The instructor reads who contributed what (each browser reports its own counts).
    def reported() -> bool:
        counts = Person(cl_hub, "instructor").ok(
            "GET", f"courses/{COURSE}/cohorts/{cohort['name']}/activity"
        )
        members = {m["name"]: m for m in counts["members"]}
        assert members["ben"]["edits"] >= 1 and members["ada"]["runs"] >= 1, counts
        return True

    wait_until(
        reported, timeout=45, interval=1, what="ben's edit and ada's run in the cohort's activity"
    )
    for page in (ada, ben):
        assert not page.cl_errors, page.cl_errors
        page.context.close()
