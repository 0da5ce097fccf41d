"""One-machine CohortLab hub, in the manner of The Littlest JupyterHub.

The hub runs as root; each person's server runs as their own system user
(LocalProcessSpawner) from the repository's ``.venv`` (built from Debian's
``/usr/bin/python3`` so every account can run it). The CohortLab service runs
as its own system account ``cohortlab`` and keeps its database and secrets in a
folder only that account can read. ``make demo`` creates the accounts and seeds
the demo course (``hub_config/seed.py``) before starting this.

Every setting the tests or an operator may need to move is read from the
environment (``COHORTLAB_*``); the production switches are marked PRODUCTION.
"""

import hmac
import os
import sys
from pathlib import Path

from cohortlab.cohorts.hubhooks import prepare_server, refuse_workspace_logins
from cohortlab.origins import Origins
from jupyterhub.auth import DummyAuthenticator

c = get_config()  # type: ignore[name-defined]  # noqa: F821

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from demo_course import COURSE, DEMO_PEOPLE, demo_groups  # noqa: E402

VENV = Path(os.environ.get("COHORTLAB_VENV", REPO / ".venv"))
STATE = Path(os.environ.get("COHORTLAB_STATE_DIR", REPO / ".demo"))
HUB_DIR = STATE / "hub"
SERVICE_DIR = Path(os.environ.get("COHORTLAB_DATA_DIR", STATE / "service"))
HUB_PORT = int(os.environ.get("COHORTLAB_HUB_PORT", "8000"))
PROXY_API_PORT = int(os.environ.get("COHORTLAB_PROXY_API_PORT", "8001"))
HUB_API_PORT = int(os.environ.get("COHORTLAB_HUB_API_PORT", "8081"))
SERVICE_PORT = int(os.environ.get("COHORTLAB_SERVICE_PORT", "10101"))
SERVICE_USER = os.environ.get("COHORTLAB_SERVICE_USER", "cohortlab")
IS_ROOT = os.geteuid() == 0
# "system" (default, needs root): every server runs as its person's system user.
# "dev": INSECURE — every server runs as the hub's own user, with no isolation.
SPAWN_MODE = os.environ.get("COHORTLAB_SPAWN_MODE", "system" if IS_ROOT else "dev")

HUB_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
os.chmod(HUB_DIR, 0o700)  # the hub's database, cookie secret and proxy token

# --- Network -----------------------------------------------------------------
# Every person's server and the service on its own origin (JupyterHub's subdomain_host):
# ada at http://ada.hub.localhost:8000/user/ada/, the service at
# http://cohortlab--service.hub.localhost:8000/services/cohortlab/, the hub itself at
# http://hub.localhost:8000/hub/. On one origin, any page a learner's server serves (and a
# learner controls what it serves) would run script with the visitor's cookies, the
# instructor's included. `__Host-` cookies stop one subdomain from setting another's.
# PRODUCTION: a wildcard DNS name and certificate (https://hub.example.edu, *.hub.example.edu)
# in COHORTLAB_PUBLIC_URL, and TLS (c.JupyterHub.ssl_key/ssl_cert or a reverse proxy).
PUBLIC_URL = os.environ.get("COHORTLAB_PUBLIC_URL", f"http://hub.localhost:{HUB_PORT}").rstrip("/")
c.JupyterHub.subdomain_host = PUBLIC_URL
c.JupyterHub.cookie_host_prefix_enabled = True
# `__Host-` cookies must be Secure. Browsers take Secure cookies from http://*.localhost, but
# JupyterHub 6.1's OAuth clients (single-user servers, the service) set their OAuth state
# cookie Secure only on https, so on the plain-http demo that cookie was dropped and every
# sign-in to a server ended in 403. Their cookie options add it (https needs nothing).
COOKIE_OPTIONS = (
    {"JUPYTERHUB_COOKIE_OPTIONS": '{"secure": true}'} if PUBLIC_URL.startswith("http:") else {}
)
c.JupyterHub.bind_url = f"http://127.0.0.1:{HUB_PORT}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{HUB_API_PORT}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
# The npm configurable-http-proxy: the PyPI port breaks binary WebSocket frames,
# which real-time collaboration needs. `make` installs it from hub_config/package.json.
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(HUB_DIR / "proxy.pid")
c.ConfigurableHTTPProxy.should_start = True
# The old address (http://127.0.0.1:8000, http://localhost:8000) answers with a redirect to
# the same path on the hub's name (hub_config/old_address.py, a hub-managed process).
REDIRECT_PORT = int(os.environ.get("COHORTLAB_REDIRECT_PORT", "8002"))
c.Proxy.extra_routes = {
    f"{host}/": f"http://127.0.0.1:{REDIRECT_PORT}" for host in ("127.0.0.1", "localhost")
}

