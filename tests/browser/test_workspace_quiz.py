"""A quiz in a cohort workspace, answered by two members, each as themselves.

ada and ben (one cohort, made at run time in the demo course) open one workspace notebook
holding a released quiz cell and a leaderboard cell. The workspace's kernel holds no hub
token that identifies anyone, so the widgets act from each browser, with the person's own
session (widgets/person.js, the lab extension's widget bridge). Each answers differently:
the service records each answer under the right person, neither sees the other's
selection, and each sees their own place on the board; in a live round each joins and
answers as themselves too. The kernel path stays refused: the
widget's own request from the kernel, and the account's token taken from the server's
process, record nothing.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_cohort_workspace import COURSE, _delete, _enter_workspace
from tests.browser.test_workspace_together import _wait_text
from tests.helpers.api import Person
from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until
from tests.integration.test_workspace_identity import account_token

WIDGET_MS = 60_000
KERNEL_RUN_MS = 60_000


def _spec(quiz_id: str) -> dict[str, Any]:
    return {
        "id": quiz_id,
        "title": "Workspace warm-up",
        "questions": [
            {
                "id": "lib",
                "type": "single",
                "prompt": "Which is a **DataFrame** library?",
                "choices": [
                    {"id": "req", "text": "requests", "correct": False},
                    {"id": "pd", "text": "pandas", "correct": True},
                ],
            }
        ],
    }


def _kernel_probe(quiz_id: str) -> str:
    """What a member could try from the shared kernel: the widget's own kernel path."""
    return (
        "from cohortlab.widgets import Quiz\n"
        f'q = Quiz("{quiz_id}", course="{COURSE}")\n'
        'print("kernel:", q.submit("lib", "pd"), q.error and q.error["code"])'
    )


def _notebook(quiz_id: str) -> dict[str, Any]:
    sources = [
        f'from cohortlab.widgets import Quiz\nQuiz("{quiz_id}", course="{COURSE}")',
        f'from cohortlab.widgets import Leaderboard\nLeaderboard("{quiz_id}", course="{COURSE}")',
        _kernel_probe(quiz_id),
    ]
    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "metadata": {},
            "source": source,
            "execution_count": None,
            "outputs": [],
        }
        for i, source in enumerate(sources)
    ]
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": cells,
    }


@pytest.fixture(scope="module")
def cohort(cl_hub: Hub) -> Iterator[dict]:
    name = f"wq{secrets.token_hex(3)}"
    made = Person(cl_hub, "instructor").ok(
        "POST", f"courses/{COURSE}/cohorts", {"name": name, "members": ["ada", "ben"]}
    )["cohort"]
    try:
        yield made
    finally:
        _delete(cl_hub, made)


def _workspace_tab(browser: Any, hub: Hub, who: str, account: str, path: str) -> Any:
    lab = open_lab(browser, hub, who)
    tab = lab.context.new_page()
    errors: list[str] = lab.cl_errors
    tab.on("pageerror", lambda e: errors.append(str(e)))
    # A fresh layout: the workspace's saved one (shared by its members) would also reopen
    # the notebooks an earlier test left open, and their quiz would be the first found.
    tab.goto(hub.at(f"/user/{account}/lab/tree/{path}?reset"))
    _enter_workspace(tab, account)
    tab.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(timeout=LAB_TIMEOUT_MS)
    tab.cl_errors = errors  # type: ignore[attr-defined]
    return tab


def _run_all(page: Any, hub: Hub, account: str, path: str) -> None:
    """Run every cell once the notebook's kernel is idle (asked of the server: with the
    cohort chat beside it, the toolbar folds the kernel's indicator away)."""

    def idle() -> bool:
        resp = hub.api("GET", f"/user/{account}/api/sessions", hub.token_for("ada"))
        states = [
            s["kernel"]["execution_state"]
            for s in (resp.json() if resp.status_code == 200 else [])
            if s.get("path") == path and s.get("kernel")
        ]
        assert "idle" in states, f"kernel states: {states}"  # the last is in the report
        return True

    wait_until(idle, timeout=LAB_TIMEOUT_MS / 1000, interval=0.5, what=f"an idle kernel for {path}")
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.click()
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def _run_again(page: Any, other: Any, cell: int) -> None:
    """Run code cell ``cell`` again from ``page``; until both pages show its new count."""
    prompts = [
        p.locator(".jp-NotebookPanel .jp-CodeCell").nth(cell).locator(".jp-InputPrompt")
        for p in (page, other)
    ]
    counted = re.compile(r"\[\d+\]:")
    expect(prompts[0]).to_have_text(counted, timeout=KERNEL_RUN_MS)  # its first run is over
    before = prompts[0].inner_text().strip()
    page.locator(".jp-NotebookPanel .jp-CodeCell").nth(cell).locator(".cm-content").click()
    page.keyboard.press("Control+Enter")  # run it, staying on it (no new cell below)
    for prompt in prompts:
        expect(prompt).not_to_have_text(before, timeout=KERNEL_RUN_MS)
        expect(prompt).to_have_text(counted, timeout=KERNEL_RUN_MS)


