"""In a shared server the widgets act from the browser, as the person in it.

The views are rendered in Chromium against a stand-in anywidget model whose kernel says
``shared_server`` (tests/unit/widget_fakes.py), with a stand-in of the lab extension's
widget bridge (extensions/labextension/src/widgetBridge.ts) that sends each request to the
stand-in service with the page's own credentials, as the lab client does in direct mode.
Checked: every request goes through the bridge as that person, nothing is sent to the
kernel or written to the shared model, two people on one shared model each see their own
quiz, boards and live rounds work the same way, and without the bridge (or with a bridge
that would use the server's token) the widget says why and makes no request.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cohortlab.widgets import _assets

from tests.unit.test_widgets_live import live_view
from tests.unit.widget_fakes import (
    BOARD,
    LEARNER_QUIZ,
    MOUNT,
    Call,
    FakeServer,
    FakeService,
    answered_state,
    by_testid,
    error,
    sent,
)

# Fixtures by name: cl_fake_server, cl_service, cl_chromium, cl_page.
pytest_plugins = ("tests.unit.widget_fakes",)

QUIZ_PATH = "courses/stats/quizzes/week-3"
# What the notebook says, as the shared model holds it in a workspace: nothing loaded.
SHARED_QUIZ = {
    "status": "idle",
    "error": None,
    "busy": False,
    "course": "stats",
    "quiz_id": "week-3",
    "quiz": None,
    "question_states": {},
    "score": None,
    "max_score": None,
    "pending_question": "",
    "previews": {},
    "live": None,
    "live_ack": None,
    "live_pending": "",
    "host": False,
    "shared_server": True,
}
SHARED_BOARD = {
    "status": "idle",
    "error": None,
    "busy": False,
    "course": "stats",
    "quiz_id": "week-3",
    "cohort": "red",
    "top": 5,
    "board": None,
    "shared_server": True,
}

# The lab extension's bridge, standing in: the page's person is `window.person`, sent as
# the Authorization header so the stand-in service can tell people apart (the real
# bridge sends the person's OAuth cookie).
BRIDGE = """
({ person, mode }) => {
  const listeners = new Set();
  const bridge = {
    version: 1,
    calls: [],
    mode: async () => mode,
    async request(path, options = {}) {
      bridge.calls.push({ path, ...options });
      const init = { method: options.method ?? "GET", headers: { Authorization: person } };
      if (options.body !== undefined) init.body = JSON.stringify(options.body);
      const response = await fetch(`/services/cohortlab/api/v1/${path}`, init);
      const body = await response.json();
      if (!response.ok) throw { status: response.status, ...body.error };
      return body;
    },
    subscribe(listener) {
      listeners.add(listener);
      listener.connected?.(true);
      return () => listeners.delete(listener);
    },
    push(frame) {
      for (const listener of listeners) listener.event?.(frame);
    },
  };
  globalThis[Symbol.for("cohortlab.widgets.bridge.v1")] = bridge;
}
"""


def mount_shared(
    page: Any,
    server: FakeServer,
    entry: str,
    state: dict[str, Any],
    person: str | None = "ada",
    mode: str = "direct",
) -> None:
    """Mount a view with the bridge on the page (``person=None``: no bridge at all)."""
    page.goto(f"{server.origin}/harness?config=1")
    if person is not None:
        page.evaluate(BRIDGE, {"person": f"person {person}", "mode": mode})
    css = _assets.read_asset("cohortlab.css") + _assets.read_asset("live.css")
    page.evaluate(MOUNT, {"esm": _assets.bundle(entry), "css": css, "state": state})


def bridge_calls(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("() => globalThis[Symbol.for('cohortlab.widgets.bridge.v1')].calls")


def shared_state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => model.state")


def serve_per_person(service: FakeService) -> dict[str, list[Any]]:
    """A quiz whose answers are recorded per Authorization header, as the service does."""
    answers: dict[str, list[Any]] = {}

    def quiz(call: Call) -> Any:
        data = copy.deepcopy(LEARNER_QUIZ)
        mine = answers.get(call.auth or "", [])
        if mine:
            data["state"]["loss"] = answered_state(last_answer=mine[-1], correct=False, score=0)
        return 200, data

    def answer(call: Call) -> Any:
        answers.setdefault(call.auth or "", []).append(call.body["answer"])
        state = answered_state(last_answer=call.body["answer"], correct=False, score=0)
        result = {"correct": False, "score": 0, "max_score": 2, "feedback": []}
        result.update(attempts_left=1, done=False)
        return 201, {"result": result, "question": state, "score": 0, "max_score": 3}

    service.answer("GET", QUIZ_PATH, quiz)
    service.answer("POST", f"{QUIZ_PATH}/answers", answer)
    return answers


@pytest.mark.browser
def test_in_a_shared_server_the_quiz_loads_and_answers_as_the_person_in_the_browser(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    answers = serve_per_person(cl_service)
    mount_shared(cl_page, cl_fake_server, "quiz.js", SHARED_QUIZ)
    by_testid(cl_page, "quiz-title").wait_for(timeout=10_000)
    cl_page.get_by_label("Absolute error").check()
    by_testid(cl_page, "quiz-question-loss-submit").click()
    verdict = by_testid(cl_page, "quiz-question-loss-verdict")
    verdict.wait_for(timeout=10_000)
    assert verdict.inner_text() == "Not quite. Try again."
    assert answers == {"person ada": ["abs"]}
    # Every request went through the bridge, as ada; the quiz's events come from it too.
    assert {c.auth for c in cl_service.calls} == {"person ada"}
    assert {
        "path": f"{QUIZ_PATH}/answers",
        "method": "POST",
        "body": {"question": "loss", "answer": "abs"},
    } in bridge_calls(cl_page)
    assert by_testid(cl_page, "quiz").get_attribute("data-events") == "connected"
    # Nothing to the kernel, nothing in the shared model.
    assert sent(cl_page) == []
    assert shared_state(cl_page) == SHARED_QUIZ


@pytest.mark.browser
def test_two_people_on_one_shared_model_each_see_only_their_own_answer(
    cl_chromium: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    answers = serve_per_person(cl_service)
    pages = {}
    for person in ("ada", "ben"):
        pages[person] = cl_chromium.new_context().new_page()
        mount_shared(pages[person], cl_fake_server, "quiz.js", SHARED_QUIZ, person=person)
        by_testid(pages[person], "quiz-title").wait_for(timeout=10_000)
    try:
        for person, label in (("ada", "Absolute error"), ("ben", "Squared error")):
            pages[person].get_by_label(label).check()
            by_testid(pages[person], "quiz-question-loss-submit").click()
            by_testid(pages[person], "quiz-question-loss-verdict").wait_for(timeout=10_000)
        assert answers == {"person ada": ["abs"], "person ben": ["sq"]}
        # Each reload shows the person's own last answer, never the other's.
        for person, mine in (("ada", "abs"), ("ben", "sq")):
            page = pages[person]
            mount_shared(page, cl_fake_server, "quiz.js", SHARED_QUIZ, person=person)
            by_testid(page, "quiz-question-loss-verdict").wait_for(timeout=10_000)
            checked = page.locator('[data-testid^="quiz-question-loss-choice-"]:checked')
            assert checked.get_attribute("data-testid") == f"quiz-question-loss-choice-{mine}"
            assert sent(page) == []
    finally:
        for page in pages.values():
            page.context.close()


@pytest.mark.browser
def test_a_refusal_in_a_shared_server_is_the_services_message(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    cl_service.answer(
        "GET", QUIZ_PATH, error(403, "not_a_member", "You are not in the course stats.")
    )
    mount_shared(cl_page, cl_fake_server, "quiz.js", SHARED_QUIZ)
    message = by_testid(cl_page, "quiz-error-message")
    message.wait_for(timeout=10_000)
    assert message.inner_text() == "You are not in the course stats."
    assert sent(cl_page) == []


@pytest.mark.browser
def test_a_staff_members_spec_is_dropped_in_the_browser(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    staff = copy.deepcopy(LEARNER_QUIZ)
    staff["spec"] = {"questions": [{"id": "loss", "explanation": "KEY-MARKER-4711"}]}
    cl_service.answer("GET", QUIZ_PATH, (200, staff))
    mount_shared(cl_page, cl_fake_server, "quiz.js", SHARED_QUIZ, person="teacher")
    by_testid(cl_page, "live-start-form").wait_for(timeout=10_000)  # a host, from the spec
    assert "KEY-MARKER-4711" not in cl_page.content()
    assert shared_state(cl_page) == SHARED_QUIZ


@pytest.mark.browser
def test_in_a_shared_server_the_leaderboard_is_the_persons_own(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    cl_service.answer("GET", f"{QUIZ_PATH}/leaderboard", (200, BOARD))
    mount_shared(cl_page, cl_fake_server, "leaderboard.js", SHARED_BOARD)
    by_testid(cl_page, "leaderboard-me").wait_for(timeout=10_000)
    assert by_testid(cl_page, "leaderboard-me").inner_text().startswith("You are number 2 of 2")
    (call,) = cl_service.calls
    assert call.auth == "person ada"
    assert call.query == {"limit": "5", "scope": "cohort", "cohort": "red"}
    assert sent(cl_page) == []
    assert shared_state(cl_page) == SHARED_BOARD


@pytest.mark.browser
def test_a_live_round_is_joined_and_answered_as_the_person(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    cl_service.answer("GET", QUIZ_PATH, (200, copy.deepcopy(LEARNER_QUIZ)))
    cl_service.answer("GET", f"{QUIZ_PATH}/live", (200, live_view("lobby", joined=False)))
    cl_service.answer("POST", "courses/stats/live/7/join", (200, live_view("lobby")))
    cl_service.answer("GET", "courses/stats/live/7", (200, live_view("open", 0)))
    ack = {"received": True, "question": "loss", "elapsed": 2.5}
    cl_service.answer("POST", "courses/stats/live/7/answers", (201, ack))
    mount_shared(cl_page, cl_fake_server, "quiz.js", SHARED_QUIZ)
    by_testid(cl_page, "live-join").click(timeout=10_000)
    by_testid(cl_page, "live-lobby").wait_for(timeout=10_000)
    # The instructor shows the first question: a frame through the bridge's stream.
    frame = {"type": "live", "action": "question_opened", "course": "stats", "quiz": "week-3"}
    frame.update(session=7, state=live_view("open", 0)["session"])
    cl_page.evaluate("(f) => globalThis[Symbol.for('cohortlab.widgets.bridge.v1')].push(f)", frame)
    by_testid(cl_page, "live-question").wait_for(timeout=10_000)
    by_testid(cl_page, "live-question-choice-sq").check()
    by_testid(cl_page, "live-submit").click()
    by_testid(cl_page, "live-received").wait_for(timeout=10_000)
    posts = [(c.path, c.body, c.auth) for c in cl_service.calls if c.method == "POST"]
    assert posts == [
        ("courses/stats/live/7/join", None, "person ada"),
        ("courses/stats/live/7/answers", {"question": "loss", "answer": "sq"}, "person ada"),
    ]
    assert sent(cl_page) == []
    assert shared_state(cl_page) == SHARED_QUIZ


@pytest.mark.browser
def test_without_the_lab_extension_a_shared_server_widget_says_why(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    mount_shared(cl_page, cl_fake_server, "quiz.js", SHARED_QUIZ, person=None)
    message = by_testid(cl_page, "quiz-error-message")
    message.wait_for(timeout=10_000)  # after the bridge wait (5 s)
    assert "CohortLab's JupyterLab extension" in message.inner_text()
    assert cl_service.calls == []
    assert sent(cl_page) == []


@pytest.mark.browser
def test_a_bridge_that_would_use_the_servers_token_is_not_used(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    mount_shared(cl_page, cl_fake_server, "leaderboard.js", SHARED_BOARD, mode="relay")
    message = by_testid(cl_page, "leaderboard-error-message")
    message.wait_for(timeout=10_000)
    assert "server's token" in message.inner_text()
    assert cl_service.calls == []
    assert sent(cl_page) == []


@pytest.mark.browser
def test_in_a_persons_own_server_the_kernel_acts_as_before(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    own = {**SHARED_QUIZ, "shared_server": False}
    mount_shared(cl_page, cl_fake_server, "quiz.js", own)
    by_testid(cl_page, "quiz-loading").wait_for(timeout=10_000)
    assert sent(cl_page) == [{"type": "refresh"}]
    # Its events come from the relay's socket, not the bridge's: once that has opened (a
    # round trip to the server, after the view's first load would have used the bridge),
    # the bridge was never asked for anything.
    cl_page.locator('[data-testid="quiz"][data-events="connected"]').wait_for(timeout=10_000)
    assert cl_fake_server.sockets
    assert bridge_calls(cl_page) == []
    assert cl_service.calls == []


@pytest.mark.browser
def test_a_view_rendered_before_shared_server_arrived_becomes_personal(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    cl_service.answer("GET", QUIZ_PATH, (200, copy.deepcopy(LEARNER_QUIZ)))
    mount_shared(cl_page, cl_fake_server, "quiz.js", {**SHARED_QUIZ, "shared_server": False})
    cl_page.evaluate("() => update({ shared_server: true })")
    by_testid(cl_page, "quiz-title").wait_for(timeout=10_000)
    assert {c.auth for c in cl_service.calls} == {"person ada"}
    assert sent(cl_page) == [{"type": "refresh"}]  # the one sent before it knew


@pytest.mark.browser
def test_an_instructor_hosts_a_round_from_a_shared_server_as_themselves(
    cl_page: Any, cl_fake_server: FakeServer, cl_service: FakeService
) -> None:
    staff = copy.deepcopy(LEARNER_QUIZ)
    staff["spec"] = {"questions": []}
    cl_service.answer("GET", QUIZ_PATH, (200, staff))
    cl_service.answer("POST", f"{QUIZ_PATH}/live", (201, live_view("lobby", joined=False)))
    cl_service.answer("POST", "courses/stats/live/7/next", (200, live_view("open", 0, False)))
    cl_service.answer("POST", "courses/stats/live/7/end", (200, live_view("ended", 0, False)))
    mount_shared(cl_page, cl_fake_server, "quiz.js", SHARED_QUIZ, person="teacher")
    by_testid(cl_page, "live-countdown-input").fill("30")
    by_testid(cl_page, "live-start").click(timeout=10_000)
    by_testid(cl_page, "live-next").click(timeout=10_000)
    by_testid(cl_page, "live-presenter-question").wait_for(timeout=10_000)
    by_testid(cl_page, "live-end").click()
    cl_page.locator('[data-testid="live"][data-phase="ended"]').wait_for(timeout=10_000)
    posts = [(c.path, c.body, c.auth) for c in cl_service.calls if c.method == "POST"]
    assert posts == [
        (f"{QUIZ_PATH}/live", {"team_mode": "none", "countdown": 30}, "person teacher"),
        ("courses/stats/live/7/next", {}, "person teacher"),
        ("courses/stats/live/7/end", None, "person teacher"),
    ]
    assert sent(cl_page) == []
