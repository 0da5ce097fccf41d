"""The sandbox's plan (cohortlab.sandbox.plan) and the autograde wiring, without namespaces:
what a kernel's environment keeps, which folders are hidden and mounted back, the connection
inside, what of its folder a kernel gets a copy of (and the copy itself, made here without
namespaces), and that nbgrader picks the sandboxed executor from the config CohortLab ships."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
from pathlib import Path

import pytest
from cohortlab.nbgrader.autograde import (
    SandboxedExecute,
    SandboxedKernelManager,
    remove_planted_entries,
    sandboxed_spec,
)
from cohortlab.sandbox import launcher, plan
from cohortlab.sandbox.namespaces import (
    BPF_JEQ_K,
    BPF_RET_K,
    SECCOMP_RET_ALLOW,
    CopyRefused,
    copy_folder,
    link_filter,
)
from cohortlab.sandbox.provisioner import MAX_SOCKET_PATH, NAME, private_socket_folder
from jupyter_client.kernelspec import KernelSpec
from nbgrader.apps import NbGrader
from nbgrader.apps.api import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
from traitlets.utils.importstring import import_item

REPO = Path(__file__).resolve().parents[2]


def test_a_kernelspecs_own_variables_are_kept_but_never_a_credential() -> None:
    env = {"PATH": "/usr/bin", "R_HOME": "/usr/lib/R", "R_API_KEY": "k", "JUPYTERHUB_USER": "ada"}
    assert plan.scrub_environment(env, keep=["R_HOME", "R_API_KEY"]) == {
        "PATH": "/usr/bin",
        "R_HOME": "/usr/lib/R",
    }


def test_hidden_folders_are_the_outermost_that_exist() -> None:
    env = {"JUPYTER_RUNTIME_DIR": "/home/ada/.local/share/jupyter/runtime", "IPYTHONDIR": "/srv/ip"}
    existing = {"/home", "/home/ada", "/tmp", "/run", "/srv/ip", "/home/ada/.local/share/jupyter"}
    hidden = plan.hidden_dirs("/home/ada", env, exists=lambda d: d in existing)
    assert hidden == ["/home", "/run", "/tmp", "/srv/ip"]
    # a home elsewhere is hidden on its own
    assert "/srv/homes/ada" in plan.hidden_dirs("/srv/homes/ada", {}, exists=lambda d: True)


def test_what_a_hidden_folder_covers_of_the_interpreter_is_mounted_back() -> None:
    paths = ["/usr/lib/python3.11", "/tmp/clone/.venv", "/tmp/clone/.venv/lib/site", "/tmp/x"]
    assert plan.mounted_back(paths, ["/tmp", "/home"]) == ["/tmp/x", "/tmp/clone/.venv"]


def test_the_kernels_own_folder_is_never_mounted_back_at_its_real_path(tmp_path: Path) -> None:
    """``python -m`` puts the working folder first on sys.path: mounted back, it would show
    the review copy's real path (and the reviewer's home)."""
    sys.path.insert(0, str(tmp_path))
    try:
        assert str(tmp_path) not in plan.interpreter_paths(workdir=str(tmp_path))
        assert str(tmp_path) in plan.interpreter_paths(workdir="/nonexistent")
    finally:
        sys.path.remove(str(tmp_path))


def test_the_environment_inside_names_no_one_and_no_hidden_folder() -> None:
    env = {
        "PATH": "/home/ada/.local/bin:/home/ada/venv/bin:/usr/bin",
        "HOME": "/home/ada",
        "USER": "ada",
        "LOGNAME": "ada",
        "VIRTUAL_ENV": "/home/ada/venv",
        "JUPYTER_PATH": "/home/ada/.local/share/jupyter",
    }
    out = plan.neutral_environment(env, hidden=["/home"], visible=["/home/ada/venv"])
    assert out == {
        "PATH": "/home/ada/venv/bin:/usr/bin",
        "HOME": "/home/sandbox",
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "VIRTUAL_ENV": "/home/ada/venv",
    }


def test_the_connection_inside_uses_ipc_at_the_neutral_folder() -> None:
    outer = {"transport": "ipc", "ip": "/tmp/clk-abc/k", "shell_port": 1, "key": "s"}
    assert plan.inner_connection(outer) == {**outer, "ip": "/run/kernel/k"}
    assert plan.ipc_folder(outer) == "/tmp/clk-abc"
    with pytest.raises(ValueError, match="ipc"):
        plan.inner_connection({"transport": "tcp", "ip": "127.0.0.1"})
    with pytest.raises(ValueError):
        plan.ipc_folder({"transport": "ipc", "ip": "relative/k"})


def test_the_kernel_command_names_the_connection_file_inside() -> None:
    outer = "/home/ada/.local/share/jupyter/runtime/kernel-1.json"
    argv = ["R", "--slave", "-e", "IRkernel::main()", "--args", outer, f"--cf={outer}"]
    assert plan.inner_argv(argv, outer)[-2:] == [
        plan.CONNECTION_FILE,
        f"--cf={plan.CONNECTION_FILE}",
    ]


def test_the_sandboxs_own_etc_files_name_only_the_sandbox() -> None:
    files = plan.etc_files()
    assert "sandbox:x:1000:1000:sandbox:/home/sandbox:" in files["passwd"]
    assert files["hostname"] == "sandbox\n"
    assert "sandbox" in files["hosts"] and os.uname().nodename not in files["hosts"]


def test_the_copy_limit_comes_from_the_environment_in_whole_mib() -> None:
    assert plan.work_limits({}) == plan.WorkLimits(copy_bytes=256 * plan.MIB)
    assert plan.work_limits({plan.COPY_LIMIT_VAR: " 12 "}) == plan.WorkLimits(12 * plan.MIB)
    # no scratch room to set any more: a ramfs has no size to give it
    assert plan.work_limits({"CL_SANDBOX_SCRATCH_MB": "3"}) == plan.WorkLimits()
    for bad in ("1.5", "-1", "lots", "1e3"):
        with pytest.raises(ValueError, match=plan.COPY_LIMIT_VAR):
            plan.work_limits({plan.COPY_LIMIT_VAR: bad})


def test_only_folders_and_regular_files_are_copied_with_plain_modes() -> None:
    assert plan.copied_mode(stat.S_IFDIR | 0o700) == 0o755
    assert plan.copied_mode(stat.S_IFREG | 0o600) == 0o644
    assert plan.copied_mode(stat.S_IFREG | 0o4711) == 0o755  # run by its owner, never setuid
    assert plan.copied_mode(stat.S_IFREG | 0o7666) == 0o644
    for kind in (stat.S_IFLNK, stat.S_IFIFO, stat.S_IFSOCK, stat.S_IFCHR, stat.S_IFBLK):
        assert plan.copied_mode(kind | 0o777) is None


def test_a_folder_beyond_the_limits_is_refused_in_one_line() -> None:
    limits = plan.WorkLimits(copy_bytes=10 * plan.MIB, max_entries=5, max_depth=3)
    assert plan.copy_refusal(size=10 * plan.MIB, entries=5, depth=3, limits=limits) is None
    too_big = plan.copy_refusal(size=10 * plan.MIB + 1, entries=1, depth=1, limits=limits)
    assert too_big and "10 MiB" in too_big and plan.COPY_LIMIT_VAR in too_big
    assert "entries" in (plan.copy_refusal(size=0, entries=6, depth=1, limits=limits) or "")
    assert "deep" in (plan.copy_refusal(size=0, entries=1, depth=4, limits=limits) or "")
    assert "\n" not in too_big


def test_the_sandboxs_own_folders_are_ramfs_whose_mount_line_names_no_one() -> None:
    """Not tmpfs, whose line in the mount table shows the real ``uid=`` and ``gid=``; ramfs
    prints neither, nor its default mode 0755, and its source is the sandbox's name."""
    assert (plan.PRIVATE_FS, plan.PRIVATE_SOURCE) == ("ramfs", "sandbox")
    assert plan.PRIVATE_OPTIONS == b"mode=0755"


