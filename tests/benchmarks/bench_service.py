"""The service's hot path: GET /api/v1/me, which every JupyterLab load calls.

Measured against a real hub (as root, like the integration tests), through the
proxy, at a fixed concurrency, and compared with the hub's own identity endpoint
``GET /hub/api/user`` measured in the same run — the floor any hub service pays.
Also the relay path (browser → the learner's server → service).

Targets: /me p95 within 2x of the hub's /hub/api/user p95, and under 100 ms at
concurrency 10; the relay adds under 25 ms at p50.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from tests.helpers.hub import start_hub, stop_hub

CONCURRENCY = 10
REQUESTS = 600
USERS = ["ada", "ben", "cy", "dee", "eli", "fay"]


async def measure(urls_tokens: list[tuple[str, str]]) -> dict[str, float]:
    AsyncHTTPClient.configure(None, max_clients=CONCURRENCY)
    client = AsyncHTTPClient()
    latencies: list[float] = []
    queue = list(range(REQUESTS))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            url, token = urls_tokens[i % len(urls_tokens)]
            start = time.perf_counter()
            resp = await client.fetch(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
            assert resp.code == 200
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "rps": round(len(latencies) / elapsed, 1),
    }


def main() -> None:
    hub = start_hub({"COHORTLAB_TEST_SERVICE_ARGS": ""})
    try:
        tokens = {u: hub.token_for(u) for u in USERS}
        hub.start_server("ada")
        warm = [(f"{hub.service_url}api/v1/me", t) for t in tokens.values()]
        asyncio.run(measure(warm))  # fill caches, open connections
        baseline = asyncio.run(measure([(f"{hub.url}/hub/api/user", t) for t in tokens.values()]))
        me = asyncio.run(measure(warm))
        relay = asyncio.run(measure([(f"{hub.user_url('ada')}cohortlab/api/v1/me", tokens["ada"])]))
    finally:
        stop_hub(hub)
    figures = {
        "hub_api_user": baseline,
        "service_me": me,
        "relay_me": relay,
        "me_p95_ratio_to_hub": round(me["p95_ms"] / baseline["p95_ms"], 2),
        "relay_overhead_p50_ms": round(relay["p50_ms"] - me["p50_ms"], 2),
    }
    targets = {
        "me_p95_ratio_to_hub": "<= 2.0",
        "service_me.p95_ms": "< 100",
        "relay_overhead_p50_ms": "< 25",
    }
    met = (
        figures["me_p95_ratio_to_hub"] <= 2.0
        and me["p95_ms"] < 100
        and figures["relay_overhead_p50_ms"] < 25
    )
    print(f"concurrency {CONCURRENCY}, {REQUESTS} requests each")
    for name in ("hub_api_user", "service_me", "relay_me"):
        print(f"{name:14} {figures[name]}")
    print(f"/me p95 / hub p95 = {figures['me_p95_ratio_to_hub']}")
    print(json.dumps({"bench": "service", "figures": figures, "targets": targets, "met": met}))


if __name__ == "__main__":
    main()
