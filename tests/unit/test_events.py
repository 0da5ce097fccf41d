"""Per-user fan-out: each person gets only their own events, across replicas on PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import pytest
from cohortlab.events import MAX_PAYLOAD, EventBus, PostgresEventBus, _payloads, make_bus


async def test_events_reach_only_their_recipients() -> None:
    bus = EventBus()
    got: dict[str, list[dict]] = {"ada": [], "ben": []}
    bus.subscribe("ada", got["ada"].append)
    bus.subscribe("ben", got["ben"].append)
    await bus.publish(["ada"], {"type": "reply"})
    assert got == {"ada": [{"type": "reply"}], "ben": []}


async def test_unsubscribed_connections_get_nothing_and_leave_no_trace() -> None:
    bus = EventBus()
    got: list[dict] = []
    unsubscribe = bus.subscribe("ada", got.append)
    unsubscribe()
    await bus.publish(["ada"], {"type": "x"})
    assert got == []
    assert bus.subscriber_count() == 0


async def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus = EventBus()
    got: list[dict] = []

    def broken(_event: dict) -> None:
        raise RuntimeError("socket gone")

    bus.subscribe("ada", broken)
    bus.subscribe("ada", got.append)
    await bus.publish(["ada"], {"type": "x"})
    assert got == [{"type": "x"}]


async def test_watchers_see_every_event_whoever_it_is_for() -> None:
    """How a replica drops cached reads: it watches all events, not just its people's."""
    bus = EventBus()
    seen: list[dict] = []
    bus.watch(seen.append)
    bus.watch(lambda _e: (_ for _ in ()).throw(RuntimeError("broken watcher")))
    await bus.publish(["nobody-connected"], {"type": "discussion", "course": "c1"})
    assert seen == [{"type": "discussion", "course": "c1"}]


def test_sqlite_uses_the_in_process_bus_and_postgresql_the_notify_bus() -> None:
    assert type(make_bus("sqlite:///x.sqlite")) is EventBus
    assert isinstance(make_bus("postgresql://u@h/db"), PostgresEventBus)


@pytest.mark.postgres
@pytest.mark.parametrize("cl_db_url", ["postgresql"], indirect=True)
async def test_notify_fans_out_across_two_replicas(cl_db_url: str) -> None:
    one, two = make_bus(cl_db_url), make_bus(cl_db_url)
    await one.start()
    await two.start()
    try:
        received: asyncio.Queue[dict] = asyncio.Queue()
        watched: asyncio.Queue[dict] = asyncio.Queue()
        two.subscribe("ada", received.put_nowait)
        two.watch(watched.put_nowait)
        await one.publish(["ada"], {"type": "pong", "token": "t1"})
        assert await asyncio.wait_for(received.get(), 5) == {"type": "pong", "token": "t1"}
        assert await asyncio.wait_for(watched.get(), 5) == {"type": "pong", "token": "t1"}
        # the sending connection is kept and reused
        await one.publish(["ada"], {"type": "pong", "token": "t2"})
        assert (await asyncio.wait_for(received.get(), 5))["token"] == "t2"
        with pytest.raises(ValueError, match="too large"):
            await one.publish(["ada"], {"type": "x", "body": "y" * 9000})
        # a whole room: the list is split over several notifications, the last still arrives
        room = [f"learner-{i:04d}" for i in range(1500)] + ["ada"]
        await one.publish(room, {"type": "pong", "token": "room"})
        assert (await asyncio.wait_for(received.get(), 5))["token"] == "room"
    finally:
        await one.stop()
        await two.stop()


def test_long_recipient_lists_are_split_to_fit_notify() -> None:
    room = [f"learner-{i:04d}" for i in range(2000)]
    event = {"type": "live", "results": {"top": ["x" * 40] * 10}}
    payloads = _payloads(room, event)
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    decoded = [json.loads(p) for p in payloads]
    assert [n for d in decoded for n in d["to"]] == room
    assert all(d["event"] == event for d in decoded)
    assert len(_payloads([], event)) == 1