def _quiz(page: Any) -> Any:
    """The loaded Quiz widget, with its event stream (the lab client's) connected."""
    page.get_by_test_id("quiz-title").wait_for(timeout=WIDGET_MS)
    quiz = page.locator('[data-testid="quiz"][data-events="connected"]')
    quiz.wait_for(timeout=30_000)
    return quiz


def _answer(quiz: Any, label: str) -> str:
    quiz.get_by_label(label).check()
    quiz.get_by_test_id("quiz-question-lib-submit").click()
    verdict = quiz.get_by_test_id("quiz-question-lib-verdict")
    verdict.wait_for(timeout=30_000)
    return verdict.inner_text()


def _checked(quiz: Any) -> list[str | None]:
    boxes = quiz.locator('[data-testid^="quiz-question-lib-choice-"]:checked')
    return [boxes.nth(i).get_attribute("data-testid") for i in range(boxes.count())]


def _play(hub: Hub, account: str, path: str, ada: Any, ben: Any) -> None:
    """Both answer, each sees their own; the kernel probe is refused."""
    _run_all(ada, hub, account, path)
    ada_quiz, ben_quiz = _quiz(ada), _quiz(ben)

    # Each answers from their own browser: ada rightly, ben wrongly.
    assert _answer(ada_quiz, "pandas") == "Correct."
    assert _answer(ben_quiz, "requests") == "Not correct."
    # Neither sees the other's selection or verdict (nothing went through the kernel). First
    # ben's answer reaches ada's page by the service (her board ranks both); then ada runs a
    # cell again: a selection shared through the kernel's widget model would have reached
    # the pages before that run's execution count (the kernel handles and answers messages
    # in order).
    expect(ada.locator('[data-testid="leaderboard-row"]')).to_have_count(2, timeout=30_000)
    _run_again(ada, ben, cell=2)
    assert _checked(ada_quiz) == ["quiz-question-lib-choice-pd"]
    assert _checked(ben_quiz) == ["quiz-question-lib-choice-req"]
    assert ada_quiz.get_by_test_id("quiz-question-lib-verdict").inner_text() == "Correct."
    assert ada_quiz.get_by_test_id("quiz-score").inner_text() == "Your score: 1 of 1"
    assert ben_quiz.get_by_test_id("quiz-score").inner_text() == "Your score: 0 of 1"

    # Each sees their own place on the board (the board refetches on the scores event).
    for page, rank in ((ada, "1"), (ben, "2")):
        mine = page.locator('[data-testid="leaderboard-row"][data-me="true"]')
        mine.first.wait_for(timeout=30_000)
        page.wait_for_function(
            "(rank) => document.querySelector("
            "'[data-testid=leaderboard-row][data-me=true]')?.dataset.rank === rank",
            arg=rank,
            timeout=30_000,
        )

    # The kernel path is refused: the widget makes no request from the shared kernel.
    _wait_text(ada, ".jp-NotebookPanel .jp-OutputArea-output", r"^kernel: None shared_server")
    for page in (ada, ben):
        assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors


