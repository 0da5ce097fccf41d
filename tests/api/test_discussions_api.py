"""Discussions through the service and its hub (tests/api: the hub API double; some also
against the real hub, tests/integration): every rule, each with a caller who is refused."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from tests.helpers.api import Person as BasePerson
from tests.helpers.api import event_stream
from tests.helpers.hub import Hub

COURSE = "demo101"


class Person(BasePerson):
    """A demo person who opens threads and replies."""

    def open(self, **fields: Any) -> dict[str, Any]:
        fields.setdefault("body", "What does this cell compute?")
        return self.ok("POST", f"courses/{COURSE}/threads", fields)

    def reply(self, thread: dict[str, Any], body: str = "A reply", **fields: Any) -> dict[str, Any]:
        return self.ok(
            "POST", f"courses/{COURSE}/threads/{thread['id']}/posts", {"body": body, **fields}
        )


@pytest.fixture(scope="module")
def cl_people(cl_api_hub: Hub) -> dict[str, Person]:
    return {
        n: Person(cl_api_hub, n)
        for n in ["ada", "ben", "cy", "dee", "eli", "fay", "mentor", "instructor"]
    }


def nb() -> str:
    return f"hw1/{uuid.uuid4().hex[:8]}.ipynb"


def test_learners_share_a_cells_threads_and_counts(cl_people: dict[str, Person]) -> None:
    ada, ben = cl_people["ada"], cl_people["ben"]
    key = nb()
    anchor = {"cell_key": "q1", "quote": "x = 1", "source_hash": "ab" * 32}
    thread = ada.open(notebook_key=key, cell_key="q1", anchor=anchor)
    assert thread["anchor"]["quote"] == "x = 1"
    listed = ben.ok("GET", f"courses/{COURSE}/threads", notebook_key=key, cell_key="q1")
    assert [t["id"] for t in listed["threads"]] == [thread["id"]]
    assert listed["threads"][0]["author"] == "ada"
    counts = ben.ok("GET", f"courses/{COURSE}/thread-counts", notebook_key=key)
    assert counts["counts"] == {"q1": 1}


def test_a_course_the_caller_is_not_in_is_refused(cl_people: dict[str, Person]) -> None:
    ada = cl_people["ada"]
    assert ada.refused(403, "GET", "courses/other101/threads") == "not_in_course"
    assert ada.refused(403, "POST", "courses/other101/threads", {"body": "hi"}) == "not_in_course"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "threads"),
        ("POST", "threads"),
        ("GET", "threads/1"),
        ("PATCH", "threads/1"),
        ("DELETE", "threads/1"),
        ("POST", "threads/1/posts"),
        ("PUT", "threads/1/follow"),
        ("DELETE", "threads/1/follow"),
        ("GET", "thread-counts?notebook_key=x"),
        ("PATCH", "posts/1"),
        ("DELETE", "posts/1"),
        ("GET", "posts/1/revisions"),
        ("PUT", "posts/1/vote"),
        ("DELETE", "posts/1/vote"),
        ("PUT", "posts/1/endorsement"),
        ("DELETE", "posts/1/endorsement"),
        ("POST", "posts/1/flags"),
        ("DELETE", "posts/1/flags"),
        ("GET", "flags"),
        ("GET", "moderation-log"),
        ("GET", "members"),
    ],
)
def test_every_course_route_refuses_someone_outside_the_course(
    cl_people: dict[str, Person], method: str, path: str
) -> None:
    body = {"body": "x"} if method in ("POST", "PATCH") else None
    assert cl_people["ada"].refused(403, method, f"courses/other101/{path}", body) == (
        "not_in_course"
    )


def test_following_a_thread_one_cannot_see_is_refused(cl_people: dict[str, Person]) -> None:
    ada, dee = cl_people["ada"], cl_people["dee"]
    thread = ada.open(visibility="cohort", cohort="red", body="red business")
    path = f"courses/{COURSE}/threads/{thread['id']}/follow"
    assert dee.refused(404, "PUT", path) == "thread_not_found"


def test_cohort_threads_are_seen_by_the_cohort_and_staff_only(cl_people: dict[str, Person]) -> None:
    ada, ben, dee, mentor = (cl_people[n] for n in ["ada", "ben", "dee", "mentor"])
    key = nb()
    thread = ada.open(notebook_key=key, visibility="cohort", cohort="red", body="red only")
    assert ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["id"] == thread["id"]
    assert mentor.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["id"] == thread["id"]
    assert dee.refused(404, "GET", f"courses/{COURSE}/threads/{thread['id']}") == "thread_not_found"
    assert dee.ok("GET", f"courses/{COURSE}/threads", notebook_key=key)["threads"] == []
    assert dee.ok("GET", f"courses/{COURSE}/thread-counts", notebook_key=key)["counts"] == {}
    assert (
        dee.refused(
            404, "POST", f"courses/{COURSE}/threads/{thread['id']}/posts", {"body": "sneaky"}
        )
        == "thread_not_found"
    )
    assert (
        ada.refused(
            403,
            "POST",
            f"courses/{COURSE}/threads",
            {"body": "x", "visibility": "cohort", "cohort": "blue"},
        )
        == "not_in_cohort"
    )


def test_staff_only_questions_are_hidden_from_peers(cl_people: dict[str, Person]) -> None:
    ada, ben, instructor = cl_people["ada"], cl_people["ben"], cl_people["instructor"]
    thread = ada.open(kind="question", visibility="staff", body="private question")
    assert ben.refused(404, "GET", f"courses/{COURSE}/threads/{thread['id']}") == "thread_not_found"
    assert instructor.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["author"] == "ada"
    assert (
        ben.refused(403, "POST", f"courses/{COURSE}/threads", {"body": "x", "visibility": "staff"})
        == "staff_only"
    )


def test_a_private_question_is_seen_by_its_asker_and_staff_only(
    cl_people: dict[str, Person],
) -> None:
    """Like a private post on Ed Discussion: ada reads her question and staff's answer,
    in every listing; ben, who reads the same listings (and may hit the same cached
    answers), never sees it."""
    ada, ben, mentor = cl_people["ada"], cl_people["ben"], cl_people["mentor"]
    key = nb()
    cell = "c-private"
    # ben reads first, so the listings are cached for learners of his class
    for who in (ben, ada):
        who.ok("GET", f"courses/{COURSE}/threads", notebook_key=key, cell_key=cell)
        who.ok("GET", f"courses/{COURSE}/thread-counts", notebook_key=key)
    thread = ada.open(
        kind="question",
        visibility="staff",
        body="private on a cell",
        notebook_key=key,
        cell_key=cell,
    )
    qa = ada.open(kind="question", visibility="staff", body="private in the Q&A")
    ada.ok("POST", "notifications/read", {"all": True})
    mentor.reply(thread, "an answer for ada only")

    def listed(who: Person, **params: str) -> set[int]:
        return {t["id"] for t in who.ok("GET", f"courses/{COURSE}/threads", **params)["threads"]}

    for first, second in ((ben, ada), (ada, ben)):  # either may fill the cache first
        for params in (
            {"notebook_key": key, "cell_key": cell},
            {"notebook_key": key},
            {"scope": "course"},
            {"scope": "all", "q": "private"},
        ):
            assert thread["id"] not in listed(ben, **params) and qa["id"] not in listed(
                ben, **params
            )
            assert {thread["id"], qa["id"]} & listed(ada, **params), params
        counts = {
            who.name: who.ok("GET", f"courses/{COURSE}/thread-counts", notebook_key=key)["counts"]
            for who in (first, second)
        }
        assert counts["ada"].get(cell) == 1 and counts["ben"].get(cell) is None
    detail = ada.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")
    assert detail["visibility"] == "staff" and detail["mine"] is True
    assert [p["body"] for p in detail["posts"]] == ["private on a cell", "an answer for ada only"]
    assert ada.ok("GET", "notifications")["unread"] == 1  # the reply, which she may open
    ada.reply(thread, "thanks")
    assert ben.refused(404, "GET", f"courses/{COURSE}/threads/{thread['id']}") == "thread_not_found"
    assert (
        ben.refused(
            404, "POST", f"courses/{COURSE}/threads/{thread['id']}/posts", {"body": "me too"}
        )
        == "thread_not_found"
    )
    # a mention of ben in a private thread tells him nothing
    ben_before = ben.ok("GET", "notifications")["unread"]
    ada.reply(thread, "@ben had the same problem")
    assert ben.ok("GET", "notifications")["unread"] == ben_before


def test_anonymous_posts_never_name_their_author_to_peers(cl_people: dict[str, Person]) -> None:
    ada, ben, mentor = cl_people["ada"], cl_people["ben"], cl_people["mentor"]
    key = nb()
    thread = ada.open(notebook_key=key, anonymous=True, body="anon question")
    ada.reply(thread, "anon follow-up", anonymous=True)
    for response in (
        ben.call("GET", f"courses/{COURSE}/threads/{thread['id']}"),
        ben.call("GET", f"courses/{COURSE}/threads", notebook_key=key),
        ben.call("GET", f"courses/{COURSE}/threads", scope="all", q="anon question"),
    ):
        assert response.status_code == 200
        assert '"ada"' not in response.text
    detail = ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")
    assert detail["author"] is None and all(p["author"] is None for p in detail["posts"])
    assert mentor.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["author"] == "ada"
    mine = ada.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")
    assert mine["author"] == "ada" and mine["mine"] is True


def test_edits_keep_history_and_only_the_author_edits(cl_people: dict[str, Person]) -> None:
    ada, ben, mentor = cl_people["ada"], cl_people["ben"], cl_people["mentor"]
    thread = ada.open(body="first words")
    post_id = thread["posts"][0]["id"]
    assert (
        ben.refused(403, "PATCH", f"courses/{COURSE}/posts/{post_id}", {"body": "ben was here"})
        == "not_author"
    )
    ada.ok("PATCH", f"courses/{COURSE}/posts/{post_id}", {"body": "better words"})
    detail = ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")
    assert detail["posts"][0]["body"] == "better words" and detail["posts"][0]["edited_at"]
    history = mentor.ok("GET", f"courses/{COURSE}/posts/{post_id}/revisions")["revisions"]
    assert [r["body"] for r in history] == ["first words"]
    assert ben.refused(403, "GET", f"courses/{COURSE}/posts/{post_id}/revisions") == "not_allowed"


def test_a_reply_answers_with_the_new_post_and_the_thread_summary(
    cl_people: dict[str, Person],
) -> None:
    ada, ben = cl_people["ada"], cl_people["ben"]
    thread = ada.open()
    ben.reply(thread, "first")
    answer = ben.reply(thread, "second, quietly", anonymous=True)
    assert set(answer) == {"post", "thread"}
    assert answer["post"]["body"] == "second, quietly" and answer["post"]["mine"] is True
    assert answer["thread"]["id"] == thread["id"] and answer["thread"]["reply_count"] == 2
    assert answer["thread"]["following"] is True and "posts" not in answer["thread"]
    shown = ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"][-1]
    assert shown == answer["post"]
    # peers never learn who posted anonymously, here either
    seen_by_ada = ada.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"][-1]
    assert seen_by_ada["author"] is None


def test_deleted_posts_stay_in_place_marked_deleted(cl_people: dict[str, Person]) -> None:
    ada, ben = cl_people["ada"], cl_people["ben"]
    thread = ada.open()
    reply = ada.reply(thread, "oops")["post"]
    assert ben.refused(403, "DELETE", f"courses/{COURSE}/posts/{reply['id']}") == "not_allowed"
    ada.ok("DELETE", f"courses/{COURSE}/posts/{reply['id']}")
    posts = ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"]
    assert posts[-1]["deleted"] is True and posts[-1]["body"] is None


def test_threads_are_deleted_softly_by_their_author_or_staff(
    cl_people: dict[str, Person],
) -> None:
    ada, ben, mentor = cl_people["ada"], cl_people["ben"], cl_people["mentor"]
    thread = ada.open(body="delete me later")
    path = f"courses/{COURSE}/threads/{thread['id']}"
    assert ben.refused(403, "DELETE", path) == "not_allowed"
    assert ben.ok("GET", path)["deleted"] is False
    ada.ok("DELETE", path)
    assert ben.refused(404, "GET", path) == "thread_not_found"
    assert mentor.ok("GET", path)["deleted"] is True  # kept, shown to staff as deleted
    other = ben.open(body="rude thread")
    mentor.ok("DELETE", f"courses/{COURSE}/threads/{other['id']}")
    log = mentor.ok("GET", f"courses/{COURSE}/moderation-log")["actions"]
    assert any(a["action"] == "delete_thread" and a["thread_id"] == other["id"] for a in log)


def test_resolve_and_accept_belong_to_the_asker_or_staff(cl_people: dict[str, Person]) -> None:
    ada, ben, cy = cl_people["ada"], cl_people["ben"], cl_people["cy"]
    thread = ada.open(kind="question", body="How do I merge frames?")
    answer = ben.reply(thread, "Use pd.merge")["post"]
    path = f"courses/{COURSE}/threads/{thread['id']}"
    assert cy.refused(403, "PATCH", path, {"resolved": True}) == "not_allowed"
    assert cy.refused(403, "PATCH", path, {"accepted_post_id": answer["id"]}) == "not_allowed"
    assert (
        ada.refused(422, "PATCH", path, {"accepted_post_id": thread["posts"][0]["id"]})
        == "invalid_answer"
    )
    before = ben.ok("GET", "notifications")["unread"]
    done = ada.ok("PATCH", path, {"accepted_post_id": answer["id"]})
    assert done["resolved"] and done["accepted_post_id"] == answer["id"]
    assert [p["accepted"] for p in done["posts"]] == [False, True]
    kinds = [n["kind"] for n in ben.ok("GET", "notifications", unread="true")["notifications"]]
    assert "answer" in kinds and ben.ok("GET", "notifications")["unread"] == before + 1
    assert ada.ok("PATCH", path, {"resolved": False})["resolved"] is False
    comment = ada.open(body="just a comment")
    assert (
        ada.refused(
            409,
            "PATCH",
            f"courses/{COURSE}/threads/{comment['id']}",
            {"accepted_post_id": answer["id"]},
        )
        == "not_a_question"
    )


def test_upvotes_count_once_and_not_for_ones_own_post(cl_people: dict[str, Person]) -> None:
    ada, ben, cy = cl_people["ada"], cl_people["ben"], cl_people["cy"]
    thread = ada.open()
    post_id = thread["posts"][0]["id"]
    assert ada.refused(409, "PUT", f"courses/{COURSE}/posts/{post_id}/vote") == "own_post"
    ben.ok("PUT", f"courses/{COURSE}/posts/{post_id}/vote")
    ben.ok("PUT", f"courses/{COURSE}/posts/{post_id}/vote")
    post = cy.ok("PUT", f"courses/{COURSE}/posts/{post_id}/vote")["posts"][0]
    assert post["votes"] == 2 and post["voted"] is True
    post = ben.ok("DELETE", f"courses/{COURSE}/posts/{post_id}/vote")["posts"][0]
    assert post["votes"] == 1 and post["voted"] is False


def test_only_staff_endorse_and_the_author_is_told(cl_people: dict[str, Person]) -> None:
    ada, ben, mentor = cl_people["ada"], cl_people["ben"], cl_people["mentor"]
    thread = ada.open(kind="question")
    answer = ben.reply(thread, "an answer")["post"]
    path = f"courses/{COURSE}/posts/{answer['id']}/endorsement"
    assert ada.refused(403, "PUT", path) == "staff_only"
    endorsed = mentor.ok("PUT", path)["posts"][-1]
    assert endorsed["endorsed"] and endorsed["endorsed_by"] == "mentor"
    kinds = [n["kind"] for n in ben.ok("GET", "notifications", unread="true")["notifications"]]
    assert "endorsement" in kinds


def test_locked_threads_take_no_learner_replies(cl_people: dict[str, Person]) -> None:
    ada, ben, mentor = cl_people["ada"], cl_people["ben"], cl_people["mentor"]
    thread = ada.open()
    path = f"courses/{COURSE}/threads/{thread['id']}"
    for flag in ("locked", "pinned", "hidden"):
        assert ada.refused(403, "PATCH", path, {flag: True}) == "staff_only"
    mentor.ok("PATCH", path, {"locked": True, "pinned": True})
    assert ben.refused(409, "POST", f"{path}/posts", {"body": "late"}) == "locked"
    assert len(ben.ok("GET", path)["posts"]) == 1  # nothing written
    mentor.reply(thread, "Closing this: see the pinned answer.")
    log = mentor.ok("GET", f"courses/{COURSE}/moderation-log")["actions"]
    assert {("lock", "mentor"), ("pin", "mentor")} <= {(a["action"], a["actor"]) for a in log}


def test_flags_reach_staff_and_hidden_posts_lose_their_body(cl_people: dict[str, Person]) -> None:
    ada, ben, cy, instructor = (cl_people[n] for n in ["ada", "ben", "cy", "instructor"])
    thread = ada.open(body="something rude")
    post_id = thread["posts"][0]["id"]
    assert ada.refused(409, "POST", f"courses/{COURSE}/posts/{post_id}/flags") == "own_post"
    ben.ok("POST", f"courses/{COURSE}/posts/{post_id}/flags", {"reason": "rude"})
    cy.ok("POST", f"courses/{COURSE}/posts/{post_id}/flags", {"reason": "spam"})
    assert ben.refused(409, "POST", f"courses/{COURSE}/posts/{post_id}/flags") == "already_flagged"
    assert ben.refused(403, "GET", f"courses/{COURSE}/flags") == "staff_only"
    flags = instructor.ok("GET", f"courses/{COURSE}/flags")["flags"]
    mine = next(f for f in flags if f["post_id"] == post_id)
    assert mine["count"] == 2 and {r["by"] for r in mine["reasons"]} == {"ben", "cy"}
    assert (
        ben.refused(403, "PATCH", f"courses/{COURSE}/posts/{post_id}", {"hidden": True})
        == "staff_only"
    )
    instructor.ok("PATCH", f"courses/{COURSE}/posts/{post_id}", {"hidden": True})
    seen = ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"][0]
    assert seen["hidden"] is True and seen["body"] is None
    staff_view = instructor.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"][0]
    assert staff_view["body"] == "something rude"
    assert all(
        f["post_id"] != post_id for f in instructor.ok("GET", f"courses/{COURSE}/flags")["flags"]
    )
    log = instructor.ok("GET", f"courses/{COURSE}/moderation-log")["actions"]
    assert any(
        a["action"] == "hide_post" and a["post_id"] == post_id and a["actor"] == "instructor"
        for a in log
    )
    assert ben.refused(403, "GET", f"courses/{COURSE}/moderation-log") == "staff_only"


def test_staff_move_threads_and_learners_cannot(cl_people: dict[str, Person]) -> None:
    ada, mentor = cl_people["ada"], cl_people["mentor"]
    key = nb()
    thread = ada.open(notebook_key=key, cell_key="old")
    path = f"courses/{COURSE}/threads/{thread['id']}"
    assert ada.refused(403, "PATCH", path, {"cell_key": "new", "notebook_key": key}) == "staff_only"
    moved = mentor.ok("PATCH", path, {"notebook_key": key, "cell_key": "new"})
    assert moved["cell_key"] == "new"
    assert ada.ok("GET", f"courses/{COURSE}/thread-counts", notebook_key=key)["counts"] == {
        "new": 1
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"body": ""}, "empty_body"),
        ({"body": "   \n"}, "empty_body"),
        ({"body": "x" * 20_001}, "too_long"),
        ({"body": "x", "colour": "red"}, "unknown_field"),
        ({"body": "x", "cell_key": "c1"}, "invalid_anchor"),
        ({"body": "x", "kind": "rant"}, "invalid_kind"),
        ({"body": "x", "visibility": "cohort"}, "missing_field"),
        ({"body": "x", "notebook_key": "n", "anchor": {"quote": 3}}, "invalid_anchor"),
        ({"body": "x", "anchor": {"quote": "q", "source_hash": "h"}}, "invalid_anchor"),
        ({"body": 42}, "invalid_field"),
        ("{not json", "invalid_json"),
        ([1, 2], "invalid_json"),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_writes_nothing(
    cl_people: dict[str, Person], body: Any, code: str
) -> None:
    fay = cl_people["fay"]
    before = len(fay.ok("GET", f"courses/{COURSE}/threads", scope="all")["threads"])
    assert fay.refused(400, "POST", f"courses/{COURSE}/threads", body) == code
    assert len(fay.ok("GET", f"courses/{COURSE}/threads", scope="all")["threads"]) == before


def test_replying_to_an_unknown_thread_or_parent_is_refused(cl_people: dict[str, Person]) -> None:
    ada = cl_people["ada"]
    assert (
        ada.refused(404, "POST", f"courses/{COURSE}/threads/999999/posts", {"body": "x"})
        == "thread_not_found"
    )
    thread = ada.open()
    other = ada.open()
    assert (
        ada.refused(
            422,
            "POST",
            f"courses/{COURSE}/threads/{thread['id']}/posts",
            {"body": "x", "parent_id": other["posts"][0]["id"]},
        )
        == "invalid_parent"
    )
    assert ada.refused(400, "GET", f"courses/{COURSE}/threads/abc") == "invalid_id"


def test_posting_too_fast_is_a_429_with_retry_after(
    cl_api_hub: Hub, cl_people: dict[str, Person]
) -> None:
    eli = cl_people["eli"]  # the only test that posts as eli: the limit is 100 per 60 s here
    thread = eli.open(body="one")
    for i in range(99):
        eli.reply(thread, f"reply {i}")
    resp = eli.call("POST", f"courses/{COURSE}/threads/{thread['id']}/posts", {"body": "too many"})
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.json()["error"]["code"] == "rate_limited"
    assert len(eli.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"]) == 100


def test_mentions_notify_only_people_who_can_see_the_thread(cl_people: dict[str, Person]) -> None:
    ada, cy, dee = cl_people["ada"], cl_people["cy"], cl_people["dee"]
    cy_before, dee_before = (
        cy.ok("GET", "notifications")["unread"],
        dee.ok("GET", "notifications")["unread"],
    )
    ada.open(visibility="cohort", cohort="red", body="@cy and @dee, look at this")
    assert cy.ok("GET", "notifications")["unread"] == cy_before + 1
    assert dee.ok("GET", "notifications")["unread"] == dee_before
    marked = cy.ok("POST", "notifications/read", {"all": True})
    assert marked["unread"] == 0
    assert cy.refused(400, "POST", "notifications/read", {"ids": "all"}) == "invalid_field"


def test_followers_are_told_of_replies_and_can_unfollow(cl_people: dict[str, Person]) -> None:
    ada, ben = cl_people["ada"], cl_people["ben"]
    thread = ada.open()
    ada.ok("POST", "notifications/read", {"all": True})
    ben.reply(thread, "first reply")
    assert ada.ok("GET", "notifications")["unread"] == 1
    ada.ok("DELETE", f"courses/{COURSE}/threads/{thread['id']}/follow")
    ben.reply(thread, "second reply")
    assert ada.ok("GET", "notifications")["unread"] == 1


def test_search_finds_visible_threads_only(cl_people: dict[str, Person]) -> None:
    ada, ben, dee = cl_people["ada"], cl_people["ben"], cl_people["dee"]
    word = uuid.uuid4().hex[:10]
    public = ada.open(body=f"about {word} in public")
    ada.open(visibility="cohort", cohort="red", body=f"about {word} in red")
    found = {
        t["id"] for t in dee.ok("GET", f"courses/{COURSE}/threads", scope="all", q=word)["threads"]
    }
    assert found == {public["id"]}
    assert len(ben.ok("GET", f"courses/{COURSE}/threads", scope="all", q=word)["threads"]) == 2


def test_course_qa_threads_have_categories(cl_people: dict[str, Person]) -> None:
    ada, ben = cl_people["ada"], cl_people["ben"]
    cat = f"setup-{uuid.uuid4().hex[:6]}"
    thread = ada.open(category=cat, kind="question", title="Kernel won't start")
    listed = ben.ok("GET", f"courses/{COURSE}/threads", category=cat)["threads"]
    assert [t["id"] for t in listed] == [thread["id"]] and listed[0]["notebook_key"] is None
    assert (
        ada.refused(
            400,
            "POST",
            f"courses/{COURSE}/threads",
            {"body": "x", "category": "c", "notebook_key": "n"},
        )
        == "invalid_category"
    )


def test_html_in_a_body_is_stored_and_returned_as_text(cl_people: dict[str, Person]) -> None:
    ada, ben = cl_people["ada"], cl_people["ben"]
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> **bold**'
    thread = ada.open(body=hostile)
    assert ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"][0]["body"] == hostile


def test_members_list_the_course_for_mentions(cl_people: dict[str, Person]) -> None:
    members = cl_people["ada"].ok("GET", f"courses/{COURSE}/members")["members"]
    assert {"name": "mentor", "role": "mentor"} in members
    assert {"name": "ben", "role": "learner"} in members
    assert [
        m["name"] for m in cl_people["ada"].ok("GET", f"courses/{COURSE}/members", q="b")["members"]
    ] == ["ben"]


async def test_changes_reach_those_who_may_see_them_within_2_seconds(
    cl_api_hub: Hub, cl_people: dict[str, Person]
) -> None:
    ben, dee = await event_stream(cl_api_hub, "ben"), await event_stream(cl_api_hub, "dee")
    try:
        thread = await asyncio.to_thread(
            cl_people["ada"].open, visibility="cohort", cohort="red", body="live"
        )
        event = json.loads(await asyncio.wait_for(ben.read_message(), 2))
        assert event["type"] == "discussion" and event["thread_id"] == thread["id"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(dee.read_message(), 1)
    finally:
        ben.close()
        dee.close()


def test_cached_reads_follow_every_write_at_once(cl_people: dict[str, Person]) -> None:
    """Reads are shared per visibility class (discussions/cache.py): each write shows at
    once, per-person fields stay per person, and a class never sees another's threads."""
    ada, ben, dee, mentor = (cl_people[n] for n in ("ada", "ben", "dee", "mentor"))
    key = nb()
    path = f"courses/{COURSE}/threads"

    def listed(who: Person) -> dict[int, dict[str, Any]]:
        return {t["id"]: t for t in who.ok("GET", path, notebook_key=key, cell_key="q1")["threads"]}

    def counts(who: Person) -> dict[str, int]:
        return who.ok("GET", f"courses/{COURSE}/thread-counts", notebook_key=key)["counts"]

    for who in (ada, ben, dee, mentor):  # prime every class's cache with empty answers
        assert listed(who) == {} and counts(who) == {}
    public = ben.open(notebook_key=key, cell_key="q1", anonymous=True)
    red = ada.open(notebook_key=key, cell_key="q1", visibility="cohort", cohort="red")
    assert set(listed(ada)) == {public["id"], red["id"]} and counts(ben) == {"q1": 2}
    assert set(listed(dee)) == {public["id"]} and counts(dee) == {"q1": 1}
    assert set(listed(mentor)) == {public["id"], red["id"]}
    # ada and ben share a class, yet the anonymous author is shown only to ben himself
    assert listed(ada)[public["id"]]["author"] is None
    assert listed(ben)[public["id"]]["author"] == "ben" and listed(ben)[public["id"]]["mine"]
    assert listed(mentor)[public["id"]]["author"] == "ben"
    # following is per person, and changes show at once
    assert not listed(ada)[public["id"]]["following"]
    ada.ok("PUT", f"{path}/{public['id']}/follow")
    assert listed(ada)[public["id"]]["following"] and listed(ben)[public["id"]]["following"]
    assert not listed(dee)[public["id"]]["following"]
    ada.reply(public)
    assert listed(dee)[public["id"]]["reply_count"] == 1
    mentor.ok("PATCH", f"{path}/{red['id']}", {"hidden": True})
    assert set(listed(ada)) == {public["id"]} and counts(ben) == {"q1": 1}
    assert listed(mentor)[red["id"]]["hidden"]


