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
from cohortlab.widgets import Leaderboard, Quiz, _assets, _base
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
        "course": "stats",
        "questions": QUESTIONS,
        "opens_at": "2025-01-06T09:00:00Z",
        "closes_at": None,
        "attempts": 2,
        "counting": "best",
        "live": None,
        "status": "open",
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
        "previews",
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


# -- the views, in Chromium, with a stand-in model ------------------------------------------
#
# Not JupyterLab (the browser tests drive that): the joined module is imported the way
# anywidget imports it (a blob URL) and rendered against a model object with anywidget's
# get/set/on/off/send, so the DOM, keyboard paths and live refresh are checked here.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

MOUNT = """
async ({ esm, css, state }) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const handlers = new Map();
  const model = {
    state: { ...state },
    sent: [],
    get(key) { return this.state[key]; },
    set(key, value) {
      this.state[key] = value;
      for (const f of handlers.get(`change:${key}`) ?? []) f();
    },
    on(event, f) { handlers.set(event, [...(handlers.get(event) ?? []), f]); },
    off(event, f) { handlers.set(event, (handlers.get(event) ?? []).filter((g) => g !== f)); },
    send(message) { this.sent.push(message); },
  };
  window.model = model;
  window.update = (changes) => {
    for (const [key, value] of Object.entries(changes)) model.set(key, value);
  };
  const el = document.createElement("div");
  document.body.append(el);
  window.cleanup = widget.render({ model, el });
}
"""

MORE_QUESTIONS = [
    {"id": "slope", "type": "numeric", "prompt": "The slope?", "points": 1},
    {"id": "method", "type": "text", "prompt": "Name the method.", "points": 1},
]


@pytest.fixture(scope="module")
def cl_chromium() -> Iterator[Any]:
    """Module-scoped, like tests/browser: Playwright's sync API holds an asyncio loop."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def cl_page(cl_chromium: Any, cl_fake_server: FakeServer, cl_service: FakeService) -> Iterator[Any]:
    context = cl_chromium.new_context(timezone_id="Europe/Berlin", locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def quiz_state(**changes: Any) -> dict[str, Any]:
    quiz = copy.deepcopy(LEARNER_QUIZ["quiz"])
    quiz["questions"] += copy.deepcopy(MORE_QUESTIONS)
    states = {q["id"]: dict(FRESH_STATE) for q in quiz["questions"]}
    state = {
        "status": "ready",
        "error": None,
        "busy": False,
        "course": "stats",
        "quiz_id": "week-3",
        "quiz": quiz,
        "question_states": states,
        "score": 0,
        "max_score": 5,
        "pending_question": "",
    }
    return {**state, **changes}


def mount(page: Any, origin: str, entry: str, state: dict[str, Any], config: str = "") -> None:
    page.goto(f"{origin}/harness?config={config}")
    css = _assets.read_asset("cohortlab.css")
    page.evaluate(MOUNT, {"esm": _assets.bundle(entry), "css": css, "state": state})


def sent(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("() => model.sent")


def wait_for_socket(page: Any, server: FakeServer) -> None:
    """Until the page's event stream is open and has had its hello frame."""
    for _ in range(50):
        if server.sockets:
            break
        page.wait_for_timeout(100)
    assert server.sockets, "the widget opened no event stream"
    page.wait_for_timeout(300)


def by_testid(page: Any, name: str) -> Any:
    return page.locator(f'[data-testid="{name}"]')


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


def board_state(board: dict[str, Any] | None, **changes: Any) -> dict[str, Any]:
    state = {
        "status": "ready",
        "error": None,
        "busy": False,
        "course": "stats",
        "quiz_id": "week-3",
        "cohort": "",
        "top": 10,
        "board": board,
    }
    return {**state, **changes}


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
    mount(cl_page, cl_fake_server.origin, "quiz.js", quiz_state(), config="token")
    wait_for_socket(cl_page, cl_fake_server)
    assert cl_fake_server.socket_queries == ["token=abc"]
    for _ in range(3):
        cl_fake_server.push(
            {"type": "quiz", "action": "updated", "course": "stats", "quiz": "week-3"}
        )
    cl_fake_server.push({"type": "quiz", "action": "updated", "course": "stats", "quiz": "other"})
    cl_fake_server.push({"type": "discussion", "course": "stats", "quiz": "week-3"})
    cl_page.wait_for_function("() => model.sent.length >= 2")
    cl_page.wait_for_timeout(1200)
    assert sent(cl_page) == [{"type": "refresh"}, {"type": "refresh"}]
    # Others' scores concern boards, not this learner's quiz.
    cl_fake_server.push({"type": "quiz", "action": "scores", "course": "stats", "quiz": "week-3"})
    cl_page.wait_for_timeout(1200)
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
    state = board_state(BOARD, quiz_id="")
    mount(cl_page, cl_fake_server.origin, "leaderboard.js", state, config="plain")
    wait_for_socket(cl_page, cl_fake_server)
    assert cl_fake_server.socket_queries == [""]  # no token in the page config, none sent
    cl_fake_server.push({"type": "quiz", "action": "scores", "course": "other", "quiz": "q"})
    cl_fake_server.push({"type": "quiz", "action": "scores", "course": "stats", "quiz": "q"})
    cl_page.wait_for_function("() => model.sent.length >= 2")
    cl_page.wait_for_timeout(1200)
    assert sent(cl_page) == [{"type": "refresh"}, {"type": "refresh"}]


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
