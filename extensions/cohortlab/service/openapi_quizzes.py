"""OpenAPI paths and schemas for quizzes (merged into openapi.py).

No schema here describes a key field for learners: ``correct_answer`` and ``explanation``
appear only where the quiz policy lets the learner see them, i.e. once they can no longer
earn credit for the question in any mode (``cohortlab.quizzes.policy``, docs/quizzes.md).
"""

from __future__ import annotations

from typing import Any

from .openapi_discussions import COURSE, MEMBER, _op, _path_params, _ref

QUIZ = f"{COURSE}/quizzes/{{quiz}}"
INSTRUCTOR = "An instructor of the course (formgrade- group); others get 403"
ANSWER_ERRORS = (400, 401, 403, 404, 409)
KEY_WHEN = (
    "only once the key may be shown: the learner can no longer earn credit for the question "
    "(no attempts left, the quiz closed for them, or revealed) and no running live round has "
    "it still to close"
)
SELF_PACED_REFUSALS = (
    "; 409 codes: quiz_not_open, quiz_closed, quiz_revealed, no_attempts_left, "
    "live_round_running (answer in the round; taken again when it ends), key_shown (you "
    "have been shown this question's answer), answer_in_progress"
)


def quiz_paths() -> dict[str, Any]:
    quiz_params = _path_params("course", "quiz")
    return {
        "/api/v1/quizzes/{quiz}": {
            "parameters": _path_params("quiz"),
            "get": _op(
                "findQuiz",
                "Which of my courses has a quiz with this id",
                "A hub user; only their own courses are searched",
                ok=(200, _ref("QuizLookup")),
            ),
        },
        f"{COURSE}/quizzes": {
            "parameters": _path_params("course"),
            "get": _op(
                "listQuizzes",
                "The course's quizzes, with my score in each",
                MEMBER,
                ok=(
                    200,
                    {
                        "type": "object",
                        "properties": {"quizzes": {"type": "array", "items": _ref("QuizSummary")}},
                    },
                ),
            ),
        },
        QUIZ: {
            "parameters": quiz_params,
            "get": _op(
                "getQuiz",
                "The quiz as I may see it, with my answers (instructors also get the spec)",
                MEMBER,
                ok=(200, _ref("LearnerQuiz")),
            ),
            "put": _op(
                "publishQuiz",
                "Publish or republish a quiz (its key stays in the service); 201 when new",
                INSTRUCTOR,
                ok=(200, {"type": "object", "properties": {"quiz": _ref("StaffQuiz")}}),
                body=_ref("PublishQuiz"),
                errors=ANSWER_ERRORS,
            ),
            "patch": _op(
                "changeQuiz",
                "Change attempts, counting, open/close times, or reveal the answers",
                INSTRUCTOR,
                ok=(200, {"type": "object", "properties": {"quiz": _ref("StaffQuiz")}}),
                body=_ref("QuizSettingsChange"),
                errors=ANSWER_ERRORS,
            ),
        },
        f"{QUIZ}/answers": {
            "parameters": quiz_params,
            "post": _op(
                "answerQuestion",
                "Answer one question; graded and recorded with the service's time "
                "(staff answers are previews: graded, not recorded)",
                MEMBER
                + "; answers only for oneself, while the quiz is open for them"
                + SELF_PACED_REFUSALS,
                ok=(201, _ref("AnswerOutcome")),
                body=_ref("Answer"),
                errors=ANSWER_ERRORS,
            ),
        },
        f"{QUIZ}/extensions/{{user}}": {
            "parameters": [*quiz_params, *_path_params("user")],
            "put": _op(
                "grantExtension",
                "Give one learner a later closing time",
                INSTRUCTOR,
                ok=(200, {"type": "object"}),
                body={
                    "type": "object",
                    "required": ["closes_at"],
                    "properties": {"closes_at": {"type": "string", "format": "date-time"}},
                },
            ),
            "delete": _op(
                "removeExtension",
                "Remove a learner's extension",
                INSTRUCTOR,
                ok=(204, {}),
                errors=(401, 403, 404),
            ),
        },
        f"{QUIZ}/scores": {
            "parameters": quiz_params,
            "get": {
                **_op(
                    "quizScores",
                    "Every learner's score (JSON, or CSV with format=csv)",
                    INSTRUCTOR,
                    ok=(200, _ref("QuizScores")),
                    query=[("format", "json (default) or csv")],
                ),
            },
        },
        f"{QUIZ}/leaderboard": {
            "parameters": quiz_params,
            "get": _op(
                "quizLeaderboard",
                "The quiz's ranking: top N and the rows around me",
                MEMBER + "; scope=cohort only for the cohort's members and staff; learners "
                "see names as the course's setting says, staff see real names",
                ok=(200, _ref("Leaderboard")),
                query=BOARD_QUERY,
            ),
        },
        f"{COURSE}/leaderboard": {
            "parameters": _path_params("course"),
            "get": _op(
                "courseLeaderboard",
                "The course's ranking over all its quizzes",
                MEMBER + "; scope=cohort only for the cohort's members and staff",
                ok=(200, _ref("Leaderboard")),
                query=BOARD_QUERY,
            ),
        },
        f"{COURSE}/leaderboard/settings": {
            "parameters": _path_params("course"),
            "get": _op(
                "leaderboardSettings",
                "How the course's leaderboards name people, my opt-in and my alias",
                MEMBER,
                ok=(200, _ref("LeaderboardSettings")),
            ),
            "put": _op(
                "setLeaderboardNames",
                "Choose real names, aliases for everyone, or names by opt-in",
                INSTRUCTOR,
                ok=(200, _ref("LeaderboardSettings")),
                body=_obj({"names": {"enum": ["real", "alias", "opt_in"]}}, ["names"]),
            ),
        },
        f"{COURSE}/leaderboard/opt-in": {
            "parameters": _path_params("course"),
            "put": _op(
                "optIn",
                "Show my real name on leaderboards (courses using opt_in)",
                "A learner of the course",
                ok=(200, _ref("LeaderboardSettings")),
            ),
            "delete": _op(
                "optOut",
                "Show my alias again",
                "A learner of the course",
                ok=(200, _ref("LeaderboardSettings")),
            ),
        },
        **live_paths(),
    }


