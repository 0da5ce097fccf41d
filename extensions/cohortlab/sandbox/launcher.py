"""``python -m cohortlab.sandbox -f CONNECTION_FILE [--keep VAR]... -- KERNEL COMMAND...``

Runs any kernel's command line inside the sandbox (:mod:`.namespaces`), in a private copy of
the folder it was started in, at :data:`~.plan.WORKDIR` (nothing it writes there reaches the
folder; a folder larger than :func:`~.plan.work_limits` allows is refused: the kernel does
not start, and stderr says why in one line). The connection file must use the ipc
transport (the provisioner ``cohortlab-sandbox`` sees to it): it is copied, with its socket
address moved to :data:`~.plan.KERNEL_DIR`, into the server's private socket folder, and the
command's mention of the file is changed to that copy.

The process tree: this launcher stays outside and waits (jupyter_client signals its process
group, which the kernel shares, so interrupts reach the kernel); the sandbox's PID 1 builds
the file system, forks the kernel (PID 2) and then becomes a tiny reaper with an empty
environment and a neutral command line (``/proc/1`` is what the kernel can read of it). The
launcher dies with the server that started it and the sandbox with the launcher
(``PR_SET_PDEATHSIG``). Once the namespaces are entered, any failure ends the kernel: it
fails closed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import namespaces, plan

SANDBOX_VAR = "CL_REVIEW_SANDBOX"
REFUSED_EXIT = 3
FAILED_EXIT = 70
# PID 1 once the kernel runs: reap every orphan, end with the kernel (ignoring interrupts
# meant for it). Run with -I -S and no environment: it needs nothing but the interpreter.
REAPER = (
    "import ctypes, os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"
    "kernel = int(sys.argv[1])\n"
    "while True:\n"
    "    try:\n"
    "        pid, status = os.wait()\n"
    "    except ChildProcessError:\n"
    "        os._exit(1)\n"
    "    except InterruptedError:\n"
    "        continue\n"
    "    if pid == kernel:\n"
    "        code = os.waitstatus_to_exitcode(status)\n"
    "        os._exit(code if code >= 0 else 128 - code)\n"
)


def read_connection(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def run(
    connection_file: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    program_paths: Sequence[str] = (),
) -> int:
    """Run ``argv`` (a kernel's command line naming ``connection_file``) in the sandbox, with
    ``env`` (already scrubbed) made neutral. Returns the kernel's exit status."""
    connection = read_connection(connection_file)
    inner = plan.inner_connection(connection)
    ipc_dir = plan.ipc_folder(connection)
    info = os.stat(ipc_dir)
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ValueError(f"{ipc_dir} is not a private folder of this user")
    workdir = os.getcwd()
    real_home = os.path.expanduser("~")
    hidden = plan.hidden_dirs(real_home, os.environ)
    back = plan.mounted_back(plan.interpreter_paths(program_paths, workdir), hidden)
    kernel_env = {
        **plan.neutral_environment(env, hidden, back),
        SANDBOX_VAR: "namespaces",
    }
    kernel_argv = plan.inner_argv(argv, connection_file)
    limits = plan.work_limits(os.environ)
    # the copy the kernel reads, in the folder it will see as KERNEL_DIR; written anew (the
    # kernel of a previous start could write that folder: never follow what is there)
    copy = os.path.join(ipc_dir, "connection.json")
    if os.path.lexists(copy):
        os.unlink(copy)
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(inner, f)

    lib = namespaces.libc()
    server = os.getppid()
    namespaces.die_with_parent(lib, signal.SIGKILL)
    if os.getppid() != server:
        return 1
    namespaces.enter(lib)
    # entering a user namespace changes this process's credentials, which clears the
    # parent-death signal: set it again, or a server killed outright leaves its kernel
    namespaces.die_with_parent(lib, signal.SIGKILL)
    if os.getppid() != server:
        return 1
    init = os.fork()
    if init:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _pid, status = os.waitpid(init, 0)
        return os.waitstatus_to_exitcode(status)
    try:
        namespaces.die_with_parent(lib, signal.SIGKILL)
        namespaces.build(
            lib, workdir=workdir, ipc_dir=ipc_dir, hidden=hidden, back=back, limits=limits
        )
        namespaces.no_new_privileges(lib)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kernel = os.fork()
        if kernel == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            namespaces.forbid_links(lib)
            os.execvpe(kernel_argv[0], kernel_argv, kernel_env)
        os.execve(
            sys.executable,
            [sys.executable, "-I", "-S", "-c", REAPER, str(kernel)],
            {},
        )
    except namespaces.CopyRefused as e:
        print(
            f"cohortlab sandbox: {e}, so this kernel does not start.", file=sys.stderr, flush=True
        )
        os._exit(REFUSED_EXIT)
    except BaseException as e:  # never return into the launcher's code inside the sandbox
        print(f"cohortlab sandbox: failed: {e}", file=sys.stderr, flush=True)
        os._exit(FAILED_EXIT)
    return FAILED_EXIT  # not reached


def probe() -> bool:
    """Whether this host lets a sandbox be built: the whole of it (namespaces, mounts,
    read-only remount, seccomp), for an empty folder, in a child process that then exits."""
    work, ipc = tempfile.mkdtemp(prefix="clp-"), tempfile.mkdtemp(prefix="clp-")
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                lib = namespaces.libc()
                hidden = plan.hidden_dirs(os.path.expanduser("~"), os.environ)
                back = plan.mounted_back(plan.interpreter_paths(workdir=work), hidden)
                namespaces.enter(lib)
                init = os.fork()
                if init == 0:
                    try:
                        namespaces.build(lib, workdir=work, ipc_dir=ipc, hidden=hidden, back=back)
                        namespaces.no_new_privileges(lib)
                        namespaces.forbid_links(lib)
                        os._exit(0)
                    except BaseException:
                        os._exit(1)
                _pid, status = os.waitpid(init, 0)
                code = os.waitstatus_to_exitcode(status)
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) == 0
    finally:
        os.rmdir(work)
        os.rmdir(ipc)


def main(argv: Sequence[str] | None = None) -> int:
    """The generic wrapper the provisioner puts in front of a kernel's command line."""
    parser = argparse.ArgumentParser(prog="python -m cohortlab.sandbox")
    parser.add_argument("-f", dest="connection_file", required=True)
    parser.add_argument("--keep", action="append", default=[], help="a kernelspec variable")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not sys.platform.startswith("linux") or not probe():
        print(
            "cohortlab sandbox: this host refuses unprivileged user namespaces, so this "
            "kernel cannot be isolated and does not start (see docs/peer-review-lab.md).",
            file=sys.stderr,
            flush=True,
        )
        return REFUSED_EXIT
    command = list(args.command)
    program = [os.path.dirname(os.path.realpath(p)) for p in command[:1] if os.path.isabs(p)]
    return run(
        args.connection_file,
        command,
        plan.scrub_environment(os.environ, args.keep),
        program_paths=program,
    )
