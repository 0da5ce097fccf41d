"""The CLI's client waits as a 429 says and asks again (nothing was written), within a bound;
any other refusal is raised at once with the service's message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cohortlab import client as client_module
from cohortlab.client import ServiceClient, ServiceError


class Scripted(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict[str, str]]] = []
    seen: list[str] = []

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, headers = self.answers.pop(0)
        self.seen.append(self.path)
        body = json.dumps(
            {"ok": True} if status < 400 else {"error": {"code": "rate_limited", "message": "wait"}}
        ).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/cohortlab/"
    server.shutdown()


def test_a_429_is_waited_out_and_asked_again(
    scripted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    Scripted.answers = [(429, {"Retry-After": "2"}), (429, {"Retry-After": "1"}), (200, {})]
    Scripted.seen = []
    assert ServiceClient(scripted, token="t").put("x", {"a": 1}) == {"ok": True}
    assert slept == [2.0, 1.0]
    assert len(Scripted.seen) == 3


def test_waiting_is_bounded_and_other_refusals_are_not_retried(
    scripted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module.time, "sleep", lambda s: None)
    Scripted.answers = [(429, {"Retry-After": "100"}), (429, {"Retry-After": "100"})]
    Scripted.seen = []
    with pytest.raises(ServiceError) as refused:
        ServiceClient(scripted, token="t").put("x", {"a": 1})
    assert refused.value.status == 429
    assert len(Scripted.seen) == 2  # 100 s waited, the next 100 would pass the bound
    Scripted.answers = [(429, {}), (200, {})]  # no Retry-After: not retried
    Scripted.seen = []
    with pytest.raises(ServiceError):
        ServiceClient(scripted, token="t").put("x", {"a": 1})
    assert len(Scripted.seen) == 1
