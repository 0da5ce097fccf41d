"""OpenAPI paths and schemas for peer review outcomes (``handlers/review_results.py``).

The author's feedback schemas have no field for a person except ``reviewer``, present only
when the instructor turned names on; staff schemas carry ``author`` and ``reviewer``.
"""

from __future__ import annotations

from typing import Any

from .openapi_discussions import _op, _path_params, _ref
from .openapi_reviews import BOOL, INSTRUCTOR, INT, NUM, ROUND, STR, TIME, WRITE_ERRORS, _obj

STAFF = "The course's staff (instructors and mentors); learners get 403"
AUTHOR = (
    "The author of a submission in the round (404 no_submission for anyone else), after the "
    "instructor releases feedback (403 not_released before)"
)
NULL_NUM = {"type": ["number", "null"]}
METHOD = {"enum": ["median", "mean", "pg1"]}


def _review_param() -> dict[str, Any]:
    return {
        "name": "review",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "A review's opaque id (says nothing about who wrote it)",
    }


def review_result_paths() -> dict[str, Any]:
    round_params = _path_params("course", "assignment")
    number = {
        "name": "number",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
        "description": "The submission's pseudonym number (Submission N)",
    }
    criterion = {
        "name": "criterion",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "A rubric criterion's key (URL-encoded; nbgrader's are notebook:grade_id)",
    }
    review_params = [*round_params, _review_param()]
    return {
        f"{ROUND}/results": {
            "parameters": round_params,
            "get": _op(
                "getReviewResults",
                "Per submission and criterion: peer scores by reviewer, the aggregate, spread, "
                "autograde score, override and final score; per reviewer: agreement, reviews "
                "done, open flags",
                STAFF,
                ok=(200, _ref("ReviewResults")),
            ),
        },
        f"{ROUND}/overrides/{{number}}/{{criterion}}": {
            "parameters": [*round_params, number, criterion],
            "put": _op(
                "setReviewOverride",
                "Set the instructor's score for one criterion of one submission (0..max_points)",
                INSTRUCTOR,
                ok=(200, {"type": "object"}),
                body=_obj({"score": NUM, "reason": STR}, ["score"]),
                errors=WRITE_ERRORS,
            ),
            "delete": _op(
                "clearReviewOverride",
                "Go back to the peers' aggregate for that criterion",
                INSTRUCTOR,
                ok=(204, {}),
                errors=(401, 403, 404),
            ),
        },
        f"{ROUND}/exclusions/{{review}}": {
            "parameters": review_params,
            "put": _op(
                "excludeReview",
                "Leave a review out of the scores and out of its author's feedback",
                INSTRUCTOR,
                ok=(200, {"type": "object"}),
                body=_obj({"reason": STR}),
                errors=WRITE_ERRORS,
            ),
            "delete": _op(
                "includeReview",
                "Count an excluded review again",
                INSTRUCTOR,
                ok=(204, {}),
                errors=(401, 403, 404),
            ),
        },
        f"{ROUND}/autograde": {
            "parameters": round_params,
            "put": _op(
                "recordAutogradeScores",
                "nbgrader's scores per author (cohortlab review open sends them), shown beside "
                "the peers'",
                INSTRUCTOR,
                ok=(200, _obj({"stored": INT, "not_in_round": {"type": "array", "items": STR}})),
                body=_obj(
                    {
                        "submissions": {
                            "type": "object",
                            "additionalProperties": _obj(
                                {
                                    "scores": {
                                        "type": "object",
                                        "additionalProperties": NULL_NUM,
                                    },
                                    "total": NULL_NUM,
                                    "max_total": NULL_NUM,
                                }
                            ),
                        }
                    },
                    ["submissions"],
                ),
                errors=WRITE_ERRORS,
            ),
        },
        f"{ROUND}/flags": {
            "parameters": round_params,
            "get": _op(
                "listReviewFlags",
                "Reviews their authors flagged as inappropriate, open ones first",
                STAFF,
                ok=(200, _obj({"flags": {"type": "array", "items": _ref("ReviewFlag")}})),
            ),
        },
        f"{ROUND}/flags/{{flag}}": {
            "parameters": [*round_params, *_path_params("flag")],
            "patch": _op(
                "resolveReviewFlag",
                "Mark a flag resolved (with a note) or open again",
                STAFF,
                ok=(200, _obj({"flag": _ref("ReviewFlag")})),
                body=_obj({"resolved": BOOL, "resolution": STR}),
                errors=WRITE_ERRORS,
            ),
        },
        f"{ROUND}/feedback": {
            "parameters": round_params,
            "get": _op(
                "getMyReviewFeedback",
                "My submission, the final score per criterion and the reviews of my work with "
                "their cell-anchored comments (excluded reviews are not shown)",
                AUTHOR,
                ok=(200, _ref("ReviewFeedback")),
            ),
        },
        f"{ROUND}/feedback/reviews/{{review}}/helpfulness": {
            "parameters": review_params,
            "put": _op(
                "rateReviewHelpfulness",
                "Rate how helpful a review of my work was (1-5); rating again replaces it",
                AUTHOR,
                ok=(200, _ref("FeedbackReview")),
                body=_obj({"helpfulness": {"type": "integer", "minimum": 1, "maximum": 5}}),
                errors=WRITE_ERRORS,
            ),
        },
        f"{ROUND}/feedback/reviews/{{review}}/flag": {
            "parameters": review_params,
            "post": _op(
                "flagReview",
                "Report a review of my work as inappropriate; the course's staff are told",
                AUTHOR,
                ok=(201, _obj({"review": _ref("FeedbackReview"), "flag": {"type": "object"}})),
                body=_obj({"reason": {"type": "string", "minLength": 1, "maxLength": 2000}}),
                errors=WRITE_ERRORS,
            ),
        },
    }


