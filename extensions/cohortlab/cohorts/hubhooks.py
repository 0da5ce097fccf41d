"""Hooks that run inside JupyterHub (set in ``hub_config/jupyterhub_config.py``).

- :func:`prepare_workspace_server` (``c.Spawner.pre_spawn_hook``): a collaboration account
  is created by the service through the hub's REST API at run time, so on the one-machine
  hub it has no system account to run its server as; this creates one (no login shell,
  locked password, private home) just before its server first starts. It also shortens
  the workspace server's cache of hub identities to :data:`WORKSPACE_AUTH_CACHE` seconds,
  which bounds how long a removed member's requests still get through (docs/cohorts.md),
  has it shut itself down after :data:`WORKSPACE_IDLE_TIMEOUT` seconds idle (the
  workspace is started again on demand when someone opens it), puts the lab client in
  direct mode (a shared server must not relay as its owner), and loads the workspace
  server extension (``cohortlab.workspace_server``: attribution of edits and runs,
  presence, members' kernels and terminals in a sandbox) with the cohort it serves, and
  gives the server a state folder of its own outside the shared home
  (:func:`ensure_state_dir`, :func:`workspace_environment`).
- :func:`refuse_workspace_logins` (``c.Authenticator.post_auth_hook``): a collaboration
  account never logs in, whatever the authenticator or its allow settings (with
  ``allow_existing_users`` on, every user the service creates would otherwise be allowed).

Both recognise a workspace account by its membership of ``cohortlab-workspaces``, which
only the service (and hub admins) can change; the login guard also refuses every name
starting ``cohort-``, so nobody can sign up under a name a workspace will use.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..courses import course_roles
from .manage import ACCOUNT_PREFIX, SYSTEM_NAME, WORKSPACES_GROUP

log = logging.getLogger("cohortlab.hub")

#: Seconds a workspace server trusts a hub identity before asking again; the most a
#: removed member keeps reaching it by new requests. Hub default is 300 s.
WORKSPACE_AUTH_CACHE = int(os.environ.get("COHORTLAB_WORKSPACE_AUTH_CACHE", "30"))
#: Seconds without activity after which a workspace server stops itself: its kernels are
#: culled when idle that long with no browser connected, then the server shuts down once
#: it has no kernels and no requests for that long (an open JupyterLab tab polls, so it
#: keeps the server up). jupyter_server checks once a minute. 0 turns culling off.
WORKSPACE_IDLE_TIMEOUT = int(os.environ.get("COHORTLAB_WORKSPACE_IDLE_TIMEOUT", "3600"))
NOLOGIN = "/usr/sbin/nologin"


def workspace_server_args(idle_timeout: int = WORKSPACE_IDLE_TIMEOUT) -> list[str]:
    """Command-line settings of every workspace server (the auth cache and idle culling).

    Culling by the server itself rather than by ``jupyterhub-idle-culler``: no extra
    process, package or hub role, and it touches workspace servers only.
    """
    args = [f"--HubOAuth.cache_max_age={WORKSPACE_AUTH_CACHE}"]
    if idle_timeout > 0:
        args += [
            f"--ServerApp.shutdown_no_activity_timeout={idle_timeout}",
            f"--MappingKernelManager.cull_idle_timeout={idle_timeout}",
            f"--MappingKernelManager.cull_interval={min(60, idle_timeout)}",
        ]
    return args


#: Settings that load the workspace server extension: who edited and ran each cell, who is
#: here, and kernels started without the account's hub token (docs/cohort-workspace.md).
WORKSPACE_EXTENSION_ARGS = [
    "--ServerApp.jpserver_extensions=cohortlab.workspace_server=True",
    "--ServerApp.kernel_websocket_connection_class="
    "cohortlab.workspace_server.kernels.AttributedKernelConnection",
    "--MappingKernelManager.kernel_manager_class="
    "cohortlab.workspace_server.kernels.WorkspaceKernelManager",
]


def cohort_of(user: Any) -> dict[str, str] | None:
    """The workspace account ``user``'s cohort, from its cohort group's property, as the
    environment of its server: course, cohort, and the people who may be in it (members
    and the course's instructors, so the cohort chat can @mention them from the start).

    The account is not a member of its cohort's group; the group names it in
    ``{"cohortlab": {"account": ...}}``. None when the hub has no such group (yet).
    """
    db = getattr(user, "db", None)
    if db is None:
        return None
    from jupyterhub import orm

    for group in db.query(orm.Group):
        prop = (group.properties or {}).get("cohortlab") or {}
        if prop.get("kind") == "cohort" and prop.get("account") == user.name:
            course = str(prop.get("course"))
            people = {u.name for u in group.users}
            staff = orm.Group.find(db, f"formgrade-{course}")
            people |= {u.name for u in staff.users} if staff is not None else set()
            return {
                "COHORTLAB_WORKSPACE_COURSE": course,
                "COHORTLAB_WORKSPACE_COHORT": str(prop.get("cohort")),
                "COHORTLAB_WORKSPACE_PEOPLE": ",".join(sorted(people)),
            }
    return None


#: The Jupyter configuration folder of workspace servers on this machine: made by the hub
#: (root), empty but for jupyter_core's "already migrated" marker, which it would otherwise
#: try to write there. The account's own ``~/.jupyter`` is not read: a member's code can
#: write there, and the server reads its configuration at every start.
LOCKED_CONFIG_DIR = Path(sys.prefix) / "etc" / "cohortlab" / "workspace-jupyter"


def ensure_locked_config_dir(path: Path = LOCKED_CONFIG_DIR) -> bool:
    """Make ``path`` (root's, readable by all) if missing; False if this process cannot."""
    marker = path / "migrated"
    if marker.is_file():
        return True
    try:
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
        marker.write_text("CohortLab: workspace servers read no per-account configuration\n")
        path.chmod(0o755)
        marker.chmod(0o644)
    except OSError as e:
        log.warning("CohortLab: cannot make %s for workspace servers: %s", path, e)
        return False
    return True


def locked_environment(home: str, config_dir: str | Path = LOCKED_CONFIG_DIR) -> dict[str, str]:
    """Nothing a member's code leaves in the account's home changes the next server.

    Everyone's code runs as the account, and the server reads configuration and Python
    start-up files from its home at every start (culled, then opened again): a
    ``jupyter_server_config.py`` there could turn off what keeps members apart, a ``.pth``
    file in the Python user site would run in the server. So the server reads its
    configuration from :data:`LOCKED_CONFIG_DIR` and no user site (kernels still do:
    ``workspace_server.kernels``); JupyterLab keeps its settings and layouts in the home,
    where they were. Lab extensions in the home are left out by the workspace server
    extension itself (``workspace_server.lockdown``).
    """
    lab = f"{home}/.jupyter/lab"
    return {
        "PYTHONNOUSERSITE": "1",
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTERLAB_SETTINGS_DIR": f"{lab}/user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": f"{lab}/workspaces",
    }


#: Where each workspace server keeps its own state on this machine (Jupyter's runtime and
#: data folders, JupyterLab's settings and layouts, attribution and chat records): one folder
#: per account, owned by it, in a folder of root's, so outside the home members share and
#: out of reach of their code (``workspace_server.sandbox`` covers it in kernels and
#: terminals; they cannot rename it away either, its parent being root's).
WORKSPACE_STATE_ROOT = Path(
    os.environ.get("COHORTLAB_WORKSPACE_STATE_ROOT", "/var/lib/cohortlab/workspaces")
)


def ensure_state_dir(name: str, root: Path = WORKSPACE_STATE_ROOT) -> Path:
    """``root/<name>``, the account's own (0700); ``root`` and its parents root's (0755)."""
    if not SYSTEM_NAME.fullmatch(name) or not name.startswith(ACCOUNT_PREFIX):
        raise ValueError(f"refusing a state folder for {name!r}")
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = root.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise RuntimeError(f"{root} must be the hub's and writable by it alone")
    state = root / name
    entry = pwd.getpwnam(name)
    state.mkdir(mode=0o700, exist_ok=True)
    os.chown(state, entry.pw_uid, entry.pw_gid)
    state.chmod(0o700)
    return state


def workspace_environment(state: str | Path, config_dir: str | Path) -> dict[str, str]:
    """A workspace server's settings: configuration from :data:`LOCKED_CONFIG_DIR`, no
    Python user site, and all its own state in ``state`` instead of the shared home
    (``$COHORTLAB_WORKSPACE_STATE`` tells the sandbox of members' code what to hide)."""
    state = Path(state)
    return {
        "PYTHONNOUSERSITE": "1",
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(state / "data"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "lab" / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "lab" / "workspaces"),
        "COHORTLAB_WORKSPACE_STATE": str(state),
    }


def is_workspace_account(user: Any) -> bool:
    """Whether a hub ``User`` (wrapper or ORM object) is a collaboration account."""
    return any(group.name == WORKSPACES_GROUP for group in getattr(user, "groups", ()) or ())


def is_staff(user: Any) -> bool:
    """Whether a hub ``User`` teaches or mentors any course (``formgrade-``/``mentor-``)."""
    names = [getattr(g, "name", "") for g in getattr(user, "groups", ()) or ()]
    return any(
        role in ("instructor", "mentor") for held in course_roles(names).values() for role in held
    )


async def prepare_server(spawner: Any) -> None:
    """Before any server starts (``c.Spawner.pre_spawn_hook``).

    A cohort workspace gets :func:`prepare_workspace_server`. A learner's own server on this
    machine reads its Jupyter configuration from :data:`LOCKED_CONFIG_DIR` instead of
    ``~/.jupyter``: JupyterHub's ``disable_user_config`` leaves out the home's server config
    and data, but JupyterLab still merges ``~/.jupyter/labconfig/page_config.json`` into the
    lab page (which extensions load, and from where). Staff keep their ``~/.jupyter``:
    nbgrader's own multi-course setup keeps the instructor's ``nbgrader_config.py`` there,
    and staff are who the lockdown protects, not whom it guards against.
    """
    if is_workspace_account(spawner.user):
        await prepare_workspace_server(spawner)
        return
    if not _runs_as_system_user(spawner) or is_staff(spawner.user):
        return
    if await asyncio.to_thread(ensure_locked_config_dir):
        home = pwd.getpwnam(spawner.user.name).pw_dir
        spawner.environment = {**spawner.environment, **locked_environment(home)}


async def prepare_workspace_server(spawner: Any) -> None:
    """Before a workspace server starts: its system account, a short auth cache, idle
    culling, and the lab client talking to the service as the person in the browser."""
    if not is_workspace_account(spawner.user):
        return
    ours = workspace_server_args() + WORKSPACE_EXTENSION_ARGS
    flags = {a.split("=", 1)[0] for a in ours}
    spawner.args = [a for a in spawner.args if a.split("=", 1)[0] not in flags] + ours
    env = {"COHORTLAB_CLIENT_MODE": "direct"}
    env.update(cohort_of(spawner.user) or {})
    spawner.environment = {**spawner.environment, **env}
    if not _runs_as_system_user(spawner):
        # In a container the image holds the folder (docs/cohort-workspace.md, Kubernetes).
        image_dir = os.environ.get("COHORTLAB_WORKSPACE_CONFIG_DIR")
        if image_dir:
            home = os.environ.get("COHORTLAB_WORKSPACE_HOME", "/home/jovyan")
            spawner.environment = {
                **spawner.environment,
                **locked_environment(home, image_dir),
            }
        return
    if await asyncio.to_thread(ensure_system_account, spawner.user.name):
        spawner.log.info("Created system account %s for a CohortLab workspace", spawner.user.name)
    if not await asyncio.to_thread(ensure_locked_config_dir):
        raise RuntimeError("CohortLab: the locked configuration folder could not be made")
    state = await asyncio.to_thread(ensure_state_dir, spawner.user.name)
    spawner.environment = {
        **spawner.environment,
        **workspace_environment(state, LOCKED_CONFIG_DIR),
    }
    # jupyter-collaboration's store of document updates, replayed when a room opens: in the
    # state folder too, not in the home (``.jupyter_ystore.db`` by default)
    ystore = f"--SQLiteYStore.db_path={state / 'ystore.db'}"
    spawner.args = [a for a in spawner.args if not a.startswith("--SQLiteYStore.db_path=")]
    spawner.args = [*spawner.args, ystore]


def _runs_as_system_user(spawner: Any) -> bool:
    from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner

    return isinstance(spawner, LocalProcessSpawner) and not isinstance(
        spawner, SimpleLocalProcessSpawner
    )


def ensure_system_account(name: str) -> bool:
    """Create the system account ``name`` if missing (True if it was): nologin, locked
    password, 0700 home.

    ``useradd`` leaves the password locked (``!``), so with the nologin shell nobody can
    sign in to the machine as a workspace either; only its server runs as it.
    """
    if not SYSTEM_NAME.fullmatch(name) or not name.startswith(ACCOUNT_PREFIX):
        raise ValueError(f"refusing to create system account {name!r} for a workspace")
    created = False
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--create-home",
                "--shell",
                NOLOGIN,
                "--comment",
                "CohortLab workspace",
                name,
            ],
            check=True,
            capture_output=True,
        )
        entry, created = pwd.getpwnam(name), True
    os.chmod(entry.pw_dir, 0o700)  # other workspaces' and learners' kernels cannot read it
    return created


async def refuse_workspace_logins(
    authenticator: Any, handler: Any, auth_model: dict[str, Any]
) -> dict[str, Any] | None:
    """Turn a login as a collaboration account into a failed login (``None``)."""
    name = auth_model.get("name", "")
    user = handler.find_user(name) if handler is not None else None
    if name.startswith(ACCOUNT_PREFIX) or (user is not None and is_workspace_account(user)):
        getattr(authenticator, "log", log).warning(
            "Refused a login as %s: CohortLab workspace accounts never log in", name
        )
        return None
    return auth_model
