"""The notebook widgets' kernel side against a stand-in service (tests/unit/widget_fakes.py).

These tests are about the widgets: which requests they make as whom, how answers
update their state, how refusals become messages, and that the state and the static
fallback never hold more than the service sent. The views' DOM tests are in
test_widgets_views.py, live rounds in test_widgets_live.py.
"""

from __future__ import annotations

import copy
import json
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cohortlab.client import ServiceClient
from cohortlab.widgets import Leaderboard, Quiz, _assets, _base
from cohortlab.widgets._base import STATIC_FALLBACK

from tests.unit.widget_fakes import (
    BOARD,
    FRESH_STATE,
    LEARNER_QUIZ,
    QUESTIONS,
    TOKEN,
    WIDGET_TRAITS,
    FakeService,
    answered_state,
    error,
    serve_quiz,
    synced,
)

# Fixtures by name: cl_fake_server, cl_service, cl_chromium, cl_page.
pytest_plugins = ("tests.unit.widget_fakes",)


# -- loading ------------------------------------------------------------------------------


def test_quiz_fetches_nothing_until_the_front_end_asks(cl_service: FakeService) -> None:
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    assert quiz.status == "idle"
    assert cl_service.calls == []


def test_quiz_loads_as_the_kernel_user_and_keeps_the_answer_verbatim(
    cl_service: FakeService,
) -> None:
    served = serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz._handle_custom_msg({"type": "refresh"}, [])
    assert quiz.status == "ready"
    assert quiz.error is None
    assert quiz.quiz == served["quiz"]
    assert quiz.question_states == served["state"]
    assert (quiz.score, quiz.max_score) == (0, 3)
    # the quiz, then its live round (none here, which is no error)
    assert cl_service.paths() == [
        "GET courses/stats/quizzes/week-3",
        "GET courses/stats/quizzes/week-3/live",
    ]
    assert {c.auth for c in cl_service.calls} == {f"token {TOKEN}"}
    assert quiz.live is None


def test_quiz_shows_loading_then_ready_and_is_busy_only_during_the_request(
    cl_service: FakeService,
) -> None:
    serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    seen: list[tuple[str, Any]] = []
    quiz.observe(lambda change: seen.append((change["name"], change["new"])), ["status", "busy"])
    quiz.refresh()
    assert seen == [
        ("status", "loading"),
        ("busy", True),
        ("busy", False),
        ("status", "ready"),
        ("busy", True),  # the live round
        ("busy", False),
    ]


def test_quiz_without_course_uses_the_one_course_that_has_it(cl_service: FakeService) -> None:
    cl_service.answer("GET", "quizzes/week-3", (200, {"courses": ["stats"]}))
    serve_quiz(cl_service)
    quiz = Quiz("week-3", client=cl_service.client())
    quiz.refresh()
    assert quiz.course == "stats"
    assert quiz.status == "ready"
    assert cl_service.paths() == [
        "GET quizzes/week-3",
        "GET courses/stats/quizzes/week-3",
        "GET courses/stats/quizzes/week-3/live",
    ]
    quiz.refresh()  # resolved once
    assert cl_service.paths()[-2] == "GET courses/stats/quizzes/week-3"
    assert len(cl_service.calls) == 5


def test_quiz_in_several_courses_asks_for_course_instead_of_guessing(
    cl_service: FakeService,
) -> None:
    cl_service.answer("GET", "quizzes/week-3", (200, {"courses": ["stats", "ml"]}))
    quiz = Quiz("week-3", client=cl_service.client())
    quiz.refresh()
    assert quiz.status == "error"
    assert quiz.error is not None
    assert quiz.error["code"] == "ambiguous_course"
    assert "stats, ml" in quiz.error["message"]
    assert "Quiz('week-3', course='stats')" in quiz.error["message"]
    assert quiz.course == ""
    assert cl_service.paths() == ["GET quizzes/week-3"]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, "not_in_course", "You are not in the course stats."),
        (404, "not_found", "No quiz week-3 in stats."),
        (409, "closed", "The quiz closed at 10:00."),
        (429, "too_many_requests", "Slow down: 10 answers a minute."),
        (500, "error", "Internal error."),
    ],
)
def test_a_refusal_on_load_becomes_the_services_message(
    cl_service: FakeService, status: int, code: str, message: str
) -> None:
    cl_service.answer("GET", "courses/stats/quizzes/week-3", error(status, code, message))
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz._handle_custom_msg({"type": "refresh"}, [])
    assert quiz.status == "error"
    assert quiz.error == {
        "status": status,
        "code": code,
        "message": message,
        "during": "load",
        "question": None,
    }
    assert quiz.quiz is None
    assert quiz.busy is False


