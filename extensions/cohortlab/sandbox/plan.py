"""What a sandboxed kernel sees, decided before anything changes (pure functions, unit-tested).

Inside, every sandbox looks the same, whoever started it and wherever its folder is:

- the user ``sandbox`` (uid and gid :data:`NEUTRAL_ID`, from ``/etc/passwd`` and
  ``/etc/group`` of its own), home :data:`HOME`, host name :data:`HOSTNAME`;
- the kernel works in :data:`WORKDIR`, a private in-memory folder (:data:`PRIVATE_FS`)
  holding a copy of the folder it was started in (the review copy's, or the submission's
  autograded folder): regular files and folders only (:func:`copied_mode`), within
  :func:`work_limits` (:func:`copy_refusal`). The folder itself is never mounted: a bind
  mount's source path shows in ``/proc/self/mountinfo`` (and named the reviewer's home), and
  nothing the kernel writes reaches the folder;
- its ZMQ sockets are in :data:`KERNEL_DIR` (the private folder its server connects to, the
  one real folder it writes; removed when the kernel is shut down);
- everything else is read-only, and the folders that hold people's things are hidden under
  empty private ones (:func:`hidden_dirs`); what the interpreter needs from them is mounted
  back read-only at its own path (:func:`mounted_back`);
- every folder the sandbox makes shows in the mount table as ``ramfs sandbox rw``: no owner,
  size or path (:data:`PRIVATE_FS`).
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NEUTRAL_ID = 1000
USER = "sandbox"
HOSTNAME = "sandbox"
HOME = "/home/sandbox"
WORKDIR = f"{HOME}/work"
#: the kernel's sockets (the server's private ipc folder, mounted here) and connection file
KERNEL_DIR = "/run/kernel"
CONNECTION_FILE = f"{KERNEL_DIR}/connection.json"
#: the sandbox's own /etc files, bind-mounted over the host's
FILES_DIR = "/run/sandbox"
#: the base name of the ipc sockets in the private folder (``k-1`` ... ``k-5``)
IPC_NAME = "k"

#: The file system of every folder the sandbox makes (its home, the copy of its folder, the
#: empty folders over the hidden ones), the source it shows in the mount table, and its
#: options. ramfs, not tmpfs: Linux prints a tmpfs's owner in ``/proc/self/mountinfo`` and
#: ``/proc/self/mounts`` as the host sees it (``uid=1003,gid=1003``, the reviewer's real ids,
#: which anyone on a shared machine can match to a name), and an unprivileged user namespace
#: can give it no other owner; ramfs prints no owner, and of its options only a mode other
#: than 0755. ramfs has no size limit, which tmpfs had: see :data:`COPY_LIMIT_MB`.
PRIVATE_FS, PRIVATE_SOURCE, PRIVATE_OPTIONS = "ramfs", "sandbox", b"mode=0755"

MIB = 1 << 20
#: The most of its folder a kernel gets copied (MiB); it can be changed in the launcher's
#: environment (the server's, or the terminal's running ``nbgrader autograde``). The copy is
#: in memory. So is what the kernel writes in its folder, its home and its temporary folders,
#: with no cap of their own (ramfs has no size): it is charged to the server's memory like
#: what the kernel allocates, and is freed when the kernel ends.
COPY_LIMIT_VAR, COPY_LIMIT_MB = "CL_SANDBOX_COPY_LIMIT_MB", 256
#: a folder with more entries than this, or deeper, is not copied either
COPY_MAX_ENTRIES = 20_000
COPY_MAX_DEPTH = 32

# Only what a kernel needs to run; every other variable stays behind.
KEEP = {
    "PATH",
    # kept for the review kernel without namespaces; the sandbox sets neutral values
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
    "NBGRADER_EXECUTION",
}
KEEP_PREFIXES = ("LC_",)
# Even an allowed name is dropped if it looks like a credential (belt and braces).
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|KEY|CREDENTIAL|AUTH|COOKIE", re.IGNORECASE)
# Variables holding lists of folders: entries the sandbox hides are dropped.
PATH_LISTS = ("PATH", "PYTHONPATH", "JUPYTER_PATH")


def scrub_environment(env: Mapping[str, str], keep: Iterable[str] = ()) -> dict[str, str]:
    """The allow-list (plus ``keep``, the kernelspec's own variables), minus credential-like
    names."""
    allowed = KEEP | set(keep)
    return {
        k: v
        for k, v in env.items()
        if (k in allowed or k.startswith(KEEP_PREFIXES)) and not SECRET_NAME.search(k)
    }


def under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (both absolute and normalised)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def outermost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those inside another one, shortest first, no duplicates."""
    out: list[str] = []
    for p in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(under(p, o) for o in out):
            out.append(p)
    return out


def hidden_dirs(real_home: str, env: Mapping[str, str], exists: Any = os.path.isdir) -> list[str]:
    """Folders covered by an empty private folder (those that exist): every home, the shared
    temporary folders, ``/run`` (sockets, the user's runtime folder), mail, and Jupyter's or
    IPython's folders where the environment moved them."""
    dirs = ["/home", real_home, "/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run", "/var/mail"]
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        if env.get(var):
            dirs.append(env[var])
    real = [os.path.realpath(d) for d in dirs if d]
    return outermost(d for d in real if d != "/" and exists(d))


def interpreter_paths(extra: Iterable[str] = (), workdir: str | None = None) -> list[str]:
    """What this interpreter (and the kernel it starts) reads: its prefixes, the folder of its
    real executable, every existing ``sys.path`` entry, CohortLab's own source folder (an
    editable install's finder names it outside ``sys.path``), and ``extra`` (another kernel's
    program). Never the kernel's own folder, ``sys.path[0]`` under ``python -m``: it is
    mounted at its neutral path, and its real path must not show."""
    import cohortlab

    paths = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        str(Path(cohortlab.__file__).resolve().parent.parent),
        *[p for p in sys.path if p],
        *extra,
    ]
    work = os.path.realpath(workdir or os.getcwd())
    real = [os.path.realpath(p) for p in paths if os.path.exists(p)]
    return [p for p in real if not under(p, work)]


