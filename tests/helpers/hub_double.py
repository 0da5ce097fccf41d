"""A minimal JupyterHub REST API double: the part of ``/hub/api`` the CohortLab service calls.

It serves the service's hub-auth code (``GET /user`` for a token, as ``HubAuth``
asks), the group reads of ``service.hub.HubGroups``, and the user, group and share calls of
``cohorts.hub.HubClient``; and the few admin calls the API tests make themselves (tokens
for people, team groups). Models have JupyterHub 6.1's shapes (``apihandlers/base.py``:
``user_model``, ``group_model``, ``paginated_model``; ``apihandlers/users.py``:
``SelfAPIHandler``), and a token's scopes are expanded by JupyterHub's own
``scopes.expand_scopes`` from the roles in the hub config.

What it is not: no spawner (no server ever runs: stopping one answers 204 at once), no
OAuth (browsers' cookie sign-in is tested against the real hub), no proxy.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jupyterhub import orm
from jupyterhub.scopes import expand_scopes
from tornado import web

API_PREFIX = "/hub/api"
log = logging.getLogger("tests.hub_double")


@dataclass
class Token:
    kind: str  # "user" or "service"
    owner: str
    scopes: frozenset[str]
    #: requested without scopes: it has whatever its owner has now (shares included)
    inherit: bool = False
    id: str = field(default_factory=lambda: f"a{secrets.token_hex(4)}")


@dataclass
class HubState:
    """Users, groups, services, tokens and shares, as the hub's database would hold them."""

    roles: list[dict[str, Any]]
    users: dict[str, datetime] = field(default_factory=dict)  # name -> created
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> users, properties
    services: set[str] = field(default_factory=set)
    tokens: dict[str, Token] = field(default_factory=dict)
    shares: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # owner -> kind -> names

    def add_user(self, name: str) -> None:
        self.users.setdefault(name, datetime.now(UTC))

    def groups_of(self, user: str) -> list[str]:
        return [g for g, model in self.groups.items() if user in model["users"]]

    def role_scopes(self, kind: str, name: str) -> set[str]:
        """The raw scopes of every role the hub config gives this user or service."""
        found: set[str] = set()
        for role in self.roles:
            if kind == "user" and (
                role["name"] == "user"
                or name in role.get("users", [])
                or set(role.get("groups", [])) & set(self.groups_of(name))
            ):
                found |= set(role.get("scopes", []))
            if kind == "service" and name in role.get("services", []):
                found |= set(role.get("scopes", []))
        return found

    def mint(self, kind: str, owner: str, scopes: list[str] | None = None) -> str:
        """A new token of ``owner``; without ``scopes`` it has all of the owner's (JupyterHub's
        default for a token requested with none)."""
        token = secrets.token_hex(16)
        if scopes is None:
            self.tokens[token] = Token(kind, owner, self.owner_scopes(kind, owner), inherit=True)
        else:
            self.tokens[token] = Token(kind, owner, self.expand(kind, owner, set(scopes)))
        return token

    def expand(self, kind: str, owner: str, raw: set[str]) -> frozenset[str]:
        orm_owner = orm.User(name=owner) if kind == "user" else orm.Service(name=owner)
        return frozenset(expand_scopes(raw, owner=orm_owner))

    def owner_scopes(self, kind: str, owner: str) -> frozenset[str]:
        """Everything the user or service may do now: its roles' scopes and, for a user, the
        servers shared with them or their groups (``access:servers!server=<owner>/``)."""
        scopes = self.expand(kind, owner, self.role_scopes(kind, owner))
        if kind != "user":
            return scopes
        groups = set(self.groups_of(owner))
        shared = {
            f"access:servers!server={server}/"
            for server, holders in self.shares.items()
            if owner in holders["users"] or groups & holders["groups"]
        }
        return scopes | shared

    def scopes_of(self, token: Token) -> frozenset[str]:
        return self.owner_scopes(token.kind, token.owner) if token.inherit else token.scopes

    def user_model(self, name: str) -> dict[str, Any]:
        created = self.users[name].isoformat().replace("+00:00", "Z")
        return {
            "kind": "user",
            "name": name,
            "admin": False,
            "roles": ["user"],
            "groups": self.groups_of(name),
            "server": None,
            "pending": None,
            "created": created,
            "last_activity": None,
            "servers": {},
            "user_info": None,
        }

    def group_model(self, name: str) -> dict[str, Any]:
        group = self.groups[name]
        return {
            "kind": "group",
            "name": name,
            "roles": [],
            "users": list(group["users"]),
            "properties": group["properties"],
        }


