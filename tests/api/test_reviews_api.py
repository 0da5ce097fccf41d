"""Peer review rounds through the service and its hub (the hub API double here): opening through an
upload, reviewing through the API, every rule with a refused caller, and the anonymity probe —
nothing a reviewer can reach (responses, errors, event frames) names the author.

The demo course: learners ada, ben, cy (cohort red), dee, eli, fay (blue), a mentor and an
instructor. Each test opens its own round (a fresh assignment name), so tests do not share
state beyond the hub's people.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cohortlab.reviews.anonymize import (
    MIN_FREE_LENGTH,
    Author,
    anonymize_notebook,
    find_identifying,
)
from cohortlab.reviews.names import REPLACE
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.helpers.api import Person, event_stream
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until

COURSE = "demo101"
LEARNERS = ["ada", "ben", "cy", "dee", "eli", "fay"]
COHORT = {"ada": "red", "ben": "red", "cy": "red", "dee": "blue", "eli": "blue", "fay": "blue"}
RUBRIC = [
    {"kind": "nbgrader", "notebook": "hw", "grade_id": "essay", "max_points": 2},
    {"kind": "instructor", "id": "clarity", "title": "Clarity", "max_points": 3},
]
FULL = {"scores": {"hw:essay": {"score": 2}, "clarity": {"score": 3}}, "submit": True}


@pytest.fixture(scope="module")
def people(cl_api_hub: Hub) -> dict[str, Person]:
    return {n: Person(cl_api_hub, n) for n in [*LEARNERS, "mentor", "instructor"]}


def notebook(author: str) -> Any:
    """A submission that names its author the ways learners do: path, prose, output. A user
    name shorter than 3 characters (``cy``) is scrubbed only from home paths (replacing "cy"
    everywhere would rewrite "policy"; docs/peer-review.md), so it appears only there."""
    name = author if len(author) >= MIN_FREE_LENGTH else "me"
    return new_notebook(
        cells=[
            new_markdown_cell("# Homework"),
            new_code_cell(
                f"open('/home/{author}/data.csv')",
                outputs=[{"output_type": "stream", "name": "stdout", "text": f"{name}\n"}],
            ),
            new_markdown_cell(f"Essay by {name}: the median resists outliers."),
        ]
    )


def copy_of(author: str, key: str) -> dict[str, Any]:
    words = {author: REPLACE}  # "ben" is also a common word: staff chose to replace it
    content = anonymize_notebook(notebook(author), Author(author), secret=key, words=words)
    cells = [{"status": s} for s in ("unchanged", "changed", "changed")]
    return {"notebooks": [{"name": "hw.ipynb", "content": content, "cells": cells}]}


def path(assignment: str, rest: str = "") -> str:
    return f"courses/{COURSE}/reviews/{assignment}{rest}"


def open_round(
    people: dict[str, Person],
    authors: list[str] = LEARNERS,
    assignment: str | None = None,
    **settings: Any,
) -> str:
    """Open (or re-run) a round the way ``cohortlab review open`` does; the assignment."""
    assignment = assignment or f"hw-{uuid.uuid4().hex[:8]}"
    teacher = people["instructor"]
    body = {"authors": authors, "criteria": RUBRIC, "k": 2, **settings}
    upload = teacher.ok("POST", path(assignment, "/uploads"), body)["upload"]
    for author in upload["to_upload"]:
        teacher.ok(
            "PUT",
            path(assignment, f"/uploads/{upload['id']}/submissions/{author}"),
            copy_of(author, upload["copy_key"]),
        )
    teacher.ok("POST", path(assignment, f"/uploads/{upload['id']}/commit"))
    return assignment


def staff_view(people: dict[str, Person], assignment: str) -> dict[str, Any]:
    return people["instructor"].ok("GET", path(assignment))


def assigned(person: Person, assignment: str) -> list[int]:
    return [a["submission"] for a in person.ok("GET", path(assignment))["assignments"]]


def author_of(view: dict[str, Any], number: int) -> str:
    return next(s["author"] for s in view["submissions"] if s["number"] == number)


# --- opening ----------------------------------------------------------------------------------


def test_an_instructor_opens_a_round_and_staff_see_who_is_who(people: dict[str, Person]) -> None:
    assignment = open_round(people, across_cohorts=True)
    view = staff_view(people, assignment)
    assert view["round"]["k"] == 2 and view["round"]["submissions"] == 6
    assert {s["author"] for s in view["submissions"]} == set(LEARNERS)
    for sub in view["submissions"]:
        reviewers = [r["user"] for r in sub["reviewers"]]
        assert len(reviewers) == 2 and sub["author"] not in reviewers
        assert all(COHORT[r] != COHORT[sub["author"]] for r in reviewers)
    assert set(view["loads"].values()) == {2}
    assert "seed" not in json.dumps(view)
    mentor = people["mentor"].ok("GET", path(assignment))
    assert mentor["submissions"] == view["submissions"]
    listed = people["mentor"].ok("GET", f"courses/{COURSE}/reviews")["rounds"]
    assert any(r["assignment"] == assignment and r["assignments"] == 12 for r in listed)


def test_only_instructors_open_and_change_rounds(people: dict[str, Person]) -> None:
    assignment = f"hw-{uuid.uuid4().hex[:8]}"
    body = {"authors": LEARNERS, "k": 2}
    for who in ("ada", "mentor"):
        assert people[who].refused(403, "POST", path(assignment, "/uploads"), body) == (
            "instructor_only"
        )
    upload = people["instructor"].ok("POST", path(assignment, "/uploads"), body)["upload"]
    stage = path(assignment, f"/uploads/{upload['id']}/submissions/ada")
    copy = copy_of("ada", upload["copy_key"])
    for who in ("ben", "mentor"):
        assert people[who].refused(403, "PUT", stage, copy) == "instructor_only"
        commit = path(assignment, f"/uploads/{upload['id']}/commit")
        assert people[who].refused(403, "POST", commit) == "instructor_only"
        discard = path(assignment, f"/uploads/{upload['id']}")
        assert people[who].refused(403, "DELETE", discard) == "instructor_only"
    people["instructor"].ok("DELETE", path(assignment, f"/uploads/{upload['id']}"))
    assignment = open_round(people)
    later = {"due_at": "2031-01-01T00:00:00Z"}
    for who in ("ada", "mentor"):
        assert people[who].refused(403, "PATCH", path(assignment), later) == "instructor_only"
        ext = path(assignment, "/extensions/ada")
        assert people[who].refused(403, "PUT", ext, later) == "instructor_only"
        assert people[who].refused(403, "DELETE", ext) == "instructor_only"


def test_outsiders_are_refused_everywhere(people: dict[str, Person]) -> None:
    ada = people["ada"]
    base = "courses/other101/reviews"
    for method, rest, body in [
        ("GET", "", None),
        ("GET", "/hw", None),
        ("PATCH", "/hw", {"released": True}),
        ("POST", "/hw/uploads", {"authors": ["ada"]}),
        ("DELETE", "/hw/uploads/x", None),
        ("PUT", "/hw/uploads/x/submissions/ada", {"notebooks": []}),
        ("POST", "/hw/uploads/x/commit", None),
        ("GET", "/hw/submissions/1", None),
        ("PUT", "/hw/submissions/1/review", FULL),
        ("GET", "/hw/submissions/1/reviews", None),
        ("POST", "/hw/extra", None),
        ("PUT", "/hw/extensions/ada", {"due_at": "2031-01-01T00:00:00Z"}),
        ("DELETE", "/hw/extensions/ada", None),
    ]:
        assert ada.refused(403, method, f"{base}{rest}", body) == "not_in_course", (method, rest)


def test_bad_opens_are_refused_with_a_reason_and_leave_no_round(
    people: dict[str, Person],
) -> None:
    teacher = people["instructor"]
    assignment = f"hw-{uuid.uuid4().hex[:8]}"
    uploads = path(assignment, "/uploads")
    k_too_large = {"authors": ["ada", "ben", "dee"], "k": 3}
    resp = teacher.call("POST", uploads, k_too_large)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "too_few_reviewers"
    assert "at most 2 reviews per submission" in resp.json()["error"]["message"]
    assert teacher.refused(400, "POST", uploads, {"authors": []}) == "no_submissions"
    assert teacher.refused(400, "POST", uploads, {"authors": LEARNERS, "k": 0}) == (
        "invalid_settings"
    )
    bad_rubric = {"authors": LEARNERS, "criteria": [{"kind": "instructor", "id": "A b"}]}
    assert teacher.refused(400, "POST", uploads, bad_rubric) == "invalid_rubric"
    upload = teacher.ok("POST", uploads, {"authors": LEARNERS, "k": 2})["upload"]
    stage = path(assignment, f"/uploads/{upload['id']}/submissions")
    raw = {"notebooks": [{"name": "hw.ipynb", "content": notebook("ada")}]}
    resp = teacher.call("PUT", f"{stage}/ada", raw)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "not_anonymous"
    assert teacher.refused(400, "PUT", f"{stage}/ada", {"notebooks": [{"name": "x"}]}) == (
        "invalid_copy"
    )
    assert teacher.refused(400, "PUT", f"{stage}/ada", "{not json") == "invalid_json"
    assert teacher.refused(400, "PUT", f"{stage}/nobody", copy_of("x", upload["copy_key"])) == (
        "not_expected"
    )
    teacher.ok("PUT", f"{stage}/ada", copy_of("ada", upload["copy_key"]))
    commit = path(assignment, f"/uploads/{upload['id']}/commit")
    assert teacher.refused(409, "POST", commit) == "upload_incomplete"
    assert people["ada"].refused(404, "GET", path(assignment)) == "unknown_round"
    assert teacher.refused(404, "GET", path(assignment)) == "unknown_round"
    # a new run replaces the unfinished one
    open_round(people, assignment=assignment)
    assert teacher.refused(404, "POST", commit) == "unknown_upload"


def test_a_rerun_adds_late_submissions_and_duplicates_nothing(people: dict[str, Person]) -> None:
    assignment = open_round(people, LEARNERS[:5])
    before = staff_view(people, assignment)
    teacher = people["instructor"]
    upload = teacher.ok("POST", path(assignment, "/uploads"), {"authors": LEARNERS})["upload"]
    assert upload["to_upload"] == ["fay"] and upload["in_round"] == LEARNERS[:5]
    teacher.ok("DELETE", path(assignment, f"/uploads/{upload['id']}"))
    open_round(people, LEARNERS, assignment=assignment)
    after = staff_view(people, assignment)
    assert len(after["submissions"]) == 6
    old = {(s["number"], s["author"]) for s in before["submissions"]}
    assert old <= {(s["number"], s["author"]) for s in after["submissions"]}
    assert author_of(after, 6) == "fay"
    kept = {(s["number"], r["user"]) for s in before["submissions"] for r in s["reviewers"]}
    now = {(s["number"], r["user"]) for s in after["submissions"] for r in s["reviewers"]}
    assert kept < now
    open_round(people, LEARNERS, assignment=assignment)
    assert staff_view(people, assignment)["submissions"] == after["submissions"]


# --- reviewing --------------------------------------------------------------------------------


def test_a_reviewer_reads_only_the_copies_they_were_given(people: dict[str, Person]) -> None:
    assignment = open_round(people)
    ada = people["ada"]
    mine = assigned(ada, assignment)
    assert len(mine) == 2
    for number in sorted({1, 2, 3, 4, 5, 6, 7} - set(mine)):
        code = ada.refused(404, "GET", path(assignment, f"/submissions/{number}"))
        assert code == "unknown_submission"
        code = ada.refused(404, "PUT", path(assignment, f"/submissions/{number}/review"), FULL)
        assert code == "unknown_submission"
    assert ada.refused(404, "GET", path(assignment, "/submissions/abc")) == "unknown_submission"
    opened = ada.ok("GET", path(assignment, f"/submissions/{mine[0]}"))
    cells = opened["submission"]["notebooks"][0]["content"]["cells"]
    assert cells[1]["source"] == "open('/home/learner/data.csv')"
    assert [c["status"] for c in opened["submission"]["notebooks"][0]["cells"]] == [
        "unchanged",
        "changed",
        "changed",
    ]
    assert opened["assignment"]["state"] == "opened" and opened["review"] is None
    assert [c["key"] for c in opened["rubric"]] == ["hw:essay", "clarity"]
    view = staff_view(people, assignment)
    row = next(
        r
        for s in view["submissions"]
        if s["number"] == mine[0]
        for r in s["reviewers"]
        if r["user"] == "ada"
    )
    assert row["opened_at"] is not None
    # staff read any copy, with its author; they do not review
    staff = people["mentor"].ok("GET", path(assignment, f"/submissions/{mine[0]}"))
    assert staff["submission"]["author"] == author_of(view, mine[0])
    code = people["mentor"].refused(
        403, "PUT", path(assignment, f"/submissions/{mine[0]}/review"), FULL
    )
    assert code == "reviewers_only"


def test_reviews_are_checked_drafted_submitted_and_closed_at_the_due_date(
    people: dict[str, Person],
) -> None:
    assignment = open_round(people, due_at="2031-01-01T00:00:00Z")
    ben, dee = people["ben"], people["dee"]
    number = assigned(ben, assignment)[0]
    review = path(assignment, f"/submissions/{number}/review")
    for body, code in [
        ({"scores": {"hw:essay": {"score": 5}}}, "score_out_of_range"),
        ({"scores": {"hw:nope": {"score": 1}}}, "unknown_criterion"),
        ({"scores": {"hw:essay": {"score": 1}}, "submit": True}, "missing_scores"),
        ({"cell_comments": [{"notebook": "hw.ipynb", "cell": 9, "text": "x"}]}, "invalid_anchor"),
        ({"author": "x"}, "invalid_field"),
    ]:
        resp = ben.call("PUT", review, body)
        assert resp.status_code == 400, body
        assert resp.json()["error"]["code"] == code and resp.json()["error"]["message"]
    draft = ben.ok("PUT", review, {"scores": {"hw:essay": {"score": 1.5, "comment": "ok"}}})
    assert draft["review"]["status"] == "draft"
    comment = {"notebook": "hw.ipynb", "cell": 1, "output": 0, "text": "Check this path"}
    done = ben.ok("PUT", review, {**FULL, "comment": "Good", "cell_comments": [comment]})
    assert done["review"]["status"] == "submitted"
    assert ben.refused(409, "PUT", review, {"comment": "draft again"}) == "already_submitted"
    # past the due date nobody edits, unless the instructor extended their date
    teacher = people["instructor"]
    teacher.ok("PATCH", path(assignment), {"due_at": "2020-01-01T00:00:00Z"})
    assert ben.refused(409, "PUT", review, FULL) == "past_due"
    dee_number = assigned(dee, assignment)[0]
    dee_review = path(assignment, f"/submissions/{dee_number}/review")
    assert dee.refused(409, "PUT", dee_review, FULL) == "past_due"
    teacher.ok("PUT", path(assignment, "/extensions/dee"), {"due_at": "2031-01-01T00:00:00Z"})
    assert dee.ok("PUT", dee_review, FULL)["review"]["status"] == "submitted"
    nobody = path(assignment, "/extensions/nobody")
    later = {"due_at": "2031-01-01T00:00:00Z"}
    assert teacher.refused(404, "PUT", nobody, later) == "unknown_learner"
    teacher.ok("DELETE", path(assignment, "/extensions/dee"))
    assert dee.refused(409, "PUT", dee_review, FULL) == "past_due"
    # a closed round takes no reviews at all
    teacher.ok("PATCH", path(assignment), {"state": "closed", "due_at": None})
    assert ben.refused(409, "PUT", review, FULL) == "round_closed"


def test_extra_reviews_come_after_finishing_ones_own(people: dict[str, Person]) -> None:
    assignment = open_round(people)
    eli = people["eli"]
    assert eli.refused(409, "POST", path(assignment, "/extra")) == "reviews_unfinished"
    for number in assigned(eli, assignment):
        eli.ok("PUT", path(assignment, f"/submissions/{number}/review"), FULL)
    extra = eli.call("POST", path(assignment, "/extra"))
    assert extra.status_code == 201 and extra.json()["assignment"]["extra"] is True
    assert len(assigned(eli, assignment)) == 3
    assert people["mentor"].refused(403, "POST", path(assignment, "/extra")) == "reviewers_only"


def test_others_reviews_stay_hidden_until_release(people: dict[str, Person]) -> None:
    assignment = open_round(people)
    view = staff_view(people, assignment)
    sub = next(s for s in view["submissions"] if s["author"] == "dee")
    first, second = (r["user"] for r in sub["reviewers"])
    number = sub["number"]
    people[first].ok("PUT", path(assignment, f"/submissions/{number}/review"), FULL)
    reviews = path(assignment, f"/submissions/{number}/reviews")
    outsider = next(n for n in LEARNERS if n not in (first, second, "dee"))
    assert people[outsider].refused(404, "GET", reviews) == "unknown_submission"
    assert people[second].refused(404, "GET", reviews) == "unknown_submission"
    for who in ("dee", first):
        assert people[who].refused(403, "GET", reviews) == "not_released"
    staff = people["mentor"].ok("GET", reviews)
    assert staff["author"] == "dee" and staff["reviews"][0]["reviewer"] == first
    people["instructor"].ok("PATCH", path(assignment), {"released": True})
    shown = people["dee"].ok("GET", reviews)
    assert len(shown["reviews"]) == 1 and first not in json.dumps(shown)
    people["instructor"].ok("PATCH", path(assignment), {"names_visible": True})
    assert people["dee"].ok("GET", reviews)["reviews"][0]["reviewer"] == first


def test_a_lapsed_lease_goes_to_someone_else_when_the_list_is_read(
    people: dict[str, Person],
) -> None:
    assignment = open_round(people, lease_hours=None)
    for name in LEARNERS:
        if name != "fay":
            for number in assigned(people[name], assignment):
                people[name].ok("GET", path(assignment, f"/submissions/{number}"))
    mine = people["fay"].ok("GET", path(assignment))["assignments"]
    fays = [a["submission"] for a in mine]
    # a lease of under a second, counted from when the reviews were given: once the clock
    # is past that for the last one given to fay (the service's clock: the same machine's),
    # all of fay's have lapsed
    lease_hours = 0.0002
    people["instructor"].ok("PATCH", path(assignment), {"lease_hours": lease_hours})
    lapsed_at = max(datetime.fromisoformat(a["assigned_at"]) for a in mine) + timedelta(
        hours=lease_hours
    )
    wait_until(
        lambda: datetime.now(UTC) > lapsed_at,
        timeout=1,
        interval=0.05,
        what="fay's leases to lapse",
    )
    assert assigned(people["fay"], assignment) == []
    view = staff_view(people, assignment)
    for sub in view["submissions"]:
        states = {r["user"]: r["state"] for r in sub["reviewers"]}
        assert sum(1 for s in states.values() if s == "active") == 2
        if sub["number"] in fays:
            assert states["fay"] == "expired"
    number = fays[0]
    code = people["fay"].refused(404, "GET", path(assignment, f"/submissions/{number}"))
    assert code == "unknown_submission"


# --- anonymity --------------------------------------------------------------------------------


async def test_nothing_a_reviewer_can_reach_names_the_author(
    cl_api_hub: Hub, people: dict[str, Person]
) -> None:
    """The probe: every response, error and event frame ada can get in a round holds no other
    learner's name (as a word: ``cy`` is inside ordinary words) and no field for a person."""
    stream = await event_stream(cl_api_hub, "ada")
    try:
        assignment = await asyncio.to_thread(open_round, people, lease_hours=48)
        ada = people["ada"]
        texts: list[str] = []

        def get(method: str, rest: str, body: Any = None) -> None:
            url = path(assignment, rest) if rest != "LIST" else f"courses/{COURSE}/reviews"
            texts.append(ada.call(method, url, body).text)

        def reach() -> None:
            get("GET", "LIST")
            get("GET", "")
            for number in assigned(ada, assignment):
                get("GET", f"/submissions/{number}")
                get("PUT", f"/submissions/{number}/review", {"scores": {}})
                get("PUT", f"/submissions/{number}/review", {"comment": 1})
                get("PUT", f"/submissions/{number}/review", FULL)
                get("GET", f"/submissions/{number}/reviews")
            for number in range(1, 8):
                get("GET", f"/submissions/{number}")
                get("GET", f"/submissions/{number}/reviews")
            get("POST", "/extra")
            get("POST", "/extra")
            people["instructor"].ok("PATCH", path(assignment), {"released": True})
            for number in assigned(ada, assignment):
                get("GET", f"/submissions/{number}/reviews")

        await asyncio.to_thread(reach)
        frames = []
        while True:
            try:
                frames.append(await asyncio.wait_for(stream.read_message(), 1.0))
            except TimeoutError:
                break
        events = [json.loads(f) for f in frames if f]
        assert any(e.get("type") == "review" and e["action"] == "assigned" for e in events)
        texts += [json.dumps(e) for e in events if e.get("type") == "review"]
    finally:
        stream.close()
    others = [n for n in LEARNERS if n != "ada"]
    for text in texts:
        document = json.loads(text)
        assert find_identifying(document, others, whole_words=True) == [], text[:300]

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    found = set().union(*(keys(json.loads(t)) for t in texts))
    assert not found & {"author", "user", "user_id", "reviewer", "reviewers", "seed", "loads"}


def test_the_openapi_document_describes_the_review_routes(people: dict[str, Person]) -> None:
    doc = people["ada"].ok("GET", "openapi.json")
    assert (
        "/api/v1/courses/{course}/reviews/{assignment}/submissions/{number}/review"
        in (doc["paths"])
    )
