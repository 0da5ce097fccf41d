"""Quizzes in real JupyterLab: the Quiz and Leaderboard widgets run in each person's own
kernel against the real service, self-paced and in an instructor-paced live round."""

from __future__ import annotations

import json
import os
import pwd
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import LAB_TIMEOUT_MS, open_lab
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until

COURSE = "demo101"
API = f"/services/cohortlab/api/v1/courses/{COURSE}"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
LIVE_SCREENSHOT = (
    Path(__file__).resolve().parents[2] / "docs" / "images" / "cohortlab-live-quiz.png"
)
# A kernel's first widget load: kernel start, imports, two requests to the service.
WIDGET_MS = 60_000
# An event through the relay, a refetch through the kernel, the view updated.
LIVE_MS = 10_000
ENV_PROBE = (
    "import os\n"
    "print('token' if os.environ.get('JUPYTERHUB_API_TOKEN') else 'no token',"
    " os.environ.get('COHORTLAB_SERVICE_URL'))"
)


def _api(hub: Hub, method: str, path: str, user: str, **kw: Any) -> Any:
    response = hub.api(method, f"{API}{path}", hub.token_for(user), **kw)
    assert response.status_code < 300, f"{user} {method} {path}: {response.text}"
    return response.json() if response.content else None


def _publish(hub: Hub, spec: dict[str, Any]) -> None:
    """What nbgrader's generate_assignment (or `cohortlab quiz publish`) does."""
    _api(hub, "PUT", f"/quizzes/{spec['id']}", "instructor", json={"spec": spec})


def _remove_notebook(user: str, name: str) -> None:
    (Path(pwd.getpwnam(user).pw_dir) / name).unlink(missing_ok=True)


def _write_notebook(user: str, name: str, sources: list[str]) -> None:
    """A released notebook in the person's home: code cells, with a kernelspec so that
    JupyterLab starts the kernel without asking which one."""
    entry = pwd.getpwnam(user)
    cells = [
        {
            "cell_type": "code",
            "id": uuid.uuid4().hex[:8],
            "metadata": {},
            "source": source,
            "execution_count": None,
            "outputs": [],
        }
        for source in sources
    ]
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": KERNELSPEC},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    dest = Path(entry.pw_dir) / name
    dest.write_text(json.dumps(nb))
    os.chown(dest, entry.pw_uid, entry.pw_gid)


def _open_and_run_all(page: Any, hub: Hub, user: str, name: str) -> None:
    page.goto(hub.at(f"/user/{user}/lab/tree/{name}"))
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=LAB_TIMEOUT_MS)
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        raise AssertionError(f"unexpected dialog: {dialog.first.inner_text()}")
    # Cells run before the kernel is connected may be lost if JupyterLab replaces it.
    page.locator('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
        timeout=LAB_TIMEOUT_MS
    )
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def _check_kernel_env(page: Any, hub: Hub) -> None:
    """The first cell's output: the kernel has its hub token and the service's address."""
    out = page.locator(".jp-CodeCell").first.locator(".jp-OutputArea-output")
    out.first.wait_for(timeout=WIDGET_MS)
    assert out.first.inner_text().split() == [
        "token",
        f"http://127.0.0.1:{hub.service_port}/services/cohortlab/",
    ]


def _quiz(page: Any) -> Any:
    """The loaded Quiz widget, once its relay event stream is open (events sent before
    would be missed). A timeout says which of the two did not happen."""
    try:
        page.get_by_test_id("quiz-title").wait_for(timeout=WIDGET_MS)
        quiz = page.locator('[data-testid="quiz"][data-events="connected"]')
        quiz.wait_for(timeout=LIVE_MS)
    except Exception as e:
        root = page.get_by_test_id("quiz")
        seen = (
            f"data-events={root.first.get_attribute('data-events')!r}, "
            f"text={root.first.inner_text()[:300]!r}"
            if root.count()
            else "no Quiz view at all"
        )
        raise AssertionError(f"the Quiz widget did not load and connect: {seen}") from e
    return quiz


