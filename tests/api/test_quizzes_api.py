"""Self-paced quizzes through the service and its hub (the hub API double here): every rule, each
with a refused caller, and the answer key kept from learners until a question is done for them."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.api import Person
from tests.helpers.hub import Hub

COURSE = "demo101"
SECRET_FEEDBACK = "feedback-for-b-7f3a"
SECRET_EXPLANATION = "explanation-9c1e"


def spec(quiz_id: str, **settings: Any) -> dict[str, Any]:
    return {
        "id": quiz_id,
        "title": "Warm-up",
        **settings,
        "questions": [
            {
                "id": "q1",
                "type": "single",
                "prompt": "2 + 2?",
                "points": 2,
                "explanation": SECRET_EXPLANATION,
                "choices": [
                    {"id": "a", "text": "3", "correct": False, "feedback": "Count again."},
                    {"id": "b", "text": "4", "correct": True, "feedback": SECRET_FEEDBACK},
                ],
            },
            {
                "id": "q2",
                "type": "numeric",
                "prompt": "pi to two places?",
                "answer": 3.14159,
                "tolerance": 0.005,
            },
            {
                "id": "q3",
                "type": "text",
                "prompt": "Name the DataFrame library",
                "answers": ["pandas-lib-x"],
            },
        ],
    }


@pytest.fixture(scope="module")
def people(cl_api_hub: Hub) -> dict[str, Person]:
    return {n: Person(cl_api_hub, n) for n in ["ada", "ben", "dee", "mentor", "instructor"]}


def new_quiz(people: dict[str, Person], **settings: Any) -> str:
    quiz_id = f"quiz-{uuid.uuid4().hex[:8]}"
    created = people["instructor"].ok(
        "PUT", f"courses/{COURSE}/quizzes/{quiz_id}", {"spec": spec(quiz_id, **settings)}
    )
    assert created["quiz"]["id"] == quiz_id
    return quiz_id


def path(quiz_id: str, rest: str = "") -> str:
    return f"courses/{COURSE}/quizzes/{quiz_id}{rest}"


def test_publish_then_a_learner_sees_questions_without_the_key(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people, attempts=2)
    view = people["ada"].ok("GET", path(quiz_id))
    text = json.dumps(view)
    for secret in ("correct", SECRET_FEEDBACK, SECRET_EXPLANATION, "3.14159", "pandas-lib-x"):
        assert secret not in text.replace('"correct": null', ""), secret
    assert [q["id"] for q in view["quiz"]["questions"]] == ["q1", "q2", "q3"]
    assert view["quiz"]["attempts"] == 2 and view["quiz"]["open"] is True
    assert view["score"] == 0 and view["max_score"] == 4
    assert "spec" not in view
    # the instructor's view carries the spec with its key
    staff = people["instructor"].ok("GET", path(quiz_id))
    assert staff["spec"]["questions"][1]["answer"] == 3.14159


def test_a_wrong_attempt_with_attempts_left_says_only_wrong(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people, attempts=2)
    ada = people["ada"]
    first = ada.ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "a"})
    assert first["result"]["correct"] is False
    assert first["result"]["feedback"] == ["Count again."]
    assert first["result"]["attempts_left"] == 1
    assert "correct_answer" not in first["result"] and "explanation" not in first["result"]
    assert SECRET_EXPLANATION not in json.dumps(first)
    second = ada.ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"})
    assert second["result"]["correct"] is True and second["result"]["done"] is True
    assert second["result"]["correct_answer"] == "b"
    assert second["result"]["explanation"] == SECRET_EXPLANATION
    assert second["score"] == 2
    # a third attempt is refused and nothing is recorded
    code = ada.refused(409, "POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"})
    assert code == "no_attempts_left"
    state = ada.ok("GET", path(quiz_id))["state"]["q1"]
    assert state["attempts_used"] == 2 and state["score"] == 2


def test_counting_last_attempt(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people, attempts=3, counting="last")
    ben = people["ben"]
    ben.ok("POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.14})
    out = ben.ok("POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.0})
    assert out["question"]["score"] == 0 and out["score"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"question": "q1", "answer": "zz"}, "invalid_answer"),
        ({"question": "q1", "answer": ["b"]}, "invalid_answer"),
        ({"question": "q2", "answer": "3.14"}, "invalid_answer"),
        ({"question": "nope", "answer": "b"}, "unknown_question"),
        ({"question": "q1"}, "invalid_answer"),
        ({"question": "q1", "answer": "b", "user": "ben"}, "invalid_answer"),
    ],
)
def test_malformed_answers_are_refused_and_cost_nothing(
    people: dict[str, Person], body: dict[str, Any], code: str
) -> None:
    quiz_id = new_quiz(people)
    assert people["ada"].refused(400, "POST", path(quiz_id, "/answers"), body) == code
    assert people["ada"].ok("GET", path(quiz_id))["state"]["q1"]["attempts_used"] == 0


def test_closed_and_not_yet_open_quizzes_refuse_answers(people: dict[str, Person]) -> None:
    now = datetime.now(UTC)
    closed = new_quiz(
        people,
        opens=(now - timedelta(days=2)).isoformat(),
        closes=(now - timedelta(days=1)).isoformat(),
    )
    ada = people["ada"]
    answer = {"question": "q1", "answer": "a"}
    assert ada.refused(409, "POST", path(closed, "/answers"), answer) == "quiz_closed"
    # once closed, the key is shown to everyone
    view = ada.ok("GET", path(closed))
    assert view["quiz"]["status"] == "closed"
    assert view["state"]["q1"]["correct_answer"] == "b"
    later = new_quiz(people, opens=(now + timedelta(days=1)).isoformat())
    assert ada.refused(409, "POST", path(later, "/answers"), answer) == "quiz_not_open"


def test_an_extension_lets_one_learner_answer_late(people: dict[str, Person]) -> None:
    now = datetime.now(UTC)
    quiz_id = new_quiz(people, closes=(now - timedelta(hours=1)).isoformat())
    later = (now + timedelta(days=1)).isoformat()
    ext_path = path(quiz_id, "/extensions/ada")
    # learners and mentors may not grant extensions
    assert people["ben"].refused(403, "PUT", ext_path, {"closes_at": later}) == "instructor_only"
    assert people["mentor"].refused(403, "PUT", ext_path, {"closes_at": later}) == "instructor_only"
    code = people["instructor"].refused(
        404, "PUT", path(quiz_id, "/extensions/nobody"), {"closes_at": later}
    )
    assert code == "unknown_learner"
    assert people["instructor"].refused(400, "PUT", ext_path, {"closes_at": "soon"}) == (
        "invalid_time"
    )
    people["instructor"].ok("PUT", ext_path, {"closes_at": later})
    people["ada"].ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"})
    assert people["ben"].refused(
        409, "POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"}
    ) == ("quiz_closed")
    people["instructor"].ok("DELETE", ext_path)
    assert people["ada"].refused(
        409, "POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.14}
    ) == ("quiz_closed")


def test_revealing_shows_the_key_to_learners(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people, attempts=3)
    assert "correct_answer" not in people["dee"].ok("GET", path(quiz_id))["state"]["q2"]
    assert people["ada"].refused(403, "PATCH", path(quiz_id), {"revealed": True}) == (
        "instructor_only"
    )
    people["instructor"].ok("PATCH", path(quiz_id), {"revealed": True})
    state = people["dee"].ok("GET", path(quiz_id))["state"]
    assert state["q2"]["correct_answer"] == {"answer": 3.14159, "tolerance": 0.005}
    assert state["q3"]["correct_answer"] == "pandas-lib-x"
    # revealed answers end the quiz: nothing is taken (or scored) after them (issue 13)
    for who in ("dee", "ben"):
        code = people[who].refused(
            409, "POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.14159}
        )
        assert code == "quiz_revealed"
    # hiding them again reopens the quiz, but not the questions dee has been shown
    people["instructor"].ok("PATCH", path(quiz_id), {"revealed": False})
    code = people["dee"].refused(
        409, "POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.14159}
    )
    assert code == "key_shown"
    people["ben"].ok("POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.14159})


def test_settings_changes_are_checked(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people)
    teacher = people["instructor"]
    assert teacher.refused(400, "PATCH", path(quiz_id), {"attempts": 0}) == "invalid_settings"
    assert teacher.refused(400, "PATCH", path(quiz_id), {"counting": "worst"}) == (
        "invalid_settings"
    )
    assert teacher.refused(400, "PATCH", path(quiz_id), {"closes_at": "2026-01-01T00:00"}) == (
        "invalid_settings"
    )
    assert teacher.refused(400, "PATCH", path(quiz_id), {"colour": "red"}) == "invalid_field"
    changed = teacher.ok("PATCH", path(quiz_id), {"attempts": 4, "closes_at": "2030-01-01T09:00Z"})
    assert changed["quiz"]["attempts"] == 4
    assert changed["quiz"]["closes_at"] == "2030-01-01T09:00:00Z"


def test_publishing_is_for_instructors_and_checks_the_spec(people: dict[str, Person]) -> None:
    quiz_id = f"quiz-{uuid.uuid4().hex[:8]}"
    body = {"spec": spec(quiz_id)}
    for who in ("ada", "mentor"):
        assert people[who].refused(403, "PUT", path(quiz_id), body) == "instructor_only"
    teacher = people["instructor"]
    bad = spec(quiz_id)
    bad["questions"][0]["choices"][1]["correct"] = False
    resp = teacher.call("PUT", path(quiz_id), {"spec": bad})
    assert resp.status_code == 400
    assert "questions[0]" in resp.json()["error"]["message"]
    assert teacher.refused(400, "PUT", path(quiz_id), {"spec": "id: [unclosed"}) == "invalid_spec"
    assert teacher.refused(409, "PUT", path("other-id"), body) == "id_mismatch"
    assert teacher.refused(400, "PUT", path(quiz_id), {"spec": spec(quiz_id), "x": 1}) == (
        "invalid_field"
    )
    # nothing was stored by the refusals
    assert people["ada"].refused(404, "GET", path(quiz_id)) == "unknown_quiz"
    # YAML text is accepted; republishing bumps the version
    yaml_text = (
        f"id: {quiz_id}\ntitle: T\nquestions:\n- {{id: q, type: numeric, prompt: p, answer: 1}}\n"
    )
    assert teacher.call("PUT", path(quiz_id), {"spec": yaml_text}).status_code == 201
    again = teacher.ok("PUT", path(quiz_id), {"spec": yaml_text})
    assert again["quiz"]["version"] == 2


def test_outsiders_are_refused_everywhere(people: dict[str, Person], cl_api_hub: Hub) -> None:
    quiz_id = new_quiz(people)
    ada = people["ada"]
    for method, rest, body in [
        ("GET", "", None),
        ("PUT", "", {"spec": spec(quiz_id)}),
        ("PATCH", "", {"attempts": 2}),
        ("POST", "/answers", {"question": "q1", "answer": "b"}),
        ("PUT", "/extensions/ada", {"closes_at": "2030-01-01T00:00Z"}),
        ("DELETE", "/extensions/ada", None),
        ("GET", "/scores", None),
        ("GET", "/leaderboard", None),
    ]:
        code = ada.refused(403, method, f"courses/other101/quizzes/{quiz_id}{rest}", body)
        assert code == "not_in_course"
    for method, rest in [
        ("GET", "quizzes"),
        ("GET", "leaderboard"),
        ("GET", "leaderboard/settings"),
        ("PUT", "leaderboard/settings"),
        ("PUT", "leaderboard/opt-in"),
        ("DELETE", "leaderboard/opt-in"),
    ]:
        body = {"names": "real"} if method == "PUT" else None
        assert ada.refused(403, method, f"courses/other101/{rest}", body) == "not_in_course"
    # the lookup searches only the caller's courses
    assert ada.ok("GET", f"quizzes/{quiz_id}")["courses"] == [COURSE]
    assert ada.refused(404, "GET", "quizzes/no-such-quiz") == "unknown_quiz"


def test_scores_for_instructors_as_json_and_csv(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people)
    people["ada"].ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"})
    people["ben"].ok("POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.1416})
    for who in ("ada", "mentor"):
        assert people[who].refused(403, "GET", path(quiz_id, "/scores")) == "instructor_only"
    scores = people["instructor"].ok("GET", path(quiz_id, "/scores"))
    by_user = {row["user"]: row for row in scores["scores"]}
    assert set(by_user) == {"ada", "ben", "cy", "dee", "eli", "fay"}
    assert by_user["ada"]["score"] == 2 and by_user["ben"]["score"] == 1
    assert by_user["cy"]["score"] == 0 and by_user["cy"]["answered"] == 0
    resp = people["instructor"].call("GET", path(quiz_id, "/scores"), format="csv")
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert {r["user"]: r["score"] for r in rows}["ada"] == "2.0"


def test_staff_answers_are_previews_not_records(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people)
    out = people["mentor"].ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"})
    assert out["preview"] is True and out["result"]["correct"] is True
    scores = people["instructor"].ok("GET", path(quiz_id, "/scores"))
    assert all(row["user"] != "mentor" for row in scores["scores"])
    assert people["mentor"].ok("GET", path(quiz_id))["state"]["q1"]["attempts_used"] == 0


def test_the_openapi_document_holds_no_key(people: dict[str, Person], cl_api_hub: Hub) -> None:
    quiz_id = new_quiz(people)
    doc = people["ada"].ok("GET", "openapi.json")
    text = json.dumps(doc)
    assert quiz_id not in text and SECRET_FEEDBACK not in text and SECRET_EXPLANATION not in text


def _names(board: dict[str, Any]) -> list[str]:
    return [row["name"] for row in board["top"]]


def test_leaderboards_name_people_as_the_course_chooses(people: dict[str, Person]) -> None:
    quiz_id = new_quiz(people)
    ada, ben, dee, teacher = people["ada"], people["ben"], people["dee"], people["instructor"]
    board_path = path(quiz_id, "/leaderboard")
    assert ada.ok("GET", board_path)["top"] == []  # no scores yet
    ada.ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "b"})
    ben.ok("POST", path(quiz_id, "/answers"), {"question": "q2", "answer": 3.14})
    dee.ok("POST", path(quiz_id, "/answers"), {"question": "q1", "answer": "a"})
    try:
        # default: aliases for learners; my own row is marked
        board = ada.ok("GET", board_path)
        assert board["names"] == "alias" and board["total"] == 3
        assert [row["rank"] for row in board["top"]] == [1, 2, 3]
        assert not {"ada", "ben", "dee"} & set(_names(board))
        assert board["me"]["rank"] == 1 and board["me"]["me"] is True
        my_alias = ada.ok("GET", f"courses/{COURSE}/leaderboard/settings")["alias"]
        assert board["me"]["name"] == my_alias
        # staff always see real names
        assert _names(people["mentor"].ok("GET", board_path)) == ["ada", "ben", "dee"]
        # only instructors choose the rule
        body = {"names": "opt_in"}
        assert ada.refused(403, "PUT", f"courses/{COURSE}/leaderboard/settings", body) == (
            "instructor_only"
        )
        teacher.ok("PUT", f"courses/{COURSE}/leaderboard/settings", body)
        ben.ok("PUT", f"courses/{COURSE}/leaderboard/opt-in")
        names = _names(ada.ok("GET", board_path))
        assert "ben" in names and "dee" not in names and "ada" not in names
        teacher.ok("PUT", f"courses/{COURSE}/leaderboard/settings", {"names": "real"})
        assert _names(dee.ok("GET", board_path)) == ["ada", "ben", "dee"]
        # a cohort's board is for its members (ada and ben are red, dee is blue)
        red = ada.ok("GET", board_path, scope="cohort", cohort="red")
        assert _names(red) == ["ada", "ben"]
        assert ada.refused(403, "GET", board_path, scope="cohort", cohort="blue") == (
            "not_in_cohort"
        )
        assert _names(dee.ok("GET", board_path, scope="cohort")) == ["dee"]
        assert ada.refused(400, "GET", board_path, limit="0") == "invalid_limit"
        assert ada.refused(400, "GET", board_path, scope="world") == "invalid_scope"
        # the course board sums over quizzes; near_me surrounds me
        course_board = ben.ok("GET", f"courses/{COURSE}/leaderboard", limit="1")
        assert len(course_board["top"]) == 1 and course_board["me"]["name"] == "ben"
        assert any(row["me"] for row in course_board["near_me"])
        assert people["mentor"].refused(400, "PUT", f"courses/{COURSE}/leaderboard/opt-in") == (
            "not_ranked"
        )
    finally:
        teacher.ok("PUT", f"courses/{COURSE}/leaderboard/settings", {"names": "alias"})
        ben.ok("DELETE", f"courses/{COURSE}/leaderboard/opt-in")
