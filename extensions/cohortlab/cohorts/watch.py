"""Cohort members removed on the hub directly: their access goes, and the workspace restarts.

The service removes members through :func:`cohorts.hub.remove_member`, which revokes the
person's share and stops the workspace's server (so its token is renewed). An admin may
also take someone out of a cohort's group in JupyterHub itself; the service sees that in
its next read of the hub's groups (``service.hub.HubGroups``, renewed every
``groups_cache_seconds`` by :class:`MembershipWatch`, requests or not). For each cohort
group that lost a member since the previous read, :func:`cohorts.hub.sync` revokes the
share, which stops the workspace's server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from ..courses import COHORT_PREFIX
from . import hub as cohort_hub

log = logging.getLogger(__name__)
#: Seconds between two looks at the most (a hub with no group cache still gets one per 5 s).
MIN_EVERY = 5.0


def lost_members(
    before: Mapping[str, list[str]],
    after: Mapping[str, list[str]],
    properties: Mapping[str, Mapping[str, Any]],
) -> list[tuple[str, str]]:
    """(course, cohort) of every cohort group with a member in ``before`` not in ``after``."""
    found = []
    for group, members in sorted(before.items()):
        if not group.startswith(COHORT_PREFIX) or group not in after:
            continue
        if set(members) - set(after[group]):
            meta = (properties.get(group) or {}).get("cohortlab") or {}
            if meta.get("kind") == "cohort" and meta.get("course") and meta.get("cohort"):
                found.append((str(meta["course"]), str(meta["cohort"])))
    return found


class MembershipWatch:
    """Reads the hub's groups every ``every`` seconds and syncs cohorts that lost members."""

    def __init__(self, groups: Any, hub: cohort_hub.HubClient, every: float) -> None:
        self.groups, self.hub, self.every = groups, hub, max(every, MIN_EVERY)
        self._before: dict[str, list[str]] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def check(self) -> list[tuple[str, str]]:
        """One look: the cohorts synced because they lost members since the last look."""
        properties = await self.groups.properties()
        after = {g: list(u) for g, u in (await self.groups.users()).items()}
        before, self._before = self._before, after
        if before is None:
            return []
        synced = []
        for course, cohort in lost_members(before, after, properties):
            try:
                await cohort_hub.sync(self.hub, course, cohort)
                synced.append((course, cohort))
            except Exception as e:
                log.warning("Cohort %s/%s lost a member; sync failed: %s", course, cohort, e)
        return synced

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as e:
                log.warning("Reading the hub's cohort groups failed: %s", e)
            await asyncio.sleep(self.every)
