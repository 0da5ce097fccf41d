"""Reviewing in the reviewer's own server: the copy written untrusted under a pseudonymous path
(``cohortlab.serverext.reviews``), and the sandboxed review kernel, which finds no credential
to act as the reviewer with (``cohortlab.serverext.review_kernel``)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.hub import Hub
from tests.helpers.kernel import run_in_kernel
from tests.helpers.peer_review import COURSE, api, my_numbers, open_round


def server(hub: Hub, user: str, method: str, path: str, token_of: str | None = None, **kw: Any):
    return hub.api(method, f"/user/{user}/{path}", hub.token_for(token_of or user), **kw)


@pytest.fixture(scope="module")
def cl_review_copy(cl_hub: Hub) -> dict[str, Any]:
    """ada's first assignment in a fresh round, written into her server."""
    cl_hub.start_server("ada")
    assignment = open_round(cl_hub)
    number = my_numbers(cl_hub, "ada", assignment)[0]
    body = {"course": COURSE, "assignment": assignment, "submission": number}
    resp = server(cl_hub, "ada", "POST", "cohortlab/reviews/copies", json=body)
    assert resp.status_code == 200, resp.text
    return {"assignment": assignment, "number": number, **resp.json()}


def test_the_copy_is_written_untrusted_under_a_pseudonym_with_the_review_kernel(
    cl_hub: Hub, cl_review_copy: dict[str, Any]
) -> None:
    a, n = cl_review_copy["assignment"], cl_review_copy["number"]
    assert cl_review_copy["paths"] == [f"peer-review/{a}/Submission {n}/hw.ipynb"]
    assert cl_review_copy["kernel"] == "cohortlab-review"
    assert cl_review_copy["sandbox"] == "namespaces"
    model = server(cl_hub, "ada", "GET", f"api/contents/{cl_review_copy['paths'][0]}").json()
    nb = model["content"]
    # jupyter_server marks every code cell untrusted when the signature does not match
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["metadata"].get("trusted") is False for c in code)
    assert nb["metadata"]["kernelspec"]["name"] == "cohortlab-review"
    assert nb["metadata"]["cohortlab_review"] == {
        "kind": "review",
        "course": COURSE,
        "assignment": a,
        "submission": n,
        "notebook": "hw.ipynb",
    }
    assert [c["metadata"]["cohortlab_review"]["index"] for c in nb["cells"]] == [0, 1, 2, 3]
    author = cl_hub.admin("GET", f"/users/{_author(cl_hub, a, n)}").json()["name"]
    assert author not in json.dumps(model)


def _author(hub: Hub, assignment: str, number: int) -> str:
    view = hub.api(
        "GET",
        f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/{assignment}",
        hub.token_for("instructor"),
    ).json()
    return next(s["author"] for s in view["submissions"] if s["number"] == number)


def test_a_signed_copy_is_unsigned_even_when_every_output_is_plain(
    cl_hub: Hub, cl_review_copy: dict[str, Any]
) -> None:
    """Reopening with refresh rewrites the copy and it stays untrusted."""
    body = {
        "course": COURSE,
        "assignment": cl_review_copy["assignment"],
        "submission": cl_review_copy["number"],
        "refresh": True,
    }
    resp = server(cl_hub, "ada", "POST", "cohortlab/reviews/copies", json=body)
    assert resp.status_code == 200, resp.text
    model = server(cl_hub, "ada", "GET", f"api/contents/{cl_review_copy['paths'][0]}").json()
    assert not any(c["metadata"].get("trusted") for c in model["content"]["cells"])


def test_copies_are_refused_for_work_not_allocated_and_for_bad_bodies(
    cl_hub: Hub, cl_review_copy: dict[str, Any]
) -> None:
    a = cl_review_copy["assignment"]
    mine = set(my_numbers(cl_hub, "ada", a))
    other = next(n for n in range(1, 7) if n not in mine)
    resp = server(
        cl_hub,
        "ada",
        "POST",
        "cohortlab/reviews/copies",
        json={"course": COURSE, "assignment": a, "submission": other},
    )
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "unknown_submission"
    for bad in (
        {"course": COURSE, "assignment": "../x", "submission": 1},
        {"course": COURSE, "assignment": a, "submission": "1"},
        {"course": "a/b", "assignment": a, "submission": 1},
    ):
        resp = server(cl_hub, "ada", "POST", "cohortlab/reviews/copies", json=bad)
        assert resp.status_code == 400 and resp.json()["error"]["message"], bad
    # someone else cannot ask ada's server to fetch her review work
    resp = server(
        cl_hub,
        "ada",
        "POST",
        "cohortlab/reviews/copies",
        token_of="ben",
        json={"course": COURSE, "assignment": a, "submission": min(mine)},
    )
    assert resp.status_code == 403


