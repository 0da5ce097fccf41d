"""A page a learner serves runs on her own origin, where it can act as no one else.

Two ways ada tries to put a page of hers in front of the instructor:

1. **A page in her files** (``~/cl-sec-*.html``): she sends him the link
   ``http://ada.hub.localhost:PORT/user/ada/files/...``. Her server lets in only those the hub
   gives ``access:servers!user=ada`` (her; learners cannot share: test_learner_home.py), so the
   instructor's browser is sent to the hub's OAuth, which refuses him (403): her page never
   loads.

2. **Her own web server behind her server's route**: in a notebook she reads her server's port
   (``JUPYTERHUB_SERVICE_URL``, in the environment it hands her kernel) and pid (her kernel's
   parent); from her terminal she stops it and listens on that port herself with a few lines
   of ``http.server`` that log what visitors send. Until the hub's next poll of her server
   (every 30 s) the proxy still sends ``http://ada.hub.localhost:PORT/user/ada/`` to her port,
   so the instructor, logged in with live sessions at the hub, his own server and the service,
   opens a page whose script is entirely hers. With credentials, it tries to read the hub's
   API and token page as him, read his server and start a kernel or write a file in it, read
   the service and post to it (CORS, no-cors and form posts), frame the service's sign-in page
   to be handed its XSRF token, and open the service's event stream and his server's.

   Every attempt must fail and leave nothing behind. Her page's origin is
   ``ada.hub.localhost``, the origin of nothing it targets. The browser does send his cookies
   with her requests (all the hub's names are one site), but none of the hub, his server and
   the service answers her origin with CORS headers, so nothing is readable; the hub and his
   server want an XSRF token of theirs (signed, bound to his session) on every
   cookie-authenticated write and accept WebSockets from their own origin only; the service
   refuses every browser request from an origin that is not a cohort workspace's, lets only
   its own origin or a workspace's frame its sign-in page, and checks the WebSocket's origin.
   Their login cookies are ``__Host-``: sent to their own host only, so her server gets none
   of them (only JupyterHub's session id, which JupyterHub sets on the whole domain and which
   is no credential: checked by using it). What he has afterwards is checked with his real
   token: the same kernels and files, no new token, no event from the service's ping.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import websocket

from tests.helpers.browser import open_lab
from tests.helpers.hub import Hub
from tests.helpers.kernel import run_in_kernel
from tests.helpers.waiting import wait_until
from tests.security.learner import (
    LearnerHome,
    learner_home,
    restart_server,
    run_as,
    server_model,
    server_restored,
    spawn_as,
    stop_group,
)

ADA = "ada"
INSTRUCTOR = "instructor"

#: ada's page. Every attempt records its outcome in window.results; window.done at the end.
#: The frames and sockets get a few seconds each: what they wait for is what must not come.
ATTACK = """<!doctype html>
<html><head><meta charset="utf-8"><title>ada's page</title></head><body>
<p>Nothing to see here.</p>
<script>
const CFG = __CONFIG__;
window.clPageOf = "ada";
const results = (window.results = {});
const messages = (window.messages = []);
window.addEventListener("message", (e) => {
  messages.push({ origin: e.origin, data: JSON.stringify(e.data) });
});

async function attempt(name, url, init) {
  try {
    const resp = await fetch(url, { credentials: "include", ...(init || {}) });
    let body = "";
    try { body = await resp.text(); } catch (e) { body = "unreadable: " + e; }
    results[name] = {
      outcome: "resolved", type: resp.type, status: resp.status, body: body.slice(0, 500),
    };
  } catch (e) {
    results[name] = { outcome: "rejected", error: String(e) };
  }
}

