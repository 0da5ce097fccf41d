"""The real hub config plus one thing only tests need: an admin-scoped test service
whose token lets the tests mint tokens for the demo people and start their servers."""

import os
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821
load_subconfig(str(Path(__file__).resolve().parents[2] / "hub_config" / "jupyterhub_config.py"))  # type: ignore[name-defined]  # noqa: F821

c.JupyterHub.services.append(
    {"name": "cl-test-admin", "api_token": os.environ["COHORTLAB_TEST_ADMIN_TOKEN"]}
)
c.JupyterHub.load_roles.append(
    {
        "name": "cl-test-admin",
        "scopes": ["admin:users", "admin:servers", "tokens", "admin:groups", "list:groups"],
        "services": ["cl-test-admin"],
    }
)

# Tests change group membership and expect the service to see it at once.
c.JupyterHub.services[0]["command"] += os.environ.get("COHORTLAB_TEST_SERVICE_ARGS", "").split()

# The culling test's hub notices a server that stopped itself within seconds, not at the
# default 30 s poll (the hub's own behaviour is the same, only sooner).
if os.environ.get("COHORTLAB_TEST_POLL_INTERVAL"):
    c.Spawner.poll_interval = int(os.environ["COHORTLAB_TEST_POLL_INTERVAL"])
