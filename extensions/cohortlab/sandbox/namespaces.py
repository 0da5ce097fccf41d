"""Building the sandbox with Linux namespaces, as an unprivileged user (ctypes, no helper binary).

Two user namespaces, one inside the other: the outer maps the real uid and gid to
:data:`~.plan.NEUTRAL_ID`, the inner maps that id to itself. A process reads
``/proc/self/uid_map`` relative to its parent namespace, so in a single namespace the kernel
would read the real uid there; in the inner one it reads ``1000 1000 1``.

The inner namespace owns new mount, PID, IPC, network, UTS and cgroup namespaces: no network
but an own loopback, its own host name, a fresh ``/proc`` that shows only the sandbox, a
cgroup path of ``/``, and a file system that is read-only (``mount_setattr``, Linux 5.12)
except the kernel's copy of its folder (:func:`fill_workdir`), its socket folder and private
temporary folders. Every folder it makes is a ramfs (:func:`mount_private`), which shows no
owner in the mount table.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import stat
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import plan

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
INNER = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWCGROUP
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (unified syscall table)
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY = 0x1
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


class SandboxError(OSError):
    """A namespace step the host refused."""


class CopyRefused(Exception):
    """The kernel's folder has more than the sandbox copies (:func:`.plan.copy_refusal`)."""


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")


def mount(
    lib: Any,
    source: str | None,
    target: str,
    fstype: str | None,
    flags: int,
    data: bytes | None = None,
) -> None:
    _check(
        lib.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data,
        ),
        f"mount {target}",
    )


def mount_private(lib: Any, target: str) -> None:
    """An empty private folder of the sandbox's own at ``target``: a ramfs
    (:data:`~.plan.PRIVATE_FS`), whose mount table entry names no one
    (``ramfs sandbox rw``), where a tmpfs's would show the real uid and gid."""
    flags = MS_NOSUID | MS_NODEV
    mount(lib, plan.PRIVATE_SOURCE, target, plan.PRIVATE_FS, flags, plan.PRIVATE_OPTIONS)


def set_readonly(lib: Any, path: str, readonly: bool, recursive: bool = False) -> None:
    attr = _MountAttr()
    if readonly:
        attr.attr_set = MOUNT_ATTR_RDONLY
    else:
        attr.attr_clr = MOUNT_ATTR_RDONLY
    _check(
        lib.syscall(
            ctypes.c_long(SYS_MOUNT_SETATTR),
            ctypes.c_int(AT_FDCWD),
            ctypes.c_char_p(path.encode()),
            ctypes.c_uint(AT_RECURSIVE if recursive else 0),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        ),
        f"mount_setattr {path}",
    )


def _map_ids(outer_uid: int, outer_gid: int) -> None:
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{plan.NEUTRAL_ID} {outer_uid} 1")
    Path("/proc/self/gid_map").write_text(f"{plan.NEUTRAL_ID} {outer_gid} 1")


def enter(lib: Any) -> None:
    """The two user namespaces, then the inner ones; mounts become private copies."""
    uid, gid = os.getuid(), os.getgid()
    _check(lib.unshare(CLONE_NEWUSER), "unshare (user)")
    _map_ids(uid, gid)
    _check(lib.unshare(CLONE_NEWUSER), "unshare (nested user)")
    _map_ids(plan.NEUTRAL_ID, plan.NEUTRAL_ID)
    _check(lib.unshare(INNER), "unshare")
    mount(lib, None, "/", None, MS_REC | MS_PRIVATE)


