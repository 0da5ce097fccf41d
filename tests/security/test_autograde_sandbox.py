"""A learner's submission attacks the instructor who autogrades it (issue 13, item 5).

ada hands in hw1 with correct answers and, in a code cell of her own, code that tries to act
as whoever runs it: read the hub token from its environment and the environment of the
process that runs it (``/proc``), learn who that is, reach the hub and the service, rewrite
``gradebook.db``, the course's config and its source notebook, change her own submitted copy,
leave a note in a world-writable folder and file a submission in another learner's name, and
read the mount table (a bind mount of the autograded folder showed the instructor's home
there). The instructor runs ``nbgrader autograde`` at their JupyterLab terminal (their hub
token in the environment, as the terminal has it), with nothing configured but what
CohortLab ships.

Nothing the code tries may succeed, what it writes in its folder (a copy of the autograded
folder) never reaches the autograded folder, and her grade is recorded as for any
submission: nbgrader, outside the kernel, still writes the executed notebook (whose output
holds the code's report) and the gradebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.helpers.hub import Hub
from tests.helpers.nbgrader import (
    ASSIGNMENT,
    COURSE,
    NbgraderCourse,
    copy_assignment,
    course_exchange,
    home,
    instructor_terminal,
    private_course,
)
from tests.security.sandbox_attack import (
    SharedFolders,
    assert_mounts_name_no_one,
    assert_sandboxed,
    attack_code,
    hub_targets,
    report_in_notebook,
    shared_folders,
)

ADA = "ada"
SOLUTIONS = {
    "mean": "def mean(values):\n    return sum(values) / len(values)",
    "unusual_days": (
        "def unusual_days(values, labels, threshold=1.5):\n"
        "    centre = mean(values)\n"
        "    spread = math.sqrt(sum((v - centre) ** 2 for v in values) / len(values))\n"
        "    if spread == 0:\n"
        "        return []\n"
        "    return [l for v, l in zip(values, labels) if abs(v - centre) / spread > threshold]"
    ),
}


@pytest.fixture(scope="module")
def cl_shared_folders() -> Iterator[SharedFolders]:
    with shared_folders() as folders:
        yield folders


def _hand_in(course: NbgraderCourse, assignment: str, cell: str) -> None:
    """ada fetches, answers correctly, puts ``cell`` in the notebook's free code cell, and
    submits, with nbgrader's own commands as herself."""
    workdir = home(ADA) / f"cl-sec-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(mode=0o700)
    entry = pwd.getpwnam(ADA)
    os.chown(workdir, entry.pw_uid, entry.pw_gid)
    try:
        course.nbgrader(ADA, workdir, "fetch_assignment", assignment, "--course", COURSE)
        path = workdir / COURSE / assignment / f"{ASSIGNMENT}.ipynb"
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            grade_id = c.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in SOLUTIONS:
                c.source = SOLUTIONS[grade_id]
            elif c.get("id") == "try-it":
                c.source = cell
        nbformat.write(nb, path)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        course.nbgrader(ADA, workdir, "submit", assignment, "--course", COURSE)
    finally:
        for p in sorted(workdir.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        workdir.rmdir()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_autograding_a_hostile_submission_gives_it_nothing_and_records_its_grade(
    cl_hub: Hub, cl_shared_folders: SharedFolders
) -> None:
    mark = f"clsec{uuid.uuid4().hex[:10]}"
    assignment = f"hw-{uuid.uuid4().hex[:8]}"
    terminal = instructor_terminal(cl_hub)
    with private_course("autograde-sandbox") as folder:
        copy_assignment(folder, assignment)
        course = NbgraderCourse(cl_hub, folder, course_exchange(cl_hub, "ag-sbx"), terminal)
        course.release(assignment)
        submitted = folder / "submitted" / ADA / assignment / f"{ASSIGNMENT}.ipynb"
        source = folder / "source" / assignment / f"{ASSIGNMENT}.ipynb"
        cell = attack_code(
            mark,
            targets=hub_targets(cl_hub),
            writes=[
                str(folder / "gradebook.db"),
                str(folder / "nbgrader_config.py"),
                str(source),
                str(submitted),
                str(cl_shared_folders.shared / f"{mark}.txt"),
            ],
            folders=[
                str(cl_shared_folders.inbound / f"ben+{assignment}+2026-12-07 12:00:00 UTC+{mark}"),
            ],
            # for nbgrader, which writes the executed notebook there and chmods every file
            links=[
                (f"{ASSIGNMENT}.ipynb", str(folder / "gradebook.db")),
                ("config", str(folder / "nbgrader_config.py")),
                ("pipe", None),
            ],
            own=[f"{ASSIGNMENT}.ipynb"],
        )
        _hand_in(course, assignment, cell)
        course.nbgrader("instructor", folder, "collect", assignment)
        course.add_student(ADA)
        before = {p: _digest(p) for p in (folder / "nbgrader_config.py", source, submitted)}
        config_mode = (folder / "nbgrader_config.py").stat().st_mode

        course.nbgrader("instructor", folder, "autograde", assignment)

        autograded = folder / "autograded" / ADA / assignment
        found = report_in_notebook(autograded / f"{ASSIGNMENT}.ipynb", mark)
        assert found["mark"] == mark  # the code did run, in a copy of the autograded folder
        instructor = pwd.getpwnam("instructor")
        assert_sandboxed(
            found,
            person="instructor",
            uid=instructor.pw_uid,
            secrets=[terminal["JUPYTERHUB_API_TOKEN"]],
        )
        paths = [str(home("instructor")), str(folder), str(autograded)]
        ids = [instructor.pw_uid, instructor.pw_gid]
        assert_mounts_name_no_one(found, person="instructor", ids=ids, paths=paths)
        # it had the notebook nbgrader put there, and wrote its copy and a new file: neither
        # reached the autograded folder
        assert found["folder"][f"{ASSIGNMENT}.ipynb"] == "file"
        assert found["own"] == {f"{ASSIGNMENT}.ipynb": "written"}
        assert not (autograded / "attack.json").exists()
        assert {p: _digest(p) for p in before} == before
        # nothing left for nbgrader to follow: the kernel may make no link or FIFO (and one
        # it made would be removed before nbgrader writes or chmods the folder)
        names = (f"{ASSIGNMENT}.ipynb", "config", "pipe")
        assert found["planted"] == dict.fromkeys(names, "Operation not permitted")
        assert (folder / "nbgrader_config.py").stat().st_mode == config_mode
        left = [
            p for p in autograded.rglob("*") if p.is_symlink() or not (p.is_file() or p.is_dir())
        ]
        assert left == []
        assert nbformat.read(autograded / f"{ASSIGNMENT}.ipynb", as_version=4).cells
        assert mark.encode() not in (folder / "gradebook.db").read_bytes()
        for where in (cl_shared_folders.shared, cl_shared_folders.inbound):
            assert not [p for p in where.iterdir() if mark in p.name]
        # what nbgrader wrote from outside the kernel: her grade, as for anyone
        with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", COURSE) as gb:
            submission = gb.find_submission(assignment, ADA)
            assert submission.score == 5, json.dumps(found["writes"])
            assert submission.max_score == 7
