"""The CohortLab service in the test process, against a hub API double in the same process.

The API tests (tests/api/) call the real service — ``ServiceApp`` with the settings the
session hub gives it (``TEST_SERVICE_ARGS``), its real ``make_app`` and ``serve`` — over real
HTTP on 127.0.0.1, so its hub-auth code (``RefreshingHubOAuth`` asking ``GET /hub/api/user``
for every token, the group reads of ``HubGroups``) runs unchanged. The hub is the double of
``hub_double.py``, seeded from the session hub's own config files
(tests/integration/hub_test_config.py and hub_config/): the same people, groups, roles and
test admin service. Both run on one event loop in a background thread; tests stay the
synchronous ``requests`` calls they are against the real hub, through the same
:class:`~tests.helpers.api.Person` (an :class:`InProcessHub` is a :class:`Hub`).

What the real hub has and this has not: the proxy and per-person origins (everything is on
127.0.0.1, so the service's cross-origin rules are off), OAuth (cookie sign-in), servers.
Tests that need those stay in tests/integration/.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

from cohortlab.service.app import ServiceApp
from cohortlab.store.db import connect, upgrade
from tornado.httpserver import HTTPServer
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from tests.helpers.hub import REPO, TEST_SERVICE_ARGS, Hub, free_port
from tests.helpers.hub_double import HubState, hub_api_app

T = TypeVar("T")
HUB_TEST_CONFIG = REPO / "tests" / "integration" / "hub_test_config.py"
SERVICE = "cohortlab"
TEST_ADMIN = "cl-test-admin"


def hub_config(state_dir: Path) -> Config:
    """The session hub's config as its ``jupyterhub -f`` reads it (a state folder of ours)."""
    env = {
        "COHORTLAB_STATE_DIR": str(state_dir),
        "COHORTLAB_TEST_ADMIN_TOKEN": "unused",
        "COHORTLAB_TEST_SERVICE_ARGS": TEST_SERVICE_ARGS,
        "COHORTLAB_SPAWN_MODE": "dev",  # nothing is spawned; "system" would need root
    }
    with mock.patch.dict(os.environ, env):
        loader = PyFileConfigLoader(HUB_TEST_CONFIG.name, path=str(HUB_TEST_CONFIG.parent))
        return loader.load_config()


def seeded_state(config: Config) -> HubState:
    """The hub's database after start-up: allowed users, ``load_groups``, services."""
    hub = config.JupyterHub
    state = HubState(roles=list(hub.load_roles))
    for name in sorted(config.Authenticator.allowed_users):
        state.add_user(name)
    for name, group in hub.load_groups.items():
        for user in group.get("users", []):
            state.add_user(user)
        state.groups[name] = {
            "users": list(group.get("users", [])),
            "properties": dict(group.get("properties", {})),
        }
    state.services = {service["name"] for service in hub.services}
    return state


@dataclass
class InProcessHub(Hub):
    """A :class:`Hub` whose API is the double and whose service runs in this process: the
    hub double at ``url`` (``/hub/api/...``), the service on ``service_port``."""

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}/services/{SERVICE}/"

    def at(self, path: str) -> str:
        if path.startswith(f"/services/{SERVICE}/"):
            return f"http://127.0.0.1:{self.service_port}{path}"
        if path.startswith("/hub/"):
            return self.url + path
        raise ValueError(f"the in-process hub serves no {path} (no proxy, no servers)")

    def start_server(self, user: str, timeout: float = 60) -> None:
        raise NotImplementedError("the hub double spawns no servers: use the real hub (cl_hub)")


class _Loop:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="cohortlab-inprocess", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def service_app(config: Config, data_dir: Path, port: int, hub_api: str, token: str) -> ServiceApp:
    """The service as the hub starts it: the hub config's command line, and in traitlets what
    the hub hands it in ``JUPYTERHUB_*`` variables (this process's environment stays as is)."""
    service = next(s for s in config.JupyterHub.services if s["name"] == SERVICE)
    given = Config()
    given.ServiceApp.data_dir = str(data_dir)
    given.ServiceApp.ip = "127.0.0.1"
    given.ServiceApp.port = port
    given.ServiceApp.base_url = f"/services/{SERVICE}/"
    given.HubOAuth.api_url = hub_api
    given.HubOAuth.api_token = token
    given.HubOAuth.access_scopes = {f"access:services!service={SERVICE}"}
    given.HubOAuth.oauth_client_id = f"service-{SERVICE}"
    given.HubOAuth.hub_prefix = "/hub/"
    app = ServiceApp(config=given)
    app.initialize(service["command"][2:])  # after `cohortlab service`
    # The service's own log to a file, as the hub's log is (a handler on pytest's capture
    # of one test would be closed under the next); module loggers stay with pytest's.
    app.log.handlers = [logging.FileHandler(data_dir / "service.log")]
    app.log.propagate = False
    return app


@contextmanager
def inprocess_hub(tmp: Path) -> Iterator[InProcessHub]:
    """The hub double and the service on a fresh SQLite database in ``tmp``, until the block
    ends."""
    config = hub_config(tmp / "hub-state")
    state = seeded_state(config)
    admin_token = state.mint("service", TEST_ADMIN)
    service_token = state.mint("service", SERVICE)
    hub_port, service_port = free_port(), free_port()
    data_dir = tmp / "service"
    data_dir.mkdir()
    app = service_app(
        config, data_dir, service_port, f"http://127.0.0.1:{hub_port}/hub/api", service_token
    )
    upgrade(app.db_url)
    engine = connect(app.db_url)
    runner = _Loop()

    async def start() -> tuple[HTTPServer, Any]:
        hub_server = HTTPServer(hub_api_app(state))
        hub_server.listen(hub_port, address="127.0.0.1")
        return hub_server, await app.serve(engine)

    hub_server, serving = runner.run(start())
    hub = InProcessHub(
        url=f"http://127.0.0.1:{hub_port}",
        state=tmp,
        proc=None,  # type: ignore[arg-type]  # no hub process
        admin_token=admin_token,
        service_port=service_port,
        log_path=data_dir / "service.log",
    )
    try:
        yield hub
    finally:

        async def stop() -> None:
            await serving.close()
            hub_server.stop()
            await hub_server.close_all_connections()

        try:
            runner.run(stop())
        finally:
            runner.stop()