def test_unknown_quiz_without_course_says_so(cl_service: FakeService) -> None:
    cl_service.answer(
        "GET", "quizzes/nope", error(404, "not_found", "No course of yours has nope.")
    )
    quiz = Quiz("nope", client=cl_service.client())
    quiz.refresh()
    assert quiz.status == "error"
    assert quiz.error is not None
    assert quiz.error["message"] == "No course of yours has nope."


def test_an_unreachable_service_is_a_message_not_an_exception() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = ServiceClient(url=f"http://127.0.0.1:{port}/services/cohortlab/", token=TOKEN)
    quiz = Quiz("week-3", course="stats", client=client)
    quiz.refresh()
    assert quiz.status == "error"
    assert quiz.error is not None
    assert quiz.error["code"] == "service_unreachable"
    assert "could not be reached" in quiz.error["message"]


def test_a_kernel_without_hub_token_says_what_to_do(cl_service: FakeService) -> None:
    quiz = Quiz("week-3", course="stats", client=cl_service.client(token=None))
    quiz.refresh()
    assert quiz.error is not None
    assert quiz.error["code"] == "no_token"
    assert "JUPYTERHUB_API_TOKEN" in quiz.error["message"]
    assert cl_service.calls == []


def test_a_shared_server_kernel_never_acts_as_its_owner(
    cl_service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COHORTLAB_CLIENT_MODE", "direct")
    monkeypatch.setenv("COHORTLAB_SERVICE_URL", cl_service.url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-owners-token")
    quiz = Quiz("week-3", course="stats")
    quiz.refresh()
    board = Leaderboard(course="stats")
    board.refresh()
    assert quiz.error is not None
    assert board.error is not None
    assert quiz.error["code"] == board.error["code"] == "shared_server"
    assert "shared by several people" in quiz.error["message"]
    assert cl_service.calls == []
    # The views are told, so each browser acts as its own person (widgets/person.js).
    assert synced(quiz)["shared_server"] is synced(board)["shared_server"] is True


def test_the_comm_opens_with_shared_server_already_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other members' browsers may render from the comm's opening state alone."""
    import ipywidgets

    seen = []
    opened = ipywidgets.Widget.open

    def spy(self: Any) -> None:
        if isinstance(self, Quiz | Leaderboard):  # not their Layout widgets
            seen.append(self.shared_server)
        opened(self)

    monkeypatch.setattr(ipywidgets.Widget, "open", spy)
    monkeypatch.setenv("COHORTLAB_CLIENT_MODE", "direct")
    Quiz("week-3", course="stats")
    Leaderboard(course="stats")
    assert seen == [True, True]


def test_a_widget_in_a_persons_own_server_is_not_shared(
    cl_service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COHORTLAB_CLIENT_MODE", "relay")
    assert synced(Quiz("week-3", course="stats"))["shared_server"] is False
    monkeypatch.delenv("COHORTLAB_CLIENT_MODE")
    assert synced(Leaderboard(course="stats"))["shared_server"] is False
    # A client given explicitly (tests, scripts) is the caller's own: never shared.
    monkeypatch.setenv("COHORTLAB_CLIENT_MODE", "direct")
    assert (
        synced(Quiz("week-3", course="stats", client=cl_service.client()))["shared_server"] is False
    )


def test_an_unreadable_answer_is_a_message(cl_service: FakeService) -> None:
    cl_service.answer("GET", "courses/stats/quizzes/week-3", (200, "<html>proxy page</html>"))
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    assert quiz.status == "error"
    assert quiz.error is not None
    assert quiz.error["code"] == "bad_response"


def test_a_failed_background_refresh_keeps_the_quiz_on_screen(cl_service: FakeService) -> None:
    served = serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    cl_service.answer("GET", "courses/stats/quizzes/week-3", error(429, "slow_down", "Wait."))
    quiz.refresh()
    assert quiz.status == "ready"
    assert quiz.quiz == served["quiz"]
    assert quiz.error is not None
    assert quiz.error["during"] == "refresh"
    serve_quiz(cl_service)
    quiz.refresh()
    assert quiz.error is None


def test_ids_cannot_reach_other_routes(cl_service: FakeService) -> None:
    quiz = Quiz("../../admin", course="a/b", client=cl_service.client())
    quiz.refresh()
    assert cl_service.paths() == ["GET courses/a%2Fb/quizzes/..%2F..%2Fadmin"]


def test_a_quiz_needs_an_id() -> None:
    with pytest.raises(ValueError, match="quiz id"):
        Quiz("  ")


def test_an_answer_is_posted_from_the_kernel_and_updates_that_question(
    cl_service: FakeService,
) -> None:
    serve_quiz(cl_service)
    question_state = answered_state(
        attempts_left=1,
        last_answer="abs",
        correct=False,
        score=0,
        feedback=["That is least absolute deviations."],
    )
    result = {
        "correct": False,
        "score": 0,
        "max_score": 2,
        "feedback": ["That is least absolute deviations."],
        "attempts_left": 1,
        "done": False,
    }
    cl_service.answer(
        "POST",
        "courses/stats/quizzes/week-3/answers",
        (201, {"result": result, "question": question_state, "score": 0, "max_score": 3}),
    )
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    pending: list[str] = []
    quiz.observe(lambda change: pending.append(change["new"]), ["pending_question"])
    quiz._handle_custom_msg({"type": "answer", "question": "loss", "answer": "abs"}, [])
    post = cl_service.calls[-1]
    assert (post.method, post.path) == ("POST", "courses/stats/quizzes/week-3/answers")
    assert post.body == {"question": "loss", "answer": "abs"}
    assert post.auth == f"token {TOKEN}"
    assert quiz.question_states["loss"] == question_state
    assert quiz.question_states["steps"] == FRESH_STATE
    assert pending == ["loss", ""]
    assert quiz.busy is False
    assert quiz.error is None


def test_submit_returns_the_result_and_a_done_question_carries_what_the_service_revealed(
    cl_service: FakeService,
) -> None:
    serve_quiz(cl_service)
    done = answered_state(
        attempts_left=0,
        last_answer=["load", "fit"],
        correct=True,
        score=1,
        done=True,
        explanation="Load before you fit.",
        correct_answer=["load", "fit"],
    )
    result = {"correct": True, "score": 1, "max_score": 1, "feedback": [], "attempts_left": 0}
    result.update(done=True, explanation="Load before you fit.", correct_answer=["load", "fit"])
    cl_service.answer(
        "POST",
        "courses/stats/quizzes/week-3/answers",
        (201, {"result": result, "question": done, "score": 1, "max_score": 3}),
    )
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    assert quiz.submit("steps", ["load", "fit"]) == result
    assert quiz.question_states["steps"] == done
    assert (quiz.score, quiz.max_score) == (1, 3)


def test_answering_before_loading_loads_first(cl_service: FakeService) -> None:
    serve_quiz(cl_service)
    cl_service.answer("POST", "courses/stats/quizzes/week-3/answers", error(400, "invalid", "No."))
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.submit("loss", "sq")
    assert cl_service.paths() == [
        "GET courses/stats/quizzes/week-3",
        "GET courses/stats/quizzes/week-3/live",
        "POST courses/stats/quizzes/week-3/answers",
    ]


def test_a_refused_answer_is_shown_at_its_question(cl_service: FakeService) -> None:
    serve_quiz(cl_service)
    cl_service.answer(
        "POST",
        "courses/stats/quizzes/week-3/answers",
        error(400, "invalid_answer", "answer: expected a number"),
    )
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    assert quiz.submit("loss", "x") is None
    assert quiz.status == "ready"
    assert quiz.error == {
        "status": 400,
        "code": "invalid_answer",
        "message": "answer: expected a number",
        "during": "answer",
        "question": "loss",
    }
    assert quiz.question_states["loss"] == FRESH_STATE


def test_a_staff_answer_is_a_preview_that_leaves_the_question_answerable(
    cl_service: FakeService,
) -> None:
    """The service grades staff answers without recording them and sends no score."""
    serve_quiz(cl_service)
    result = {
        "correct": True,
        "score": 2,
        "max_score": 2,
        "feedback": [],
        "attempts_left": 2,
        "done": True,
        "explanation": "Squares.",
        "correct_answer": "sq",
    }
    closed_state = {**FRESH_STATE, "attempts_left": 2, "done": True}
    cl_service.answer(
        "POST",
        "courses/stats/quizzes/week-3/answers",
        (201, {"preview": True, "result": result, "question": closed_state}),
    )
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    assert quiz.submit("loss", "sq") == result
    assert quiz.error is None
    assert quiz.previews == {"loss": result}
    assert quiz.question_states == LEARNER_QUIZ["state"]
    assert quiz.score == 0


def test_an_answer_to_a_closed_quiz_reloads_it_and_keeps_the_reason(
    cl_service: FakeService,
) -> None:
    serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    closed = copy.deepcopy(LEARNER_QUIZ)
    closed["quiz"]["open"] = False
    closed["quiz"]["closes_at"] = "2025-01-07T09:00:00Z"
    serve_quiz(cl_service, quiz=closed)
    cl_service.answer(
        "POST", "courses/stats/quizzes/week-3/answers", error(409, "closed", "The quiz is closed.")
    )
    quiz.submit("loss", "sq")
    assert cl_service.paths()[-2:] == [
        "GET courses/stats/quizzes/week-3",
        "GET courses/stats/quizzes/week-3/live",
    ]
    assert quiz.quiz is not None
    assert quiz.quiz["open"] is False
    assert quiz.error is not None
    assert (quiz.error["message"], quiz.error["question"]) == ("The quiz is closed.", "loss")


@pytest.mark.parametrize(
    "message",
    [
        {"type": "answer", "answer": "sq"},
        {"type": "answer", "question": 3, "answer": "sq"},
        {"type": "delete-everything"},
        {"no": "type"},
        "not a dict",
    ],
)
def test_malformed_front_end_messages_are_ignored(cl_service: FakeService, message: Any) -> None:
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz._handle_custom_msg(message, [])
    assert cl_service.calls == []


def test_staff_spec_with_the_key_never_reaches_the_widget_state(cl_service: FakeService) -> None:
    """A staff member's GET adds ``spec`` (with the key); the widget keeps only what it shows."""
    staff = copy.deepcopy(LEARNER_QUIZ)
    staff["spec"] = {"questions": [{"id": "loss", "choices": [{"id": "sq", "correct": True}]}]}
    serve_quiz(cl_service, quiz=staff)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    state = synced(quiz)
    assert set(state) == WIDGET_TRAITS | {
        "_cohortlab_view",
        "status",
        "error",
        "busy",
        "course",
        "quiz_id",
        "quiz",
        "question_states",
        "score",
        "max_score",
        "pending_question",
        "previews",
        "live",
        "live_ack",
        "live_pending",
        "host",
        "shared_server",
    }
    assert state["quiz"] == LEARNER_QUIZ["quiz"]
    assert state["question_states"] == LEARNER_QUIZ["state"]
    assert state["host"] is True  # all that is kept of the spec: whether it came
    data = json.dumps({k: v for k, v in state.items() if k not in ("_esm", "_css")})
    assert '"spec"' not in data
    assert '"correct": true' not in data


def test_question_state_keys_are_exactly_the_services(cl_service: FakeService) -> None:
    serve_quiz(cl_service)
    sent = answered_state(attempts_left=1, last_answer="sq", correct=True, score=2)
    cl_service.answer(
        "POST",
        "courses/stats/quizzes/week-3/answers",
        (201, {"result": {"correct": True}, "question": sent, "score": 2, "max_score": 3}),
    )
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    quiz.submit("loss", "sq")
    state = synced(quiz)
    assert set(state["question_states"]["loss"]) == set(sent)
    assert "explanation" not in state["question_states"]["loss"]
    assert "correct_answer" not in state["question_states"]["loss"]


def test_the_static_fallback_holds_no_quiz_content(cl_service: FakeService) -> None:
    served = serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    bundle = quiz._repr_mimebundle_()
    assert bundle is not None
    data, _metadata = bundle
    assert data["text/plain"] == STATIC_FALLBACK
    assert "running kernel to take the quiz" in data["text/plain"]
    assert set(data) == {
        "text/plain",
        "application/vnd.jupyter.widget-view+json",
        "application/vnd.cohortlab.widget-view+json",
    }
    # for the lab extension's safe renderer (cohort workspaces): the model and which of its
    # bundled views draws it, nothing else
    assert data["application/vnd.cohortlab.widget-view+json"] == {
        "model_id": quiz.model_id,
        "view": "quiz",
    }
    assert quiz.get_state()["_cohortlab_view"] == "quiz"
    text = json.dumps(bundle) + repr(quiz)
    for secret in (served["quiz"]["title"], QUESTIONS[0]["prompt"], "Squared error", "loss"):
        assert secret not in text


def test_displaying_a_widget_puts_a_static_note_before_it(
    cl_service: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbconvert's HTML renders a widget view empty; the note before it is what shows."""
    serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    shown: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    monkeypatch.setattr(
        _base, "display", lambda data, metadata=None, raw=False: shown.append((data, metadata))
    )
    quiz._ipython_display_()
    (note, _), (widget, _) = shown
    assert note["text/plain"] == STATIC_FALLBACK
    assert note["text/html"] == f'<p class="cl-static-fallback">{STATIC_FALLBACK}</p>'
    assert widget["application/vnd.jupyter.widget-view+json"]["model_id"] == quiz.model_id
    assert widget["text/plain"] == STATIC_FALLBACK
    assert "Week 3" not in json.dumps(shown)


def test_the_leaderboard_fallback_holds_no_names(cl_service: FakeService) -> None:
    cl_service.answer("GET", "courses/stats/leaderboard", (200, BOARD))
    board = Leaderboard(course="stats", client=cl_service.client())
    board.refresh()
    bundle = board._repr_mimebundle_()
    assert bundle is not None
    assert bundle[0]["text/plain"].startswith("Open this notebook in JupyterLab")
    assert bundle[0]["application/vnd.cohortlab.widget-view+json"]["view"] == "leaderboard"
    assert "ada" not in json.dumps(bundle).replace(board.model_id, "")  # a random hex id


# -- leaderboards -------------------------------------------------------------------------


def test_quiz_leaderboard_asks_for_the_quiz_board(cl_service: FakeService) -> None:
    cl_service.answer("GET", "courses/stats/quizzes/week-3/leaderboard", (200, BOARD))
    board = Leaderboard("week-3", course="stats", client=cl_service.client())
    board._handle_custom_msg({"type": "refresh"}, [])
    assert board.status == "ready"
    assert board.board == BOARD
    call = cl_service.calls[-1]
    assert call.query == {"limit": "10"}
    assert call.auth == f"token {TOKEN}"


def test_course_leaderboard_within_a_cohort(cl_service: FakeService) -> None:
    cl_service.answer("GET", "courses/stats/leaderboard", (200, {**BOARD, "scope": "cohort"}))
    board = Leaderboard(course="stats", cohort="blue", top=5, client=cl_service.client())
    board.refresh()
    assert cl_service.paths() == ["GET courses/stats/leaderboard"]
    assert cl_service.calls[0].query == {"limit": "5", "scope": "cohort", "cohort": "blue"}
    assert board.board is not None
    assert board.board["scope"] == "cohort"


def test_quiz_leaderboard_finds_its_course(cl_service: FakeService) -> None:
    cl_service.answer("GET", "quizzes/week-3", (200, {"courses": ["stats"]}))
    cl_service.answer("GET", "courses/stats/quizzes/week-3/leaderboard", (200, BOARD))
    board = Leaderboard("week-3", client=cl_service.client())
    board.refresh()
    assert board.course == "stats"
    assert board.status == "ready"


def test_leaderboard_keeps_only_the_leaderboard_fields(cl_service: FakeService) -> None:
    cl_service.answer("GET", "courses/stats/leaderboard", (200, {**BOARD, "debug": "x"}))
    board = Leaderboard(course="stats", client=cl_service.client())
    board.refresh()
    assert board.board == BOARD


def test_an_empty_leaderboard_is_ready_with_no_rows(cl_service: FakeService) -> None:
    empty = {"scope": "quiz", "top": [], "near_me": [], "me": None, "total": 0, "names": "alias"}
    cl_service.answer("GET", "courses/stats/quizzes/week-3/leaderboard", (200, empty))
    board = Leaderboard("week-3", course="stats", client=cl_service.client())
    board.refresh()
    assert board.status == "ready"
    assert board.board == empty


def test_leaderboard_refusal_becomes_a_message(cl_service: FakeService) -> None:
    cl_service.answer(
        "GET", "courses/stats/leaderboard", error(403, "not_in_course", "Not your course.")
    )
    board = Leaderboard(course="stats", client=cl_service.client())
    board.refresh()
    assert board.status == "error"
    assert board.error is not None
    assert board.error["message"] == "Not your course."


def test_a_leaderboard_needs_a_quiz_or_a_course() -> None:
    with pytest.raises(ValueError, match="quiz or a course"):
        Leaderboard()
    with pytest.raises(ValueError, match="top"):
        Leaderboard(course="stats", top=0)


# -- the front-end sources ----------------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("entry", ["quiz.js", "leaderboard.js"])
def test_each_widget_module_joins_into_one_valid_es_module(entry: str) -> None:
    joined = _assets.bundle(entry)
    assert "export default" in joined
    assert 'from "./' not in joined
    check = subprocess.run(
        ["node", "--check", "--input-type=module"],
        input=joined,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr


def test_widgets_carry_their_joined_module_and_the_stylesheet() -> None:
    quiz = Quiz("week-3", course="stats")
    board = Leaderboard(course="stats")
    assert quiz._esm == _assets.bundle("quiz.js")
    assert board._esm == _assets.bundle("leaderboard.js")
    assert board._css == _assets.read_asset("cohortlab.css")
    assert quiz._css == board._css + _assets.read_asset("live.css")


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_the_join_inlines_shared_modules_once_in_dependency_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "quiz.js": 'import { b } from "./b.js";\nimport { a } from "./a.js";\n'
            "export default { render() { a(); b(); } };\n",
            "a.js": "export function a() {}\n",
            "b.js": 'import { a } from "./a.js";\nexport const b = () => a();\n',
        },
    )
    monkeypatch.setattr(_assets, "SEARCH_PATH", (tmp_path,))
    joined = _assets.bundle.__wrapped__("quiz.js")
    assert joined.index("function a()") < joined.index("const b =") < joined.index("export default")
    assert joined.count("function a()") == 1
    assert "import" not in joined


@pytest.mark.parametrize(
    "quiz_js",
    [
        'import x from "https://cdn.example/x.js";\nexport default {};\n',
        'import * as a from "./a.js";\nexport default {};\n',
    ],
)
def test_the_join_refuses_imports_it_does_not_understand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiz_js: str
) -> None:
    write(tmp_path, {"quiz.js": quiz_js, "a.js": "export const a = 1;\n"})
    monkeypatch.setattr(_assets, "SEARCH_PATH", (tmp_path,))
    with pytest.raises(_assets.WidgetAssetError, match="only `import"):
        _assets.bundle.__wrapped__("quiz.js")


def test_missing_widget_files_say_to_reinstall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_assets, "SEARCH_PATH", (tmp_path / "nowhere",))
    with pytest.raises(_assets.WidgetAssetError, match="reinstall"):
        _assets.asset_dir()


