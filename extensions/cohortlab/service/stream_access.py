"""Who an open event stream is for, checked again on every event.

A WebSocket is authenticated once, when it opens, and events then reach it by its person's
hub name for as long as it stays open. Most publishers address events from the hub's groups
(``base.roster``), but some address people found in the database (a thread's followers, a
live round's players, a review's reviewers), and a stream opened before a removal would
otherwise go on hearing the course. So every event that names a course (and a cohort) is
handed over only if the stream's person is in it *now* (``events.may_receive``), by the
identity the service holds for the stream's token: the same cached hub identity every
request with that token uses (``auth_cache_max_age``), so a removal ends a stream's events
when it ends the person's API access. While the stream is open it asks for that identity
every quarter of the period, which keeps it renewed in the background before it expires
(``hubauth.RefreshingHubOAuth``) — one hub call per open stream per period, as for a person
who keeps using the API; a token the hub no longer accepts closes the stream. When no
identity younger than the period is known (the hub down or slow to answer), course events
are dropped rather than delivered on an old one; clients catch up when they next read.

The per-event cost is a few dictionary look-ups (2 to 3 µs on the development machine, two
cores shared: a live round's results to a thousand streams add about 3 ms); the membership,
and each answer for a course and cohort, are worked out again only when the identity or the
hub's group properties change.

An event that comes while no fresh identity is known is not decided on the old one, nor
dropped: :meth:`StreamAccess.allows` says ``None`` (not known yet), the stream holds it, and
the stream's ``on_known`` hands held events over again once the hub has answered (dropped
then if the person is no longer in). Dropping them made a slow hub answer lose a live
round's question for someone who is in the round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from tornado.ioloop import IOLoop

from ..courses import Membership, membership
from ..events import Event, may_receive
from .hub import HubGroups
from .hubauth import RefreshingHubOAuth, token_cache_key

log = logging.getLogger(__name__)

#: Share of the identity period between two checks of an open stream's identity.
CHECK_SHARE = 0.25


class StreamAccess:
    """The live identity of one open stream (``token`` and ``session_id`` as it signed in)."""

    def __init__(
        self,
        hub_auth: RefreshingHubOAuth,
        hub_groups: HubGroups,
        token: str,
        session_id: str,
        model: dict[str, Any],
        on_lost: Callable[[], None],
        on_known: Callable[[], None] | None = None,
    ) -> None:
        self._auth, self._groups = hub_auth, hub_groups
        self._token, self._session_id = token, session_id
        self._key = token_cache_key(token, session_id)
        self._name = model["name"]
        self._model: dict[str, Any] | None = model
        self._model_at = self._stamp()
        self._memo: tuple[Any, Any, Membership] | None = None
        # may_receive's answers for the membership in _memo, by (course, cohort)
        self._verdicts: dict[tuple[str, str | None], bool] = {}
        self._on_lost = on_lost
        self._on_known = on_known
        self._timer: Any = None
        self._checking: asyncio.Future[Any] | None = None
        self._closed = False

    @property
    def period(self) -> float:
        return float(self._auth.cache_max_age)

    def start(self) -> None:
        self._schedule()

    def stop(self) -> None:
        self._closed = True
        if self._timer is not None:
            IOLoop.current().remove_timeout(self._timer)
            self._timer = None

    def allows(self, event: Event) -> bool | None:
        """Whether the stream's person may be handed ``event`` now; ``None`` while no fresh
        identity is known (a check is on its way: hold the event until ``on_known``)."""
        course = event.get("course")
        if course is None:
            return True
        model = self._identity()
        if model is None:
            return None if self._token and not self._closed else False
        member = self._membership(model)
        if member is None:
            return False
        where = (course, event.get("cohort"))
        verdict = self._verdicts.get(where)
        if verdict is None:
            verdict = self._verdicts[where] = may_receive(member, event)
        return verdict

    def _stamp(self) -> float:
        """When the hub gave the identity now cached for the stream's token."""
        stamps = getattr(self._auth.cache, "timestamps", {})
        return float(stamps.get(self._key, time.monotonic()))

    def _identity(self) -> dict[str, Any] | None:
        if not self._token:
            return None
        cached = self._auth.cache.get(self._key)  # cached_identity(), its key made once
        if cached is not None:
            if cached is not self._model:
                self._model, self._model_at = cached, self._stamp()
            return cached
        if self._model is not None and time.monotonic() - self._model_at < self.period:
            return self._model
        self._check()  # none fresh enough: drop course events until the hub answers
        return None

    def _membership(self, model: dict[str, Any]) -> Membership | None:
        if model.get("name") != self._name:
            return None
        properties = self._groups.known_properties()
        if self._memo is None or self._memo[0] is not model or self._memo[1] is not properties:
            self._memo = (model, properties, membership(model.get("groups", []), properties))
            self._verdicts = {}
        return self._memo[2]

    def _schedule(self) -> None:
        if not self._closed:
            delay = max(0.25, CHECK_SHARE * self.period)
            self._timer = IOLoop.current().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._check()
        self._schedule()

    def _check(self) -> None:
        """Ask for the stream's identity (from the cache while fresh; the cache renews it
        in the background); close the stream if the hub no longer accepts its token."""
        if self._closed or self._checking is not None or not self._token:
            return

        async def check() -> None:
            try:
                model = await self._auth.user_for_token(
                    self._token, session_id=self._session_id, sync=False
                )
            except Exception as e:  # the hub unreachable: keep what is known, try again
                log.warning("Could not check an event stream's identity: %s", e)
                return
            finally:
                self._checking = None
            if model is None or model.get("name") != self._name:
                self._model = None
                if not self._closed:
                    log.info("Closing %s's event stream: the hub no longer accepts it", self._name)
                    self._on_lost()
            else:
                if model is not self._model:
                    self._model, self._model_at = model, self._stamp()
                if self._on_known is not None and not self._closed:
                    self._on_known()

        self._checking = asyncio.ensure_future(check())
