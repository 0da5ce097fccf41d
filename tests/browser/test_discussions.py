"""Two learners discuss a cell of the same course notebook, each in their own copy."""

from __future__ import annotations

import os
import pwd
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub

COURSE_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "welcome.ipynb"
LIVE_MS = 2_000
DISCUSSION_SCREENSHOT = (
    Path(__file__).resolve().parents[2] / "docs" / "images" / "cohortlab-discussion.png"
)


def _give_copy(user: str, name: str) -> None:
    """What releasing the course notebook does: the learner gets their own copy."""
    entry = pwd.getpwnam(user)
    dest = Path(entry.pw_dir) / name
    shutil.copyfile(COURSE_NOTEBOOK, dest)
    os.chown(dest, entry.pw_uid, entry.pw_gid)


def _wait_for_event_stream(page: Any) -> None:
    """The left CohortLab panel shows the stream's state; the right panel stays open."""
    page.click('.jp-SideBar [title="CohortLab"]')
    page.wait_for_selector(
        '[data-testid="cl-events-status"][data-state="connected"]', timeout=30_000
    )


def _cell_key(index: int) -> str:
    import nbformat
    from cohortlab.discussions.anchoring import stable_cell_key

    key = stable_cell_key(nbformat.read(COURSE_NOTEBOOK, as_version=4).cells[index])
    assert key
    return key