@pytest.mark.slow
def test_an_executed_notebook_holds_no_quiz_and_its_html_shows_the_note(tmp_path: Path) -> None:
    """A real kernel runs the released cell with no front end: no request is made, so the
    widget state nbclient saves holds no quiz; nbconvert's HTML shows the note where the
    widget would be."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            'from cohortlab.widgets import Quiz\nQuiz("week-3", course="stats")'
        )
    )
    ExecutePreprocessor(timeout=120, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(tmp_path)}}
    )
    outputs = nb.cells[0].outputs
    assert [o["output_type"] for o in outputs] == ["display_data", "display_data"]
    assert outputs[0]["data"]["text/plain"] == STATIC_FALLBACK
    assert "application/vnd.jupyter.widget-view+json" in outputs[1]["data"]
    saved = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    (model,) = [m["state"] for m in saved.values() if m["state"].get("quiz_id") == "week-3"]
    assert (model["status"], model["quiz"], model["question_states"]) == ("idle", None, {})

    # As JupyterLab saves it by default: without widget state.
    del nb.metadata["widgets"]
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert f'<p class="cl-static-fallback">{STATIC_FALLBACK}</p>' in body
    # The widgets' stylesheet, which would hide the note, is not on a static page.
    assert ".cl-static-fallback {" not in body
