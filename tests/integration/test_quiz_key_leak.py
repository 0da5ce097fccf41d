"""A learner who inspects everything they can reach finds no answer key.

Issue 5 lists the places: the released notebook (tests/integration/test_quiz_publish_nbgrader.py),
the widget's state (only what the service returned: tests/unit/test_widgets.py), and here
every API response and error a learner can provoke, every frame of their event stream
(self-paced and live, up to the moment a live question closes; then, as in Kahoot, the
round's players see its key, which ends their chance at it self-paced), the OpenAPI document, the
service's log, and every file the learner's system account can read: their kernel walks
the whole file system (issue 13), and cannot read the demo's source notebook (the key of
its quiz) in the instructor's home or in the repository's checkout.

Every key field of the quiz below carries a marker no other text contains, so a marker
anywhere is a leak. Its ordering question's key is an order: its items' ids are unique to
the run too, and the five of them in the key's order, close together, are a leak.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import uuid
from typing import Any

import nbformat
from cohortlab.quizzes.notebook import find_quizzes

from tests.helpers.api import Person, event_stream
from tests.helpers.hub import REPO, Hub
from tests.helpers.kernel import run_in_kernel

COURSE = "demo101"
# Made afresh for each run, so no file holds them unless the service wrote it (a checkout of
# this repository in a folder the learner can read must not count as a leak).
_RUN = uuid.uuid4().hex[:10]
MARKERS = {
    # 15 digits: a whole file system holds no such number by chance
    "numeric answer": f"{secrets.randbelow(9 * 10**11) + 10**11}.125",
    "text answer": f"zebra-key-{_RUN}",
    "pattern": f"qq-key-pattern-{_RUN}",
    "explanation": f"explained-key-{_RUN}",
    "feedback of a choice not chosen": f"feedback-key-{_RUN}",
    "ordering explanation": f"order-explained-{_RUN}",
}
# The ordering question's items in the correct order, which is not their sorted order.
ITEMS = [f"{fruit}-{_RUN}" for fruit in ("pear", "fig", "plum", "kiwi", "lime")]
assert sorted(ITEMS) != ITEMS
GAP = 80  # bytes between neighbouring ids that still read as a list of them


def in_key_order(text: str) -> bool:
    gap = f".{{0,{GAP}}}?"
    return re.search(gap.join(map(re.escape, ITEMS)), text, re.S) is not None


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
            {
                "id": "q4",
                "type": "ordering",
                "prompt": "Order them",
                "scoring": "partial",
                "explanation": MARKERS["ordering explanation"],
                "items": [{"id": i, "text": i.split("-")[0]} for i in ITEMS],
            },
        ],
    }


def assert_clean(where: str, text: str) -> None:
    found = [name for name, marker in MARKERS.items() if marker in text]
    if in_key_order(text):
        found.append("the ordering question's order")
    assert not found, f"{where} leaks {found}"


def demo_key_sentences() -> list[str]:
    """The sentences only the demo quiz's key holds (hw1's explanation and its choices'
    feedback), read from the checkout's source as root."""
    source = REPO / "notebooks" / "source" / "hw1" / "hw1.ipynb"
    [found] = find_quizzes(nbformat.read(source, as_version=4))
    sentences = [
        text
        for q in found.quiz.questions
        for text in (q.explanation, *(c.feedback for c in q.choices))
        if text
    ]
    assert sentences
    return sentences


# A wrong answer to each question (as cy sends them while a live round runs).
ANSWERS: dict[str, Any] = {"q1": "third", "q2": 1.0, "q3": "cat", "q4": ITEMS[::-1]}


