"""Live quiz rounds: ``.../quizzes/<quiz>/live`` and ``.../live/<session>/...``.

The instructor starts a round, shows one question at a time and closes or ends it;
learners join and answer. Every change publishes a ``live`` event to the players (names
as the course's leaderboard setting says) and to the course's staff (real names). When a
question opens, this process also sets a timer for its deadline so the results go out the
moment the countdown reaches zero; if the process dies first, the round still closes on
time for everyone (the state settles from the stored deadline on the next read), and the
results go out with the instructor's next step.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tornado.ioloop import IOLoop

from ...errors import APIError
from ...quizzes import live_records
from ...store.models import utcnow
from ..base import roster, run_db
from ..permissions import allow, course_member
from .quizzes import COURSE, QUIZ, QuizHandler

log = logging.getLogger(__name__)
SESSION = rf"{COURSE}/live/(?P<session_id>[^/]+)"
TIMER_SLACK = 0.05  # seconds after the deadline, so the settled state is certainly closed


class LiveHandler(QuizHandler):
    def session_id(self, raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise APIError(400, "invalid_id", "The live session id must be a number.") from None

    async def teams(self, course: str, mode: str = "none", cohort: str | None = None):
        """Who is in which team, from the hub: cohorts, or team groups inside ``cohort``
        (groups with properties ``{"cohortlab": {"kind": "team", "course", "cohort",
        "team"}}``)."""
        members = await self.roster(course)
        if mode == "cohorts":
            of = {name: sorted(c)[0] for name, (_role, c) in members.items() if c}
        elif mode == "teams":
            if not cohort:
                raise APIError(400, "missing_field", "team_mode teams needs team_cohort.")
            if not any(cohort in c for _role, c in members.values()):
                raise APIError(
                    404, "unknown_cohort", f"Course {course!r} has no cohort {cohort!r}."
                )
            hub = self.settings["hub_groups"]
            users, props = await hub.users(), await hub.properties()
            of = {}
            for group, meta in props.items():
                info = (meta or {}).get("cohortlab") or {}
                if (
                    info.get("kind") == "team"
                    and info.get("course") == course
                    and info.get("cohort") == cohort
                    and isinstance(info.get("team"), str)
                ):
                    for name in users.get(group, ()):
                        of.setdefault(name, info["team"])
        elif mode == "none":
            of = {}
        else:
            raise APIError(400, "invalid_field", "team_mode must be none, cohorts or teams.")
        return live_records.Teams(mode=mode, cohort=cohort if mode == "teams" else None, of=of)

    async def announce(self, announcement: live_records.Announcement | None) -> None:
        await announce(self.settings, announcement)

    def close_at_deadline(self, course: str, session_id: int, remaining: float) -> None:
        settings = self.settings

        async def settle() -> None:
            started = time.perf_counter()
            try:
                announcement = await run_db(
                    settings, live_records.settle_row, course, session_id, utcnow()
                )
            except Exception:
                log.warning("Could not close live session %s at its deadline", session_id)
                return
            computed = time.perf_counter()
            await announce(settings, announcement)
            if announcement is not None:
                log.info(
                    "Live session %s: question closed at its deadline; results for %d "
                    "players in %.0f ms, sent in %.0f ms",
                    session_id,
                    len(announcement.players),
                    1000 * (computed - started),
                    1000 * (time.perf_counter() - computed),
                )

        IOLoop.current().call_later(max(0.0, remaining) + TIMER_SLACK, settle)


async def announce(
    settings: dict[str, Any], announcement: live_records.Announcement | None
) -> None:
    """Tell the players and the course's staff; never fail a committed step over it.

    The end goes to every learner of the course, so those who never joined stop being
    offered to join a round that is over. A closed question's correct answer goes only to
    the players the quiz policy lets see it (``keyed_players``); everyone else's event
    has none.
    """
    if announcement is None:
        return
    try:
        members = await roster(settings, announcement.session.course)
        staff = sorted(n for n, (role, _c) in members.items() if role != "learner")
        learners = announcement.players
        if announcement.action == "ended":
            learners = sorted(n for n, (role, _c) in members.items() if role == "learner")
        keyed = set(announcement.keyed_players) if announcement.keyed_event else set()
        bus = settings["bus"]
        await bus.publish([n for n in learners if n not in keyed], announcement.learner_event)
        if keyed:
            await bus.publish(sorted(keyed), announcement.keyed_event)
        await bus.publish(staff, announcement.staff_event)
    except Exception:
        log.warning("Could not publish a live quiz event", exc_info=True)


class QuizLiveHandler(LiveHandler):
    @allow(course_member)
    async def get(self, course: str, quiz: str) -> None:
        def work(session: Any) -> dict[str, Any]:
            row = live_records.current(session, self.caller, quiz)
            return live_records.view_by_id(session, self.caller, row.id, utcnow())

        self.write_json(await self.run_db(work))

    @allow(course_member)
    async def post(self, course: str, quiz: str) -> None:
        body = self.json_body() if self.request.body else {}
        mode = body.get("team_mode", "none")
        teams = await self.teams(course, mode, body.get("team_cohort"))
        view = await self.run_db(live_records.start, self.caller, quiz, body, teams, utcnow())
        await self.tell_course(
            {
                "type": "live",
                "action": "started",
                "course": course,
                "quiz": quiz,
                "session": view["session"]["id"],
            }
        )
        self.write_json(view, status=201)


class SessionHandler(LiveHandler):
    @allow(course_member)
    async def get(self, course: str, session_id: str) -> None:
        sid = self.session_id(session_id)
        self.write_json(await self.run_db(live_records.view_by_id, self.caller, sid, utcnow()))


class JoinHandler(LiveHandler):
    @allow(course_member)
    async def post(self, course: str, session_id: str) -> None:
        sid = self.session_id(session_id)

        def mode(session: Any) -> tuple[str, str | None]:
            row, _record = live_records.load(session, course, sid)
            return row.team_mode, row.team_cohort

        team_mode, team_cohort = await self.run_db(mode)
        teams = await self.teams(course, team_mode, team_cohort)
        view = await self.run_db(live_records.join, self.caller, sid, teams, utcnow())
        self.write_json(view)
        # the host's screen counts the room (staff only: learners need no roll call)
        try:
            members = await self.roster(course)
            staff = sorted(n for n, (role, _c) in members.items() if role != "learner")
            await self.settings["bus"].publish(
                staff,
                {
                    "type": "live",
                    "action": "player_joined",
                    "course": course,
                    "quiz": view["session"]["quiz"],
                    "session": sid,
                    "players": view["session"]["players"],
                },
            )
        except Exception:
            log.warning("Could not publish a live quiz event", exc_info=True)


class LiveAnswerHandler(LiveHandler):
    @allow(course_member)
    async def post(self, course: str, session_id: str) -> None:
        sid = self.session_id(session_id)
        body = self.json_body()
        self.write_json(
            await self.run_db(live_records.answer, self.caller, sid, body, utcnow()), status=201
        )


class StepHandler(LiveHandler):
    @allow(course_member)
    async def post(self, course: str, session_id: str, action: str) -> None:
        sid = self.session_id(session_id)
        body = self.json_body() if self.request.body else {}
        view, announcement = await self.run_db(
            live_records.transition, self.caller, sid, action, body, utcnow()
        )
        await self.announce(announcement)
        if action == "next":
            self.close_at_deadline(course, sid, view["session"]["remaining"])
        self.write_json(view)


default_handlers = [
    (rf"{QUIZ}/live", QuizLiveHandler),
    (SESSION, SessionHandler),
    (rf"{SESSION}/join", JoinHandler),
    (rf"{SESSION}/answers", LiveAnswerHandler),
    (rf"{SESSION}/(?P<action>next|close|end)", StepHandler),
]
