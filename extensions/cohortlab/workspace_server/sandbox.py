"""Where members' code runs in a workspace: kernels and terminals in their own namespaces.

Every member's code runs as the workspace's one Unix account, the account its server runs
as. Left there, it could read the server's hub token (``/proc/<server>/environ``, the
runtime folder's ``jpserver-*.json``), signal the server and listen on its port, or rewrite
the server's own state (lab settings, attribution and chat records) between two starts.
So the workspace server starts every kernel and terminal through this launcher
(``python -m cohortlab.workspace_server.sandbox [--keep FILE]... -- ARGV``), which

1. keeps the environment but the account's credentials (:func:`sandbox_env`), turns the
   Python user site off (a ``.pth`` file there would run in every new kernel) and points
   IPython at an empty folder of its own (no start-up files, no profile configuration);
2. enters new user (same uid and gid), mount, PID and IPC namespaces: a fresh ``/proc``
   shows no process outside, so the server can be neither read nor signalled;
3. covers the server's state folder (``$COHORTLAB_WORKSPACE_STATE``, outside the home,
   made by the hub: ``cohorts.hubhooks``), the runtime folder and ``/dev/shm`` with empty
   private file systems, putting back only the ``--keep`` files (a kernel's connection
   file) at their place;
4. runs ``ARGV`` as PID 2 and reaps; everything started inside ends with the launcher
   (parent-death signals), so nothing a member starts outlives the server.

Where the host refuses user namespaces, nothing starts, unless the server was told to run
members' code without them (``$COHORTLAB_WORKSPACE_WITHOUT_NAMESPACES=1``): then step 1
only, said on stderr (docs/cohort-workspace.md says what stays open then).
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Set by the hub's spawn hook on workspace servers: the server's private state folder.
STATE_VAR = "COHORTLAB_WORKSPACE_STATE"
#: 1: start members' code without namespaces where the host refuses them (weaker).
WITHOUT_NAMESPACES_VAR = "COHORTLAB_WORKSPACE_WITHOUT_NAMESPACES"
#: What the launcher tells the code inside: "namespaces" or "environment".
SANDBOX_VAR = "COHORTLAB_WORKSPACE_SANDBOX"
#: IPython's folder inside the sandbox (in the covered state folder, so empty and private).
IPYTHON_DIR = "ipython"
REFUSED_EXIT = 3

#: Never passed to members' code: the account's hub credentials (and anything like them).
SECRET_ENV = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN", "JUPYTERHUB_CLIENT_ID")
#: ipykernel watches this pid and stops when its parent is not it; inside, the parent is
#: the sandbox's PID 1 (which goes with the server anyway).
OUTSIDE_ONLY_ENV = ("JPY_PARENT_PID",)
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|COOKIE", re.IGNORECASE)

CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


class SandboxError(OSError):
    pass


def launcher(argv: Sequence[str], keep: Sequence[str] = (), parent: int | None = None) -> list[str]:
    """``argv`` started through this launcher, keeping the files ``keep`` visible inside;
    ``parent``: the pid of the process that starts it (the server), which it goes with."""
    cmd = [sys.executable, "-m", "cohortlab.workspace_server.sandbox"]
    if parent is not None:
        cmd += ["--parent", str(parent)]
    for path in keep:
        cmd += ["--keep", path]
    return [*cmd, "--", *argv]


def sandbox_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of members' code: no credential, no user site, IPython's own folder."""
    dropped = SECRET_ENV + OUTSIDE_ONLY_ENV
    out = {k: v for k, v in env.items() if k not in dropped and not SECRET_NAME.search(k)}
    out["PYTHONNOUSERSITE"] = "1"
    state = env.get(STATE_VAR)
    if state:
        out["IPYTHONDIR"] = os.path.join(state, IPYTHON_DIR)
    return out


def covered_dirs(env: Mapping[str, str]) -> list[str]:
    """Folders covered by an empty file system inside the sandbox (those that exist)."""
    runtime = env.get("JUPYTER_RUNTIME_DIR") or _default_runtime_dir(env)
    dirs = [env.get(STATE_VAR, ""), runtime, "/dev/shm"]
    out: list[str] = []
    for d in dirs:
        real = os.path.realpath(d) if d else ""
        if real and os.path.isdir(real) and real != "/" and real not in out:
            out.append(real)
    # a folder inside another covered one is covered with it (and gone once that is)
    return [d for d in out if not any(d.startswith(o.rstrip("/") + "/") for o in out)]


