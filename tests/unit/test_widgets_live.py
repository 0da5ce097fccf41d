"""Live rounds in the Quiz widget: the kernel side against a stand-in service, and the
views in Chromium against a stand-in model (both from tests/unit/widget_fakes.py).

The kernel tests are about requests and state: who calls which live route with what
body, that the synced state is the service's LiveView picked verbatim, and that every
refusal becomes a message. The view tests check the round's screens (join, lobby,
question with countdown, answer received, results, host controls, presenter), its
labels for screen readers and keyboard use, and how relay frames are shown and when
they make the view ask its kernel for the round.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cohortlab.widgets import Quiz

from tests.unit.widget_fakes import (
    LEARNER_QUIZ,
    TOKEN,
    FakeServer,
    FakeService,
    by_testid,
    error,
    mount,
    quiz_state,
    sent,
    serve_quiz,
    settle,
    synced,
    wait_for_socket,
)

# Fixtures by name: cl_fake_server, cl_service, cl_chromium, cl_page.
pytest_plugins = ("tests.unit.widget_fakes",)

QUIZ_PATH = "courses/stats/quizzes/week-3"
SID = 7
LIVE_QUESTION = copy.deepcopy(LEARNER_QUIZ["quiz"]["questions"][0])
BOARD_TOP = [
    {"rank": 1, "name": "Curious Otter", "score": 1850, "me": True, "alias": True},
    {"rank": 2, "name": "Brave Heron", "score": 900, "me": False, "alias": True},
]


def session(phase: str = "lobby", question: int = -1, **changes: Any) -> dict[str, Any]:
    """A ``LiveView["session"]`` as the service sends it."""
    opened = phase in ("open", "closed") or (phase == "ended" and question >= 0)
    data = {
        "id": SID,
        "quiz": "week-3",
        "title": "Week 3: linear regression",
        "course": "stats",
        "team_mode": "none",
        "team_cohort": None,
        "phase": phase,
        "question": question,
        "question_count": 2,
        "options": {"countdown": 20, "speed": "points", "streak": True},
        "opened_at": "2025-01-06T09:00:00+00:00" if opened else None,
        "deadline": "2025-01-06T09:00:20+00:00" if opened else None,
        "closed_at": "2025-01-06T09:00:12+00:00" if phase in ("closed", "ended") else None,
        "ended_at": "2025-01-06T09:05:00+00:00" if phase == "ended" else None,
        "remaining": 20.0 if phase == "open" else 0.0,
        "players": 2,
    }
    return {**data, **changes}


def results(me: bool = True) -> dict[str, Any]:
    return {
        "question": "loss",
        "distribution": {
            "question": "loss",
            "type": "single",
            "answered": 2,
            "correct": 1,
            "partial": 0,
            "incorrect": 1,
            "no_answer": 1,
            "choices": [
                {"id": "abs", "text": "Absolute error", "count": 1},
                {"id": "sq", "text": "Squared error", "count": 1},
            ],
        },
        "correct_answer": "sq",
        "explanation": "Least squares squares the residuals.",
        "leaderboard": {
            "scope": "live",
            "top": BOARD_TOP if me else [{**row, "me": False} for row in BOARD_TOP],
            "near_me": BOARD_TOP[:1] if me else [],
            "me": BOARD_TOP[0] if me else None,
            "total": 2,
            "names": "alias",
        },
        "teams": [],
    }


def live_view(phase: str = "lobby", question: int = -1, joined: bool = True, **extra: Any) -> Any:
    """A learner's (or with ``joined=False`` staff's) ``LiveView``."""
    view: dict[str, Any] = {
        "session": session(phase, question),
        "joined": joined,
        "question": copy.deepcopy(LIVE_QUESTION) if question >= 0 else None,
    }
    if joined:
        view["me"] = {"score": 0, "team": None, "answered": 0}
        if question >= 0:
            view["my_answer"] = {"answered": False}
    if phase in ("closed", "ended") and question >= 0:
        view["results"] = results(me=joined)
        if joined:
            view["me"] = {"score": 1850, "team": None, "answered": 1}
            view["my_answer"] = {
                "answered": True,
                "answer": "sq",
                "correct": True,
                "points": 850,
                "bonus": 100,
                "streak": 2,
            }
    return {**view, **extra}


def loaded_quiz(service: FakeService, view: Any = None, staff: bool = False) -> Quiz:
    """A Quiz whose quiz and live round have been loaded (as on first display)."""
    data = copy.deepcopy(LEARNER_QUIZ)
    if staff:
        data["spec"] = {"questions": []}
    serve_quiz(service, quiz=data)
    if view is not None:
        service.answer("GET", f"{QUIZ_PATH}/live", (200, copy.deepcopy(view)))
    quiz = Quiz("week-3", course="stats", client=service.client())
    quiz.refresh()
    service.calls.clear()
    return quiz


def msg(widget: Quiz, content: Any) -> None:
    widget._handle_custom_msg(content, [])


# -- loading the round --------------------------------------------------------------------


def test_a_running_round_loads_with_the_quiz_verbatim(cl_service: FakeService) -> None:
    served = live_view("open", 0, joined=False)
    quiz = loaded_quiz(cl_service, served)
    assert quiz.live == served
    assert quiz.host is False
    assert quiz.error is None
    assert quiz.status == "ready"


def test_the_live_state_holds_only_the_views_fields(cl_service: FakeService) -> None:
    served = {**live_view("lobby"), "debug": {"secret": "x"}}
    quiz = loaded_quiz(cl_service, served)
    assert quiz.live is not None
    assert set(quiz.live) == {"session", "joined", "question", "me"}
    assert "secret" not in json.dumps(synced(quiz))


def test_only_the_instructors_view_makes_a_host(cl_service: FakeService) -> None:
    assert loaded_quiz(cl_service, staff=True).host is True
    assert loaded_quiz(cl_service, staff=False).host is False


def test_an_unreadable_round_is_a_message(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service)
    cl_service.answer("GET", f"{QUIZ_PATH}/live", (200, {"session": "nope"}))
    msg(quiz, {"type": "live_refresh"})
    assert quiz.error is not None
    assert (quiz.error["code"], quiz.error["during"]) == ("bad_response", "live_refresh")
    assert quiz.status == "ready"


def test_a_live_refresh_reads_the_round_on_screen_or_finds_the_quizs(
    cl_service: FakeService,
) -> None:
    quiz = loaded_quiz(cl_service, live_view("lobby"))
    opened = live_view("open", 0)
    cl_service.answer("GET", f"courses/stats/live/{SID}", (200, opened))
    msg(quiz, {"type": "live_refresh", "session": SID})
    assert quiz.live == opened
    # a frame about another round (a new one started): the quiz's current round
    msg(quiz, {"type": "live_refresh", "session": SID + 1})
    msg(quiz, {"type": "live_refresh"})
    assert cl_service.paths() == [
        f"GET courses/stats/live/{SID}",
        f"GET {QUIZ_PATH}/live",
        f"GET {QUIZ_PATH}/live",
    ]
    assert {c.auth for c in cl_service.calls} == {f"token {TOKEN}"}


def test_a_live_refresh_before_anything_loaded_loads_the_quiz_too(
    cl_service: FakeService,
) -> None:
    serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    msg(quiz, {"type": "live_refresh", "session": SID})
    assert cl_service.paths() == [f"GET {QUIZ_PATH}", f"GET {QUIZ_PATH}/live"]
    assert quiz.status == "ready"


def test_a_failed_live_refresh_keeps_the_round_and_clears_once_it_works(
    cl_service: FakeService,
) -> None:
    shown = live_view("lobby")
    quiz = loaded_quiz(cl_service, shown)
    cl_service.answer("GET", f"courses/stats/live/{SID}", error(503, "unavailable", "Busy."))
    msg(quiz, {"type": "live_refresh", "session": SID})
    assert quiz.live == shown
    assert quiz.error is not None
    assert (quiz.error["during"], quiz.error["message"]) == ("live_refresh", "Busy.")
    cl_service.answer("GET", f"courses/stats/live/{SID}", (200, shown))
    msg(quiz, {"type": "live_refresh", "session": SID})
    assert quiz.error is None


# -- playing ------------------------------------------------------------------------------


def test_a_learner_joins_as_themselves(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, live_view("lobby", joined=False))
    joined = live_view("lobby")
    cl_service.answer("POST", f"courses/stats/live/{SID}/join", (200, joined))
    pending: list[str] = []
    quiz.observe(lambda change: pending.append(change["new"]), ["live_pending"])
    msg(quiz, {"type": "join"})
    (call,) = cl_service.calls
    assert (call.method, call.path, call.body, call.auth) == (
        "POST",
        f"courses/stats/live/{SID}/join",
        None,
        f"token {TOKEN}",
    )
    assert quiz.live == joined
    assert pending == ["join", ""]
    assert quiz.busy is False


def test_joining_with_no_round_on_screen_finds_it_first(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service)  # loaded before the round started
    cl_service.answer("GET", f"{QUIZ_PATH}/live", (200, live_view("lobby", joined=False)))
    cl_service.answer("POST", f"courses/stats/live/{SID}/join", (200, live_view("lobby")))
    msg(quiz, {"type": "join"})
    assert cl_service.paths() == [f"GET {QUIZ_PATH}/live", f"POST courses/stats/live/{SID}/join"]
    assert quiz.live is not None
    assert quiz.live["joined"] is True


def test_joining_when_no_round_runs_says_so(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service)
    msg(quiz, {"type": "join"})
    assert quiz.error is not None
    assert (quiz.error["code"], quiz.error["during"]) == ("no_session", "join")
    assert cl_service.paths() == [f"GET {QUIZ_PATH}/live"]


def test_staff_joining_get_the_services_reason(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, live_view("lobby", joined=False))
    cl_service.answer(
        "POST",
        f"courses/stats/live/{SID}/join",
        error(400, "not_a_player", "Staff run and watch live quizzes; learners play."),
    )
    msg(quiz, {"type": "join"})
    assert quiz.error == {
        "status": 400,
        "code": "not_a_player",
        "message": "Staff run and watch live quizzes; learners play.",
        "during": "join",
        "question": None,
    }
    assert quiz.live is not None
    assert quiz.live["joined"] is False


def test_an_answer_is_sent_once_and_its_acknowledgement_kept_verbatim(
    cl_service: FakeService,
) -> None:
    quiz = loaded_quiz(cl_service, live_view("open", 0))
    ack = {"received": True, "question": "loss", "elapsed": 3.25}
    cl_service.answer("POST", f"courses/stats/live/{SID}/answers", (201, ack))
    msg(quiz, {"type": "answer_live", "question": "loss", "answer": "sq"})
    (call,) = cl_service.calls
    assert call.path == f"courses/stats/live/{SID}/answers"
    assert call.body == {"question": "loss", "answer": "sq"}
    assert quiz.live_ack == ack
    assert quiz.live_pending == ""
    # the ack is not a verdict: nothing about being right reaches the state yet
    assert "correct" not in json.dumps(quiz.live_ack)


def test_a_late_answer_reloads_the_round_and_keeps_the_reason(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, live_view("open", 0))
    cl_service.answer(
        "POST",
        f"courses/stats/live/{SID}/answers",
        error(409, "live_state", "The question is already closed."),
    )
    closed = live_view("closed", 0)
    cl_service.answer("GET", f"{QUIZ_PATH}/live", (200, closed))
    assert quiz.answer_live("loss", "sq") is None
    assert cl_service.paths() == [
        f"POST courses/stats/live/{SID}/answers",
        f"GET {QUIZ_PATH}/live",
    ]
    assert quiz.live == closed
    assert quiz.error is not None
    assert (quiz.error["message"], quiz.error["during"], quiz.error["question"]) == (
        "The question is already closed.",
        "answer_live",
        "loss",
    )


def test_the_ack_and_a_live_refusal_go_when_the_round_moves_on(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, live_view("open", 0))
    quiz.live_ack = {"received": True, "question": "loss", "elapsed": 1.0}
    quiz.error = {
        "status": 409,
        "code": "already_answered",
        "message": "You have already answered.",
        "during": "answer_live",
        "question": "loss",
    }
    same = live_view("open", 0)
    same["session"]["remaining"] = 11.5
    cl_service.answer("GET", f"courses/stats/live/{SID}", (200, same))
    msg(quiz, {"type": "live_refresh", "session": SID})
    assert quiz.live_ack is not None and quiz.error is not None  # same screen: kept
    cl_service.answer("GET", f"courses/stats/live/{SID}", (200, live_view("closed", 0)))
    msg(quiz, {"type": "live_refresh", "session": SID})
    assert quiz.live_ack is None
    assert quiz.error is None


# -- hosting ------------------------------------------------------------------------------


def test_the_host_starts_paces_and_ends_a_round(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, staff=True)
    steps = [
        ("POST", f"{QUIZ_PATH}/live", live_view("lobby", joined=False)),
        ("POST", f"courses/stats/live/{SID}/next", live_view("open", 0, joined=False)),
        ("POST", f"courses/stats/live/{SID}/close", live_view("closed", 0, joined=False)),
        ("POST", f"courses/stats/live/{SID}/end", live_view("ended", 0, joined=False)),
    ]
    for method, path, view in steps:
        cl_service.answer(method, path, (201 if path.endswith("/live") else 200, view))
    msg(
        quiz,
        {"type": "start", "team_mode": "teams", "team_cohort": "red", "countdown": 15, "x": 1},
    )
    assert quiz.live == steps[0][2]
    msg(quiz, {"type": "next", "countdown": 10})
    assert quiz.live == steps[1][2]
    msg(quiz, {"type": "close"})
    assert quiz.live == steps[2][2]
    msg(quiz, {"type": "end"})
    assert quiz.live == steps[3][2]
    assert [(c.method, c.path, c.body) for c in cl_service.calls] == [
        (
            "POST",
            f"{QUIZ_PATH}/live",
            {"team_mode": "teams", "team_cohort": "red", "countdown": 15},
        ),
        ("POST", f"courses/stats/live/{SID}/next", {"countdown": 10}),
        ("POST", f"courses/stats/live/{SID}/close", None),
        ("POST", f"courses/stats/live/{SID}/end", None),
    ]
    assert quiz.error is None


def test_next_without_a_countdown_sends_no_body_field(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, live_view("lobby", joined=False), staff=True)
    cl_service.answer("POST", f"courses/stats/live/{SID}/next", (200, live_view("open", 0)))
    msg(quiz, {"type": "next"})
    assert cl_service.calls[0].body == {}


def test_starting_while_a_round_runs_shows_that_round_and_the_reason(
    cl_service: FakeService,
) -> None:
    quiz = loaded_quiz(cl_service, staff=True)
    cl_service.answer(
        "POST",
        f"{QUIZ_PATH}/live",
        error(409, "session_running", "Live session 7 of quiz 'week-3' is still running."),
    )
    running = live_view("open", 0, joined=False)
    cl_service.answer("GET", f"{QUIZ_PATH}/live", (200, running))
    assert quiz.start_live() is None
    assert quiz.live == running
    assert quiz.error is not None
    assert (quiz.error["code"], quiz.error["during"]) == ("session_running", "start")


@pytest.mark.parametrize(
    ("action", "path", "status", "code", "message"),
    [
        (
            "start",
            f"{QUIZ_PATH}/live",
            403,
            "instructor_only",
            "Only instructors run live quizzes.",
        ),
        ("start", f"{QUIZ_PATH}/live", 400, "invalid_field", "team_mode teams needs team_cohort."),
        ("next", f"courses/stats/live/{SID}/next", 400, "invalid_field", "countdown: 5 to 300."),
        ("next", f"courses/stats/live/{SID}/next", 403, "instructor_only", "Instructors only."),
        ("close", f"courses/stats/live/{SID}/close", 409, "live_state", "Already closed."),
        ("end", f"courses/stats/live/{SID}/end", 409, "live_state", "Already ended."),
        ("join", f"courses/stats/live/{SID}/join", 409, "live_state", "The round has ended."),
        ("join", f"courses/stats/live/{SID}/join", 503, "service_unreachable", "Down."),
    ],
)
def test_every_live_refusal_becomes_the_services_message(
    cl_service: FakeService, action: str, path: str, status: int, code: str, message: str
) -> None:
    shown = live_view("lobby", joined=False)
    quiz = loaded_quiz(cl_service, shown, staff=True)
    cl_service.answer("POST", path, error(status, code, message))
    msg(quiz, {"type": action})
    assert quiz.error is not None
    assert {k: quiz.error[k] for k in ("status", "code", "message", "during")} == {
        "status": status,
        "code": code,
        "message": message,
        "during": action,
    }
    assert quiz.busy is False
    assert quiz.live_pending == ""
    assert quiz.status == "ready"
    # the round is reloaded after a 403/409 only (it may have moved on); else left alone
    reloaded = [c.path for c in cl_service.calls if c.method == "GET"]
    assert reloaded == ([f"{QUIZ_PATH}/live"] if status in (403, 409) else [])


def test_a_step_with_no_round_says_so_without_calling(cl_service: FakeService) -> None:
    quiz = loaded_quiz(cl_service, staff=True)
    for action in ("next", "close", "end"):
        msg(quiz, {"type": action})
        assert quiz.error is not None
        assert (quiz.error["code"], quiz.error["during"]) == ("no_session", action)
    assert cl_service.calls == []


@pytest.mark.parametrize(
    "message",
    [
        {"type": "answer_live", "answer": "sq"},
        {"type": "answer_live", "question": 3, "answer": "sq"},
        {"type": "answer_live", "question": "loss"},
        {"type": "live_refresh", "session": "7; DROP"},
    ],
)
def test_malformed_live_messages_make_no_request_they_do_not_describe(
    cl_service: FakeService, message: dict[str, Any]
) -> None:
    quiz = loaded_quiz(cl_service, live_view("open", 0))
    msg(quiz, message)
    assert all(c.method == "GET" and c.path == f"{QUIZ_PATH}/live" for c in cl_service.calls)


def test_session_ids_cannot_reach_other_routes(cl_service: FakeService) -> None:
    view = live_view("lobby", joined=False)
    view["session"]["id"] = "7/../../admin"
    quiz = loaded_quiz(cl_service, view)
    msg(quiz, {"type": "join"})
    # an id that is not a number is not used: the quiz's round is looked up instead
    assert [c.path for c in cl_service.calls] == [f"{QUIZ_PATH}/live"]


# -- the views, in Chromium ---------------------------------------------------------------


def live_state(view: Any, **changes: Any) -> dict[str, Any]:
    """The synced state of a Quiz showing ``view``."""
    base = quiz_state(live=view, live_ack=None, live_pending="", host=False)
    return {**base, **changes}


def set_live(page: Any, view: Any, **changes: Any) -> None:
    """What the kernel does after a refetch: a new view (and anything else)."""
    page.evaluate("(c) => update(c)", {"live": view, **changes})


def kernel_step(page: Any, action: str, view: Any) -> None:
    """What the kernel does for a host's step: busy, then the view the service answered."""
    page.evaluate("(a) => update({live_pending: a, busy: true})", action)
    page.evaluate("(v) => update({live_pending: '', busy: false, live: v})", view)


