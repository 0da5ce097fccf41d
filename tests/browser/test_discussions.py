"""Two learners discuss a cell of the same course notebook, each in their own copy."""

from __future__ import annotations

import os
import pwd
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_panel import LAB_TIMEOUT_MS, _login_and_open_lab
from tests.helpers.hub import Hub

COURSE_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "welcome.ipynb"
LIVE_MS = 2_000


def _give_copy(user: str, name: str) -> None:
    """What releasing the course notebook does: the learner gets their own copy."""
    entry = pwd.getpwnam(user)
    dest = Path(entry.pw_dir) / name
    shutil.copyfile(COURSE_NOTEBOOK, dest)
    os.chown(dest, entry.pw_uid, entry.pw_gid)


def _open_notebook_cell(page: Any, hub: Hub, user: str, name: str) -> None:
    page.goto(f"{hub.url}/user/{user}/lab/tree/{name}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=LAB_TIMEOUT_MS)
    page.locator(".jp-NotebookPanel .jp-Cell").nth(1).click()
    page.click('.jp-SideBar [title="Discussion"]')
    page.get_by_test_id("cl-discussion-panel").wait_for(timeout=30_000)
    page.get_by_test_id("cl-compose-body").wait_for(timeout=30_000)


@pytest.fixture
def cl_two_learners(cl_browser: Any, cl_hub: Hub) -> tuple[Any, Any]:
    name = f"discuss-{uuid.uuid4().hex[:6]}.ipynb"
    _give_copy("ada", name)
    _give_copy("ben", name.replace("discuss", "mine"))  # ben's copy has another name
    ada = _login_and_open_lab(cl_browser, cl_hub, "ada")
    ben = _login_and_open_lab(cl_browser, cl_hub, "ben")
    _open_notebook_cell(ada, cl_hub, "ada", name)
    _open_notebook_cell(ben, cl_hub, "ben", name.replace("discuss", "mine"))
    yield ada, ben
    ada.context.close()
    ben.context.close()


def test_compose_reply_resolve_across_two_learners_live(cl_two_learners: tuple[Any, Any]) -> None:
    ada, ben = cl_two_learners
    title = f"Why print here {uuid.uuid4().hex[:4]}?"
    ada.get_by_test_id("cl-compose-body").fill(f"{title} @ben any idea?")
    ada.get_by_test_id("cl-compose-submit").click()
    cell_threads = ben.get_by_test_id("cl-cell-threads")
    thread = cell_threads.get_by_test_id("cl-thread").filter(has_text=title[:20])
    thread.wait_for(timeout=LIVE_MS + 1_000)  # arrives without reloading
    ben.get_by_test_id("cl-cell-badge").first.wait_for(timeout=LIVE_MS)
    thread.get_by_test_id("cl-thread-title").click()
    thread.get_by_test_id("cl-reply-body").fill("It shows the **user** name.")
    thread.get_by_test_id("cl-reply-submit").click()
    ada_thread = (
        ada.get_by_test_id("cl-cell-threads")
        .get_by_test_id("cl-thread")
        .filter(has_text=title[:20])
    )
    ada_thread.get_by_test_id("cl-post-body").filter(has_text="user name").wait_for(
        timeout=LIVE_MS + 1_000
    )
    ada_thread.get_by_test_id("cl-resolve").click()
    ben.locator(
        f'[data-testid="cl-thread"][data-resolved="true"]:has-text("{title[:20]}")'
    ).wait_for(timeout=LIVE_MS + 1_000)


def test_hostile_markdown_is_shown_as_text_and_never_runs(cl_two_learners: tuple[Any, Any]) -> None:
    ada, ben = cl_two_learners
    marker = uuid.uuid4().hex[:6]
    hostile = (
        f"Look {marker} <img src=x onerror=\"window.__clPwned='img'\">"
        "<script>window.__clPwned='script'</script>"
        "<a href=\"javascript:window.__clPwned='link'\">click</a> **bold**"
    )
    ada.get_by_test_id("cl-compose-body").fill(hostile)
    ada.get_by_test_id("cl-compose-submit").click()
    thread = ben.get_by_test_id("cl-thread").filter(has_text=f"Look {marker}").first
    thread.wait_for(timeout=LIVE_MS + 1_000)
    thread.get_by_test_id("cl-thread-title").click()
    body = thread.get_by_test_id("cl-post-body").first
    body.locator("strong", has_text="bold").wait_for(timeout=10_000)
    for page in (ada, ben):
        assert page.evaluate("window.__clPwned") is None
    assert body.locator("script").count() == 0
    assert body.locator("[onerror]").count() == 0
    links = body.locator("a")
    for i in range(links.count()):
        assert not (links.nth(i).get_attribute("href") or "").startswith("javascript:")
        links.nth(i).click()
    assert ben.evaluate("window.__clPwned") is None