def _open_notebook_cell(page: Any, hub: Hub, user: str, name: str, index: int = 1) -> None:
    """Open the notebook, select a cell, and wait until the panel shows that cell."""
    page.goto(hub.at(f"/user/{user}/lab/tree/{name}"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=LAB_TIMEOUT_MS)
    page.locator(".jp-NotebookPanel .jp-Cell").nth(index).click()
    page.click('.jp-SideBar [title="Discussion"]')
    page.locator(f'[data-testid="cl-cell-threads"][data-cell-key="{_cell_key(index)}"]').wait_for(
        timeout=30_000
    )
    page.get_by_test_id("cl-compose-body").wait_for(timeout=30_000)


@pytest.fixture
def cl_two_learners(cl_browser: Any, cl_hub: Hub) -> tuple[Any, Any]:
    name = f"discuss-{uuid.uuid4().hex[:6]}.ipynb"
    _give_copy("ada", name)
    _give_copy("ben", name.replace("discuss", "mine"))  # ben's copy has another name
    ada = open_lab(cl_browser, cl_hub, "ada")
    ben = open_lab(cl_browser, cl_hub, "ben")
    _open_notebook_cell(ada, cl_hub, "ada", name)
    _open_notebook_cell(ben, cl_hub, "ben", name.replace("discuss", "mine"))
    for page in (ada, ben):  # live updates are what these tests are about
        _wait_for_event_stream(page)
    yield ada, ben
    ada.context.close()
    ben.context.close()


def test_compose_reply_resolve_across_two_learners_live(
    cl_hub: Hub, cl_two_learners: tuple[Any, Any]
) -> None:
    ada, ben = cl_two_learners
    title = f"Why print here {uuid.uuid4().hex[:4]}?"
    compose = ada.get_by_test_id("cl-compose-body")
    compose.fill(f"{title} ")
    compose.press_sequentially("@be")
    ada.wait_for_function(  # the list for "@be", not an earlier one for "@" or "@b"
        "() => [...document.querySelectorAll('[data-testid=cl-mention-option]')]"
        ".map(e => e.textContent).join() === '@ben'",
        timeout=5_000,
    )
    compose.press("Enter")  # completes the mention, does not send
    compose.press_sequentially("any idea?")
    assert compose.input_value() == f"{title} @ben any idea?"
    ada.get_by_test_id("cl-compose-submit").click()
    cell_threads = ben.get_by_test_id("cl-cell-threads")
    thread = cell_threads.get_by_test_id("cl-thread").filter(has_text=title[:20])
    thread.wait_for(timeout=LIVE_MS + 1_000)  # arrives without reloading
    ben.get_by_test_id("cl-cell-badge").first.wait_for(timeout=LIVE_MS)
    _assert_anchor_matches_the_service(cl_hub, thread.get_attribute("data-thread-id"))
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
    first = ada_thread.get_by_test_id("cl-post").first
    first.get_by_test_id("cl-edit-post").click()
    first.get_by_test_id("cl-edit-body").fill(f"{title} (edited) @ben any idea?")
    first.get_by_test_id("cl-edit-submit").click()
    ben.get_by_test_id("cl-post-body").filter(has_text="(edited)").first.wait_for(
        timeout=LIVE_MS + 1_000
    )
    ada_thread.get_by_test_id("cl-resolve").click()
    ben.locator(
        f'[data-testid="cl-thread"][data-resolved="true"]:has-text("{title[:20]}")'
    ).wait_for(timeout=LIVE_MS + 1_000)
    # the README's picture of the discussion: ben's view of the thread, live
    ben.screenshot(path=str(DISCUSSION_SCREENSHOT))


def _assert_anchor_matches_the_service(hub: Hub, thread_id: str | None) -> None:
    """The lab computes the anchor in TypeScript; it must equal the service's Python rules."""
    import nbformat
    from cohortlab.discussions.anchoring import fingerprint

    hub_thread = hub.api(
        "GET",
        f"/services/cohortlab/api/v1/courses/demo101/threads/{thread_id}",
        hub.token_for("ada"),
    ).json()
    cells = nbformat.read(COURSE_NOTEBOOK, as_version=4).cells
    anchor = dict(hub_thread["anchor"])
    assert anchor.pop("path", "").endswith(".ipynb")  # where ada's copy is, for others to open
    assert anchor == fingerprint(cells, 1).to_json()


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


def test_staff_endorse_and_hide_a_flagged_post_live_in_both_learners_browsers(
    cl_browser: Any, cl_hub: Hub, cl_two_learners: tuple[Any, Any]
) -> None:
    ada, ben = cl_two_learners
    tag = uuid.uuid4().hex[:6]
    ada.get_by_test_id("cl-compose-body").fill(f"Question {tag}: what does this print?")
    ada.locator('select[aria-label="Kind of thread"]').first.select_option("question")
    ada.get_by_test_id("cl-compose-submit").click()
    thread = ben.get_by_test_id("cl-thread").filter(has_text=f"Question {tag}").first
    thread.wait_for(timeout=LIVE_MS + 1_000)
    thread.get_by_test_id("cl-thread-title").click()
    thread.get_by_test_id("cl-reply-body").fill(f"It prints hello {tag}")
    thread.get_by_test_id("cl-reply-submit").click()
    ada_thread = ada.get_by_test_id("cl-thread").filter(has_text=f"Question {tag}").first
    reply = ada_thread.get_by_test_id("cl-post").filter(has_text=f"hello {tag}")
    reply.wait_for(timeout=LIVE_MS + 1_000)

    # A mentor endorses ben's answer in their own browser; both learners see it live.
    unread_before = int(ben.get_by_test_id("cl-notifications").get_attribute("data-unread") or 0)
    mentor = open_lab(cl_browser, cl_hub, "mentor")
    try:
        mentor.click('.jp-SideBar [title="Discussion"]')
        mentor_thread = mentor.get_by_test_id("cl-thread").filter(has_text=f"Question {tag}")
        mentor.get_by_test_id("cl-search").fill(f"Question {tag}")
        mentor.get_by_test_id("cl-search").press("Enter")
        mentor_thread.first.get_by_test_id("cl-thread-title").click()
        mentor_reply = mentor_thread.first.get_by_test_id("cl-post").filter(has_text=f"hello {tag}")
        mentor_reply.get_by_test_id("cl-endorse").click()
        for page in (ada, ben):
            page.get_by_test_id("cl-post").filter(has_text="endorsed by mentor").first.wait_for(
                timeout=LIVE_MS + 1_000
            )
        ben.wait_for_function(
            "n => Number(document.querySelector('[data-testid=cl-notifications]')"
            ".dataset.unread) > n",
            arg=unread_before,
            timeout=LIVE_MS + 1_000,
        )
    finally:
        mentor.context.close()

    # cy posts something rude; ben flags it; the instructor hides it: gone for both, live.
    rude = cl_hub.api(
        "POST",
        f"/services/cohortlab/api/v1/courses/demo101/threads/{ada_thread_id(ada, tag)}/posts",
        cl_hub.token_for("cy"),
        json={"body": f"rude words {tag}"},
    ).json()["post"]
    ben_rude = ben.get_by_test_id("cl-post").filter(has_text=f"rude words {tag}")
    ben_rude.wait_for(timeout=LIVE_MS + 1_000)
    ben.once("dialog", lambda dialog: dialog.accept("This is rude"))
    ben_rude.get_by_test_id("cl-flag").click()
    ben_rude.get_by_text("Flagged for staff").wait_for(timeout=5_000)
    flags = cl_hub.api(
        "GET", "/services/cohortlab/api/v1/courses/demo101/flags", cl_hub.token_for("instructor")
    ).json()["flags"]
    assert any(f["post_id"] == rude["id"] and f["count"] == 1 for f in flags)
    cl_hub.api(
        "PATCH",
        f"/services/cohortlab/api/v1/courses/demo101/posts/{rude['id']}",
        cl_hub.token_for("instructor"),
        json={"hidden": True},
    ).raise_for_status()
    for page in (ada, ben):
        page.get_by_test_id("cl-post-body").filter(has_text="hidden by a moderator").first.wait_for(
            timeout=LIVE_MS + 1_000
        )
        assert page.get_by_text(f"rude words {tag}").count() == 0


def ada_thread_id(page: Any, tag: str) -> str:
    node = page.get_by_test_id("cl-thread").filter(has_text=f"Question {tag}").first
    return node.get_attribute("data-thread-id")


def test_a_thread_whose_cell_is_gone_shows_at_notebook_level_marked(
    cl_browser: Any, cl_hub: Hub
) -> None:
    import nbformat

    name = f"gone-{uuid.uuid4().hex[:6]}.ipynb"
    _give_copy("ada", name)
    nb = nbformat.read(COURSE_NOTEBOOK, as_version=4)
    del nb.cells[1]  # ben deleted the code cell from his copy
    entry = pwd.getpwnam("ben")
    dest = Path(entry.pw_dir) / name
    nbformat.write(nb, dest)
    os.chown(dest, entry.pw_uid, entry.pw_gid)
    ada = open_lab(cl_browser, cl_hub, "ada")
    ben = open_lab(cl_browser, cl_hub, "ben")
    try:
        _open_notebook_cell(ada, cl_hub, "ada", name)
        tag = uuid.uuid4().hex[:6]
        ada.get_by_test_id("cl-compose-body").fill(f"About this code {tag}")
        ada.get_by_test_id("cl-compose-submit").click()
        ada.get_by_test_id("cl-cell-threads").get_by_text(f"About this code {tag}").first.wait_for()
        ben.goto(cl_hub.at(f"/user/ben/lab/tree/{name}"))
        ben.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=LAB_TIMEOUT_MS)
        ben.locator(".jp-NotebookPanel .jp-Cell").first.click()
        ben.click('.jp-SideBar [title="Discussion"]')
        marked = ben.get_by_test_id("cl-notebook-threads").locator(
            '[data-testid="cl-thread"][data-placement="cell removed"]'
        )
        marked.filter(has_text=f"About this code {tag}").wait_for(timeout=30_000)
    finally:
        ada.context.close()
        ben.context.close()
