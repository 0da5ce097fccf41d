"""Quizzes of a course: ``/api/v1/courses/<course>/quizzes/...`` and ``/api/v1/quizzes/<id>``.

Every course route needs a person in the course (``course_member``); the quiz logic
(``cohortlab.quizzes.records``) checks the finer rules (instructor only) and decides what a
learner may see. Writes publish a ``quiz`` event after the transaction commits; answers
also schedule one coalesced ``scores`` event per quiz, so a class answering at once sends
leaderboards one refresh a second, not one per answer.
"""

from __future__ import annotations

from typing import Any

from tornado.ioloop import IOLoop

from ...courses import membership
from ...errors import APIError
from ...quizzes import boards, records
from ...store.models import utcnow
from ..base import BaseHandler
from ..permissions import allow, course_member, person

COURSE = r"api/v1/courses/(?P<course>[^/]+)"
QUIZ = rf"{COURSE}/quizzes/(?P<quiz>[^/]+)"
SCORES_EVENT_DELAY = 1.0


class QuizHandler(BaseHandler):
    async def tell_course(self, event: dict[str, Any]) -> None:
        """Send ``event`` to everyone in the caller's course; a failure here must not turn a
        committed write into an error the client would retry."""
        assert self.caller is not None
        try:
            members = await self.roster(self.caller.course)
            await self.settings["bus"].publish(sorted(members), event)
        except Exception:
            self.log.warning("Could not publish quiz event", exc_info=True)

    def scores_changed(self, course: str, quiz: str) -> None:
        """Tell the course once, about a second from now, that quiz scores changed."""
        pending: set[tuple[str, str]] = self.settings.setdefault("quiz_scores_pending", set())
        if (course, quiz) in pending:
            return
        pending.add((course, quiz))
        caller = self.caller

        async def flush() -> None:
            pending.discard((course, quiz))
            self.caller = caller
            await self.tell_course(
                {"type": "quiz", "action": "scores", "course": course, "quiz": quiz}
            )

        IOLoop.current().call_later(SCORES_EVENT_DELAY, flush)


class QuizLookupHandler(QuizHandler):
    @allow(person)
    async def get(self, quiz: str) -> None:
        groups = await self.settings["hub_groups"].properties()
        courses = [
            c["id"] for c in membership(self.hub_user.get("groups", []), groups).courses_json()
        ]
        found = await self.run_db(records.courses_with, courses, quiz)
        if not found:
            raise APIError(404, "unknown_quiz", f"None of your courses has a quiz {quiz!r}.")
        self.write_json({"quiz": quiz, "courses": found})


