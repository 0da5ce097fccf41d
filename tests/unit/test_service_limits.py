"""Per-person limits (service/limits.py, store/limits.py) through the real base handler and a
real database on each backend: bodies over a route's limit are refused, never kept (413), writes
over the limit are refused with nothing written (429 + Retry-After), the count is shared by
replicas through the database, and stream slots are counted across replicas.

Only the hub's identity answer is a stand-in here (the hub is not what these tests are
about); tests/security/test_floods.py tries the same against the real hub."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from cohortlab.service import limits
from cohortlab.service.base import BaseHandler
from cohortlab.service.permissions import allow, any_identity
from cohortlab.store import limits as store
from cohortlab.store.batching import GroupCommitExecutor
from cohortlab.store.db import connect, session_factory, session_scope, upgrade
from cohortlab.store.models import utcnow
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer

NOTES = Table("limit_test_notes", MetaData(), Column("id", Integer, primary_key=True),
              Column("text", String(100)))  # fmt: skip


class Hub:
    """Who is calling: the ``X-Test-User`` header names a hub model below."""

    people: dict[str, dict[str, Any]] = {
        "ada": {"kind": "user", "name": "ada", "admin": False, "groups": ["nbgrader-c1"]},
        "ben": {"kind": "user", "name": "ben", "admin": False, "groups": ["nbgrader-c1"]},
        "prof": {"kind": "user", "name": "prof", "admin": False, "groups": ["formgrade-c1"]},
        "setup": {"kind": "service", "name": "setup"},
    }

    async def get_user(self, handler: Any, sync: bool = False) -> Any:
        return self.people.get(handler.request.headers.get("X-Test-User", ""))


class Notes(BaseHandler):
    def check_hub_user(self, model: dict[str, Any]) -> dict[str, Any]:
        return model

    @allow(any_identity)
    async def get(self) -> None:
        self.write_json({"size": len(self.request.body)})

    @allow(any_identity)
    async def post(self) -> None:
        text = self.json_body().get("text", "")

        def add(session: Any) -> None:
            session.execute(NOTES.insert().values(text=text[:100]))

        await self.run_db(add)
        self.write_json({"size": len(self.request.body)}, status=201)


class Upload(Notes):
    body_limit = 4 * limits.MIB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cl_limits_db(cl_db_url: str) -> Iterator[Any]:
    upgrade(cl_db_url)
    engine = connect(cl_db_url)
    NOTES.create(engine)
    yield engine
    engine.dispose()


class Replica:
    """One service process: its own app, executor and memory, the shared database."""

    def __init__(self, engine: Any, rates: limits.Limits) -> None:
        factory = session_factory(engine)
        executor: Any = (
            GroupCommitExecutor(engine, factory)
            if engine.dialect.name == "sqlite"
            else ThreadPoolExecutor(max_workers=2)
        )
        self.app = web.Application(
            [(r"/notes", Notes), (r"/upload", Upload)],
            hub_auth=Hub(),
            session_factory=factory,
            db_executor=executor,
            limits=rates,
            blocked=limits.Blocked(),
            replica="r-" + str(id(self)),
        )
        self.server = HTTPServer(self.app, max_body_size=limits.largest_body(self.app))
        self.port = free_port()
        self.server.listen(self.port, "127.0.0.1")

    async def call(
        self, user: str, method: str = "POST", path: str = "/notes", body: bytes | None = None
    ) -> HTTPResponse:
        if body is None and method == "POST":
            body = json.dumps({"text": f"from {user}"}).encode()
        return await AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            body=body,
            headers={"X-Test-User": user, "Content-Type": "application/json"},
            raise_error=False,
            request_timeout=60,
        )

    def stop(self) -> None:
        self.server.stop()
        self.app.settings["db_executor"].shutdown(wait=True)


@pytest.fixture
async def replicas(cl_limits_db: Any) -> AsyncIterator[list[Replica]]:
    rates = limits.Limits(writes=limits.Rate(3, 60, 3), staff_writes=limits.Rate(5, 60, 5))
    made = [Replica(cl_limits_db, rates), Replica(cl_limits_db, rates)]
    yield made
    for r in made:
        r.stop()


def notes(engine: Any) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(NOTES))


def budgets(engine: Any) -> dict[str, float]:
    with session_scope(session_factory(engine)) as session:
        rows = session.execute(select(store.WriteBudget.user_name, store.WriteBudget.tat))
        return dict(rows.tuples().all())


def error(resp: HTTPResponse) -> dict[str, Any]:
    return json.loads(resp.body)["error"]


async def test_a_body_over_the_route_limit_is_refused_unread(
    replicas: list[Replica], cl_limits_db: Any
) -> None:
    a = replicas[0]
    big = json.dumps({"text": "x" * (2 * limits.MIB)}).encode()
    resp = await a.call("ada", body=big)
    assert resp.code == 413
    assert error(resp)["code"] == "too_large"
    assert "at most 1.0 MiB" in error(resp)["message"]
    assert notes(cl_limits_db) == 0
    # the upload route takes it, whole
    resp = await a.call("ada", path="/upload", body=big)
    assert resp.code == 201, resp.body
    assert json.loads(resp.body)["size"] == len(big)
    resp = await a.call("ada", path="/upload", body=b"x" * (5 * limits.MIB))
    assert resp.code == 413
    assert "at most 4.0 MiB" in error(resp)["message"]


async def test_writes_over_the_limit_are_refused_and_nothing_is_written(
    replicas: list[Replica], cl_limits_db: Any
) -> None:
    a = replicas[0]
    for _ in range(3):
        assert (await a.call("ada")).code == 201
    refused = await a.call("ada")
    assert refused.code == 429
    assert error(refused)["code"] == "rate_limited"
    assert "Nothing was changed" in error(refused)["message"]
    assert 19 <= int(refused.headers["Retry-After"]) <= 20  # the next write is due in 20 s
    assert notes(cl_limits_db) == 3
    budget = budgets(cl_limits_db)
    # refused again from this replica's memory; reads still work; others are not affected
    assert (await a.call("ada")).code == 429
    assert (await a.call("ada", method="GET")).code == 200
    assert (await a.call("ben")).code == 201
    assert notes(cl_limits_db) == 4
    assert budgets(cl_limits_db)["ada"] == budget["ada"]  # refusals cost nothing


async def test_replicas_share_the_count(replicas: list[Replica], cl_limits_db: Any) -> None:
    a, b = replicas
    assert (await a.call("ada")).code == 201
    assert (await a.call("ada")).code == 201
    assert (await b.call("ada")).code == 201
    assert (await b.call("ada")).code == 429  # b never saw ada's first two writes itself
    assert notes(cl_limits_db) == 3


async def test_staff_have_their_own_limit_and_services_none(
    replicas: list[Replica], cl_limits_db: Any
) -> None:
    a = replicas[0]
    assert [(await a.call("prof")).code for _ in range(6)] == [201] * 5 + [429]
    assert [(await a.call("setup")).code for _ in range(8)] == [201] * 8


def test_rates_parse_and_refuse_nonsense() -> None:
    assert limits.Rate.parse("120/60", "x") == limits.Rate(120, 60, 20)
    assert limits.Rate.parse("5/60", "x", burst=20) == limits.Rate(5, 60, 5)
    for bad in ("120", "0/60", "a/b", "10/-1"):
        with pytest.raises(SystemExit, match="must look like 120/60"):
            limits.Rate.parse(bad, "write_rate_limit")


def test_blocked_until_the_next_write_is_due() -> None:
    rate = limits.Rate(3, 60)
    blocked = limits.Blocked()
    blocked.block("ada", 180.0, now=120.5)
    with pytest.raises(web.HTTPError) as refused:
        blocked.check("ada", rate, now=150.0)
    assert refused.value.headers["Retry-After"] == "30"  # type: ignore[attr-defined]
    blocked.check("ada", rate, now=180.0)  # due: allowed again
    blocked.check("ben", rate, now=150.0)


def test_admit_allows_a_burst_then_the_average() -> None:
    """GCRA: ``burst`` writes at once, then one per interval, never a window's worth at a
    window's edge; time spent idle refills the burst, never beyond it."""
    rate = limits.Rate(120, 60, 20)  # one every 0.5 s, 20 at once
    tat, now, taken = 0.0, 1000.0, 0
    while True:
        ok, when = limits.admit(tat, now, rate)
        if not ok:
            break
        tat, taken = when, taken + 1
    assert taken == 20
    assert when == pytest.approx(now + 0.5)
    # a steady writer at the average rate is never refused
    for step in range(1, 200):
        ok, tat = limits.admit(tat, now + 0.5 * step, rate)
        assert ok
    # after a long pause, 20 at once again, not more
    later, taken = now + 3600, 0
    while limits.admit(tat, later, rate)[0]:
        tat, taken = limits.admit(tat, later, rate)[1], taken + 1
    assert taken == 20


