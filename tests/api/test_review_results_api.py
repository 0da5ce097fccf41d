"""Peer review outcomes through the service and its hub (the hub API double here): the staff's
results table with overrides, exclusions and the aggregation method; the author's feedback after
release, with helpfulness ratings and flags that reach staff as events; a refused caller for every
route; and the anonymity probe for the author's side — nothing an author reaches names a reviewer
unless the instructor turned names on."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from cohortlab.reviews.anonymize import find_identifying

from tests.api import test_reviews_api as rounds
from tests.api.test_reviews_api import COURSE, LEARNERS, open_round, path, staff_view
from tests.helpers.api import Person, event_stream
from tests.helpers.hub import Hub

people = rounds.people  # the same fixture: the demo course's people with their tokens
ESSAY = quote("hw:essay", safe="")


def scores(essay: float, clarity: float = 3) -> dict[str, Any]:
    return {
        "scores": {
            "hw:essay": {"score": essay, "comment": "On the essay"},
            "clarity": {"score": clarity, "comment": ""},
        },
        "comment": "Well argued.",
        "cell_comments": [{"notebook": "hw.ipynb", "cell": 2, "text": "Say why"}],
        "submit": True,
    }


def reviewed_round(people: dict[str, Person]) -> tuple[str, dict[str, Any]]:
    """A round where every learner reviewed what they were given (ada generously)."""
    assignment = open_round(people)
    view = staff_view(people, assignment)
    for sub in view["submissions"]:
        for r in sub["reviewers"]:
            essay = 2 if r["user"] == "ada" else 1
            people[r["user"]].ok(
                "PUT", path(assignment, f"/submissions/{sub['number']}/review"), scores(essay)
            )
    return assignment, view


def test_staff_read_results_and_instructors_change_them(people: dict[str, Person]) -> None:
    assignment, view = reviewed_round(people)
    teacher, mentor, ben = people["instructor"], people["mentor"], people["ben"]
    table = teacher.ok("GET", path(assignment, "/results"))
    assert table["method"] == "median" and len(table["submissions"]) == 6
    first = table["submissions"][0]
    assert first["author"] == view["submissions"][0]["author"]
    assert len(first["criteria"]["hw:essay"]["peer"]) == 2 and first["reviews_counted"] == 2
    assert {r["user"] for r in table["reviewers"]} == set(LEARNERS)
    assert mentor.ok("GET", path(assignment, "/results"))["submissions"] == table["submissions"]
    assert ben.refused(403, "GET", path(assignment, "/results")) == "staff_only"
    # overrides: instructors only, in range, for a criterion that exists
    override = path(assignment, f"/overrides/1/{ESSAY}")
    for who in (ben, mentor):
        assert who.refused(403, "PUT", override, {"score": 1}) == "instructor_only"
        assert who.refused(403, "DELETE", override) == "instructor_only"
    assert teacher.refused(400, "PUT", override, {"score": 2.5}) == "score_out_of_range"
    assert teacher.refused(400, "PUT", override, {"score": None}) == "score_out_of_range"
    assert teacher.refused(404, "PUT", path(assignment, "/overrides/1/nope"), {"score": 1}) == (
        "unknown_criterion"
    )
    assert teacher.refused(404, "PUT", path(assignment, f"/overrides/x/{ESSAY}"), {"score": 1}) == (
        "unknown_submission"
    )
    teacher.ok("PUT", override, {"score": 0.5, "reason": "Peers missed the error"})
    row = teacher.ok("GET", path(assignment, "/results"))["submissions"][0]["criteria"]
    assert row["hw:essay"]["final"] == 0.5 and row["hw:essay"]["override"]["by"] == "instructor"
    assert teacher.call("DELETE", override).status_code == 204
    assert teacher.refused(404, "DELETE", override) == "no_override"
    # exclusions
    token = first["reviews"][0]["id"]
    exclusion = path(assignment, f"/exclusions/{token}")
    for who in (ben, mentor):
        assert who.refused(403, "PUT", exclusion, {"reason": "x"}) == "instructor_only"
        assert who.refused(403, "DELETE", exclusion) == "instructor_only"
    assert teacher.refused(404, "PUT", path(assignment, "/exclusions/nope"), {}) == (
        "unknown_review"
    )
    teacher.ok("PUT", exclusion, {"reason": "Off topic"})
    again = teacher.ok("GET", path(assignment, "/results"))["submissions"][0]
    assert again["reviews_counted"] == 1
    assert teacher.call("DELETE", exclusion).status_code == 204
    # the method, through the round's PATCH
    assert teacher.ok("PATCH", path(assignment), {"method": "pg1"})["round"]["method"] == "pg1"
    assert teacher.refused(400, "PATCH", path(assignment), {"method": "vote"}) == (
        "invalid_settings"
    )
    assert ben.refused(403, "PATCH", path(assignment), {"method": "mean"}) == "instructor_only"
    fitted = teacher.ok("GET", path(assignment, "/results"))
    bias = {r["user"]: r["bias"] for r in fitted["reviewers"]}
    assert bias["ada"] == max(bias.values()) > 0
    # autograde scores
    body = {"submissions": {"ada": {"total": 4.0, "max_total": 5.0}}}
    assert ben.refused(403, "PUT", path(assignment, "/autograde"), body) == "instructor_only"
    assert teacher.refused(400, "PUT", path(assignment, "/autograde"), {"x": 1}) == (
        "invalid_field"
    )
    assert teacher.ok("PUT", path(assignment, "/autograde"), body)["stored"] == 1


async def test_authors_read_rate_and_flag_their_feedback_after_release(
    cl_api_hub: Hub, people: dict[str, Person]
) -> None:
    assignment, view = await asyncio.to_thread(reviewed_round, people)
    dee, eli, teacher = people["dee"], people["eli"], people["instructor"]
    feedback = path(assignment, "/feedback")
    assert people["mentor"].refused(404, "GET", feedback) == "no_submission"
    assert dee.refused(403, "GET", feedback) == "not_released"
    await asyncio.to_thread(teacher.ok, "PATCH", path(assignment), {"released": True})
    mine = dee.ok("GET", feedback)
    assert mine["assignment"] == assignment and mine["method"] == "median"
    assert mine["submission"]["name"] == f"Submission {mine['submission']['number']}"
    assert mine["submission"]["notebooks"][0]["name"] == "hw.ipynb"
    assert [c["key"] for c in mine["rubric"]] == ["hw:essay", "clarity"]
    assert mine["scores"]["clarity"] == 3
    assert [r["label"] for r in mine["reviews"]] == ["Review 1", "Review 2"]
    review = mine["reviews"][0]
    assert review["cell_comments"][0]["text"] == "Say why" and "reviewer" not in review
    rate = path(assignment, f"/feedback/reviews/{review['id']}/helpfulness")
    flag = path(assignment, f"/feedback/reviews/{review['id']}/flag")
    # another learner reaches none of it; out-of-range ratings and empty reasons are refused
    assert eli.refused(404, "PUT", rate, {"helpfulness": 2}) == "unknown_review"
    assert eli.refused(404, "POST", flag, {"reason": "x"}) == "unknown_review"
    assert review["id"] not in json.dumps(eli.ok("GET", feedback))
    assert dee.refused(400, "PUT", rate, {"helpfulness": 6}) == "invalid_rating"
    assert dee.refused(400, "PUT", rate, {"helpfulness": 0}) == "invalid_rating"
    assert dee.refused(404, "PUT", path(assignment, "/feedback/reviews/x/helpfulness"), {
        "helpfulness": 3
    }) == "unknown_review"  # fmt: skip
    assert dee.refused(400, "POST", flag, {"reason": ""}) == "invalid_field"
    assert dee.refused(400, "POST", flag, {"reason": "x" * 2001}) == "invalid_field"
    rated = dee.ok("PUT", rate, {"helpfulness": 4})
    assert rated["helpfulness"] == 4 and rated["id"] == review["id"]
    staff_stream = await event_stream(cl_api_hub, "mentor")
    dee_stream = await event_stream(cl_api_hub, "dee")
    try:
        resp = await asyncio.to_thread(dee.call, "POST", flag, {"reason": "Mocking tone"})
        assert resp.status_code == 201 and resp.json()["review"]["flagged"] is True
        event: dict[str, Any] = {}
        while event.get("action") != "flagged":
            event = json.loads(await asyncio.wait_for(staff_stream.read_message(), 10))
        assert event["action"] == "flagged" and event["submission"] == mine["submission"]["number"]
        with_names = [n for n in LEARNERS if n != "dee"]
        assert find_identifying(event, with_names, whole_words=True) == []
        try:
            frame = await asyncio.wait_for(dee_stream.read_message(), 1.0)
            assert "flagged" not in (frame or "")
        except TimeoutError:
            pass
    finally:
        staff_stream.close()
        dee_stream.close()
    assert dee.refused(409, "POST", flag, {"reason": "again"}) == "already_flagged"
    flags = path(assignment, "/flags")
    assert dee.refused(403, "GET", flags) == "staff_only"
    [listed] = people["mentor"].ok("GET", flags)["flags"]

    def open_flags(who: Person) -> int:
        listing = who.ok("GET", f"courses/{COURSE}/reviews")["rounds"]
        return next(r for r in listing if r["assignment"] == assignment)["open_flags"]

    assert open_flags(people["mentor"]) == 1  # the staff panel's count, in the round list
    assert "open_flags" not in next(
        r
        for r in dee.ok("GET", f"courses/{COURSE}/reviews")["rounds"]
        if r["assignment"] == assignment
    )
    assert listed["author"] == "dee" and listed["reason"] == "Mocking tone"
    resolve = path(assignment, f"/flags/{listed['id']}")
    assert dee.refused(403, "PATCH", resolve, {"resolved": True}) == "staff_only"
    assert people["mentor"].refused(404, "PATCH", path(assignment, "/flags/999999"), {}) == (
        "unknown_flag"
    )
    done = people["mentor"].ok("PATCH", resolve, {"resolved": True, "resolution": "Spoke to them"})
    assert done["flag"]["resolved"] is True
    assert open_flags(teacher) == 0
    # names, once the instructor turns them on
    await asyncio.to_thread(teacher.ok, "PATCH", path(assignment), {"names_visible": True})
    sub = next(s for s in view["submissions"] if s["author"] == "dee")
    named = dee.ok("GET", feedback)["reviews"]
    assert {r["reviewer"] for r in named} == {r["user"] for r in sub["reviewers"]}


def test_nothing_an_author_reaches_names_a_reviewer(people: dict[str, Person]) -> None:
    assignment, _view = reviewed_round(people)
    people["instructor"].ok("PATCH", path(assignment), {"released": True})
    ada = people["ada"]
    texts = []
    mine = ada.ok("GET", path(assignment, "/feedback"))
    texts.append(json.dumps(mine))
    for review in mine["reviews"]:
        base = path(assignment, f"/feedback/reviews/{review['id']}")
        texts.append(ada.call("PUT", f"{base}/helpfulness", {"helpfulness": 3}).text)
        texts.append(ada.call("PUT", f"{base}/helpfulness", {"helpfulness": 9}).text)
        texts.append(ada.call("POST", f"{base}/flag", {"reason": "unkind"}).text)
        texts.append(ada.call("POST", f"{base}/flag", {"reason": "unkind"}).text)
    for method, rest, body in [
        ("GET", "/results", None),
        ("GET", "/flags", None),
        ("PATCH", "/flags/1", {"resolved": True}),
        ("PUT", f"/overrides/1/{ESSAY}", {"score": 1}),
        ("PUT", f"/exclusions/{mine['reviews'][0]['id']}", {}),
    ]:
        texts.append(ada.call(method, path(assignment, rest), body).text)
    others = [n for n in LEARNERS if n != "ada"]
    for text in texts:
        assert find_identifying(json.loads(text), others, whole_words=True) == [], text[:300]
    assert "reviewer" not in "".join(texts) and "author" not in "".join(texts)


def test_outsiders_are_refused_every_outcome_route(people: dict[str, Person]) -> None:
    ada = people["ada"]
    base = "courses/other101/reviews/hw"
    for method, rest, body in [
        ("GET", "/results", None),
        ("PUT", "/overrides/1/x", {"score": 1}),
        ("DELETE", "/overrides/1/x", None),
        ("PUT", "/exclusions/x", {}),
        ("DELETE", "/exclusions/x", None),
        ("PUT", "/autograde", {"submissions": {}}),
        ("GET", "/flags", None),
        ("PATCH", "/flags/1", {"resolved": True}),
        ("GET", "/feedback", None),
        ("PUT", "/feedback/reviews/x/helpfulness", {"helpfulness": 3}),
        ("POST", "/feedback/reviews/x/flag", {"reason": "x"}),
    ]:
        assert ada.refused(403, method, f"{base}{rest}", body) == "not_in_course", (method, rest)
    assert COURSE != "other101"


async def _review_events(stream: Any, seconds: float = 1.5) -> list[dict[str, Any]]:
    frames = []
    while True:
        try:
            frames.append(await asyncio.wait_for(stream.read_message(), seconds))
        except TimeoutError:
            break
    return [e for e in (json.loads(f) for f in frames if f) if e.get("type") == "review"]


async def test_overrides_and_exclusions_redraw_every_staff_members_results(
    cl_api_hub: Hub, people: dict[str, Person]
) -> None:
    assignment, _view = await asyncio.to_thread(reviewed_round, people)
    teacher = people["instructor"]
    first = (await asyncio.to_thread(teacher.ok, "GET", path(assignment, "/results")))[
        "submissions"
    ][0]
    mentor, ben = await event_stream(cl_api_hub, "mentor"), await event_stream(cl_api_hub, "ben")
    try:
        override = path(assignment, f"/overrides/1/{ESSAY}")
        exclusion = path(assignment, f"/exclusions/{first['reviews'][0]['id']}")

        def change() -> None:
            teacher.ok("PUT", override, {"score": 1, "reason": "Checked"})
            assert teacher.call("DELETE", override).status_code == 204
            teacher.ok("PUT", exclusion, {"reason": "Off topic"})
            assert teacher.call("DELETE", exclusion).status_code == 204

        await asyncio.to_thread(change)
        seen = await _review_events(mentor)
        told = [e for e in seen if e["action"] == "results" and e["assignment"] == assignment]
        assert len(told) == 4, seen
        assert not [e for e in await _review_events(ben, 0.5) if e["action"] == "results"]
    finally:
        mentor.close()
        ben.close()
