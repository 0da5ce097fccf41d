"""``/me``: who the caller is, in which courses with which role, in which cohorts."""

from __future__ import annotations

from ...courses import membership
from ..base import BaseHandler
from ..permissions import allow, person


class MeHandler(BaseHandler):
    @allow(person)
    async def get(self) -> None:
        user = self.hub_user
        groups = await self.settings["hub_groups"].properties()
        member = membership(user.get("groups", []), groups)
        await self.settings["people"].touch(user["name"])
        self.write_json(
            {
                "name": user["name"],
                "admin": bool(user.get("admin", False)),
                "courses": member.courses_json(),
                "cohorts": [c.to_json() for c in member.cohorts],
            }
        )


default_handlers = [(r"api/v1/me", MeHandler)]
