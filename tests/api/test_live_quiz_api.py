"""Live quiz rounds through the service and its hub (the hub API double here): the instructor paces,
learners join and answer, answers close at zero on the service's clock, results and the leaderboard
reach every player's event stream, and every rule has a refused caller."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from tests.helpers.api import Person, event_stream
from tests.helpers.hub import Hub

COURSE = "demo101"
EXPLANATION = "live-explanation-51d0"


def live_spec(quiz_id: str) -> dict[str, Any]:
    return {
        "id": quiz_id,
        "title": "Live warm-up",
        "live": {"countdown": 30},
        "questions": [
            {
                "id": "q1",
                "type": "single",
                "prompt": "Which is a DataFrame library?",
                "explanation": EXPLANATION,
                "choices": [
                    {"id": "a", "text": "pandas", "correct": True},
                    {"id": "b", "text": "requests", "correct": False},
                ],
            },
            {"id": "q2", "type": "numeric", "prompt": "6 * 7?", "answer": 42},
        ],
    }


@pytest.fixture(scope="module")
def people(cl_api_hub: Hub) -> dict[str, Person]:
    return {n: Person(cl_api_hub, n) for n in ["ada", "ben", "dee", "mentor", "instructor"]}


def start_round(people: dict[str, Person], **body: Any) -> tuple[str, int]:
    quiz_id = f"live-{uuid.uuid4().hex[:8]}"
    teacher = people["instructor"]
    teacher.ok("PUT", f"courses/{COURSE}/quizzes/{quiz_id}", {"spec": live_spec(quiz_id)})
    view = teacher.ok("POST", f"courses/{COURSE}/quizzes/{quiz_id}/live", body)
    assert view["session"]["phase"] == "lobby"
    return quiz_id, view["session"]["id"]


def live(session_id: int, rest: str = "") -> str:
    return f"courses/{COURSE}/live/{session_id}{rest}"


async def next_event(conn: Any, action: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next ``live`` event with ``action`` (others, such as discussion news, skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        event = json.loads(await asyncio.wait_for(conn.read_message(), max(0.01, left)))
        if event.get("type") == "live" and event.get("action") == action:
            return event


async def test_a_round_from_lobby_to_results(cl_api_hub: Hub, people: dict[str, Person]) -> None:
    quiz_id, sid = start_round(people)
    ada, ben, teacher = people["ada"], people["ben"], people["instructor"]
    streams = {n: await event_stream(cl_api_hub, n) for n in ("ada", "ben", "dee", "instructor")}
    try:
        assert ada.ok("POST", live(sid, "/join"))["joined"] is True
        # the host's screen counts the room
        assert (await next_event(streams["instructor"], "player_joined"))["players"] == 1
        ben.ok("POST", live(sid, "/join"))
        # nothing to answer in the lobby
        early = {"question": "q1", "answer": "a"}
        assert ada.refused(409, "POST", live(sid, "/answers"), early) == "live_state"
        opened = await asyncio.to_thread(teacher.ok, "POST", live(sid, "/next"))
        assert opened["question"]["id"] == "q1" and 29 < opened["session"]["remaining"] <= 30
        assert "correct" not in json.dumps(opened["question"])
        event = await next_event(streams["ada"], "question_opened")
        assert event["state"]["question"] == 0 and event["state"]["players"] == 2
        ack = ada.ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "a"})
        assert ack == {"received": True, "question": "q1", "elapsed": ack["elapsed"]}
        ben.ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "b"})
        # once only; the answer is not graded aloud while the question is open
        assert ada.refused(409, "POST", live(sid, "/answers"), early) == "already_answered"
        mine = ada.ok("GET", live(sid))
        assert mine["my_answer"] == {"answered": True, "answer": "a"} and "results" not in mine
        assert EXPLANATION not in json.dumps(mine)
        # the quiz takes no self-paced answers while its round runs: they would be graded
        # aloud during the countdown
        self_paced = f"courses/{COURSE}/quizzes/{quiz_id}/answers"
        assert ben.refused(409, "POST", self_paced, {"question": "q1", "answer": "b"}) == (
            "live_round_running"
        )
        teacher.ok("POST", live(sid, "/close"))
        closed = await next_event(streams["ben"], "question_closed")
        results = closed["results"]
        # the round's players see the closed question's key, as in Kahoot; recorded, it
        # ends their chance at q1 self-paced (below)
        assert results["correct_answer"] == "a"
        counts = {c["id"]: c["count"] for c in results["distribution"]["choices"]}
        assert counts == {"a": 1, "b": 1}
        board = results["leaderboard"]
        assert board["total"] == 2 and board["top"][0]["score"] > 500
        assert {"ada", "ben"}.isdisjoint(row["name"] for row in board["top"])  # aliases
        staff_board = (await next_event(streams["instructor"], "question_closed"))["results"]
        assert [row["name"] for row in staff_board["leaderboard"]["top"]] == ["ada", "ben"]
        assert staff_board["correct_answer"] == "a"
        # the view now shows ada her points and the explanation
        after = ada.ok("GET", live(sid))
        assert after["my_answer"]["correct"] is True and after["my_answer"]["points"] > 500
        assert after["results"]["correct_answer"] == "a"
        assert after["results"]["explanation"] == EXPLANATION
        assert after["results"]["leaderboard"]["me"]["rank"] == 1
        # a closed question takes no more answers
        assert people["ben"].refused(
            409, "POST", live(sid, "/answers"), {"question": "q1", "answer": "a"}
        ) == ("live_state")
        teacher.ok("POST", live(sid, "/next"))
        teacher.ok("POST", live(sid, "/end"))
        ended = await next_event(streams["ada"], "ended")
        assert ended["state"]["phase"] == "ended"
        # the end closed q2: its results come with the end, and its key to ada, a player
        assert ended["results"]["question"] == "q2"
        assert ended["results"]["correct_answer"]["answer"] == 42
        # dee never joined: the end reaches her too, so her notebook stops offering to join,
        # but a player's key does not
        dees = await next_event(streams["dee"], "ended")
        assert dees["state"]["phase"] == "ended" and "correct_answer" not in dees["results"]
        assert ada.refused(409, "POST", live(sid, "/join")) == "live_state"
        # ben saw q1's key when the round closed it: the quiz, open self-paced again now the
        # round is over, takes no answer of his to q1
        assert ben.refused(409, "POST", self_paced, {"question": "q1", "answer": "a"}) == (
            "key_shown"
        )
        # the quiz's current round is the ended one, until a new one starts
        assert ada.ok("GET", f"courses/{COURSE}/quizzes/{quiz_id}/live")["session"]["id"] == sid
    finally:
        for conn in streams.values():
            conn.close()


async def test_the_countdown_closes_the_question_on_the_service(
    cl_api_hub: Hub, people: dict[str, Person]
) -> None:
    _quiz, sid = start_round(people)
    ada, teacher = people["ada"], people["instructor"]
    ada.ok("POST", live(sid, "/join"))
    stream = await event_stream(cl_api_hub, "ada")
    try:
        teacher.ok("POST", live(sid, "/next"), {"countdown": 5})
        started = time.monotonic()
        closed = await next_event(stream, "question_closed", timeout=10)
        waited = time.monotonic() - started
        assert 4.0 < waited < 6.5, waited
        assert closed["results"]["distribution"]["no_answer"] == 1
        code = ada.refused(409, "POST", live(sid, "/answers"), {"question": "q1", "answer": "a"})
        assert code == "live_state"
        # the instructor's close after zero says it is already closed
        assert teacher.refused(409, "POST", live(sid, "/close")) == "live_state"
        teacher.ok("POST", live(sid, "/end"))
    finally:
        stream.close()


def test_live_rules_each_refuse_the_wrong_caller(people: dict[str, Person]) -> None:
    quiz_id, sid = start_round(people)
    ada, dee, teacher = people["ada"], people["dee"], people["instructor"]
    start = f"courses/{COURSE}/quizzes/{quiz_id}/live"
    assert ada.refused(403, "POST", start, {}) == "instructor_only"
    assert people["mentor"].refused(403, "POST", start, {}) == "instructor_only"
    assert teacher.refused(409, "POST", start, {}) == "session_running"
    for step in ("next", "close", "end"):
        assert ada.refused(403, "POST", live(sid, f"/{step}")) == "instructor_only"
    assert people["mentor"].refused(400, "POST", live(sid, "/join")) == "not_a_player"
    teacher.ok("POST", live(sid, "/next"))
    body = {"question": "q1", "answer": "a"}
    assert dee.refused(403, "POST", live(sid, "/answers"), body) == "not_joined"
    dee.ok("POST", live(sid, "/join"))  # late joiners are welcome
    assert dee.refused(400, "POST", live(sid, "/answers"), {"question": "zz", "answer": "a"}) == (
        "unknown_question"
    )
    assert dee.refused(400, "POST", live(sid, "/answers"), {"question": "q1", "answer": 3}) == (
        "invalid_answer"
    )
    assert dee.refused(409, "POST", live(sid, "/answers"), {"question": "q2", "answer": 42}) == (
        "live_state"
    )
    assert dee.refused(400, "POST", live(sid, "/answers"), {"question": "q1"}) == "invalid_answer"
    assert dee.refused(404, "GET", live(sid + 10_000)) == "unknown_session"
    assert dee.refused(400, "GET", f"courses/{COURSE}/live/abc") == "invalid_id"
    assert teacher.refused(400, "POST", live(sid, "/next"), {"countdown": 2}) == "invalid_field"
    assert teacher.refused(409, "POST", live(sid, "/next")) == "live_state"  # q1 still open
    for method, rest in [
        ("GET", ""),
        ("POST", "/join"),
        ("POST", "/answers"),
        ("POST", "/next"),
        ("POST", "/close"),
        ("POST", "/end"),
    ]:
        body = {"question": "q1", "answer": "a"} if rest == "/answers" else None
        path = f"courses/other101/live/{sid}{rest}"
        assert ada.refused(403, method, path, body) == "not_in_course"
    assert ada.refused(403, "POST", f"courses/other101/quizzes/{quiz_id}/live", {}) == (
        "not_in_course"
    )
    teacher.ok("POST", live(sid, "/end"))
    assert teacher.refused(409, "POST", live(sid, "/end")) == "live_state"


def test_cohorts_compete_by_their_mean(people: dict[str, Person]) -> None:
    _quiz, sid = start_round(people, team_mode="cohorts")
    teacher = people["instructor"]
    for name in ("ada", "ben", "dee"):
        people[name].ok("POST", live(sid, "/join"))
    teacher.ok("POST", live(sid, "/next"))
    people["ada"].ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "a"})
    people["ben"].ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "b"})
    people["dee"].ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "a"})
    teacher.ok("POST", live(sid, "/close"))
    teams = people["dee"].ok("GET", live(sid))["results"]["teams"]
    by_team = {t["team"]: t for t in teams}
    # red (ada right, ben wrong) averages half of blue (dee right), whatever its size
    assert by_team["blue"]["rank"] == 1 and by_team["blue"]["members"] == 1
    assert by_team["red"]["members"] == 2
    assert by_team["red"]["score"] < by_team["blue"]["score"]
    assert (
        teacher.refused(
            400,
            "POST",
            f"courses/{COURSE}/quizzes/{_quiz}/live",
            {"team_mode": "teams"},
        )
        == "missing_field"
    )
    teacher.ok("POST", live(sid, "/end"))


def test_teams_inside_a_cohort_compete_by_their_mean(
    cl_api_hub: Hub, people: dict[str, Person]
) -> None:
    """Teams are hub groups marked ``{"cohortlab": {"kind": "team", ...}}`` inside a cohort
    (red: ada, ben, cy); only the team's members who joined count."""
    suffix = uuid.uuid4().hex[:6]
    teams = {f"t{suffix}-a": ["ada"], f"t{suffix}-b": ["ben", "cy"]}
    for team, members in teams.items():
        group = f"team-{COURSE}-red-{team}"
        cl_api_hub.admin("POST", f"/groups/{group}", json={"users": members})
        cl_api_hub.admin(
            "PUT",
            f"/groups/{group}/properties",
            json={"cohortlab": {"kind": "team", "course": COURSE, "cohort": "red", "team": team}},
        )
    teacher = people["instructor"]
    quiz_id, sid = start_round(people, team_mode="teams", team_cohort="red")
    for name in ("ada", "ben"):
        people[name].ok("POST", live(sid, "/join"))
    teacher.ok("POST", live(sid, "/next"))
    people["ada"].ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "b"})
    people["ben"].ok("POST", live(sid, "/answers"), {"question": "q1", "answer": "a"})
    teacher.ok("POST", live(sid, "/close"))
    view = people["ben"].ok("GET", live(sid))
    assert view["session"]["team_mode"] == "teams" and view["me"]["team"] == f"t{suffix}-b"
    by_team = {t["team"]: t for t in view["results"]["teams"]}
    # team b wins on ben alone (cy did not join), team a scored nothing
    assert by_team[f"t{suffix}-b"]["rank"] == 1 and by_team[f"t{suffix}-b"]["members"] == 1
    assert by_team[f"t{suffix}-a"]["score"] == 0
    teacher.ok("POST", live(sid, "/end"))
    code = teacher.refused(
        404,
        "POST",
        f"courses/{COURSE}/quizzes/{quiz_id}/live",
        {"team_mode": "teams", "team_cohort": "green"},
    )
    assert code == "unknown_cohort"


def test_a_quiz_cannot_change_during_its_live_round(people: dict[str, Person]) -> None:
    """Answers are scored against the quiz as it is: new questions mid-round would score
    earlier answers against a key nobody saw. The same quiz again (generate_assignment run
    twice) is fine; a change waits for the round's end."""
    quiz_id, sid = start_round(people)
    teacher = people["instructor"]
    quiz = f"courses/{COURSE}/quizzes/{quiz_id}"
    teacher.ok("PUT", quiz, {"spec": live_spec(quiz_id)})  # unchanged: allowed
    changed = live_spec(quiz_id)
    changed["questions"][1]["answer"] = 43
    assert teacher.refused(409, "PUT", quiz, {"spec": changed}) == "live_round_running"
    assert teacher.ok("GET", quiz)["spec"]["questions"][1]["answer"] == 42  # nothing written
    teacher.ok("POST", live(sid, "/end"))
    assert teacher.ok("PUT", quiz, {"spec": changed})["quiz"]["version"] == 3