@pytest.mark.browser
def test_a_learner_sees_a_running_round_and_joins_with_the_keyboard(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(live_view("lobby", joined=False)))
    banner = by_testid(cl_page, "live-join-banner")
    assert "running (waiting to start)" in banner.inner_text()
    assert by_testid(cl_page, "quiz-questions").is_visible()  # not in the round yet
    by_testid(cl_page, "live-join").focus()
    cl_page.keyboard.press("Enter")
    assert sent(cl_page)[-1] == {"type": "join"}
    assert by_testid(cl_page, "live-join").is_disabled()
    cl_page.evaluate("() => update({live_pending: 'join', busy: true})")
    assert by_testid(cl_page, "live-join").inner_text() == "Joining…"
    set_live(cl_page, live_view("lobby"), live_pending="", busy=False)
    assert "Waiting for the instructor" in by_testid(cl_page, "live-lobby").inner_text()
    assert by_testid(cl_page, "quiz-questions").is_hidden()  # the round takes over
    assert by_testid(cl_page, "live").get_attribute("data-phase") == "lobby"
    assert by_testid(cl_page, "live-countdown").is_hidden()


@pytest.mark.browser
def test_the_open_question_counts_down_and_announces_only_at_thresholds(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(live_view("lobby")))
    opened = live_view("open", 0)
    opened["session"]["remaining"] = 12.4  # the service's, at the moment it was read
    set_live(cl_page, opened)
    countdown = by_testid(cl_page, "live-countdown")
    announcer = by_testid(cl_page, "live-countdown-announcer")
    assert countdown.get_attribute("role") == "timer"
    assert countdown.get_attribute("data-remaining") == "13"
    assert announcer.get_attribute("aria-live") == "polite"
    assert announcer.inner_text() == "13 seconds to answer."
    cl_page.clock.run_for(1_000)
    assert countdown.get_attribute("data-remaining") == "12"
    assert announcer.inner_text() == "13 seconds to answer."  # not every second
    cl_page.clock.run_for(2_600)
    assert countdown.get_attribute("data-remaining") == "9"
    assert announcer.inner_text() == "10 seconds left."
    # a refetch of the same question re-anchors on the service's newer remaining
    again = live_view("open", 0)
    again["session"]["remaining"] = 3.0
    set_live(cl_page, again)
    assert countdown.get_attribute("data-remaining") == "3"
    assert announcer.inner_text() == "5 seconds left."
    cl_page.clock.run_for(3_100)
    assert countdown.get_attribute("data-remaining") == "0"
    assert announcer.inner_text() == "Time is up."
    # display only: the form stays usable until the service says the question closed
    assert by_testid(cl_page, "live-submit").is_enabled()
    cl_page.clock.run_for(3_000)  # no close came: the view asks for the round
    assert sent(cl_page)[-1] == {"type": "live_refresh", "session": SID}