def _copied(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        kind = "dir" if stat.S_ISDIR(info.st_mode) else "file" if path.is_file() else "other"
        out[str(path.relative_to(folder))] = f"{kind} {oct(stat.S_IMODE(info.st_mode))}"
    return out


def test_the_copy_has_folders_and_files_and_follows_no_link(tmp_path: Path) -> None:
    """What the sandbox's PID 1 does (there, as the sandbox's user, into its ramfs), here
    between two ordinary folders: links to a file, to a folder and dangling, a FIFO and a
    socket stay behind; no link is followed, so nothing outside the folder is read."""
    outside = tmp_path / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "secret.txt").write_text("secret")
    folder = tmp_path / "folder"
    (folder / "data" / "deep").mkdir(parents=True)
    (folder / "hw.ipynb").write_text("{}")
    (folder / "run.sh").write_text("#!/bin/sh\n")
    (folder / "run.sh").chmod(0o700)
    (folder / "data" / "deep" / "table.csv").write_text("a,b")
    (folder / "data" / "deep").chmod(0o500)
    (folder / "notes.txt").symlink_to(outside / "secret.txt")
    (folder / "data" / "up").symlink_to(outside, target_is_directory=True)
    (folder / "dangling").symlink_to("/nonexistent")
    os.mkfifo(folder / "pipe")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(folder / "sock"))
    copy = tmp_path / "copy"
    copy.mkdir()
    source = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    target = os.open(copy, os.O_RDONLY | os.O_DIRECTORY)
    try:
        copy_folder(source, target, plan.WorkLimits())
    finally:
        os.close(source)
        os.close(target)
        listening.close()
    assert _copied(copy) == {
        "data": "dir 0o755",
        "data/deep": "dir 0o755",
        "data/deep/table.csv": "file 0o644",
        "hw.ipynb": "file 0o644",
        "run.sh": "file 0o755",
    }
    assert (copy / "data" / "deep" / "table.csv").read_text() == "a,b"
    assert (copy / "hw.ipynb").stat().st_mtime == (folder / "hw.ipynb").stat().st_mtime
    assert not [p for p in copy.rglob("*") if p.is_file() and "secret" in p.read_text()]