def test_staff_dismiss_flags_without_hiding_and_it_is_logged(cl_people: dict[str, Person]) -> None:
    ada, ben, mentor = (cl_people[n] for n in ["ada", "ben", "mentor"])
    thread = ada.open(body="a fair point, flagged by mistake")
    post_id = thread["posts"][0]["id"]
    flags_path = f"courses/{COURSE}/posts/{post_id}/flags"
    ben.ok("POST", flags_path, {"reason": "looks off"})
    assert ben.refused(403, "DELETE", flags_path) == "staff_only"
    assert ada.refused(403, "DELETE", flags_path) == "staff_only"
    assert any(
        f["post_id"] == post_id for f in mentor.ok("GET", f"courses/{COURSE}/flags")["flags"]
    )
    assert mentor.ok("DELETE", flags_path)["dismissed"] == 1
    assert mentor.ok("DELETE", flags_path)["dismissed"] == 0
    assert all(
        f["post_id"] != post_id for f in mentor.ok("GET", f"courses/{COURSE}/flags")["flags"]
    )
    seen = ben.ok("GET", f"courses/{COURSE}/threads/{thread['id']}")["posts"][0]
    assert seen["hidden"] is False and seen["body"] == "a fair point, flagged by mistake"
    log = mentor.ok("GET", f"courses/{COURSE}/moderation-log")["actions"]
    assert any(
        a["action"] == "dismiss_flags" and a["post_id"] == post_id and a["actor"] == "mentor"
        for a in log
    )


