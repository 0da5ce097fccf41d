"""Per-user event fan-out for the WebSocket stream ``/api/v1/events``.

Later capabilities call :meth:`EventBus.publish` *after* their transaction
commits. One process delivers to its own subscribers; with PostgreSQL the
:class:`PostgresEventBus` sends each event through ``NOTIFY`` so every replica
of the service delivers it to the subscribers it holds (DESIGN.md: no broker
beyond PostgreSQL, no state only in one process's memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .access import STAFF_ROLES
from .courses import Membership

log = logging.getLogger(__name__)

Event = dict[str, Any]
Subscriber = Callable[[Event], None]
CHANNEL = "cohortlab_events"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; events carry ids, not documents.
MAX_PAYLOAD = 7900


def may_receive(member: Membership, event: Event) -> bool:
    """Whether a person may be handed ``event`` now, whoever addressed it to them: an event
    about a course (``"course"``) only while they hold a role in it, one about a cohort
    (``"cohort"``) only while they are in that cohort or are the course's staff. ``member``
    is what the hub's groups say now. Events about no course (the stream's own hello, a
    ping's pong) pass."""
    course = event.get("course")
    if course is None:
        return True
    role = member.role_in(course)
    if role is None:
        return False
    cohort = event.get("cohort")
    if cohort is None or role in STAFF_ROLES:
        return True
    return any(c.course == course and c.name == cohort for c in member.cohorts)


class EventBus:
    """In-process fan-out; the base for the PostgreSQL one."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        self._watchers: list[Subscriber] = []

    async def start(self) -> None:
        """Begin receiving events from other processes (none for the local bus)."""

    async def stop(self) -> None:
        self._subscribers.clear()

    def subscribe(self, user: str, callback: Subscriber) -> Callable[[], None]:
        self._subscribers[user].add(callback)

        def unsubscribe() -> None:
            subs = self._subscribers.get(user)
            if subs is not None:
                subs.discard(callback)
                if not subs:
                    del self._subscribers[user]

        return unsubscribe

    def watch(self, callback: Subscriber) -> None:
        """Call ``callback`` with every event any replica publishes, whoever it is for
        (how replicas drop cached reads that a write elsewhere made stale)."""
        self._watchers.append(callback)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def publish(self, recipients: Iterable[str], event: Event) -> None:
        self.deliver(list(recipients), event)

    def deliver(self, recipients: list[str], event: Event) -> None:
        for watcher in self._watchers:
            try:
                watcher(event)
            except Exception:
                log.exception("Event watcher failed")
        for user in recipients:
            for callback in list(self._subscribers.get(user, ())):
                try:
                    callback(event)
                except Exception:
                    log.exception("Event subscriber for %s failed", user)


class PostgresEventBus(EventBus):
    """Fan-out across service replicas through PostgreSQL LISTEN/NOTIFY."""

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._sender: Any = None  # one connection for NOTIFY, opened on first use
        self._send_lock = asyncio.Lock()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=10)
        except TimeoutError:
            log.warning("Event listener not ready after 10 s; events may be late")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender.close()
            self._sender = None
        await super().stop()

    async def publish(self, recipients: Iterable[str], event: Event) -> None:
        """NOTIFY the event; a long recipient list (a live quiz's whole room) goes out in
        as many notifications as it takes to keep each under PostgreSQL's size limit."""
        for payload in _payloads(list(recipients), event):
            await self._notify(payload)

    async def _notify(self, payload: str) -> None:
        import psycopg

        async with self._send_lock:
            for attempt in (1, 2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = await psycopg.AsyncConnection.connect(
                            self._conninfo, autocommit=True
                        )
                    await self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except psycopg.OperationalError:
                    # the server restarted or the connection dropped: reconnect once
                    self._sender = None
                    if attempt == 2:
                        raise

    async def _listen(self) -> None:
        import psycopg

        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    delay = 0.5
                    async for note in conn.notifies():
                        try:
                            message = json.loads(note.payload)
                            self.deliver(list(message["to"]), message["event"])
                        except (ValueError, KeyError, TypeError):
                            log.warning("Ignoring malformed event notification")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("Event listener lost its connection (%s); retrying in %.1f s", e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)


def _payloads(recipients: list[str], event: Event) -> list[str]:
    """The NOTIFY payloads for one event: recipients split so each payload fits."""
    body = json.dumps(event, separators=(",", ":"))
    room = MAX_PAYLOAD - len(body.encode()) - len('{"to":[],"event":}')
    if room < 300:
        raise ValueError("event too large for NOTIFY; publish ids and let clients fetch")
    payloads: list[str] = []
    chunk: list[str] = []
    size = 0
    for name in recipients:
        cost = len(json.dumps(name).encode()) + 1
        if chunk and size + cost > room:
            payloads.append(_payload(chunk, body))
            chunk, size = [], 0
        chunk.append(name)
        size += cost
    if chunk or not payloads:
        payloads.append(_payload(chunk, body))
    return payloads


def _payload(recipients: list[str], body: str) -> str:
    return '{"to":' + json.dumps(recipients, separators=(",", ":")) + ',"event":' + body + "}"


def make_bus(db_url: str) -> EventBus:
    """PostgreSQL databases get cross-replica fan-out; SQLite is one process."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresEventBus(conninfo)
    return EventBus()
