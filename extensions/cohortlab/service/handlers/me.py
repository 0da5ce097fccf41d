"""``/me``: who the caller is, in which courses with which role, in which cohorts."""

from __future__ import annotations

from tornado.ioloop import IOLoop

from ...courses import membership
from ...people import record_seen
from ..base import BaseHandler
from ..permissions import allow, person


class MeHandler(BaseHandler):
    @allow(person)
    async def get(self) -> None:
        user = self.hub_user
        groups = await self.settings["hub_groups"].properties()
        member = membership(user.get("groups", []), groups)
        await self.settings["seen"].touch(user["name"])
        self.write_json(
            {
                "name": user["name"],
                "admin": bool(user.get("admin", False)),
                "courses": member.courses_json(),
                "cohorts": [c.to_json() for c in member.cohorts],
            }
        )


class SeenRecorder:
    """Records first/last sight of a person at most once per ``interval`` seconds,
    off the event loop, so ``/me`` does not write on every call."""

    def __init__(self, factory, interval: float = 300.0) -> None:  # type: ignore[no-untyped-def]
        self.factory = factory
        self.interval = interval
        self._last: dict[str, float] = {}

    async def touch(self, name: str) -> None:
        now = IOLoop.current().time()
        if now - self._last.get(name, -self.interval) < self.interval:
            return
        await IOLoop.current().run_in_executor(None, record_seen, self.factory, name)
        self._last[name] = now


default_handlers = [(r"api/v1/me", MeHandler)]