PROBE = """
import glob, json, os, urllib.request, urllib.error
found = {{}}
found["sandbox"] = os.environ.get("CL_REVIEW_SANDBOX")
found["env"] = sorted(
    k for k in os.environ
    if any(w in k.upper() for w in ("TOKEN", "SECRET", "JUPYTERHUB", "JPY", "COHORTLAB"))
)
readable = []
for d in glob.glob("/proc/[0-9]*"):
    try:
        if b"JUPYTERHUB_API_TOKEN" in open(d + "/environ", "rb").read():
            readable.append(d)
    except OSError:
        pass
found["proc_with_token"] = readable
found["processes"] = len(glob.glob("/proc/[0-9]*"))
home = os.path.expanduser("~")
found["runtime"] = glob.glob(home + "/.local/share/jupyter/runtime/*")
found["notary_secret"] = os.path.exists(home + "/.local/share/jupyter/notebook_secret")
found["home"] = sorted(os.listdir(home))
found["cwd_files"] = sorted(os.listdir("."))
def status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return str(e)
found["relay"] = status({relay!r})
found["service"] = status({service!r})
found["server_api"] = status({server_api!r})
print(json.dumps(found))
"""


async def test_the_review_kernel_finds_no_credential_to_act_as_the_reviewer(
    cl_hub: Hub, cl_review_copy: dict[str, Any]
) -> None:
    code = PROBE.format(
        relay=cl_hub.at("/user/ada/cohortlab/api/v1/me"),
        service=f"{cl_hub.service_url}api/v1/me",
        server_api=cl_hub.at("/user/ada/api/contents"),
    )
    folder = cl_review_copy["folder"]
    # a normal kernel first, so a kernel holding the token is running while the review runs
    normal = await run_in_kernel(cl_hub.url, "ada", cl_hub.token_for("ada"), code)
    out, errors = await run_in_kernel(
        cl_hub.url,
        "ada",
        cl_hub.token_for("ada"),
        code,
        kernel_name="cohortlab-review",
        path=folder,
    )
    assert not errors, errors
    found = json.loads(out)
    assert found["sandbox"] == "namespaces"
    assert found["env"] == []
    assert found["proc_with_token"] == []
    assert found["processes"] <= 3  # the sandbox's init and the kernel (and its children)
    assert found["runtime"] == [] and not found["notary_secret"]
    # a neutral, empty home but for a copy of the copy's folder at ~/work (and what IPython
    # makes on start)
    assert "work" in found["home"] and "welcome.ipynb" not in found["home"]
    assert set(found["home"]) <= {"work", ".ipython", ".cache", ".config", ".local"}
    assert "hw.ipynb" in found["cwd_files"]
    # no network: not even an answer (an HTTP status would be an int)
    for where in ("relay", "service", "server_api"):
        assert isinstance(found[where], str), (where, found[where])
    # the control: an ordinary kernel of the same person holds the token (and so the relay
    # works for it), but not even it can read the server's environment any more
    assert not normal[1], normal[1]
    control = json.loads(normal[0])
    assert "JUPYTERHUB_API_TOKEN" in control["env"]


async def test_the_server_is_not_dumpable_so_its_environment_is_unreadable(cl_hub: Hub) -> None:
    cl_hub.start_server("ada")
    code = """
import os
try:
    open(f"/proc/{os.getppid()}/environ", "rb").read()
    print("read")
except PermissionError:
    print("denied")
print(open(f"/proc/{os.getppid()}/cmdline", "rb").read().split(b"\\0")[1].decode().rsplit("/")[-1])
"""
    out, errors = await run_in_kernel(cl_hub.url, "ada", cl_hub.token_for("ada"), code)
    assert not errors, errors
    assert out.split()[0] == "denied", out
    assert "jupyterhub-singleuser" in out


def test_the_authors_copy_is_written_only_once_feedback_is_released(cl_hub: Hub) -> None:
    cl_hub.start_server("ben")
    assignment = open_round(cl_hub)
    body = {"course": COURSE, "assignment": assignment}
    resp = server(cl_hub, "ben", "POST", "cohortlab/reviews/feedback-copies", json=body)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "not_released"
    api(cl_hub, "instructor", "PATCH", f"/{assignment}", {"released": True})
    resp = server(cl_hub, "ben", "POST", "cohortlab/reviews/feedback-copies", json=body)
    assert resp.status_code == 200, resp.text
    path = f"peer-review/{assignment}/Feedback/hw.ipynb"
    assert resp.json()["paths"] == [path]
    nb = server(cl_hub, "ben", "GET", f"api/contents/{path}").json()["content"]
    assert nb["metadata"]["cohortlab_review"] == {
        "kind": "feedback",
        "course": COURSE,
        "assignment": assignment,
        "notebook": "hw.ipynb",
    }
    assert not any(c["metadata"].get("trusted") for c in nb["cells"])


