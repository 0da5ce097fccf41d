"""Peer review rounds of a course: ``/api/v1/courses/<course>/reviews/...``.

Every route needs a person in the course (``course_member``); the review logic
(``cohortlab.reviews``) checks the finer rules (instructors open and change rounds, only an
allocated learner reads and reviews a copy) and builds what each caller may see. Events go
out after the transaction commits and never name an author or a reviewer: reviewers given
work hear ``assigned``, staff hear ``submitted`` with the submission's number.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

from tornado.ioloop import IOLoop

from ...access import require_instructor
from ...errors import APIError
from ...reviews import manage, records, reviewing
from ...reviews.cached import AggregateNeeded, outside_transaction
from ...reviews.rubric import check_stage, pack
from ...reviews.state import TeamRoster, course_teams
from ...store.models import utcnow
from ..base import BaseHandler
from ..permissions import allow, course_member

T = TypeVar("T")
COURSE = r"api/v1/courses/(?P<course>[^/]+)"
REVIEWS = rf"{COURSE}/reviews"
ROUND = rf"{REVIEWS}/(?P<assignment>[^/]+)"
UPLOAD = rf"{ROUND}/uploads/(?P<upload>[^/]+)"
SUBMISSION = rf"{ROUND}/submissions/(?P<number>[^/]+)"
# One staged submission (all its notebooks, as JSON); nbgrader notebooks with plots are a few MB.
MAX_STAGE_BYTES = 64 * 1024 * 1024
# Worker processes that check staged copies (``StageHandler.check_copy``): one per core, at most 4.
CHECK_PROCESSES = max(1, min(4, os.cpu_count() or 1))
# Reads that need a round's aggregate: tries before computing it inside the transaction after
# all (only if the scores changed under every try).
AGGREGATE_TRIES = 3


def submission_number(number: str, assignment: str) -> int:
    """The number in the URL; anything else is the same 404 as a submission not yours."""
    if number.isdigit() and len(number) < 10:
        return int(number)
    raise APIError(
        404,
        "unknown_submission",
        f"There is no Submission {number[:20]} for you in the peer review of {assignment!r}.",
    )


class ReviewHandler(BaseHandler):
    async def roster(self, course: str) -> TeamRoster:  # type: ignore[override]
        """The course's roster, knowing each person's teams too (for ``separate_teams``);
        worked out once per fetch of the hub's groups, like the roster itself."""
        members = await super().roster(course)
        hub = self.settings["hub_groups"]
        users, properties = await hub.users(), await hub.properties()
        cache: dict[str, tuple[Any, ...]] = self.settings.setdefault("review_roster_cache", {})
        found = cache.get(course)
        if found and found[0] is members and found[1] is users and found[2] is properties:
            return found[3]
        roster = TeamRoster(members, course_teams(course, users, properties))
        cache[course] = (members, users, properties, roster)
        return roster

    async def tell(self, users: list[str], action: str, **extra: Any) -> None:
        """Send a review event; a failure here must not turn a committed write into an error
        the client would retry."""
        if not users:
            return
        assert self.caller is not None
        event = {"type": "review", "action": action, "course": self.caller.course, **extra}
        try:
            await self.settings["bus"].publish(sorted(set(users)), event)
        except Exception:
            self.log.warning("Could not publish review event", exc_info=True)

    async def run_db_outcome(self, fn: Callable[..., T], *args: Any) -> T:
        """:meth:`run_db` for reads that need a round's aggregate (``reviews.cached``): it is
        computed on a worker thread between two transactions, never inside one (PG1 over a
        large class takes a second, and SQLite has one database thread)."""
        for _ in range(AGGREGATE_TRIES):
            try:
                return await self.run_db(outside_transaction(fn), *args)
            except AggregateNeeded as need:
                await IOLoop.current().run_in_executor(None, need.compute)
        return await self.run_db(fn, *args)

    def checkers(self, *, warm: bool = False) -> ProcessPoolExecutor:
        """The worker processes that check staged copies (``StageHandler.check_copy``), made
        on first use; ``warm`` starts them now (an upload begins: they are ready, imports
        done, by the time its first copy arrives)."""
        pool = self.settings.get("review_checkers")
        if pool is None:
            pool = ProcessPoolExecutor(CHECK_PROCESSES, mp_context=get_context("spawn"))
            self.settings["review_checkers"] = pool
            if warm:
                for _ in range(CHECK_PROCESSES):
                    pool.submit(pack, None)
        return pool

    async def results_changed(self, assignment: str) -> None:
        """An override or an exclusion: the course's staff redraw their results (nobody
        else's view depends on them before release)."""
        await self.tell(await self.staff(), "results", assignment=assignment)

    async def staff(self) -> list[str]:
        assert self.caller is not None
        members = await self.roster(self.caller.course)
        return [n for n, (role, _c) in members.items() if role in ("instructor", "mentor")]


class RoundListHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        roster = await self.roster(course)
        body, told = await self.run_db(reviewing.list_rounds, self.caller, roster, utcnow())
        self.write_json(body)
        await self.tell(told, "assigned")


class RoundHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str, assignment: str) -> None:
        roster = await self.roster(course)
        body, told = await self.run_db_outcome(
            reviewing.round_view, self.caller, assignment, roster, utcnow()
        )
        self.write_json(body)
        await self.tell(told, "assigned", assignment=assignment)

    @allow(course_member)
    async def patch(self, course: str, assignment: str) -> None:
        body = self.json_body()
        changed = await self.run_db(manage.change_round, self.caller, assignment, body, utcnow())
        self.write_json(changed)
        members = await self.roster(course)
        await self.tell(list(members), "updated", assignment=assignment)


