"""The base handler: hub authentication, one error shape, JSON bodies.

Identity comes only from JupyterHub (``jupyterhub.services.auth.HubOAuth``):
an ``Authorization: token ...`` header for API clients (the server extension's
relay, widgets in kernels) or the OAuth cookie for browsers talking to the
service directly. Nothing below ``prepare`` runs without an identity, except the
cross-origin check before it (``cors.py``): a preflight carries no credentials, and a
browser request from an origin that may not call the service is refused unread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from tornado import web
from tornado.ioloop import IOLoop

from ..access import Caller
from ..cohorts.manage import WORKSPACES_GROUP
from ..courses import course_members, membership
from ..errors import APIError, error_body
from ..store.batching import GroupCommitExecutor
from ..store.db import session_scope
from ..store.limits import spend_write
from . import limits
from .cors import CrossOrigins, allowed_origin, preflight_headers, response_headers

T = TypeVar("T")
log = logging.getLogger("cohortlab.service")


async def run_db(settings: dict[str, Any], fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(session, *args)`` in one transaction, off the event loop.

    Committed when it returns, rolled back whole when it raises: an error never leaves
    half a write behind. A function (not only a handler method) so timers that outlive a
    request can use it too.
    """

    executor = settings["db_executor"]
    if isinstance(executor, GroupCommitExecutor):
        return await asyncio.wrap_future(executor.submit_transaction(fn, *args))

    def work() -> T:
        with session_scope(settings["session_factory"]) as session:
            return fn(session, *args)

    return await IOLoop.current().run_in_executor(executor, work)


