"""Threads and posts of a course: ``/api/v1/courses/<course>/...``.

Every route needs a person in the course (``course_member``); the discussion
logic then checks the finer rules (staff only, author only, who may see a thread)
and says who may do what when it refuses. Writes publish a ``discussion`` event
to the course members who may see the thread, and a ``notification`` event with
the new unread count to each person notified — after the transaction commits.
"""

from __future__ import annotations

import json
from typing import Any

from ...discussions import notify, posts, schemas, threads
from ...discussions.cache import ReadCache, viewer_class
from ...discussions.ratelimit import RateLimit
from ...discussions.views import peer_location
from ...discussions.visibility import may_be_told
from ...errors import APIError
from ..base import BaseHandler
from ..permissions import allow, course_member

COURSE = r"api/v1/courses/(?P<course>[^/]+)"


class DiscussionHandler(BaseHandler):
    @property
    def rate_limit(self) -> RateLimit:
        return self.settings.get("post_rate_limit") or RateLimit()

    async def members(self, course: str) -> threads.Members:
        found = await self.roster(course)
        return {
            name: (role in ("instructor", "mentor"), cohorts)
            for name, (role, cohorts) in found.items()
        }

    async def publish(self, outcome: threads.Outcome) -> None:
        """Tell those who may see the thread that it changed, and each person notified
        their new unread count. Events carry ids only; clients fetch what they may read."""
        thread = outcome.thread
        if thread is None:
            return
        bus = self.settings["bus"]
        members = await self.members(thread.course)
        staff_only = outcome.action in threads.STAFF_ACTIONS
        named = thread.visibility == "staff" or thread.anonymous
        author = await self.user_name(thread.author_id) if named else None
        audience = [
            name
            for name, (is_staff, cohorts) in members.items()
            if is_staff
            or (
                not staff_only
                and may_be_told(thread, is_staff=False, cohorts=cohorts, is_author=name == author)
            )
        ]
        event = {
            "type": "discussion",
            "action": outcome.action,
            "course": thread.course,
            "thread_id": thread.id,
            "notebook_key": thread.notebook_key,
            "cell_key": thread.cell_key,
        }
        if thread.visibility == "cohort":
            event["cohort"] = thread.cohort  # the stream checks it too (``service/stream_access``)
        peers_key, peers_cell, _ = peer_location(
            thread.notebook_key, thread.cell_key, thread.anchor, thread.anonymous
        )
        if (peers_key, peers_cell) == (thread.notebook_key, thread.cell_key):
            await bus.publish(audience, event)
        else:
            # peers of an anonymous asker hear of the thread where they list it (views.py)
            told = {n for n in audience if n == author or members[n][0]}
            await bus.publish(sorted(told), event)
            peers = {**event, "notebook_key": peers_key, "cell_key": peers_cell}
            await bus.publish([n for n in audience if n not in told], peers)
        if outcome.notified_names:
            # No count in the event: each person's client fetches their own (cheap for
            # one person, while counting for every follower here made replies slow).
            await bus.publish(
                outcome.notified_names,
                {"type": "notification", "course": thread.course, "thread_id": thread.id},
            )

    @property
    def known_names(self) -> dict[int, str]:
        """Hub names this service has looked up, by user id. A user row's name never
        changes, and a reply may notify the whole course: a query per reply was 14 % of
        its time."""
        return self.settings.setdefault("user_names", {})

    async def user_name(self, user_id: int) -> str | None:
        known = self.known_names
        if user_id not in known:
            known.update(await self.run_db(lambda s: threads.names_for(s, {user_id})))
        return known.get(user_id)

    @property
    def read_cache(self) -> ReadCache:
        return self.settings["read_cache"]

    def cached(self, key: Any, load: Any) -> Any:
        """A read of this course through the shared read cache (see ``discussions.cache``)."""
        assert self.caller is not None
        return self.read_cache.get_or_load(self.caller.course, key, load)

    def viewer(self) -> tuple[Any, bool]:
        """The caller's cache class, and whether reads for it include the caller's own
        staff-only threads. Both come from one lookup, so a listing with someone's private
        question is never stored under a class other learners share."""
        caller = self.caller
        assert caller is not None
        if caller.is_staff:
            return viewer_class(caller), False
        askers = self.cached(
            ("private-askers",), lambda: self.read_db(threads.private_askers, caller.course)
        )
        return viewer_class(caller, askers), caller.user_id in askers

    async def write_db(self, fn: Any, *args: Any) -> Any:
        """``run_db`` for writes: this replica's cached reads of the course are dropped as
        soon as the transaction ends (other replicas drop theirs on the published event)."""
        assert self.caller is not None
        try:
            return await self.run_db(fn, *args)
        finally:
            self.read_cache.invalidate(self.caller.course)

    async def change(self, fn: Any, *args: Any, status: int = 200) -> None:
        """Run a discussion write in one transaction, tell who should know, answer."""
        caller = self.caller

        known = self.known_names

        def work(session: Any) -> tuple[Any, threads.Outcome]:
            result, outcome = fn(session, caller, *args)
            missing = {u for u in outcome.notified if u not in known}
            if missing:
                known.update(threads.names_for(session, missing))
            outcome.notified_names = sorted(known[u] for u in set(outcome.notified))
            return result, outcome

        result, outcome = await self.write_db(work)
        await self.publish_safely(outcome)
        self.write_json(result, status=status)

    async def publish_safely(self, outcome: threads.Outcome) -> None:
        """The write has committed: a failure to tell others (hub or bus down) must not turn
        it into an error the client would retry, posting twice. Clients catch up on reload."""
        try:
            await self.publish(outcome)
        except Exception:
            self.log.warning("Could not publish discussion event", exc_info=True)

    def int_arg(self, value: str, what: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise APIError(400, "invalid_id", f"{what} must be a number.") from None


class ThreadListHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        notebook_key = self.get_argument("notebook_key", None)
        scope = self.get_argument("scope", "notebook" if notebook_key else "course")
        if scope not in ("course", "notebook", "all"):
            raise APIError(400, "invalid_scope", "scope must be course, notebook or all.")
        caller = self.caller
        assert caller is not None
        query = {
            "notebook_key": notebook_key,
            "cell_key": self.get_argument("cell_key", None),
            "scope": scope,
            "category": self.get_argument("category", None),
            "q": self.get_argument("q", None),
        }
        viewer, own = self.viewer()
        rows = self.cached(
            ("threads", viewer, tuple(query.values())),
            lambda: threads.prerender(
                self.read_db(lambda s: threads.thread_rows(s, caller, **query, own_private=own)),
                caller.is_staff,
            ),
        )
        followed = self.cached(
            ("follows", caller.user_id),
            lambda: self.read_db(threads.followed_ids, caller),
        )
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(threads.listing_json(rows, caller, followed))

    @allow(course_member)
    async def post(self, course: str) -> None:
        new = schemas.new_thread(self.json_body())
        members = await self.members(course)
        await self.change(threads.open_thread, new, members, self.rate_limit, status=201)


class ThreadHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str, thread_id: str) -> None:
        tid = self.int_arg(thread_id, "thread id")
        data = await self.run_db(
            lambda s: threads.thread_detail(
                s, self.caller, threads.load_visible(s, self.caller, tid)
            )
        )
        self.write_json(data)

    @allow(course_member)
    async def patch(self, course: str, thread_id: str) -> None:
        tid = self.int_arg(thread_id, "thread id")
        change = schemas.thread_change(self.json_body())
        await self.change(threads.change_thread, tid, change)

    @allow(course_member)
    async def delete(self, course: str, thread_id: str) -> None:
        tid = self.int_arg(thread_id, "thread id")
        outcome = await self.write_db(threads.delete_thread, self.caller, tid)
        await self.publish_safely(outcome)
        self.set_status(204)
        self.finish()


