"""The instructor's side of peer review in real JupyterLab: the rounds in the Peer review
panel, the Results view (peer scores beside the aggregate, the spread, overriding a score,
excluding a review), releasing feedback; a mentor reads the results without any control that
changes them, and a learner's panel has no staff controls at all."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_panel import _login_and_open_lab
from tests.helpers.hub import Hub
from tests.helpers.peer_review import api, open_round

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "peer-review-results.png"
UI_MS = 30_000


def _open_reviews_panel(page: Any) -> Any:
    page.click('.jp-SideBar [data-id="cohortlab-peer-review"]')
    panel = page.get_by_test_id("cl-reviews-panel")
    panel.wait_for(state="visible", timeout=UI_MS)
    return panel


def _staff_round(panel: Any, assignment: str) -> Any:
    box = panel.locator(f'[data-testid="cl-reviews-staff-round"][data-assignment="{assignment}"]')
    box.wait_for(timeout=UI_MS)
    return box


@pytest.fixture(scope="module")
def cl_scored(cl_hub: Hub) -> dict[str, Any]:
    """A round where ben's submission has two submitted reviews that disagree on the essay
    (0 and 2 of 2 points) and nearly agree on clarity (3 and 2 of 3)."""
    assignment = open_round(cl_hub, due_at="2031-01-01T00:00:00Z")
    view = api(cl_hub, "instructor", "GET", f"/{assignment}")
    sub = next(s for s in view["submissions"] if s["author"] == "ben")
    number, reviewers = sub["number"], [r["user"] for r in sub["reviewers"]]
    for reviewer, essay, clarity in zip(reviewers, (0, 2), (3, 2), strict=True):
        api(cl_hub, reviewer, "GET", f"/{assignment}/submissions/{number}")
        body = {
            "scores": {"hw:essay": {"score": essay}, "clarity": {"score": clarity}},
            "comment": f"Review by {reviewer}: <b>not bold</b>",
            "cell_comments": [],
            "submit": True,
        }
        api(cl_hub, reviewer, "PUT", f"/{assignment}/submissions/{number}/review", body)
    return {"assignment": assignment, "number": number, "reviewers": reviewers}


def _results(hub: Hub, assignment: str, number: int) -> dict[str, Any]:
    body = api(hub, "instructor", "GET", f"/{assignment}/results")
    return next(s for s in body["submissions"] if s["number"] == number)


def test_an_instructor_overrides_a_score_excludes_a_review_and_releases(
    cl_browser: Any, cl_hub: Hub, cl_scored: dict[str, Any], cl_artifacts: Path
) -> None:
    assignment, number = cl_scored["assignment"], cl_scored["number"]
    first, second = cl_scored["reviewers"]
    page = _login_and_open_lab(cl_browser, cl_hub, "instructor")
    panel = _open_reviews_panel(page)
    box = _staff_round(panel, assignment)
    assert box.get_attribute("data-state") == "open"
    facts = box.get_by_test_id("cl-reviews-round-facts").inner_text()
    assert "6 submissions" in facts and "2 of 12 reviews done" in facts and "0 open flags" in facts
    assert panel.get_by_test_id("cl-open-round").count() == 1
    box.get_by_test_id("cl-reviews-results").click()

    view = page.locator(f'[data-testid="cl-review-results"][data-assignment="{assignment}"]')
    sub = view.locator(f'[data-testid="cl-results-submission"][data-number="{number}"]')
    sub.wait_for(timeout=UI_MS)
    assert sub.get_attribute("data-author") == "ben"  # staff see who wrote it
    essay = sub.locator('[data-testid="cl-results-criterion"][data-key="hw:essay"]')
    peers = essay.get_by_test_id("cl-results-peer").all_inner_texts()
    assert sorted(peers) == sorted([f"{first}: 0", f"{second}: 2"])
    assert essay.get_by_test_id("cl-results-aggregate").inner_text() == "1"  # the median
    spread = essay.get_by_test_id("cl-results-spread")
    assert spread.get_attribute("data-large") == "true"  # 2 of 2 points apart
    clarity = sub.locator('[data-testid="cl-results-criterion"][data-key="clarity"]')
    assert clarity.get_by_test_id("cl-results-spread").get_attribute("data-large") is None
    # a review's text is shown as text, never as markup
    assert sub.locator(".cl-Results-comment b").count() == 0
    assert "<b>not bold</b>" in sub.get_by_test_id("cl-results-review").first.inner_text()
    # another submission, not reviewed yet, says so
    expect(view.get_by_test_id("cl-results-no-reviews").first).to_be_visible()

    # override the essay: the final changes here and in the service's results
    score = essay.get_by_test_id("cl-results-override-score")
    assert "Override score for" in (score.get_attribute("aria-label") or "")
    assert f"Submission {number} (ben)" in (score.get_attribute("aria-label") or "")
    score.fill("1.5")
    essay.get_by_test_id("cl-results-override-reason").fill("Read it myself")
    essay.get_by_test_id("cl-results-override-save").click()
    final = essay.get_by_test_id("cl-results-final")
    expect(final).to_contain_text("1.5 (override)", timeout=UI_MS)
    expect(view.get_by_test_id("cl-results-status")).to_contain_text("is now 1.5")
    row = _results(cl_hub, assignment, number)["criteria"]["hw:essay"]
    assert row["final"] == 1.5 and row["aggregate"] == 1
    assert row["override"]["reason"] == "Read it myself" and row["override"]["by"] == "instructor"

    # the screenshot in docs/peer-review-lab.md: the disagreement shown, the override made
    shot = cl_artifacts / "peer-review-results.png"
    sub.scroll_into_view_if_needed()
    page.screenshot(path=str(shot))
    shutil.copyfile(shot, SCREENSHOT)

    # a score out of range is refused before sending, with a message
    clarity.get_by_test_id("cl-results-override-score").fill("7")
    clarity.get_by_test_id("cl-results-override-save").click()
    expect(view.get_by_test_id("cl-results-status")).to_contain_text("from 0 to 3")
    assert _results(cl_hub, assignment, number)["criteria"]["clarity"]["override"] is None

    # exclude the second review: struck through, left out of the aggregate
    review = sub.locator(f'[data-testid="cl-results-review"][data-reviewer="{second}"]')
    review.get_by_test_id("cl-results-exclude").click()
    page.get_by_test_id("cl-results-exclude-reason").fill("Scores without reading")
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Exclude").click()
    expect(review).to_have_attribute("data-excluded", "true", timeout=UI_MS)
    struck = clarity.locator('[data-testid="cl-results-peer"][data-excluded="true"]')
    expect(struck).to_have_count(1)
    assert struck.locator("s").inner_text() == f"{second}: 2"
    expect(clarity.get_by_test_id("cl-results-aggregate")).to_have_text("3")
    expect(essay.get_by_test_id("cl-results-final")).to_contain_text("1.5")  # still the override
    served = _results(cl_hub, assignment, number)
    excluded = [r for r in served["reviews"] if r["excluded"]]
    assert [r["reviewer"] for r in excluded] == [second]
    assert excluded[0]["excluded"]["reason"] == "Scores without reading"
    assert served["criteria"]["clarity"]["aggregate"] == 3
    reviewers = view.get_by_test_id("cl-results-reviewers")
    mine = reviewers.locator(f'[data-testid="cl-results-reviewer"][data-user="{first}"]')
    assert mine.locator("td").nth(1).inner_text() == "1"  # done

    # include it again, clear the override: back to the peers' median
    review.get_by_test_id("cl-results-exclude").click()
    expect(view.get_by_test_id("cl-results-status")).to_contain_text("counts again", timeout=UI_MS)
    expect(review).to_have_attribute("data-excluded", "false")
    essay.get_by_test_id("cl-results-override-clear").click()
    expect(essay.get_by_test_id("cl-results-final")).to_have_text("1", timeout=UI_MS)
    assert _results(cl_hub, assignment, number)["criteria"]["hw:essay"]["override"] is None
    essay.get_by_test_id("cl-results-override-score").fill("2")
    essay.get_by_test_id("cl-results-override-save").click()
    expect(essay.get_by_test_id("cl-results-final")).to_contain_text("2 (override)", timeout=UI_MS)

    # release, with reviewers' names shown, after confirming
    box.get_by_test_id("cl-reviews-release").click()
    page.get_by_test_id("cl-reviews-release-names").check()
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Release").click()
    released = _staff_round(panel, assignment)
    expect(released).to_have_attribute("data-state", "released", timeout=UI_MS)
    assert released.get_by_test_id("cl-reviews-release").count() == 0
    state = api(cl_hub, "instructor", "GET", f"/{assignment}")["round"]
    assert state["released"] is True and state["names_visible"] is True
    # the author's feedback carries the override
    feedback = api(cl_hub, "ben", "GET", f"/{assignment}/feedback")
    assert feedback["scores"]["hw:essay"] == 2
    assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    page.context.close()


def test_a_mentor_reads_results_without_controls_that_change_them(
    cl_browser: Any, cl_hub: Hub, cl_scored: dict[str, Any]
) -> None:
    assignment, number = cl_scored["assignment"], cl_scored["number"]
    page = _login_and_open_lab(cl_browser, cl_hub, "mentor")
    panel = _open_reviews_panel(page)
    box = _staff_round(panel, assignment)
    for testid in ("cl-reviews-close", "cl-reviews-release", "cl-reviews-export"):
        assert box.get_by_test_id(testid).count() == 0, testid
    assert panel.get_by_test_id("cl-open-round").count() == 0
    box.get_by_test_id("cl-reviews-results").click()
    view = page.locator(f'[data-testid="cl-review-results"][data-assignment="{assignment}"]')
    sub = view.locator(f'[data-testid="cl-results-submission"][data-number="{number}"]')
    sub.wait_for(timeout=UI_MS)
    assert view.get_attribute("data-editable") == "false"
    essay = sub.locator('[data-testid="cl-results-criterion"][data-key="hw:essay"]')
    assert essay.get_by_test_id("cl-results-peer").count() == 2
    assert essay.get_by_test_id("cl-results-final").inner_text().strip() != ""
    for testid in (
        "cl-results-override-score",
        "cl-results-override-save",
        "cl-results-override-clear",
        "cl-results-exclude",
        "cl-results-method",
    ):
        assert view.get_by_test_id(testid).count() == 0, testid
    assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    page.context.close()


def test_a_learners_panel_has_no_staff_controls(
    cl_browser: Any, cl_hub: Hub, cl_scored: dict[str, Any]
) -> None:
    assignment = cl_scored["assignment"]
    page = _login_and_open_lab(cl_browser, cl_hub, "ada")
    panel = _open_reviews_panel(page)
    panel.locator(f'[data-testid="cl-reviews-round"][data-assignment="{assignment}"]').wait_for(
        timeout=UI_MS
    )
    for testid in (
        "cl-reviews-staff-round",
        "cl-reviews-results",
        "cl-open-round",
        "cl-reviews-release",
        "cl-reviews-export",
    ):
        assert panel.get_by_test_id(testid).count() == 0, testid
    page.context.close()