def _errors(page: Any) -> list[str]:
    return [e for e in page.cl_errors if "cohortlab" in e.lower() or "widget" in e.lower()]


# -- self-paced ---------------------------------------------------------------------------


def self_paced_spec(quiz_id: str) -> dict[str, Any]:
    return {
        "id": quiz_id,
        "title": "Pandas warm-up",
        "attempts": 2,
        "questions": [
            {
                "id": "lib",
                "type": "single",
                "prompt": "Which is a **DataFrame** library?",
                "explanation": "pandas gives Python its DataFrame.",
                "choices": [
                    {
                        "id": "req",
                        "text": "requests",
                        "correct": False,
                        "feedback": "That one fetches web pages.",
                    },
                    {"id": "pd", "text": "pandas", "correct": True},
                ],
            },
            {
                "id": "rows",
                "type": "numeric",
                "prompt": "How many rows has `df.head()`?",
                "answer": 5,
            },
        ],
    }


def test_a_learner_answers_wrongly_then_rightly_and_a_board_updates_live(
    cl_browser: Any, cl_hub: Hub
) -> None:
    quiz_id = f"warmup-{uuid.uuid4().hex[:6]}"
    _publish(cl_hub, self_paced_spec(quiz_id))
    name = f"{quiz_id}.ipynb"
    _write_notebook(
        "ada",
        name,
        [
            ENV_PROBE,
            f'from cohortlab.widgets import Quiz\nQuiz("{quiz_id}", course="{COURSE}")',
            "from cohortlab.widgets import Leaderboard\n"
            f'Leaderboard("{quiz_id}", course="{COURSE}")',
        ],
    )
    page = open_lab(cl_browser, cl_hub, "ada")
    try:
        _open_and_run_all(page, cl_hub, "ada", name)
        _check_kernel_env(page, cl_hub)
        quiz = _quiz(page)
        assert quiz.get_by_test_id("quiz-title").inner_text() == "Pandas warm-up"
        assert quiz.get_by_test_id("quiz-question-lib-attempts").inner_text() == "2 attempts left"
        board = page.get_by_test_id("leaderboard")
        board.get_by_test_id("leaderboard-empty").wait_for(timeout=WIDGET_MS)

        # wrong first: the chosen option's feedback, one attempt left, no answer shown
        quiz.get_by_label("requests").check()
        quiz.get_by_test_id("quiz-question-lib-submit").click()
        verdict = quiz.get_by_test_id("quiz-question-lib-verdict")
        verdict.wait_for(timeout=LIVE_MS)
        assert verdict.inner_text() == "Not quite. Try again."
        feedback = quiz.get_by_test_id("quiz-question-lib-feedback")
        assert "fetches web pages" in feedback.inner_text()
        assert quiz.get_by_test_id("quiz-question-lib-attempts").inner_text() == "1 attempt left"
        assert quiz.get_by_test_id("quiz-question-lib-solution").is_hidden()

        # then right: correct, no attempts left, the explanation, the score
        quiz.get_by_label("pandas").check()
        quiz.get_by_test_id("quiz-question-lib-submit").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=quiz-question-lib-verdict]')"
            "?.textContent === 'Correct.'",
            timeout=LIVE_MS,
        )
        assert quiz.get_by_test_id("quiz-question-lib-attempts").inner_text() == "No attempts left"
        assert (
            "gives Python its DataFrame"
            in quiz.get_by_test_id("quiz-question-lib-explanation").inner_text()
        )
        assert quiz.get_by_test_id("quiz-score").inner_text() == "Your score: 1 of 2"
        assert quiz.get_by_test_id("quiz-question-lib-submit").is_disabled()
        # ada's own answer reaches her board through the course's scores event (a board
        # out of view refetches once it is scrolled into view)
        board.scroll_into_view_if_needed()
        board.locator('[data-testid="leaderboard-row"][data-me="true"]').wait_for(timeout=LIVE_MS)

        # ben answers in his own kernel; ada's board shows him without a reload
        _api(
            cl_hub,
            "POST",
            f"/quizzes/{quiz_id}/answers",
            "ben",
            json={"question": "rows", "answer": 5},
        )
        _api(
            cl_hub,
            "POST",
            f"/quizzes/{quiz_id}/answers",
            "ben",
            json={"question": "lib", "answer": "pd"},
        )
        page.wait_for_function(
            "() => document.querySelectorAll("
            "'[data-testid=leaderboard-top] [data-testid=leaderboard-row]').length === 2",
            timeout=LIVE_MS,
        )
        rows = board.get_by_test_id("leaderboard-top").get_by_test_id("leaderboard-row")
        assert rows.first.get_attribute("data-me") is None  # ben leads with 2 points
        assert (
            board.get_by_test_id("leaderboard-me").inner_text().startswith("You are number 2 of 2")
        )
        assert not _errors(page), page.cl_errors
    finally:
        page.context.close()
        _remove_notebook("ada", name)


