"""A learner floods the service from her own terminal; nobody else notices (issue 13, item 6).

Against a real hub whose service runs with its default limits (for a learner 120 writes a
minute, 20 at once; 1 MiB bodies; 10 event streams): as her own system user, at the CPU
priority her server runs at (the hub lowers learners' servers: hub_config), she writes as
fast as two threads can,
with now and then a 5 MB body, and opens more event streams than allowed. Each refusal is
413 or 429 with a message (and Retry-After), nothing over the limit is written, and another
learner's reads keep their pace: p99 under the flood within twice the p99 measured quietly in
the same run (the flood is paused and resumed, so quiet and flooded phases alternate and both
see the same machine)."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import signal
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.helpers.api import Person
from tests.helpers.hub import Hub, start_hub, stop_hub
from tests.security.learner import run_as, spawn_as, stop_group

FLOOD = Path(__file__).with_name("flood.py")
# Quiet and flooded reads alternate in short phases (10 reads, about 50 ms), so that load
# from outside the test (the other test worker starting a browser, say), which lasts longer
# than a phase, falls on both kinds alike rather than on a few phases of one.
ROUNDS, READS = 40, 10


@pytest.fixture(scope="module")
def cl_default_hub() -> Iterator[Hub]:
    """A hub whose service runs with all its defaults (the session's hub raises the limits so
    that hundreds of functional tests can write as the same few people, and turns the group
    cache off)."""
    hub = start_hub({"COHORTLAB_TEST_SERVICE_ARGS": ""})  # the service's defaults
    try:
        yield hub
    finally:
        stop_hub(hub)


def notable(hub: Hub) -> str:
    """What in the hub's log is not an ordinary success (for a failure's message)."""
    lines = hub.log_path.read_text(errors="replace").splitlines()
    keep = [line for line in lines if not re.search(r"\] (200|201|204|302) ", line)]
    return "\n".join(keep[-60:])


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def timed_reads(hub: Hub, session: requests.Session, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        resp = session.get(url, timeout=30)
        out.append(time.perf_counter() - start)
        assert resp.status_code == 200, f"{resp.status_code}; the hub's log:\n{notable(hub)}"
    return out


def server_niceness(user: str) -> int:
    """The CPU niceness of ``user``'s running single-user server (what her terminal gets)."""
    uid = pwd.getpwnam(user).pw_uid
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or proc.stat().st_uid != uid:
                continue
            if b"jupyterhub-singleuser" not in (proc / "cmdline").read_bytes():
                continue
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        return int(stat.rsplit(")", 1)[1].split()[16])  # field 19: nice
    raise AssertionError(f"no running server of {user}")


@pytest.mark.exclusive  # a read's p99 against its quiet value: nothing else may run meanwhile
def test_a_flooding_learner_is_refused_and_others_keep_their_pace(
    cl_default_hub: Hub, tmp_path: Path
) -> None:
    hub = cl_default_hub
    ada, ben = Person(hub, "ada"), Person(hub, "ben")
    hub.start_server("ada")
    nice = server_niceness("ada")
    assert nice >= 10, "learners' servers should yield the CPU to the hub and the service"
    # what she runs at her terminal: the hub's Python (requests), her server's niceness
    flood = (
        f"exec nice -n {nice} {sys.executable} {FLOOD} {hub.service_url} {ada.token} "
        "$THREAD $SECONDS_TO_FLOOD"
    )
    thread = ada.ok("POST", "courses/demo101/threads", {"body": "flood target"})
    script = flood.replace("$THREAD", str(thread["id"]))
    reader = requests.Session()
    reader.headers["Authorization"] = f"token {ben.token}"
    url = f"{hub.service_url}api/v1/courses/demo101/threads"
    timed_reads(hub, reader, url, 20)  # warm: connections, caches

    quiet: list[float] = []
    flooded: list[float] = []
    # one flood, paused and resumed (SIGSTOP/SIGCONT of its process group) so quiet and
    # flooded reads alternate on the same machine, without a process start in either
    flooding = spawn_as("ada", script.replace("$SECONDS_TO_FLOOD", "600"), tmp_path / "flood")
    try:
        for _ in range(ROUNDS):
            os.killpg(flooding.pid, signal.SIGSTOP)
            quiet += timed_reads(hub, reader, url, READS)
            os.killpg(flooding.pid, signal.SIGCONT)
            flooded += timed_reads(hub, reader, url, READS)
    finally:
        os.killpg(flooding.pid, signal.SIGCONT)
        stop_group(flooding)
    # one more flood, run to its end, says what the service answered her
    report = json.loads(run_as("ada", script.replace("$SECONDS_TO_FLOOD", "5")))
    answers = report["answers"]
    print(f"quiet p99 {p99(quiet) * 1000:.1f} ms, flooded p99 {p99(flooded) * 1000:.1f} ms")
    print(f"flood answers: {answers}")
    assert answers.get("429", 0) > 0, answers
    assert answers.get("413", 0) > 0, answers
    assert set(answers) <= {"200", "413", "429"}, answers  # never a 5xx
    assert all(v.isdigit() and 1 <= int(v) <= 60 for v in report["retry_after"])
    # within the limit: in 5 s at most the burst (20) and one per 0.5 s were taken
    assert answers.get("200", 0) <= 20 + 5 / 0.5 + 1, answers
    assert p99(flooded) <= 2 * p99(quiet), (
        f"ben's reads: quiet p99 {p99(quiet) * 1000:.1f} ms, "
        f"under ada's flood {p99(flooded) * 1000:.1f} ms"
    )


def test_a_body_over_the_limit_is_refused_with_a_message(cl_default_hub: Hub) -> None:
    ben = Person(cl_default_hub, "ben")
    resp = ben.call("POST", "courses/demo101/threads", "{" + " " * (2 * 1024 * 1024) + "}")
    assert resp.status_code == 413, resp.text[:300]
    error = resp.json()["error"]
    assert error["code"] == "too_large" and "at most 1.0 MiB" in error["message"]


async def test_more_event_streams_than_allowed_are_refused(cl_default_hub: Hub) -> None:
    hub = cl_default_hub
    token = hub.token_for("cy")
    url = f"{hub.service_url}api/v1/events".replace("http", "ws", 1)
    request = HTTPRequest(url, headers={"Authorization": f"token {token}"})
    opened = []
    try:
        for _ in range(10):
            conn = await websocket_connect(request)
            assert json.loads(await asyncio.wait_for(conn.read_message(), 10))["type"] == "hello"
            opened.append(conn)
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(request)
        assert refused.value.code == 429
        body = json.loads(refused.value.response.body)  # type: ignore[union-attr]
        assert body["error"]["code"] == "too_many_streams"
        # closing one gives its slot back
        opened.pop().close()
        deadline = time.monotonic() + 10
        while True:
            try:
                opened.append(await websocket_connect(request))
                break
            except HTTPClientError:
                assert time.monotonic() < deadline, "the closed stream's slot never came back"
                await asyncio.sleep(0.1)  # polling for the slot, released asynchronously
    finally:
        for conn in opened:
            conn.close()
