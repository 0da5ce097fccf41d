"""What peers get of an anonymous thread (``discussions.views``, ``visibility.placed_filter``)
and who is still told of a thread (``notify.may_be_notified``, ``visible_in_any``): the pure
rules, then the same rules in SQL against a real database on each backend."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from cohortlab.access import Caller
from cohortlab.discussions import notify, posts, threads
from cohortlab.discussions.ratelimit import RateLimit
from cohortlab.discussions.schemas import new_post, new_thread
from cohortlab.discussions.views import course_notebook, peer_location, post_anonymous
from cohortlab.people import record_seen
from cohortlab.store.db import connect, session_scope, upgrade
from cohortlab.store.db import session_factory as make_factory

COURSE = "c101"
LIMIT = RateLimit(posts=100, seconds=60)
STAMPED = "0f" * 16  # a key stamped into one notebook file (anchoring.stamp_notebook_key)
ANCHOR = {
    "cell_key": "c-1",
    "quote": "ada_lovelace = solve()",
    "source_hash": "a" * 64,
    "prev_hash": "b" * 64,
    "next_hash": None,
    "path": "mine/ada.ipynb",
}


def test_only_nbgraders_assignment_keys_are_course_notebooks() -> None:
    assert course_notebook("hw1/a.ipynb")
    assert not course_notebook(STAMPED)
    assert not course_notebook(None)


def test_a_named_thread_is_placed_as_stored() -> None:
    assert peer_location(STAMPED, "c-1", ANCHOR, False) == (STAMPED, "c-1", ANCHOR)


def test_peers_of_an_anonymous_thread_get_the_shared_keys_and_no_anchor() -> None:
    for kind in ("grade_id", "stamp"):
        anchor = {**ANCHOR, "key_kind": kind}
        assert peer_location("hw1/a.ipynb", "q1", anchor, True) == ("hw1/a.ipynb", "q1", None)


def test_a_cell_only_the_asker_may_have_is_kept_from_peers() -> None:
    # a bare cell id: a cell she added to her copy
    anchor = {**ANCHOR, "key_kind": "id"}
    assert peer_location("hw1/a.ipynb", "c-1", anchor, True) == ("hw1/a.ipynb", None, None)


def test_an_anchor_that_does_not_say_its_key_kind_is_placed_as_before() -> None:
    # made before key_kind was kept, or opened through the API without an anchor
    for anchor in (ANCHOR, None):
        assert peer_location("hw1/a.ipynb", "c-1", anchor, True) == ("hw1/a.ipynb", "c-1", None)


def test_peers_of_an_anonymous_thread_on_a_stamped_notebook_get_no_key() -> None:
    assert peer_location(STAMPED, "c-1", ANCHOR, True) == (None, None, None)


def test_the_askers_replies_in_an_anonymous_thread_are_anonymous() -> None:
    thread = SimpleNamespace(anonymous=True, author_id=1)
    assert post_anonymous(False, 1, thread)
    assert not post_anonymous(False, 2, thread)
    assert post_anonymous(True, 2, thread)
    assert not post_anonymous(False, 1, SimpleNamespace(anonymous=False, author_id=1))


def _thread(**kw):
    base = dict(
        author_id=1, visibility="course", cohort=None, hidden=False, deleted_at=None, course="c"
    )
    return SimpleNamespace(**{**base, **kw})


def test_a_follower_who_left_the_course_or_cohort_is_not_notified() -> None:
    members = {"ada": (False, frozenset({"red"})), "sam": (True, frozenset())}
    cohort = _thread(visibility="cohort", cohort="red")
    assert notify.may_be_notified(cohort, "ada", 2, members)
    assert notify.may_be_notified(cohort, "sam", 3, members)
    assert not notify.may_be_notified(cohort, "ben", 4, members)  # left the course
    moved = {"ada": (False, frozenset({"blue"}))}
    assert not notify.may_be_notified(cohort, "ada", 2, moved)  # moved to another cohort
    assert not notify.may_be_notified(_thread(hidden=True), "ada", 2, members)


@pytest.fixture
def cl_course(cl_db_url: str):
    upgrade(cl_db_url)
    engine = connect(cl_db_url)
    factory = make_factory(engine)
    people = {n: record_seen(factory, n) for n in ("ada", "ben", "cy")}
    members = {n: (False, frozenset({"red"})) for n in people}

    def caller(name: str, role: str = "learner", cohorts: frozenset[str] = frozenset({"red"})):
        return Caller(name, people[name], COURSE, role, cohorts)

    yield factory, caller, members, people
    engine.dispose()


def _open(factory, who: Caller, members, **body) -> int:
    data = {"kind": "question", "body": "Why?", "title": "t", **body}
    with session_scope(factory) as s:
        thread, _ = threads.open_thread(s, who, new_thread(data), members, LIMIT)
    return thread["id"]


def _listing(factory, who: Caller, **query) -> list[dict]:
    query = {"notebook_key": None, "cell_key": None, "category": None, "q": None, **query}
    with session_scope(factory) as s:
        rows = threads.thread_rows(s, who, **query)
        followed = threads.followed_ids(s, who)
    return json.loads(threads.listing_json(threads.prerender(rows, who.is_staff), who, followed))[
        "threads"
    ]


def test_an_anonymous_thread_on_a_stamped_notebook_leaves_the_notebook_for_peers(
    cl_course,
) -> None:
    factory, caller, members, _people = cl_course
    ada, ben = caller("ada"), caller("ben")
    staff = caller("cy", "instructor", frozenset())
    cell = {"notebook_key": STAMPED, "cell_key": "c-1", "anchor": ANCHOR}
    named = _open(factory, ada, members, **cell)
    anonymous = _open(factory, ada, members, anonymous=True, **cell)

    peer_notebook = _listing(factory, ben, notebook_key=STAMPED, scope="notebook")
    assert _listing(factory, ben, notebook_key=STAMPED, cell_key="c-1", scope="notebook") == [
        t for t in peer_notebook
    ]
    assert [t["id"] for t in peer_notebook] == [named]
    with session_scope(factory) as s:
        assert threads.thread_counts(s, ben, STAMPED) == {"c-1": 1}
        assert threads.thread_counts(s, ben, STAMPED, own_private=False) == {"c-1": 1}
        assert threads.thread_counts(s, ada, STAMPED) == {"c-1": 2}
        assert threads.private_askers(s, COURSE) == frozenset({ada.user_id})
    peer_qa = _listing(factory, ben, scope="course")
    assert [t["id"] for t in peer_qa] == [anonymous]
    assert peer_qa[0]["author"] is None and peer_qa[0]["anchor"] is None
    assert (peer_qa[0]["notebook_key"], peer_qa[0]["cell_key"]) == (None, None)
    for scope in ("all", "course"):
        for t in _listing(factory, ben, scope=scope):
            if t["id"] == anonymous:
                assert STAMPED not in json.dumps(t) and "c-1" not in json.dumps(t)

    own = _listing(factory, ada, notebook_key=STAMPED, scope="notebook")
    assert sorted(t["id"] for t in own) == sorted([named, anonymous])
    assert not _listing(factory, ada, scope="course")
    staff_view = _listing(factory, staff, notebook_key=STAMPED, scope="notebook")
    assert {t["id"]: t["anchor"]["quote"] for t in staff_view}[anonymous] == ANCHOR["quote"]


def test_an_anonymous_thread_on_a_cell_she_added_shows_at_notebook_level_to_peers(
    cl_course,
) -> None:
    factory, caller, members, _people = cl_course
    ada, ben = caller("ada"), caller("ben")
    lab = "hw1/a.ipynb"
    added = {**ANCHOR, "key_kind": "id"}
    stamped = {**ANCHOR, "cell_key": "q1", "key_kind": "stamp"}
    named = _open(factory, ada, members, notebook_key=lab, cell_key="c-1", anchor=added)
    hidden = _open(
        factory, ada, members, notebook_key=lab, cell_key="c-1", anchor=added, anonymous=True
    )
    on_q1 = _open(
        factory, ada, members, notebook_key=lab, cell_key="q1", anchor=stamped, anonymous=True
    )
    # ben lists the cell whose key her named thread shows: only that thread is there
    cell = _listing(factory, ben, notebook_key=lab, cell_key="c-1", scope="notebook")
    assert [t["id"] for t in cell] == [named]
    listed = {t["id"]: t for t in _listing(factory, ben, notebook_key=lab, scope="notebook")}
    assert (listed[hidden]["cell_key"], listed[on_q1]["cell_key"]) == (None, "q1")
    with session_scope(factory) as s:
        assert threads.thread_counts(s, ben, lab) == {"c-1": 1, "": 1, "q1": 1}
        assert threads.thread_counts(s, ben, lab, own_private=False) == {"c-1": 1, "": 1, "q1": 1}
        assert threads.thread_counts(s, ada, lab) == {"c-1": 2, "q1": 1}
        assert threads.private_askers(s, COURSE) == frozenset({ada.user_id})
    mine = _listing(factory, ada, notebook_key=lab, cell_key="c-1", scope="notebook")
    assert sorted(t["id"] for t in mine) == sorted([named, hidden])


def test_the_askers_reply_in_her_anonymous_thread_does_not_name_her(cl_course) -> None:
    factory, caller, members, _people = cl_course
    ada, ben = caller("ada"), caller("ben")
    tid = _open(factory, ada, members, anonymous=True)
    with session_scope(factory) as s:
        data, _ = posts.reply(s, ada, tid, new_post({"body": "thanks!"}), members, LIMIT)
    assert data["post"]["author"] == "ada"  # she sees her own name
    with session_scope(factory) as s:
        seen = threads.read_thread(s, ben, tid)
    assert [p["author"] for p in seen["posts"]] == [None, None]
    assert "ada" not in json.dumps(seen)


def test_a_follower_removed_from_the_course_gets_no_notification(cl_course) -> None:
    factory, caller, members, people = cl_course
    ada, ben, cy = caller("ada"), caller("ben"), caller("cy")
    tid = _open(factory, ada, members, visibility="cohort", cohort="red")
    with session_scope(factory) as s:
        posts.reply(s, ben, tid, new_post({"body": "me too"}), members, LIMIT)
    left = {"ada": members["ada"], "cy": members["cy"]}  # ben left the course
    with session_scope(factory) as s:
        _data, outcome = posts.reply(s, cy, tid, new_post({"body": "an answer"}), left, LIMIT)
    assert outcome.notified == [people["ada"]]
    with session_scope(factory) as s:
        assert notify.unread_count(s, people["ben"], [ben]) == 0
        assert notify.unread_count(s, people["ada"], [ada]) == 2


def test_notifications_are_read_only_about_threads_the_reader_may_see_now(cl_course) -> None:
    factory, caller, members, people = cl_course
    ada, ben = caller("ada"), caller("ben")
    tid = _open(factory, ada, members, visibility="cohort", cohort="red")
    with session_scope(factory) as s:
        posts.reply(s, ben, tid, new_post({"body": "me too"}), members, LIMIT)
    with session_scope(factory) as s:
        assert [
            n.thread_id
            for n in notify.list_notifications(s, people["ada"], [ada], unread_only=False)
        ] == [tid]
        # moved to another cohort, out of the course, or in no course at all
        for callers in (
            [caller("ada", cohorts=frozenset({"blue"}))],
            [],
        ):
            assert notify.list_notifications(s, people["ada"], callers, unread_only=False) == []
            assert notify.unread_count(s, people["ada"], callers) == 0