class QuizListHandler(QuizHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        items = await self.run_db(records.summaries, self.caller, utcnow())
        self.write_json({"quizzes": items})


class QuizItemHandler(QuizHandler):
    body_limit = 2 * 1024 * 1024  # a quiz spec of up to 1 MB (quizzes.records), as JSON

    @allow(course_member)
    async def get(self, course: str, quiz: str) -> None:
        def work(session: Any) -> dict[str, Any]:
            record = records.find(session, course, quiz)
            return records.learner_view(session, self.caller, record, utcnow())

        self.write_json(await self.run_db(work))

    @allow(course_member)
    async def put(self, course: str, quiz: str) -> None:
        body = self.json_body()
        view, created = await self.run_db(records.publish, self.caller, quiz, body)
        await self.tell_course(
            {
                "type": "quiz",
                "action": "published" if created else "updated",
                "course": course,
                "quiz": quiz,
            }
        )
        self.write_json({"quiz": view}, status=201 if created else 200)

    @allow(course_member)
    async def patch(self, course: str, quiz: str) -> None:
        body = self.json_body()
        view = await self.run_db(records.change_settings, self.caller, quiz, body)
        await self.tell_course(
            {"type": "quiz", "action": "updated", "course": course, "quiz": quiz}
        )
        self.write_json({"quiz": view})


class AnswerHandler(QuizHandler):
    @allow(course_member)
    async def post(self, course: str, quiz: str) -> None:
        body = self.json_body()
        outcome = await self.run_db(records.submit, self.caller, quiz, body, utcnow())
        if not outcome.get("preview"):
            self.scores_changed(course, quiz)
        self.write_json(outcome, status=201)


class ExtensionHandler(QuizHandler):
    @allow(course_member)
    async def put(self, course: str, quiz: str, user: str) -> None:
        body = self.json_body()
        members = await self.roster(course)
        if members.get(user, ("", None))[0] != "learner":
            raise APIError(404, "unknown_learner", f"{user} is not a learner in course {course!r}.")
        result = await self.run_db(records.set_extension, self.caller, quiz, user, body)
        await self.settings["bus"].publish(
            [user], {"type": "quiz", "action": "updated", "course": course, "quiz": quiz}
        )
        self.write_json(result)

    @allow(course_member)
    async def delete(self, course: str, quiz: str, user: str) -> None:
        await self.run_db(records.remove_extension, self.caller, quiz, user)
        self.set_status(204)
        self.finish()


class ScoresHandler(QuizHandler):
    @allow(course_member)
    async def get(self, course: str, quiz: str) -> None:
        fmt = self.get_argument("format", "json")
        if fmt not in ("json", "csv"):
            raise APIError(400, "invalid_format", "format must be json or csv.")
        members = await self.roster(course)
        learners = [name for name, (role, _cohorts) in members.items() if role == "learner"]

        def work(session: Any) -> tuple[list[dict[str, Any]], list[str]]:
            rows = records.score_rows(session, self.caller, quiz, learners)
            return rows, records.question_ids(session, course, quiz)

        rows, qids = await self.run_db(work)
        if fmt == "csv":
            self.set_header("Content-Type", "text/csv; charset=UTF-8")
            self.set_header(
                "Content-Disposition", f'attachment; filename="{course}-{quiz}-scores.csv"'
            )
            self.finish(records.scores_csv(rows, qids))
            return
        self.write_json({"quiz": quiz, "questions": qids, "scores": rows})


class BoardHandler(QuizHandler):
    async def learners_in_scope(self, course: str, whole: str) -> tuple[str, list[str]]:
        """The scope asked for and the learners it ranks; a cohort only for its members
        and staff."""
        assert self.caller is not None
        scope = self.get_argument("scope", whole)
        members = await self.roster(course)
        learners = [name for name, (role, _c) in members.items() if role == "learner"]
        if scope == whole:
            return scope, learners
        if scope != "cohort":
            raise APIError(400, "invalid_scope", f"scope must be {whole} or cohort.")
        cohort = self.get_argument("cohort", None)
        if cohort is None and len(self.caller.cohorts) == 1:
            cohort = next(iter(self.caller.cohorts))
        if not cohort:
            raise APIError(400, "missing_field", "scope=cohort needs ?cohort=<name>.")
        if not self.caller.is_staff and cohort not in self.caller.cohorts:
            raise APIError(403, "not_in_cohort", f"You are not in cohort {cohort!r}.")
        return scope, [n for n in learners if cohort in members[n][1]]


class QuizBoardHandler(BoardHandler):
    @allow(course_member)
    async def get(self, course: str, quiz: str) -> None:
        scope, learners = await self.learners_in_scope(course, "quiz")
        limit = boards.parse_limit(self.get_argument("limit", None))
        board = await self.run_db(
            boards.quiz_board, self.caller, quiz, learners, scope, limit, utcnow()
        )
        self.write_json(board)


class CourseBoardHandler(BoardHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        scope, learners = await self.learners_in_scope(course, "course")
        limit = boards.parse_limit(self.get_argument("limit", None))
        self.write_json(
            await self.run_db(boards.course_board, self.caller, learners, scope, limit, utcnow())
        )


class BoardSettingsHandler(QuizHandler):
    async def learners(self, course: str) -> list[str]:
        members = await self.roster(course)
        return [name for name, (role, _c) in members.items() if role == "learner"]

    @allow(course_member)
    async def get(self, course: str) -> None:
        learners = await self.learners(course)
        self.write_json(await self.run_db(boards.settings_view, self.caller, learners))

    @allow(course_member)
    async def put(self, course: str) -> None:
        body = self.json_body()
        changed = await self.run_db(boards.change_names, self.caller, body)
        await self.tell_course({"type": "quiz", "action": "scores", "course": course, "quiz": None})
        self.write_json(changed)


class OptInHandler(QuizHandler):
    async def _set(self, course: str, on: bool) -> None:
        self.write_json(await self.run_db(boards.set_opt_in, self.caller, on))
        await self.tell_course({"type": "quiz", "action": "scores", "course": course, "quiz": None})

    @allow(course_member)
    async def put(self, course: str) -> None:
        await self._set(course, True)

    @allow(course_member)
    async def delete(self, course: str) -> None:
        await self._set(course, False)


default_handlers = [
    (r"api/v1/quizzes/(?P<quiz>[^/]+)", QuizLookupHandler),
    (rf"{COURSE}/quizzes", QuizListHandler),
    (QUIZ, QuizItemHandler),
    (rf"{QUIZ}/answers", AnswerHandler),
    (rf"{QUIZ}/extensions/(?P<user>[^/]+)", ExtensionHandler),
    (rf"{QUIZ}/scores", ScoresHandler),
    (rf"{QUIZ}/leaderboard", QuizBoardHandler),
    (rf"{COURSE}/leaderboard", CourseBoardHandler),
    (rf"{COURSE}/leaderboard/settings", BoardSettingsHandler),
    (rf"{COURSE}/leaderboard/opt-in", OptInHandler),
]
