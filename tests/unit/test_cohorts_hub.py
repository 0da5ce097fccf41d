"""Cohort operations against an in-memory hub: rollback, order of revocation, idempotent
sync and archive; and the hub-side hooks for workspace accounts.

The fake speaks the few hub REST routes ``cohorts.hub`` uses, with the hub's status codes
(409 on an existing group or user, 404 on a missing one). The real hub is exercised by
``tests/integration/test_cohorts_api.py``; this layer makes the failure paths cheap to
reach (any call can be made to fail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
from cohortlab.cohorts import hub as ops
from cohortlab.cohorts.hubhooks import (
    WORKSPACE_AUTH_CACHE,
    WORKSPACE_EXTENSION_ARGS,
    ensure_locked_config_dir,
    ensure_system_account,
    locked_environment,
    prepare_workspace_server,
    refuse_workspace_logins,
    workspace_server_args,
)
from cohortlab.cohorts.manage import WORKSPACES_GROUP, NewCohort
from cohortlab.errors import APIError

COURSE = "demo101"
ACCOUNT = "cohort-demo101-red"


@dataclass
class FakeHub(ops.HubClient):
    users: dict[str, list[str]] = field(default_factory=dict)  # name -> groups
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    shares: dict[str, set[str]] = field(default_factory=dict)  # account -> user names
    group_shares: dict[str, set[str]] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail: dict[tuple[str, str], int] = field(default_factory=dict)  # (method, path re) -> status

    def __post_init__(self) -> None:
        super().__init__("http://hub.invalid/hub/api", "token")

    def add_group(self, name: str, users: list[str], properties: Any = None) -> None:
        self.groups[name] = {"name": name, "users": list(users), "properties": properties or {}}
        for user in users:
            self.users.setdefault(user, []).append(name)

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        path = path.split("?")[0]
        self.calls.append((method, path))
        for (m, pattern), status in self.fail.items():
            if m == method and re.fullmatch(pattern, path):
                raise ops.HubCallError(status, "injected failure")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        return getattr(self, f"_{parts[0]}")(method, parts[1:], body or {})

    def _users(self, method: str, parts: list[str], body: Any) -> Any:
        name = parts[0]
        if len(parts) == 2:  # /users/<name>/server
            self.running.discard(name)
            return None
        if method == "POST":
            if name in self.users:
                raise ops.HubCallError(409, f"User {name} already exists")
            self.users[name] = []
            return {"name": name}
        if name not in self.users:
            raise ops.HubCallError(404, "Not found")
        if method == "DELETE":
            for group in self.users.pop(name):
                self.groups[group]["users"].remove(name)
            self.shares.pop(name, None)
            return None
        servers = {"": {"ready": True}} if name in self.running else {}
        return {"name": name, "groups": list(self.users[name]), "servers": servers}

    def _groups(self, method: str, parts: list[str], body: Any) -> Any:
        if not parts:
            items = list(self.groups.values())
            return {"items": items, "_pagination": {"next": None}}
        name = parts[0]
        if method == "POST" and len(parts) == 1:
            if name in self.groups:
                raise ops.HubCallError(409, f"Group {name} already exists")
            self.add_group(name, body.get("users", []))
            return self.groups[name]
        if name not in self.groups:
            raise ops.HubCallError(404, "Not found")
        group = self.groups[name]
        if len(parts) == 1:
            if method == "DELETE":
                for user in self.groups.pop(name)["users"]:
                    self.users[user].remove(name)
            return group
        if parts[1] == "properties":
            group["properties"] = body
        elif method == "POST":
            for user in body["users"]:
                if user not in group["users"]:
                    group["users"].append(user)
                    self.users[user].append(name)
        else:
            for user in body["users"]:
                group["users"].remove(user)
                self.users[user].remove(name)
        return group

    def _shares(self, method: str, parts: list[str], body: Any) -> Any:
        account = parts[0]
        if account not in self.users:
            raise ops.HubCallError(404, "No such server")
        users = self.shares.setdefault(account, set())
        groups = self.group_shares.setdefault(account, set())
        if method == "GET":
            items = [{"user": {"name": u}, "group": None} for u in sorted(users)]
            items += [{"user": None, "group": {"name": g}} for g in sorted(groups)]
            return {"items": items, "_pagination": {"next": None}}
        if method == "DELETE":
            users.clear()
            groups.clear()
            return None
        target = users if "user" in body else groups
        name = body.get("user") or body.get("group")
        (target.add if method == "POST" else target.discard)(name)
        return {}

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]


@pytest.fixture
def hub() -> FakeHub:
    fake = FakeHub()
    fake.add_group(f"nbgrader-{COURSE}", ["ada", "ben", "cy"])
    fake.add_group(f"formgrade-{COURSE}", ["inst"])
    fake.add_group(f"mentor-{COURSE}", ["men"])
    fake.users["out"] = []
    return fake


def assert_nothing_left(hub: FakeHub) -> None:
    assert f"cohort-{COURSE}-red" not in hub.groups
    assert ACCOUNT not in hub.users


async def test_create_makes_group_account_and_shares_for_members_and_instructors(
    hub: FakeHub,
) -> None:
    synced = await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada", "ben")))
    group = hub.groups[f"cohort-{COURSE}-red"]
    assert group["users"] == ["ada", "ben"]
    assert group["properties"]["cohortlab"] == {
        "kind": "cohort",
        "course": COURSE,
        "cohort": "red",
        "account": ACCOUNT,
        "archived": False,
    }
    assert hub.users[ACCOUNT] == [WORKSPACES_GROUP]
    assert hub.shares[ACCOUNT] == {"ada", "ben", "inst"}
    assert synced.staff == ["inst"] and synced.changes.grant == ("ada", "ben", "inst")


@pytest.mark.parametrize(
    ("failing", "status"),
    [
        (("PUT", r"/groups/.*/properties"), 500),
        (("POST", rf"/users/{ACCOUNT}"), 500),
        (("POST", rf"/groups/{WORKSPACES_GROUP}/users"), 500),
        (("POST", rf"/shares/{ACCOUNT}/"), 403),
    ],
)
async def test_a_create_failing_at_any_later_step_leaves_nothing_behind(
    hub: FakeHub, failing: tuple[str, str], status: int
) -> None:
    hub.fail[failing] = status
    with pytest.raises(APIError) as exc:
        await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada",)))
    assert exc.value.status_code == 502 and exc.value.code == "hub_error"
    assert_nothing_left(hub)
    assert hub.users["ada"] == [f"nbgrader-{COURSE}"]
    hub.fail.clear()
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada",)))  # a retry just works


async def test_an_existing_user_with_the_account_name_is_never_taken_over(hub: FakeHub) -> None:
    hub.users[ACCOUNT] = []  # a person (not a workspace) already has the name
    with pytest.raises(APIError) as exc:
        await ops.create_cohort(hub, COURSE, NewCohort("red", ()))
    assert exc.value.code == "account_taken"
    assert f"cohort-{COURSE}-red" not in hub.groups
    assert hub.users[ACCOUNT] == []  # untouched, not deleted


async def test_bad_members_stop_the_create_before_any_write(hub: FakeHub) -> None:
    for member, expected in [("ghost", "unknown_user"), ("out", "not_in_course")]:
        with pytest.raises(APIError) as exc:
            await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada", member)))
        assert exc.value.code == expected
    assert hub.writes() == []


async def test_a_duplicate_cohort_is_409_and_the_existing_one_is_untouched(hub: FakeHub) -> None:
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada",)))
    with pytest.raises(APIError) as exc:
        await ops.create_cohort(hub, COURSE, NewCohort("red", ("ben",)))
    assert (exc.value.status_code, exc.value.code) == (409, "cohort_exists")
    assert hub.groups[f"cohort-{COURSE}-red"]["users"] == ["ada"]
    assert ACCOUNT in hub.users


async def test_removal_revokes_access_before_membership(hub: FakeHub) -> None:
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada", "ben")))
    hub.calls.clear()
    await ops.remove_member(hub, COURSE, "red", "ben")
    writes = hub.writes()
    assert writes.index(("PATCH", f"/shares/{ACCOUNT}/")) < writes.index(
        ("DELETE", f"/groups/cohort-{COURSE}-red/users")
    )
    assert hub.shares[ACCOUNT] == {"ada", "inst"}


async def test_a_failed_revocation_keeps_the_member_so_nothing_looks_done(hub: FakeHub) -> None:
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada", "ben")))
    hub.fail[("PATCH", rf"/shares/{ACCOUNT}/")] = 500
    with pytest.raises(APIError):
        await ops.remove_member(hub, COURSE, "red", "ben")
    assert "ben" in hub.groups[f"cohort-{COURSE}-red"]["users"]


async def test_sync_is_idempotent_and_repairs_drift_and_group_shares(hub: FakeHub) -> None:
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada",)))
    hub.shares[ACCOUNT] |= {"cy"}  # shared by hand
    hub.group_shares[ACCOUNT] = {f"cohort-{COURSE}-red"}  # grants nothing in 6.1.1
    hub.groups[f"cohort-{COURSE}-red"]["users"].append("ben")  # added in the admin page
    hub.users["ben"].append(f"cohort-{COURSE}-red")
    synced = await ops.sync(hub, COURSE, "red")
    assert synced.changes.grant == ("ben",)
    assert synced.changes.revoke_users == ("cy",)
    assert hub.shares[ACCOUNT] == {"ada", "ben", "inst"} and not hub.group_shares[ACCOUNT]
    hub.calls.clear()
    again = await ops.sync(hub, COURSE, "red")
    assert again.changes.empty and hub.writes() == []


async def test_sync_recreates_a_missing_account_for_a_cohort_from_the_hub_config(
    hub: FakeHub,
) -> None:
    props = {"cohortlab": {"kind": "cohort", "course": COURSE, "cohort": "red"}}
    hub.add_group(f"cohort-{COURSE}-red", ["ada"], props)
    synced = await ops.sync(hub, COURSE, "red")
    assert synced.created_account
    assert hub.users[ACCOUNT] == [WORKSPACES_GROUP]
    assert hub.groups[f"cohort-{COURSE}-red"]["properties"]["cohortlab"]["account"] == ACCOUNT
    assert hub.shares[ACCOUNT] == {"ada", "inst"}


async def test_archive_marks_first_removes_shares_stops_and_can_be_repeated(
    hub: FakeHub,
) -> None:
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada", "ben")))
    hub.running.add(ACCOUNT)
    hub.fail[("DELETE", rf"/users/{ACCOUNT}/server")] = 500
    hub.calls.clear()
    with pytest.raises(APIError):
        await ops.archive(hub, COURSE, "red")
    assert hub.writes()[0] == ("PUT", f"/groups/cohort-{COURSE}-red/properties")
    assert hub.groups[f"cohort-{COURSE}-red"]["properties"]["cohortlab"]["archived"] is True
    assert hub.shares[ACCOUNT] == set()
    hub.fail.clear()
    synced, stopped = await ops.archive(hub, COURSE, "red")
    assert stopped and ACCOUNT not in hub.running
    assert synced.cohort.archived and synced.cohort.members == ("ada", "ben")
    assert ACCOUNT in hub.users  # nothing deleted
    with pytest.raises(APIError) as exc:
        await ops.add_member(hub, COURSE, "red", "cy")
    assert exc.value.code == "cohort_archived"
    assert (await ops.sync(hub, COURSE, "red")).changes.empty


async def test_the_service_lacking_a_hub_scope_is_a_502_that_names_the_fix(
    hub: FakeHub,
) -> None:
    hub.fail[("POST", rf"/groups/cohort-{COURSE}-red")] = 403
    with pytest.raises(APIError) as exc:
        await ops.create_cohort(hub, COURSE, NewCohort("red", ()))
    assert exc.value.status_code == 502
    assert "role" in exc.value.message


async def test_listing_reads_only_the_courses_cohorts(hub: FakeHub) -> None:
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada",)))
    await ops.create_cohort(hub, COURSE, NewCohort("blue", ("ben",)))
    hub.add_group("nbgrader-other", ["cy"])
    await ops.create_cohort(hub, "other", NewCohort("red", ()))
    assert [c.name for c in await ops.list_cohorts(hub, COURSE)] == ["blue", "red"]


# --- hooks inside the hub ----------------------------------------------------------------


@dataclass
class Group:
    name: str


@dataclass
class User:
    name: str
    groups: list[Group]


class Handler:
    def __init__(self, *users: User) -> None:
        self.users = {u.name: u for u in users}

    def find_user(self, name: str) -> User | None:
        return self.users.get(name)


async def test_logins_as_workspace_accounts_are_refused_and_people_pass() -> None:
    handler = Handler(User("ws-odd", [Group(WORKSPACES_GROUP)]), User("ada", []))
    assert await refuse_workspace_logins(None, handler, {"name": "cohort-demo101-red"}) is None
    assert await refuse_workspace_logins(None, handler, {"name": "ws-odd"}) is None
    assert await refuse_workspace_logins(None, handler, {"name": "ada"}) == {"name": "ada"}


@dataclass
class Spawner:
    user: User
    args: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


async def test_a_workspace_server_gets_the_short_auth_cache_once_and_people_are_untouched() -> None:
    workspace = Spawner(User(ACCOUNT, [Group(WORKSPACES_GROUP)]), ["--debug"])
    await prepare_workspace_server(workspace)
    await prepare_workspace_server(workspace)  # a restart of the same spawner
    assert workspace.args == ["--debug", *workspace_server_args(), *WORKSPACE_EXTENSION_ARGS]
    assert workspace.args[1] == f"--HubOAuth.cache_max_age={WORKSPACE_AUTH_CACHE}"
    assert workspace.environment == {"COHORTLAB_CLIENT_MODE": "direct"}
    person = Spawner(User("ada", []), ["--debug"])
    await prepare_workspace_server(person)
    assert (person.args, person.environment) == (["--debug"], {})


def test_workspace_servers_read_nothing_from_the_accounts_home_but_lab_settings() -> None:
    env = locked_environment("/home/cohort-demo101-red")
    assert env["PYTHONNOUSERSITE"] == "1"
    assert not env["JUPYTER_CONFIG_DIR"].startswith("/home/")
    assert env["JUPYTERLAB_SETTINGS_DIR"] == "/home/cohort-demo101-red/.jupyter/lab/user-settings"
    assert env["JUPYTERLAB_WORKSPACES_DIR"] == "/home/cohort-demo101-red/.jupyter/lab/workspaces"


async def test_in_a_container_the_images_config_folder_is_used_when_named(monkeypatch) -> None:
    monkeypatch.setenv("COHORTLAB_WORKSPACE_CONFIG_DIR", "/etc/cohortlab/workspace-jupyter")
    workspace = Spawner(User(ACCOUNT, [Group(WORKSPACES_GROUP)]))
    await prepare_workspace_server(workspace)
    assert workspace.environment["JUPYTER_CONFIG_DIR"] == "/etc/cohortlab/workspace-jupyter"
    assert workspace.environment["JUPYTERLAB_SETTINGS_DIR"].startswith("/home/jovyan/.jupyter/")
    assert workspace.environment["PYTHONNOUSERSITE"] == "1"


def test_the_locked_config_folder_holds_the_migrated_marker(tmp_path) -> None:
    """Without the marker jupyter_core would try to write it there (and fail) whenever the
    account has an ~/.ipython folder, which a kernel makes on its first run."""
    folder = tmp_path / "etc" / "cohortlab" / "workspace-jupyter"
    assert ensure_locked_config_dir(folder)
    assert (folder / "migrated").is_file()
    assert folder.stat().st_mode & 0o777 == 0o755
    assert ensure_locked_config_dir(folder)  # already there
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert not ensure_locked_config_dir(blocked / "sub")


def test_workspace_servers_cull_themselves_when_idle_unless_turned_off() -> None:
    args = workspace_server_args(600)
    assert "--ServerApp.shutdown_no_activity_timeout=600" in args
    assert "--MappingKernelManager.cull_idle_timeout=600" in args
    assert "--MappingKernelManager.cull_interval=60" in args
    assert workspace_server_args(0) == [f"--HubOAuth.cache_max_age={WORKSPACE_AUTH_CACHE}"]


@pytest.mark.parametrize("name", ["ada", "root", "cohort-../x", "cohort-" + "x" * 40])
def test_system_accounts_are_only_made_for_workspace_names(name: str) -> None:
    with pytest.raises(ValueError):
        ensure_system_account(name)