@pytest.mark.parametrize(
    ("limits", "why"),
    [
        (plan.WorkLimits(copy_bytes=plan.MIB), "1 MiB"),
        (plan.WorkLimits(max_entries=3), "entries"),
        (plan.WorkLimits(max_depth=2), "deep"),
    ],
)
def test_a_folder_beyond_the_limits_is_not_copied(
    tmp_path: Path, limits: plan.WorkLimits, why: str
) -> None:
    folder = tmp_path / "folder"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "big.bin").write_bytes(b"x" * (plan.MIB + 1))
    (folder / "c.txt").write_text("c")
    copy = tmp_path / "copy"
    copy.mkdir()
    source = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    target = os.open(copy, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(CopyRefused, match=why):
            copy_folder(source, target, limits)
    finally:
        os.close(source)
        os.close(target)


def test_the_socket_folder_is_private_and_short() -> None:
    folder = private_socket_folder()
    try:
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert len(os.path.join(folder, "k-10")) < MAX_SOCKET_PATH
    finally:
        os.rmdir(folder)


def test_any_kernelspec_is_started_by_the_sandbox_provisioner() -> None:
    spec = KernelSpec(argv=["julia", "{connection_file}"], language="julia", metadata={"x": 1})
    assert sandboxed_spec(spec).metadata == {
        "x": 1,
        "kernel_provisioner": {"provisioner_name": NAME},
    }
    other = KernelSpec(argv=["x"], metadata={"kernel_provisioner": {"provisioner_name": "remote"}})
    assert sandboxed_spec(other).metadata["kernel_provisioner"] == {"provisioner_name": NAME}
    review = {"provisioner_name": NAME, "config": {"wrap": False}}
    spec = KernelSpec(argv=["x"], metadata={"kernel_provisioner": review})
    assert sandboxed_spec(spec).metadata["kernel_provisioner"] == review
    assert SandboxedExecute().kernel_manager_class is SandboxedKernelManager


def test_the_shipped_nbgrader_config_is_nbgraders_autograde_with_the_sandboxed_executor() -> None:
    shipped = json.loads((REPO / "jupyter-config" / "nbgrader_config.json").read_text())
    resolved = [import_item(n) for n in shipped["Autograde"]["autograde_preprocessors"]]
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    assert Execute in default
    assert resolved == [SandboxedExecute if cls is Execute else cls for cls in default]


def test_nbgrader_run_from_this_environment_reads_it(tmp_path: Path, monkeypatch) -> None:
    """nbgrader's commands and the formgrader load nbgrader config from ``jupyter --paths``,
    where the package installs it (``<prefix>/etc/jupyter``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "none"))
    app = NbGrader()
    app.load_config_file()
    assert app.config.Autograde.autograde_preprocessors[0] == (
        "cohortlab.nbgrader.autograde.SandboxedExecute"
    )
    assert Path(sys.prefix, "etc", "jupyter", "nbgrader_config.json").is_file()


def test_the_formgrader_autogrades_with_it_too(tmp_path: Path, monkeypatch) -> None:
    """The formgrader runs autograde in the instructor's server: its handlers reload the
    extension's nbgrader config and build ``Autograde`` under an ``NbGraderAPI`` (nbgrader's
    ``formgrader/base.py`` and ``apps/api.py``), which is what this does."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "none"))
    extension = FormgradeExtension()
    extension.load_config_file()
    api = NbGraderAPI(parent=extension)
    autograde = Autograde(coursedir=api.coursedir, parent=api)
    assert autograde.autograde_preprocessors[0] == "cohortlab.nbgrader.autograde.SandboxedExecute"