def loopback_up() -> None:
    """The network namespace's own loopback (nothing else is there): local servers a
    kernel starts for itself keep working."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack(
            "16sh", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh22x", b"lo", 0))[:18]
        )[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def _mount_point(path: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(path, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        Path(path).touch(exist_ok=True)


def build(
    lib: Any,
    *,
    workdir: str,
    ipc_dir: str,
    hidden: Iterable[str],
    back: Iterable[str],
    limits: plan.WorkLimits | None = None,
) -> None:
    """Inside the new namespaces (as PID 1): the file system the kernel gets. The folder is
    opened before the hidden folders cover its path, and copied, never mounted."""
    limits = limits or plan.WorkLimits()
    source = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    keep = {p: os.open(p, os.O_PATH) for p in {ipc_dir, *back}}
    mount(lib, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    hidden = list(hidden)
    for d in hidden:
        mount_private(lib, d)
    if os.path.isdir("/dev/pts"):  # its own terminals: the person's are out of reach
        pts = b"newinstance,ptmxmode=0666,mode=0620"
        mount(lib, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, pts)
        if os.path.exists("/dev/ptmx"):
            mount(lib, "/dev/pts/ptmx", "/dev/ptmx", None, MS_BIND)
    for p in back:  # the interpreter, read-only at its own path (made read-only below)
        _mount_point(p, os.path.isdir(f"/proc/self/fd/{keep[p]}"))
        mount(lib, f"/proc/self/fd/{keep[p]}", p, None, MS_BIND | MS_REC)
    if os.path.realpath("/home") not in hidden:  # the sandbox's home needs a place
        raise SandboxError(2, "no /home folder to hold the sandbox's home")
    os.makedirs(plan.HOME, mode=0o755)
    mount_private(lib, plan.HOME)
    os.makedirs(plan.WORKDIR, mode=0o755)
    try:
        fill_workdir(lib, source, limits)
    finally:
        os.close(source)
    if "/run" not in hidden:
        os.makedirs("/run", exist_ok=True)  # fails (read-only /) where there is no /run
    os.makedirs(plan.KERNEL_DIR, mode=0o700)
    mount(lib, f"/proc/self/fd/{keep[ipc_dir]}", plan.KERNEL_DIR, None, MS_BIND)
    for fd in keep.values():
        os.close(fd)
    os.makedirs(plan.FILES_DIR, mode=0o755)
    for name, text in plan.etc_files().items():
        Path(plan.FILES_DIR, name).write_text(text)
        if os.path.isfile(f"/etc/{name}"):
            mount(lib, f"{plan.FILES_DIR}/{name}", f"/etc/{name}", None, MS_BIND)
    _check(lib.sethostname(plan.HOSTNAME.encode(), len(plan.HOSTNAME)), "sethostname")
    loopback_up()
    # Everything read-only, then writable again: the kernel's copy, its sockets, and the
    # private temporary folders (its home included).
    set_readonly(lib, "/", True, recursive=True)
    writable = [plan.HOME, plan.WORKDIR, plan.KERNEL_DIR]
    writable += ["/dev/pts"] if os.path.isdir("/dev/pts") else []
    for path in writable + [d for d in hidden if d in WRITABLE_HIDDEN]:
        set_readonly(lib, path, False)
    os.chdir(plan.WORKDIR)


#: the hidden folders the kernel may write in (private, empty, gone with the sandbox)
WRITABLE_HIDDEN = ("/tmp", "/var/tmp", "/dev/shm")


def fill_workdir(lib: Any, source: int, limits: plan.WorkLimits) -> None:
    """A private folder (:func:`mount_private`) at :data:`~.plan.WORKDIR` holding a copy of
    the folder open at ``source``.

    A copy, not a bind mount of the folder: a bind mount's source path shows in
    ``/proc/self/mountinfo`` (``/home/<reviewer>/peer-review/...``), and everything the
    kernel wrote there reached the reviewer's (the instructor's) folder. Read as the
    sandbox's user: the folder's files are the real user's, which the user namespaces map to
    it. Raises :class:`CopyRefused` when the folder has more than ``limits`` allow: those
    bound the copy, the folder (a ramfs) has no size of its own."""
    mount_private(lib, plan.WORKDIR)
    target = os.open(plan.WORKDIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        copy_folder(source, target, limits)
    finally:
        os.close(target)


#: errors that mean an entry is gone, was swapped for another kind, or is not the sandbox's
#: to read: it is left out of the copy (the kernel could not have read it either)
_SKIPPED = (FileNotFoundError, NotADirectoryError, PermissionError)


def copy_folder(source: int, target: int, limits: plan.WorkLimits) -> None:
    """Copy the folder open at ``source`` into the folder open at ``target``: folders and
    regular files only, never through a symbolic link, safe against a folder being changed
    meanwhile (each entry is opened by name relative to its parent, without following links,
    and its kind is judged from the open file, never from the name); within ``limits``
    (:class:`CopyRefused`, counted on what is read, so a file growing meanwhile counts too)."""
    _Copy(limits).entries(source, target, depth=1)


def _reopen(found: int, flags: int) -> int | None:
    """The entry held by the O_PATH descriptor ``found`` opened for reading (the same inode,
    whatever its name leads to now), or None if it may not be read."""
    try:
        return os.open(f"/proc/self/fd/{found}", flags | os.O_NOCTTY)
    except _SKIPPED:
        return None


class _Copy:
    """One copy of a folder: its limits, and what it has taken of them so far."""

    def __init__(self, limits: plan.WorkLimits) -> None:
        self.limits = limits
        self.size = 0
        self.count = 0

    def refuse_beyond(self, depth: int, more: int = 0) -> None:
        """Raise :class:`CopyRefused` if the copy, with ``more`` bytes, is beyond its limits."""
        why = plan.copy_refusal(
            size=self.size + more, entries=self.count, depth=depth, limits=self.limits
        )
        if why:
            raise CopyRefused(why)

    def entries(self, source: int, target: int, depth: int) -> None:
        """Copy what the folder open at ``source`` holds into the one open at ``target``."""
        self.refuse_beyond(depth)
        names = []
        with os.scandir(source) as listing:
            for entry in listing:
                names.append(entry.name)
                self.count += 1
                self.refuse_beyond(depth)
        for name in names:
            try:
                # O_PATH: neither a FIFO's open nor a device's is made; fstat says what it is
                found = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=source)
            except _SKIPPED:
                continue
            try:
                info = os.fstat(found)
                mode = plan.copied_mode(info.st_mode)
                if mode is not None and stat.S_ISDIR(info.st_mode):
                    self.folder(found, name, target, mode, info, depth)
                elif mode is not None:
                    self.file(found, name, target, mode, info, depth)
            finally:
                os.close(found)

    def folder(
        self, found: int, name: str, target: int, mode: int, info: os.stat_result, depth: int
    ) -> None:
        opened = _reopen(found, os.O_RDONLY | os.O_DIRECTORY)
        if opened is None:
            return
        try:
            os.mkdir(name, 0o700, dir_fd=target)
            made = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=target)
            try:
                self.entries(opened, made, depth + 1)
                os.fchmod(made, mode)
                os.utime(made, ns=(info.st_atime_ns, info.st_mtime_ns))
            finally:
                os.close(made)
        finally:
            os.close(opened)

    def file(
        self, found: int, name: str, target: int, mode: int, info: os.stat_result, depth: int
    ) -> None:
        self.refuse_beyond(depth, more=info.st_size)  # before reading, when its size tells
        opened = _reopen(found, os.O_RDONLY)
        if opened is None:
            return
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            made = os.open(name, flags, 0o600, dir_fd=target)
            try:
                room = self.limits.copy_bytes - self.size + 1  # one more tells it grew
                while chunk := os.read(opened, min(plan.MIB, room)):
                    self.size += len(chunk)
                    self.refuse_beyond(depth)
                    room -= len(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(made, view) :]
                os.fchmod(made, mode)
                os.utime(made, ns=(info.st_atime_ns, info.st_mtime_ns))
            finally:
                os.close(made)
        finally:
            os.close(opened)


# seccomp: no symbolic link and no special file made by the kernel (see forbid_links)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
#: machine -> (audit arch, syscalls that make links or special files, first x32 number)
LINK_SYSCALLS = {
    "x86_64": (0xC000003E, (88, 266, 133, 259), 0x40000000),  # symlink(at), mknod(at)
    "aarch64": (0xC00000B7, (36, 33), None),  # symlinkat, mknodat
}


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def link_filter(machine: str) -> list[tuple[int, int, int, int]] | None:
    """The seccomp program (BPF) refusing, with EPERM, the syscalls that make symbolic links,
    FIFOs or device nodes; every syscall of another ABI (32-bit, x32) is refused too. None
    on a machine it does not know."""
    if machine not in LINK_SYSCALLS:
        return None
    arch, calls, x32 = LINK_SYSCALLS[machine]
    deny = (BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | 1)
    prog = [(BPF_LD_W_ABS, 0, 0, 4), (BPF_JEQ_K, 1, 0, arch), deny, (BPF_LD_W_ABS, 0, 0, 0)]
    if x32 is not None:
        prog += [(BPF_JGE_K, 0, 1, x32), deny]
    for nr in calls:
        prog += [(BPF_JEQ_K, 0, 1, nr), deny]
    return [*prog, (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]


def forbid_links(lib: Any) -> bool:
    """The kernel makes no symbolic link or special file. Its folder is a private copy, so
    a link there leads no one outside the sandbox astray; the one real folder it writes is
    its socket folder, which the launcher writes again at a restart and the provisioner
    removes at shutdown (neither follows a link there: this is a second line). Before the
    copy, a link left in the folder was followed by the reviewer's server saving the
    notebook and by nbgrader writing and ``chmod``-ing the autograded folder. Needs
    ``no_new_privs``."""
    prog = link_filter(os.uname().machine)
    if prog is None:
        return False
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    _check(lib.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")
    return True


def no_new_privileges(lib: Any) -> None:
    _check(lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def die_with_parent(lib: Any, signum: int) -> None:
    lib.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
