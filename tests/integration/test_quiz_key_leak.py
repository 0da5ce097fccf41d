"""A learner who inspects everything they can reach finds no answer key.

Issue 5 lists the places: the released notebook (tests/integration/test_quiz_publish_nbgrader.py),
the widget's state (only what the service returned: tests/unit/test_widgets.py), and here
every API response and error a learner can provoke, every frame of their event stream
(self-paced and live, before a question is done for them), the OpenAPI document, the
service's log, and every file the learner's own kernel can read.

Every key field of the quiz below carries a marker no other text contains, so a marker
anywhere is a leak.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from typing import Any

from tests.helpers.api import Person, event_stream
from tests.helpers.hub import Hub
from tests.helpers.kernel import run_in_kernel

COURSE = "demo101"
# Made afresh for each run, so no file holds them unless the service wrote it (a checkout of
# this repository in a folder the learner can read must not count as a leak).
_RUN = uuid.uuid4().hex[:10]
MARKERS = {
    "numeric answer": f"{secrets.randbelow(90000) + 10000}.125",
    "text answer": f"zebra-key-{_RUN}",
    "pattern": f"qq-key-pattern-{_RUN}",
    "explanation": f"explained-key-{_RUN}",
    "feedback of a choice not chosen": f"feedback-key-{_RUN}",
}
# A numeric question's feedback is a hint shown after any wrong answer (by design), so it
# carries no marker here.


def leaky_spec(quiz_id: str) -> dict[str, Any]:
    return {
        "id": quiz_id,
        "title": "Probe",
        "attempts": 3,
        "questions": [
            {
                "id": "q1",
                "type": "single",
                "prompt": "Pick one",
                "explanation": MARKERS["explanation"],
                "choices": [
                    {"id": "right", "text": "A", "correct": True},
                    {
                        "id": "other",
                        "text": "B",
                        "correct": False,
                        "feedback": MARKERS["feedback of a choice not chosen"],
                    },
                    {"id": "third", "text": "C", "correct": False},
                ],
            },
            {
                "id": "q2",
                "type": "numeric",
                "prompt": "A number",
                "answer": float(MARKERS["numeric answer"]),
                "tolerance": 0.001,
                "feedback": "Check the units.",
            },
            {
                "id": "q3",
                "type": "text",
                "prompt": "A word",
                "answers": [MARKERS["text answer"]],
                "pattern": MARKERS["pattern"] + "[0-9]+",
            },
        ],
    }


def assert_clean(where: str, text: str) -> None:
    found = [name for name, marker in MARKERS.items() if marker in text]
    assert not found, f"{where} leaks {found}"


async def test_a_learner_finds_no_key_anywhere_they_can_reach(cl_hub: Hub) -> None:
    quiz_id = f"probe-{uuid.uuid4().hex[:8]}"
    teacher, cy = Person(cl_hub, "instructor"), Person(cl_hub, "cy")
    stream = await event_stream(cl_hub, "cy")
    frames: list[str] = []

    async def collect(seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(stream.read_message(), left)
            except TimeoutError:
                return
            if message is None:
                return
            frames.append(message)

    try:
        teacher.ok("PUT", f"courses/{COURSE}/quizzes/{quiz_id}", {"spec": leaky_spec(quiz_id)})
        quiz = f"courses/{COURSE}/quizzes/{quiz_id}"
        responses: list[tuple[str, str]] = []

        def call(method: str, path: str, body: Any = None, **params: str) -> None:
            resp = cy.call(method, path, body, **params)
            assert resp.status_code < 500, (path, resp.text)
            responses.append((f"{method} {path} -> {resp.status_code}", resp.text))

        # everything a learner can read or provoke, with attempts left on every question
        call("GET", quiz)
        call("GET", f"courses/{COURSE}/quizzes")
        call("GET", f"quizzes/{quiz_id}")
        call("GET", f"{quiz}/leaderboard")
        call("GET", f"courses/{COURSE}/leaderboard")
        call("GET", f"courses/{COURSE}/leaderboard/settings")
        call("GET", "openapi.json")
        call("POST", f"{quiz}/answers", {"question": "q1", "answer": "third"})  # wrong, no fb
        call("POST", f"{quiz}/answers", {"question": "q2", "answer": 1.0})  # wrong
        call("POST", f"{quiz}/answers", {"question": "q3", "answer": "cat"})  # wrong
        for bad in (
            {"question": "q1", "answer": "nope"},
            {"question": "q2", "answer": "86421"},
            {"question": "q3", "answer": 5},
            {"question": "q9", "answer": "x"},
            {"question": "q1"},
        ):
            call("POST", f"{quiz}/answers", bad)
        call("GET", quiz)
        for path in ("scores", "extensions/cy"):
            call("GET" if path == "scores" else "PUT", f"{quiz}/{path}", {"closes_at": "x"})
        call("PATCH", quiz, {"revealed": True})
        call("PUT", quiz, {"spec": leaky_spec(quiz_id)})
        # a live round, up to the moment before its question closes
        teacher.ok("POST", f"{quiz}/live", {})
        live = teacher.ok("GET", f"{quiz}/live")["session"]["id"]
        call("GET", f"{quiz}/live")
        call("POST", f"courses/{COURSE}/live/{live}/join")
        teacher.ok("POST", f"courses/{COURSE}/live/{live}/next", {"countdown": 60})
        call("GET", f"courses/{COURSE}/live/{live}")
        call("POST", f"courses/{COURSE}/live/{live}/answers", {"question": "q1", "answer": "other"})
        call("POST", f"courses/{COURSE}/live/{live}/answers", {"question": "q1", "answer": "right"})
        call("POST", f"courses/{COURSE}/live/{live}/answers", {"question": "q2", "answer": 3})
        call("GET", f"courses/{COURSE}/live/{live}")
        await collect(2.0)  # the coalesced scores event and the live frames arrive
        for where, text in responses:
            assert_clean(where, text)
        assert frames, "the learner's event stream carried nothing"
        for frame in frames:
            assert_clean(f"event frame {frame[:80]}", frame)
        assert_clean("the service's log", cl_hub.log_path.read_text(errors="replace"))
        teacher.ok("POST", f"courses/{COURSE}/live/{live}/end")
    finally:
        stream.close()

    # every file cy's own kernel can read, in the places a person could look
    cl_hub.start_server("cy")
    probe = f"""
