"""A course of its own in a hub, for the cohort API tests: its people (hub users only; they
never log in), removed again with every cohort, team and workspace made in it.

Works with the real hub (tests/integration) and with the hub API double (tests/api), where
no workspace server ever runs and no system account is made.
"""

from __future__ import annotations

import pwd
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial

from tests.helpers.api import Person
from tests.helpers.hub import Hub
from tests.helpers.waiting import wait_until


@dataclass
class Course:
    hub: Hub
    id: str
    prefix: str
    accounts: list[str] = field(default_factory=list)

    def person(self, role: str) -> Person:
        return Person(self.hub, f"{self.prefix}-{role}")

    @property
    def teach(self) -> Person:
        return self.person("teach")

    def cohort_name(self) -> str:
        return f"k{secrets.token_hex(3)}"

    def path(self, *parts: str) -> str:
        return "/".join(["courses", self.id, "cohorts", *parts])

    def create(self, members: list[str], name: str | None = None) -> dict:
        cohort = self.teach.ok(
            "POST", self.path(), {"name": name or self.cohort_name(), "members": members}
        )["cohort"]
        self.accounts.append(cohort["account"])
        return cohort

    def group(self, name: str) -> dict | None:
        resp = self.hub.api("GET", f"/hub/api/groups/cohort-{self.id}-{name}", self.hub.admin_token)
        return resp.json() if resp.status_code == 200 else None

    def workspace_status(self, account: str, who: str) -> int:
        resp = self.hub.api("GET", f"/user/{account}/api/status", self.hub.token_for(who))
        return resp.status_code

    def server(self, account: str) -> dict:
        return self.hub.admin("GET", f"/users/{account}").json().get("servers", {})


ROLES = {
    "teach": "formgrade",
    "ment": "mentor",
    "ann": "nbgrader",
    "bob": "nbgrader",
    "cat": "nbgrader",
    "dan": "nbgrader",
    "out": None,
}


@contextmanager
def course_with_people(hub: Hub) -> Iterator[Course]:
    """A course of its own with the people of ``ROLES``, removed again afterwards (with
    every cohort, team and workspace made in it). Other cohort test modules use it too."""
    tag = secrets.token_hex(3)
    c = Course(hub, f"co{tag}", f"p{tag}")
    names = {role: f"{c.prefix}-{role}" for role in ROLES}
    for name in names.values():
        hub.admin("POST", f"/users/{name}")
    groups = [f"formgrade-{c.id}", f"mentor-{c.id}", f"nbgrader-{c.id}"]
    for group in groups:
        prefix = group.split("-")[0]
        users = [names[r] for r, g in ROLES.items() if g == prefix]
        hub.admin("POST", f"/groups/{group}", json={"users": users})
    try:
        yield c
    finally:
        _clean_up(hub, c, list(names.values()), groups)


def _clean_up(hub: Hub, c: Course, people: list[str], groups: list[str]) -> None:
    """Stop workspace servers, delete their system accounts and this module's hub data."""
    for account in c.accounts:
        hub.api("DELETE", f"/hub/api/users/{account}/server", hub.admin_token)
    for account in c.accounts:
        with suppress(AssertionError):  # clean-up goes on either way
            wait_until(
                partial(_server_gone, hub, c, account),
                timeout=30,
                interval=0.5,
                what=f"{account}'s server to stop",
            )
        hub.api("DELETE", f"/hub/api/users/{account}", hub.admin_token)
        try:
            pwd.getpwnam(account)
        except KeyError:
            continue
        subprocess.run(["userdel", "--remove", account], check=False, capture_output=True)
    groups_now = hub.admin("GET", "/groups").json()
    for group in groups_now:
        name = group["name"]
        if name.startswith((f"cohort-{c.id}-", f"team-{c.id}-")) or name in groups:
            hub.api("DELETE", f"/hub/api/groups/{name}", hub.admin_token)
    for name in people:
        hub.api("DELETE", f"/hub/api/users/{name}", hub.admin_token)


def hub_user(hub: Hub, name: str) -> bool:
    return hub.api("GET", f"/hub/api/users/{name}", hub.admin_token).status_code == 200


def _server_gone(hub: Hub, c: Course, account: str) -> bool:
    return not (hub_user(hub, account) and c.server(account))