def test_stream_slots_are_counted_across_replicas_and_stale_ones_expire(
    cl_limits_db: Any,
) -> None:
    factory = session_factory(cl_limits_db)
    with session_scope(factory) as s:
        first = store.open_stream(s, "ada", "r1", 2)
        second = store.open_stream(s, "ada", "r2", 2)
        assert first is not None and second is not None
        assert store.open_stream(s, "ada", "r1", 2) is None
        assert store.open_stream(s, "ben", "r1", 2) is not None
    with session_scope(factory) as s:
        store.close_stream(s, first)
        assert store.open_stream(s, "ada", "r1", 2) is not None
        assert store.open_stream(s, "ada", "r1", 2) is None
    # replica r2 dies: its slot stops counting once not refreshed for long enough
    old = utcnow() - timedelta(seconds=store.STREAM_STALE_SECONDS + 1)
    with session_scope(factory) as s:
        s.execute(
            update(store.OpenStream).where(store.OpenStream.replica == "r2").values(seen_at=old)
        )
        store.refresh_streams(s, "r1")
        assert store.open_stream(s, "ada", "r3", 2) is not None
    with session_scope(factory) as s:
        store.forget_replica(s, "r1")
        store.forget_replica(s, "r3")
        left = s.scalars(select(store.OpenStream.user_name)).all()
    assert left == []


