"""Running nbgrader as the demo course's people: each as their own system user, in a clean
environment, the way they would in their JupyterLab terminal."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from tests.helpers.hub import REPO, Hub

VENV = Path(sys.prefix)
COURSE = "demo101"
ASSIGNMENT = "hw1"
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
FULL_NAMES = {
    "ada": ("Ada", "Lovelace"),
    "ben": ("Benedikt", "Okafor"),
    "dee": ("Deirdre", "Ramos"),
    "eli": ("Elias", "Brandt"),
}


def seed_module() -> Any:
    """``hub_config/seed.py`` as a module (its exchange and course helpers)."""
    spec = importlib.util.spec_from_file_location("cl_seed", REPO / "hub_config" / "seed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def home(user: str) -> Path:
    return Path(pwd.getpwnam(user).pw_dir)


def person_env(user: str, **extra: str) -> dict[str, str]:
    """A clean environment for ``user``; nbgrader runs ``alembic`` from PATH for its gradebook."""
    return {
        "HOME": str(home(user)),
        "USER": user,
        "PATH": f"{VENV / 'bin'}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **extra,
    }


@contextmanager
def private_course(tag: str) -> Iterator[Path]:
    """A fresh copy of the demo course folder (its config and the repository's assignment
    sources), owned by the instructor, for one test module; removed after.

    The seeded ``~instructor/demo101`` outlives a test hub (homes are real), and its
    gradebook fills with every run's submissions; a private copy keeps test modules from
    seeing each other's students. The course id stays ``demo101``.
    """
    seeded = home("instructor") / COURSE
    folder = home("instructor") / f"cl-test-{tag}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o700)
    try:
        # the instructor's own config names ~/demo101 as the root; this folder's config,
        # read later (from the cwd), points nbgrader here instead
        config = (seeded / "nbgrader_config.py").read_text()
        (folder / "nbgrader_config.py").write_text(
            f"{config}\nc.CourseDirectory.root = {str(folder)!r}\n"
        )
        shutil.copytree(REPO / "notebooks" / "source", folder / "source")
        entry = pwd.getpwnam("instructor")
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_as(user: str, cwd: Path, command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [RUNUSER, "-u", user, "--", *command],
        cwd=cwd,
        env=person_env(user, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{' '.join(map(str, result.args))} failed:\n{result.stdout}"
    return result.stdout


def instructor_terminal(hub: Hub) -> dict[str, str]:
    """What the instructor's JupyterLab terminal has: their hub token and the service."""
    return {
        "JUPYTERHUB_API_TOKEN": hub.token_for("instructor"),
        "COHORTLAB_SERVICE_URL": f"http://127.0.0.1:{hub.service_port}/services/cohortlab/",
    }


@dataclass
class NbgraderCourse:
    """A private course folder on a real hub, with its own exchange, where people run
    nbgrader's commands as themselves."""

    hub: Hub
    folder: Path
    exchange: Path
    env: dict[str, str]  # the instructor's JupyterLab terminal

    def nbgrader(self, user: str, cwd: Path, *args: str) -> str:
        env = self.env if user == "instructor" else {}
        command = [str(VENV / "bin" / "nbgrader"), *args]
        return ok(run_as(user, cwd, command, COHORTLAB_NBGRADER_EXCHANGE=str(self.exchange), **env))

    def release(self, assignment: str = ASSIGNMENT) -> None:
        self.nbgrader("instructor", self.folder, "generate_assignment", assignment, "--force")
        self.nbgrader("instructor", self.folder, "release_assignment", assignment, "--force")

    def hand_in(
        self,
        learner: str,
        assignment: str = ASSIGNMENT,
        write: Callable[[Any, str], None] | None = None,
    ) -> None:
        """``learner`` fetches the assignment (hw1's notebook), answers with their name and
        home in it (or as ``write(notebook, learner)`` does), and submits."""
        workdir = home(learner) / f"cl-review-{uuid.uuid4().hex[:8]}"
        workdir.mkdir(mode=0o700)
        entry = pwd.getpwnam(learner)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
        try:
            self.nbgrader(learner, workdir, "fetch_assignment", assignment, "--course", COURSE)
            path = workdir / COURSE / assignment / f"{ASSIGNMENT}.ipynb"
            nb = nbformat.read(path, as_version=4)
            first, last = FULL_NAMES.get(learner, (learner, learner))
            for cell in nb.cells if write is None else ():
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id == "mean":
                    cell.source = "def mean(values):\n    return sum(values) / len(values)"
                elif grade_id == "interpretation":
                    cell.source = (
                        f"{first} {last} ({learner}) thinks the median would not move: "
                        f"see /home/{learner}/notes.txt."
                    )
                elif cell.get("id") == "try-it":
                    cell.source = f'print("checked by {learner} in /home/{learner}")'
            if write is not None:
                write(nb, learner)
            nbformat.write(nb, path)
            os.chown(path, entry.pw_uid, entry.pw_gid)
            self.nbgrader(learner, workdir, "submit", assignment, "--course", COURSE)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def add_student(self, learner: str, first: str = "", last: str = "", email: str = "") -> None:
        """``learner`` in the gradebook, with their names from FULL_NAMES unless given."""
        if not first:
            first, last = FULL_NAMES[learner]
        self.nbgrader(
            "instructor",
            self.folder,
            "db",
            "student",
            "add",
            learner,
            f"--first-name={first}",
            f"--last-name={last}",
            f"--email={email or f'{learner}@uni.example'}",
        )


def copy_assignment(folder: Path, name: str) -> None:
    """hw1's source as assignment ``name`` (a round of its own in the session's service,
    whatever other modules do with hw1), without its quiz cells (a quiz is published once,
    from hw1)."""
    source = folder / "source" / name
    source.mkdir()
    nb = nbformat.read(folder / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if "cohortlab-quiz" not in c.metadata.get("tags", [])]
    nbformat.write(nb, source / f"{ASSIGNMENT}.ipynb")
    entry = pwd.getpwnam("instructor")
    for path in (source, source / f"{ASSIGNMENT}.ipynb"):
        os.chown(path, entry.pw_uid, entry.pw_gid)


def course_exchange(hub: Hub, name: str) -> Path:
    """An nbgrader exchange of the test's own inside the hub's state folder."""
    exchange = hub.state / f"nbgrader-exchange-{name}"
    seed_module().ensure_exchange(exchange)
    return exchange


@contextmanager
def collected_course(
    hub: Hub, tag: str, assignment: str, learners: Iterable[str], *, autograde: bool = False
) -> Iterator[NbgraderCourse]:
    """A private course where hw1's notebook, as ``assignment``, was released, handed in by
    ``learners`` with nbgrader's own commands and collected (and autograded if asked), the
    learners in the gradebook; removed after."""
    with private_course(tag) as folder:
        copy_assignment(folder, assignment)
        course = NbgraderCourse(hub, folder, course_exchange(hub, tag), instructor_terminal(hub))
        course.release(assignment)
        for learner in learners:
            course.hand_in(learner, assignment)
        course.nbgrader("instructor", folder, "collect", assignment)
        for learner in learners:
            course.add_student(learner)
        if autograde:
            course.nbgrader("instructor", folder, "autograde", assignment)
        yield course