def publish_probe(teacher: Person, cy: Person) -> str:
    """A fresh probe quiz whose items cy is not shown in the key's order (that happens to one
    learner in 120, as it must, but would look like a leak to this test)."""
    for _ in range(5):
        quiz_id = f"probe-{uuid.uuid4().hex[:8]}"
        teacher.ok("PUT", f"courses/{COURSE}/quizzes/{quiz_id}", {"spec": leaky_spec(quiz_id)})
        view = cy.ok("GET", f"courses/{COURSE}/quizzes/{quiz_id}")
        [q4] = [q for q in view["quiz"]["questions"] if q["id"] == "q4"]
        if [i["id"] for i in q4["items"]] != ITEMS:
            return quiz_id
    raise AssertionError("cy was shown the key's order five times")


async def test_a_learner_finds_no_key_anywhere_they_can_reach(cl_hub: Hub) -> None:
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
        quiz_id = publish_probe(teacher, cy)
        quiz = f"courses/{COURSE}/quizzes/{quiz_id}"
        responses: list[tuple[str, str]] = []

        def call(method: str, path: str, body: Any = None, **params: str) -> Any:
            resp = cy.call(method, path, body, **params)
            assert resp.status_code < 500, (path, resp.text)
            responses.append((f"{method} {path} -> {resp.status_code}", resp.text))
            return resp.json() if resp.text else None

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
        # a wrong order, then a partly right one: "wrong", and no partial credit anywhere
        call("POST", f"{quiz}/answers", {"question": "q4", "answer": ITEMS[::-1]})
        partly = [*ITEMS[:3], ITEMS[4], ITEMS[3]]
        resp = cy.call("POST", f"{quiz}/answers", {"question": "q4", "answer": partly})
        responses.append(("POST q4 partly right", resp.text))
        outcome = resp.json()
        assert resp.status_code == 201 and outcome["result"]["correct"] is False, resp.text
        assert outcome["result"]["score"] == 0 and outcome["question"]["score"] == 0
        assert outcome["score"] == 0
        for bad in (
            {"question": "q1", "answer": "nope"},
            {"question": "q2", "answer": "86421"},
            {"question": "q3", "answer": 5},
            {"question": "q9", "answer": "x"},
            {"question": "q1"},
            {"question": "q4", "answer": ITEMS[0]},
            {"question": "q4", "answer": ITEMS[:2]},
            {"question": "q4", "answer": [*ITEMS, "zz"]},
            {"question": "q4", "answer": [ITEMS[0], ITEMS[0]]},
        ):
            call("POST", f"{quiz}/answers", bad)
        call("GET", quiz)
        for path in ("scores", "extensions/cy"):
            call("GET" if path == "scores" else "PUT", f"{quiz}/{path}", {"closes_at": "x"})
        call("PATCH", quiz, {"revealed": True})
        call("PUT", quiz, {"spec": leaky_spec(quiz_id)})
        # a live round, up to the moment before its question closes
        for _ in range(5):
            teacher.ok("POST", f"{quiz}/live", {})
            live = teacher.ok("GET", f"{quiz}/live")["session"]["id"]
            call("GET", f"{quiz}/live")
            call("POST", f"courses/{COURSE}/live/{live}/join")
            shown = teacher.ok("POST", f"courses/{COURSE}/live/{live}/next", {"countdown": 60})
            items = [i["id"] for i in shown["question"].get("items", [])]
            if items != ITEMS:  # the round's own order may be the key's, one time in 120
                break
            teacher.ok("POST", f"courses/{COURSE}/live/{live}/end")
        opened = call("GET", f"courses/{COURSE}/live/{live}")["question"]["id"]
        for qid, answer in (("q1", "other"), ("q1", "right"), ("q2", 3)):
            body = {"question": qid, "answer": answer}
            call("POST", f"courses/{COURSE}/live/{live}/answers", body)
        call("GET", f"courses/{COURSE}/live/{live}")
        # self-paced answers wait for the round's end: spent now, they would grade the open
        # question aloud and, with the attempts gone, return its key
        waiting = {"question": opened, "answer": ANSWERS[opened]}
        for _ in range(3):
            assert call("POST", f"{quiz}/answers", waiting)["error"]["code"] == (
                "live_round_running"
            )
        call("GET", quiz)
        await collect(2.0)  # the coalesced scores event and the live frames arrive
        for where, text in responses:
            assert_clean(where, text)
        assert frames, "the learner's event stream carried nothing"
        for frame in frames:
            assert_clean(f"event frame {frame[:80]}", frame)
        assert_clean("the service's log", cl_hub.log_path.read_text(errors="replace"))
        # The round closes the question: as in Kahoot its players see its key (cy played),
        # and that ends cy's chance at it self-paced, attempts left or not.
        teacher.ok("POST", f"courses/{COURSE}/live/{live}/close")
        closed = cy.call("GET", f"courses/{COURSE}/live/{live}")
        assert "correct_answer" in closed.json()["results"], closed.text
        teacher.ok("POST", f"courses/{COURSE}/live/{live}/end")
        after = cy.call("POST", f"{quiz}/answers", waiting)
        assert after.status_code == 409 and after.json()["error"]["code"] == "key_shown"
    finally:
        stream.close()

    # every file cy's system account can read: cy's own kernel walks the whole file system
    cl_hub.start_server("cy")
    secret = {
        "run": _RUN,
        "markers": list(MARKERS.values()),
        "items": ITEMS,
        "gap": GAP,
        "demo": demo_key_sentences(),
        "repo": str(REPO),
    }
    # sent reversed, so nothing the kernel keeps (its history, its logs) holds any of it
    hidden = json.dumps(json.dumps(secret)[::-1])
    out, errors = await run_in_kernel(
        cl_hub.url, "cy", cl_hub.token_for("cy"), PROBE.replace("HIDDEN", hidden), timeout=900
    )
    assert not errors, errors
    result = json.loads(out)
    assert result["scanned"] > 10_000, result  # the venv alone has more
    assert result["hits"] == [], f"files cy can read hold the key: {result['hits']}"
    assert result["demo_hits"] == [], f"the checkout holds the demo's key: {result['demo_hits']}"
    # the instructor's source notebooks hold quiz specs with their keys (hw1 has one), and so
    # do the checkout's notebooks/source and its history
    assert result["private"] == {"home": "denied", "checkout": "denied", "history": "denied"}


