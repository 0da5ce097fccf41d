"""Replies against a real database on each backend: the busiest write, built from table
statements (an INSERT ... SELECT for followers' notifications), checked on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import pytest
from cohortlab.access import Caller
from cohortlab.discussions import posts, threads
from cohortlab.discussions.ratelimit import RateLimit
from cohortlab.discussions.schemas import new_post, new_thread
from cohortlab.errors import APIError
from cohortlab.people import record_seen
from cohortlab.store.db import connect, session_scope, upgrade
from cohortlab.store.db import session_factory as make_factory
from cohortlab.store.discussions import Notification, Post
from sqlalchemy import select

COURSE = "c101"
LIMIT = RateLimit(posts=100, seconds=60)


@pytest.fixture
def cl_course(cl_db_url: str):
    upgrade(cl_db_url)
    engine = connect(cl_db_url)
    factory = make_factory(engine)
    people = {n: record_seen(factory, n) for n in ("ada", "ben", "cy", "dee")}
    members = {n: (False, frozenset()) for n in people}

    def caller(name: str) -> Caller:
        return Caller(name, people[name], COURSE, "learner", frozenset())

    yield factory, caller, members, people
    engine.dispose()


def _open(factory, who: Caller, members) -> int:
    body = new_thread(
        {"notebook_key": "hw1/a.ipynb", "cell_key": "c1", "kind": "question", "body": "Why?"}
    )
    with session_scope(factory) as s:
        data, _ = threads.open_thread(s, who, body, members, LIMIT)
    return data["id"]


def _reply(factory, who: Caller, tid: int, members, text: str, **extra):
    with session_scope(factory) as s:
        return posts.reply(s, who, tid, new_post({"body": text, **extra}), members, LIMIT)


def test_a_reply_notifies_every_follower_but_its_author(cl_course) -> None:
    factory, caller, members, people = cl_course
    tid = _open(factory, caller("ada"), members)
    _reply(factory, caller("ben"), tid, members, "first")
    _reply(factory, caller("cy"), tid, members, "second")
    data, outcome = _reply(factory, caller("ben"), tid, members, "third")
    assert sorted(outcome.notified) == sorted([people["ada"], people["cy"]])
    assert data["thread"]["reply_count"] == 3 and data["post"]["body"] == "third"
    assert data["thread"]["author"] == "ada" and data["post"]["author"] == "ben"
    with session_scope(factory) as s:
        rows = s.scalars(select(Notification).where(Notification.thread_id == tid)).all()
        last = s.scalar(select(Post.id).where(Post.thread_id == tid).order_by(Post.id.desc()))
    got = sorted((n.user_id, n.post_id, n.kind, n.course) for n in rows if n.post_id == last)
    assert got == sorted(
        [(people["ada"], last, "reply", COURSE), (people["cy"], last, "reply", COURSE)]
    )
    assert all(n.created_at.tzinfo is not None and n.read_at is None for n in rows)


def test_a_refused_reply_writes_nothing(cl_course) -> None:
    factory, caller, members, _people = cl_course
    tid = _open(factory, caller("ada"), members)
    with pytest.raises(APIError):
        _reply(factory, caller("ben"), tid, members, "to nowhere", parent_id=999_999)
    with session_scope(factory) as s:
        assert s.scalars(select(Post).where(Post.thread_id == tid)).all()[-1].body == "Why?"
        assert not s.scalars(select(Notification)).all()