def mounted_back(paths: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """The ``paths`` a hidden folder would cover, to be mounted back read-only (outermost)."""
    hidden = list(hidden)
    return outermost(p for p in paths if any(under(p, h) for h in hidden))


def neutral_environment(
    env: Mapping[str, str], hidden: Iterable[str], visible: Iterable[str]
) -> dict[str, str]:
    """The scrubbed ``env`` as the sandbox's user: neutral ``HOME``, ``USER``, ``LOGNAME``;
    folder lists keep only entries that exist inside (not hidden, or mounted back)."""
    hidden, visible = list(hidden), list(visible)

    def shown(entry: str) -> bool:
        real = os.path.realpath(entry) if entry else entry
        return bool(entry) and (
            not any(under(real, h) for h in hidden) or any(under(real, v) for v in visible)
        )

    out = dict(env)
    for var in PATH_LISTS:
        if var in out:
            kept = [e for e in out[var].split(os.pathsep) if shown(e)]
            if kept:
                out[var] = os.pathsep.join(kept)
            else:
                del out[var]
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if var in out and not shown(out[var]):
            del out[var]
    out.update(HOME=HOME, USER=USER, LOGNAME=USER)
    return out


def inner_connection(connection: Mapping[str, Any]) -> dict[str, Any]:
    """The kernel's connection info inside: the same ports and key, its sockets in
    :data:`KERNEL_DIR`. Only the ipc transport reaches a kernel without network."""
    if connection.get("transport") != "ipc":
        raise ValueError(
            "a sandboxed kernel has no network: it needs the ipc transport (kernelspec "
            "metadata.kernel_provisioner cohortlab-sandbox)"
        )
    return {**connection, "ip": f"{KERNEL_DIR}/{IPC_NAME}"}


def ipc_folder(connection: Mapping[str, Any]) -> str:
    """The server's private folder of the kernel's sockets (the ``ip`` of an ipc connection)."""
    folder = os.path.dirname(str(connection.get("ip", "")))
    if not os.path.isabs(folder) or os.path.basename(str(connection["ip"])) != IPC_NAME:
        raise ValueError(f"unexpected ipc address {connection.get('ip')!r}")
    return folder


def inner_argv(
    argv: Iterable[str], outer_file: str, inner_file: str = CONNECTION_FILE
) -> list[str]:
    """The kernel's command line with the connection file's path (alone or inside an
    argument such as ``--connection-file=...``) changed to the one inside."""
    return [a.replace(outer_file, inner_file) for a in argv]


def etc_files() -> dict[str, str]:
    """The sandbox's own ``/etc`` files: its user, its group, its host name (no line of the
    host's ``/etc/hosts``, which on Kubernetes names the pod, i.e. the person)."""
    return {
        "passwd": (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"{USER}:x:{NEUTRAL_ID}:{NEUTRAL_ID}:{USER}:{HOME}:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
        "group": f"root:x:0:\n{USER}:x:{NEUTRAL_ID}:\nnogroup:x:65534:\n",
        "hostname": f"{HOSTNAME}\n",
        "hosts": f"127.0.0.1\tlocalhost {HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    }


@dataclass(frozen=True)
class WorkLimits:
    """What of a kernel's folder the sandbox copies."""

    copy_bytes: int = COPY_LIMIT_MB * MIB
    max_entries: int = COPY_MAX_ENTRIES
    max_depth: int = COPY_MAX_DEPTH


def work_limits(env: Mapping[str, str]) -> WorkLimits:
    """The limits, with :data:`COPY_LIMIT_VAR` (whole MiB) where set; a value that is not a
    whole number is refused (ValueError) rather than guessed at."""
    raw = env.get(COPY_LIMIT_VAR, "").strip()
    if not raw:
        return WorkLimits()
    if not raw.isdecimal():
        raise ValueError(f"{COPY_LIMIT_VAR} must be a whole number of MiB, not {raw!r}")
    return WorkLimits(copy_bytes=int(raw) * MIB)


def copied_mode(mode: int) -> int | None:
    """The mode an entry of the folder gets in the copy, or None where it is not copied.

    Only folders and regular files are copied: a symbolic link could lead the copy (made with
    the sandbox's privileges, before the kernel starts) out of the folder, and a FIFO,
    socket or device is no content. Modes are plain: the copy has one user, so only whether
    the owner may run a file is kept, and never setuid, setgid or sticky bits."""
    if stat.S_ISDIR(mode):
        return 0o755
    if stat.S_ISREG(mode):
        return 0o755 if mode & stat.S_IXUSR else 0o644
    return None


def copy_refusal(*, size: int, entries: int, depth: int, limits: WorkLimits) -> str | None:
    """Why the folder is not copied (it has more than ``limits`` allow: bytes of regular
    files, entries, or folder depth), one line, or None while it is within them."""
    if size > limits.copy_bytes:
        return (
            f"the kernel's folder holds more than {limits.copy_bytes // MIB} MiB, the most the "
            f"sandbox copies ({COPY_LIMIT_VAR})"
        )
    if entries > limits.max_entries:
        return (
            f"the kernel's folder has more than {limits.max_entries} entries, the most the "
            "sandbox copies"
        )
    if depth > limits.max_depth:
        return (
            f"the kernel's folder is more than {limits.max_depth} folders deep, the most the "
            "sandbox copies"
        )
    return None
