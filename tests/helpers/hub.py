"""A real JupyterHub in a subprocess, configured by ``hub_config/`` as users run it.

The hub runs as root with every server as its person's system user, the npm
proxy, and the CohortLab service as its own account; only the ports, the state
folder and an admin-scoped test service (for minting tokens) differ. As in the demo, every
person's server and the service are on their own origin (``http://ada.hub.localhost:<port>``):
:meth:`Hub.at` turns a path such as ``/user/ada/api/contents`` into the URL on its origin.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from cohortlab.origins import Origins

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)


#: The service's settings in tests (the hub config appends them to its command): tests change
#: group membership and expect the service to see it at once; hundreds of tests write as the
#: same few people, and browser tests open many labs (tests/security/test_floods.py checks the
#: default limits on its own hub). The in-process service (tests/helpers/inprocess.py) too.
TEST_SERVICE_ARGS = (
    "--ServiceApp.groups_cache_seconds=0 --ServiceApp.auth_cache_max_age=1"
    " --ServiceApp.post_rate_limit=100/60"
    " --ServiceApp.write_rate_limit=1000/60 --ServiceApp.write_burst=1000"
    " --ServiceApp.stream_limit=50"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def on_origin(url: str) -> str:
    """``url`` (on the hub's origin) moved to the origin that serves its path:
    ``/user/<name>/...`` to the person's, ``/services/<name>/...`` to the service's, anything
    else stays on the hub's. URLs already on another origin come back unchanged."""
    parsed = urlsplit(url)
    parts = parsed.path.split("/", 3)
    if len(parts) < 3 or not parts[2] or parsed.hostname is None:
        return url
    if not parsed.hostname.startswith("hub."):
        return url
    origins = Origins(f"{parsed.scheme}://{parsed.netloc}")
    if parts[1] == "user":
        origin = origins.user(unquote(parts[2]))
    elif parts[1] == "services":
        origin = origins.service(unquote(parts[2]))
    else:
        return url
    return origin + url[len(f"{parsed.scheme}://{parsed.netloc}") :]


class _BrowserSession(requests.Session):
    """Sends its jar's cookies under the jar's own policy (``requests`` merges them into a
    fresh jar with the default policy first, which drops Secure cookies on http)."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared


def browser_session() -> requests.Session:
    """A ``requests`` session that keeps cookies as Chromium does on ``http://*.localhost``:
    it sends the hub's ``__Host-`` (Secure) cookies there too, since browsers count
    localhost names as secure contexts (Python's cookie jar sends Secure cookies on https
    only)."""
    session = _BrowserSession()
    session.cookies.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http", "ws")))
    return session


@dataclass
class Hub:
    url: str
    state: Path
    proc: subprocess.Popen[bytes]
    admin_token: str
    service_port: int
    log_path: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def origins(self) -> Origins:
        return Origins(self.url)

    @property
    def service_url(self) -> str:
        return f"{self.origins.service('cohortlab')}/services/cohortlab/"

    def user_url(self, user: str) -> str:
        """``user``'s default server, on its own origin (ends with a slash)."""
        return f"{self.origins.user(user)}/user/{user}/"

    def at(self, path: str) -> str:
        """The URL of ``path`` on the origin that serves it (:func:`on_origin`)."""
        return on_origin(self.url + path)

    @property
    def service_data_dir(self) -> Path:
        return self.state / "service"

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"token {token}"
        return requests.request(method, self.at(path), headers=headers, timeout=30, **kw)

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        resp = self.api(method, f"/hub/api{path}", self.admin_token, **kw)
        resp.raise_for_status()
        return resp

    def token_for(self, user: str) -> str:
        if user not in self._tokens:
            resp = self.admin("POST", f"/users/{user}/tokens", json={"note": "cohortlab tests"})
            self._tokens[user] = resp.json()["token"]
        return self._tokens[user]

    def start_server(self, user: str, timeout: float = 60) -> None:
        model = self.admin("GET", f"/users/{user}").json()
        if model.get("servers", {}).get("", {}).get("ready"):
            return
        resp = self.api("POST", f"/hub/api/users/{user}/server", self.admin_token)
        if resp.status_code not in (201, 202, 400):
            resp.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.admin("GET", f"/users/{user}").json()
            if model.get("servers", {}).get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{user}'s server not ready in {timeout} s; see {self.log_path}")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


#: Held while a hub's seed runs: test workers (pytest-xdist) start hubs of their own at the
#: same time, and the seed writes what they share (system accounts, the people's homes, the
#: instructor's course folder).
SEED_LOCK = Path("/tmp/cohortlab-tests-seed.lock")


@contextmanager
def _seed_lock() -> Iterator[None]:
    with SEED_LOCK.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def start_hub(extra_env: dict[str, str] | None = None, timeout: float = 90) -> Hub:
    state = Path(tempfile.mkdtemp(prefix="cohortlab-it-", dir="/tmp"))
    state.chmod(0o755)  # the service account must reach its folder inside
    port, proxy_api, hub_api, service, redirect = (free_port() for _ in range(5))
    admin_token = secrets.token_hex(16)
    env = {
        **os.environ,
        "COHORTLAB_STATE_DIR": str(state),
        "COHORTLAB_VENV": str(VENV),
        "COHORTLAB_HUB_PORT": str(port),
        "COHORTLAB_PROXY_API_PORT": str(proxy_api),
        "COHORTLAB_HUB_API_PORT": str(hub_api),
        "COHORTLAB_SERVICE_PORT": str(service),
        "COHORTLAB_REDIRECT_PORT": str(redirect),
        "COHORTLAB_PUBLIC_URL": f"http://hub.localhost:{port}",
        "COHORTLAB_TEST_ADMIN_TOKEN": admin_token,
        "COHORTLAB_TEST_SERVICE_ARGS": TEST_SERVICE_ARGS,
        **(extra_env or {}),
    }
    env.pop("COHORTLAB_DB_URL", None)
    with _seed_lock():
        subprocess.run(
            [
                str(VENV / "bin" / "python"),
                str(REPO / "hub_config" / "seed.py"),
                "--state-dir",
                str(state),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    log_path = state / "hub.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            str(VENV / "bin" / "jupyterhub"),
            "-f",
            str(REPO / "tests" / "integration" / "hub_test_config.py"),
        ],
        cwd=state,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    hub = Hub(f"http://hub.localhost:{port}", state, proc, admin_token, service, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hub exited with {proc.returncode}:\n{hub.log_tail()}")
        try:
            resp = requests.get(f"{hub.service_url}api/v1", timeout=2)
            if resp.status_code == 401 and resp.json().get("error"):
                return hub
        except (requests.ConnectionError, requests.Timeout, ValueError):
            pass
        time.sleep(0.3)
    stop_hub(hub)
    raise TimeoutError(f"hub not up in {timeout} s:\n{hub.log_tail()}")


def stop_hub(hub: Hub, *, keep_state: bool = False) -> None:
    if hub.proc.poll() is None:
        hub.proc.send_signal(signal.SIGTERM)
        try:
            hub.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.proc.pid, signal.SIGKILL)
            hub.proc.wait(10)
    if not keep_state:
        shutil.rmtree(hub.state, ignore_errors=True)