# Runs in cy's kernel. Reads every regular file below / (not /proc, /sys or /dev, but
# /dev/shm) of at most 20 MB that cy may open. Files holding the run's id or the numeric
# answer get the full check (each marker, the ordering key's order); files in the checkout
# are searched for the demo quiz's key sentences too.
PROBE = """
import json, os, re, stat

secret = json.loads(HIDDEN[::-1])
run = secret["run"].encode()
markers = [m.encode() for m in secret["markers"]]
numbers = [m for m in markers if run not in m]
gap = b".{0,%d}?" % secret["gap"]
order = re.compile(gap.join(re.escape(i.encode()) for i in secret["items"]), re.S)
demo = [d.encode() for d in secret["demo"]]
repo = secret["repo"].rstrip("/") + "/"
skip = {"/proc", "/sys", "/dev"}
hits, demo_hits, scanned = [], [], 0


def scan(root):
    global scanned
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode) or info.st_size > 20_000_000:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            scanned += 1
            if run in data or any(n in data for n in numbers):
                if any(m in data for m in markers) or order.search(data):
                    hits.append(path)
            if path.startswith(repo) and any(d in data for d in demo):
                demo_hits.append(path)


def opened(path):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        return "read"
    except PermissionError:
        return "denied"
    except FileNotFoundError:
        return "missing"


scan("/")
scan("/dev/shm")
private = {
    "home": opened("/home/instructor/demo101/source/hw1/hw1.ipynb"),
    "checkout": opened(repo + "notebooks/source/hw1/hw1.ipynb"),
    "history": opened(repo + ".git"),
}
print(json.dumps({"hits": hits, "demo_hits": demo_hits, "scanned": scanned, "private": private}))
"""
