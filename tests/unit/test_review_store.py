"""Peer review rounds on every backend (SQLite and PostgreSQL): opening through a staged
upload that commits whole or not at all, re-runs that duplicate nothing, leases that lapse to
someone else exactly once, reviews checked and closed at the due date, and learners who learn
nobody's name."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cohortlab.access import Caller
from cohortlab.errors import APIError
from cohortlab.reviews import manage, records, reviewing
from cohortlab.reviews.anonymize import Author, anonymize_notebook
from cohortlab.reviews.names import REPLACE
from cohortlab.reviews.rubric import parse_copies
from cohortlab.store.db import connect, session_factory, session_scope
from cohortlab.store.db import upgrade as upgrade_db
from cohortlab.store.models import User
from cohortlab.store.reviews import (
    ReviewAssignment,
    ReviewRound,
    ReviewSubmission,
    ReviewUpload,
    ReviewUploadItem,
)
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from sqlalchemy import func, select

COURSE = "c1"
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
RUBRIC = [
    {"kind": "nbgrader", "notebook": "hw", "grade_id": "essay", "max_points": 2},
    {"kind": "instructor", "id": "clarity", "title": "Clarity", "max_points": 3},
]
ESSAY, CLARITY = "hw:essay", "clarity"
LEARNERS = ["ada", "ben", "cyrus", "dee", "eli", "fay"]
COHORTS = {"ada": "red", "ben": "red", "cyrus": "red", "dee": "blue", "eli": "blue", "fay": "blue"}


@pytest.fixture
def factory(cl_db_url: str) -> Iterator[Any]:
    upgrade_db(cl_db_url)
    engine = connect(cl_db_url)
    yield session_factory(engine)
    engine.dispose()


def run(factory: Any, fn: Any, *args: Any) -> Any:
    with session_scope(factory) as s:
        return fn(s, *args)


def person(factory: Any, name: str, role: str) -> Caller:
    def make(s: Any) -> int:
        user = User.find(s, name) or User(name=name)
        s.add(user)
        s.flush()
        return user.id

    cohorts = frozenset([COHORTS[name]]) if name in COHORTS else frozenset()
    return Caller(name, run(factory, make), COURSE, role, cohorts)


def roster(learners: list[str] = LEARNERS) -> dict[str, tuple[str, frozenset[str]]]:
    out: dict[str, tuple[str, frozenset[str]]] = {
        n: ("learner", frozenset([COHORTS[n]])) for n in learners
    }
    out["teacher"] = ("instructor", frozenset())
    out["mentor"] = ("mentor", frozenset())
    return out


def notebook(author: str) -> Any:
    return new_notebook(
        cells=[
            new_markdown_cell("# Homework"),
            new_code_cell(f"print('/home/{author}/data.csv')", outputs=[]),
            new_markdown_cell(f"My essay, by {author}."),
        ]
    )


def copies(author: str, key: str) -> list[dict[str, Any]]:
    # "ben" is also a common word: as if staff chose to replace it (cohortlab review open)
    words = {author: REPLACE}
    copy = anonymize_notebook(notebook(author), Author(author), secret=key, words=words)
    statuses = [{"status": s} for s in ("unchanged", "changed", "changed")]
    return parse_copies([{"name": "hw.ipynb", "content": copy, "cells": statuses}], author)


@pytest.fixture
def people(factory: Any) -> dict[str, Caller]:
    out = {n: person(factory, n, "learner") for n in LEARNERS}
    out["teacher"] = person(factory, "teacher", "instructor")
    out["mentor"] = person(factory, "mentor", "mentor")
    return out


def open_round(
    factory: Any,
    people: dict[str, Caller],
    authors: list[str],
    *,
    now: datetime = NOW,
    members: list[str] = LEARNERS,
    **settings: Any,
) -> tuple[dict[str, Any], list[str]]:
    body = {"authors": authors, "criteria": RUBRIC, "k": 2, **settings}
    started = run(factory, records.start_upload, people["teacher"], "hw", body, roster(members))
    upload = started["upload"]
    for author in upload["to_upload"]:
        stage(factory, people, upload, author)
    return run(
        factory, records.commit_upload, people["teacher"], "hw", upload["id"], roster(members), now
    )


def stage(factory: Any, people: dict[str, Caller], upload: dict[str, Any], author: str) -> None:
    nbs = copies(author, upload["copy_key"])
    run(factory, records.stage, people["teacher"], "hw", upload["id"], author, nbs)


def open_all(factory: Any, who: Caller) -> None:
    for a in mine(factory, who):
        run(factory, reviewing.open_submission, who, "hw", a["submission"], roster(), NOW)


def staff_view(factory: Any, people: dict[str, Caller], now: datetime = NOW) -> dict[str, Any]:
    return run(factory, reviewing.round_view, people["teacher"], "hw", roster(), now)[0]


def mine(factory: Any, who: Caller, now: datetime = NOW) -> list[dict[str, Any]]:
    return run(factory, reviewing.round_view, who, "hw", roster(), now)[0]["assignments"]


def refused(status: int, factory: Any, fn: Any, *args: Any) -> str:
    with pytest.raises(APIError) as info:
        run(factory, fn, *args)
    assert info.value.status_code == status, info.value.message
    assert info.value.message
    return info.value.code


def count(factory: Any, model: Any) -> int:
    return run(factory, lambda s: s.scalar(select(func.count()).select_from(model)))


# --- opening ----------------------------------------------------------------------------------


def test_opening_numbers_submissions_and_gives_each_k_reviewers_never_their_own(
    factory: Any, people: dict[str, Caller]
) -> None:
    summary, told = open_round(factory, people, LEARNERS)
    assert summary["created"] and summary["submissions"] == 6
    assert summary["added_assignments"] == 12 and sorted(told) == LEARNERS
    view = staff_view(factory, people)
    assert sorted(s["number"] for s in view["submissions"]) == [1, 2, 3, 4, 5, 6]
    for sub in view["submissions"]:
        reviewers = [r["user"] for r in sub["reviewers"]]
        assert len(set(reviewers)) == 2 and sub["author"] not in reviewers
    assert set(view["loads"].values()) == {2}
    assert [c["key"] for c in view["rubric"]] == [ESSAY, CLARITY]
    assert "seed" not in json.dumps(view)
    assert count(factory, ReviewUpload) == 0 and count(factory, ReviewUploadItem) == 0


def test_a_rerun_adds_late_submissions_and_duplicates_nothing(
    factory: Any, people: dict[str, Caller]
) -> None:
    open_round(factory, people, LEARNERS[:5])
    before = {
        (s["number"], r["user"])
        for s in staff_view(factory, people)["submissions"]
        for r in s["reviewers"]
    }
    numbers = {s["author"]: s["number"] for s in staff_view(factory, people)["submissions"]}
    started = run(
        factory, records.start_upload, people["teacher"], "hw", {"authors": LEARNERS}, roster()
    )["upload"]
    assert started["to_upload"] == ["fay"] and started["in_round"] == LEARNERS[:5]
    summary, told = open_round(factory, people, LEARNERS)
    assert summary["added_submissions"] == 1 and not summary["created"]
    view = staff_view(factory, people)
    after = {(s["number"], r["user"]) for s in view["submissions"] for r in s["reviewers"]}
    assert before < after
    assert {s["author"]: s["number"] for s in view["submissions"]}["fay"] == 6
    assert all(
        numbers[a] == n
        for a, n in ((s["author"], s["number"]) for s in view["submissions"])
        if a in numbers
    )
    again, told = open_round(factory, people, LEARNERS)
    assert again["added_submissions"] == 0 and again["added_assignments"] == 0 and told == []
    assert count(factory, ReviewSubmission) == 6


def test_k_too_large_and_no_submissions_are_refused_before_any_upload(
    factory: Any, people: dict[str, Caller]
) -> None:
    body = {"authors": ["ada", "ben", "cyrus"], "k": 3}
    code = refused(400, factory, records.start_upload, people["teacher"], "hw", body, roster())
    assert code == "too_few_reviewers"
    code = refused(
        400, factory, records.start_upload, people["teacher"], "hw", {"authors": []}, roster()
    )
    assert code == "no_submissions"
    assert count(factory, ReviewUpload) == 0 and count(factory, ReviewRound) == 0


def test_a_failed_open_leaves_no_round(factory: Any, people: dict[str, Caller]) -> None:
    body = {"authors": LEARNERS, "k": 2}
    upload = run(factory, records.start_upload, people["teacher"], "hw", body, roster())["upload"]
    for author in LEARNERS[:3]:
        stage(factory, people, upload, author)
    code = refused(
        409, factory, records.commit_upload, people["teacher"], "hw", upload["id"], roster(), NOW
    )
    assert code == "upload_incomplete"
    for author in LEARNERS[3:]:
        stage(factory, people, upload, author)
    # between start and commit five learners left the course: the allocation is impossible,
    # and the whole commit is undone
    code = refused(
        400,
        factory,
        records.commit_upload,
        people["teacher"],
        "hw",
        upload["id"],
        roster(["ada"]),
        NOW,
    )
    assert code == "too_few_reviewers"
    assert count(factory, ReviewRound) == 0 and count(factory, ReviewSubmission) == 0
    run(factory, records.discard_upload, people["teacher"], "hw", upload["id"])
    assert count(factory, ReviewUploadItem) == 0 and count(factory, ReviewUpload) == 0


def test_a_copy_that_still_names_its_author_is_refused() -> None:
    raw = notebook("cyrus")
    body = [{"name": "hw.ipynb", "content": raw}]
    with pytest.raises(APIError) as info:
        parse_copies(body, "cyrus")
    assert info.value.code == "not_anonymous" and "cells[1]" in info.value.message
    with pytest.raises(APIError) as info:
        parse_copies([{"name": "cyrus-notes.ipynb", "content": notebook("x")}], "cyrus")
    assert info.value.code == "not_anonymous"
    with pytest.raises(APIError) as info:
        parse_copies([{"name": "../hw.ipynb", "content": notebook("x")}], "cyrus")
    assert info.value.code == "invalid_copy"


def test_only_instructors_open_and_change_rounds(factory: Any, people: dict[str, Caller]) -> None:
    for who in ("ada", "mentor"):
        code = refused(
            403,
            factory,
            records.start_upload,
            people[who],
            "hw",
            {"authors": LEARNERS},
            roster(),
        )
        assert code == "instructor_only"
    open_round(factory, people, LEARNERS)
    for who in ("ada", "mentor"):
        body = {"released": True}
        assert refused(403, factory, manage.change_round, people[who], "hw", body, NOW) == (
            "instructor_only"
        )


def test_reruns_cannot_undo_the_allocation(factory: Any, people: dict[str, Caller]) -> None:
    open_round(factory, people, LEARNERS, k=2)
    teacher = people["teacher"]
    for body, code in [
        ({"authors": LEARNERS, "k": 1}, "k_lowered"),
        ({"authors": LEARNERS, "across_cohorts": True}, "constraints_changed"),
        ({"authors": LEARNERS, "seed": "x" * 32}, "seed_changed"),
    ]:
        assert refused(409, factory, records.start_upload, teacher, "hw", body, roster()) == code
    # a larger k tops every submission up
    summary, _told = open_round(factory, people, LEARNERS, k=3)
    assert summary["added_assignments"] == 6
    assert set(staff_view(factory, people)["loads"].values()) == {3}


def test_across_cohorts_gives_reviewers_from_the_other_cohort(
    factory: Any, people: dict[str, Caller]
) -> None:
    open_round(factory, people, LEARNERS, across_cohorts=True)
    for sub in staff_view(factory, people)["submissions"]:
        assert all(COHORTS[r["user"]] != COHORTS[sub["author"]] for r in sub["reviewers"])


# --- reviewing --------------------------------------------------------------------------------


def test_a_learner_reads_only_what_they_were_allocated(
    factory: Any, people: dict[str, Caller]
) -> None:
    open_round(factory, people, LEARNERS)
    ada = people["ada"]
    allocated = {a["submission"] for a in mine(factory, ada)}
    view, _ = run(factory, reviewing.round_view, ada, "hw", roster(), NOW)
    own = view["my_submission"]["number"]
    assert own not in allocated and len(allocated) == 2
    for number in sorted({1, 2, 3, 4, 5, 6, 99} - allocated):
        code = refused(404, factory, reviewing.open_submission, ada, "hw", number, roster(), NOW)
        assert code == "unknown_submission"
    number = min(allocated)
    opened, _ = run(factory, reviewing.open_submission, ada, "hw", number, roster(), NOW)
    assert opened["assignment"]["state"] == "opened"
    assert opened["submission"]["notebooks"][0]["cells"][2] == {"status": "changed", "outputs": 0}
    # staff read any copy, with its author
    staff, _ = run(factory, reviewing.open_submission, people["mentor"], "hw", own, roster(), NOW)
    assert staff["submission"]["author"] == "ada"


def test_reviews_are_checked_saved_as_drafts_and_submitted(
    factory: Any, people: dict[str, Caller]
) -> None:
    open_round(factory, people, LEARNERS)
    ben = people["ben"]
    number = mine(factory, ben)[0]["submission"]

    def save(body: dict[str, Any], who: Caller = ben) -> Any:
        return run(factory, reviewing.save_review, who, "hw", number, body, NOW)

    for body, code in [
        ({"scores": {ESSAY: {"score": 3}}}, "score_out_of_range"),
        ({"scores": {ESSAY: {"score": -1}}}, "score_out_of_range"),
        ({"scores": {ESSAY: {"score": True}}}, "score_out_of_range"),
        ({"scores": {"hw:other": {"score": 1}}}, "unknown_criterion"),
        ({"scores": {ESSAY: {"score": 1}}, "submit": True}, "missing_scores"),
        ({"cell_comments": [{"notebook": "hw.ipynb", "cell": 3, "text": "x"}]}, "invalid_anchor"),
        ({"cell_comments": [{"notebook": "x.ipynb", "cell": 0, "text": "x"}]}, "invalid_anchor"),
        ({"cell_comments": [{"notebook": "hw.ipynb", "cell": 1, "output": 0, "text": "x"}]},
         "invalid_anchor"),
        ({"cell_comments": [{"notebook": "hw.ipynb", "cell": 1, "text": " "}]}, "invalid_field"),
        ({"grade": 1}, "invalid_field"),
    ]:  # fmt: skip
        with pytest.raises(APIError) as info:
            save(body)
        assert (info.value.status_code, info.value.code) == (400, code), body
    draft, submitted = save({"scores": {ESSAY: {"score": 1.5, "comment": "clear"}}})
    assert draft["review"]["status"] == "draft" and not submitted
    full = {
        "scores": {ESSAY: {"score": 2}, CLARITY: {"score": 3, "comment": "tidy"}},
        "comment": "Well argued.",
        "cell_comments": [{"notebook": "hw.ipynb", "cell": 2, "text": "Nice point"}],
        "submit": True,
    }
    done, submitted = save(full)
    assert done["review"]["status"] == "submitted" and submitted
    assert done["assignment"]["state"] == "submitted"
    # edits until the due date keep it submitted; it cannot become a draft again
    assert save({**full, "comment": "Better."})[0]["review"]["comment"] == "Better."
    with pytest.raises(APIError) as info:
        save({"comment": "oops"})
    assert info.value.code == "already_submitted"
    # staff do not review; a learner not allocated gets the same 404 as for nothing
    with pytest.raises(APIError) as info:
        save(full, people["teacher"])
    assert info.value.status_code == 403
    other = next(
        n for n in range(1, 7) if n not in {a["submission"] for a in mine(factory, people["cyrus"])}
    )
    code = refused(404, factory, reviewing.save_review, people["cyrus"], "hw", other, full, NOW)
    assert code == "unknown_submission"


def test_reviews_close_at_the_due_date_unless_extended(
    factory: Any, people: dict[str, Caller]
) -> None:
    due = NOW + timedelta(days=1)
    open_round(factory, people, LEARNERS, due_at=due.isoformat())
    late = due + timedelta(minutes=1)
    ada, dee = people["ada"], people["dee"]
    body = {"scores": {ESSAY: {"score": 1}}}
    n_ada, n_dee = mine(factory, ada)[0]["submission"], mine(factory, dee)[0]["submission"]
    code = refused(409, factory, reviewing.save_review, ada, "hw", n_ada, body, late)
    assert code == "past_due"
    extended = (due + timedelta(days=2)).isoformat()
    run(factory, manage.set_extension, people["teacher"], "hw", "ada", {"due_at": extended})
    run(factory, reviewing.save_review, ada, "hw", n_ada, body, late)
    assert mine(factory, ada, late)[0]["can_edit"] is True
    assert mine(factory, dee, late)[0]["can_edit"] is False
    # closing the round stops everyone, extensions included
    run(factory, manage.change_round, people["teacher"], "hw", {"state": "closed"}, NOW)
    code = refused(409, factory, reviewing.save_review, ada, "hw", n_ada, body, late)
    assert code == "round_closed"
    code = refused(409, factory, reviewing.save_review, dee, "hw", n_dee, body, NOW)
    assert code == "round_closed"


def test_extra_reviews_come_after_finishing_ones_own(
    factory: Any, people: dict[str, Caller]
) -> None:
    open_round(factory, people, LEARNERS)
    eli = people["eli"]
    code = refused(409, factory, reviewing.request_extra, eli, "hw", roster(), NOW)
    assert code == "reviews_unfinished"
    full = {"scores": {ESSAY: {"score": 2}, CLARITY: {"score": 1}}, "submit": True}
    for a in mine(factory, eli):
        run(factory, reviewing.save_review, eli, "hw", a["submission"], full, NOW)
    extra, _ = run(factory, reviewing.request_extra, eli, "hw", roster(), NOW)
    assert extra["assignment"]["extra"] is True
    own = run(factory, reviewing.round_view, eli, "hw", roster(), NOW)[0]["my_submission"]
    assert extra["assignment"]["submission"] != own["number"]
    assert len(mine(factory, eli)) == 3
    assert refused(403, factory, reviewing.request_extra, people["mentor"], "hw", roster(), NOW)


def test_others_reviews_are_hidden_until_release(factory: Any, people: dict[str, Caller]) -> None:
    open_round(factory, people, LEARNERS)
    view = staff_view(factory, people)
    sub = next(s for s in view["submissions"] if s["author"] == "ada")
    number, (first, second) = sub["number"], [r["user"] for r in sub["reviewers"]]
    full = {"scores": {ESSAY: {"score": 2}, CLARITY: {"score": 1}}, "submit": True}
    run(factory, reviewing.save_review, people[first], "hw", number, full, NOW)
    outsider = next(n for n in LEARNERS if n not in (first, second, "ada"))
    assert refused(404, factory, reviewing.reviews_of, people[outsider], "hw", number) == (
        "unknown_submission"
    )
    assert refused(404, factory, reviewing.reviews_of, people[second], "hw", number) == (
        "unknown_submission"
    )  # has not reviewed yet
    for who in ("ada", first):
        code = refused(403, factory, reviewing.reviews_of, people[who], "hw", number)
        assert code == "not_released"
    staff = run(factory, reviewing.reviews_of, people["mentor"], "hw", number)
    assert staff["author"] == "ada" and staff["reviews"][0]["reviewer"] == first
    run(factory, manage.change_round, people["teacher"], "hw", {"released": True}, NOW)
    shown = run(factory, reviewing.reviews_of, people["ada"], "hw", number)
    assert len(shown["reviews"]) == 1 and "reviewer" not in shown["reviews"][0]
    assert first not in json.dumps(shown)
    run(factory, manage.change_round, people["teacher"], "hw", {"names_visible": True}, NOW)
    shown = run(factory, reviewing.reviews_of, people["ada"], "hw", number)
    assert shown["reviews"][0]["reviewer"] == first


# --- leases -----------------------------------------------------------------------------------


def test_a_lapsed_lease_goes_to_someone_else_when_read(
    factory: Any, people: dict[str, Caller]
) -> None:
    open_round(factory, people, LEARNERS, lease_hours=48)
    for name in LEARNERS:  # everyone opens their reviews but ben
        if name != "ben":
            open_all(factory, people[name])
    bens = [a["submission"] for a in mine(factory, people["ben"])]
    assert all(a["lease_expires_at"] for a in mine(factory, people["ben"]))
    later = NOW + timedelta(hours=49)
    assert run(factory, reviewing.round_view, people["teacher"], "hw", roster(), NOW)[1] == []
    view, told = run(factory, reviewing.round_view, people["teacher"], "hw", roster(), later)
    assert told and "ben" not in told
    for sub in view["submissions"]:
        rows = {r["user"]: r["state"] for r in sub["reviewers"]}
        active = [u for u, state in rows.items() if state == "active"]
        assert len(active) == 2 and sub["author"] not in active and "ben" not in active
        assert rows.get("ben") == ("expired" if sub["number"] in bens else None)
    # nothing moves twice; the lapsed reviewer no longer sees or reaches that work
    assert run(factory, reviewing.round_view, people["ada"], "hw", roster(), later)[1] == []
    assert mine(factory, people["ben"], later) == []
    for number in bens:
        code = refused(
            404, factory, reviewing.open_submission, people["ben"], "hw", number, roster(), later
        )
        assert code == "unknown_submission"


def test_leases_stay_when_nobody_can_take_them(factory: Any, people: dict[str, Caller]) -> None:
    open_round(factory, people, LEARNERS[:3], members=LEARNERS[:3], lease_hours=1)
    later = NOW + timedelta(hours=2)
    view, told = run(factory, reviewing.round_view, people["teacher"], "hw", roster(), later)
    assert told == []  # three learners, k=2: nobody else may take any of them
    assert all(r["lease_lapsed"] for s in view["submissions"] for r in s["reviewers"])
    assert len(mine(factory, people["ada"], later)) == 2


def test_racing_reads_reallocate_a_lapsed_lease_once(
    factory: Any, people: dict[str, Caller], cl_db_url: str
) -> None:
    open_round(factory, people, LEARNERS, lease_hours=1)
    for name in LEARNERS[:4]:  # they open theirs; eli's and fay's lapse
        open_all(factory, people[name])
    later = NOW + timedelta(hours=2)
    threads = 6 if not cl_db_url.startswith("sqlite") else 1
    start = threading.Barrier(threads)

    def read(who: str) -> list[str]:
        start.wait()
        return run(factory, reviewing.round_view, people[who], "hw", roster(), later)[1]

    with ThreadPoolExecutor(threads) as pool:
        told = list(pool.map(read, LEARNERS[:threads]))
    given = Counter(name for names in told for name in names)
    assert sum(1 for names in told if names) == 1
    rows = run(
        factory,
        lambda s: Counter(s.scalars(select(ReviewAssignment.state)).all()),
    )
    assert rows == {"active": 12, "expired": 4} and set(given) <= set(LEARNERS[:4])


# --- anonymity --------------------------------------------------------------------------------


def test_nothing_a_learner_receives_names_anyone(factory: Any, people: dict[str, Caller]) -> None:
    open_round(factory, people, LEARNERS, lease_hours=1)
    ada = people["ada"]
    seen: list[Any] = []
    seen.append(run(factory, reviewing.list_rounds, ada, roster(), NOW)[0])
    seen.append(run(factory, reviewing.round_view, ada, "hw", roster(), NOW)[0])
    full = {"scores": {ESSAY: {"score": 2}, CLARITY: {"score": 1}}, "submit": True}
    for a in mine(factory, ada):
        seen.append(
            run(factory, reviewing.open_submission, ada, "hw", a["submission"], roster(), NOW)[0]
        )
        seen.append(run(factory, reviewing.save_review, ada, "hw", a["submission"], full, NOW)[0])
    seen.append(run(factory, reviewing.request_extra, ada, "hw", roster(), NOW)[0])
    run(factory, manage.change_round, people["teacher"], "hw", {"released": True}, NOW)
    for a in mine(factory, ada):
        if a["state"] == "submitted":
            seen.append(run(factory, reviewing.reviews_of, ada, "hw", a["submission"]))
    text = json.dumps(seen).lower()
    for name in LEARNERS:
        if name != "ada":  # as a word: a random hex id may hold "dee" or "ada"
            assert not re.search(rf"\b{name}\b", text), name

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    assert not keys(seen) & {"author", "user", "user_id", "reviewer", "reviewers", "seed"}
