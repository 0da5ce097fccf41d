"""The cached thread listing, serialised once per visibility class, is the very document the
per-viewer rendering gives: the same author rules (anonymous to peers, never to staff or the
author), the same anchor path rule, and each viewer's own "mine" and "following"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cohortlab.access import Caller
from cohortlab.discussions.threads import ThreadRow, listing_json, prerender, render_rows


def _base(thread_id: int, anonymous: bool, title: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "course": "c1",
        "notebook_key": "hw1/a.ipynb",
        "cell_key": "q1",
        "anchor": {"quote": "x = 1", "path": "/home/ada/hw1/a.ipynb"},
        "location": None,
        "category": None,
        "kind": "question",
        "title": title,
        "visibility": "course",
        "cohort": None,
        "anonymous": anonymous,
        "resolved": False,
        "pinned": thread_id == 2,
        "locked": False,
        "hidden": False,
        "deleted": False,
        "accepted_post_id": None,
        "reply_count": thread_id * 3,
        "created_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
        "last_activity_at": None,
    }


ROWS = [
    ThreadRow(_base(1, False, 'Why "median"? <script>x</script> é'), 10, "ada"),
    ThreadRow(_base(2, True, "anonymous question"), 10, "ada"),
    ThreadRow(_base(3, True, "ben's anonymous one"), 11, "ben"),
    ThreadRow(_base(4, False, "no name known"), 12, None),
]


def _caller(user_id: int, role: str) -> Caller:
    return Caller(name=f"u{user_id}", user_id=user_id, course="c1", role=role, cohorts=frozenset())


@pytest.mark.parametrize(
    "viewer",
    [_caller(10, "learner"), _caller(11, "learner"), _caller(99, "learner"),
     _caller(98, "mentor"), _caller(10, "instructor")],
)  # fmt: skip
@pytest.mark.parametrize("followed", [frozenset(), frozenset({2, 3})])
def test_the_prerendered_listing_is_what_each_viewer_would_get(
    viewer: Caller, followed: frozenset[int]
) -> None:
    expected = json.dumps(
        {"threads": render_rows(ROWS, viewer, followed)}, separators=(",", ":"), default=str
    )
    assert listing_json(prerender(ROWS, viewer.is_staff), viewer, followed) == expected


def test_peers_of_an_anonymous_author_get_neither_name_nor_path() -> None:
    peer = json.loads(listing_json(prerender(ROWS, False), _caller(99, "learner"), frozenset()))
    anonymous = [t for t in peer["threads"] if t["anonymous"]]
    assert [t["author"] for t in anonymous] == [None, None]
    assert [t["anchor"] for t in anonymous] == [None, None]  # no quote, hashes or path
    own = json.loads(listing_json(prerender(ROWS, False), _caller(10, "learner"), frozenset()))
    assert [t["author"] for t in own["threads"] if t["id"] == 2] == ["ada"]


def test_an_empty_listing() -> None:
    assert listing_json(prerender([], False), _caller(1, "learner"), frozenset()) == (
        '{"threads":[]}'
    )
