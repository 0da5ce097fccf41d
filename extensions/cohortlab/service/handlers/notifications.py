"""``/api/v1/notifications``: the caller's own notifications and unread count, about
threads they may see now (a removal from a course or cohort ends them at once)."""

from __future__ import annotations

from typing import Any

from ...access import Caller
from ...courses import membership
from ...discussions import notify
from ...errors import APIError
from ..base import BaseHandler
from ..permissions import allow, person


def _notification_json(n: Any) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "course": n.course,
        "thread_id": n.thread_id,
        "post_id": n.post_id,
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
    }


class NotificationHandler(BaseHandler):
    async def as_member(self) -> tuple[int, list[Caller]]:
        """The caller's user id, and the caller in each course they are in now (hub
        groups): notifications are read only about threads those may see."""
        user = self.hub_user
        uid = await self.settings["people"].user_id(user["name"])
        member = membership(user.get("groups", []), await self.settings["hub_groups"].properties())
        return uid, [Caller.in_course(user["name"], uid, c, member) for c in member.roles]


class NotificationListHandler(NotificationHandler):
    @allow(person)
    async def get(self) -> None:
        uid, callers = await self.as_member()
        unread_only = self.get_argument("unread", "false").lower() in ("1", "true", "yes")

        def work(s: Any) -> dict[str, Any]:
            items = notify.list_notifications(s, uid, callers, unread_only=unread_only)
            return {
                "notifications": [_notification_json(n) for n in items],
                "unread": notify.unread_count(s, uid, callers),
            }

        self.write_json(await self.run_db(work))


class NotificationReadHandler(NotificationHandler):
    @allow(person)
    async def post(self) -> None:
        uid, callers = await self.as_member()
        data = self.json_body()
        ids = data.get("ids")
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)
        ):
            raise APIError(400, "invalid_field", "'ids' must be a list of notification ids.")
        if ids is None and data.get("all") is not True:
            raise APIError(400, "missing_field", "Send {'ids': [...]} or {'all': true}.")

        def work(s: Any) -> dict[str, Any]:
            marked = notify.mark_read(s, uid, ids)
            return {"marked": marked, "unread": notify.unread_count(s, uid, callers)}

        self.write_json(await self.run_db(work))


default_handlers = [
    (r"api/v1/notifications", NotificationListHandler),
    (r"api/v1/notifications/read", NotificationReadHandler),
]