# --- Hub state ---------------------------------------------------------------
# PRODUCTION: c.JupyterHub.db_url = "postgresql://jupyterhub:...@db/jupyterhub"
c.JupyterHub.db_url = f"sqlite:///{HUB_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(HUB_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.log_level = os.environ.get("COHORTLAB_HUB_LOG_LEVEL", "INFO")


# --- Who can log in ----------------------------------------------------------
class DemoAuthenticator(DummyAuthenticator):
    """The demo's people, one shared demo password (COHORTLAB_DEMO_PASSWORD, default 'demo').

    PRODUCTION: replace with a real authenticator (OAuthenticator, LTI, PAM, ...):
    c.JupyterHub.authenticator_class = "github"  # or "generic-oauth", "ltiauthenticator", ...
    """

    async def authenticate(self, handler, data):  # type: ignore[no-untyped-def]
        password = os.environ.get("COHORTLAB_DEMO_PASSWORD", "demo")
        if hmac.compare_digest(data.get("password", "").encode(), password.encode()):
            return data["username"]
        return None


c.JupyterHub.authenticator_class = DemoAuthenticator
# Cohort workspace accounts (made by the service at run time) never log in, whatever the
# allow settings, and get a system account and a short auth cache when their server starts;
# learners' own servers read their Jupyter configuration from a locked folder, not ~/.jupyter
# (cohortlab.cohorts.hubhooks.prepare_server).
c.Authenticator.post_auth_hook = refuse_workspace_logins
c.Spawner.pre_spawn_hook = prepare_server
# Only the demo people; collaboration and service accounts never log in, even
# once they exist in the hub's database.
c.Authenticator.allowed_users = set(DEMO_PEOPLE)
c.Authenticator.allow_existing_users = False
c.Authenticator.allow_all = False
c.Authenticator.admin_users = set()
c.JupyterHub.load_groups = demo_groups()

# --- Servers -----------------------------------------------------------------
# PRODUCTION on Kubernetes: Zero to JupyterHub with KubeSpawner; see hub_config/k8s/.
# People's servers, and everything they start (kernels, terminals), yield the CPU to the hub,
# the proxy and the CohortLab service: one person's busy kernel or scripted flood of requests
# cannot slow everyone else's (tests/security/test_floods.py). On Kubernetes, CPU limits per
# server do this (hub_config/k8s/values.yaml).
c.Spawner.cmd = ["/usr/bin/nice", "-n", "10", str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
ORIGINS = Origins(PUBLIC_URL)
c.Spawner.environment = {
    # The server extension relays to the service directly, not through the proxy.
    "COHORTLAB_SERVICE_URL": f"http://127.0.0.1:{SERVICE_PORT}/services/cohortlab/",
    # Where browsers reach the service (its own origin): cohort workspaces talk to it there.
    "COHORTLAB_PUBLIC_SERVICE_URL": f"{ORIGINS.service('cohortlab')}/services/cohortlab/",
    "COHORTLAB_SUBDOMAIN_HOST": PUBLIC_URL,
    # The server reads no Python user site: a learner's ~/.local could otherwise change what
    # their server serves (kernels get the user site back: cohortlab.serverext).
    "PYTHONNOUSERSITE": "1",
    **COOKIE_OPTIONS,
}
# Nor any Jupyter configuration, extension or kernelspec from the home (~/.jupyter,
# ~/.local/share/jupyter): a learner's server serves only what the deployment installed.
c.Spawner.disable_user_config = True
# The server's own hub token (in the server and its kernels) may reach the service.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "access:services!service=cohortlab",
]
if SPAWN_MODE == "system":
    if not IS_ROOT:
        raise SystemExit("COHORTLAB_SPAWN_MODE=system needs the hub to run as root")
    c.JupyterHub.spawner_class = "localprocess"
else:
    # INSECURE development mode: servers run as the hub's user and can read each
    # other's files. Never for real learners, never in the security tests.
    c.JupyterHub.spawner_class = "simple"
    c.Spawner.args = ["--ServerApp.allow_root=True"] if IS_ROOT else []
    c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
# Short stop timeouts: with the defaults a hub with a running server takes ~1 min to exit.
c.LocalProcessSpawner.interrupt_timeout = 3
c.LocalProcessSpawner.term_timeout = 3
c.LocalProcessSpawner.kill_timeout = 3

