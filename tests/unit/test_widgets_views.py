"""The widgets' views in Chromium against a stand-in model (tests/unit/widget_fakes.py).

Not JupyterLab (the browser tests drive that): the joined module is imported the way
anywidget imports it (a blob URL) and rendered against a model object with anywidget's
get/set/on/off/send, so the DOM, keyboard paths and live refresh are checked here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.widget_fakes import (
    BOARD,
    FakeServer,
    answered_state,
    board_state,
    by_testid,
    mount,
    quiz_state,
    sent,
    settle,
    wait_for_socket,
)

# Fixtures by name: cl_fake_server, cl_service, cl_chromium, cl_page.
pytest_plugins = ("tests.unit.widget_fakes",)


@pytest.mark.browser
def test_quiz_view_asks_for_a_load_and_shows_loading(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    idle = quiz_state(status="idle", quiz=None, question_states={}, score=None)
    mount(cl_page, cl_fake_server.origin, "quiz.js", idle)
    assert by_testid(cl_page, "quiz-loading").is_visible()
    assert by_testid(cl_page, "quiz").get_attribute("aria-busy") == "true"
    assert sent(cl_page) == [{"type": "refresh"}]


@pytest.mark.browser
def test_the_static_note_is_hidden_where_the_widget_runs(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    cl_page.evaluate(
        """() => document.body.insertAdjacentHTML('afterbegin',
          '<div class="jp-OutputArea-child" id="note-area"><div class="jp-OutputArea-output">' +
          '<p class="cl-static-fallback">Open this notebook...</p></div></div>')"""
    )
    assert cl_page.locator("#note-area").is_hidden()
    assert by_testid(cl_page, "quiz").is_visible()


@pytest.mark.browser
def test_quiz_view_labels_every_question_for_screen_readers(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    assert by_testid(cl_page, "quiz-title").inner_text() == "Week 3: linear regression"
    forms = cl_page.locator("form.cl-quiz-question")
    assert forms.count() == 4
    legend = by_testid(cl_page, "quiz-question-loss").locator("fieldset > legend")
    assert legend.inner_text().startswith("Question 1 of 4")
    prompt_id = (
        by_testid(cl_page, "quiz-question-loss")
        .locator("fieldset")
        .get_attribute("aria-describedby")
    )
    prompt = cl_page.locator(f"#{prompt_id}")
    assert prompt.locator("strong").inner_text() == "least squares"
    assert by_testid(cl_page, "quiz-question-loss-choice-sq").get_attribute("type") == "radio"
    assert cl_page.get_by_label("Squared error").count() == 1
    assert by_testid(cl_page, "quiz-question-slope-input").get_attribute("type") == "number"
    assert by_testid(cl_page, "quiz-question-method-input").get_attribute("type") == "text"
    feedback = by_testid(cl_page, "quiz-question-loss-feedback")
    assert feedback.get_attribute("aria-live") == "polite"
    assert by_testid(cl_page, "quiz-question-loss-attempts").inner_text() == "2 attempts left"


@pytest.mark.browser
def test_quiz_view_sends_an_answer_and_disables_submitting_while_in_flight(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    submit = by_testid(cl_page, "quiz-question-loss-submit")
    submit.click()
    assert by_testid(cl_page, "quiz-question-loss-error").inner_text() == "Choose an answer first."
    assert sent(cl_page) == [{"type": "refresh"}]

    cl_page.get_by_label("Squared error").check()
    assert by_testid(cl_page, "quiz-question-loss-error").is_hidden()
    submit.click()
    assert sent(cl_page)[-1] == {"type": "answer", "question": "loss", "answer": "sq"}
    assert submit.inner_text() == "Submitting…"
    assert submit.is_disabled()
    assert by_testid(cl_page, "quiz-question-method-submit").is_disabled()
    assert by_testid(cl_page, "quiz-question-loss-error").is_hidden()

    cl_page.evaluate("() => update({pending_question: 'loss', busy: true})")
    states = quiz_state()["question_states"]
    states["loss"] = answered_state(attempts_left=1, last_answer="sq", correct=True, score=2)
    cl_page.evaluate("(states) => update({question_states: states, score: 2, busy: false})", states)
    assert submit.is_disabled()  # the kernel has not finished this answer yet
    cl_page.evaluate("() => update({pending_question: ''})")
    assert submit.is_enabled()
    assert submit.inner_text() == "Submit answer"
    assert by_testid(cl_page, "quiz-question-loss-verdict").inner_text() == "Correct."
    assert by_testid(cl_page, "quiz-question-loss-attempts").inner_text() == "1 attempt left"
    assert by_testid(cl_page, "quiz-score").inner_text() == "Your score: 2 of 5"


@pytest.mark.browser
def test_typed_answers_survive_a_refresh_and_enter_submits(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    by_testid(cl_page, "quiz-question-method-input").fill("least squares")
    by_testid(cl_page, "quiz-question-slope-input").fill("3.02")
    cl_page.evaluate("(s) => update({question_states: s.question_states})", quiz_state())
    assert by_testid(cl_page, "quiz-question-method-input").input_value() == "least squares"
    by_testid(cl_page, "quiz-question-slope-input").press("Enter")
    assert sent(cl_page)[-1] == {"type": "answer", "question": "slope", "answer": 3.02}


@pytest.mark.browser
def test_ordering_moves_with_buttons_and_alt_arrows_and_keeps_focus(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    order = by_testid(cl_page, "quiz-question-steps-order")
    items = order.locator("li")
    assert [items.nth(i).get_attribute("data-item") for i in range(2)] == ["fit", "load"]
    by_testid(cl_page, "quiz-question-steps-item-load").focus()
    cl_page.keyboard.press("Alt+ArrowUp")
    assert [items.nth(i).get_attribute("data-item") for i in range(2)] == ["load", "fit"]
    focused = cl_page.evaluate("() => document.activeElement.dataset.item")
    assert focused == "load"
    assert "moved to position 1 of 2" in by_testid(cl_page, "quiz-question-steps").inner_text()
    assert by_testid(cl_page, "quiz-question-steps-item-load-up").is_disabled()
    by_testid(cl_page, "quiz-question-steps-item-fit-up").click()
    assert [items.nth(i).get_attribute("data-item") for i in range(2)] == ["fit", "load"]
    by_testid(cl_page, "quiz-question-steps-item-fit-down").click()
    by_testid(cl_page, "quiz-question-steps-submit").click()
    assert sent(cl_page)[-1] == {"type": "answer", "question": "steps", "answer": ["load", "fit"]}


@pytest.mark.browser
def test_a_done_question_shows_the_correct_answer_and_explanation_only_then(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    state = quiz_state()
    state["question_states"]["loss"] = answered_state(
        attempts_left=1, last_answer="abs", correct=False, score=0, feedback=["Not that one."]
    )
    mount(cl_page, cl_fake_server.origin, "quiz.js", state)
    assert by_testid(cl_page, "quiz-question-loss-solution").is_hidden()
    assert by_testid(cl_page, "quiz-question-loss-verdict").inner_text() == "Not quite. Try again."
    assert "Not that one." in by_testid(cl_page, "quiz-question-loss-feedback").inner_text()
    assert by_testid(cl_page, "quiz-question-loss-choice-abs").is_checked()

    state["question_states"]["loss"] = answered_state(
        attempts_used=2,
        attempts_left=0,
        last_answer="abs",
        correct=False,
        score=0,
        done=True,
        explanation="Least squares minimises the **sum of squared** residuals.",
        correct_answer="sq",
    )
    cl_page.evaluate("(s) => update({question_states: s.question_states})", state)
    solution = by_testid(cl_page, "quiz-question-loss-solution")
    assert solution.is_visible()
    assert (
        by_testid(cl_page, "quiz-question-loss-correct-answer")
        .inner_text()
        .endswith("Squared error")
    )
    assert "sum of squared" in by_testid(cl_page, "quiz-question-loss-explanation").inner_text()
    assert by_testid(cl_page, "quiz-question-loss-submit").is_disabled()
    assert by_testid(cl_page, "quiz-question-loss-choice-sq").is_disabled()
    assert by_testid(cl_page, "quiz-question-loss-attempts").inner_text() == "No attempts left"


@pytest.mark.browser
def test_a_staff_preview_shows_its_result_and_stays_answerable(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    preview = {
        "correct": False,
        "score": 0,
        "max_score": 2,
        "feedback": ["That is least absolute deviations."],
        "attempts_left": 2,
        "done": True,
        "explanation": "Squares.",
        "correct_answer": "sq",
    }
    cl_page.evaluate("(p) => update({previews: {loss: p}})", preview)
    verdict = by_testid(cl_page, "quiz-question-loss-verdict").inner_text()
    assert verdict == "Preview, not recorded: Not quite. Try again."
    assert by_testid(cl_page, "quiz-question-loss-solution").is_visible()
    assert by_testid(cl_page, "quiz-question-loss-submit").is_enabled()


@pytest.mark.browser
def test_closed_and_not_yet_open_quizzes_show_local_times_and_refuse_answers(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    state = quiz_state()
    del state["quiz"]["status"]  # older services: the open flag and the times decide
    state["quiz"].update(open=False, closes_at="2025-01-07T09:00:00Z")
    mount(cl_page, cl_fake_server.origin, "quiz.js", state)
    availability = by_testid(cl_page, "quiz-availability")
    assert by_testid(cl_page, "quiz").get_attribute("data-state") == "closed"
    assert availability.inner_text().startswith("Closed since")
    assert "10:00" in availability.inner_text()  # Berlin is UTC+1 in January
    assert availability.locator("time").get_attribute("datetime") == "2025-01-07T09:00:00Z"
    assert by_testid(cl_page, "quiz-question-loss-submit").is_disabled()

    state["quiz"].update(
        open=False, status="not_open", opens_at="2099-07-01T08:00:00Z", closes_at=None
    )
    cl_page.evaluate("(s) => update({quiz: s.quiz})", state)
    assert by_testid(cl_page, "quiz").get_attribute("data-state") == "not-open"
    assert availability.inner_text().startswith("Not open yet: opens")
    assert "10:00" in availability.inner_text()  # UTC+2 in summer


@pytest.mark.browser
def test_errors_show_the_services_message_with_a_retry(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    failed = quiz_state(
        status="error",
        quiz=None,
        error={
            "status": 403,
            "code": "not_in_course",
            "message": "You are not in the course stats.",
            "during": "load",
            "question": None,
        },
    )
    mount(cl_page, cl_fake_server.origin, "quiz.js", failed)
    box = by_testid(cl_page, "quiz-error")
    assert box.get_attribute("role") == "alert"
    assert "Not available to you" in box.inner_text()
    assert (
        by_testid(cl_page, "quiz-error-message").inner_text() == "You are not in the course stats."
    )
    by_testid(cl_page, "quiz-error-retry").click()
    assert sent(cl_page) == [{"type": "refresh"}, {"type": "refresh"}]

    refused = {
        "status": 429,
        "code": "slow_down",
        "message": "Wait a minute.",
        "during": "answer",
        "question": "loss",
    }
    cl_page.evaluate("(s) => update(s)", quiz_state(error=refused))
    assert "Wait a minute." in by_testid(cl_page, "quiz-question-loss-error").inner_text()
    assert by_testid(cl_page, "quiz-refresh-error").is_hidden()


@pytest.mark.browser
def test_leaderboard_view_marks_my_row_and_shows_my_neighbours(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "leaderboard.js", board_state(BOARD))
    rows = by_testid(cl_page, "leaderboard-top").locator('[data-testid="leaderboard-row"]')
    assert rows.count() == 2
    mine = by_testid(cl_page, "leaderboard-top").locator('[data-me="true"]')
    assert mine.get_attribute("aria-current") == "true"
    assert "(you)" in mine.inner_text()
    assert by_testid(cl_page, "leaderboard-near-me").count() == 0
    assert by_testid(cl_page, "leaderboard-me").inner_text().startswith("You are number 2 of 2")

    me = {"rank": 15, "name": "me", "score": 1, "me": True}
    far = {
        **BOARD,
        "top": [{"rank": 1, "name": "ada", "score": 3, "me": False}],
        "near_me": [{"rank": 14, "name": "bo", "score": 1.5, "me": False}, me],
        "me": me,
        "total": 30,
        "names": "alias",
    }
    cl_page.evaluate("(b) => update({board: b})", far)
    near = by_testid(cl_page, "leaderboard-near-me")
    assert near.locator('[data-me="true"]').get_attribute("data-rank") == "15"
    assert by_testid(cl_page, "leaderboard-alias-note").is_visible()


@pytest.mark.browser
def test_an_empty_leaderboard_says_so(cl_page: Any, cl_fake_server: FakeServer) -> None:
    empty = {"scope": "quiz", "top": [], "near_me": [], "me": None, "total": 0, "names": "real"}
    mount(cl_page, cl_fake_server.origin, "leaderboard.js", board_state(empty))
    assert by_testid(cl_page, "leaderboard-empty").inner_text() == "No scores yet."


@pytest.mark.browser
def test_events_for_this_quiz_refetch_once_through_the_relay_socket(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state(), config="token")
    wait_for_socket(cl_page, cl_fake_server)
    assert cl_fake_server.socket_queries == ["token=abc"]
    for _ in range(3):
        cl_fake_server.push(
            {"type": "quiz", "action": "updated", "course": "stats", "quiz": "week-3"}
        )
    cl_fake_server.push({"type": "quiz", "action": "updated", "course": "stats", "quiz": "other"})
    cl_fake_server.push({"type": "discussion", "course": "stats", "quiz": "week-3"})
    settle(cl_page, frames=5)
    assert sent(cl_page) == [{"type": "refresh"}, {"type": "refresh"}]
    # Others' scores concern boards, not this learner's quiz.
    cl_fake_server.push({"type": "quiz", "action": "scores", "course": "stats", "quiz": "week-3"})
    settle(cl_page, frames=6)
    assert len(sent(cl_page)) == 2
    cl_fake_server.push({"type": "live", "course": "stats", "quiz": "week-3", "question": "loss"})
    cl_page.wait_for_function("() => model.sent.length >= 3")


@pytest.mark.browser
def test_without_a_relay_the_widget_polls_every_30_seconds(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state())
    assert sent(cl_page) == [{"type": "refresh"}]
    cl_page.clock.run_for(20_000)
    assert len(sent(cl_page)) == 1
    cl_page.clock.run_for(15_000)
    assert sent(cl_page) == [{"type": "refresh"}, {"type": "refresh"}]
    assert cl_fake_server.socket_queries == []


@pytest.mark.browser
def test_a_course_board_refetches_when_scores_change(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    state = board_state(BOARD, quiz_id="")
    mount(cl_page, cl_fake_server.origin, "leaderboard.js", state, config="plain")
    wait_for_socket(cl_page, cl_fake_server)
    assert cl_fake_server.socket_queries == [""]  # no token in the page config, none sent
    cl_fake_server.push({"type": "quiz", "action": "scores", "course": "other", "quiz": "q"})
    cl_fake_server.push({"type": "quiz", "action": "scores", "course": "stats", "quiz": "q"})
    settle(cl_page, frames=2)
    assert sent(cl_page) == [{"type": "refresh"}, {"type": "refresh"}]
