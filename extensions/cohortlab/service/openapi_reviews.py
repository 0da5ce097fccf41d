"""OpenAPI paths and schemas for peer review rounds (merged into openapi.py).

No learner-facing schema here has a field for a person: reviewers see "Submission N", and
``author``/``user``/``reviewer`` appear only in staff schemas (and ``reviewer`` for authors
once the instructor turns names on, after release).
"""

from __future__ import annotations

from typing import Any

from .openapi_discussions import COURSE, MEMBER, _op, _path_params, _ref

ROUND = f"{COURSE}/reviews/{{assignment}}"
UPLOAD = f"{ROUND}/uploads/{{upload}}"
SUBMISSION = f"{ROUND}/submissions/{{number}}"
INSTRUCTOR = "An instructor of the course (formgrade- group); others get 403"
LEARNER = "A learner of the course the submission was allocated to; others get 404 (or 403)"
WRITE_ERRORS = (400, 401, 403, 404, 409)

STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
TIME = {"type": ["string", "null"], "format": "date-time"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def _number_param() -> dict[str, Any]:
    return {
        "name": "number",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
        "description": "The submission's pseudonym number (Submission N)",
    }


def review_paths() -> dict[str, Any]:
    round_params = _path_params("course", "assignment")
    upload_params = [*round_params, *_path_params("upload")]
    submission_params = [*round_params, _number_param()]
    return {
        f"{COURSE}/reviews": {
            "parameters": _path_params("course"),
            "get": _op(
                "listReviewRounds",
                "The course's peer review rounds: staff with progress, learners with their own "
                "assignments (lapsed leases are reallocated first)",
                MEMBER,
                ok=(200, _obj({"rounds": {"type": "array", "items": {"type": "object"}}})),
            ),
        },
        ROUND: {
            "parameters": round_params,
            "get": _op(
                "getReviewRound",
                "One round: staff get submissions, authors, reviewers and loads; learners the "
                "rubric, their assignments and their own pseudonym",
                MEMBER,
                ok=(200, {"oneOf": [_ref("StaffReviewRound"), _ref("LearnerReviewRound")]}),
            ),
            "patch": _op(
                "changeReviewRound",
                "Move the due date, change the lease, close or reopen, release feedback, show "
                "reviewers' names to authors, choose the aggregation method",
                INSTRUCTOR,
                ok=(200, _obj({"round": _ref("ReviewRound")})),
                body=_obj(
                    {
                        "due_at": TIME,
                        "lease_hours": {"type": ["number", "null"]},
                        "names_visible": BOOL,
                        "released": BOOL,
                        "state": {"enum": ["open", "closed"]},
                        "method": {"enum": ["median", "mean", "pg1"]},
                    }
                ),
                errors=WRITE_ERRORS,
            ),
        },
        f"{ROUND}/uploads": {
            "parameters": round_params,
            "post": _op(
                "startReviewUpload",
                "Begin opening (or re-running) a round: settings, rubric and every author; "
                "answers who to upload and the key for hashed cell ids. Impossible allocations "
                "(no submissions, k too large) are refused here",
                INSTRUCTOR,
                ok=(201, _obj({"upload": _ref("ReviewUpload")})),
                body=_ref("StartReviewUpload"),
                errors=WRITE_ERRORS,
            ),
        },
        UPLOAD: {
            "parameters": upload_params,
            "delete": _op(
                "discardReviewUpload",
                "Drop an upload that will not be committed",
                INSTRUCTOR,
                ok=(204, {}),
                errors=(401, 403, 404),
            ),
        },
        f"{UPLOAD}/submissions/{{user}}": {
            "parameters": [*upload_params, *_path_params("user")],
            "put": _op(
                "stageReviewSubmission",
                "Stage one anonymous submission (refused if it still shows the author's user "
                "name); invisible until the upload is committed",
                INSTRUCTOR,
                ok=(200, _obj({"staged": _obj({"notebooks": {"type": "array", "items": STR}})})),
                body=_obj(
                    {"notebooks": {"type": "array", "items": _ref("AnonymousNotebook")}},
                    ["notebooks"],
                ),
                errors=(400, 401, 403, 404, 413),
            ),
        },
        f"{UPLOAD}/commit": {
            "parameters": upload_params,
            "post": _op(
                "commitReviewUpload",
                "Create or extend the round in one transaction: submissions numbered, reviewers "
                "allocated (201 when the round is new)",
                INSTRUCTOR,
                ok=(200, _ref("ReviewCommit")),
                errors=WRITE_ERRORS,
            ),
        },
        SUBMISSION: {
            "parameters": submission_params,
            "get": _op(
                "openReviewSubmission",
                "The anonymous copy with the rubric and my review; the first read marks it "
                "opened. Staff read any copy, with its author",
                LEARNER + "; staff",
                ok=(200, _ref("OpenedSubmission")),
            ),
        },
        f"{SUBMISSION}/review": {
            "parameters": submission_params,
            "put": _op(
                "saveReview",
                "Save my review as a draft or submit it (scores in range; every criterion to "
                "submit); editable until my due date",
                LEARNER,
                ok=(200, _obj({"review": _ref("Review"), "assignment": _ref("MyAssignment")})),
                body=_ref("ReviewBody"),
                errors=WRITE_ERRORS,
            ),
        },
        f"{SUBMISSION}/reviews": {
            "parameters": submission_params,
            "get": _op(
                "submissionReviews",
                "The reviews of a submission: staff all, with names; its author and reviewers "
                "the submitted ones after release (names only if turned on)",
                "Staff; the author or a reviewer of the submission after release (403 before)",
                ok=(200, _obj({"reviews": {"type": "array", "items": _ref("Review")}})),
            ),
        },
        f"{ROUND}/extra": {
            "parameters": round_params,
            "post": _op(
                "requestExtraReview",
                "One more submission to review, for a reviewer who submitted all theirs",
                "A learner with assignments in the round, all submitted",
                ok=(201, _obj({"assignment": _ref("MyAssignment")})),
                errors=WRITE_ERRORS,
            ),
        },
        f"{ROUND}/extensions/{{user}}": {
            "parameters": [*round_params, *_path_params("user")],
            "put": _op(
                "grantReviewExtension",
                "Give one reviewer a later due date",
                INSTRUCTOR,
                ok=(200, {"type": "object"}),
                body=_obj({"due_at": {"type": "string", "format": "date-time"}}, ["due_at"]),
            ),
            "delete": _op(
                "removeReviewExtension",
                "Remove a reviewer's extension",
                INSTRUCTOR,
                ok=(204, {}),
                errors=(401, 403, 404),
            ),
        },
    }


def review_schemas() -> dict[str, Any]:
    criterion = _obj(
        {
            "key": STR,
            "kind": {"enum": ["nbgrader", "instructor"]},
            "title": STR,
            "description": STR,
            "max_points": NUM,
            "notebook": {"type": ["string", "null"]},
            "grade_id": {"type": ["string", "null"]},
        }
    )
    scores = {
        "type": "object",
        "additionalProperties": _obj({"score": {"type": ["number", "null"]}, "comment": STR}),
    }
    cell_comment = _obj(
        {"notebook": STR, "cell": INT, "output": {"type": ["integer", "null"]}, "text": STR},
        ["notebook", "cell", "text"],
    )
    round_props = {
        "assignment": STR,
        "course": STR,
        "state": {"enum": ["open", "closed"]},
        "k": INT,
        "due_at": TIME,
        "lease_hours": {"type": ["number", "null"]},
        "across_cohorts": BOOL,
        "separate_teams": BOOL,
        "names_visible": BOOL,
        "released": BOOL,
        "method": {"enum": ["median", "mean", "pg1"]},
        "reviewing_open": BOOL,
    }
    return {
        "ReviewRound": _obj(round_props),
        "ReviewCriterion": criterion,
        "MyAssignment": _obj(
            {
                "submission": INT,
                "name": STR,
                "state": {"enum": ["not_opened", "opened", "draft", "submitted"]},
                "extra": BOOL,
                "assigned_at": TIME,
                "opened_at": TIME,
                "lease_expires_at": TIME,
                "due_at": TIME,
                "can_edit": BOOL,
            }
        ),
        "LearnerReviewRound": _obj(
            {
                "round": _ref("ReviewRound"),
                "rubric": {"type": "array", "items": _ref("ReviewCriterion")},
                "assignments": {"type": "array", "items": _ref("MyAssignment")},
                "my_submission": {"type": ["object", "null"]},
                "my_agreement": {
                    "type": ["number", "null"],
                    "description": "0..1, how my scores agree with other reviewers'; "
                    "null before release or with nothing to compare",
                },
            }
        ),
        "StaffReviewRound": _obj(
            {
                "round": _ref("ReviewRound"),
                "rubric": {"type": "array", "items": _ref("ReviewCriterion")},
                "submissions": {
                    "type": "array",
                    "items": _obj(
                        {
                            "number": INT,
                            "name": STR,
                            "author": STR,
                            "notebooks": {"type": "array", "items": STR},
                            "reviewers": {"type": "array", "items": {"type": "object"}},
                            "reviews_submitted": INT,
                        }
                    ),
                },
                "loads": {"type": "object", "additionalProperties": INT},
                "extensions": {"type": "array", "items": {"type": "object"}},
            }
        ),
        "StartReviewUpload": _obj(
            {
                "authors": {"type": "array", "items": STR},
                "k": INT,
                "due_at": TIME,
                "lease_hours": {"type": ["number", "null"]},
                "across_cohorts": BOOL,
                "separate_teams": {
                    "type": "boolean",
                    "description": "never a reviewer from the author's cohort team",
                },
                "balance": {"enum": ["strict", "best"]},
                "seed": {"type": "string", "minLength": 16, "maxLength": 128},
                "criteria": {"type": "array", "items": {"type": "object"}},
            },
            ["authors"],
        ),
        "ReviewUpload": _obj(
            {
                "id": STR,
                "copy_key": {"type": "string", "description": "HMAC key for hashed cell ids"},
                "round_exists": BOOL,
                "to_upload": {"type": "array", "items": STR},
                "in_round": {"type": "array", "items": STR},
                "not_learners": {"type": "array", "items": STR},
            }
        ),
        "AnonymousNotebook": _obj(
            {
                "name": STR,
                "content": {"type": "object", "description": "nbformat 4, anonymised"},
                "cells": {
                    "type": "array",
                    "items": _obj(
                        {"status": {"enum": ["unchanged", "changed", "added", "unknown"]}}
                    ),
                },
            },
            ["name", "content"],
        ),
        "ReviewCommit": _obj(
            {
                "round": _ref("ReviewRound"),
                "created": BOOL,
                "added_submissions": INT,
                "added_assignments": INT,
                "submissions": INT,
            }
        ),
        "OpenedSubmission": _obj(
            {
                "submission": _obj(
                    {
                        "number": INT,
                        "name": STR,
                        "notebooks": {"type": "array", "items": {"type": "object"}},
                        "author": {"type": "string", "description": "staff only"},
                    }
                ),
                "rubric": {"type": "array", "items": _ref("ReviewCriterion")},
                "review": {"oneOf": [_ref("Review"), {"type": "null"}]},
                "assignment": _ref("MyAssignment"),
                "round": _ref("ReviewRound"),
            }
        ),
        "ReviewBody": _obj(
            {
                "scores": scores,
                "comment": STR,
                "cell_comments": {"type": "array", "items": cell_comment},
                "submit": BOOL,
            }
        ),
        "Review": _obj(
            {
                "status": {"enum": ["draft", "submitted"]},
                "scores": scores,
                "comment": STR,
                "cell_comments": {"type": "array", "items": cell_comment},
                "updated_at": TIME,
                "submitted_at": TIME,
                "mine": BOOL,
                "reviewer": {"type": "string", "description": "staff, or names turned on"},
            }
        ),
    }
