"""Stand-ins shared by the widget tests: a fake CohortLab service and single-user page.

The stand-in is a bare Tornado app on 127.0.0.1, in a thread of its own (the widgets'
client is synchronous, as in a kernel), answering with the shapes of docs/quizzes.md,
plus what the DOM tests need from a single-user server: a page with JupyterLab's page
config and the relay's event stream, same origin. The Chromium harness renders a
widget's joined module against a stand-in anywidget model (get/set/on/off/send).

Test modules load this as a plugin (``pytest_plugins``) for its fixtures
``cl_fake_server``, ``cl_service``, ``cl_chromium`` and ``cl_page``. They import it
first (for its helpers), so pytest cannot rewrite its asserts: PYTEST_DONT_REWRITE says
that is expected (its few asserts carry their own messages).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cohortlab.client import ServiceClient
from cohortlab.widgets import _assets
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
NO_ROUND_PATH = re.compile(r"courses/[^/]+/quizzes/[^/]+/live")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    auth: str | None


@dataclass
class FakeService:
    """Routes ``(method, path)`` to ``(status, body)`` or to a function of the call.

    A quiz's live round that no test set up answers as the service does when the quiz
    has none (404 ``no_session``), since every quiz refresh also asks for it.
    """

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
        if answer is None and call.method == "GET" and NO_ROUND_PATH.fullmatch(path):
            status, payload = error(404, "no_session", "This quiz has no live session yet.")
        elif answer is None:
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


def answered_state(**changes: Any) -> dict[str, Any]:
    return {**FRESH_STATE, "answered": True, "attempts_used": 1, **changes}


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

# Not JupyterLab (the browser tests drive that): the joined module is imported the way
# anywidget imports it (a blob URL) and rendered against a model object with anywidget's
# get/set/on/off/send, so the DOM, keyboard paths and live refresh are checked here.


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
def cl_chromium(cl_browser: Any) -> Any:
    """The run's one Chromium (tests/conftest.py ``cl_browser``), connected to per module."""
    return cl_browser


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
    if entry == "quiz.js":  # as Quiz._css: the live round's stylesheet too
        css += _assets.read_asset("live.css")
    page.evaluate(MOUNT, {"esm": _assets.bundle(entry), "css": css, "state": state})


def sent(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("() => model.sent")


# Counts the event frames the page's widgets were handed: a listener on the page's shared
# event hub (widgets/live.js), subscribed after the widgets', so it is told of each frame
# after them (the hub calls its listeners in the order they came).
COUNT_FRAMES = """() => {
  window.clFrames = 0;
  globalThis[Symbol.for("cohortlab.widgets.events.v1")].subscribe({
    event() { window.clFrames += 1; },
  });
}"""

#: Longer than any wait a frame sets before its refetch is sent (live.js DEBOUNCE_MS).
REFETCH_WAIT_MS = 1_000


def wait_for_socket(page: Any, server: FakeServer) -> None:
    """Until the page's event stream is open and has had its hello frame (the widget's root
    then says ``data-events="connected"``); from then on the page counts frames."""
    page.locator('[data-events="connected"]').first.wait_for(state="attached", timeout=10_000)
    assert server.sockets, "the widget opened no event stream"
    page.evaluate(COUNT_FRAMES)


def settle(page: Any, frames: int) -> None:
    """Until the page's widgets have handled ``frames`` frames since ``wait_for_socket``,
    and every refetch those asked for has been sent: the page's clock (``page.clock.install()``
    before ``mount``) is run past the longest wait a frame sets, which fires those timers
    at once. How a test knows a frame asked for nothing, without a sleep."""
    page.wait_for_function("(n) => window.clFrames >= n", arg=frames)
    page.clock.run_for(REFETCH_WAIT_MS)


def by_testid(page: Any, name: str) -> Any:
    return page.locator(f'[data-testid="{name}"]')


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