async def roster(settings: dict[str, Any], course: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Everyone in ``course`` with their role and cohorts, from the hub's cached groups."""
    hub = settings["hub_groups"]
    users, properties = await hub.users(), await hub.properties()
    # Worked out once per course for each fetch of the hub's groups (a class of a thousand
    # joining a live round would otherwise walk every group a thousand times).
    cache: dict[str, tuple[Any, Any, Any]] = settings.setdefault("roster_cache", {})
    cached = cache.get(course)
    if cached is not None and cached[0] is users and cached[1] is properties:
        return cached[2]
    members = course_members(course, users, properties)
    cache[course] = (users, properties, members)
    return members


def refuse_workspace_account(model: dict[str, Any]) -> None:
    """A cohort workspace's collaboration account never calls the service.

    Its token lives in the shared workspace server (and is readable from its kernels, which
    every member runs as that account), so anything it did would be done by an unknown
    member under no one's name. People in a workspace reach the service with their own
    session instead (docs/cohort-workspace.md).
    """
    if model.get("kind", "user") == "user" and WORKSPACES_GROUP in (model.get("groups") or ()):
        raise APIError(
            403,
            "workspace_account",
            f"{model.get('name')} is a cohort workspace's shared account and cannot use "
            "CohortLab; in a workspace, CohortLab uses your own session (reload the page if "
            "it does not).",
        )


@web.stream_request_body  # bodies are checked against the route's limit before they are read
class BaseHandler(HubOAuthenticated, web.RequestHandler):
    #: The largest request body this route takes; ``None``: ``Limits.body_bytes`` (limits.py).
    body_limit: int | None = None
    #: Only the route a workspace server reports contribution counts on (its own checks).
    workspace_account_allowed = False
    #: Pages redirect a browser without a session to the hub's login; API calls get 401.
    redirect_to_login = False

    @property
    def hub_auth(self):  # type: ignore[override]
        return self.settings["hub_auth"]

    @hub_auth.setter
    def hub_auth(self, value: Any) -> None:  # pragma: no cover - set through settings
        raise AttributeError("hub_auth comes from the application settings")

    @property
    def log(self) -> logging.Logger:
        """The service's logger (tornado's handlers have none of their own)."""
        return log

    @property
    def hub_user(self) -> dict[str, Any]:
        """The authenticated hub model (user or service); only valid after ``prepare``."""
        assert self.current_user is not None
        return self.current_user  # type: ignore[return-value]

    #: CORS headers for this request's allowed origin, set in ``prepare`` and kept through
    #: ``clear()`` (an error answer must be readable too: the client renews its session on 401).
    _cors_headers: dict[str, str] = {}

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'")
        if self.cross_origins is not None:
            self.set_header("Vary", "Origin")
        for name, value in self._cors_headers.items():
            self.set_header(name, value)

    @property
    def cross_origins(self) -> CrossOrigins | None:
        """The cross-origin rules, or None without subdomains (one origin: no CORS at all)."""
        cross = self.settings.get("cross_origins")
        return cross if cross is not None and cross.enabled else None

    async def allowed_origins(self) -> frozenset[str]:
        """Origins that may call the service from a browser: cohort workspaces' (cached)."""
        cross = self.cross_origins
        if cross is None:
            return frozenset()
        return cross.allowed(await self.settings["hub_groups"].users())

    def is_own_origin(self, origin: str) -> bool:
        """Whether ``origin`` is the service's own (tornado's WebSocket rule: same host)."""
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:  # e.g. "http://[": not an origin at all
            return False
        return netloc.lower() == self.request.host.lower()

    async def check_cross_origin(self) -> bool:
        """Answer a preflight, or refuse a browser request from a disallowed origin (403,
        no CORS headers); returns True when the request is finished here.

        Only with subdomains: on one origin every browser caller is same-origin as before.
        Requests without ``Origin`` (the relay, kernels, scripts) are not browsers' and pass.
        """
        origin = self.request.headers.get("Origin")
        preflight = self.request.method == "OPTIONS"
        if self.cross_origins is None or (
            not preflight and (origin is None or self.is_own_origin(origin))
        ):
            if preflight:
                raise APIError(405, "method_not_allowed", "The service takes no OPTIONS here.")
            return False
        allowed = await self.allowed_origins()
        if preflight:
            headers = preflight_headers(
                origin,
                allowed,
                self.request.headers.get("Access-Control-Request-Method"),
                self.request.headers.get("Access-Control-Request-Headers"),
            )
        else:
            exact = allowed_origin(origin, allowed)
            headers = response_headers(exact) if exact else None
        if headers is None:
            raise APIError(
                403,
                "origin_not_allowed",
                f"Pages on {origin} may not call CohortLab; only cohort workspaces may.",
            )
        self._cors_headers = headers
        for name, value in headers.items():
            self.set_header(name, value)
        if preflight:
            self.set_status(204)
            self.finish()
            return True
        return False

    async def authenticate(self) -> dict[str, Any] | None:
        """Ask the hub who is calling; map a hub outage to a clear 503."""
        try:
            model = await self.hub_auth.get_user(self, sync=False)
        except web.HTTPError as e:
            if e.status_code >= 500:
                self.log.warning("Hub unreachable while authenticating: %s", e.log_message)
                raise APIError(
                    503,
                    "hub_unavailable",
                    "JupyterHub could not be reached to check who you are; try again shortly.",
                ) from None
            raise
        if model is None:
            return None
        if not self.workspace_account_allowed:
            refuse_workspace_account(model)
        try:
            return self.check_hub_user(model)
        except UserNotAllowed:
            raise APIError(
                403,
                "not_allowed",
                f"{model.get('kind', 'user')} {model.get('name')} may not use CohortLab "
                "(the token lacks access:services!service=cohortlab).",
            ) from None

    #: a refusal decided in ``prepare``: answered by the route's method (``@allow``) once the
    #: request, body included, has been read (and the body thrown away). Answering in
    #: ``prepare`` would close the connection, which the hub's proxy shares between people.
    refusal: web.HTTPError | None = None

    def data_received(self, chunk: bytes) -> None:
        # streamed (see the class decorator); Tornado stops at the limit set in prepare
        if self.refusal is not None:
            return  # thrown away
        if not isinstance(self.request.body, bytearray):
            self.request.body = bytearray()  # type: ignore[assignment]
        self.request.body += chunk  # type: ignore[operator]

    @property
    def limits(self) -> limits.Limits:
        return self.settings.get("limits") or limits.Limits()

    def check_body_size(self) -> None:
        """413 for a declared body over this route's limit, before keeping any of it.

        The body is still read (and thrown away, up to ``limits.DRAIN_BYTES``) before the
        answer goes out: answering first and closing the connection would reset it under
        the proxy, which may be about to send someone else's request down it.
        """
        limit = self.body_limit or self.limits.body_bytes
        declared = self.request.headers.get("Content-Length", "")
        size = int(declared) if declared.isdigit() else 0
        if size > limits.DRAIN_BYTES:
            raise limits.too_large(size, limit, close=True)
        connection = self.request.connection
        if connection is not None and hasattr(connection, "set_max_body_size"):
            connection.set_max_body_size(max(limit, size))
        if size > limit:
            raise limits.too_large(size, limit)

    _write_rate: limits.Rate | None = None

    async def check_write_limit(self, model: dict[str, Any]) -> None:
        """Writes of a person known to be over their limit are refused from memory, after
        ``limits.REFUSAL_DELAY`` (so a script that ignores Retry-After slows to a crawl)."""
        if self.request.method not in limits.WRITE_METHODS:
            return
        if WORKSPACES_GROUP in (model.get("groups") or ()):
            return  # a workspace server reporting for its members (its own checks)
        self._write_rate = limits.write_rate(self.limits, model)
        if self._write_rate is None:
            return
        try:
            self.settings.setdefault("blocked", limits.Blocked()).check(
                model["name"], self._write_rate
            )
        except APIError:
            await asyncio.sleep(limits.REFUSAL_DELAY)
            raise

    async def prepare(self) -> None:
        if await self.check_cross_origin():
            return
        try:
            await self.identify()
        except web.HTTPError as e:
            closing = getattr(e, "headers", {}).get("Connection") == "close"
            if closing or not self.answers_refusals():
                raise
            self.refusal = e

    def answers_refusals(self) -> bool:
        """Whether this request's method answers ``refusal`` itself: every route method
        does, through ``@allow`` (permissions.py)."""
        method = getattr(self, (self.request.method or "").lower(), None)
        return hasattr(method, "_cl_rule")

    def finish(self, chunk: Any = None) -> Any:
        # Answered before the request was read (a preflight, an unknown address, a refusal
        # with nowhere to wait): Tornado closes the connection after this answer, so the
        # answer must say so, or the hub's proxy may send someone else's request down it.
        if not getattr(self.request.connection, "_read_finished", True):
            self.set_header("Connection", "close")
        return super().finish(chunk)

    async def identify(self) -> None:
        """The body's size, who is calling, and their write limit: any refusal raises."""
        self.check_body_size()
        model = await self.authenticate()
        if model is None:
            if self.redirect_to_login and self.request.method in ("GET", "HEAD"):
                self.redirect(self.get_login_url())
                return
            raise APIError(
                401,
                "not_authenticated",
                "Sign in to JupyterHub (or send a hub token) to use CohortLab.",
            )
        self._hub_auth_user_cache = model
        self.current_user = model
        await self.check_write_limit(model)

    def on_finish(self) -> None:
        """A write that took no transaction of its own (a hub call, a ping) still counts."""
        rate = self._write_rate
        if rate is None or self.get_status() >= 400:
            return
        self._write_rate = None
        name, now = self.hub_user["name"], time.time()
        settings = self.settings

        async def count() -> None:
            try:
                refused = await run_db(
                    settings, spend_write, name, now, rate.interval, rate.tolerance
                )
            except Exception:
                log.warning("Could not count a write of %s", name, exc_info=True)
                return
            if refused is not None:
                settings.setdefault("blocked", limits.Blocked()).block(name, refused, now)

        IOLoop.current().spawn_callback(count)

    def get_current_user(self) -> Any:
        # Authentication is async and happens in prepare(); never block here.
        return getattr(self, "_hub_auth_user_cache", None)

    caller: Caller | None = None

    async def course_caller(self, course: str) -> Caller:
        """The caller within ``course``, from the hub's groups (403 if not a member)."""
        user = self.hub_user
        groups = await self.settings["hub_groups"].properties()
        member = membership(user.get("groups", []), groups)
        user_id = await self.settings["people"].user_id(user["name"])
        return Caller.in_course(user["name"], user_id, course, member)

    async def roster(self, course: str) -> dict[str, tuple[str, frozenset[str]]]:
        """Everyone in the course with their role and cohorts, from the hub's cached groups."""
        return await roster(self.settings, course)

    async def run_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction, off the event loop (:func:`run_db`).

        A write request's first transaction also counts the write against the person's limit
        (``limits.py``): over it, the transaction is rolled back whole and the answer is 429.
        """
        rate = self._write_rate
        if rate is None:
            return await run_db(self.settings, fn, *args)
        self._write_rate = None  # one count per request, however many transactions it takes
        name, now = self.hub_user["name"], time.time()
        refused: list[float] = []

        def counted(session: Any, *args: Any) -> T:
            allowed_at = spend_write(session, name, now, rate.interval, rate.tolerance)
            if allowed_at is not None:
                refused.append(allowed_at)
                raise limits.too_many_writes(rate, limits.retry_after(now, allowed_at))
            return fn(session, *args)

        try:
            return await run_db(self.settings, counted, *args)
        except APIError:
            if refused:
                self.settings.setdefault("blocked", limits.Blocked()).block(name, refused[0], now)
            raise

    def read_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short read ``fn(session, *args)`` on the event loop.

        Only for indexed reads measured at well under a millisecond (the discussions
        benchmark): a thread hop costs more than such a query.
        """
        factory = self.settings.get("read_session_factory") or self.settings["session_factory"]
        with session_scope(factory) as session:
            return fn(session, *args)

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data, separators=(",", ":"), default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, APIError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(error_body(status_code, exc)))

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 saying what is wrong with it."""
        if not self.request.body:
            raise APIError(400, "empty_body", "The request needs a JSON object as its body.")
        try:
            data = json.loads(self.request.body)
        except ValueError as e:
            raise APIError(400, "invalid_json", f"The body is not valid JSON: {e}.") from None
        if not isinstance(data, dict):
            raise APIError(400, "invalid_json", "The body must be a JSON object.")
        return data


class NotFoundHandler(BaseHandler):
    """Unknown addresses under the service answer in the one error shape (after auth)."""

    async def prepare(self) -> None:
        await super().prepare()
        if self._finished:  # a preflight, answered (or refused) whatever the path
            return
        raise APIError(404, "not_found", f"No CohortLab endpoint at {self.request.path}.")