class ReplyHandler(DiscussionHandler):
    @allow(course_member)
    async def post(self, course: str, thread_id: str) -> None:
        tid = self.int_arg(thread_id, "thread id")
        new = schemas.new_post(self.json_body())
        members = await self.members(course)
        await self.change(posts.reply, tid, new, members, self.rate_limit, status=201)


class FollowHandler(DiscussionHandler):
    async def _set(self, thread_id: str, on: bool) -> None:
        tid = self.int_arg(thread_id, "thread id")

        def work(s: Any) -> dict[str, Any]:
            thread = threads.load_visible(s, self.caller, tid)
            (notify.follow if on else notify.unfollow)(s, thread.id, self.caller.user_id)
            return {"thread_id": thread.id, "following": on}

        self.write_json(await self.write_db(work))

    @allow(course_member)
    async def put(self, course: str, thread_id: str) -> None:
        await self._set(thread_id, True)

    @allow(course_member)
    async def delete(self, course: str, thread_id: str) -> None:
        await self._set(thread_id, False)


class ThreadCountsHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        notebook_key = self.get_argument("notebook_key", None)
        if not notebook_key:
            raise APIError(400, "missing_field", "thread-counts needs ?notebook_key=.")
        caller = self.caller
        assert caller is not None
        viewer, own = self.viewer()
        body = self.cached(
            ("counts", viewer, notebook_key),
            lambda: json.dumps(
                {
                    "notebook_key": notebook_key,
                    "counts": self.read_db(threads.thread_counts, caller, notebook_key, own),
                },
                separators=(",", ":"),
            ),
        )
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(body)


