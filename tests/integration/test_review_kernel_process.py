"""The review kernel's launcher as a process tree, without a hub: it starts a working kernel
inside its sandbox, on a copy of its folder (or refuses a folder too large to copy), and the
whole sandbox ends when the server that started it dies."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import cohortlab
import pytest
from cohortlab.nbgrader.autograde import SandboxedKernelManager
from cohortlab.serverext.review_kernel import KERNELS_DIR, REFUSED_EXIT
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

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
    # in the folder besides: data (copied), links and a FIFO (not copied, not followed)
    (work / "data").mkdir()
    (work / "data" / "v.csv").write_text("1")
    (work / "passwd").symlink_to("/etc/passwd")
    (work / "data" / "up").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(work / "pipe")
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
            "'CL_REVIEW_SANDBOX'), sorted(os.listdir('.')), sorted(os.listdir('data')), "
            "len([p for p in os.listdir('/proc') if p.isdigit()]) <= 3); "
            "open('written.txt', 'w').write('x')",
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
    assert "".join(printed).split() == [
        "None",
        "namespaces",
        "['data',",
        "'hw.ipynb']",
        "['v.csv']",
        "True",
    ]
    assert sorted(p.name for p in work.iterdir()) == ["data", "hw.ipynb", "passwd", "pipe"]
    wait_until(
        lambda: not tree & set(_children()),
        timeout=10,
        what="the sandbox to end with its server (it outlived it)",
    )


RUN_KERNELS = r"""
import asyncio, json, os, sys
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from cohortlab.nbgrader.autograde import SandboxedKernelManager
from cohortlab.serverext.review_kernel import KERNELS_DIR

CODE = '''
import cohortlab, json, os, sys
open("written.txt", "w").write("ok")
print(json.dumps({"prefix": sys.prefix, "cohortlab": cohortlab.__file__, "cwd": os.getcwd(),
                  "sandbox": os.environ.get("CL_REVIEW_SANDBOX")}))
'''

async def run(km):
    await km.start_kernel(cwd=os.getcwd())
    kc = km.client()
    kc.start_channels()
    out = []
    try:
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive(
            CODE, timeout=60, output_hook=lambda m: out.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        await km.shutdown_kernel()
    return json.loads("".join(out))

specs = KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)])
review = AsyncKernelManager(kernel_name="cohortlab-review", kernel_spec_manager=specs)
print(json.dumps({
    "review": asyncio.run(run(review)),
    "autograde": asyncio.run(run(SandboxedKernelManager(kernel_name="python3"))),
    "launcher": {"prefix": sys.prefix, "cohortlab": __import__("cohortlab").__file__},
}))
"""


def test_the_sandbox_runs_kernels_of_an_installation_under_tmp(tmp_path: Path) -> None:
    """A clone and its venv under /tmp, which the sandbox hides behind a private folder: the
    interpreter's prefix, its site-packages and CohortLab's source are mounted back (read-only)
    where they are, so the review kernel and an autograding kernel start there too.

    The venv is a real one (``python -m venv``, no pip) whose site folder takes the
    dependencies from this venv and CohortLab's source from a copy under /tmp."""
    root = Path(tempfile.mkdtemp(prefix="cl-clone-", dir="/tmp"))
    try:
        venv = root / ".venv"
        subprocess.run(
            [sys.base_prefix + "/bin/python3", "-m", "venv", "--without-pip", str(venv)],
            check=True,
        )
        source = root / "extensions"
        shutil.copytree(
            Path(cohortlab.__file__).parent,
            source / "cohortlab",
            ignore=shutil.ignore_patterns("__pycache__", "labextension"),
        )
        site = next(venv.glob("lib/python3.*/site-packages"))
        deps = next(Path(sys.prefix).glob("lib/python3.*/site-packages"))
        (site / "cl_clone.pth").write_text(
            f"import site; site.addsitedir({str(deps)!r}); import sys; "
            f"sys.path.insert(0, {str(source)!r})\n"
        )
        work = tmp_path / "Submission 1"
        work.mkdir()
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", RUN_KERNELS],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        found = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert found["launcher"] == {
        "prefix": str(venv),
        "cohortlab": str(source / "cohortlab" / "__init__.py"),
    }
    for kind in ("review", "autograde"):
        assert found[kind] == {
            **found["launcher"],
            "cwd": "/home/sandbox/work",
            "sandbox": "namespaces",
        }
    # each kernel wrote written.txt in its folder: a copy, so not here
    assert list(work.iterdir()) == []