@pytest.mark.browser
def test_one_answer_then_answer_received(cl_page: Any, cl_fake_server: FakeServer) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(live_view("open", 0)))
    form = by_testid(cl_page, "live-question")
    legend = form.locator("fieldset > legend").inner_text()
    assert legend.startswith("Question 1 of 2") and "up to 2,000 points" in legend
    by_testid(cl_page, "live-submit").click()
    assert by_testid(cl_page, "live-answer-error").inner_text() == "Choose an answer first."
    by_testid(cl_page, "live-question-choice-sq").check()
    assert by_testid(cl_page, "live-answer-error").is_hidden()
    by_testid(cl_page, "live-question-choice-sq").press("Enter")
    assert sent(cl_page)[-1] == {"type": "answer_live", "question": "loss", "answer": "sq"}
    assert by_testid(cl_page, "live-submit").is_disabled()
    ack = {"received": True, "question": "loss", "elapsed": 2.5}
    cl_page.evaluate("(ack) => update({live_ack: ack, live_pending: ''})", ack)
    received = by_testid(cl_page, "live-received")
    assert received.inner_text().startswith("Answer received.")
    assert received.get_attribute("role") == "status"
    assert by_testid(cl_page, "live-question-choice-sq").is_disabled()
    assert by_testid(cl_page, "live-submit").is_hidden()


