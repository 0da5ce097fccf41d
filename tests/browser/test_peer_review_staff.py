"""The instructor's side of peer review in real JupyterLab: the rounds in the Peer review
panel, the Results view (peer scores beside the aggregate, the spread, overriding a score,
excluding a review), releasing feedback; a mentor reads the results without any control that
changes them, and a learner's panel has no staff controls at all. Then, on a real nbgrader
course (submissions made with nbgrader's own commands), the instructor opens a round from the
panel's form, follows its progress bar to the end, overrides a score and exports to the
gradebook."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import open_lab
from tests.helpers.hub import Hub
from tests.helpers.nbgrader import (
    COURSE,
    VENV,
    NbgraderCourse,
    collected_course,
    ok,
    run_as,
)
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
    page = open_lab(cl_browser, cl_hub, "instructor")
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

    # another staff change arrives while an override is being typed: the typing is kept, the
    # view says there is news, and saving still works
    clarity.get_by_test_id("cl-results-override-score").fill("2.5")
    api(
        cl_hub,
        "instructor",
        "PUT",
        f"/{assignment}/overrides/{number}/hw:essay",
        {"score": 2, "reason": "Same again, from elsewhere"},
    )
    expect(view.locator(".cl-Results-news")).to_be_visible(timeout=UI_MS)
    assert clarity.get_by_test_id("cl-results-override-score").input_value() == "2.5"
    clarity.get_by_test_id("cl-results-override-save").click()
    expect(clarity.get_by_test_id("cl-results-final")).to_contain_text(
        "2.5 (override)", timeout=UI_MS
    )
    expect(view.locator(".cl-Results-news")).to_be_hidden()
    expect(view.get_by_test_id("cl-results-status")).to_contain_text("is now 2.5")
    api(cl_hub, "instructor", "DELETE", f"/{assignment}/overrides/{number}/clarity")
    expect(clarity.get_by_test_id("cl-results-final")).not_to_contain_text(
        "override", timeout=UI_MS
    )
    # the redraw another staff change started keeps the outcome of this person's last action
    expect(view.get_by_test_id("cl-results-status")).to_contain_text("is now 2.5")

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

    # ben flags a review: it reaches the open view live; the instructor resolves it with a note
    flagged = feedback["reviews"][0]["id"]
    reason = "It says <i>nothing</i> useful"
    api(cl_hub, "ben", "POST", f"/{assignment}/feedback/reviews/{flagged}/flag", {"reason": reason})
    flag = view.get_by_test_id("cl-results-flag")
    expect(flag).to_have_attribute("data-resolved", "false", timeout=UI_MS)
    assert reason in flag.inner_text() and "ben flagged the review by" in flag.inner_text()
    expect(
        _staff_round(panel, assignment).get_by_test_id("cl-reviews-round-facts")
    ).to_contain_text("1 open flag", timeout=UI_MS)
    flag.get_by_test_id("cl-results-flag-resolve").click()
    page.get_by_test_id("cl-results-flag-note").fill("Talked to the reviewer")
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Resolve").click()
    expect(flag).to_have_attribute("data-resolved", "true", timeout=UI_MS)
    [served_flag] = api(cl_hub, "instructor", "GET", f"/{assignment}/flags")["flags"]
    assert served_flag["resolved"] and served_flag["resolution"] == "Talked to the reviewer"
    assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    page.context.close()


def test_a_mentor_reads_results_without_controls_that_change_them(
    cl_browser: Any, cl_hub: Hub, cl_scored: dict[str, Any]
) -> None:
    assignment, number = cl_scored["assignment"], cl_scored["number"]
    page = open_lab(cl_browser, cl_hub, "mentor")
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
    # the flag ben raised, resolved by the instructor
    expect(view.get_by_test_id("cl-results-flag")).to_have_attribute("data-resolved", "true")
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
    page = open_lab(cl_browser, cl_hub, "ada")
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


# --- opening a round from the panel on a real nbgrader course, and exporting ---------------

PANEL_ASSIGNMENT = "hw1panel"
PANEL_LEARNERS = ("ada", "ben", "dee")
JOB_MS = 180_000
GRADEBOOK = """
import json, sys
from nbgrader.api import Gradebook
with Gradebook("sqlite:///gradebook.db", "demo101") as gb:
    print(json.dumps({s: [gb.find_grade("interpretation", "hw1", sys.argv[1], s).manual_score,
                          gb.find_comment("interpretation", "hw1", sys.argv[1], s).manual_comment]
                      for s in sys.argv[2:]}))