# -- live -----------------------------------------------------------------------------------


def live_spec(quiz_id: str) -> dict[str, Any]:
    return {
        "id": quiz_id,
        "title": "Live: Python basics",
        "live": {"countdown": 60},
        "questions": [
            {
                "id": "q1",
                "type": "single",
                "prompt": "Which is a DataFrame library?",
                "explanation": "pandas gives Python its DataFrame.",
                "choices": [
                    {"id": "pd", "text": "pandas", "correct": True},
                    {"id": "rq", "text": "requests", "correct": False},
                    {"id": "fl", "text": "flask", "correct": False},
                ],
            },
            {"id": "q2", "type": "numeric", "prompt": "What is `len('hello')`?", "answer": 5},
            {
                "id": "q3",
                "type": "single",
                "prompt": "Which keyword defines a function?",
                "choices": [
                    {"id": "def", "text": "def", "correct": True},
                    {"id": "fun", "text": "fun", "correct": False},
                ],
            },
        ],
    }


def _answer_single(page: Any, text: str) -> None:
    round_ = page.get_by_test_id("live")
    round_.get_by_test_id("live-question").wait_for(timeout=LIVE_MS)
    round_.get_by_test_id("live-question").get_by_label(text, exact=True).check()
    round_.get_by_test_id("live-submit").click()
    round_.get_by_test_id("live-received").filter(has_text="Answer received").wait_for(
        timeout=LIVE_MS
    )


def _answer_number(page: Any, value: str) -> None:
    round_ = page.get_by_test_id("live")
    field = round_.get_by_test_id("live-question-input")
    field.wait_for(timeout=LIVE_MS)
    field.fill(value)
    field.press("Enter")  # the keyboard path
    round_.get_by_test_id("live-received").filter(has_text="Answer received").wait_for(
        timeout=LIVE_MS
    )


def _wait_results(page: Any, verdict: str) -> Any:
    """The learner's screen once the question closed: verdict, bars, board."""
    round_ = page.get_by_test_id("live")
    round_.locator(f'[data-testid="live-verdict"][data-correct="{verdict}"]').wait_for(
        timeout=LIVE_MS + 60_000 if verdict == "none" else LIVE_MS
    )
    round_.get_by_test_id("live-distribution").wait_for(timeout=LIVE_MS)
    round_.get_by_test_id("live-board").wait_for(timeout=LIVE_MS)
    return round_


def _my_row_score(round_: Any) -> int:
    row = round_.get_by_test_id("live-board").locator('[data-me="true"]')
    return int(row.locator("td").last.inner_text().replace(",", ""))


def _at_rest(locator: Any) -> Callable[[], bool]:
    """A condition for :func:`wait_until`: ``locator``'s box is the same at two polls in a row
    (a layout that has stopped moving)."""
    boxes: list[Any] = []

    def same_as_last_poll() -> bool:
        boxes.append(locator.bounding_box())
        return len(boxes) > 1 and boxes[-1] is not None and boxes[-1] == boxes[-2]

    return same_as_last_poll


