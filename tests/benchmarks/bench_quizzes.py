"""A live quiz round under load: 1,000 learners connected at once, all answering in 5 s.

Against a real hub and service (production settings: 60 s identity cache), with one real
hub token per simulated learner. Each learner holds a real WebSocket to the service's event
stream (``/api/v1/events``), joins the round, and answers the open question at a random
moment in a 5-second window after it opens. Measured:

- answers recorded (the service's count) vs. acknowledged vs. sent: must all be equal;
- answer-acknowledge latency p50/p99 (request sent -> 201 received);
- from the countdown's end (the deadline the service set) to every client holding the
  new leaderboard (the ``question_closed`` event): p95, and how many got it at all;
- the service process's peak resident memory (VmHWM).

In the same run, the same clients drive a bare Tornado server that only acknowledges and
broadcasts (``bare_live.py``): the transport's own cost on this machine, for the ratios.

Targets (issue 5): 0 lost, ack p99 <= 150 ms, leaderboard to all p95 <= 500 ms,
service peak memory <= 300 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.helpers.hub import Hub, free_port, start_hub, stop_hub

HERE = Path(__file__).resolve().parent
COURSE = "demo101"
LEARNERS = int(os.environ.get("CL_BENCH_LEARNERS", "1000"))
WINDOW = 5.0  # seconds in which everyone answers
COUNTDOWN = 8  # the question's countdown; results go out when it ends
CONNECT_CONCURRENCY = 50
QUIZ = {
    "id": "bench-live",
    "title": "Benchmark round",
    "questions": [
        {
            "id": "q1",
            "type": "single",
            "prompt": "Which library gives you DataFrames?",
            "choices": [
                {"id": "a", "text": "pandas", "correct": True},
                {"id": "b", "text": "requests", "correct": False},
                {"id": "c", "text": "flask", "correct": False},
                {"id": "d", "text": "click", "correct": False},
            ],
        },
        {"id": "q2", "type": "numeric", "prompt": "6 * 7?", "answer": 42},
    ],
}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 1)


class Learner:
    """One simulated learner: a token, an event stream, and what it measured."""

    def __init__(self, name: str, token: str) -> None:
        self.name, self.token = name, token
        self.ws: WebSocketClientConnection | None = None
        self.opened = asyncio.Event()
        self.board_at: float | None = None  # wall clock when the leaderboard arrived
        self.deadline: float | None = None
        self.ack_ms: float | None = None
        self.status: int | None = None

    async def connect(self, url: str) -> None:
        headers = {"Authorization": f"token {self.token}"}
        self.ws = await websocket_connect(HTTPRequest(url, headers=headers, request_timeout=60))
        hello = json.loads(await self.ws.read_message())  # type: ignore[arg-type]
        assert hello["type"] == "hello", hello

    async def listen(self, opened: str, closed: str) -> None:
        assert self.ws is not None
        while True:
            message = await self.ws.read_message()
            if message is None:
                return
            event = json.loads(message)
            if event.get("action") == opened or event.get("type") == opened:
                self.opened.set()
            elif event.get("action") == closed or event.get("type") == closed:
                self.board_at = time.time()
                deadline = (event.get("state") or {}).get("deadline") or event.get("deadline")
                if deadline:
                    self.deadline = datetime.fromisoformat(deadline).timestamp()
                assert event.get("results", event).get("leaderboard"), event
                return

    async def answer(self, send: Callable[[Learner], Awaitable[int]]) -> None:
        await self.opened.wait()
        await asyncio.sleep(random.uniform(0.0, WINDOW))
        started = time.perf_counter()
        self.status = await send(self)
        self.ack_ms = (time.perf_counter() - started) * 1000


async def gather_limited(coros: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))


async def post(url: str, token: str | None, body: Any) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    resp = await AsyncHTTPClient().fetch(
        HTTPRequest(url, method="POST", body=json.dumps(body), headers=headers, request_timeout=60),
        raise_error=False,
    )
    return resp.code, json.loads(resp.body) if resp.body else None


def summarise(learners: list[Learner], deadline: float | None = None) -> dict[str, float]:
    acks = [lr.ack_ms for lr in learners if lr.ack_ms is not None]
    boards = [
        (lr.board_at - (lr.deadline or deadline or lr.board_at)) * 1000
        for lr in learners
        if lr.board_at is not None
    ]
    return {
        "sent": len(acks),
        "acknowledged": sum(1 for lr in learners if lr.status == 201),
        "ack_p50_ms": percentile(acks, 0.50),
        "ack_p99_ms": percentile(acks, 0.99),
        "boards_received": len(boards),
        "board_p50_ms": percentile(boards, 0.50),
        "board_p95_ms": percentile(boards, 0.95),
    }


async def run_service_round(hub: Hub, tokens: dict[str, str]) -> dict[str, float]:
    api = f"{hub.service_url}api/v1/courses/{COURSE}"
    teacher = hub.token_for("instructor")
    code, _ = await asyncio.to_thread(
        lambda: (
            hub.api(
                "PUT",
                f"/services/cohortlab/api/v1/courses/{COURSE}/quizzes/bench-live",
                teacher,
                data=json.dumps({"spec": QUIZ}),
            ).status_code,
            None,
        )
    )
    assert code in (200, 201), code
    code, started = await post(f"{api}/quizzes/bench-live/live", teacher, {})
    assert code == 201, started
    sid = started["session"]["id"]
    learners = [Learner(name, token) for name, token in tokens.items()]
    ws_url = f"{hub.service_url}api/v1/events".replace("http", "ws", 1)
    t0 = time.perf_counter()
    await gather_limited([lr.connect(ws_url) for lr in learners], CONNECT_CONCURRENCY)
    connect_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    joins = await gather_limited(
        [post(f"{api}/live/{sid}/join", lr.token, {}) for lr in learners], CONNECT_CONCURRENCY
    )
    join_s = time.perf_counter() - t0
    assert all(code == 200 for code, _ in joins), [j for j in joins if j[0] != 200][:3]
    listeners = [
        asyncio.ensure_future(lr.listen("question_opened", "question_closed")) for lr in learners
    ]

    async def send(lr: Learner) -> int:
        choice = "a" if random.random() < 0.6 else random.choice("bcd")
        code, _ = await post(
            f"{api}/live/{sid}/answers", lr.token, {"question": "q1", "answer": choice}
        )
        return code

    answering = [asyncio.ensure_future(lr.answer(send)) for lr in learners]
    code, opened = await post(f"{api}/live/{sid}/next", teacher, {"countdown": COUNTDOWN})
    assert code == 200, opened
    await asyncio.gather(*answering)
    await asyncio.wait_for(asyncio.gather(*listeners), COUNTDOWN + 30)
    resp = await AsyncHTTPClient().fetch(
        HTTPRequest(f"{api}/live/{sid}", headers={"Authorization": f"token {teacher}"})
    )
    recorded = json.loads(resp.body)["results"]["distribution"]["answered"]
    await post(f"{api}/live/{sid}/end", teacher, {})
    for lr in learners:
        assert lr.ws is not None
        lr.ws.close()
    return {
        **summarise(learners),
        "recorded": recorded,
        "connect_s": round(connect_s, 1),
        "join_s": round(join_s, 1),
    }


async def run_bare_round(port: int, count: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    learners = [Learner(f"bare{i}", "") for i in range(count)]
    await gather_limited(
        [lr.connect(f"ws://127.0.0.1:{port}/events") for lr in learners], CONNECT_CONCURRENCY
    )
    listeners = [asyncio.ensure_future(lr.listen("open", "board")) for lr in learners]

    async def send(lr: Learner) -> int:
        code, _ = await post(f"{base}/answer", None, {"question": "q1", "answer": "a"})
        return code

    answering = [asyncio.ensure_future(lr.answer(send)) for lr in learners]
    await post(f"{base}/broadcast", None, {"type": "open"})
    await asyncio.gather(*answering)
    # a leaderboard-sized message, sent when the (same) countdown would end
    await asyncio.sleep(max(0.0, COUNTDOWN - WINDOW - 0.5))
    sent_at = time.time()
    board = {
        "type": "board",
        "leaderboard": {
            "top": [{"rank": i, "name": "Curious Otter", "score": 1000} for i in range(10)]
        },
    }
    await post(f"{base}/broadcast", None, board)
    await asyncio.wait_for(asyncio.gather(*listeners), 30)
    for lr in learners:
        assert lr.ws is not None
        lr.ws.close()
    return summarise(learners, deadline=sent_at)


def service_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"cohortlab") for a in argv) and b"service" in argv:
            return int(entry.name)
    return None


def memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def make_learners(hub: Hub) -> dict[str, str]:
    names = [f"live{i:04d}" for i in range(LEARNERS)]
    for start in range(0, LEARNERS, 200):
        hub.admin("POST", "/users", json={"usernames": names[start : start + 200]})
        hub.admin(
            "POST", f"/groups/nbgrader-{COURSE}/users", json={"users": names[start : start + 200]}
        )
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(hub.token_for, names))
    return dict(zip(names, tokens, strict=True))


def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1,000 sockets each side
    AsyncHTTPClient.configure(None, max_clients=LEARNERS + 10)
    random.seed(5)
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, str(HERE / "bare_live.py"), str(bare_port)])
    hub = start_hub({"COHORTLAB_TEST_SERVICE_ARGS": ""})
    try:
        started = time.monotonic()
        tokens = make_learners(hub)
        print(f"{LEARNERS} learners with hub tokens in {time.monotonic() - started:.1f} s")
        pid = service_pid()
        rss_before = memory_mb(pid, "VmRSS") if pid else float("nan")
        service = asyncio.run(run_service_round(hub, tokens))
        peak = memory_mb(pid, "VmHWM") if pid else float("nan")
        time.sleep(1)
        baseline = asyncio.run(run_bare_round(bare_port, LEARNERS))
    finally:
        if os.environ.get("CL_BENCH_KEEP_LOG"):
            shutil.copy(hub.log_path, os.environ["CL_BENCH_KEEP_LOG"])
        stop_hub(hub)
        bare.terminate()
        bare.wait()

    lost = service["sent"] - service["recorded"]
    figures = {
        **{f"service_{k}": v for k, v in service.items()},
        **{f"bare_{k}": v for k, v in baseline.items()},
        "lost": lost,
        "service_rss_before_mb": rss_before,
        "service_peak_mb": peak,
        "ack_p99_vs_bare": round(service["ack_p99_ms"] / max(baseline["ack_p99_ms"], 0.1), 2),
        "board_p95_vs_bare": round(service["board_p95_ms"] / max(baseline["board_p95_ms"], 0.1), 2),
    }
    for key, value in figures.items():
        print(f"{key:28} {value}")
    met = (
        lost == 0
        and service["acknowledged"] == service["sent"] == LEARNERS
        and service["boards_received"] == LEARNERS
        and service["ack_p99_ms"] <= 150
        and service["board_p95_ms"] <= 500
        and peak <= 300
    )
    print(
        json.dumps(
            {
                "bench": "quizzes",
                "figures": figures,
                "targets": {
                    "lost": "0 (recorded == acknowledged == sent)",
                    "ack_p99_ms": "<= 150",
                    "board_p95_ms": "<= 500 (countdown end -> every client has the leaderboard)",
                    "service_peak_mb": "<= 300",
                },
                "met": bool(met),
            }
        )
    )


if __name__ == "__main__":
    main()
