"""Direct mode: a browser session signs in to the service through the hub's OAuth."""

from __future__ import annotations

import re

import requests

from tests.helpers.hub import Hub, browser_session


def _login_form(hub: Hub, user: str, password: str = "demo") -> tuple[requests.Session, int]:
    """Log in through the hub's form as a browser does; returns the session and the status."""
    session = browser_session()
    session.get(f"{hub.url}/hub/login", timeout=30)
    xsrf = session.cookies.get("_xsrf", domain=hub.url.split("//")[1].split(":")[0])
    resp = session.post(
        f"{hub.url}/hub/login",
        data={"username": user, "password": password, "_xsrf": xsrf},
        allow_redirects=False,
        timeout=30,
    )
    return session, resp.status_code


def _browser_login(hub: Hub, user: str) -> requests.Session:
    session, status = _login_form(hub, user)
    assert status == 302
    return session


def test_session_page_signs_in_through_hub_oauth_and_the_cookie_identifies_me(
    cl_hub: Hub,
) -> None:
    session = _browser_login(cl_hub, "eli")
    page = session.get(f"{cl_hub.service_url}auth/session", timeout=30)
    assert page.status_code == 200
    assert "session-ready" in page.text
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    me = session.get(f"{cl_hub.service_url}api/v1/me", timeout=30)
    assert me.status_code == 200
    assert me.json()["name"] == "eli"


def test_cookie_writes_without_the_xsrf_token_are_refused(cl_hub: Hub) -> None:
    session = _browser_login(cl_hub, "eli")
    page = session.get(f"{cl_hub.service_url}auth/session", timeout=30)
    resp = session.post(f"{cl_hub.service_url}api/v1/events/ping", timeout=30)
    assert resp.status_code in (401, 403)
    assert resp.json()["error"]["message"]
    # The session page hands its parent the XSRF token (it may be on another origin).
    found = re.search(r'xsrf: "([^"]+)"', page.text)
    assert found, page.text
    xsrf = found.group(1)
    ok = session.post(
        f"{cl_hub.service_url}api/v1/events/ping", headers={"X-XSRFToken": xsrf}, timeout=30
    )
    assert ok.status_code == 202


def test_wrong_password_gets_no_session(cl_hub: Hub) -> None:
    assert _login_form(cl_hub, "ada", "wrong")[1] != 302


def test_accounts_outside_the_demo_people_cannot_log_in(cl_hub: Hub) -> None:
    cl_hub.admin("POST", "/users/cohort-demo101-red-collab")  # exists in the hub, not allowed
    try:
        for name in ["cohort-demo101-red-collab", "cohortlab", "root", "stranger"]:
            assert _login_form(cl_hub, name)[1] != 302, name
    finally:
        cl_hub.admin("DELETE", "/users/cohort-demo101-red-collab")


def test_unsupported_methods_answer_in_the_one_error_shape(cl_hub: Hub) -> None:
    resp = cl_hub.api("DELETE", "/services/cohortlab/api/v1/me", cl_hub.token_for("ada"))
    assert resp.status_code == 405
    assert resp.json()["error"]["code"] == "method_not_allowed"


async def test_a_cookie_signed_event_stream_hears_its_courses_news(cl_hub: Hub) -> None:
    """Direct mode's stream is signed in by the service's cookie; it checks each course event
    against the identity that cookie's token has now (service/stream_access.py), so eli's
    course news still reaches it."""
    import asyncio
    import json

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    session = _browser_login(cl_hub, "eli")
    assert session.get(f"{cl_hub.service_url}auth/session", timeout=30).status_code == 200
    assert session.get(f"{cl_hub.service_url}api/v1/me", timeout=30).status_code == 200
    host = cl_hub.service_url.split("//")[1].split("/")[0].split(":")[0]
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies if host.endswith(c.domain))
    url = f"{cl_hub.service_url}api/v1/events".replace("http", "ws", 1)
    conn = await websocket_connect(HTTPRequest(url, headers={"Cookie": cookies}))
    try:
        assert json.loads(await asyncio.wait_for(conn.read_message(), 10))["user"] == "eli"
        thread = cl_hub.api(
            "POST",
            "/services/cohortlab/api/v1/courses/demo101/threads",
            cl_hub.token_for("ben"),
            json={"title": "Cookie stream", "body": "Does eli hear of this?"},
        ).json()
        cl_hub.api(
            "POST", "/services/cohortlab/api/v1/events/ping?token=c1", cl_hub.token_for("eli")
        )
        seen: list[dict] = []
        while not seen or seen[-1].get("type") != "pong":
            seen.append(json.loads(await asyncio.wait_for(conn.read_message(), 10)))
        assert any(e.get("thread_id") == thread["id"] for e in seen), seen
    finally:
        conn.close()
