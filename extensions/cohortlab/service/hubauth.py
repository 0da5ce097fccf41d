"""JupyterHub's OAuth helper, with a token cache that never makes a request wait on the hub
once the person is known.

``HubAuth`` caches who a token belongs to for ``cache_max_age`` seconds; when that runs
out, the next request with the token waits for a hub call, and so does every other
request with it that arrives meanwhile (each makes its own call). Under load that is a
latency spike per person per period and a burst of hub calls. Here:

- a request whose cached identity is older than 75 to 95 % of the period (fixed per
  token, so a class that arrived together is not renewed all at once) is answered
  from the cache while one background call refreshes it: an active person's identity
  is renewed before it expires, and is never older than the period;
- concurrent requests for a token that is not cached share one hub call.

An identity is still never used past ``cache_max_age`` (a revoked token stops working
within that period, as with ``HubAuth``), and the hub stays the only source of identity.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

from jupyterhub.services.auth import HubOAuth

log = logging.getLogger(__name__)


class RefreshingHubOAuth(HubOAuth):
    #: Share of ``cache_max_age`` after which a used identity is refreshed in the background
    #: (plus up to ``refresh_spread`` more, fixed per token).
    refresh_fraction = 0.75
    refresh_spread = 0.2

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def _check_hub_authorization(
        self, url: str, api_token: str, cache_key: str | None = None, use_cache: bool = True
    ) -> Any:
        if not use_cache or cache_key is None:
            return await super()._check_hub_authorization(url, api_token, cache_key, use_cache)
        try:
            model = self.cache[cache_key]  # KeyError when missing or expired
        except KeyError:
            return await self._fetch(url, api_token, cache_key)
        stamped = getattr(self.cache, "timestamps", {}).get(cache_key)
        age = time.monotonic() - stamped if stamped is not None else 0.0
        if age > self._refresh_at(cache_key) and cache_key not in self._inflight:
            self._start(url, api_token, cache_key)
        return model

    def cached_identity(self, token: str, session_id: str = "") -> dict[str, Any] | None:
        """The identity cached for ``token`` (as ``user_for_token`` keys it), if not
        expired; never asks the hub. What an open event stream checks on every event."""
        return self.cache.get(token_cache_key(token, session_id))

    def _refresh_at(self, cache_key: str) -> float:
        """The age at which this identity is renewed: between ``refresh_fraction`` and
        ``refresh_fraction + refresh_spread`` of the period, fixed per token, so people
        first seen together (a class opening a notebook) are not all renewed at once."""
        digits = cache_key[-8:]
        try:
            share = int(digits, 16) / 0xFFFFFFFF
        except ValueError:
            share = 0.0
        return (self.refresh_fraction + self.refresh_spread * share) * self.cache_max_age

    async def _fetch(self, url: str, api_token: str, cache_key: str) -> Any:
        return await asyncio.shield(
            self._inflight.get(cache_key) or self._start(url, api_token, cache_key)
        )

    def _start(self, url: str, api_token: str, cache_key: str) -> asyncio.Future[Any]:
        async def ask() -> Any:
            try:
                model = await super(RefreshingHubOAuth, self)._check_hub_authorization(
                    url, api_token, cache_key, use_cache=False
                )
                self.cache[cache_key] = model
                return model
            finally:
                self._inflight.pop(cache_key, None)

        future = asyncio.ensure_future(ask())
        future.add_done_callback(_log_failure)  # also when nobody waits for it any more
        self._inflight[cache_key] = future
        return future


def token_cache_key(token: str, session_id: str = "") -> str:
    """The key ``HubAuth.user_for_token`` caches a token's identity under (JupyterHub 6.1;
    tests/unit/test_stream_access.py checks it against JupyterHub's)."""
    digest = hashlib.sha256(token.encode("utf8", "replace")).hexdigest()
    return f"token:{session_id}:{digest}"


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("Refreshing a cached hub identity failed: %s", future.exception())