def _screenshot(page: Any) -> None:
    """The README's picture of a live round: a learner's results after a question, with
    the file browser folded away and the round at the top."""
    page.set_viewport_size({"width": 1280, "height": 1000})  # the whole panel, teams too
    current_tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    current_tab.click()
    expect(current_tab).to_have_count(0)  # the side panel folded
    live = page.get_by_test_id("live")
    live.evaluate("(node) => node.scrollIntoView({block: 'start'})")
    wait_until(_at_rest(live), timeout=10, what="the notebook's layout after the panel folded")
    live.evaluate("(node) => node.scrollIntoView({block: 'start'})")
    LIVE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(LIVE_SCREENSHOT))


@pytest.fixture
def cl_live_room(cl_browser: Any, cl_hub: Hub) -> Any:
    """The instructor and two learners, each with the quiz's notebook open and run."""
    quiz_id = f"live-{uuid.uuid4().hex[:6]}"
    _publish(cl_hub, live_spec(quiz_id))
    cell = f'from cohortlab.widgets import Quiz\nQuiz("{quiz_id}", course="{COURSE}")'
    pages = {}
    for user in ("instructor", "ada", "ben"):
        _write_notebook(user, f"{quiz_id}.ipynb", [ENV_PROBE, cell])
        pages[user] = open_lab(cl_browser, cl_hub, user)
    try:
        for user, page in pages.items():
            _open_and_run_all(page, cl_hub, user, f"{quiz_id}.ipynb")
        for page in pages.values():
            _check_kernel_env(page, cl_hub)
            _quiz(page)
        yield quiz_id, pages
    finally:
        for user, page in pages.items():
            page.context.close()
            _remove_notebook(user, f"{quiz_id}.ipynb")


