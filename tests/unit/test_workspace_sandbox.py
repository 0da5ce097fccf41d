"""The sandbox of members' code in a workspace (``workspace_server.sandbox``), run for real as
an unprivileged user: what the code inside sees of the server's process and state."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cohortlab.workspace_server.sandbox import covered_dirs, launcher, parse, sandbox_env

from tests.helpers.waiting import wait_until

NOBODY = "nobody"
RUNUSER = shutil.which("runuser")
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or RUNUSER is None, reason="runs the launcher as another user"
)

INSIDE = """
import json, os
state = os.environ["COHORTLAB_WORKSPACE_STATE"]
print(json.dumps({
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "state": sorted(os.listdir(state)),
    "runtime": sorted(os.listdir(os.path.join(state, "runtime"))),
    "kept": open(os.path.join(state, "runtime", "kernel-1.json")).read(),
    "env": {k: os.environ.get(k) for k in ("JUPYTERHUB_API_TOKEN", "PYTHONNOUSERSITE",
                                          "IPYTHONDIR", "COHORTLAB_WORKSPACE_SANDBOX")},
    "server": os.path.exists(f"/proc/{os.environ['SERVER_PID']}"),
}))
"""


@pytest.fixture
def state() -> Iterator[Path]:
    """A state folder of nobody's (pytest's own folders are root's alone)."""
    top = Path(tempfile.mkdtemp(prefix="cl-sandbox-"))
    state = top / "state"
    (state / "runtime").mkdir(parents=True)
    (state / "runtime" / "jpserver-1.json").write_text('{"token": "secret"}')
    (state / "runtime" / "kernel-1.json").write_text('{"key": "k"}')
    (state / "lab").mkdir()
    entry = pwd.getpwnam(NOBODY)
    for path in [top, state, *state.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    try:
        yield state
    finally:
        shutil.rmtree(top, ignore_errors=True)


def run_as_nobody(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RUNUSER, "-u", NOBODY, "--", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_root
def test_code_inside_sees_no_server_no_state_and_no_token(state: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "COHORTLAB_WORKSPACE_STATE": str(state),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERHUB_API_TOKEN": "secret",
        "SERVER_PID": str(os.getpid()),
    }
    kept = str(state / "runtime" / "kernel-1.json")
    done = run_as_nobody(launcher([sys.executable, "-c", INSIDE], keep=[kept]), env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["pids"] == [1, 2], seen  # the sandbox's init and this program
    assert seen["state"] == ["ipython", "runtime"]  # covered: lab settings and the rest gone
    assert seen["runtime"] == ["kernel-1.json"] and seen["kept"] == '{"key": "k"}'
    assert seen["env"] == {
        "JUPYTERHUB_API_TOKEN": None,
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": str(state / "ipython"),
        "COHORTLAB_WORKSPACE_SANDBOX": "namespaces",
    }
    assert seen["server"] is False
    # outside, the state is as it was
    assert (state / "runtime" / "jpserver-1.json").read_text() == '{"token": "secret"}'
    assert not (state / "ipython").exists()


@needs_root
def test_what_code_inside_starts_ends_with_the_launcher(state: Path) -> None:
    mark = f"{700 + os.getpid() % 97}.{int(time.time()) % 997}"
    script = (
        "import subprocess, time; "
        f"subprocess.Popen(['sleep', '{mark}'], start_new_session=True); time.sleep(600)"
    )
    env = {"PATH": "/usr/bin:/bin", "COHORTLAB_WORKSPACE_STATE": str(state)}
    proc = subprocess.Popen(
        [RUNUSER, "-u", NOBODY, "--", *launcher([sys.executable, "-c", script])], env=env
    )

    def sleeping() -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == f"sleep\0{mark}\0".encode():
                    found.append(pid)
            except OSError:
                pass
        return found

    try:
        wait_until(lambda: bool(sleeping()), timeout=30, what="the detached process to start")
    finally:
        proc.kill()  # as jupyter_client kills a kernel, or the server's death does
        proc.wait(10)

    def described() -> str:
        out = []
        for pid in sleeping():
            try:
                status = Path(f"/proc/{pid}/status").read_text().splitlines()[:8]
                out.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()!r} {status}")
            except OSError:
                pass
        return "\n".join(out)

    try:
        wait_until(lambda: not sleeping(), timeout=30, what="the detached process to end")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{described()}") from None


def test_the_environment_inside_has_no_credential() -> None:
    env = sandbox_env(
        {
            "PATH": "/bin",
            "JUPYTERHUB_API_TOKEN": "t",
            "JPY_API_TOKEN": "t",
            "JUPYTERHUB_CLIENT_ID": "c",
            "MY_SECRET": "s",
            "COHORTLAB_WORKSPACE_STATE": "/s",
        }
    )
    assert env == {
        "PATH": "/bin",
        "COHORTLAB_WORKSPACE_STATE": "/s",
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": "/s/ipython",
    }


def test_the_command_line_round_trips(tmp_path: Path) -> None:
    argv = launcher(["python", "-m", "ipykernel_launcher", "-f", "/r/k.json"], keep=["/r/k.json"])
    assert parse(argv[3:]) == (
        ["/r/k.json"],
        ["python", "-m", "ipykernel_launcher", "-f", "/r/k.json"],
        None,
    )
    assert parse(launcher(["sh"], parent=7)[3:]) == ([], ["sh"], 7)
    (tmp_path / "runtime").mkdir()
    env = {"COHORTLAB_WORKSPACE_STATE": str(tmp_path), "JUPYTER_RUNTIME_DIR": f"{tmp_path}/runtime"}
    assert covered_dirs(env) == [str(tmp_path), "/dev/shm"]


def test_the_runtime_folder_is_covered_where_no_state_folder_is_set(tmp_path: Path) -> None:
    runtime = tmp_path / "data" / "runtime"
    runtime.mkdir(parents=True)
    assert covered_dirs({"JUPYTER_DATA_DIR": str(tmp_path / "data")}) == [
        str(runtime),
        "/dev/shm",
    ]