async def test_a_flag_is_news_for_staff_only(cl_api_hub: Hub, cl_people: dict[str, Person]) -> None:
    thread = await asyncio.to_thread(cl_people["ada"].open, body="flag me")
    mentor, cy = await event_stream(cl_api_hub, "mentor"), await event_stream(cl_api_hub, "cy")
    try:
        post_id = thread["posts"][0]["id"]
        await asyncio.to_thread(
            cl_people["ben"].ok, "POST", f"courses/{COURSE}/posts/{post_id}/flags", {}
        )
        event = json.loads(await asyncio.wait_for(mentor.read_message(), 2))
        assert (event["action"], event["thread_id"]) == ("flagged", thread["id"])
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(cy.read_message(), 1)
    finally:
        mentor.close()
        cy.close()


def test_anchor_path_is_kept_but_never_names_an_anonymous_author(
    cl_people: dict[str, Person],
) -> None:
    ada, ben, mentor = (cl_people[n] for n in ("ada", "ben", "mentor"))
    key = nb()
    anchor = {"cell_key": "q1", "quote": "x", "source_hash": "ab" * 32, "path": "ada-notes/a.ipynb"}
    named = ada.open(notebook_key=key, cell_key="q1", anchor=anchor)
    hidden = ada.open(notebook_key=key, cell_key="q1", anchor=anchor, anonymous=True)
    seen = {
        t["id"]: t for t in ben.ok("GET", f"courses/{COURSE}/threads", notebook_key=key)["threads"]
    }
    assert seen[named["id"]]["anchor"]["path"] == "ada-notes/a.ipynb"
    # peers get no anchor at all of an anonymous thread: no path, quote or hashes
    assert seen[hidden["id"]]["anchor"] is None
    assert ben.ok("GET", f"courses/{COURSE}/threads/{hidden['id']}")["anchor"] is None
    assert mentor.ok("GET", f"courses/{COURSE}/threads/{hidden['id']}")["anchor"]["path"]
    assert ada.ok("GET", f"courses/{COURSE}/threads/{hidden['id']}")["anchor"]["path"]
    for bad in ("/home/ada/a.ipynb", "../ben/a.ipynb", "a.txt", 7):
        code = ada.refused(
            400,
            "POST",
            f"courses/{COURSE}/threads",
            {"body": "x", "notebook_key": key, "cell_key": "q1", "anchor": {**anchor, "path": bad}},
        )
        assert code == "invalid_anchor"