class PostHandler(DiscussionHandler):
    @allow(course_member)
    async def patch(self, course: str, post_id: str) -> None:
        pid = self.int_arg(post_id, "post id")
        data = self.json_body()
        if set(data) == {"hidden"} and isinstance(data["hidden"], bool):
            await self.change(posts.hide, pid, data["hidden"])
        elif set(data) == {"body"}:
            await self.change(posts.edit, pid, schemas.body_text(data))
        else:
            raise APIError(
                400,
                "invalid_change",
                "Send either {'body': ...} to edit or {'hidden': true|false} to moderate.",
            )

    @allow(course_member)
    async def delete(self, course: str, post_id: str) -> None:
        pid = self.int_arg(post_id, "post id")
        await self.change(posts.remove, pid)


class RevisionsHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str, post_id: str) -> None:
        pid = self.int_arg(post_id, "post id")
        self.write_json({"revisions": await self.run_db(posts.revisions, self.caller, pid)})


class OnOffHandler(DiscussionHandler):
    """PUT turns something on for a post, DELETE turns it off (``toggle(session, caller,
    post_id, on)``)."""

    toggle: Any = None

    @allow(course_member)
    async def put(self, course: str, post_id: str) -> None:
        await self.change(type(self).toggle, self.int_arg(post_id, "post id"), True)

    @allow(course_member)
    async def delete(self, course: str, post_id: str) -> None:
        await self.change(type(self).toggle, self.int_arg(post_id, "post id"), False)


class VoteHandler(OnOffHandler):
    toggle = staticmethod(posts.vote)


class EndorsementHandler(OnOffHandler):
    toggle = staticmethod(posts.endorse)


class FlagHandler(DiscussionHandler):
    @allow(course_member)
    async def post(self, course: str, post_id: str) -> None:
        pid = self.int_arg(post_id, "post id")
        reason = schemas.flag_reason(self.json_body() if self.request.body else {})
        await self.change(posts.flag, pid, reason, status=201)

    @allow(course_member)
    async def delete(self, course: str, post_id: str) -> None:
        await self.change(posts.dismiss_flags, self.int_arg(post_id, "post id"))


class FlagListHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        flags = await self.run_db(posts.open_flags, self.caller)
        self.write_json({"flags": flags, "count": len(flags)})


class ModerationLogHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        self.write_json({"actions": await self.run_db(threads.moderation_log, self.caller)})


class MemberListHandler(DiscussionHandler):
    @allow(course_member)
    async def get(self, course: str) -> None:
        prefix = (self.get_argument("q", "") or "").lower()
        found = await self.roster(course)
        items = [
            {"name": name, "role": role}
            for name, (role, _cohorts) in sorted(found.items())
            if name.lower().startswith(prefix)
        ]
        self.write_json({"members": items[:50]})


default_handlers = [
    (rf"{COURSE}/threads", ThreadListHandler),
    (rf"{COURSE}/threads/(?P<thread_id>[^/]+)", ThreadHandler),
    (rf"{COURSE}/threads/(?P<thread_id>[^/]+)/posts", ReplyHandler),
    (rf"{COURSE}/threads/(?P<thread_id>[^/]+)/follow", FollowHandler),
    (rf"{COURSE}/thread-counts", ThreadCountsHandler),
    (rf"{COURSE}/posts/(?P<post_id>[^/]+)", PostHandler),
    (rf"{COURSE}/posts/(?P<post_id>[^/]+)/revisions", RevisionsHandler),
    (rf"{COURSE}/posts/(?P<post_id>[^/]+)/vote", VoteHandler),
    (rf"{COURSE}/posts/(?P<post_id>[^/]+)/endorsement", EndorsementHandler),
    (rf"{COURSE}/posts/(?P<post_id>[^/]+)/flags", FlagHandler),
    (rf"{COURSE}/flags", FlagListHandler),
    (rf"{COURSE}/moderation-log", ModerationLogHandler),
    (rf"{COURSE}/members", MemberListHandler),
]
