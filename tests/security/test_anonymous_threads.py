"""A peer reads everything the service gives them about an anonymous question and tries to
link it to its asker (issue 13, item 4: "an anonymous thread gives peers nothing that
identifies the asker").

On the real hub, in a course of its own: the asker asks, as her lab does, named and
anonymous questions on a course notebook and on a notebook of her own (its key stamped into
her file, so hers alone), with anchors fingerprinted from her copy — whose cells carry her
name and her own code. A peer with his event stream open then collects every listing,
search, count, thread, event and notification he can get, and looks for anything of the
anonymous threads that also belongs to her: her name, her notebook's key, her cells' keys,
text or hashes, her file's path. Staff, who may see the asker, get all of it (the control:
the data is there to leak).

What a peer still sees, by design: that a thread is anonymous, its title and text, its
course notebook and cell (shared by every learner's copy), and its time and id, which order
it among the asker's other posts (timing is outside this test).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cohortlab.discussions.anchoring import fingerprint

from tests.helpers.api import Person, event_stream
from tests.helpers.hub import Hub
from tests.integration.test_cohort_workspace import Course, clean_up, make_course

# The asker's own copy of the course notebook: a cell she added names her, her solution is hers.
HER_COPY = [
    {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Lab 1"},
    {
        "cell_type": "code",
        "id": "q1",
        "metadata": {"cohortlab": {"cell_key": "q1"}},
        "source": "# Ann Quist's attempt\nanswer = sorted(data)[len(data) // 2]",
    },
    {"cell_type": "code", "id": "d2b0c6b4", "metadata": {}, "source": "print('ann was here')"},
]
# A notebook only she has (its key and cell keys stamped into her file by her server).
HER_NOTES = [
    {
        "cell_type": "code",
        "id": uuid.uuid4().hex,
        "metadata": {},
        "source": f"# notes of ann ({i})\nx = {i}",
    }
    for i in range(3)
]


@pytest.fixture(scope="module")
def course(cl_hub: Hub) -> Iterator[Course]:
    c = make_course(cl_hub)
    try:
        yield c
    finally:
        clean_up(c)


def _anchor(cells: list[dict[str, Any]], index: int, path: str) -> dict[str, Any]:
    return {**fingerprint(cells, index).to_json(), "path": path}


def _secrets(asker: str, notes_key: str) -> list[str]:
    """Everything of the asker's own copy an anonymous thread could carry."""
    found = {asker, notes_key, "Ann Quist", "ann was here", "notes of ann", "mine/notes.ipynb"}
    for cells, path in ((HER_COPY, "cw/lab1.ipynb"), (HER_NOTES, "mine/notes.ipynb")):
        for i in range(len(cells)):
            anchor = fingerprint(cells, i)
            found |= {anchor.source_hash, anchor.quote[:40], path}
            found |= {h for h in (anchor.prev_hash, anchor.next_hash) if h}
    found |= {cell["id"] for cell in HER_NOTES} | {"d2b0c6b4"}
    return sorted(found)


async def _drain(hub: Hub, conn: Any, who: Person) -> list[dict[str, Any]]:
    """Every event on ``conn`` up to a pong of our own (events arrive in order)."""
    token = uuid.uuid4().hex[:12]
    who.ok("POST", "events/ping", token=token)
    events = []
    while True:
        event = json.loads(await asyncio.wait_for(conn.read_message(), 15))
        if event.get("type") == "pong" and event.get("token") == token:
            return events
        events.append(event)


