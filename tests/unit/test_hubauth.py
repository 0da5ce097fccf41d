"""The service's hub token cache: one hub call per person per period, no waits while known."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cohortlab.service.hubauth import RefreshingHubOAuth
from tornado import web

from tests.helpers.waiting import wait_until_async


class CountingHubAuth(RefreshingHubOAuth):
    """The hub's answer, slowly; ``fail`` makes the hub refuse with a 502."""

    calls = 0
    fail = False

    async def _api_request(self, method: str, url: str, /, **kwargs: Any) -> Any:
        type(self).calls += 1
        # Kept: the slow hub is what is under test (requests meanwhile share this call).
        await asyncio.sleep(0.05)
        if self.fail:
            raise web.HTTPError(502, "hub down")
        return {"kind": "user", "name": f"ada-{type(self).calls}"}


@pytest.fixture
def auth() -> CountingHubAuth:
    CountingHubAuth.calls, CountingHubAuth.fail = 0, False
    return CountingHubAuth(api_url="http://127.0.0.1:1/hub/api", api_token="x", cache_max_age=60)


def _age(auth: RefreshingHubOAuth, seconds: float) -> None:
    for key in auth.cache.timestamps:
        auth.cache.timestamps[key] -= seconds


async def test_concurrent_requests_for_an_unknown_token_share_one_hub_call(
    auth: CountingHubAuth,
) -> None:
    models = await asyncio.gather(*(auth.user_for_token("t1", sync=False) for _ in range(10)))
    assert auth.calls == 1 and all(m == {"kind": "user", "name": "ada-1"} for m in models)
    assert await auth.user_for_token("t1", sync=False) == models[0]
    assert auth.calls == 1


async def test_an_identity_near_its_end_is_served_and_refreshed_in_the_background(
    auth: CountingHubAuth,
) -> None:
    first = await auth.user_for_token("t1", sync=False)
    _age(auth, 58)  # past the renewal age (75-95 % of the 60 s period)
    served = await asyncio.gather(*(auth.user_for_token("t1", sync=False) for _ in range(5)))
    assert served == [first] * 5  # nobody waited for the hub
    renewed = {"kind": "user", "name": "ada-2"}
    await wait_until_async(lambda: auth.cached_identity("t1") == renewed, 5, "the refresh")
    assert auth.calls == 2  # one refresh, not five
    assert await auth.user_for_token("t1", sync=False) == {"kind": "user", "name": "ada-2"}


async def test_an_expired_identity_is_never_used(auth: CountingHubAuth) -> None:
    await auth.user_for_token("t1", sync=False)
    _age(auth, 61)
    assert await auth.user_for_token("t1", sync=False) == {"kind": "user", "name": "ada-2"}


async def test_a_failed_refresh_keeps_the_identity_until_it_expires_then_fails(
    auth: CountingHubAuth, caplog: pytest.LogCaptureFixture
) -> None:
    first = await auth.user_for_token("t1", sync=False)
    auth.fail = True
    _age(auth, 58)
    assert await auth.user_for_token("t1", sync=False) == first
    failed = "Refreshing a cached hub identity failed"
    await wait_until_async(lambda: failed in caplog.text, 5, "the failed refresh logged")
    _age(auth, 3)
    with pytest.raises(web.HTTPError):
        await auth.user_for_token("t1", sync=False)


def test_renewal_ages_are_spread_over_the_last_quarter_of_the_period(
    auth: CountingHubAuth,
) -> None:
    import hashlib

    ages = [
        auth._refresh_at(f"token::{hashlib.sha256(str(i).encode()).hexdigest()}")
        for i in range(200)
    ]
    assert all(45 <= a <= 57 for a in ages)
    assert max(ages) - min(ages) > 10  # spread, not all at once