def test_a_folder_too_large_to_copy_is_refused_in_one_line(tmp_path: Path) -> None:
    """Over ``CL_SANDBOX_COPY_LIMIT_MB`` the kernel does not start: the launcher exits with
    its refusal status and says why on one line of stderr."""
    sockets = Path(tempfile.mkdtemp(prefix="clk-"))
    conn, _info = write_connection_file(
        str(tmp_path / "kernel.json"), transport="ipc", ip=str(sockets / "k")
    )
    work = tmp_path / "big"
    work.mkdir()
    (work / "data.bin").write_bytes(b"x" * (2 * 1024 * 1024))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cohortlab.serverext.review_kernel", "-f", conn],
            cwd=work,
            env={**os.environ, "CL_SANDBOX_COPY_LIMIT_MB": "1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    assert done.returncode == REFUSED_EXIT, done.stderr
    assert done.stderr.splitlines() == [
        "cohortlab sandbox: the kernel's folder holds more than 1 MiB, the most the sandbox "
        "copies (CL_SANDBOX_COPY_LIMIT_MB), so this kernel does not start."
    ]


async def test_the_socket_folder_lives_through_a_restart_and_goes_at_shutdown(
    tmp_path: Path,
) -> None:
    """The provisioner's private ipc folder: the same one after a restart (the connection
    file and its sockets stay valid), removed when the kernel is shut down."""
    specs = KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)])
    km = AsyncKernelManager(kernel_name="cohortlab-review", kernel_spec_manager=specs)
    await km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        folder = Path(km.ip).parent
        assert km.transport == "ipc" and folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        await kc.wait_for_ready(timeout=60)
        await km.restart_kernel()
        await kc.wait_for_ready(timeout=60)
        reply = await kc.execute_interactive("x = 1", timeout=30)
        assert reply["content"]["status"] == "ok"
        assert Path(km.ip).parent == folder and folder.is_dir()
    finally:
        kc.stop_channels()
        await km.shutdown_kernel()
    assert not folder.exists()


async def test_an_autograding_kernel_of_any_kernelspec_runs_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only python3: a kernelspec whose command is another program (here ``/bin/sh``
    starting the kernel, the connection file as an argument of its own) and that sets its
    own variable is wrapped as it is; the variable is kept, the token is not."""
    spec_dir = tmp_path / "kernels" / "other"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    "/bin/sh",
                    "-c",
                    'exec "$1" -m ipykernel_launcher -f "$0"',
                    "{connection_file}",
                    sys.executable,
                ],
                "env": {"OTHER_KERNEL_HOME": "/opt/other"},
                "display_name": "Another language",
                "language": "other",
            }
        )
    )
    work = tmp_path / "autograded"
    work.mkdir()
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    km = SandboxedKernelManager(kernel_name="other", kernel_spec_manager=specs)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-token")  # as the instructor's terminal
    await km.start_kernel(cwd=str(work))
    kc = km.client()
    kc.start_channels()
    out: list[str] = []
    try:
        await kc.wait_for_ready(timeout=60)
        code = (
            "import os; print(os.environ.get('OTHER_KERNEL_HOME'), "
            "os.environ.get('JUPYTERHUB_API_TOKEN'), os.environ['CL_REVIEW_SANDBOX'], os.getcwd())"
        )
        reply = await kc.execute_interactive(
            code, timeout=30, output_hook=lambda m: out.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        await km.shutdown_kernel()
    assert "".join(out).split() == ["/opt/other", "None", "namespaces", "/home/sandbox/work"]
