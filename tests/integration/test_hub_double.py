"""The hub API double (tests/helpers/hub_double.py) answers as the real hub does, so the API
tests that run against it (tests/api) test what the service meets behind JupyterHub."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest

from tests.helpers.hub import Hub
from tests.helpers.inprocess import inprocess_hub
from tests.helpers.waiting import wait_until


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with inprocess_hub(tmp_path_factory.mktemp("double")) as hub:
        yield hub


def whoami(hub: Hub, token: str) -> dict[str, Any]:
    resp = hub.api("GET", "/hub/api/user", token)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("person", ["ada", "mentor", "instructor"])
def test_a_persons_token_identifies_them_with_the_same_model_and_scopes(
    cl_hub: Hub, double: Hub, person: str
) -> None:
    real, token = whoami(cl_hub, cl_hub.token_for(person)), double.token_for(person)
    # the servers shared with them: the service's group watch shares the demo cohorts'
    # workspaces with their members once it has started (the real hub's did long ago)
    with suppress(AssertionError):
        wait_until(lambda: whoami(double, token)["scopes"] == real["scopes"], 15, "shares")
    fake = whoami(double, token)
    assert set(fake) == set(real)
    assert sorted(fake.pop("groups")) == sorted(real.pop("groups"))
    for key in ("created", "last_activity", "token_id"):  # times and ids of their own
        fake.pop(key), real.pop(key)
    # the double runs no servers; on the real hub the person's may be running (an earlier
    # test file on this worker started it), and then its model names it
    assert (fake.pop("servers"), fake.pop("server")) == ({}, None)
    real.pop("servers"), real.pop("server")
    assert fake == real


def test_the_test_admin_services_token_has_the_same_model_and_scopes(
    cl_hub: Hub, double: Hub
) -> None:
    real, fake = whoami(cl_hub, cl_hub.admin_token), whoami(double, double.admin_token)
    assert set(fake) == set(real)
    assert {k: v for k, v in fake.items() if k != "token_id"} == {
        k: v for k, v in real.items() if k != "token_id"
    }


def test_an_unknown_token_is_refused_alike(cl_hub: Hub, double: Hub) -> None:
    for hub in (cl_hub, double):
        assert hub.api("GET", "/hub/api/user", "not-a-token").status_code == 403


def test_the_demo_groups_are_the_same_in_the_same_shape(cl_hub: Hub, double: Hub) -> None:
    def groups(hub: Hub) -> dict[str, dict[str, Any]]:
        resp = hub.api(
            "GET",
            "/hub/api/groups",
            hub.admin_token,
            headers={"Accept": "application/jupyterhub-pagination+json"},
        )
        page = resp.json()
        assert set(page) == {"items", "_pagination"}
        return {g["name"]: g for g in page["items"] if g["name"].endswith("demo101")}

    real, fake = groups(cl_hub), groups(double)
    assert set(fake) == set(real)
    for name, group in real.items():
        assert set(fake[name]) == set(group)
        assert sorted(fake[name]["users"]) == sorted(group["users"])
        assert fake[name]["properties"] == group["properties"]