class DoubleHandler(web.RequestHandler):
    """JupyterHub's error shape (``{"status", "message"}``) and its scope checks."""

    state: HubState

    def initialize(self, state: HubState) -> None:
        self.state = state

    def check_xsrf_cookie(self) -> None:
        pass  # token-authenticated API calls only

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, web.HTTPError):  # refusals are answers, not news
            super().log_exception(typ, value, tb)

    @property
    def token(self) -> Token | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        return self.state.tokens.get(value.strip())

    def need(self, scope: str, *, user: str | None = None, group: str | None = None) -> None:
        """403 unless the caller's scopes grant ``scope`` on the user or group named."""
        token = self.token
        if token is None:
            raise web.HTTPError(403, "Missing or invalid credentials.")
        granted = {scope}
        if user is not None:
            granted |= {f"{scope}!user={user}"}
            granted |= {f"{scope}!group={g}" for g in self.state.groups_of(user)}
            granted |= {f"{scope}!server={user}/"}
        if group is not None:
            granted |= {f"{scope}!group={group}"}
        if not granted & self.state.scopes_of(token):
            raise web.HTTPError(403, f"Action is not authorized with current scopes; needs {scope}")

    def body(self) -> Any:
        if not self.request.body:
            return None
        try:
            return json.loads(self.request.body)
        except ValueError:
            raise web.HTTPError(400, "Invalid JSON in body") from None

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message}))

    def find_user(self, name: str) -> str:
        if name not in self.state.users:
            raise web.HTTPError(404, f"No such user: {name}")
        return name

    def find_group(self, name: str) -> dict[str, Any]:
        group = self.state.groups.get(name)
        if group is None:
            raise web.HTTPError(404, f"No such group: {name}")
        return group

    def paginated(self, items: list[Any]) -> None:
        offset = int(self.get_argument("offset", "0"))
        limit = int(self.get_argument("limit", "200"))
        page = items[offset : offset + limit]
        if "application/jupyterhub-pagination+json" not in self.request.headers.get("Accept", ""):
            self.write_json(page)
            return
        nxt = offset + limit
        self.write_json(
            {
                "items": page,
                "_pagination": {
                    "offset": offset,
                    "limit": limit,
                    "total": len(items),
                    "next": {"offset": nxt, "limit": limit} if nxt < len(items) else None,
                },
            }
        )


class SelfHandler(DoubleHandler):
    """``GET /user``: who a token belongs to, with the token's scopes (``HubAuth`` asks)."""

    def get(self) -> None:
        token = self.token
        if token is None:
            raise web.HTTPError(403)
        if token.kind == "user":  # a person's own token reads their whole model
            model = self.state.user_model(token.owner)
        else:  # a service identifies itself with read:services:name only
            model = {"kind": "service", "name": token.owner, "admin": False}
        model.update(token_id=token.id, session_id=None, scopes=sorted(self.state.scopes_of(token)))
        self.write_json(model)


class UserHandler(DoubleHandler):
    def get(self, name: str) -> None:
        self.need("read:users", user=name)
        self.write_json(self.state.user_model(self.find_user(name)))

    def post(self, name: str) -> None:
        self.need("admin:users")
        if name in self.state.users:
            raise web.HTTPError(409, f"User {name} already exists")
        self.state.add_user(name)
        self.write_json(self.state.user_model(name), 201)

    def delete(self, name: str) -> None:
        self.need("admin:users")
        self.find_user(name)
        del self.state.users[name]
        for group in self.state.groups.values():
            if name in group["users"]:
                group["users"].remove(name)
        self.state.shares.pop(name, None)
        for owner in self.state.shares.values():
            owner["users"].discard(name)
        self.state.tokens = {k: t for k, t in self.state.tokens.items() if t.owner != name}
        self.set_status(204)


class TokensHandler(DoubleHandler):
    def post(self, name: str) -> None:
        self.need("tokens", user=name)
        self.find_user(name)
        body = self.body() or {}
        token = self.state.mint("user", name, body.get("scopes"))
        model = self.state.tokens[token]
        self.write_json(
            {
                "token": token,
                "id": model.id,
                "user": name,
                "kind": "api_token",
                "note": body.get("note") or "Requested via api",
                "scopes": sorted(self.state.scopes_of(model)),
            },
            201,
        )


class ServerHandler(DoubleHandler):
    """No server ever runs here: stopping one is done at once."""

    def delete(self, name: str) -> None:
        self.need("delete:servers", user=name)
        self.find_user(name)
        self.set_status(204)