def review_result_schemas() -> dict[str, Any]:
    scores = {
        "type": "object",
        "additionalProperties": _obj({"score": {"type": ["number", "null"]}, "comment": STR}),
    }
    total = _obj({"score": NULL_NUM, "max": NUM, "complete": BOOL})
    criterion_result = _obj(
        {
            "peer": {
                "type": "array",
                "items": _obj(
                    {
                        "review": STR,
                        "reviewer": STR,
                        "score": NULL_NUM,
                        "comment": STR,
                        "excluded": BOOL,
                    }
                ),
            },
            "aggregate": NULL_NUM,
            "spread": NULL_NUM,
            "autograde": NULL_NUM,
            "override": {"type": ["object", "null"]},
            "final": NULL_NUM,
        }
    )
    return {
        "ReviewResults": _obj(
            {
                "round": _ref("ReviewRound"),
                "method": METHOD,
                "rubric": {"type": "array", "items": _ref("ReviewCriterion")},
                "submissions": {
                    "type": "array",
                    "items": _obj(
                        {
                            "number": INT,
                            "name": STR,
                            "author": STR,
                            "reviews": {"type": "array", "items": {"type": "object"}},
                            "reviews_counted": INT,
                            "criteria": {
                                "type": "object",
                                "additionalProperties": criterion_result,
                            },
                            "autograde": {"type": ["object", "null"]},
                            "total": total,
                        }
                    ),
                },
                "reviewers": {
                    "type": "array",
                    "items": _obj(
                        {
                            "user": STR,
                            "reviews_assigned": INT,
                            "reviews_done": INT,
                            "reviews_excluded": INT,
                            "agreement": NULL_NUM,
                            "bias": NULL_NUM,
                            "precision": NULL_NUM,
                            "open_flags": INT,
                            "helpfulness": NULL_NUM,
                            "ratings": INT,
                        }
                    ),
                },
                "open_flags": INT,
            }
        ),
        "ReviewFlag": _obj(
            {
                "id": INT,
                "submission": INT,
                "review": STR,
                "author": STR,
                "reviewer": STR,
                "reason": STR,
                "created_at": TIME,
                "resolved": BOOL,
                "resolved_by": {"type": ["string", "null"]},
                "resolved_at": TIME,
                "resolution": STR,
                "excluded": BOOL,
            }
        ),
        "FeedbackReview": _obj(
            {
                "id": STR,
                "label": STR,
                "reviewer": {"type": "string", "description": "only if names are turned on"},
                "scores": scores,
                "comment": STR,
                "cell_comments": {"type": "array", "items": {"type": "object"}},
                "helpfulness": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                "flagged": BOOL,
            },
            ["id", "label", "scores", "comment", "cell_comments", "helpfulness", "flagged"],
        ),
        "ReviewFeedback": _obj(
            {
                "assignment": STR,
                "submission": _obj(
                    {
                        "number": INT,
                        "name": STR,
                        "notebooks": {"type": "array", "items": {"type": "object"}},
                    }
                ),
                "rubric": {"type": "array", "items": _ref("ReviewCriterion")},
                "method": METHOD,
                "scores": {"type": "object", "additionalProperties": NULL_NUM},
                "total": total,
                "reviews": {"type": "array", "items": _ref("FeedbackReview")},
            },
            ["assignment", "submission", "rubric", "method", "scores", "reviews"],
        ),
    }
