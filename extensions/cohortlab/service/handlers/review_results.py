"""Peer review outcomes: ``/api/v1/courses/<course>/reviews/<assignment>/...`` for results,
overrides, exclusions, autograde scores and flags (staff), and feedback (the author).

Every route needs a person in the course (``course_member``); :mod:`cohortlab.reviews.results`
and :mod:`cohortlab.reviews.feedback` check the finer rules (staff read results and flags,
instructors change scores, only the author reads and rates their feedback, after release).
``reviews.py`` keeps allocation and reviewing. A flag is told to the course's staff after the
transaction commits; the event carries the submission's number and the flag's id, never a
person's name, and authors get no event about reviews at all.
"""

from __future__ import annotations

from typing import Any

from ...errors import APIError
from ...reviews import feedback, results
from ...store.models import utcnow
from ..permissions import allow, course_member
from .reviews import ROUND, ReviewHandler, submission_number

FEEDBACK_REVIEW = rf"{ROUND}/feedback/reviews/(?P<review>[^/]+)"


def flag_number(flag: str, assignment: str) -> int:
    if flag.isdigit() and len(flag) < 10:
        return int(flag)
    raise APIError(
        404, "unknown_flag", f"The peer review of {assignment!r} has no flag {flag[:20]}."
    )


class ResultsHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str, assignment: str) -> None:
        body = await self.run_db_outcome(results.staff_results, self.caller, assignment, utcnow())
        self.write_json(body)


class OverrideHandler(ReviewHandler):
    @allow(course_member)
    async def put(self, course: str, assignment: str, number: str, criterion: str) -> None:
        body = self.json_body()
        n = submission_number(number, assignment)
        self.write_json(
            await self.run_db(
                results.set_override, self.caller, assignment, n, criterion, body, utcnow()
            )
        )
        await self.results_changed(assignment)

    @allow(course_member)
    async def delete(self, course: str, assignment: str, number: str, criterion: str) -> None:
        n = submission_number(number, assignment)
        await self.run_db(results.clear_override, self.caller, assignment, n, criterion)
        self.set_status(204)
        self.finish()
        await self.results_changed(assignment)


class ExclusionHandler(ReviewHandler):
    @allow(course_member)
    async def put(self, course: str, assignment: str, review: str) -> None:
        body = self.json_body()
        self.write_json(
            await self.run_db(
                results.exclude_review, self.caller, assignment, review, body, utcnow()
            )
        )
        await self.results_changed(assignment)

    @allow(course_member)
    async def delete(self, course: str, assignment: str, review: str) -> None:
        await self.run_db(results.include_review, self.caller, assignment, review)
        self.set_status(204)
        self.finish()
        await self.results_changed(assignment)


class AutogradeHandler(ReviewHandler):
    @allow(course_member)
    async def put(self, course: str, assignment: str) -> None:
        body = self.json_body()
        self.write_json(
            await self.run_db(results.record_autograde, self.caller, assignment, body, utcnow())
        )


class FlagListHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str, assignment: str) -> None:
        self.write_json(await self.run_db(feedback.list_flags, self.caller, assignment))


class FlagHandler(ReviewHandler):
    @allow(course_member)
    async def patch(self, course: str, assignment: str, flag: str) -> None:
        body = self.json_body()
        n = flag_number(flag, assignment)
        self.write_json(
            await self.run_db(feedback.resolve_flag, self.caller, assignment, n, body, utcnow())
        )


class FeedbackHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str, assignment: str) -> None:
        self.write_json(await self.run_db_outcome(feedback.my_feedback, self.caller, assignment))


class HelpfulnessHandler(ReviewHandler):
    @allow(course_member)
    async def put(self, course: str, assignment: str, review: str) -> None:
        body = self.json_body()
        self.write_json(
            await self.run_db(feedback.rate_review, self.caller, assignment, review, body, utcnow())
        )


class ReviewFlagHandler(ReviewHandler):
    @allow(course_member)
    async def post(self, course: str, assignment: str, review: str) -> None:
        body = self.json_body()
        out, flag_id, number = await self.run_db(
            feedback.flag_review, self.caller, assignment, review, body, utcnow()
        )
        self.write_json(out, status=201)
        await self.tell(
            await self.staff(), "flagged", assignment=assignment, submission=number, flag=flag_id
        )


default_handlers: list[tuple[str, Any]] = [
    (rf"{ROUND}/results", ResultsHandler),
    (rf"{ROUND}/overrides/(?P<number>[^/]+)/(?P<criterion>[^/]+)", OverrideHandler),
    (rf"{ROUND}/exclusions/(?P<review>[^/]+)", ExclusionHandler),
    (rf"{ROUND}/autograde", AutogradeHandler),
    (rf"{ROUND}/flags", FlagListHandler),
    (rf"{ROUND}/flags/(?P<flag>[^/]+)", FlagHandler),
    (rf"{ROUND}/feedback", FeedbackHandler),
    (rf"{FEEDBACK_REVIEW}/helpfulness", HelpfulnessHandler),
    (rf"{FEEDBACK_REVIEW}/flag", ReviewFlagHandler),
]
