"""Cohort members removed on the hub directly: their access goes, and the workspace restarts.

The service removes members through :func:`cohorts.hub.remove_member`, which revokes the
person's share and stops the workspace's server (so its token is renewed). An admin may
also take someone out of a cohort's group in JupyterHub itself; the service sees that in
its next read of the hub's groups (``service.hub.HubGroups``, renewed every
``groups_cache_seconds`` by :class:`MembershipWatch`, requests or not). For each cohort
group that lost a member since the previous read (or is new), :func:`cohorts.hub.sync`
revokes the share, which stops the workspace's server; every ``sweep_every`` reads (and at
the first) every cohort is synced, for someone added and removed between two reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from ..courses import COHORT_PREFIX
from . import hub as cohort_hub
from .manage import group_name

log = logging.getLogger(__name__)
#: Seconds between two looks at the most (a hub with no group cache still gets one per 5 s).
MIN_EVERY = 5.0


def _cohort(group: str, properties: Mapping[str, Mapping[str, Any]]) -> tuple[str, str] | None:
    meta = (properties.get(group) or {}).get("cohortlab") or {}
    if not group.startswith(COHORT_PREFIX) or meta.get("kind") != "cohort":
        return None
    if not (meta.get("course") and meta.get("cohort")):
        return None
    return str(meta["course"]), str(meta["cohort"])


def lost_members(
    before: Mapping[str, list[str]],
    after: Mapping[str, list[str]],
    properties: Mapping[str, Mapping[str, Any]],
) -> list[tuple[str, str]]:
    """(course, cohort) of every cohort group that lost a member between the two reads, or
    that is new since the first (its members may have come and gone in between)."""
    found = []
    for group, members in sorted(after.items()):
        cohort = _cohort(group, properties)
        if cohort is None:
            continue
        if group not in before or set(before[group]) - set(members):
            found.append(cohort)
    return found


def all_cohorts(
    after: Mapping[str, list[str]], properties: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str]]:
    return [c for g in sorted(after) if (c := _cohort(g, properties)) is not None]


class MembershipWatch:
    """Reads the hub's groups every ``every`` seconds and syncs cohorts that lost members."""

    def __init__(
        self, groups: Any, hub: cohort_hub.HubClient, every: float, sweep_every: int = 12
    ) -> None:
        self.groups, self.hub, self.every = groups, hub, max(every, MIN_EVERY)
        #: every this many looks, every cohort is synced (someone added and removed again
        #: between two looks leaves no trace in the groups, but may hold a share)
        self.sweep_every = sweep_every
        self._looks = 0
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
        before = self._before
        self._looks += 1
        if before is None or self._looks % self.sweep_every == 0:
            todo = all_cohorts(after, properties)
        else:
            todo = lost_members(before, after, properties)
        synced, failed = [], set()
        for course, cohort in todo:
            try:
                await cohort_hub.sync(self.hub, course, cohort)
                synced.append((course, cohort))
            except Exception as e:
                failed.add(group_name(course, cohort))
                log.warning("Cohort %s/%s: access sync failed: %s", course, cohort, e)
        # a cohort whose sync failed is looked at again next time (as if still changed)
        self._before = {g: [*u, "\0retry"] if g in failed else u for g, u in after.items()}
        return synced

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as e:
                log.warning("Reading the hub's cohort groups failed: %s", e)
            await asyncio.sleep(self.every)
