"""The service's view of people: their row id (cached; ids never change) and last sight."""

from __future__ import annotations

from concurrent.futures import Executor

from sqlalchemy.orm import Session, sessionmaker
from tornado.ioloop import IOLoop

from ..people import record_seen


class People:
    """Maps hub user names to ``users.id`` and records last sight at most once per
    ``interval`` seconds, off the event loop, so requests do not write on every call."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        executor: Executor | None = None,
        interval: float = 300.0,
    ) -> None:
        self.factory = factory
        self.executor = executor
        self.interval = interval
        self._ids: dict[str, int] = {}
        self._seen: dict[str, float] = {}

    async def user_id(self, name: str) -> int:
        if name not in self._ids:
            await self.touch(name)
        return self._ids[name]

    async def touch(self, name: str) -> None:
        now = IOLoop.current().time()
        if name in self._ids and now - self._seen.get(name, -self.interval) < self.interval:
            return
        self._ids[name] = await IOLoop.current().run_in_executor(
            self.executor, record_seen, self.factory, name
        )
        self._seen[name] = now
