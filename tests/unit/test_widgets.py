"""The notebook widgets' kernel side against a stand-in service.

The stand-in is a bare Tornado app on 127.0.0.1, in a thread of its own (the widgets'
client is synchronous, as in a kernel), answering with the shapes of docs/quizzes.md.
These tests are about the widgets: which requests they make as whom, how answers
update their state, how refusals become messages, and that the state and the static
fallback never hold more than the service sent.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cohortlab.client import ServiceClient
from cohortlab.widgets import Leaderboard, Quiz, _assets
from cohortlab.widgets._base import STATIC_FALLBACK
from tornado import web, websocket
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

TOKEN = "kernel-hub-token"
PREFIX = "/services/cohortlab/api/v1/"

QUESTIONS = [
    {
        "id": "loss",
        "type": "single",
        "prompt": "Which loss does **least squares** minimise?",
        "points": 2,
        "choices": [{"id": "abs", "text": "Absolute error"}, {"id": "sq", "text": "Squared error"}],
    },
    {
        "id": "steps",
        "type": "ordering",
        "prompt": "Put the steps in order.",
        "points": 1,
        "items": [{"id": "fit", "text": "Fit the line"}, {"id": "load", "text": "Load data"}],
    },
]
FRESH_STATE = {
    "attempts_used": 0,
    "attempts_left": 2,
    "answered": False,
    "last_answer": None,
    "correct": None,
    "score": None,
    "feedback": [],
    "done": False,
}
LEARNER_QUIZ = {
    "quiz": {
        "id": "week-3",
        "title": "Week 3: linear regression",
        "questions": QUESTIONS,
        "opens_at": "2025-01-06T09:00:00Z",
        "closes_at": None,
        "attempts": 2,
        "counting": "best",
        "open": True,
        "revealed": False,
    },
    "state": {"loss": dict(FRESH_STATE), "steps": dict(FRESH_STATE)},
    "score": 0,
    "max_score": 3,
}
BOARD = {
    "scope": "quiz",
    "top": [
        {"rank": 1, "name": "ada", "score": 3, "me": False},
        {"rank": 2, "name": "me", "score": 2, "me": True},
    ],
    "near_me": [{"rank": 2, "name": "me", "score": 2, "me": True}],
    "me": {"rank": 2, "name": "me", "score": 2, "me": True},
    "total": 2,
    "names": "real",
}

Answer = tuple[int, Any]


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    auth: str | None


@dataclass
class FakeService:
    """Routes ``(method, path)`` to ``(status, body)`` or to a function of the call."""

    url: str
    routes: dict[tuple[str, str], Answer | Callable[[Call], Answer]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def answer(self, method: str, path: str, answer: Answer | Callable[[Call], Answer]) -> None:
        self.routes[(method, path)] = answer

    def client(self, token: str | None = TOKEN) -> ServiceClient:
        client = ServiceClient(url=self.url, token=token, timeout=5)
        if token is None:
            client.token = None  # not even one from the environment
        return client

    def paths(self) -> list[str]:
        return [f"{c.method} {c.path}" for c in self.calls]


def error(status: int, code: str, message: str) -> Answer:
    return status, {"error": {"code": code, "message": message}}


class FakeHandler(web.RequestHandler):
    def initialize(self, service: FakeService) -> None:
        self.service = service

    def _serve(self) -> None:
        # The raw path, as sent: tornado would decode %2F in the captured group.
        path = self.request.path[len(PREFIX) :]
        body = json.loads(self.request.body) if self.request.body else None
        call = Call(
            self.request.method or "GET",
            path,
            dict(parse_qsl(self.request.query)),
            body,
            self.request.headers.get("Authorization"),
        )
        self.service.calls.append(call)
        answer = self.service.routes.get((call.method, path))
        if answer is None:
            status, payload = error(404, "not_found", f"No route {path} in the stand-in.")
        else:
            status, payload = answer(call) if callable(answer) else answer
        self.set_status(status)
        if isinstance(payload, str):
            self.set_header("Content-Type", "text/html")
            self.finish(payload)
        else:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(payload))

    def get(self, _path: str) -> None:
        self._serve()

    def post(self, _path: str) -> None:
        self._serve()


class FakeServer:
    """The stand-in service, plus what the DOM tests need from a single-user server: a
    page with JupyterLab's page config and the relay's event stream, same origin."""

    def __init__(self) -> None:
        self.service: FakeService | None = None
        self.sockets: list[websocket.WebSocketHandler] = []
        self.socket_queries: list[str] = []
        self.loop = asyncio.new_event_loop()
        sock, port = bind_unused_port()
        self.origin = f"http://127.0.0.1:{port}"
        ready = threading.Event()
        servers: list[HTTPServer] = []
        outer = self

        class Dispatch(FakeHandler):
            def initialize(self) -> None:  # type: ignore[override]
                assert outer.service is not None
                self.service = outer.service

        class Page(web.RequestHandler):
            def get(self) -> None:
                config = self.get_argument("config", "")
                script = ""
                if config:
                    token = "abc" if config == "token" else ""
                    data = {"baseUrl": "/user/learner/", "token": token}
                    script = (
                        '<script id="jupyter-config-data" type="application/json">'
                        f"{json.dumps(data)}</script>"
                    )
                self.finish(f"<!doctype html><html><head>{script}</head><body></body></html>")

        class Events(websocket.WebSocketHandler):
            def open(self, *args: Any, **kwargs: Any) -> None:
                outer.sockets.append(self)
                outer.socket_queries.append(self.request.query)
                self.write_message(json.dumps({"type": "hello", "user": "learner"}))

            def on_close(self) -> None:
                if self in outer.sockets:
                    outer.sockets.remove(self)

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            app = web.Application(
                [
                    (PREFIX.rstrip("/") + "/(.*)", Dispatch),
                    (r"/harness", Page),
                    (r"/user/learner/cohortlab/api/v1/events", Events),
                ]
            )
            server = HTTPServer(app)
            server.add_sockets([sock])
            servers.append(server)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self._servers = servers
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)

    @property
    def service_url(self) -> str:
        return f"{self.origin}/services/cohortlab/"

    def push(self, frame: dict[str, Any]) -> None:
        """Send an event to every open event-stream socket."""

        def send() -> None:
            for ws in list(self.sockets):
                ws.write_message(json.dumps(frame))

        self.loop.call_soon_threadsafe(send)

    def close(self) -> None:
        def stop() -> None:
            for ws in list(self.sockets):
                ws.close()
            self._servers[0].stop()
            self.loop.stop()

        self.loop.call_soon_threadsafe(stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def cl_fake_server() -> Iterator[FakeServer]:
    """One server for the module; each test installs its own FakeService."""
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture
def cl_service(cl_fake_server: FakeServer) -> FakeService:
    cl_fake_server.service = FakeService(cl_fake_server.service_url)
    cl_fake_server.socket_queries.clear()
    return cl_fake_server.service


def serve_quiz(service: FakeService, course: str = "stats", quiz: Any = None) -> dict[str, Any]:
    data = copy.deepcopy(quiz or LEARNER_QUIZ)
    service.answer("GET", f"courses/{course}/quizzes/week-3", (200, data))
    return data


def synced(widget: Any) -> dict[str, Any]:
    """What the front end receives: the widget's whole synced state, as JSON."""
    return json.loads(json.dumps(widget.get_state()))


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
    assert cl_service.paths() == ["GET courses/stats/quizzes/week-3"]
    assert cl_service.calls[0].auth == f"token {TOKEN}"


