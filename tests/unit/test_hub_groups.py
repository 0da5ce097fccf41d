"""The service's cache of the hub's groups: one hub call at a time, no waits once known."""

from __future__ import annotations

import asyncio
from typing import Any

from cohortlab.service.hub import HubGroups

from tests.helpers.waiting import wait_until_async


class SlowHub(HubGroups):
    calls = 0

    async def _get(self, path: str) -> dict[str, Any]:
        self.calls += 1
        # Kept: the slow hub is what is under test (requests meanwhile share this call).
        await asyncio.sleep(0.05)
        name = f"cohort-{self.calls}"
        return {"items": [{"name": name, "properties": {"n": self.calls}, "users": ["ada"]}]}


async def test_requests_share_one_call_and_are_served_while_it_refreshes() -> None:
    hub = SlowHub("http://127.0.0.1:1/hub/api", "x", max_age=30)
    first = await asyncio.gather(*(hub.properties() for _ in range(20)))
    assert hub.calls == 1 and all(f == {"cohort-1": {"n": 1}} for f in first)
    hub._fetched_at -= 25  # past 3/4 of the period: served at once, renewed behind
    assert await hub.properties() == {"cohort-1": {"n": 1}}
    assert await hub.properties() == {"cohort-1": {"n": 1}}
    renewed = {"cohort-2": {"n": 2}}
    await wait_until_async(lambda: hub.known_properties() == renewed, 5, "the refresh")
    assert hub.calls == 2 and await hub.users() == {"cohort-2": ["ada"]}
    hub._fetched_at -= 31  # expired: wait for the hub rather than use old groups
    assert await hub.properties() == {"cohort-3": {"n": 3}}


async def test_no_cache_reads_the_hub_every_time() -> None:
    hub = SlowHub("http://127.0.0.1:1/hub/api", "x", max_age=0)
    await hub.properties()
    await hub.properties()
    assert hub.calls == 2
