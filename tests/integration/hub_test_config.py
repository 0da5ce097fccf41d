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

# Test workers (pytest-xdist) each run a hub like this one at the same time, and a person's
# servers on both hubs share the person's home. What a server keeps there about open
# documents would then mix between the two: JupyterLab's saved layouts (one lab would
# restore the other's open notebooks), the collaboration store and the file-id index (both
# keyed by file, shared by every server of the person). So each hub gives people's servers
# their own for those three, in its state folder; workspace servers already keep theirs in
# their own state folder.
_prepare_server = c.Spawner.pre_spawn_hook


async def _per_hub_documents(spawner):
    await _prepare_server(spawner)
    from cohortlab.cohorts.hubhooks import is_workspace_account

    if is_workspace_account(spawner.user):
        return
    import pwd

    try:
        entry = pwd.getpwnam(spawner.user.name)
    except KeyError:  # a hub user with no account of their own: no server of theirs starts
        return
    folder = Path(os.environ["COHORTLAB_STATE_DIR"], "people", spawner.user.name)
    (folder / "workspaces").mkdir(parents=True, exist_ok=True)
    for path in (folder, folder / "workspaces"):
        os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(0o700)
    spawner.environment = {
        **spawner.environment,
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
    }
    spawner.args = [
        *spawner.args,
        f"--SQLiteYStore.db_path={folder / 'ystore.db'}",
        f"--BaseFileIdManager.db_path={folder / 'file_id.db'}",
    ]


c.Spawner.pre_spawn_hook = _per_hub_documents
