"""A learner's post carries JupyterLab command links; a peer who clicks everything in it runs
no command and is not even asked to (issue 13, item 8).

JupyterLab's sanitizer keeps ``data-commandlinker-command`` (notebooks use it for tutorial
buttons) and its CommandLinker runs the command of a clicked element that carries one,
after a "Run command?" prompt: a button "See the solution" that opens a terminal is one
click from social engineering. CohortLab removes command links from peers' text where it
renders it and stops clicks on any that reach a peer's text some other way
(``extensions/labextension/src/peerText.ts``).

A positive control shows the CommandLinker is live in the same page: a command link we put
outside peers' text brings up its prompt. Because the CommandLinker handles clicks in
order, the control's prompt appearing *first* after the hostile clicks shows none of them
brought up one.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.helpers.browser import open_lab
from tests.helpers.hub import Hub

API = "/services/cohortlab/api/v1/courses/demo101"

HOSTILE = """A hint for everyone {tag}:

<button data-commandlinker-command="terminal:create-new">See the solution</button>
<a href="#" data-commandlinker-command="terminal:create-new"
   data-commandlinker-args="{{}}">solution</a>
<span data-commandlinker-command="help:about">about</span>
<div data-commandlinker-command="terminal:create-new"><em>click anywhere here</em></div>
"""

CONTROL = """() => {
  const b = document.createElement('button');
  b.id = 'cl-test-control';
  b.textContent = 'control';
  b.dataset.commandlinkerCommand = 'help:about';
  document.body.appendChild(b);
}"""


def _terminals(hub: Hub, user: str) -> list[Any]:
    resp = hub.api("GET", f"/user/{user}/api/terminals", hub.token_for(user))
    resp.raise_for_status()
    return resp.json()


def _control_prompt_is_the_first(page: Any) -> None:
    """Click the control and wait for a prompt: it must be the control's (help:about)."""
    page.evaluate("document.getElementById('cl-test-control').click()")  # under the shell
    dialog = page.locator(".jp-Dialog")
    dialog.first.wait_for(timeout=30_000)
    assert dialog.count() == 1, "a second prompt: a peer's command link asked to run"
    text = dialog.first.inner_text()
    assert "terminal" not in text.lower(), text
    # Dismissed with its own button (Cancel / Dismiss): Escape reaches the dialog only once
    # it has taken focus, which under load it may not have yet.
    dialog.first.locator(".jp-mod-reject").first.click()
    dialog.first.wait_for(state="detached", timeout=10_000)


def test_command_links_in_a_peers_post_run_nothing_when_clicked(
    cl_browser: Any, cl_hub: Hub
) -> None:
    tag = uuid.uuid4().hex[:8]
    resp = cl_hub.api(
        "POST",
        f"{API}/threads",
        cl_hub.token_for("ada"),
        json={"body": HOSTILE.format(tag=tag)},
    )
    assert resp.status_code == 201, resp.text
    ben = open_lab(cl_browser, cl_hub, "ben")
    before = _terminals(cl_hub, "ben")
    try:
        ben.click('.jp-SideBar [title="Discussion"]')
        thread = (
            ben.get_by_test_id("cl-course-threads")
            .get_by_test_id("cl-thread")
            .filter(has_text=f"A hint for everyone {tag}")
        )
        thread.wait_for(timeout=30_000)
        title = thread.get_by_test_id("cl-thread-title")
        if title.get_attribute("aria-expanded") != "true":
            title.click()
        body = thread.get_by_test_id("cl-post-body").first
        body.get_by_text("See the solution").wait_for(timeout=30_000)
        # Rendered, and disarmed: the elements are there as text, the links are not.
        assert body.locator("[data-commandlinker-command], [data-commandlinker-args]").count() == 0
        ben.evaluate(CONTROL)

        # Every element of the post, clicked as a person would (mouse and keyboard).
        for element in body.locator("*").all():
            if element.is_visible():
                element.click(force=True)
        body.get_by_role("button", name="See the solution").focus()
        ben.keyboard.press("Enter")
        _control_prompt_is_the_first(ben)

        # Links that reach a chat message (drawn by jupyterlab-chat, not by CohortLab) are
        # stopped by the page-wide guard: the same clicks on one put in that class.
        ben.evaluate(
            """() => {
              const m = document.createElement('div');
              m.className = 'jp-chat-rendered-message';
              m.innerHTML = '<button id="cl-test-chat" data-commandlinker-command='
                + '"terminal:create-new">run</button>';
              document.body.appendChild(m);
            }"""
        )
        ben.evaluate("document.getElementById('cl-test-chat').click()")
        _control_prompt_is_the_first(ben)
        assert _terminals(cl_hub, "ben") == before
        assert not ben.cl_errors, ben.cl_errors
    finally:
        ben.context.close()