import os
# sent reversed, so the kernel's own history file never holds a marker
markers = [m[::-1] for m in {json.dumps([m[::-1] for m in MARKERS.values()])}]
hits, scanned = [], 0
roots = ["/home", "/tmp", "/var/tmp", "/dev/shm", "/srv", "/opt", {str(cl_hub.state)!r},
         {str(cl_hub.service_data_dir)!r}]
for root in roots:
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                if os.path.islink(path) or os.path.getsize(path) > 20_000_000:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            scanned += 1
            if any(m.encode() in data for m in markers):
                hits.append(path)
try:
    open("/home/instructor/demo101/source/hw1/hw1.ipynb", "rb").read(1)
    source = "read"
except PermissionError:
    source = "denied"
except FileNotFoundError:
    source = "missing"
print(json.dumps({{"hits": hits, "scanned": scanned, "source": source}}))
"""
    out, errors = await run_in_kernel(
        cl_hub.url, "cy", cl_hub.token_for("cy"), "import json\n" + probe, timeout=120
    )
    assert not errors, errors
    result = json.loads(out)
    assert result["scanned"] > 10, result
    assert result["hits"] == [], f"files cy's kernel can read hold the key: {result['hits']}"
    # the instructor's source notebooks hold quiz specs with their keys (hw1 has one)
    assert result["source"] == "denied", result
