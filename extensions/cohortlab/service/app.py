"""``cohortlab service``: the hub-managed Tornado application.

JupyterHub starts it with ``JUPYTERHUB_SERVICE_URL`` (where to listen),
``JUPYTERHUB_SERVICE_PREFIX`` (``/services/cohortlab/``), an API token and the
OAuth client settings; everything else is traitlets configuration.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Integer, Unicode, default

from .._version import __version__
from ..appbase import CohortLabApp
from ..discussions.cache import ReadCache
from ..discussions.ratelimit import RateLimit
from ..events import EventBus, make_bus
from ..origins import Origins
from ..store.batching import GroupCommitExecutor
from ..store.db import connect, read_only_factory, session_factory
from ..store.limits import STREAM_REFRESH_SECONDS
from .base import NotFoundHandler
from .cors import CrossOrigins
from .handlers import default_handlers
from .hubauth import RefreshingHubOAuth
from .limits import Blocked, Limits, Rate, largest_body
from .people import People
from .stream_slots import forget_streams, refresh_streams


class ServiceApp(CohortLabApp):
    name = "CohortLab"
    description = "Run the CohortLab service (JupyterHub starts this as a managed service)."

    ip = Unicode(help="Address to listen on; default from JUPYTERHUB_SERVICE_URL.").tag(config=True)
    port = Integer(help="Port to listen on; default from JUPYTERHUB_SERVICE_URL.").tag(config=True)
    base_url = Unicode(
        help="URL prefix the proxy routes to the service; default JUPYTERHUB_SERVICE_PREFIX."
    ).tag(config=True)
    cookie_secret_file = Unicode(
        help="File holding the secret that signs the OAuth cookie; created 0600 if missing."
    ).tag(config=True)
    auth_cache_max_age = Integer(
        60,
        min=1,
        help="Seconds (at least 1) a token's hub identity (and groups) is cached. Group "
        "changes reach the service at most this late; shorter means more calls to the hub.",
    ).tag(config=True)
    groups_cache_seconds = Float(
        30.0, help="Seconds the hub's group list (with cohort properties) is cached."
    ).tag(config=True)
    post_rate_limit = Unicode(
        "10/60",
        help="Most posts (threads and replies) one person may write per time window, as "
        "'<posts>/<seconds>'. More gets 429 with Retry-After.",
    ).tag(config=True)
    write_rate_limit = Unicode(
        "120/60",
        help="Writes (POST, PUT, PATCH, DELETE) one learner or mentor may make on average, as "
        "'<writes>/<seconds>', counted in the database across replicas (with write_burst at "
        "once). More gets 429 with Retry-After, and nothing is written.",
    ).tag(config=True)
    write_burst = Integer(
        20, min=1, help="Writes one learner or mentor may make at once, before the average."
    ).tag(config=True)
    staff_write_rate_limit = Unicode(
        "3000/60",
        help="The same for hub admins and instructors (formgrade-<course>): opening a peer "
        "review round uploads one copy per learner.",
    ).tag(config=True)
    staff_write_burst = Integer(
        300, min=1, help="Writes one admin or instructor may make at once."
    ).tag(config=True)
    stream_limit = Integer(
        10,
        min=1,
        help="Most live event streams (WebSockets: one per JupyterLab tab) one person may hold "
        "open at once, across replicas. More gets 429.",
    ).tag(config=True)
    body_limit = Integer(
        1024 * 1024,
        min=1024,
        help="Largest request body, in bytes, of every route that does not set its own (a "
        "review copy upload takes 64 MiB, a template push 6 MiB). Larger gets 413 unread.",
    ).tag(config=True)
    shutdown_timeout = Float(
        3.0, help="Seconds to let open requests finish on SIGTERM/SIGINT before closing."
    ).tag(config=True)

    aliases = {
        **CohortLabApp.aliases,
        "ip": "ServiceApp.ip",
        "port": "ServiceApp.port",
    }

    @default("log_level")
    def _default_log_level(self) -> int:
        return logging.INFO

    @default("log_format")
    def _default_log_format(self) -> str:
        return "[%(levelname)1.1s %(asctime)s.%(msecs).03d %(name)s] %(message)s"

    @default("log_datefmt")
    def _default_log_datefmt(self) -> str:
        return "%Y-%m-%d %H:%M:%S"

    @default("ip")
    def _default_ip(self) -> str:
        return urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "")).hostname or "127.0.0.1"

    @default("port")
    def _default_port(self) -> int:
        return urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "")).port or 10101

    @default("base_url")
    def _default_base_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/cohortlab/")

    @default("cookie_secret_file")
    def _default_cookie_secret_file(self) -> str:
        return str(Path(self.data_dir) / "cookie_secret")

    def cookie_secret(self) -> bytes:
        path = Path(self.cookie_secret_file)
        if path.exists():
            if path.stat().st_mode & 0o077:
                self.log.warning("%s is readable by others; run chmod 600 on it", path)
            return path.read_bytes().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
        return secret

    def make_app(self, engine: Any, bus: EventBus) -> web.Application:
        hub_auth = RefreshingHubOAuth(parent=self, cache_max_age=self.auth_cache_max_age)
        hub_auth.base_url = self.base_url
        from .hub import HubGroups

        prefix = self.base_url
        routes: list[Any] = [
            (url_path_join(prefix, pattern), handler) for pattern, handler in default_handlers
        ]
        factory = session_factory(engine)
        # SQLite has one writer at a time: one database thread queues writes in order
        # instead of several threads sleeping in SQLite's busy handler (which made
        # reply latency spiky), and commits those waiting together (store.batching).
        # PostgreSQL takes writes from several connections and groups their flushes itself.
        db_executor: Executor
        if engine.dialect.name == "sqlite":
            db_executor = GroupCommitExecutor(engine, factory)
        else:
            db_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cohortlab-db")
        read_cache = ReadCache()

        def drop_stale_reads(event: dict[str, Any]) -> None:
            if event.get("type") == "discussion" and isinstance(event.get("course"), str):
                read_cache.invalidate(event["course"])

        bus.watch(drop_stale_reads)
        return web.Application(
            routes,
            base_url=prefix,
            hub_auth=hub_auth,
            hub_groups=HubGroups(hub_auth.api_url, hub_auth.api_token, self.groups_cache_seconds),
            # Which browser origins may call from elsewhere (cohort workspaces'); from the same
            # $COHORTLAB_SUBDOMAIN_HOST as the workspace host names (cohorts.contents).
            cross_origins=CrossOrigins(Origins.from_env()),
            engine=engine,
            session_factory=factory,
            read_session_factory=read_only_factory(engine),
            people=People(factory, db_executor),
            db_executor=db_executor,
            read_cache=read_cache,
            post_rate_limit=self._rate_limit(),
            limits=self._limits(),
            blocked=Blocked(),
            replica=secrets.token_hex(8),
            bus=bus,
            sockets=set(),
            cookie_secret=self.cookie_secret(),
            default_handler_class=NotFoundHandler,
            websocket_ping_interval=25,
            log_function=self._log_request,
        )

    _debug_written = True

    def _limits(self) -> Limits:
        return Limits(
            writes=Rate.parse(self.write_rate_limit, "write_rate_limit", self.write_burst),
            staff_writes=Rate.parse(
                self.staff_write_rate_limit, "staff_write_rate_limit", self.staff_write_burst
            ),
            streams=self.stream_limit,
            body_bytes=self.body_limit,
        )

    def _rate_limit(self) -> RateLimit:
        try:
            posts, seconds = (int(part) for part in self.post_rate_limit.split("/"))
        except ValueError:
            raise SystemExit(
                f"cohortlab: post_rate_limit {self.post_rate_limit!r} must look like 10/60"
            ) from None
        return RateLimit(posts=posts, seconds=seconds)

    def _log_request(self, handler: web.RequestHandler) -> None:
        status = handler.get_status()
        if status >= 500:
            level = self.log.error
        elif status < 300 and handler.request.method in ("GET", "HEAD"):
            if not self._debug_written:  # see start(): a record nobody writes costs 2 %
                return
            level = self.log.debug  # successful reads are the bulk of traffic
        else:
            level = self.log.info
        user = getattr(handler, "_hub_auth_user_cache", None) or {}
        level(
            "%d %s %s (%s) %.1fms",
            status,
            handler.request.method,
            handler.request.path,  # never the query: it may carry a token
            user.get("name", "-"),
            1000.0 * handler.request.request_time(),
        )

    def start(self) -> None:
        # Module loggers (cohortlab.*) write through this app's handler and format, as
        # jupyter_server does for tornado's loggers.
        logging.getLogger("cohortlab").parent = self.log
        # traitlets leaves the app's logger at DEBUG and filters in its handler, so every
        # debug call builds a record; successful reads skip the call unless it is written.
        self._debug_written = writes_debug(self.log)
        engine = connect(self.db_url)
        self.log.info("CohortLab %s using database %s", __version__, engine.url.render_as_string())
        asyncio.run(self._serve(engine))

    async def _serve(self, engine: Any) -> None:
        serving = await self.serve(engine)
        # Everything built so far lives as long as the process: keep the cyclic garbage
        # collector from walking it again and again (shorter pauses under load).
        gc.freeze()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # A hub started from a non-interactive shell leaves SIGINT ignored in its
        # children; installing handlers here makes both signals stop us cleanly.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await serving.close()

    async def serve(self, engine: Any) -> Serving:
        """Build the application on ``engine`` and listen, on the running event loop; what
        ``cohortlab service`` runs, and what the API tests run in their own process."""
        bus = make_bus(self.db_url)
        await bus.start()
        app = self.make_app(engine, bus)
        # Members taken out of a cohort's group on the hub lose the workspace at once
        from ..cohorts.hub import HubClient
        from ..cohorts.watch import MembershipWatch

        auth = app.settings["hub_auth"]
        hub = app.settings["cohort_hub"] = HubClient(auth.api_url, auth.api_token)
        watch = MembershipWatch(app.settings["hub_groups"], hub, self.groups_cache_seconds)
        watch.start()
        # The largest body any route takes; each route lowers it for its own requests.
        server = HTTPServer(app, xheaders=True, max_body_size=largest_body(app))
        streams = PeriodicCallback(
            lambda: refresh_streams(app.settings), STREAM_REFRESH_SECONDS * 1000
        )
        streams.start()
        server.listen(self.port, address=self.ip)
        self.log.info(
            "CohortLab service listening on http://%s:%d%s", self.ip, self.port, self.base_url
        )
        return Serving(self, engine, bus, app, server, watch, streams)


@dataclass
class Serving:
    """A listening service and everything it started, closed in order by :meth:`close`."""

    service: ServiceApp
    engine: Any
    bus: EventBus
    app: web.Application
    server: HTTPServer
    watch: Any
    streams: PeriodicCallback

    async def close(self) -> None:
        log, app, server = self.service.log, self.app, self.server
        log.info("Stopping CohortLab service")
        server.stop()
        for sock in list(app.settings["sockets"]):
            sock.close(1001, "CohortLab service is restarting")
        try:
            await asyncio.wait_for(server.close_all_connections(), self.service.shutdown_timeout)
        except TimeoutError:
            log.warning(
                "Connections still open after %.1f s; closing", self.service.shutdown_timeout
            )
        self.streams.stop()
        await forget_streams(app.settings)
        await self.watch.stop()
        await self.bus.stop()
        app.settings["db_executor"].shutdown(wait=True)
        self.engine.dispose()
        log.info("CohortLab service stopped")


def writes_debug(log: logging.Logger) -> bool:
    """Whether a debug record of ``log`` reaches a handler that writes it."""
    if not log.isEnabledFor(logging.DEBUG):
        return False
    current: logging.Logger | None = log
    while current is not None:
        if any(h.level <= logging.DEBUG for h in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False
