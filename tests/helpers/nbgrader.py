"""Running nbgrader as the demo course's people: each as their own system user, in a clean
environment, the way they would in their JupyterLab terminal."""

from __future__ import annotations

import importlib.util
import pwd
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.helpers.hub import REPO

VENV = Path(sys.prefix)
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