def _default_runtime_dir(env: Mapping[str, str]) -> str:
    """Jupyter's runtime folder when the environment names none (a server without a state
    folder, as on Kubernetes): where ``jpserver-*.json`` is."""
    from jupyter_core.paths import jupyter_data_dir

    data = env.get("JUPYTER_DATA_DIR") or jupyter_data_dir()
    return os.path.join(data, "runtime")


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")


def _mount(libc: Any, source: str | None, target: str, fstype: str | None, flags: int) -> None:
    data = b"mode=0700" if fstype == "tmpfs" else None
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data,
        ),
        f"mount {target}",
    )


def _enter_namespaces(libc: Any) -> None:
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)


def probe() -> bool:
    """Whether this host lets the launcher build its namespaces (tried in a child)."""
    pid = os.fork()
    if pid == 0:
        try:
            _enter_namespaces(_libc())
            os._exit(0)
        except BaseException:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _build(libc: Any, env: Mapping[str, str], kept: dict[str, bytes]) -> None:
    """As PID 1 inside: a fresh /proc, the covered folders, the kept files put back."""
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for d in covered_dirs(env):
        _mount(libc, "tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV)
    for path, data in kept.items():
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    ipython = env.get("IPYTHONDIR")
    if ipython:
        os.makedirs(ipython, mode=0o700, exist_ok=True)


def _reap_until(child: int) -> int:
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 1
        except InterruptedError:
            continue
        if pid == child:
            return os.waitstatus_to_exitcode(status)


def _run_sandboxed(
    argv: list[str], env: dict[str, str], kept: dict[str, bytes], parent: int | None = None
) -> int:
    libc = _libc()
    server = parent if parent is not None else os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != server:  # the server went already
        return 1
    _enter_namespaces(libc)
    # Entering a user namespace changes the credentials, which clears the death signal
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != server:
        return 1
    init = os.fork()
    if init:
        # Outside: jupyter_client interrupts a kernel by signalling its process group, which
        # reaches the kernel itself; this process only waits, and takes the sandbox with it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _pid, status = os.waitpid(init, 0)
        return os.waitstatus_to_exitcode(status)
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _build(libc, env, kept)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        child = os.fork()
        if child == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execvpe(argv[0], argv, {**env, SANDBOX_VAR: "namespaces"})
        os._exit(_reap_until(child))
    except BaseException as e:  # never return into the launcher's code inside the sandbox
        print(f"cohortlab workspace sandbox failed: {e}", file=sys.stderr, flush=True)
        os._exit(70)


def parse(args: list[str]) -> tuple[list[str], list[str], int | None]:
    """(kept files, command, parent) from ``[--parent PID] [--keep FILE]... -- ARGV``."""
    keep: list[str] = []
    parent = None
    while args and args[0] in ("--keep", "--parent") and len(args) > 1:
        if args[0] == "--parent":
            parent = int(args[1])
        else:
            keep.append(args[1])
        args = args[2:]
    if not args or args[0] != "--" or len(args) < 2:
        raise SystemExit(
            "usage: python -m cohortlab.workspace_server.sandbox [--parent PID] "
            "[--keep FILE]... -- ARGV"
        )
    return keep, args[1:], parent


def main(argv: list[str] | None = None) -> int:
    keep, command, parent = parse(sys.argv[1:] if argv is None else argv)
    if parent is not None and os.getppid() != parent:
        return 1  # the server is gone already
    env = sandbox_env(os.environ)
    kept = {os.path.realpath(p): Path(p).read_bytes() for p in keep}
    if sys.platform.startswith("linux") and probe():
        return _run_sandboxed(command, env, kept, parent)
    if os.environ.get(WITHOUT_NAMESPACES_VAR) != "1":
        print(
            "cohortlab workspace: this host refuses unprivileged user namespaces, so members' "
            "code cannot be kept from the workspace server here and does not start "
            f"(set {WITHOUT_NAMESPACES_VAR}=1 to run it anyway; docs/cohort-workspace.md).",
            file=sys.stderr,
            flush=True,
        )
        return REFUSED_EXIT
    print(
        "cohortlab workspace: no user namespaces on this host; members' code runs with a "
        "scrubbed environment only (docs/cohort-workspace.md).",
        file=sys.stderr,
        flush=True,
    )
    # the state folder is not covered here: an empty IPython folder of this process's own
    env["IPYTHONDIR"] = tempfile.mkdtemp(prefix="cl-ipython-")
    os.execvpe(command[0], command, {**env, SANDBOX_VAR: "environment"})
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