def test_what_a_submission_leaves_for_nbgrader_to_follow_is_removed(tmp_path: Path) -> None:
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    folder = tmp_path / "autograded"
    (folder / "data").mkdir(parents=True)
    (folder / "hw1.ipynb").write_text("{}")
    (folder / "data" / "table.csv").write_text("a,b")
    (folder / "key").symlink_to(secret)
    (folder / "data" / "up").symlink_to(tmp_path, target_is_directory=True)
    (folder / "dangling").symlink_to("/home/instructor/.ssh/id_rsa")
    os.mkfifo(folder / "pipe")
    removed = remove_planted_entries(str(folder), logging.getLogger("test"))
    assert sorted(Path(p).name for p in removed) == ["dangling", "key", "pipe", "up"]
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert left == ["data", "data/table.csv", "hw1.ipynb"]
    assert secret.read_text() == "grades"


def test_the_kernel_may_make_no_link_or_special_file_on_known_machines() -> None:
    """The seccomp program: other ABIs refused, then symlink(at) and mknod(at) refused with
    EPERM, everything else allowed."""
    prog = link_filter("x86_64")
    assert prog is not None
    refused = {k for code, _jt, _jf, k in prog if code == BPF_JEQ_K} - {0xC000003E}
    assert refused == {88, 266, 133, 259}
    assert prog[-1] == (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)
    assert link_filter("aarch64") is not None and link_filter("riscv64") is None


def test_without_namespaces_no_wrapped_kernel_starts(monkeypatch, capsys) -> None:
    """Autograding kernels fail closed where the sandbox cannot be built: the wrapped command
    is never run."""
    monkeypatch.setattr(launcher, "probe", lambda: False)
    ran: list[str] = []
    monkeypatch.setattr(launcher, "run", lambda *a, **k: ran.append("run") or 0)
    assert launcher.main(["-f", "kernel.json", "--", "python", "-m", "ipykernel"]) == 3
    assert ran == [] and "does not start" in capsys.readouterr().err


def test_this_host_builds_the_whole_sandbox() -> None:
    """The probe builds it all (namespaces, mounts, read-only remount, seccomp) for an empty
    folder; the suite's kernels rely on it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux namespaces")
    assert launcher.probe()