def test_an_instructor_runs_a_three_question_live_quiz_for_two_learners(
    cl_hub: Hub, cl_live_room: Any
) -> None:
    quiz_id, pages = cl_live_room
    teacher, ada, ben = pages["instructor"], pages["ada"], pages["ben"]
    host = teacher.get_by_test_id("live")
    host.get_by_test_id("live-start-form").wait_for(timeout=WIDGET_MS)
    assert teacher.get_by_test_id("live-join").count() == 0
    for learner in (ada, ben):
        assert learner.get_by_test_id("live-start-form").count() == 0
        assert learner.get_by_test_id("live").is_hidden()  # no round yet

    # the instructor starts a round from the widget, cohorts competing (ada and ben are
    # both in red); learners are offered to join, live
    host.get_by_test_id("live-team-mode").select_option("cohorts")
    host.get_by_test_id("live-start").click()
    host.get_by_test_id("live-next").wait_for(timeout=LIVE_MS)
    for learner in (ada, ben):
        learner.get_by_test_id("live-join").wait_for(timeout=LIVE_MS)
        learner.get_by_test_id("live-join").click()
        learner.get_by_test_id("live-lobby").wait_for(timeout=LIVE_MS)
        assert learner.get_by_test_id("quiz-questions").is_hidden()
    # no event says someone joined: the presenter refetches its count every few seconds
    host.get_by_test_id("live-players").filter(has_text="2 players joined").wait_for(
        timeout=LIVE_MS
    )

    # question 1: ada right, ben wrong; the instructor closes it early
    host.get_by_test_id("live-next").click()
    host.get_by_test_id("live-presenter-question").filter(has_text="DataFrame").wait_for(
        timeout=LIVE_MS
    )
    assert host.get_by_test_id("live-countdown").get_attribute("data-remaining") in (
        "60",
        "59",
        "58",
    )
    _answer_single(ada, "pandas")
    _answer_single(ben, "flask")
    host.get_by_test_id("live-close").click()
    ada_round = _wait_results(ada, "true")
    ben_round = _wait_results(ben, "false")
    assert "+" in ada_round.get_by_test_id("live-points").inner_text()
    assert "pandas" in ada_round.get_by_test_id("live-correct-answer").inner_text()
    assert "its DataFrame" in ben_round.get_by_test_id("live-explanation").inner_text()
    pandas = ada_round.locator('[data-testid="live-bar"][data-choice="pd"]')
    assert pandas.get_attribute("data-count") == "1"
    assert pandas.get_attribute("data-correct") == "true"
    assert (
        ben_round.locator('[data-testid="live-bar"][data-choice="fl"]').get_attribute("data-count")
        == "1"
    )
    ada_first = _my_row_score(ada_round)
    assert ada_first > 500
    assert _my_row_score(ben_round) == 0
    assert ada_round.get_by_test_id("live-my-rank").inner_text().startswith("You are number 1 of 2")
    assert ben_round.get_by_test_id("live-my-rank").inner_text().startswith("You are number 2 of 2")
    # team mode: the mean of red's two players, ada's team marked
    red = ada_round.locator('[data-testid="live-team-row"][data-team="red"]')
    assert red.get_attribute("aria-current") == "true"
    assert red.locator("td").last.inner_text() == "2"
    assert "your team: red" in ada.get_by_test_id("live-status").inner_text()
    # the presenter shows the same room with real names
    presenter_board = host.get_by_test_id("live-board")
    presenter_board.wait_for(timeout=LIVE_MS)
    names = presenter_board.get_by_test_id("live-board-row").locator("th").all_inner_texts()
    assert names == ["ada", "ben"]

    # question 2 (numeric, answered with the keyboard): both right, ada's streak bonus
    host.get_by_test_id("live-next").click()
    _answer_number(ada, "5")
    _answer_number(ben, "5")
    host.get_by_test_id("live-close").click()
    ada_round = _wait_results(ada, "true")
    ben_round = _wait_results(ben, "true")
    assert "+100 streak bonus" in ada_round.get_by_test_id("live-bonus").inner_text()
    assert ben_round.get_by_test_id("live-bonus").count() == 0  # his first right answer
    assert _my_row_score(ada_round) > ada_first
    assert _my_row_score(ben_round) > 0
    right = ada_round.locator('[data-testid="live-bar"][data-choice="correct"]')
    assert right.get_attribute("data-count") == "2"
    _screenshot(ada)

    # question 3 with a short countdown: ada answers, ben does not; zero closes it
    host.get_by_test_id("live-next-countdown").fill("8")
    host.get_by_test_id("live-next").click()
    _answer_single(ada, "def")
    _wait_results(ben, "none")
    ada_round = _wait_results(ada, "true")
    assert ada.get_by_test_id("live-countdown").get_attribute("data-remaining") == "0"
    assert "+200 streak bonus" in ada_round.get_by_test_id("live-bonus").inner_text()
    no_answer = ada_round.locator('[data-testid="live-bar"][data-choice="no_answer"]')
    assert no_answer.get_attribute("data-count") == "1"
    assert host.get_by_test_id("live-next").inner_text() == "No more questions"

    # the end: everyone sees the final board, the quiz comes back
    host.get_by_test_id("live-end").click()
    host.get_by_test_id("live-start-form").wait_for(timeout=LIVE_MS)
    for learner, rank in ((ada, 1), (ben, 2)):
        learner.get_by_test_id("live-ended").wait_for(timeout=LIVE_MS)
        mine = learner.get_by_test_id("live-my-rank").inner_text()
        assert mine.startswith(f"You finished number {rank} of 2"), mine
        assert learner.get_by_test_id("quiz-questions").is_visible()

    # what the service recorded agrees with what was shown
    view = _api(cl_hub, "GET", f"/quizzes/{quiz_id}/live", "instructor")
    assert view["session"]["phase"] == "ended"
    top = view["results"]["leaderboard"]["top"]
    assert [row["name"] for row in top] == ["ada", "ben"]
    for page in pages.values():
        assert not _errors(page), page.cl_errors