class GroupListHandler(DoubleHandler):
    def get(self) -> None:
        self.need("list:groups")
        self.paginated([self.state.group_model(g) for g in self.state.groups])


class GroupHandler(DoubleHandler):
    def get(self, name: str) -> None:
        self.need("read:groups", group=name)
        self.find_group(name)
        self.write_json(self.state.group_model(name))

    def post(self, name: str) -> None:
        self.need("admin:groups")
        if name in self.state.groups:
            raise web.HTTPError(409, f"Group {name} already exists")
        users = (self.body() or {}).get("users", [])
        for user in users:
            if user not in self.state.users:
                raise web.HTTPError(400, f"No such user: {user}")
        self.state.groups[name] = {"users": list(dict.fromkeys(users)), "properties": {}}
        self.write_json(self.state.group_model(name), 201)

    def delete(self, name: str) -> None:
        self.need("admin:groups")
        self.find_group(name)
        del self.state.groups[name]
        for owner in self.state.shares.values():
            owner["groups"].discard(name)
        self.set_status(204)


class GroupUsersHandler(DoubleHandler):
    def post(self, name: str) -> None:
        self.need("groups", group=name)
        group = self.find_group(name)
        for user in (self.body() or {}).get("users", []):
            self.find_user(user)
            if user not in group["users"]:
                group["users"].append(user)
        self.write_json(self.state.group_model(name))

    def delete(self, name: str) -> None:
        self.need("groups", group=name)
        group = self.find_group(name)
        gone = set((self.body() or {}).get("users", []))
        group["users"] = [u for u in group["users"] if u not in gone]
        self.write_json(self.state.group_model(name))


class GroupPropertiesHandler(DoubleHandler):
    def put(self, name: str) -> None:
        self.need("groups", group=name)
        group = self.find_group(name)
        properties = self.body()
        if not isinstance(properties, dict):
            raise web.HTTPError(400, "properties must be a dict")
        group["properties"] = properties
        self.write_json(self.state.group_model(name))


class ServerShareHandler(DoubleHandler):
    """``/shares/<owner>/``: who may open the owner's default server."""

    def shares_of(self, owner: str) -> dict[str, set[str]]:
        self.need("shares", user=owner)
        self.find_user(owner)
        return self.state.shares.setdefault(owner, {"users": set(), "groups": set()})

    def target(self) -> tuple[str, str]:
        body = self.body() or {}
        if body.get("user"):
            return "users", self.find_user(body["user"])
        if body.get("group"):
            return "groups", body["group"] if self.find_group(body["group"]) else ""
        raise web.HTTPError(400, "Specify exactly one of user or group")

    def get(self, owner: str) -> None:
        shares = self.shares_of(owner)
        self.paginated(
            [
                {"kind": "user", "user": {"name": u}, "group": None, "scopes": []}
                for u in sorted(shares["users"])
            ]
            + [
                {"kind": "group", "user": None, "group": {"name": g}, "scopes": []}
                for g in sorted(shares["groups"])
            ]
        )

    def post(self, owner: str) -> None:
        shares = self.shares_of(owner)
        kind, name = self.target()
        shares[kind].add(name)
        self.write_json({"kind": kind[:-1], kind[:-1]: {"name": name}, "scopes": []})

    def patch(self, owner: str) -> None:
        shares = self.shares_of(owner)
        kind, name = self.target()
        shares[kind].discard(name)
        self.write_json({})

    def delete(self, owner: str) -> None:
        shares = self.shares_of(owner)
        shares["users"].clear()
        shares["groups"].clear()
        self.set_status(204)


def hub_api_app(state: HubState) -> web.Application:
    name = r"([^/]+)"
    routes = [
        (r"/user", SelfHandler),
        (rf"/users/{name}", UserHandler),
        (rf"/users/{name}/tokens", TokensHandler),
        (rf"/users/{name}/server", ServerHandler),
        (r"/groups", GroupListHandler),
        (rf"/groups/{name}", GroupHandler),
        (rf"/groups/{name}/users", GroupUsersHandler),
        (rf"/groups/{name}/properties", GroupPropertiesHandler),
        (rf"/shares/{name}/", ServerShareHandler),
    ]
    return web.Application(
        [(API_PREFIX + path, handler, {"state": state}) for path, handler in routes],
        log_function=_log_request,
    )


def _log_request(handler: web.RequestHandler) -> None:
    request = handler.request
    log.debug("%d %s %s", handler.get_status(), request.method, request.uri)