# --- The CohortLab service ---------------------------------------------------
service_env = {
    "COHORTLAB_DATA_DIR": str(SERVICE_DIR),
    "PATH": f"{VENV / 'bin'}:/usr/bin:/bin",
    # Where the service reaches /user/<workspace>/ (the proxy): it reads and writes cohort
    # workspaces' files there (archive snapshots, templates). On Kubernetes: http://proxy-public
    # The proxy routes by host: the service asks for each workspace's own host there.
    "COHORTLAB_PROXY_URL": f"http://127.0.0.1:{HUB_PORT}",
    # Workspaces' origins may call the service from members' browsers (CORS, sign-in frame,
    # event stream); no other origin may.
    "COHORTLAB_SUBDOMAIN_HOST": PUBLIC_URL,
    # The hub passes its cookie_host_prefix_enabled to users' servers only: without this the
    # service's OAuth cookie could be tossed from a learner's subdomain (Domain=hub.localhost).
    "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "1",
    **COOKIE_OPTIONS,
}
# PRODUCTION: PostgreSQL, e.g. COHORTLAB_DB_URL=postgresql://cohortlab:...@db/cohortlab
if os.environ.get("COHORTLAB_DB_URL"):
    service_env["COHORTLAB_DB_URL"] = os.environ["COHORTLAB_DB_URL"]
cohortlab_service = {
    "name": "cohortlab",
    "url": f"http://127.0.0.1:{SERVICE_PORT}",
    "command": [str(VENV / "bin" / "cohortlab"), "service"],
    "cwd": str(SERVICE_DIR),
    "environment": service_env,
    "oauth_no_confirm": True,
    "display": False,
}
if IS_ROOT:
    cohortlab_service["user"] = SERVICE_USER  # its data folder is 0700, owned by it
c.JupyterHub.services = [
    cohortlab_service,
    {
        # The old address's redirect (see Network above); no url, so no route or token.
        "name": "cohortlab-old-address",
        "command": [
            str(VENV / "bin" / "python"),
            str(HERE / "old_address.py"),
            f"--port={REDIRECT_PORT}",
            f"--to={PUBLIC_URL}",
        ],
        "environment": {"PATH": "/usr/bin:/bin"},
        "cwd": "/",
        "display": False,
    },
]
if IS_ROOT:
    c.JupyterHub.services[-1]["user"] = "nobody"

c.JupyterHub.load_roles = [
    {
        # Everyone may use the service with their own tokens.
        "name": "user",
        "scopes": ["self", "access:services!service=cohortlab"],
    },
    {
        # Least privilege for the service (docs/cohorts.md): read groups (with their
        # properties); create cohort groups and change their members and properties
        # (admin:groups: their names are made at run time, so no filter fits; delete only to
        # undo a failed create); create collaboration accounts (admin:users: the hub has no
        # narrower scope to create users; it cannot make anyone admin); share, read, start
        # (on demand, when a member opens the workspace) and stop only the servers of
        # collaboration accounts, which are in cohortlab-workspaces: together the last three
        # are servers!group=cohortlab-workspaces. tokens!group=cohortlab-workspaces: short-lived
        # tokens of workspace accounts only, to read and write a workspace's files through its
        # server (access:servers!group=... is not honoured by single-user servers; docs/cohorts.md).
        "name": "cohortlab-service",
        "scopes": [
            "list:groups",
            "read:groups",
            "admin:groups",
            "admin:users",
            "shares!group=cohortlab-workspaces",
            "read:servers!group=cohortlab-workspaces",
            "start:servers!group=cohortlab-workspaces",
            "delete:servers!group=cohortlab-workspaces",
            "tokens!group=cohortlab-workspaces",
        ],
        "services": ["cohortlab"],
    },
]

c.JupyterHub.template_vars = {"announcement_login": f"CohortLab demo course {COURSE}"}

# `make demo` only (COHORTLAB_DEMO_SETUP=1): once the hub is up, a one-shot service makes the
# demo's cohort workspaces and hw1 submissions (hub_config/demo_setup.py).
if os.environ.get("COHORTLAB_DEMO_SETUP") == "1":
    from demo_setup import setup_service

    _setup, _setup_role = setup_service(
        VENV, STATE, f"http://127.0.0.1:{SERVICE_PORT}/services/cohortlab/"
    )
    c.JupyterHub.services.append(_setup)
    c.JupyterHub.load_roles.append(_setup_role)
