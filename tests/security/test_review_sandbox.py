"""A peer's submission attacks its reviewer from the review kernel (issue 13, item 4).

ben hands in a notebook whose code cell tries every way to learn who reviews it and to act
in their name: the environment (the hub token), ``/proc`` of the reviewer's other processes,
the uid (and ``/proc/self/uid_map``), the user name, home, working folder and host name, the
mount table (``/proc/self/mountinfo``, ``/proc/self/mounts``, ``/proc/self/mountstats``: a
bind mount of the copy's folder showed ``/home/ada/peer-review/...`` there, and a tmpfs shows
its owner's real ``uid=`` and ``gid=``), a connection to the hub and the service, a note in
a world-writable folder, and a submission filed in the shared nbgrader exchange in the
reviewer's name. The round is opened through the real service; ada, reviewing, gets the
anonymous copy written into her server, as the Peer review panel does, and runs the copy's
cells in the review kernel, as JupyterLab does.

Nothing it tries may succeed, and the review kernel still works: the cell runs and writes its
report in its folder, which is a private copy of the copy's folder: nothing it writes there
reaches ada's folder, and what ada had there that is no file or folder (links, a FIFO) is not
in the copy. The control runs the same cell in ada's ordinary kernel, where each attack does
succeed, so each check is known to bite.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cohortlab.reviews.anonymize import Author, anonymize_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.helpers.hub import Hub
from tests.helpers.kernel import run_in_kernel
from tests.helpers.nbgrader import COURSE, home
from tests.helpers.peer_review import LEARNERS, RUBRIC, api, my_numbers
from tests.security.sandbox_attack import (
    SharedFolders,
    assert_mounts_name_no_one,
    assert_sandboxed,
    attack_code,
    hub_targets,
    shared_folders,
)

ADA = "ada"


@pytest.fixture(scope="module")
def cl_shared_folders() -> Iterator[SharedFolders]:
    with shared_folders() as folders:
        yield folders


def _cell(hub: Hub, folders: SharedFolders, mark: str) -> str:
    return attack_code(
        mark,
        targets=hub_targets(hub),
        writes=[str(folders.shared / f"{mark}.txt"), str(home(ADA) / f"{mark}.txt")],
        folders=[str(folders.inbound / f"{ADA}+hw1+2026-12-07 12:00:00.000000 UTC+{mark}")],
        # the copy itself as a link to the reviewer's .bashrc (relative: no name needed),
        # which her server would write through when JupyterLab saves the notebook
        links=[("hw.ipynb", "../../../.bashrc"), ("pipe", None)],
        own=["hw.ipynb"],
    )


def _open_hostile_round(hub: Hub, cell: str) -> str:
    """A round whose every submission carries the hostile cell (as ``open_round`` does)."""
    assignment = f"hw-{uuid.uuid4().hex[:8]}"
    body = {"authors": LEARNERS, "criteria": RUBRIC, "k": 2}
    upload = api(hub, "instructor", "POST", f"/{assignment}/uploads", body)["upload"]
    for author in upload["to_upload"]:
        nb = new_notebook(
            cells=[
                new_markdown_cell("# Homework 1"),
                new_code_cell(cell),
                new_markdown_cell(
                    "The median resists outliers.",
                    metadata={"nbgrader": {"grade": True, "grade_id": "essay", "points": 2}},
                ),
                new_markdown_cell("End."),
            ],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        )
        content = anonymize_notebook(nb, Author(author), secret=upload["copy_key"])
        cells = [{"status": s} for s in ("unchanged", "changed", "changed", "unchanged")]
        copy = {"notebooks": [{"name": "hw.ipynb", "content": content, "cells": cells}]}
        path = f"/{assignment}/uploads/{upload['id']}/submissions/{author}"
        api(hub, "instructor", "PUT", path, copy)
    api(hub, "instructor", "POST", f"/{assignment}/uploads/{upload['id']}/commit")
    return assignment


def _host_effects(folders: SharedFolders, mark: str) -> list[str]:
    """What the cell left outside its own folder, seen from the host."""
    folders_ = (folders.shared, folders.inbound)
    left = [str(p) for folder in folders_ for p in folder.iterdir() if mark in p.name]
    planted = home(ADA) / f"{mark}.txt"
    return [*left, *([str(planted)] if planted.exists() else [])]


def _place_in_folder(folder: Path, secret: Path) -> None:
    """What ada has in the copy's folder before the kernel starts, besides the notebook: a
    folder with a data file (copied), links to a file of hers, to her home and dangling, and
    a FIFO (none copied, none followed)."""
    entry = pwd.getpwnam(ADA)
    (folder / "data").mkdir()
    (folder / "data" / "values.csv").write_text("1,2,3\n")
    (folder / "notes.txt").symlink_to(secret)
    (folder / "data" / "home").symlink_to(home(ADA), target_is_directory=True)
    (folder / "dangling").symlink_to("/nonexistent")
    os.mkfifo(folder / "pipe-in")
    for path in (folder / "data", *folder.glob("*"), *(folder / "data").glob("*")):
        os.lchown(path, entry.pw_uid, entry.pw_gid)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _clean(folders: SharedFolders, mark: str) -> None:
    for path in _host_effects(folders, mark):
        p = Path(path)
        shutil.rmtree(p) if p.is_dir() else p.unlink()


async def test_a_peers_code_learns_nothing_of_its_reviewer_and_sends_nothing_out(
    cl_hub: Hub, cl_shared_folders: SharedFolders
) -> None:
    cl_hub.start_server(ADA)
    token = cl_hub.token_for(ADA)
    mark = f"clsec{uuid.uuid4().hex[:10]}"
    assignment = _open_hostile_round(cl_hub, _cell(cl_hub, cl_shared_folders, mark))
    number = my_numbers(cl_hub, ADA, assignment)[0]
    resp = cl_hub.api(
        "POST",
        f"/user/{ADA}/cohortlab/reviews/copies",
        token,
        json={"course": COURSE, "assignment": assignment, "submission": number},
    )
    assert resp.status_code == 200, resp.text
    copy = resp.json()
    model = cl_hub.api("GET", f"/user/{ADA}/api/contents/{copy['paths'][0]}", token).json()
    cells = [c["source"] for c in model["content"]["cells"] if c["cell_type"] == "code"]
    assert model["content"]["metadata"]["kernelspec"]["name"] == "cohortlab-review"

    # the control: in her ordinary kernel (in a folder of hers), the same cell reaches
    # everything
    scratch = home(ADA) / f"cl-sec-{mark}"
    scratch.mkdir()
    os.chown(scratch, pwd.getpwnam(ADA).pw_uid, pwd.getpwnam(ADA).pw_gid)
    try:
        control_out, errors = await run_in_kernel(
            cl_hub.url, ADA, token, cells[0], path=scratch.name
        )
        assert not errors, errors
        control: dict[str, Any] = json.loads(control_out)
        server_token = control["env"]["JUPYTERHUB_API_TOKEN"]
        assert control["user"] == ADA and control["ids"][0] == pwd.getpwnam(ADA).pw_uid
        assert control["connect"]["hub"] == "connected"
        assert control["connect"]["service"] == "connected"
        assert control["writes"][str(cl_shared_folders.shared / f"{mark}.txt")] == "written"
        assert any(mark in p for p in _host_effects(cl_shared_folders, mark))
        assert control["planted"] == dict.fromkeys(("hw.ipynb", "pipe"), "planted")
    finally:
        _clean(cl_shared_folders, mark)
        shutil.rmtree(scratch)

    folder = home(ADA) / copy["folder"]
    notebook = home(ADA) / copy["paths"][0]
    secret = home(ADA) / f"cl-sec-{mark}-secret.txt"
    secret.write_text(f"secret-{mark}")
    try:
        _place_in_folder(folder, secret)
        before = _digest(notebook)
        out, errors = await run_in_kernel(
            cl_hub.url, ADA, token, cells[0], kernel_name="cohortlab-review", path=copy["folder"]
        )
    finally:
        secret.unlink()
        for name in ("notes.txt", "dangling", "pipe-in"):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "data", ignore_errors=True)
    assert not errors, errors
    found = json.loads(out)
    entry = pwd.getpwnam(ADA)
    assert_sandboxed(found, person=ADA, uid=entry.pw_uid, secrets=[server_token])
    assert _host_effects(cl_shared_folders, mark) == []
    # the mount table names neither ada, her uid and gid, her home nor the copy's real folder
    assert_mounts_name_no_one(
        found,
        person=ADA,
        ids=[entry.pw_uid, entry.pw_gid],
        paths=[str(home(ADA)), str(folder)],
    )
    # its folder is a copy: the notebook and ada's data, no link or FIFO, nothing of hers
    # reached through one
    assert found["folder"]["hw.ipynb"] == "file"
    assert found["folder"]["data"] == "dir" and found["folder"]["data/values.csv"] == "file"
    assert not {"notes.txt", "data/home", "dangling", "pipe-in"} & set(found["folder"])
    assert set(found["folder"].values()) <= {"file", "dir"}
    assert f"secret-{mark}" not in out
    # what it writes there (a new file, its notebook changed) never reaches ada's folder
    assert found["own"] == {"hw.ipynb": "written"}
    assert not (folder / "attack.json").exists()
    assert _digest(notebook) == before
    assert found["planted"] == dict.fromkeys(("hw.ipynb", "pipe"), "Operation not permitted")
    assert notebook.is_file() and not notebook.is_symlink()
    assert found["writes"][str(home(ADA) / f"{mark}.txt")] in (
        "No such file or directory",
        "Read-only file system",
    )