"""


@pytest.fixture(scope="module")
def cl_panel_course(cl_hub: Hub) -> Iterator[NbgraderCourse]:
    """hw1's notebook as hw1panel, released; ada, ben and dee submit with nbgrader's own
    commands; the instructor collects and autogrades (export needs the gradebook's
    submissions)."""
    with collected_course(cl_hub, "panel", PANEL_ASSIGNMENT, PANEL_LEARNERS, autograde=True) as c:
        yield c


def _wait_for_job(page: Any, job: Any) -> None:
    page.wait_for_function(
        "el => el.dataset.state !== 'running'", arg=job.element_handle(), timeout=JOB_MS
    )


def _decide_names(page: Any, form: Any, words: dict[str, tuple[str, int]]) -> None:
    """Check names, see each word found (``word: (decision, places)``) with its excerpts, and
    decide it from the keyboard; the round can then open."""
    names = form.get_by_test_id("cl-open-round-names")
    names.get_by_test_id("cl-open-round-check-names").click()
    summary = names.get_by_test_id("cl-open-round-names-summary")
    expect(summary).to_have_attribute("data-state", "words" if words else "empty", timeout=UI_MS)
    found = names.get_by_test_id("cl-open-round-word")
    expect(found).to_have_count(len(words))
    if not words:
        expect(summary).to_contain_text("Nothing to decide")
    for word, (decision, places) in words.items():
        group = names.locator(f'[data-testid="cl-open-round-word"][data-word="{word}"]')
        expect(group.locator("legend")).to_have_text(f"“{word}”: {places} places in 1 submission")
        place = group.get_by_test_id("cl-open-round-word-place")
        expect(place).to_contain_text(f"ben's hw1.ipynb: {places} places")
        assert "«ben»" in group.get_by_test_id("cl-open-round-word-excerpt").first.inner_text()
        details = page.locator(f"#{group.get_attribute('aria-describedby')}")
        assert "ben's hw1.ipynb" in details.inner_text()  # read with the group
        blocker = form.get_by_test_id("cl-open-round-blocker")
        expect(blocker).to_have_text(f"Choose replace or keep for “{word}”.")
        assert form.get_by_test_id("cl-open-round-start").is_disabled()
        label = "Replace it with “learner”" if decision == "replace" else "Keep it"
        option = group.get_by_label(label)
        option.focus()
        page.keyboard.press("Space")
        expect(option).to_be_checked()
    expect(form.get_by_test_id("cl-open-round-blocker")).to_have_text("")
    expect(form.get_by_test_id("cl-open-round-start")).to_be_enabled()


def test_an_instructor_opens_a_round_from_the_panel_and_exports(
    cl_browser: Any, cl_hub: Hub, cl_panel_course: NbgraderCourse, cl_artifacts: Path
) -> None:
    course = cl_panel_course
    api_path = f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{PANEL_ASSIGNMENT}"
    page = open_lab(cl_browser, cl_hub, "instructor")
    panel = _open_reviews_panel(page)
    toggle = panel.get_by_test_id("cl-open-round")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    form = panel.get_by_test_id("cl-open-round-form")
    note = form.get_by_test_id("cl-open-round-course")
    # first the course nbgrader's config names (the seeded ~/demo101, with no gradebook yet:
    # the server says so), then the test's own course folder
    expect(note).to_contain_text("demo101", timeout=UI_MS)
    folder = form.get_by_test_id("cl-open-round-folder")
    folder.fill("no-such-folder")
    form.get_by_test_id("cl-open-round-lookup").click()
    expect(note).to_contain_text("There is no folder 'no-such-folder'", timeout=UI_MS)
    assert form.get_by_test_id("cl-open-round-start").is_disabled()
    folder.fill(course.folder.name)
    form.get_by_test_id("cl-open-round-lookup").click()
    choice = form.get_by_test_id("cl-open-round-assignment")
    option = choice.locator(f'option[value="{PANEL_ASSIGNMENT}"]')
    expect(option).to_have_text(f"{PANEL_ASSIGNMENT} — 3 submitted, 3 autograded", timeout=UI_MS)
    choice.select_option(PANEL_ASSIGNMENT)
    start = form.get_by_test_id("cl-open-round-start")
    blocker = form.get_by_test_id("cl-open-round-blocker")
    # the name check comes first: ben signed "(ben)", a name that is also a common word
    expect(blocker).to_have_text("Check names first.")
    assert start.is_disabled()
    _decide_names(page, form, {"ben": ("replace", 2)})
    # more reviewers than other submitters: the job fails with the service's message
    form.get_by_test_id("cl-open-round-k").fill("3")
    start.click()
    failed = panel.locator('[data-testid="cl-review-job"][data-kind="open"]')
    failed.wait_for(timeout=UI_MS)
    _wait_for_job(page, failed)
    assert failed.get_attribute("data-state") == "failed"
    expect(failed.get_by_test_id("cl-review-job-error")).to_contain_text(
        "at most 2 reviews per submission"
    )
    assert cl_hub.api("GET", api_path, cl_hub.token_for("instructor")).status_code == 404
    failed_id = failed.get_attribute("data-job")
    form.get_by_test_id("cl-open-round-k").fill("2")
    form.get_by_test_id("cl-open-round-due").fill("2031-06-01T17:00")
    form.get_by_test_id("cl-open-round-lease").fill("72")
    form.get_by_test_id("cl-open-round-source").select_option("autograded")
    assert start.inner_text() == "Open the round"
    # the decision held for the run that failed: this run is checked again (the autograded
    # copy also has the output of ben's print), and ben's name is kept this time
    expect(blocker).to_have_text("Check names first.")
    _decide_names(page, form, {"ben": ("keep", 3)})
    start.click()

    # the job's progress bar, until done; then the round is in the list
    job = panel.locator(
        f'[data-testid="cl-review-job"][data-kind="open"]:not([data-job="{failed_id}"])'
    )
    job.wait_for(timeout=UI_MS)
    bar = job.get_by_test_id("cl-review-job-progress")
    assert "Opening the round" in (bar.get_attribute("aria-label") or "")
    _wait_for_job(page, job)
    assert job.get_attribute("data-state") == "done", job.inner_text()
    value, most = bar.evaluate("el => [el.value, el.max]")
    assert most > 0 and value == most
    expect(job.get_by_test_id("cl-review-job-phase")).to_contain_text(
        "Opened the round: 3 submissions, 3 new, 6 reviews allocated now"
    )
    assert "[3/3]" in (job.get_by_test_id("cl-review-job-lines").text_content() or "")
    box = _staff_round(panel, PANEL_ASSIGNMENT)
    expect(box.get_by_test_id("cl-reviews-round-facts")).to_contain_text("3 submissions")
    page.screenshot(path=str(cl_artifacts / "peer-review-open-round.png"))
    expect(start).to_have_text("Add late submissions", timeout=UI_MS)
    assert (
        "adds submissions that came in since"
        in form.get_by_test_id("cl-open-round-rerun").inner_text()
    )
    view = cl_hub.api("GET", api_path, cl_hub.token_for("instructor")).json()
    ben = next(s["number"] for s in view["submissions"] if s["author"] == "ben")
    copy = cl_hub.api("GET", f"{api_path}/submissions/{ben}", cl_hub.token_for("instructor"))
    assert "(ben)" in copy.text and "Benedikt" not in copy.text  # kept as decided
    # running it again adds nothing (no late submission) and duplicates nothing; its check
    # has nothing to decide
    expect(blocker).to_have_text("Check names first.")
    _decide_names(page, form, {})
    start.click()
    expect(job.get_by_test_id("cl-review-job-phase")).to_contain_text(
        "Updated the round: 3 submissions, 0 new, 0 reviews allocated now", timeout=JOB_MS
    )
    again = cl_hub.api("GET", api_path, cl_hub.token_for("instructor")).json()
    assert again["submissions"] == view["submissions"]
    assert view["round"]["k"] == 2 and view["round"]["lease_hours"] == 72
    due = page.evaluate("new Date('2031-06-01T17:00').toISOString()")
    assert datetime.fromisoformat(view["round"]["due_at"]) == datetime.fromisoformat(due)
    assert {s["author"] for s in view["submissions"]} == set(PANEL_LEARNERS)

    # the learners review; the instructor overrides dee's score in the Results view
    for learner in PANEL_LEARNERS:
        mine = cl_hub.api("GET", api_path, cl_hub.token_for(learner)).json()["assignments"]
        for a in mine:
            opened = f"{api_path}/submissions/{a['submission']}"
            cl_hub.api("GET", opened, cl_hub.token_for(learner))
            body = {"scores": {"hw1:interpretation": {"score": 1.5}}, "submit": True}
            resp = cl_hub.api("PUT", f"{opened}/review", cl_hub.token_for(learner), json=body)
            assert resp.status_code == 200, resp.text
    dee = next(s["number"] for s in view["submissions"] if s["author"] == "dee")
    box.get_by_test_id("cl-reviews-results").click()
    results = page.locator(
        f'[data-testid="cl-review-results"][data-assignment="{PANEL_ASSIGNMENT}"] '
        f'[data-testid="cl-results-submission"][data-number="{dee}"]'
    )
    row = results.locator('[data-testid="cl-results-criterion"][data-key="hw1:interpretation"]')
    row.wait_for(timeout=UI_MS)
    assert "nbgrader" in results.locator(".cl-Results-total").inner_text()  # autograde total
    row.get_by_test_id("cl-results-override-score").fill("2")
    row.get_by_test_id("cl-results-override-reason").fill("The argument holds")
    row.get_by_test_id("cl-results-override-save").click()
    expect(row.get_by_test_id("cl-results-final")).to_contain_text("2 (override)", timeout=UI_MS)

    # export: closes reviewing first (as the dialog offers), then writes the gradebook
    box.get_by_test_id("cl-reviews-export").click()
    assert page.get_by_test_id("cl-reviews-export-close").is_checked()
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Export").click()
    exported = panel.locator('[data-testid="cl-review-job"][data-kind="export"]')
    exported.wait_for(timeout=UI_MS)
    _wait_for_job(page, exported)
    assert exported.get_attribute("data-state") == "done", exported.inner_text()
    expect(exported.get_by_test_id("cl-review-job-phase")).to_contain_text("Wrote 3 scores")
    expect(_staff_round(panel, PANEL_ASSIGNMENT)).to_have_attribute("data-state", "closed")
    script = [str(VENV / "bin" / "python"), "-c", GRADEBOOK, PANEL_ASSIGNMENT, *PANEL_LEARNERS]
    out = ok(run_as("instructor", course.folder, script)).strip().splitlines()[-1]
    book = json.loads(out)
    assert book["dee"][0] == 2.0 and book["ada"][0] == 1.5
    assert all(comment.startswith("CohortLab peer review:") for _s, comment in book.values())
    assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    page.context.close()