def test_moves_carry_a_new_anchor_and_q_and_a_categories(cl_people: dict[str, Person]) -> None:
    ada, ben, instructor = (cl_people[n] for n in ("ada", "ben", "instructor"))
    key = nb()
    old = {"cell_key": "q1", "quote": "old", "source_hash": "ab" * 32}
    new = {"cell_key": "q2", "quote": "new", "source_hash": "cd" * 32}
    thread = ada.open(notebook_key=key, cell_key="q1", anchor=old)
    path = f"courses/{COURSE}/threads/{thread['id']}"
    assert ada.refused(403, "PATCH", path, {"notebook_key": key, "cell_key": "q2"}) == "staff_only"
    assert (
        instructor.refused(400, "PATCH", path, {"notebook_key": key, "anchor": new})
        == "invalid_anchor"
    )
    moved = instructor.ok("PATCH", path, {"notebook_key": key, "cell_key": "q2", "anchor": new})
    assert (moved["cell_key"], moved["anchor"]["quote"]) == ("q2", "new")
    assert instructor.refused(400, "PATCH", path, {"category": "setup"}) == "invalid_category"
    qa = instructor.ok("PATCH", path, {"notebook_key": None, "cell_key": None, "category": "setup"})
    assert (qa["notebook_key"], qa["anchor"], qa["category"]) == (None, None, "setup")
    listed = ben.ok("GET", f"courses/{COURSE}/threads", scope="course", category="setup")
    assert thread["id"] in [t["id"] for t in listed["threads"]]
    assert ben.refused(403, "PATCH", path, {"category": "other"}) == "not_allowed"
    assert ada.ok("PATCH", path, {"category": "pandas"})["category"] == "pandas"
    assert ada.ok("PATCH", path, {"category": ""})["category"] is None
    log = instructor.ok("GET", f"courses/{COURSE}/moderation-log")["actions"]
    assert sum(a["action"] == "move" and a["thread_id"] == thread["id"] for a in log) == 2