async def test_a_refused_body_leaves_the_connection_usable(replicas: list[Replica]) -> None:
    """JupyterHub's proxy keeps connections to the service open and sends anyone's next
    request down them: a refusal must not close (and reset) the connection it came on."""
    import asyncio
    import http.client

    port = replicas[0].port

    def on_one_connection() -> list[int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        codes = []
        big = b'{"text": "' + b"x" * (3 * limits.MIB) + b'"}'
        tries = [("ada", big), ("nobody", b'{"text": "hi"}'), ("nobody", None), ("ben", None)]
        for user, body in tries:
            headers = {"X-Test-User": user, "Content-Type": "application/json"}
            conn.request("POST" if body else "GET", "/notes", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            codes.append(resp.status)
            assert resp.getheader("Connection") != "close"
        conn.close()
        return codes

    codes = await asyncio.get_running_loop().run_in_executor(None, on_one_connection)
    assert codes == [413, 401, 401, 200]


def test_the_database_rule_is_the_python_rule(cl_limits_db: Any) -> None:
    """store.limits.spend_write (one SQL upsert) takes exactly the writes limits.admit takes,
    over random arrivals for a few people, refused ones leaving the budget as it was."""
    import random

    rng = random.Random(7)
    rate = limits.Rate(6, 3, 4)  # one every 0.5 s, 4 at once
    factory = session_factory(cl_limits_db)
    tats: dict[str, float] = {}
    now = 1_000_000.0
    for _ in range(400):
        now += rng.choice([0.0, 0.01, 0.2, 0.5, 0.7, 3.0])
        who = rng.choice(["ada", "ben", "cy"])
        fits, when = limits.admit(tats.get(who, 0.0), now, rate)
        with session_scope(factory) as s:
            refused = store.spend_write(s, who, now, rate.interval, rate.tolerance)
        assert (refused is None) == fits, (who, now)
        if fits:
            tats[who] = when
        else:
            assert refused == pytest.approx(when)
    assert budgets(cl_limits_db) == pytest.approx(tats)
