"""Peer review in real JupyterLab: a learner opens an assigned review from the Peer review
panel, sees the untrusted anonymous copy (hostile HTML and JavaScript outputs do not run,
not even after running code in the review kernel), the changed-cell marks and the rubric,
comments on a cell, saves a draft and submits; then the author reads the released feedback."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub
from tests.helpers.peer_review import api, my_numbers, open_round
from tests.helpers.waiting import output_settled, wait_until

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "peer-review.png"
UI_MS = 30_000
KERNEL_MS = 60_000
RUN_HOSTILE = (
    "from IPython.display import HTML, Javascript, display\n"
    "display(HTML('<i>ran</i><img src=x onerror=\"document.body.dataset.clPwned=1\">'))\n"
    "display(Javascript('document.body.dataset.clPwned = 2'))"
)
CELL_NOTE = "Nice use of the median; say why it *resists* outliers."


def _open_reviews_panel(page: Any) -> Any:
    page.click('.jp-SideBar [data-id="cohortlab-peer-review"]')
    panel = page.get_by_test_id("cl-reviews-panel")
    panel.wait_for(state="visible", timeout=UI_MS)
    return panel


def _pwned(page: Any) -> str | None:
    return page.evaluate("document.body.dataset.clPwned ?? null")


@pytest.fixture(scope="module")
def cl_round(cl_hub: Hub) -> dict[str, Any]:
    assignment = open_round(cl_hub, due_at="2031-01-01T00:00:00Z")
    return {"assignment": assignment, "number": my_numbers(cl_hub, "ada", assignment)[0]}


def test_a_learner_reviews_a_submission_in_jupyterlab(
    cl_browser: Any, cl_hub: Hub, cl_round: dict[str, Any], cl_artifacts: Path
) -> None:
    assignment, number = cl_round["assignment"], cl_round["number"]
    page = open_lab(cl_browser, cl_hub, "ada")
    panel = _open_reviews_panel(page)
    item = panel.locator(
        f'[data-testid="cl-reviews-round"][data-assignment="{assignment}"] '
        f'[data-testid="cl-reviews-assignment"][data-submission="{number}"]'
    )
    item.wait_for(timeout=UI_MS)
    assert item.get_attribute("data-state") == "not_opened"
    assert "not started" in item.inner_text()
    item.get_by_test_id("cl-reviews-open").click()

    # the copy, under its pseudonym, with no kernel running and a banner saying why
    notebook = page.locator(".jp-NotebookPanel.cl-ReviewNotebook")
    notebook.locator(".jp-Cell").first.wait_for(timeout=LAB_TIMEOUT_MS)
    tab = page.locator(".lm-TabBar-tab.jp-mod-current", has_text="hw.ipynb")
    assert tab.count() >= 1
    banner = notebook.get_by_test_id("cl-review-banner")
    banner.wait_for(timeout=UI_MS)
    assert banner.get_attribute("data-state") == "stopped"
    assert "no hub token" in banner.inner_text()

    # hostile outputs: the HTML is shown sanitized, nothing of it or the JavaScript ran
    notebook.locator(".jp-OutputArea-output b", has_text="hostile").wait_for(timeout=UI_MS)
    assert _pwned(page) is None
    assert notebook.locator(".jp-OutputArea-output script").count() == 0
    assert notebook.locator(".jp-OutputArea-output img[onerror]").count() == 0

    # changed cells marked against the template (cells 1 and 2 of 4)
    marks = notebook.get_by_test_id("cl-review-changed")
    marks.first.wait_for(timeout=UI_MS)
    cells = notebook.locator(".jp-Notebook .jp-Cell")
    statuses = [cells.nth(i).get_attribute("data-cl-review-status") for i in range(4)]
    assert statuses == ["unchanged", "changed", "changed", "unchanged"]
    assert marks.count() == 2

    # the rubric beside it: nbgrader's manually graded cell and the instructor's criterion
    sheet = page.get_by_test_id("cl-review-sheet")
    sheet.get_by_test_id("cl-review-criterion").nth(1).wait_for(timeout=UI_MS)
    keys = [
        sheet.get_by_test_id("cl-review-criterion").nth(i).get_attribute("data-key")
        for i in range(2)
    ]
    assert keys == ["hw:essay", "clarity"]
    assert sheet.locator(".cl-Review-desc strong", has_text="reasoning").count() == 1

    # a comment pinned to the essay cell (cell 2), scores, an overall comment, a draft
    cells.nth(2).get_by_test_id("cl-review-comment-cell").click()
    box = sheet.get_by_test_id("cl-review-cell-comment-text")
    box.wait_for(timeout=UI_MS)
    assert box.evaluate("el => el === document.activeElement")
    box.fill(CELL_NOTE)
    scores = sheet.get_by_test_id("cl-review-score")
    scores.nth(0).fill("2")
    scores.nth(1).fill("2.5")
    sheet.get_by_test_id("cl-review-comment").fill("Clear and **short**.")
    sheet.get_by_test_id("cl-review-save").click()
    expect(sheet.get_by_test_id("cl-review-status")).to_contain_text("Draft saved", timeout=UI_MS)
    mine = api(cl_hub, "ada", "GET", f"/{assignment}/submissions/{number}")["review"]
    assert mine["status"] == "draft"
    assert mine["cell_comments"] == [
        {"notebook": "hw.ipynb", "cell": 2, "output": None, "text": CELL_NOTE}
    ]
    assert mine["scores"]["clarity"]["score"] == 2.5
    assert cells.nth(2).get_by_test_id("cl-review-comment-count").inner_text().strip() == "💬 1"

    # running code in the review kernel: after the warning, and its HTML still does not run
    notebook.get_by_test_id("cl-review-run").click()
    page.locator(
        ".jp-StatusBar-Widget", has_text="Peer review (sandboxed Python) | Idle"
    ).first.wait_for(timeout=KERNEL_MS)
    assert banner.get_attribute("data-state") == "running"
    cells.nth(3).click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new code cell below, as a reviewer trying things would add
    page.keyboard.press("Enter")
    page.keyboard.type(RUN_HOSTILE)
    page.keyboard.press("Shift+Enter")
    notebook.locator(".jp-OutputArea-output i", has_text="ran").wait_for(timeout=KERNEL_MS)
    # both outputs drawn (the HTML and, after it, the JavaScript one, shown as its text) ...
    ran_cell = notebook.locator(
        ".jp-Cell", has=page.locator(".jp-OutputArea-output i", has_text="ran")
    )
    expect(ran_cell.locator(".jp-OutputArea-child")).to_have_count(2, timeout=KERNEL_MS)
    # ... then until the image's load has failed and its handlers had their turn (a
    # JavaScript output, had it been run, ran as it was drawn)
    output_settled(ran_cell.locator(".jp-OutputArea"), timeout=KERNEL_MS)
    assert _pwned(page) is None

    # a comment on an output, from its context menu; one on a cell, from the keyboard
    output = cells.nth(1).locator(".jp-OutputArea-child", has_text="median = 3")
    output_index = output.evaluate(
        "el => [...el.parentElement.children]"
        ".filter(c => c.classList.contains('jp-OutputArea-child')).indexOf(el)"
    )
    # The cell is made active first, as a person clicking into it would. A right click on an
    # output of a cell that is not the active one showed only the cell's items (since the
    # per-user origins; cause not found yet: noted in the issue).
    output.get_by_text("median = 3").click()
    output.get_by_text("median = 3").click(button="right")
    page.locator(".lm-Menu-item", has_text="Comment on This Output").click()
    boxes = sheet.get_by_test_id("cl-review-cell-comment-text")
    boxes.nth(1).wait_for(timeout=UI_MS)
    boxes.nth(1).fill("Print the mean too.")
    cells.nth(3).click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Alt+m")
    boxes.nth(2).wait_for(timeout=UI_MS)
    assert boxes.nth(2).evaluate("el => el === document.activeElement")
    page.keyboard.type("A closing summary would help.")

    # submit, after confirming
    sheet.get_by_test_id("cl-review-submit").click()
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Submit").click()
    expect(sheet.get_by_test_id("cl-review-status")).to_contain_text(
        "Review submitted", timeout=UI_MS
    )
    mine = api(cl_hub, "ada", "GET", f"/{assignment}/submissions/{number}")["review"]
    assert mine["status"] == "submitted"
    assert mine["cell_comments"] == [
        {"notebook": "hw.ipynb", "cell": 2, "output": None, "text": CELL_NOTE},
        {"notebook": "hw.ipynb", "cell": 1, "output": output_index, "text": "Print the mean too."},
        {
            "notebook": "hw.ipynb",
            "cell": 3,
            "output": None,
            "text": "A closing summary would help.",
        },
    ]
    # the list says so too (the sheet's save refreshes it)
    row = f'[data-testid="cl-reviews-assignment"][data-submission="{number}"]'
    try:
        page.wait_for_function(
            "sel => document.querySelector(sel)?.dataset.state === 'submitted'",
            arg=row,
            timeout=UI_MS,
        )
    except PlaywrightTimeout:  # seen under load, cause not found yet: say what the list shows
        shown = page.get_by_test_id("cl-reviews-panel").first.inner_text()
        message = f"the list did not follow the submission; it shows:\n{shown}"
        raise AssertionError(message) from None
    shot = cl_artifacts / "peer-review.png"
    page.screenshot(path=str(shot))
    shutil.copyfile(shot, SCREENSHOT)
    assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    page.context.close()


def _author_and_reviewers(hub: Hub, assignment: str, author: str) -> tuple[int, list[str]]:
    view = api(hub, "instructor", "GET", f"/{assignment}")
    sub = next(s for s in view["submissions"] if s["author"] == author)
    return sub["number"], [r["user"] for r in sub["reviewers"]]


def test_an_author_reads_released_feedback_on_their_own_notebook(
    cl_browser: Any, cl_hub: Hub
) -> None:
    assignment = open_round(cl_hub, due_at="2031-01-01T00:00:00Z")
    number, reviewers = _author_and_reviewers(cl_hub, assignment, "ben")
    for i, reviewer in enumerate(reviewers):
        api(cl_hub, reviewer, "GET", f"/{assignment}/submissions/{number}")
        body = {
            "scores": {"hw:essay": {"score": 1 + i}, "clarity": {"score": 3, "comment": "Clear."}},
            "comment": f"Overall **{i}**",
            "cell_comments": [
                {"notebook": "hw.ipynb", "cell": 2, "text": f"Note {i} on the essay"}
            ],
            "submit": True,
        }
        api(cl_hub, reviewer, "PUT", f"/{assignment}/submissions/{number}/review", body)
    api(cl_hub, "instructor", "PATCH", f"/{assignment}", {"released": True})

    page = open_lab(cl_browser, cl_hub, "ben")
    panel = _open_reviews_panel(page)
    round_box = panel.locator(f'[data-testid="cl-reviews-round"][data-assignment="{assignment}"]')
    round_box.get_by_test_id("cl-reviews-feedback").click()
    sheet = page.get_by_test_id("cl-feedback-sheet")
    sheet.get_by_test_id("cl-feedback-review").nth(1).wait_for(timeout=UI_MS)
    assert "Review 1" in sheet.inner_text() and "Review 2" in sheet.inner_text()
    assert not any(name in sheet.inner_text() for name in reviewers)  # names not shown
    scores = sheet.get_by_test_id("cl-feedback-scores").inner_text()
    assert "Clarity" in scores and "3 of 3 points" in scores
    # the cell comments hang on cell 2 of ben's own (anonymous) notebook, read-only
    notebook = page.locator(".jp-NotebookPanel.cl-ReviewNotebook")
    notes = notebook.get_by_test_id("cl-feedback-cell-comment")
    notes.nth(1).wait_for(timeout=UI_MS)
    texts = [" ".join(t.split()) for t in notes.all_inner_texts()]
    assert len(texts) == 2
    assert {t.split(":")[0] for t in texts} == {"Review 1", "Review 2"}
    assert {t.split(": ", 1)[1] for t in texts} == {"Note 0 on the essay", "Note 1 on the essay"}
    assert notebook.get_by_test_id("cl-review-banner").get_attribute("data-state") == "stopped"
    # rate the first review, flag the second
    first = sheet.get_by_test_id("cl-feedback-review").nth(0)
    first.locator('input[type="radio"][value="4"]').check()
    expect(first.get_by_role("status")).to_contain_text("rating saved", timeout=UI_MS)
    second = sheet.get_by_test_id("cl-feedback-review").nth(1)
    second.get_by_test_id("cl-feedback-flag").click()
    page.get_by_test_id("cl-feedback-flag-reason").fill("It is rude.")
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Flag").click()
    expect(sheet.get_by_test_id("cl-feedback-review").nth(1)).to_contain_text(
        "You flagged this review", timeout=UI_MS
    )
    feedback = api(cl_hub, "ben", "GET", f"/{assignment}/feedback")
    assert [r["helpfulness"] for r in feedback["reviews"]] == [4, None]
    assert [r["flagged"] for r in feedback["reviews"]] == [False, True]
    assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    page.context.close()


def test_past_the_due_date_the_review_is_read_only_and_only_the_review_kernel_runs(
    cl_browser: Any, cl_hub: Hub
) -> None:
    assignment = open_round(cl_hub, due_at="2031-01-01T00:00:00Z")
    number = my_numbers(cl_hub, "cy", assignment)[0]
    api(cl_hub, "instructor", "PATCH", f"/{assignment}", {"due_at": "2021-01-01T00:00:00Z"})
    page = open_lab(cl_browser, cl_hub, "cy")
    panel = _open_reviews_panel(page)
    item = panel.locator(
        f'[data-testid="cl-reviews-round"][data-assignment="{assignment}"] '
        f'[data-testid="cl-reviews-assignment"][data-submission="{number}"]'
    )
    item.wait_for(timeout=UI_MS)
    assert item.get_by_test_id("cl-reviews-open").inner_text().strip() == "View"
    item.get_by_test_id("cl-reviews-open").click()
    sheet = page.get_by_test_id("cl-review-sheet")
    sheet.get_by_test_id("cl-review-readonly").wait_for(timeout=UI_MS)
    assert sheet.get_by_test_id("cl-review-save").count() == 0
    assert sheet.get_by_test_id("cl-review-submit").count() == 0
    assert all(
        sheet.get_by_test_id("cl-review-score").nth(i).evaluate("el => el.readOnly")
        for i in range(2)
    )
    notebook = page.locator(".jp-NotebookPanel.cl-ReviewNotebook")
    notebook.locator(".jp-Cell").first.wait_for(timeout=LAB_TIMEOUT_MS)
    assert notebook.get_by_test_id("cl-review-comment-cell").count() == 0

    # choosing an ordinary kernel (which holds the hub token) for the copy is undone
    notebook.locator(".jp-Cell").first.click()
    page.locator(".lm-MenuBar-item", has_text="Kernel").click()
    page.locator(".lm-Menu-item", has_text="Change Kernel").first.click()
    page.locator(".jp-Dialog select").select_option(label="Python 3 (ipykernel)")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    refusal = page.locator(".jp-Dialog", has_text="Submissions run only in the review kernel")
    refusal.wait_for(timeout=KERNEL_MS)
    refusal.locator(".jp-mod-accept").click()
    path = f"peer-review/{assignment}/Submission {number}/hw.ipynb"

    def kernels_on_copy() -> list[str]:
        sessions = cl_hub.api("GET", "/user/cy/api/sessions", cl_hub.token_for("cy")).json()
        return [s["kernel"]["name"] for s in sessions if s["path"] == path and s.get("kernel")]

    wait_until(
        lambda: kernels_on_copy() == [],
        timeout=15,
        what="the ordinary kernel on the copy to be shut down again",
    )
    page.context.close()