def test_two_members_answer_a_workspace_quiz_each_as_themselves(
    cl_browser: Any, cl_hub: Hub, cohort: dict, cl_artifacts: Path
) -> None:
    quiz_id = f"ws-quiz-{uuid.uuid4().hex[:6]}"
    Person(cl_hub, "instructor").ok(
        "PUT", f"courses/{COURSE}/quizzes/{quiz_id}", {"spec": _spec(quiz_id)}
    )
    account = cohort["account"]
    opened = Person(cl_hub, "ada").ok(
        "POST", f"courses/{COURSE}/cohorts/{cohort['name']}/workspace", {"wait": 25}
    )
    assert opened["workspace"]["state"] == "ready"
    path = f"{quiz_id}.ipynb"
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/api/contents/{path}",
        cl_hub.token_for("ada"),
        data=json.dumps({"type": "notebook", "format": "json", "content": _notebook(quiz_id)}),
    )
    assert resp.status_code == 201, resp.text

    ada = _workspace_tab(cl_browser, cl_hub, "ada", account, path)
    ben = _workspace_tab(cl_browser, cl_hub, "ben", account, path)
    try:
        _play(cl_hub, account, path, ada, ben)
    except Exception:
        ada.screenshot(path=str(cl_artifacts / "workspace-quiz-ada.png"))
        ben.screenshot(path=str(cl_artifacts / "workspace-quiz-ben.png"))
        raise
    finally:
        for page in (ada, ben):
            page.context.close()

    # The account's own token (as code running as the account could find it) is refused.
    resp = cl_hub.api(
        "POST",
        f"/services/cohortlab/api/v1/courses/{COURSE}/quizzes/{quiz_id}/answers",
        account_token(account),
        json={"question": "lib", "answer": "pd"},
    )
    assert (resp.status_code, resp.json()["error"]["code"]) == (403, "workspace_account")

    # The service recorded each answer under its person, and nothing for the account.
    scores = Person(cl_hub, "instructor").ok("GET", f"courses/{COURSE}/quizzes/{quiz_id}/scores")
    by_user = {row["user"]: row for row in scores["scores"] if row["answered"]}
    assert set(by_user) == {"ada", "ben"}
    assert (by_user["ada"]["score"], by_user["ben"]["score"]) == (1, 0)
    for who, answer in (("ada", "pd"), ("ben", "req")):
        mine = Person(cl_hub, who).ok("GET", f"courses/{COURSE}/quizzes/{quiz_id}")
        assert mine["state"]["lib"]["last_answer"] == answer


def _live_answer(page: Any, text: str) -> None:
    round_ = page.get_by_test_id("live")
    round_.get_by_test_id("live-question").wait_for(timeout=30_000)
    round_.get_by_test_id("live-question").get_by_label(text, exact=True).check()
    round_.get_by_test_id("live-submit").click()
    round_.get_by_test_id("live-received").filter(has_text="Answer received").wait_for(
        timeout=30_000
    )


def test_two_members_play_a_live_round_in_the_workspace_each_as_themselves(
    cl_browser: Any, cl_hub: Hub, cohort: dict, cl_artifacts: Path
) -> None:
    quiz_id = f"ws-live-{uuid.uuid4().hex[:6]}"
    teacher = Person(cl_hub, "instructor")
    teacher.ok("PUT", f"courses/{COURSE}/quizzes/{quiz_id}", {"spec": _spec(quiz_id)})
    account = cohort["account"]
    Person(cl_hub, "ada").ok(
        "POST", f"courses/{COURSE}/cohorts/{cohort['name']}/workspace", {"wait": 25}
    )
    path = f"{quiz_id}.ipynb"
    notebook = _notebook(quiz_id)
    notebook["cells"] = notebook["cells"][:1]
    resp = cl_hub.api(
        "PUT",
        f"/user/{account}/api/contents/{path}",
        cl_hub.token_for("ada"),
        data=json.dumps({"type": "notebook", "format": "json", "content": notebook}),
    )
    assert resp.status_code == 201, resp.text
    ada = _workspace_tab(cl_browser, cl_hub, "ada", account, path)
    ben = _workspace_tab(cl_browser, cl_hub, "ben", account, path)
    live = f"courses/{COURSE}/quizzes/{quiz_id}/live"
    try:
        _run_all(ada, hub=cl_hub, account=account, path=path)
        for page in (ada, ben):
            _quiz(page)
        # The instructor starts a round (from their own server; here through the API):
        # the `started` event reaches each member's own event stream, and each joins.
        session = teacher.ok("POST", live, {"countdown": 120})["session"]["id"]
        for page in (ada, ben):
            page.get_by_test_id("live-join").click(timeout=30_000)
            page.get_by_test_id("live-lobby").wait_for(timeout=30_000)
        teacher.ok("POST", f"courses/{COURSE}/live/{session}/next", {})
        _live_answer(ada, "pandas")
        _live_answer(ben, "requests")
        teacher.ok("POST", f"courses/{COURSE}/live/{session}/close")
        for page, verdict in ((ada, "true"), (ben, "false")):
            page.locator(f'[data-testid="live-verdict"][data-correct="{verdict}"]').wait_for(
                timeout=30_000
            )
        for page in (ada, ben):
            assert not [e for e in page.cl_errors if "cohortlab" in e.lower()], page.cl_errors
    except Exception:
        ada.screenshot(path=str(cl_artifacts / "workspace-live-ada.png"))
        ben.screenshot(path=str(cl_artifacts / "workspace-live-ben.png"))
        raise
    finally:
        for page in (ada, ben):
            page.context.close()

    # The round's board (real names for staff): each answer counted for its person.
    view = teacher.ok("GET", f"courses/{COURSE}/live/{session}")
    board = {row["name"]: row["score"] for row in view["results"]["leaderboard"]["top"]}
    assert set(board) == {"ada", "ben"}
    assert board["ada"] > 0 == board["ben"]
