"""One Chromium for the whole test run, each person logged in once, and one way to wait.

- :class:`Chromium` is Debian's Chromium started once per run (a session fixture) with a
  DevTools port on loopback. Each test module connects to it with Playwright
  (``connect_over_cdp``) instead of launching its own: Playwright's sync API keeps an
  asyncio loop running while it is open, which would stop the pytest-asyncio tests that
  come after, so the *connection* stays module-scoped while the browser process does not.
- :func:`open_lab` logs a person in through the hub's real login form the first time and
  keeps the browser state Playwright saves (``storage_state``: the hub's and the server's
  cookies); later contexts start from it and go straight to their lab, falling back to the
  form when the hub no longer accepts the saved session.
- :func:`wait_until` (``tests/helpers/waiting.py``) polls a condition until it holds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import requests

from tests.helpers.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PASSWORD = "demo"
LAB_TIMEOUT_MS = 90_000


class Chromium:
    """Debian's Chromium with a DevTools endpoint on 127.0.0.1, for the whole test run."""

    def __init__(self) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="cohortlab-chromium-"))
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                *CHROMIUM_ARGS,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = self.profile / "DevToolsActivePort"
        first_line = wait_until(
            lambda: port_file.exists() and port_file.read_text().split("\n", 1)[0].strip(),
            timeout=30,
            what="Chromium's DevTools port",
        )
        self.endpoint = f"http://127.0.0.1:{int(first_line)}"
        wait_until(
            lambda: requests.get(f"{self.endpoint}/json/version", timeout=2).ok,
            timeout=30,
            what="Chromium's DevTools endpoint",
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


#: Saved browser state per (hub, person): the cookies of a login through the real form.
_logins: dict[tuple[str, str], dict[str, Any]] = {}


def _login_form(page: Any, hub_url: str, user: str) -> None:
    page.goto(f"{hub_url}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login_submit")


def open_lab(browser: Any, hub: Any, user: str, **context: Any) -> Any:
    """A new browser context logged in as ``user`` with their JupyterLab open in a fresh
    workspace (``?reset``), so every test starts from the launcher whatever the last one
    left. The page collects uncaught page errors in ``page.cl_errors``."""
    key = (hub.url, user)
    options = {"viewport": {"width": 1280, "height": 800}, **context}
    saved = _logins.get(key)
    ctx = browser.new_context(storage_state=saved, **options) if saved else None
    if ctx is None:
        ctx = browser.new_context(**options)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if saved:
        # Starts the server if it is not running (as the login does), then its lab.
        page.goto(f"{hub.url}/hub/spawn")
        if "/hub/login" in page.url:
            _login_form(page, hub.url, user)
    else:
        _login_form(page, hub.url, user)
    page.wait_for_url(f"**/user/{user}/lab**", timeout=LAB_TIMEOUT_MS)
    _logins[key] = ctx.storage_state()
    page.goto(hub.at(f"/user/{user}/lab?reset"))
    page.wait_for_selector(".jp-Launcher", timeout=LAB_TIMEOUT_MS)
    page.cl_errors = errors  # type: ignore[attr-defined]
    return page