def test_quiz_shows_loading_then_ready_and_is_busy_only_during_the_request(
    cl_service: FakeService,
) -> None:
    serve_quiz(cl_service)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    seen: list[tuple[str, Any]] = []
    quiz.observe(lambda change: seen.append((change["name"], change["new"])), ["status", "busy"])
    quiz.refresh()
    assert seen == [("status", "loading"), ("busy", True), ("busy", False), ("status", "ready")]


def test_quiz_without_course_uses_the_one_course_that_has_it(cl_service: FakeService) -> None:
    cl_service.answer("GET", "quizzes/week-3", (200, {"courses": ["stats"]}))
    serve_quiz(cl_service)
    quiz = Quiz("week-3", client=cl_service.client())
    quiz.refresh()
    assert quiz.course == "stats"
    assert quiz.status == "ready"
    assert cl_service.paths() == ["GET quizzes/week-3", "GET courses/stats/quizzes/week-3"]
    quiz.refresh()  # resolved once
    assert cl_service.paths()[-1] == "GET courses/stats/quizzes/week-3"
    assert len(cl_service.calls) == 3


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


# -- answering ----------------------------------------------------------------------------


def answered_state(**changes: Any) -> dict[str, Any]:
    return {**FRESH_STATE, "answered": True, "attempts_used": 1, **changes}


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
    assert cl_service.paths()[-1] == "GET courses/stats/quizzes/week-3"
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


# -- what leaves the kernel -----------------------------------------------------------------

WIDGET_TRAITS = {
    "_anywidget_id",
    "_css",
    "_dom_classes",
    "_esm",
    "_model_module",
    "_model_module_version",
    "_model_name",
    "_view_count",
    "_view_module",
    "_view_module_version",
    "_view_name",
    "layout",
    "tabbable",
    "tooltip",
}


def test_staff_spec_with_the_key_never_reaches_the_widget_state(cl_service: FakeService) -> None:
    """A staff member's GET adds ``spec`` (with the key); the widget keeps only what it shows."""
    staff = copy.deepcopy(LEARNER_QUIZ)
    staff["spec"] = {"questions": [{"id": "loss", "choices": [{"id": "sq", "correct": True}]}]}
    serve_quiz(cl_service, quiz=staff)
    quiz = Quiz("week-3", course="stats", client=cl_service.client())
    quiz.refresh()
    state = synced(quiz)
    assert set(state) == WIDGET_TRAITS | {
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
    }
    assert state["quiz"] == LEARNER_QUIZ["quiz"]
    assert state["question_states"] == LEARNER_QUIZ["state"]
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
    assert set(data) == {"text/plain", "application/vnd.jupyter.widget-view+json"}
    text = json.dumps(bundle) + repr(quiz)
    for secret in (served["quiz"]["title"], QUESTIONS[0]["prompt"], "Squared error", "loss"):
        assert secret not in text


def test_the_leaderboard_fallback_holds_no_names(cl_service: FakeService) -> None:
    cl_service.answer("GET", "courses/stats/leaderboard", (200, BOARD))
    board = Leaderboard(course="stats", client=cl_service.client())
    board.refresh()
    bundle = board._repr_mimebundle_()
    assert bundle is not None
    assert bundle[0]["text/plain"].startswith("Open this notebook in JupyterLab")
    assert "ada" not in json.dumps(bundle)


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
    assert quiz._css == board._css == _assets.read_asset("cohortlab.css")


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