def live_paths() -> dict[str, Any]:
    session_params = _path_params("course", "session_id")
    round_view = _ref("LiveView")
    return {
        f"{QUIZ}/live": {
            "parameters": _path_params("course", "quiz"),
            "get": _op(
                "currentLiveSession",
                "The quiz's running live session (or its latest), as I see it",
                MEMBER,
                ok=(200, round_view),
            ),
            "post": _op(
                "startLiveSession",
                "Start a live round in the lobby (one running round per quiz)",
                INSTRUCTOR,
                ok=(201, round_view),
                body=_obj(
                    {
                        "team_mode": {"enum": ["none", "cohorts", "teams"]},
                        "team_cohort": STR,
                        "countdown": INT,
                        "speed": {"enum": ["points", "tiebreak"]},
                        "streak": BOOL,
                    }
                ),
                errors=ANSWER_ERRORS,
            ),
        },
        f"{COURSE}/live/{{session_id}}": {
            "parameters": session_params,
            "get": _op("getLiveSession", "A live round as I see it", MEMBER, ok=(200, round_view)),
        },
        f"{COURSE}/live/{{session_id}}/join": {
            "parameters": session_params,
            "post": _op(
                "joinLiveSession",
                "Join a round (until it ends)",
                "A learner of the course",
                ok=(200, round_view),
                errors=ANSWER_ERRORS,
            ),
        },
        f"{COURSE}/live/{{session_id}}/answers": {
            "parameters": session_params,
            "post": _op(
                "answerLive",
                "Answer the open question once; acknowledged now, graded aloud when it closes",
                "A learner who joined the round; 409 codes: live_state (not open), "
                "already_answered, key_shown (you have been shown this question's answer)",
                ok=(201, _obj({"received": BOOL, "question": STR, "elapsed": NUM})),
                body=_ref("Answer"),
                errors=ANSWER_ERRORS,
            ),
        },
        f"{COURSE}/live/{{session_id}}/{{action}}": {
            "parameters": [
                *session_params,
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["next", "close", "end"]},
                },
            ],
            "post": _op(
                "stepLiveSession",
                "Show the next question (optional countdown), close the open one, or end",
                INSTRUCTOR,
                ok=(200, round_view),
                body=_obj({"countdown": INT}),
                errors=ANSWER_ERRORS,
            ),
        },
    }


BOARD_QUERY = [
    ("scope", "quiz or course (the default), or cohort"),
    ("cohort", "the cohort, with scope=cohort (default: my only cohort)"),
    ("limit", "rows in the top list, 1-100 (default 10)"),
]


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


STR = {"type": "string"}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
TIME = {"type": ["string", "null"], "format": "date-time"}