@pytest.mark.browser
def test_a_refused_live_answer_is_shown_at_the_form(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    refused = {
        "status": 400,
        "code": "invalid_answer",
        "message": "Choose one of the choices.",
        "during": "answer_live",
        "question": "loss",
    }
    mount(
        cl_page,
        cl_fake_server.origin,
        "quiz.js",
        live_state(live_view("open", 0), error=refused),
    )
    assert by_testid(cl_page, "live-answer-error").inner_text() == "Choose one of the choices."
    assert by_testid(cl_page, "live-error").is_hidden()
    assert by_testid(cl_page, "quiz-refresh-error").is_hidden()


@pytest.mark.browser
def test_after_close_a_learner_sees_verdict_points_bars_and_board(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(live_view("closed", 0)))
    verdict = by_testid(cl_page, "live-verdict")
    assert verdict.get_attribute("data-correct") == "true"
    assert "Correct!" in verdict.inner_text()
    assert by_testid(cl_page, "live-points").inner_text() == "+850 points"
    assert (
        "+100 streak bonus (2 right answers in a row)"
        in by_testid(cl_page, "live-bonus").inner_text()
    )
    assert by_testid(cl_page, "live-total").inner_text() == "Your total: 1,850 points"
    assert "Squared error" in by_testid(cl_page, "live-correct-answer").inner_text()
    assert "squares the residuals" in by_testid(cl_page, "live-explanation").inner_text()
    bars = by_testid(cl_page, "live-distribution").locator('[data-testid="live-bar"]')
    assert bars.count() == 3
    right = bars.filter(has=cl_page.locator('[data-choice="sq"]'))
    sq = cl_page.locator('[data-testid="live-bar"][data-choice="sq"]')
    assert sq.get_attribute("data-count") == "1"
    assert sq.get_attribute("data-correct") == "true"
    # what a screen reader reads for a bar: label, "correct answer", count of answers, share
    spoken = sq.evaluate("(n) => n.textContent")
    assert "Squared error" in spoken and "correct answer" in spoken
    assert "1 of 2 answers, 50 %" in spoken
    assert right.count() in (0, 1)
    no_answer = cl_page.locator('[data-testid="live-bar"][data-choice="no_answer"]')
    assert no_answer.get_attribute("data-count") == "1"
    rows = by_testid(cl_page, "live-board").locator('[data-testid="live-board-row"]')
    assert rows.count() == 2
    mine = by_testid(cl_page, "live-board").locator('[data-me="true"]')
    assert mine.get_attribute("aria-current") == "true"
    assert "Curious Otter" in mine.inner_text()
    assert by_testid(cl_page, "live-my-rank").inner_text().startswith("You are number 1 of 2")
    assert by_testid(cl_page, "live-countdown").is_hidden()  # never ran on this page


@pytest.mark.browser
def test_team_mode_shows_team_scores_with_mine_marked(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    view = live_view("closed", 0)
    view["session"].update(team_mode="cohorts")
    view["me"]["team"] = "red"
    view["results"]["teams"] = [
        {"rank": 1, "team": "blue", "score": 1000.0, "members": 1},
        {"rank": 2, "team": "red", "score": 925.5, "members": 2},
    ]
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(view))
    assert "cohorts compete" in by_testid(cl_page, "live-status").inner_text()
    assert "your team: red" in by_testid(cl_page, "live-status").inner_text()
    red = cl_page.locator('[data-testid="live-team-row"][data-team="red"]')
    assert red.get_attribute("aria-current") == "true"
    assert "925.5" in red.inner_text()
    assert "(your team)" in red.inner_text()


@pytest.mark.browser
def test_a_close_frame_shows_the_rooms_results_at_once_then_asks_for_mine(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    mount(
        cl_page,
        cl_fake_server.origin,
        "quiz.js",
        live_state(live_view("open", 0)),
        config="plain",
    )
    wait_for_socket(cl_page, cl_fake_server)
    before = len(sent(cl_page))
    frame_results = results(me=False)
    frame_results.pop("explanation")
    for choice in frame_results["distribution"]["choices"]:
        choice.pop("text")  # frames carry counts by id only
    cl_fake_server.push(
        {
            "type": "live",
            "action": "question_closed",
            "course": "stats",
            "quiz": "week-3",
            "session": SID,
            "state": {**session("closed", 0), "remaining": 0},
            "results": frame_results,
        }
    )
    bar = cl_page.locator('[data-testid="live-bar"][data-choice="sq"]')
    bar.wait_for(timeout=2_000)
    assert "Squared error" in bar.inner_text()  # the text from the question on screen
    assert by_testid(cl_page, "live-verdict").get_attribute("data-correct") == "pending"
    assert by_testid(cl_page, "live").get_attribute("data-phase") == "closed"
    settle(cl_page, frames=1)
    assert sent(cl_page)[before:] == [{"type": "live_refresh", "session": SID}]
    set_live(cl_page, live_view("closed", 0))  # the kernel's refetch
    assert by_testid(cl_page, "live-verdict").get_attribute("data-correct") == "true"


@pytest.mark.browser
def test_frames_already_shown_or_of_other_rounds_ask_for_nothing(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    mount(
        cl_page,
        cl_fake_server.origin,
        "quiz.js",
        live_state(live_view("open", 0)),
        config="plain",
    )
    wait_for_socket(cl_page, cl_fake_server)
    before = len(sent(cl_page))
    base = {"type": "live", "course": "stats", "quiz": "week-3"}
    # the round's own opening (as the view already shows), an older round, another quiz
    cl_fake_server.push(
        {**base, "action": "question_opened", "session": SID, "state": session("open", 0)}
    )
    cl_fake_server.push(
        {**base, "action": "ended", "session": SID - 1, "state": session("ended", 1)}
    )
    cl_fake_server.push(
        {**base, "quiz": "other", "action": "ended", "session": SID, "state": session("ended")}
    )
    settle(cl_page, frames=3)
    assert len(sent(cl_page)) == before
    # a new round of this quiz starts: the view asks for the quiz's current round
    cl_fake_server.push({**base, "action": "started", "session": SID + 1})
    cl_page.wait_for_function(f"() => model.sent.length > {before}")
    assert sent(cl_page)[-1] == {"type": "live_refresh"}


@pytest.mark.browser
def test_the_next_questions_frame_starts_its_countdown_before_the_question_arrives(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(
        cl_page,
        cl_fake_server.origin,
        "quiz.js",
        live_state(live_view("closed", 0)),
        config="plain",
    )
    wait_for_socket(cl_page, cl_fake_server)
    state = {**session("open", 1), "remaining": 19.8}
    cl_fake_server.push(
        {
            "type": "live",
            "action": "question_opened",
            "course": "stats",
            "quiz": "week-3",
            "session": SID,
            "state": state,
        }
    )
    by_testid(cl_page, "live-opening").wait_for(timeout=2_000)
    assert by_testid(cl_page, "live-opening").inner_text() == "Question 2 is opening…"
    assert by_testid(cl_page, "live-countdown").get_attribute("data-remaining") in ("20", "19")
    cl_page.wait_for_function("() => model.sent.at(-1)?.type === 'live_refresh'")


@pytest.mark.browser
def test_the_ended_round_shows_the_final_board(cl_page: Any, cl_fake_server: FakeServer) -> None:
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(live_view("ended", 0)))
    assert by_testid(cl_page, "live-ended").inner_text() == "The live round has ended."
    assert "Final leaderboard" in by_testid(cl_page, "live-results").inner_text()
    assert by_testid(cl_page, "live-my-rank").inner_text().startswith("You finished number 1")
    assert by_testid(cl_page, "quiz-questions").is_visible()  # the quiz is back
    assert by_testid(cl_page, "live-distribution").count() == 0


@pytest.mark.browser
def test_a_learner_who_did_not_join_an_ended_round_sees_nothing_of_it(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    mount(
        cl_page,
        cl_fake_server.origin,
        "quiz.js",
        live_state(live_view("ended", 0, joined=False)),
    )
    assert by_testid(cl_page, "live").is_hidden()
    assert by_testid(cl_page, "quiz-questions").is_visible()


@pytest.mark.browser
def test_the_host_starts_a_round_in_team_mode(cl_page: Any, cl_fake_server: FakeServer) -> None:
    state = live_state(None, host=True)
    state["quiz"]["live"] = {"countdown": 25, "speed": "points", "streak": True}
    mount(cl_page, cl_fake_server.origin, "quiz.js", state)
    assert by_testid(cl_page, "live").get_attribute("data-role") == "host"
    assert by_testid(cl_page, "live-join").count() == 0
    assert by_testid(cl_page, "live-countdown-input").input_value() == "25"
    cohort = by_testid(cl_page, "live-team-cohort")
    assert cohort.is_hidden()
    by_testid(cl_page, "live-team-mode").select_option("teams")
    assert cohort.is_visible()
    cl_page.get_by_label("Cohort whose teams compete").fill("red")
    cl_page.get_by_label("Seconds per question").fill("15")
    by_testid(cl_page, "live-start").click()
    assert sent(cl_page)[-1] == {
        "type": "start",
        "team_mode": "teams",
        "team_cohort": "red",
        "countdown": 15,
    }
    assert by_testid(cl_page, "live-start").is_disabled()


@pytest.mark.browser
def test_host_controls_follow_the_phase_and_the_presenter_shows_the_room(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    lobby = live_view("lobby", joined=False)
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(lobby, host=True))
    nxt, close, end = (by_testid(cl_page, f"live-{b}") for b in ("next", "close", "end"))
    assert nxt.inner_text() == "Show the first question"
    assert nxt.is_enabled() and close.is_disabled() and end.is_enabled()
    assert by_testid(cl_page, "live-players").inner_text() == "2 players joined"
    assert by_testid(cl_page, "quiz-questions").is_hidden()  # the presenter's screen
    cl_page.get_by_label("Seconds for the next question").fill("30")
    nxt.click()
    assert sent(cl_page)[-1] == {"type": "next", "countdown": 30}

    kernel_step(cl_page, "next", live_view("open", 0, joined=False))
    presenter = by_testid(cl_page, "live-presenter-question")
    assert "least squares" in presenter.inner_text()
    assert "Squared error" in presenter.inner_text()
    assert presenter.locator("input").count() == 0  # nothing to answer on the projector
    assert nxt.is_disabled() and close.is_enabled()
    assert by_testid(cl_page, "live-countdown").get_attribute("data-remaining") == "20"
    close.click()
    assert sent(cl_page)[-1] == {"type": "close"}

    staff = live_view("closed", 0, joined=False)
    staff["results"]["leaderboard"]["top"] = [
        {"rank": 1, "name": "ada", "score": 1850, "me": False, "alias": False},
        {"rank": 2, "name": "ben", "score": 900, "me": False, "alias": False},
    ]
    staff["results"]["leaderboard"]["names"] = "real"
    kernel_step(cl_page, "close", staff)
    board = by_testid(cl_page, "live-board")
    assert "ada" in board.inner_text() and "ben" in board.inner_text()
    assert by_testid(cl_page, "live-my-rank").count() == 0
    assert by_testid(cl_page, "live-countdown").inner_text().endswith("Answers closed")
    assert nxt.inner_text() == "Next question" and nxt.is_enabled()
    end.click()
    assert sent(cl_page)[-1] == {"type": "end"}

    kernel_step(cl_page, "end", live_view("ended", 0, joined=False))
    assert by_testid(cl_page, "live-start-form").is_visible()
    assert by_testid(cl_page, "live-last-round").is_visible()
    assert by_testid(cl_page, "quiz-questions").is_visible()


@pytest.mark.browser
def test_a_host_refusal_is_shown_in_the_live_panel(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    refused = {
        "status": 403,
        "code": "instructor_only",
        "message": "Only instructors run live quizzes.",
        "during": "start",
        "question": None,
    }
    mount(cl_page, cl_fake_server.origin, "quiz.js", live_state(None, host=True, error=refused))
    problem = by_testid(cl_page, "live-error")
    assert problem.get_attribute("role") == "alert"
    assert problem.inner_text() == "Not available to you: Only instructors run live quizzes."
    assert by_testid(cl_page, "quiz-refresh-error").is_hidden()


@pytest.mark.browser
def test_an_ended_frame_after_the_results_needs_no_refetch_and_gives_the_quiz_back(
    cl_page: Any, cl_fake_server: FakeServer
) -> None:
    cl_page.clock.install()
    mount(
        cl_page,
        cl_fake_server.origin,
        "quiz.js",
        live_state(live_view("closed", 0)),
        config="plain",
    )
    wait_for_socket(cl_page, cl_fake_server)
    assert by_testid(cl_page, "quiz-questions").is_hidden()
    before = len(sent(cl_page))
    cl_fake_server.push(
        {
            "type": "live",
            "action": "ended",
            "course": "stats",
            "quiz": "week-3",
            "session": SID,
            "state": session("ended", 0),
        }
    )
    by_testid(cl_page, "live-ended").wait_for(timeout=2_000)
    assert by_testid(cl_page, "live-my-rank").inner_text().startswith("You finished number 1")
    assert by_testid(cl_page, "quiz-questions").is_visible()
    settle(cl_page, frames=1)
    assert len(sent(cl_page)) == before  # the view already had the last results
