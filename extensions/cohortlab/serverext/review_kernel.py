"""The peer review kernel: someone else's code, run without the reviewer's credentials.

A review copy is a peer's code. Run in an ordinary kernel it could act as the reviewer: the
kernel inherits the server's ``JUPYTERHUB_API_TOKEN``, reads ``/proc/<pid>/environ`` of the
server and of the reviewer's other kernels (same Unix user), the server's runtime files
(``jpserver-*.json``, kernel connection files with their HMAC keys), and the notary secret
that decides which notebooks JupyterLab trusts. The kernelspec ``cohortlab-review`` (shipped
beside this module and put first on the server's kernel path by the server extension)
starts ipykernel through :func:`main`, which

1. keeps only an allow-list of environment variables (no ``JUPYTERHUB_*``, ``JPY_*``,
   ``COHORTLAB_*``, nothing named like a token, secret, password or key);
2. where the kernel allows unprivileged user namespaces, moves the kernel into its own
   user, mount, PID and IPC namespaces, as the same Unix user without extra privileges:
   a fresh ``/proc`` that shows no process outside the sandbox, empty private ``/tmp``,
   ``/var/tmp`` and ``/dev/shm``, and an empty home folder in which only the review
   copy's own folder (the kernel's working directory) is mounted back — so the Jupyter
   runtime and data folders, the notary secret, IPython startup files, SSH keys and the
   reviewer's other work are out of reach, and nothing written persists outside that
   folder;
3. otherwise (namespaces refused) does not start, unless the server was configured to let
   peer code run without them (``review_kernel_without_namespaces``, which the server passes
   as ``CL_REVIEW_WITHOUT_NAMESPACES=1``): then it starts ipykernel with the scrubbed
   environment only, and says so on stderr (the server log) and in ``CL_REVIEW_SANDBOX``.

What stays possible is in docs/peer-review-lab.md: the network (nothing there accepts a
request without a credential the sandbox no longer holds), world-readable files, and CPU
and memory.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

KERNEL_NAME = "cohortlab-review"
KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
SANDBOX_VAR = "CL_REVIEW_SANDBOX"
#: set by the server extension when peer code may run without namespaces (off by default)
UNSANDBOXED_VAR = "CL_REVIEW_WITHOUT_NAMESPACES"
REFUSED_EXIT = 3

# Only what a Python kernel needs to run; every other variable stays behind.
KEEP = {
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "PYTHONPATH",
    "PYTHONIOENCODING",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "JUPYTER_PATH",
    "MPLBACKEND",
}
KEEP_PREFIXES = ("LC_",)
# Even an allowed name is dropped if it looks like a credential (belt and braces).
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|KEY|CREDENTIAL|AUTH|COOKIE", re.IGNORECASE)

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


def scrub_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment the review kernel may see: the allow-list, minus credential-like names."""
    return {
        k: v
        for k, v in env.items()
        if (k in KEEP or k.startswith(KEEP_PREFIXES)) and not SECRET_NAME.search(k)
    }


class SandboxError(OSError):
    """A namespace step the host refused; the launcher falls back to the scrubbed env."""


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
    """New user (same uid and gid mapped), mount, PID and IPC namespaces; mounts go private."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)


def hidden_dirs(home: str) -> list[str]:
    """Folders covered by an empty tmpfs inside the sandbox (those that exist)."""
    dirs = [home, "/tmp", "/var/tmp", "/dev/shm", f"/run/user/{os.getuid()}"]
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        if os.environ.get(var):
            dirs.append(os.environ[var])
    out: list[str] = []
    for d in dirs:
        real = os.path.realpath(d)
        if os.path.isdir(real) and real != "/" and real not in out:
            out.append(real)
    return out


def _build_sandbox(libc: Any, workdir: str, home: str) -> None:
    """Inside the new namespaces (as PID 1): fresh /proc, hidden folders, workdir mounted back."""
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    keep = os.open(workdir, os.O_PATH | os.O_DIRECTORY)
    for d in hidden_dirs(home):
        _mount(libc, "tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV)
    if not os.path.isdir(workdir):  # it was under a hidden folder: put it back, alone
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{keep}", workdir, None, MS_BIND | MS_REC)
    os.close(keep)
    os.chdir(workdir)


def _reap_until(child: int) -> int:
    """PID 1's duty: reap every orphan; return the kernel's exit status."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 1
        except InterruptedError:
            continue
        if pid == child:
            return os.waitstatus_to_exitcode(status)


def _kernel_argv(connection_file: str) -> list[str]:
    return [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]


def _run_sandboxed(connection: dict[str, Any], env: dict[str, str]) -> int:
    """Fork into the namespaces; PID 1 builds the sandbox and reaps, PID 2 is the kernel."""
    libc = _libc()
    # The Jupyter server may die without shutting kernels down (SIGKILL at a hub's stop):
    # this launcher goes with it, and the sandbox with the launcher (PID 1's death signal).
    server = os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != server:
        return 1
    workdir = os.getcwd()
    home = env.get("HOME") or os.path.expanduser("~")
    _enter_namespaces(libc)
    init = os.fork()
    if init:
        # The launcher outside: jupyter_client signals the whole process group, so SIGINT
        # reaches the kernel directly; this process only waits for the sandbox to end.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _pid, status = os.waitpid(init, 0)
        return os.waitstatus_to_exitcode(status)
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _build_sandbox(libc, workdir, home)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        conn_file = "/tmp/kernel-connection.json"
        fd = os.open(conn_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(connection, f)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kernel = os.fork()
        if kernel == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execve(sys.executable, _kernel_argv(conn_file), {**env, SANDBOX_VAR: "namespaces"})
        os._exit(_reap_until(kernel))
    except BaseException as e:  # never return into the launcher's code inside the sandbox
        print(f"cohortlab review kernel: sandbox failed: {e}", file=sys.stderr, flush=True)
        os._exit(70)


def probe_sandbox() -> bool:
    """Whether this host lets a review kernel build its namespaces (checked in a child)."""
    pid = os.fork()
    if pid == 0:
        try:
            _enter_namespaces(_libc())
            os._exit(0)
        except BaseException:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--probe"]:
        return 0 if probe_sandbox() else 1
    if len(args) != 2 or args[0] != "-f":
        print("usage: python -m cohortlab.serverext.review_kernel -f CONNECTION_FILE | --probe")
        return 2
    connection_file = args[1]
    connection = json.loads(Path(connection_file).read_text())
    env = scrub_environment(dict(os.environ))
    # Decided before anything changes in this process: once the namespaces are entered, a
    # failure ends the kernel (fails closed) instead of falling back half-way.
    if sys.platform.startswith("linux") and probe_sandbox():
        return _run_sandboxed(connection, env)
    if os.environ.get(UNSANDBOXED_VAR) != "1":
        print(
            "cohortlab review kernel: this host refuses unprivileged user namespaces, so a "
            "peer's code cannot be isolated here and the review kernel does not start "
            "(CohortLabServerExtension.review_kernel_without_namespaces; see "
            "docs/peer-review-lab.md).",
            file=sys.stderr,
            flush=True,
        )
        return REFUSED_EXIT
    print(
        "cohortlab review kernel: this host refuses unprivileged user namespaces; running "
        "with a scrubbed environment only (see docs/peer-review-lab.md).",
        file=sys.stderr,
        flush=True,
    )
    os.execve(
        sys.executable,
        _kernel_argv(connection_file),
        {**env, SANDBOX_VAR: "environment"},
    )
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