async def test_a_peer_cannot_link_an_anonymous_question_to_its_asker(
    cl_hub: Hub, course: Course
) -> None:
    ann, bob, teach = course.person("ann"), course.person("bob"), course.person("teach")
    base = f"courses/{course.id}"
    lab = "lab1/lab1.ipynb"  # nbgrader's key: every learner's copy shares it
    notes = uuid.uuid4().hex  # stamped into her own notebook: hers alone
    stream = await event_stream(cl_hub, bob.name)
    try:

        def ask(title: str, **fields: Any) -> dict[str, Any]:
            body = {"kind": "question", "title": title, "body": f"{title}, @{bob.name}?"}
            return ann.ok("POST", f"{base}/threads", {**body, **fields})

        on_her_notes = {
            "notebook_key": notes,
            "cell_key": HER_NOTES[1]["id"],
            "anchor": _anchor(HER_NOTES, 1, "mine/notes.ipynb"),
        }
        on_the_lab = {
            "notebook_key": lab,
            "cell_key": "q1",
            "anchor": _anchor(HER_COPY, 1, "cw/lab1.ipynb"),
        }
        on_her_cell = {  # a cell she added to her copy of the lab: its id is hers alone
            "notebook_key": lab,
            "cell_key": "d2b0c6b4",
            "anchor": _anchor(HER_COPY, 2, "cw/lab1.ipynb"),
        }
        named = [
            ask("Named on my notes", **on_her_notes),
            ask("Named on the lab", **on_the_lab),
            ask("Named on my cell", **on_her_cell),
        ]
        hidden = [
            ask("Hidden on my notes", anonymous=True, **on_her_notes),
            ask("Hidden on the lab", anonymous=True, **on_the_lab),
            ask("Hidden on my cell", anonymous=True, **on_her_cell),
        ]
        for thread in hidden:
            # her own follow-up, sent without the anonymous flag, as a hurried reply is
            ann.ok("POST", f"{base}/threads/{thread['id']}/posts", {"body": "Any idea?"})
            bob.ok("POST", f"{base}/threads/{thread['id']}/posts", {"body": f"Try {thread['id']}"})
            ann.ok("POST", f"{base}/threads/{thread['id']}/posts", {"body": "thanks"})
        hidden_ids = {t["id"] for t in hidden}

        # Everything bob can read, as his lab would ask for it, and what he can guess to ask.
        seen: list[tuple[str, Any]] = []

        def read(what: str, path: str, **params: str) -> Any:
            data = bob.ok("GET", path, **params)
            seen.append((what, data))
            return data

        listed = {}
        for scope in ("course", "all"):
            for t in read(scope, f"{base}/threads", scope=scope)["threads"]:
                listed[t["id"]] = t
        for title in ("Hidden", "Any idea", "thanks"):
            read("search", f"{base}/threads", scope="all", q=title)
        # her notebook's key and cells are in her named thread: he lists them too
        her_key = next(t for t in listed.values() if t["id"] == named[0]["id"])["notebook_key"]
        assert her_key == notes
        on_notes = read("notebook", f"{base}/threads", notebook_key=her_key)["threads"]
        read("cell", f"{base}/threads", notebook_key=her_key, cell_key=HER_NOTES[1]["id"])
        notes_counts = read("counts", f"{base}/thread-counts", notebook_key=her_key)
        read("lab", f"{base}/threads", notebook_key=lab)
        lab_counts = read("lab counts", f"{base}/thread-counts", notebook_key=lab)
        # the id of her own cell is in her named thread on it: he lists that cell too
        her_cell = listed[named[2]["id"]]["cell_key"]
        on_her_cell_listed = read(
            "her cell", f"{base}/threads", notebook_key=lab, cell_key=her_cell
        )["threads"]
        for tid in sorted(hidden_ids | {t["id"] for t in named}):
            read("thread", f"{base}/threads/{tid}")
        read("notifications", "notifications")
        events = await _drain(cl_hub, stream, bob)
        seen.append(("events", events))
    finally:
        stream.close()

    # Both anonymous questions reached him, and he can answer them ...
    assert hidden_ids <= set(listed)
    assert {e["thread_id"] for e in events if e.get("type") == "discussion"} >= hidden_ids
    notified = dict(seen)["notifications"]["notifications"]
    assert {n["thread_id"] for n in notified} >= hidden_ids  # mentioned, and following
    # ... but listing her notebook finds only her named thread there,
    assert {t["id"] for t in on_notes} == {named[0]["id"]}
    assert notes_counts["counts"] == {HER_NOTES[1]["id"]: 1}
    assert {t["id"] for t in on_her_cell_listed} == {named[2]["id"]}
    assert lab_counts["counts"] == {"q1": 2, "d2b0c6b4": 1, "": 1}  # hers at notebook level
    # and nothing he got about an anonymous thread is also hers.
    secrets = _secrets(ann.name, notes)
    for what, data in seen:
        for item in _about(data, hidden_ids):
            text = json.dumps(item)
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{what}: {leaked} in {text}"
    lab_thread = listed[hidden[1]["id"]]
    assert (lab_thread["notebook_key"], lab_thread["cell_key"]) == (lab, "q1")  # on the cell
    assert listed[hidden[0]["id"]]["notebook_key"] is None  # in the Q&A for peers
    assert (listed[hidden[2]["id"]]["notebook_key"], listed[hidden[2]["id"]]["cell_key"]) == (
        lab,
        None,
    )  # at the lab's notebook level

    # Control: staff may see the asker, and get every one of those details.
    for thread, place in zip(hidden, (on_her_notes, on_the_lab, on_her_cell), strict=True):
        full = teach.ok("GET", f"{base}/threads/{thread['id']}")
        assert full["author"] == ann.name and full["anchor"] == place["anchor"]
        assert [p["author"] for p in full["posts"]] == [ann.name, ann.name, bob.name, ann.name]


def _about(data: Any, ids: set[int]) -> Iterator[dict[str, Any]]:
    """Every object in ``data`` that is about one of the threads ``ids`` (a thread, a post of
    one, an event or a notification about one)."""
    if isinstance(data, dict):
        is_thread = ("posts" in data or "title" in data) and data.get("id") in ids
        if is_thread or data.get("thread_id") in ids:
            yield data
        for value in data.values():
            yield from _about(value, ids)
    elif isinstance(data, list):
        for value in data:
            yield from _about(value, ids)