def quiz_schemas() -> dict[str, Any]:
    settings = {
        "attempts": INT,
        "counting": {"enum": ["best", "last"]},
        "opens_at": TIME,
        "closes_at": TIME,
        "revealed": BOOL,
        "live": {"type": "object"},
    }
    public_question = _obj(
        {
            "id": STR,
            "type": {"enum": ["single", "multiple", "numeric", "text", "ordering"]},
            "prompt": STR,
            "points": NUM,
            "choices": {"type": "array", "items": _obj({"id": STR, "text": STR})},
            "items": {"type": "array", "items": _obj({"id": STR, "text": STR})},
        },
        ["id", "type", "prompt", "points"],
    )
    state = _obj(
        {
            "attempts_used": INT,
            "attempts_left": INT,
            "answered": BOOL,
            "last_answer": {},
            "correct": {"type": ["boolean", "null"]},
            "score": {
                "type": ["number", "null"],
                "description": "wrong attempts count 0 (no partial credit) until the key "
                "may be shown",
            },
            "feedback": {"type": "array", "items": STR},
            "done": {
                "type": "boolean",
                "description": "no self-paced answer to it can count any more",
            },
            "explanation": {"type": ["string", "null"], "description": KEY_WHEN},
            "correct_answer": {"description": KEY_WHEN},
        }
    )
    return {
        "QuizLookup": _obj({"quiz": STR, "courses": {"type": "array", "items": STR}}),
        "PublishQuiz": _obj(
            {
                "spec": {
                    "description": "The quiz spec: a mapping, or YAML/JSON text "
                    "(notebooks/quizzes/README.md)",
                },
                "notebook_key": STR,
            },
            ["spec"],
        ),
        "QuizSettingsChange": _obj({k: v for k, v in settings.items() if k != "live"}),
        "StaffQuiz": _obj(
            {
                "id": STR,
                "course": STR,
                "title": STR,
                "notebook_key": {"type": ["string", "null"]},
                "version": INT,
                "question_count": INT,
                "max_score": NUM,
                **settings,
                "spec": {"type": "object", "description": "with the key (instructors only)"},
            }
        ),
        "QuizSummary": _obj(
            {
                "id": STR,
                "title": STR,
                **settings,
                "status": {"enum": ["open", "not_open", "closed"]},
                "open": BOOL,
                "question_count": INT,
                "max_score": NUM,
                "score": NUM,
            }
        ),
        "QuestionState": state,
        "LearnerQuiz": _obj(
            {
                "quiz": _obj(
                    {
                        "id": STR,
                        "title": STR,
                        "course": STR,
                        "questions": {"type": "array", "items": public_question},
                        **settings,
                        "status": {"enum": ["open", "not_open", "closed"]},
                        "open": BOOL,
                    }
                ),
                "state": {"type": "object", "additionalProperties": _ref("QuestionState")},
                "score": NUM,
                "max_score": NUM,
                "spec": {"type": "object", "description": "instructors only"},
            }
        ),
        "Answer": _obj({"question": STR, "answer": {}}, ["question", "answer"]),
        "AnswerOutcome": _obj(
            {
                "result": _obj(
                    {
                        "correct": BOOL,
                        "score": {
                            "type": "number",
                            "description": "0 for a wrong answer until the key may be shown",
                        },
                        "max_score": NUM,
                        "feedback": {"type": "array", "items": STR},
                        "attempts_left": INT,
                        "done": BOOL,
                        "explanation": {"type": ["string", "null"], "description": KEY_WHEN},
                        "correct_answer": {"description": KEY_WHEN},
                    }
                ),
                "question": _ref("QuestionState"),
                "score": NUM,
                "max_score": NUM,
                "preview": BOOL,
            }
        ),
        "LeaderboardEntry": _obj(
            {"rank": INT, "name": STR, "score": NUM, "me": BOOL, "alias": BOOL}
        ),
        "Leaderboard": _obj(
            {
                "scope": STR,
                "quiz": STR,
                "top": {"type": "array", "items": _ref("LeaderboardEntry")},
                "near_me": {"type": "array", "items": _ref("LeaderboardEntry")},
                "me": {"oneOf": [_ref("LeaderboardEntry"), {"type": "null"}]},
                "total": INT,
                "names": {"enum": ["real", "alias", "opt_in"]},
            }
        ),
        "LeaderboardSettings": _obj(
            {
                "course": STR,
                "names": {"enum": ["real", "alias", "opt_in"]},
                "opted_in": BOOL,
                "alias": STR,
            }
        ),
        "LiveView": _obj(
            {
                "session": {"type": "object", "description": "state, remaining seconds, players"},
                "joined": BOOL,
                "question": {"oneOf": [public_question, {"type": "null"}]},
                "me": {"type": "object"},
                "my_answer": {"type": "object"},
                "results": {
                    "type": "object",
                    "description": "only once the question has closed: distribution, "
                    "leaderboard, teams, and the correct answer and explanation for staff and "
                    "for learners who can no longer answer the question self-paced",
                },
            }
        ),
        "QuizScores": _obj(
            {
                "quiz": STR,
                "questions": {"type": "array", "items": STR},
                "scores": {
                    "type": "array",
                    "items": _obj(
                        {
                            "user": STR,
                            "score": NUM,
                            "max_score": NUM,
                            "answered": INT,
                            "questions": {"type": "object", "additionalProperties": NUM},
                        }
                    ),
                },
            }
        ),
    }
