"""What the service asks JupyterHub with its own token: the groups and their properties.

Group properties are what make cohort names unambiguous (see ``cohortlab.courses``).
They are read for all groups at once and cached briefly, so ``/me`` costs one
hub call per cache period rather than one per cohort per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..errors import APIError

log = logging.getLogger(__name__)


class HubGroups:
    """The hub's groups, cached for ``max_age`` seconds.

    As with identities (``hubauth.py``), no request waits on the hub once the groups are
    known: after 3/4 of ``max_age`` one background call renews them while requests use
    the cached list, and requests that find nothing usable share one call.
    """

    refresh_fraction = 0.75

    def __init__(self, api_url: str, api_token: str, max_age: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_token = api_token
        self.max_age = max_age
        self._cache: dict[str, dict[str, Any]] | None = None
        self._users: dict[str, list[str]] = {}
        self._fetched_at = 0.0
        self._inflight: asyncio.Future[None] | None = None

    async def properties(self) -> dict[str, dict[str, Any]]:
        """Map group name -> its properties for every group on the hub."""
        if self.max_age <= 0:  # no caching (tests): every request reads the hub afresh
            await self._fetch()
            assert self._cache is not None
            return self._cache
        age = time.monotonic() - self._fetched_at
        if self._cache is not None and age < self.max_age:
            if age > self.refresh_fraction * self.max_age and self._inflight is None:
                self._start()
            return self._cache
        await asyncio.shield(self._inflight or self._start())
        assert self._cache is not None
        return self._cache

    def known_properties(self) -> dict[str, dict[str, Any]]:
        """The properties last read, without waiting (for a check that cannot wait, such as
        an event stream's); a read is started when they are stale. Empty before the first."""
        age = time.monotonic() - self._fetched_at
        # uncached (max_age 0, the tests' setting) still reads at most once a second here:
        # this runs for every event an open stream is handed
        stale = self.refresh_fraction * self.max_age if self.max_age > 0 else 1.0
        if (self._cache is None or age > stale) and self._inflight is None:
            self._start()
        return self._cache or {}

    async def users(self) -> dict[str, list[str]]:
        """Map group name -> its members, from the same cached read as ``properties``."""
        await self.properties()
        return self._users

    def _start(self) -> asyncio.Future[None]:
        async def fetch() -> None:
            try:
                await self._fetch()
            finally:
                self._inflight = None

        future = asyncio.ensure_future(fetch())
        future.add_done_callback(_log_failure)
        self._inflight = future
        return future

    async def _fetch(self) -> None:
        groups: dict[str, dict[str, Any]] = {}
        users: dict[str, list[str]] = {}
        offset = 0
        while True:
            page = await self._get(f"/groups?{urlencode({'offset': offset, 'limit': 200})}")
            for group in page["items"]:
                groups[group["name"]] = group.get("properties") or {}
                users[group["name"]] = list(group.get("users") or [])
            nxt = (page.get("_pagination") or {}).get("next")
            if not nxt:
                break
            offset = nxt["offset"]
        self._cache, self._users, self._fetched_at = groups, users, time.monotonic()

    async def _get(self, path: str) -> dict[str, Any]:
        req = HTTPRequest(
            self.api_url + path,
            headers={
                "Authorization": f"token {self.api_token}",
                "Accept": "application/jupyterhub-pagination+json",
            },
            request_timeout=10,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req)
        except HTTPClientError as e:
            raise APIError(
                502,
                "hub_error",
                f"JupyterHub refused the service's request for groups ({e.code}); "
                "check the service's role has list:groups and read:groups.",
            ) from None
        except OSError:
            raise APIError(
                503, "hub_unavailable", "JupyterHub could not be reached; try again shortly."
            ) from None
        return json.loads(resp.body)


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("Reading the hub's groups failed: %s", future.exception())