function later(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function frame(name, url) {
  return new Promise((resolve) => {
    const f = document.createElement("iframe");
    document.body.appendChild(f);
    f.onload = () => { results[name] = { outcome: "loaded" }; resolve(); };
    f.src = url;
    later(10000).then(() => {
      results[name] = results[name] || { outcome: "no load" };
      resolve();
    });
  });
}

function formPost(name, url, json) {
  // A navigation (Sec-Fetch-Mode: navigate) carrying a JSON body as text/plain.
  return new Promise((resolve) => {
    const target = "form-" + name;
    const f = document.createElement("iframe");
    f.name = target;
    document.body.appendChild(f);
    const form = document.createElement("form");
    form.method = "POST";
    form.action = url;
    form.target = target;
    form.enctype = "text/plain";
    const body = JSON.stringify(json);
    const input = document.createElement("input");
    input.name = (body === "{}" ? "{" : body.slice(0, -1) + ", ") + '"x": "';
    input.value = '"}';
    form.appendChild(input);
    document.body.appendChild(form);
    f.onload = () => { results[name] = { outcome: "submitted" }; resolve(); };
    form.submit();
    later(10000).then(() => {
      results[name] = results[name] || { outcome: "no load" };
      resolve();
    });
  });
}

function socket(name, url) {
  return new Promise((resolve) => {
    const events = [];
    const done = (outcome) => { results[name] = results[name] || { outcome, events }; resolve(); };
    let ws;
    try { ws = new WebSocket(url); } catch (e) { events.push(String(e)); return done("rejected"); }
    ws.onopen = () => events.push("open");
    ws.onmessage = (e) => { events.push("message: " + String(e.data).slice(0, 200)); ws.close(); };
    ws.onerror = () => events.push("error");
    ws.onclose = (e) => { events.push("close " + e.code); done("closed"); };
    later(10000).then(() => { try { ws.close(); } catch (e) {} done("timeout"); });
  });
}

(async () => {
  const json = { "Content-Type": "application/json" };
  const text = { "Content-Type": "text/plain" };
  // the hub, as the instructor
  await attempt("hub_user", CFG.hub + "hub/api/user");
  await attempt("hub_token_page", CFG.hub + "hub/token");
  await attempt("hub_new_token", CFG.hub + "hub/api/users/instructor/tokens",
    { method: "POST", headers: json, body: JSON.stringify({ note: CFG.note }) });
  await attempt("hub_new_token_no_cors", CFG.hub + "hub/api/users/instructor/tokens",
    { method: "POST", mode: "no-cors", headers: text, body: JSON.stringify({ note: CFG.note }) });
  await formPost("hub_new_token_form", CFG.hub + "hub/api/users/instructor/tokens",
    { note: CFG.note });
  // his server
  await attempt("server_contents", CFG.server + "api/contents");
  await attempt("server_new_kernel", CFG.server + "api/kernels",
    { method: "POST", headers: json, body: JSON.stringify({ name: "python3" }) });
  await attempt("server_new_kernel_no_cors", CFG.server + "api/kernels",
    { method: "POST", mode: "no-cors", headers: text, body: JSON.stringify({ name: "python3" }) });
  await formPost("server_new_kernel_form", CFG.server + "api/kernels", { name: "python3" });
  await attempt("server_new_file_no_cors", CFG.server + "api/contents",
    { method: "POST", mode: "no-cors", headers: text,
      body: JSON.stringify({ type: "file", ext: ".txt" }) });
  await socket("server_events", CFG.server_ws + "api/events/subscribe");
  // the service
  await attempt("service_me", CFG.service + "api/v1/me");
  await attempt("service_ping", CFG.service + "api/v1/events/ping?token=" + CFG.ping,
    { method: "POST", headers: json, body: "{}" });
  await attempt("service_ping_no_cors", CFG.service + "api/v1/events/ping?token=" + CFG.ping,
    { method: "POST", mode: "no-cors", headers: text, body: "{}" });
  await formPost("service_ping_form", CFG.service + "api/v1/events/ping?token=" + CFG.ping, {});
  await socket("service_events", CFG.service_ws + "api/v1/events");
  await frame("service_session_frame", CFG.service + "auth/session");
  await frame("service_session_frame_as_parent",
    CFG.service + "auth/session?origin=" + encodeURIComponent(location.origin));
  await later(2000);  // time for a framed page's postMessage, which must not come
  window.done = true;
})();
</script></body></html>
"""

#: ada's web server: files from the folder it runs in, and every visit's path and cookies.
LISTENER = """import http.server, json, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        visit = {"path": getattr(self, "path", ""), "cookie": self.headers.get("Cookie", "")}
        print(json.dumps(visit), flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

FETCHES = [
    "hub_user",
    "hub_token_page",
    "hub_new_token",
    "server_contents",
    "server_new_kernel",
    "service_me",
    "service_ping",
]
NO_CORS = [
    "hub_new_token_no_cors",
    "server_new_kernel_no_cors",
    "server_new_file_no_cors",
    "service_ping_no_cors",
]
SOCKETS = ["server_events", "service_events"]


@pytest.fixture(scope="module")
def instructor(cl_browser: Any, cl_hub: Hub) -> Iterator[Any]:
    """The instructor's browser: logged in at the hub, his lab open, signed in to the service."""
    context = open_lab(cl_browser, cl_hub, INSTRUCTOR).context
    service = context.new_page()
    service.goto(f"{cl_hub.service_url}auth/session")  # the service's OAuth sign-in
    service.wait_for_selector("text=Signed in to CohortLab.", timeout=30_000)
    service.goto(f"{cl_hub.service_url}api/v1/me")
    assert json.loads(service.inner_text("body"))["name"] == INSTRUCTOR
    service.close()
    yield context
    context.close()


@pytest.fixture
def ada_home(cl_hub: Hub) -> Iterator[LearnerHome]:
    """ada's home and server, left as they were (her files gone, a fresh server if she had one)."""
    with server_restored(cl_hub, ADA), learner_home(ADA) as home:
        yield home


def _attack_page(hub: Hub, tag: str) -> str:
    server = hub.user_url(INSTRUCTOR)
    config = {
        "hub": f"{hub.url}/",
        "server": server,
        "server_ws": server.replace("http", "ws", 1),
        "service": hub.service_url,
        "service_ws": hub.service_url.replace("http", "ws", 1),
        "note": f"cl-sec-{tag}",
        "ping": f"cl-sec-{tag}",
    }
    return ATTACK.replace("__CONFIG__", json.dumps(config))


def test_a_page_in_her_files_does_not_open_for_the_instructor(
    cl_hub: Hub, instructor: Any, ada_home: LearnerHome
) -> None:
    tag = secrets.token_hex(4)
    name = f"cl-sec-{tag}.html"
    ada_home.plant(name, _attack_page(cl_hub, tag))
    cl_hub.start_server(ADA)
    mine = cl_hub.api("GET", f"/user/{ADA}/files/{name}", cl_hub.token_for(ADA))
    assert mine.status_code == 200 and "window.clPageOf" in mine.text  # she can open it

    page = instructor.new_page()
    response = page.goto(f"{cl_hub.user_url(ADA)}files/{name}")
    assert response is not None and response.status == 403, response and response.status
    assert page.evaluate("window.clPageOf === undefined && window.results === undefined")
    assert not page.url.startswith(cl_hub.origins.user(ADA)), page.url
    page.close()
    theirs = cl_hub.api("GET", f"/user/{ADA}/files/{name}", cl_hub.token_for(INSTRUCTOR))
    assert theirs.status_code == 403


def _her_server_port(hub: Hub) -> tuple[int, int]:
    """What ada finds out in her own notebook: her server's pid (her kernel's parent) and port
    (in the environment it hands her kernel). Her terminal could not tell: the server's
    ``/proc/<pid>/environ`` is root's, and other hubs on this machine run servers of hers too.
    Run in a thread of its own: Playwright's sync API keeps this one's event loop busy."""
    code = "import os; print(os.getppid(), os.environ['JUPYTERHUB_SERVICE_URL'])"
    work = run_in_kernel(hub.url, ADA, hub.token_for(ADA), code)
    with ThreadPoolExecutor(1) as pool:
        out, errors = pool.submit(asyncio.run, work).result()
    assert not errors, errors
    pid, url = out.split()
    return int(pid), int(urlsplit(url).port or 0)


def _take_over_her_port(hub: Hub, home: LearnerHome, page: str, log: Path) -> Any:
    """ada stops her server and serves ``page`` on its port; her listener's process."""
    pid, port = _her_server_port(hub)
    model = server_model(hub, ADA)
    assert model and int(model["state"]["pid"]) == pid, model
    run_as(
        ADA,
        # gone, or a zombie until the hub (its parent) next polls it
        'kill "$1"; for _ in $(seq 100); do case "$(ps -o stat= -p "$1")" in ""|Z*) exit 0;;'
        " esac; sleep 0.1; done; exit 1",
        str(pid),
    )
    root, tools = home.temp_dir(), home.temp_dir()
    mkpage = 'mkdir -p "$1/user/ada" && cat > "$1/user/ada/attack.html"'
    run_as(ADA, mkpage, str(root), stdin=page.encode())
    run_as(ADA, 'cat > "$1/serve.py"', str(tools), stdin=LISTENER.encode())
    return spawn_as(ADA, f"cd {root} && exec python3 {tools}/serve.py {port}", log)


def _wait_until_routed_to_her(hub: Hub, proc: Any, log: Path) -> None:
    url = f"{hub.user_url(ADA)}attack.html"

    def routed() -> bool:
        assert proc.poll() is None, log.read_text()
        return "window.clPageOf" in requests.get(url, timeout=5, allow_redirects=False).text

    wait_until(routed, timeout=20, what=f"the proxy sending {url} to ada's port")


class InstructorState:
    """What the instructor has, read with his own token (and the admin's, for his tokens),
    and his event stream from the service."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.token = hub.token_for(INSTRUCTOR)
        url = f"{hub.service_url}api/v1/events".replace("http", "ws", 1)
        self.stream = websocket.create_connection(
            url, header=[f"Authorization: token {self.token}"], timeout=20, suppress_origin=True
        )
        assert json.loads(self.stream.recv())["type"] == "hello"

    def snapshot(self) -> dict[str, Any]:
        api = f"/user/{INSTRUCTOR}/api"
        kernels = self.hub.api("GET", f"{api}/kernels", self.token)
        contents = self.hub.api("GET", f"{api}/contents", self.token)
        tokens = self.hub.admin("GET", f"/users/{INSTRUCTOR}/tokens").json()["api_tokens"]
        return {
            "kernels": sorted(k["id"] for k in kernels.json()),
            # what a POST to api/contents makes (his home is shared with other test runs' hubs)
            "new_files": sorted(
                f["name"] for f in contents.json()["content"] if f["name"].startswith("untitled")
            ),
            "tokens": sorted(t["id"] for t in tokens),
        }

    def events_until_own_ping(self) -> list[dict[str, Any]]:
        """Every event since the hello, up to a ping of his own (sent now)."""
        mine = f"cl-sec-own-{secrets.token_hex(4)}"
        resp = self.hub.api(
            "POST", f"/services/cohortlab/api/v1/events/ping?token={mine}", self.token
        )
        assert resp.status_code == 202, resp.text
        events = []
        while True:
            event = json.loads(self.stream.recv())
            if event.get("token") == mine:
                return events
            events.append(event)


@pytest.fixture
def instructor_state(cl_hub: Hub, instructor: Any) -> Iterator[InstructorState]:
    """The instructor at work (his lab open, his server up, a session with the service), and
    what he has."""
    cl_hub.start_server(INSTRUCTOR)
    state = InstructorState(cl_hub)
    yield state
    state.stream.close()


def _cookies_she_got(log: Path) -> str:
    """The Cookie header of the last visit to her page, from her web server's log."""
    visits = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    pages = [v for v in visits if v["path"] == "/user/ada/attack.html"]
    assert pages, f"her page was not served from her port:\n{log.read_text()}"
    return pages[-1]["cookie"]


def _check_what_her_server_got(hub: Hub, instructor: Any, header: str) -> None:
    """The browser sends her origin none of his cookies but JupyterHub's session id (set on the
    whole domain by design: it ties his OAuth tokens to his login, for logout), and that
    alone lets her act as him nowhere."""
    got = {
        name.strip(): value
        for name, _, value in (part.partition("=") for part in header.split(";"))
        if name.strip()
    }
    ada_host = urlsplit(hub.origins.user(ADA)).hostname
    his = {
        c["name"]: c["value"] for c in instructor.cookies() if c["domain"].lstrip(".") != ada_host
    }
    leaked = {name for name, value in got.items() if his.get(name) == value}
    assert leaked <= {"jupyterhub-session-id"}, leaked
    for url in (
        f"{hub.url}/hub/api/user",
        f"{hub.url}/hub/token",
        f"{hub.service_url}api/v1/me",
        f"{hub.user_url(INSTRUCTOR)}api/contents",
    ):
        resp = requests.get(url, headers={"Cookie": header}, allow_redirects=False, timeout=30)
        assert resp.status_code != 200 or INSTRUCTOR not in resp.text, (url, resp.text[:300])


def test_a_page_a_learner_serves_cannot_act_as_the_instructor_who_opens_it(
    cl_hub: Hub, instructor: Any, instructor_state: InstructorState, ada_home: LearnerHome
) -> None:
    tag = secrets.token_hex(4)
    before = instructor_state.snapshot()
    log = ada_home.temp_dir() / "http.log"
    # A fresh server of hers: the hub's first poll of it is ~30 s away, her window.
    restart_server(cl_hub, ADA)
    listener = _take_over_her_port(cl_hub, ada_home, _attack_page(cl_hub, tag), log)
    try:
        _wait_until_routed_to_her(cl_hub, listener, log)
        page = instructor.new_page()
        page.goto(f"{cl_hub.user_url(ADA)}attack.html")
        page.wait_for_function("window.done === true", timeout=120_000)
        results = page.evaluate("window.results")
        messages = page.evaluate("window.messages")
        page.close()
    finally:
        stop_group(listener)
    _check_what_her_server_got(cl_hub, instructor, _cookies_she_got(log))

    report = json.dumps(results, indent=1)
    for name in FETCHES:  # nothing readable: refused unread by the browser, or an error
        r = results[name]
        readable = r["outcome"] != "rejected" and (r["status"] == 200 or INSTRUCTOR in r["body"])
        assert not readable, f"{name}\n{report}"
    for name in NO_CORS:  # sent blind, and opaque
        r = results[name]
        assert r["outcome"] == "rejected" or (
            r["type"] == "opaque" and r["status"] == 0 and r["body"] == ""
        ), f"{name}\n{report}"
    for name in SOCKETS:  # never opened, no hello
        events = results[name]["events"]
        assert "open" not in events and not [e for e in events if "message" in e], (
            f"{name}\n{report}"
        )
    assert messages == [], messages  # no sign-in frame handed over an XSRF token

    after = instructor_state.snapshot()
    assert after == before, f"{before} -> {after}\n{report}"
    events = instructor_state.events_until_own_ping()
    assert [e for e in events if e.get("token") == f"cl-sec-{tag}"] == [], events