async def test_the_review_kernel_is_interrupted_and_shut_down_like_any_other(
    cl_hub: Hub, cl_review_copy: dict[str, Any]
) -> None:
    """jupyter_client signals the kernel's process group: SIGINT reaches the sandboxed
    kernel, and shutting it down ends the whole sandbox."""
    token = cl_hub.token_for("ada")
    headers = {"Authorization": f"token {token}"}
    base = cl_hub.at("/user/ada/api/kernels")
    spec = {"name": "cohortlab-review", "path": cl_review_copy["folder"]}
    kernel = requests.post(base, headers=headers, json=spec, timeout=30).json()
    ws_url = f"{base}/{kernel['id']}/channels?session_id={uuid.uuid4().hex}"
    conn = await websocket_connect(
        HTTPRequest(ws_url.replace("http", "ws", 1), headers=headers, request_timeout=60)
    )
    msg_id = uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "version": "5.3",
                    "session": "s",
                    "username": "ada",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": "import time; print('asleep', flush=True); time.sleep(120)",
                    "silent": False,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )

    async def until(kind: str, state: str | None = None) -> dict[str, Any]:
        while True:
            msg = json.loads(await conn.read_message())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == kind and (
                state is None or msg["content"].get("execution_state") == state
            ):
                return msg

    try:
        await asyncio.wait_for(until("status", "busy"), 60)
        await asyncio.wait_for(until("stream"), 60)  # the code runs: it is in its sleep
        started = time.monotonic()
        resp = requests.post(f"{base}/{kernel['id']}/interrupt", headers=headers, timeout=30)
        assert resp.status_code == 204
        error = await asyncio.wait_for(until("error"), 15)
        assert error["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - started < 15
    finally:
        conn.close()
    started = time.monotonic()
    resp = requests.delete(f"{base}/{kernel['id']}", headers=headers, timeout=60)
    assert resp.status_code == 204
    assert time.monotonic() - started < 15
    listed = requests.get(base, headers=headers, timeout=30).json()
    assert kernel["id"] not in [k["id"] for k in listed]


async def _run_on(base: str, kernel_id: str, headers: dict[str, str], code: str) -> str:
    """Run ``code`` on a running kernel over the server's kernel WebSocket; its stdout."""
    ws_url = f"{base}/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    conn = await websocket_connect(
        HTTPRequest(ws_url.replace("http", "ws", 1), headers=headers, request_timeout=60)
    )
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "version": "5.3"}
    conn.write_message(
        json.dumps(
            {
                "header": {**header, "session": "s", "username": "ada", "date": ""},
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    out: list[str] = []
    try:
        while True:
            msg = json.loads(await asyncio.wait_for(conn.read_message(), 60))
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["header"]["msg_type"] == "error":
                raise AssertionError(msg["content"]["traceback"])
            elif msg["content"].get("execution_state") == "idle":
                return "".join(out)
    finally:
        conn.close()


async def test_the_review_kernel_restarts_through_the_server_over_ipc(
    cl_hub: Hub, cl_review_copy: dict[str, Any]
) -> None:
    """JupyterLab's restart: the server restarts the kernel on the same ipc sockets, and the
    restarted kernel answers on a new WebSocket, fresh and still sandboxed."""
    headers = {"Authorization": f"token {cl_hub.token_for('ada')}"}
    base = cl_hub.at("/user/ada/api/kernels")
    spec = {"name": "cohortlab-review", "path": cl_review_copy["folder"]}
    kernel = requests.post(base, headers=headers, json=spec, timeout=30).json()
    try:
        check = "import os; print(os.environ['CL_REVIEW_SANDBOX'], globals().get('x'))"
        first = await _run_on(base, kernel["id"], headers, f"x = 1\n{check}")
        assert first.split() == ["namespaces", "1"]
        resp = requests.post(f"{base}/{kernel['id']}/restart", headers=headers, timeout=60)
        assert resp.status_code == 200, resp.text
        second = await _run_on(base, kernel["id"], headers, check)
        assert second.split() == ["namespaces", "None"]
    finally:
        requests.delete(f"{base}/{kernel['id']}", headers=headers, timeout=60)
