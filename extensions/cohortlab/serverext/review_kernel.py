"""The peer review kernel: someone else's code, run without the reviewer's credentials,
identity or network.

A review copy is a peer's code. Run in an ordinary kernel it could act as the reviewer: the
kernel inherits the server's ``JUPYTERHUB_API_TOKEN``, reads ``/proc/<pid>/environ`` of the
server and of the reviewer's other kernels (same Unix user), the server's runtime files
(``jpserver-*.json``, kernel connection files with their HMAC keys), the notary secret
that decides which notebooks JupyterLab trusts, reaches the hub and the service over the
network, and writes into shared folders such as the nbgrader exchange. The kernelspec
``cohortlab-review`` (shipped beside this module and put first on the server's kernel path by
the server extension) names the provisioner ``cohortlab-sandbox`` (the kernel talks to its
server over ZMQ's ``ipc`` transport, :mod:`cohortlab.sandbox.provisioner`) and starts
ipykernel through :func:`main`, which

1. keeps only an allow-list of environment variables (no ``JUPYTERHUB_*``, ``JPY_*``,
   ``COHORTLAB_*``, nothing named like a token, secret, password or key);
2. where the kernel allows unprivileged user namespaces, runs the kernel in CohortLab's
   sandbox (:mod:`cohortlab.sandbox`): no network, a neutral user, host name, home and
   working folder (a private copy of the review copy's folder, at ``/home/sandbox/work``:
   what the kernel writes there never reaches the reviewer's folder), a fresh ``/proc``
   showing only the sandbox, a read-only file system but for that copy and private
   temporary folders, with every home, ``/tmp`` and ``/run`` hidden;
3. otherwise (namespaces refused) does not start, unless the server was configured to let
   peer code run without them (``review_kernel_without_namespaces``, which the server passes
   as ``CL_REVIEW_WITHOUT_NAMESPACES=1``): then it starts ipykernel with the scrubbed
   environment only, and says so on stderr (the server log) and in ``CL_REVIEW_SANDBOX``.

What stays possible is in docs/peer-review-lab.md.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..sandbox import launcher
from ..sandbox.launcher import REFUSED_EXIT, SANDBOX_VAR
from ..sandbox.plan import scrub_environment

KERNEL_NAME = "cohortlab-review"
KERNELS_DIR = Path(__file__).resolve().parent / "kernels"
#: set by the server extension when peer code may run without namespaces (off by default)
UNSANDBOXED_VAR = "CL_REVIEW_WITHOUT_NAMESPACES"

__all__ = ["KERNELS_DIR", "KERNEL_NAME", "REFUSED_EXIT", "SANDBOX_VAR", "UNSANDBOXED_VAR", "main"]
__all__ += ["probe_sandbox", "scrub_environment"]


def _kernel_argv(connection_file: str) -> list[str]:
    return [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]


def probe_sandbox() -> bool:
    """Whether this host lets a review kernel build its sandbox (built once, empty, in a
    child)."""
    return launcher.probe()


def _refuse(why: str) -> int:
    print(f"cohortlab review kernel: {why}", file=sys.stderr, flush=True)
    return REFUSED_EXIT


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
        if connection.get("transport") != "ipc":
            return _refuse(
                "started without its provisioner (cohortlab-sandbox): a kernel without "
                "network needs the ipc transport, so it does not start."
            )
        return launcher.run(connection_file, _kernel_argv(connection_file), env)
    if os.environ.get(UNSANDBOXED_VAR) != "1":
        return _refuse(
            "this host refuses unprivileged user namespaces, so a peer's code cannot be "
            "isolated here and the review kernel does not start "
            "(CohortLabServerExtension.review_kernel_without_namespaces; see "
            "docs/peer-review-lab.md)."
        )
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