class UploadListHandler(ReviewHandler):
    @allow(course_member)
    async def post(self, course: str, assignment: str) -> None:
        body = self.json_body()
        roster = await self.roster(course)
        started = await self.run_db(records.start_upload, self.caller, assignment, body, roster)
        self.checkers(warm=True)
        self.write_json(started, status=201)


class UploadHandler(ReviewHandler):
    @allow(course_member)
    async def delete(self, course: str, assignment: str, upload: str) -> None:
        await self.run_db(records.discard_upload, self.caller, assignment, upload)
        self.set_status(204)
        self.finish()


class StageHandler(ReviewHandler):
    body_limit = MAX_STAGE_BYTES  # one learner's anonymous notebooks

    @allow(course_member)
    async def put(self, course: str, assignment: str, upload: str, user: str) -> None:
        assert self.caller is not None
        require_instructor(self.caller, "upload")  # before reading megabytes for nothing
        raw = self.request.body
        if len(raw) > MAX_STAGE_BYTES:
            raise APIError(
                413,
                "too_large",
                f"One submission may be at most {MAX_STAGE_BYTES // 2**20} MB of notebooks.",
            )
        notebooks = await self.check_copy(raw, user)
        staged = await self.run_db(records.stage, self.caller, assignment, upload, user, notebooks)
        self.write_json(staged)

    async def check_copy(self, raw: bytes, user: str) -> list[dict[str, Any]]:
        """Parse, check and pack a copy (``rubric.parse_stage``) in a worker process.

        A 2-3 MB notebook takes the service ~0.1-0.2 s of Python, which held the GIL (so
        every other request waited) and ran one copy at a time however many ``review open``
        sent. Worker processes take it off the event loop, the database thread and the GIL,
        and check copies side by side. Should the pool break, the copy is checked on a
        thread, as before.
        """
        loop = IOLoop.current()
        pool = self.checkers()
        try:
            result = await loop.run_in_executor(pool, check_stage, raw, user)
        except BrokenProcessPool:
            self.settings.pop("review_checkers", None)
            self.log.warning("Review copy checkers stopped; checking on a thread", exc_info=True)
            result = await loop.run_in_executor(None, check_stage, raw, user)
        if result[0] == "error":
            raise APIError(*result[1:])
        return result[1]


class CommitHandler(ReviewHandler):
    @allow(course_member)
    async def post(self, course: str, assignment: str, upload: str) -> None:
        roster = await self.roster(course)
        summary, told = await self.run_db(
            records.commit_upload, self.caller, assignment, upload, roster, utcnow()
        )
        self.write_json(summary, status=201 if summary["created"] else 200)
        await self.tell(told, "assigned", assignment=assignment)


class SubmissionHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str, assignment: str, number: str) -> None:
        roster = await self.roster(course)
        body, told = await self.run_db(
            reviewing.open_submission,
            self.caller,
            assignment,
            submission_number(number, assignment),
            roster,
            utcnow(),
        )
        self.write_json(body)
        await self.tell(told, "assigned", assignment=assignment)


class MyReviewHandler(ReviewHandler):
    @allow(course_member)
    async def put(self, course: str, assignment: str, number: str) -> None:
        body = self.json_body()
        n = submission_number(number, assignment)
        saved, submitted = await self.run_db(
            reviewing.save_review, self.caller, assignment, n, body, utcnow()
        )
        self.write_json(saved)
        if submitted:
            await self.tell(await self.staff(), "submitted", assignment=assignment, submission=n)


class SubmissionReviewsHandler(ReviewHandler):
    @allow(course_member)
    async def get(self, course: str, assignment: str, number: str) -> None:
        n = submission_number(number, assignment)
        self.write_json(await self.run_db(reviewing.reviews_of, self.caller, assignment, n))


class ExtraHandler(ReviewHandler):
    @allow(course_member)
    async def post(self, course: str, assignment: str) -> None:
        roster = await self.roster(course)
        body, _told = await self.run_db(
            reviewing.request_extra, self.caller, assignment, roster, utcnow()
        )
        self.write_json(body, status=201)


class ExtensionHandler(ReviewHandler):
    @allow(course_member)
    async def put(self, course: str, assignment: str, user: str) -> None:
        body = self.json_body()
        members = await self.roster(course)
        if members.get(user, ("", None))[0] != "learner":
            assert self.caller is not None
            require_instructor(self.caller, "grant extensions")
            raise APIError(404, "unknown_learner", f"{user} is not a learner in course {course!r}.")
        result = await self.run_db(manage.set_extension, self.caller, assignment, user, body)
        self.write_json(result)
        await self.tell([user], "updated", assignment=assignment)

    @allow(course_member)
    async def delete(self, course: str, assignment: str, user: str) -> None:
        await self.run_db(manage.remove_extension, self.caller, assignment, user)
        self.set_status(204)
        self.finish()


default_handlers = [
    (REVIEWS, RoundListHandler),
    (ROUND, RoundHandler),
    (rf"{ROUND}/uploads", UploadListHandler),
    (UPLOAD, UploadHandler),
    (rf"{UPLOAD}/submissions/(?P<user>[^/]+)", StageHandler),
    (rf"{UPLOAD}/commit", CommitHandler),
    (SUBMISSION, SubmissionHandler),
    (rf"{SUBMISSION}/review", MyReviewHandler),
    (rf"{SUBMISSION}/reviews", SubmissionReviewsHandler),
    (rf"{ROUND}/extra", ExtraHandler),
    (rf"{ROUND}/extensions/(?P<user>[^/]+)", ExtensionHandler),
]
