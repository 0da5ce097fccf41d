"""Running someone else's code without the credentials, identity or network of the person who
runs it: the peer review kernel and nbgrader's autograding kernels.

- :mod:`.plan` — what the sandbox looks like (pure: environment, folders hidden and mounted
  back, the neutral identity, the kernel's connection file inside, what of its folder the
  kernel gets a copy of);
- :mod:`.namespaces` — building it with Linux namespaces (user, mount, PID, IPC, network, UTS,
  cgroup), as the same Unix user without extra privileges, and a seccomp filter (no links or
  special files of the kernel's making);
- :mod:`.launcher` — ``python -m cohortlab.sandbox`` wraps any kernel's command line;
- :mod:`.provisioner` — the jupyter_client kernel provisioner ``cohortlab-sandbox``: the kernel
  talks to its server over ZMQ's ``ipc`` transport (it has no network), through a private
  folder it gets at a neutral path.

docs/peer-review-lab.md says what holds inside and what stays possible.
"""
