"""The review kernel's launcher as a process tree, without a hub: it starts a working kernel
inside its sandbox, and the whole sandbox ends when the server that started it dies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the sandbox is Linux namespaces"
)


def _children() -> dict[int, int]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _descendants(root: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def test_the_sandbox_runs_a_kernel_and_ends_with_the_server(tmp_path: Path) -> None:
    # the provisioner's private socket folder: a sandboxed kernel has no network, only ipc
    sockets = Path(tempfile.mkdtemp(prefix="clk-"))
    conn, _info = write_connection_file(
        str(tmp_path / "kernel.json"), transport="ipc", ip=str(sockets / "k")
    )
    work = tmp_path / "Submission 1"
    work.mkdir()
    (work / "hw.ipynb").write_text("{}")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-m', 'cohortlab.serverext.review_kernel', "
            f"'-f', {conn!r}], cwd={str(work)!r})\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "JUPYTERHUB_API_TOKEN": "secret-token"},
    )
    client = BlockingKernelClient(connection_file=conn)
    printed: list[str] = []
    try:
        assert server.stdout is not None
        launcher = int(server.stdout.readline())
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(
            "import os; print(os.environ.get('JUPYTERHUB_API_TOKEN'), os.environ.get("
            "'CL_REVIEW_SANDBOX'), sorted(os.listdir('.')), "
            "len([p for p in os.listdir('/proc') if p.isdigit()]) <= 3)",
            timeout=30,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok"
        tree = _descendants(launcher) | {launcher}
        assert len(tree) >= 3  # launcher, the sandbox's PID 1, the kernel
    finally:
        client.stop_channels()
        server.kill()
        server.wait()
        shutil.rmtree(sockets, ignore_errors=True)
    assert "".join(printed).split() == ["None", "namespaces", "['hw.ipynb']", "True"]
    wait_until(
        lambda: not tree & set(_children()),
        timeout=10,
        what="the sandbox to end with its server (it outlived it)",
    )
