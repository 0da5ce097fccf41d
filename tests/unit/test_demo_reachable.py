"""A clone the demo people's accounts cannot reach stops ``make demo`` and ``make test`` at once,
with seed.py's one-line reason (hub_config/reachable.py), before anything slow."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.nbgrader import seed_module

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="servers run as other accounts only when the demo runs as root"
)


@pytest.fixture
def cl_home() -> Iterator[Path]:
    """A private home (0700, as useradd makes them) holding a clone with its venv. Not under
    pytest's tmp_path: pytest's own folder is 0700 too, so nothing in it is reachable."""
    home = Path(tempfile.mkdtemp(prefix="cl-home-"))  # 0700
    python = home / "clone" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    python.chmod(0o755)  # as the real one, a link to /usr/bin/python3
    try:
        yield home
    finally:
        shutil.rmtree(home)


def make_reachable(venv: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "reachable", f"VENV={venv}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_clone_in_a_private_home_stops_make_with_one_line(cl_home: Path) -> None:
    venv = cl_home / "clone" / ".venv"
    done = make_reachable(venv)
    assert done.returncode != 0
    (reason,) = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert reason == (
        f"CohortLab: {cl_home} is not searchable by other accounts, so servers running as the "
        f"demo people cannot run {venv}/bin/python. Put the repository under a world-readable "
        "folder (e.g. /opt or /srv) or run `chmod o+x` on that folder."
    )
    assert done.stdout == ""
    # the script itself: exit status 1, and that line alone
    script = ["/usr/bin/python3", "hub_config/reachable.py", str(venv)]
    alone = subprocess.run(script, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (alone.returncode, alone.stderr) == (1, reason + "\n")


def test_a_clone_others_can_reach_passes(cl_home: Path) -> None:
    cl_home.chmod(0o755)
    done = make_reachable(cl_home / "clone" / ".venv")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_demo_and_test_check_it_first_and_seed_uses_the_same_check() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo", "test"):
        prerequisites = re.search(rf"^{target}:(.*)$", makefile, re.M)
        assert prerequisites and prerequisites.group(1).split()[0] == "reachable", target
    seed = seed_module()
    assert seed.check_reachable_by_others.__module__ == "reachable"
