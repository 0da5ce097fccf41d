"""Running nbgrader as the demo course's people: each as their own system user, in a clean
environment, the way they would in their JupyterLab terminal."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.hub import REPO

VENV = Path(sys.prefix)
COURSE = "demo101"
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


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
