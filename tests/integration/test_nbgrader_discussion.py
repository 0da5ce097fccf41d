"""A thread on a cell of one learner's nbgrader copy shows on the same cell of another's.

Real nbgrader commands, each run as its person's system user from where they would run it:
the instructor generates and releases ``hw1`` in the seeded course folder, ada and ben fetch
it into their homes, and they talk about its cells through the service with their own tokens.

The run uses its own exchange inside the hub's state folder (nbgrader's machine-wide config
reads ``COHORTLAB_NBGRADER_EXCHANGE``), so it never touches the demo's ``/srv/nbgrader``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from cohortlab.discussions.anchoring import Anchor, fingerprint, locate, stable_cell_key
from nbformat import NotebookNode

from tests.helpers.hub import REPO, Hub
from tests.helpers.nbgrader import (
    RUNUSER,
    VENV,
    home,
    person_env,
    private_course,
    seed_module,
)

COURSE = "demo101"
ASSIGNMENT = "hw1"
NOTEBOOK_KEY = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
LEARNERS = ("ada", "ben")


def owner(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


@dataclass
class Release:
    exchange: Path
    course: Path
    copies: dict[str, Path]

    def read(self, learner: str) -> NotebookNode:
        return nbformat.read(self.copies[learner], as_version=4)


def nbgrader(
    user: str, cwd: Path, exchange: Path, *args: str, hub: Hub | None = None
) -> subprocess.Popen[str]:
    """Start ``nbgrader <args>`` as ``user`` in ``cwd``, with a clean environment.

    With ``hub``, the run holds ``user``'s hub token and the service's address, as in their
    own JupyterLab terminal: generating hw1 publishes its quiz to the service.
    """
    env = person_env(user, COHORTLAB_NBGRADER_EXCHANGE=str(exchange))
    if hub is not None:
        env["JUPYTERHUB_API_TOKEN"] = hub.token_for(user)
        env["COHORTLAB_SERVICE_URL"] = hub.service_url
    return subprocess.Popen(
        [RUNUSER, "-u", user, "--", str(VENV / "bin" / "nbgrader"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(*procs: subprocess.Popen[str]) -> None:
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{' '.join(map(str, proc.args))} failed:\n{out}"


@pytest.fixture(scope="module")
def cl_release(cl_hub: Hub) -> Iterator[Release]:
    """hw1 generated and released by the instructor, fetched by ada and ben."""
    exchange = cl_hub.state / "nbgrader-exchange"
    seed_module().ensure_exchange(exchange)
    workdirs = {name: home(name) / f"cl-test-{uuid.uuid4().hex[:8]}" for name in LEARNERS}
    with private_course("discussion") as course:
        try:
            finish(
                nbgrader(
                    "instructor",
                    course,
                    exchange,
                    "generate_assignment",
                    ASSIGNMENT,
                    "--force",
                    hub=cl_hub,
                )
            )
            finish(
                nbgrader(
                    "instructor", course, exchange, "release_assignment", ASSIGNMENT, "--force"
                )
            )
            for name, workdir in workdirs.items():
                workdir.mkdir(mode=0o700)
                entry = pwd.getpwnam(name)
                os.chown(workdir, entry.pw_uid, entry.pw_gid)
            finish(
                *(
                    nbgrader(
                        name, workdir, exchange, "fetch_assignment", ASSIGNMENT, "--course", COURSE
                    )
                    for name, workdir in workdirs.items()
                )
            )
            yield Release(
                exchange,
                course,
                {
                    name: workdir / COURSE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
                    for name, workdir in workdirs.items()
                },
            )
        finally:
            # The exchange goes with the state folder; the rest is in real homes.
            for workdir in workdirs.values():
                shutil.rmtree(workdir, ignore_errors=True)


def open_thread(hub: Hub, user: str, **fields: Any) -> dict[str, Any]:
    resp = hub.api(
        "POST",
        f"/services/cohortlab/api/v1/courses/{COURSE}/threads",
        hub.token_for(user),
        json=fields,
    )
    assert resp.status_code == 201, f"{user}: {resp.status_code} {resp.text}"
    return resp.json()


def list_threads(hub: Hub, user: str, notebook_key: str, cell_key: str) -> list[dict[str, Any]]:
    resp = hub.api(
        "GET",
        f"/services/cohortlab/api/v1/courses/{COURSE}/threads",
        hub.token_for(user),
        params={"notebook_key": notebook_key, "cell_key": cell_key},
    )
    assert resp.status_code == 200, f"{user}: {resp.status_code} {resp.text}"
    return resp.json()["threads"]


def cell_index(nb: NotebookNode, *, cell_type: str, graded: bool) -> int:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == cell_type and bool(cell.metadata.get("nbgrader")) == graded:
            return index
    raise AssertionError(f"hw1 has no {'graded' if graded else 'ungraded'} {cell_type} cell")


def test_seed_prepared_the_nbgrader_course(cl_hub: Hub) -> None:
    exchange = Path(os.environ.get("COHORTLAB_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange"))
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    machine_config = VENV / "etc" / "jupyter" / "nbgrader_config.py"
    assert machine_config.read_text() == (REPO / "hub_config" / "nbgrader_config.py").read_text()
    course = home("instructor") / COURSE
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert {owner(course), owner(source), owner(course / "nbgrader_config.py")} == {"instructor"}
    assert f"course_id = {COURSE!r}" in (course / "nbgrader_config.py").read_text()


def test_released_copies_carry_the_course_and_notebook_key(cl_release: Release) -> None:
    for learner in LEARNERS:
        path = cl_release.copies[learner]
        assert path.is_relative_to(home(learner)) and owner(path) == learner
        nb = cl_release.read(learner)
        assert nb.metadata.cohortlab == {"notebook_key": NOTEBOOK_KEY, "course": COURSE}
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader")
            if grading:  # nbgrader's own processing is intact: checksums, no stamp
                assert grading["checksum"] and "cohortlab" not in cell.metadata
            else:
                assert cell.metadata.cohortlab.cell_key
        assert "### BEGIN SOLUTION" not in "".join(cell.source for cell in nb.cells)


def test_both_copies_key_every_cell_alike(cl_release: Release) -> None:
    ada, ben = cl_release.read("ada"), cl_release.read("ben")
    assert [stable_cell_key(cell) for cell in ada.cells] == [
        stable_cell_key(cell) for cell in ben.cells
    ]
    assert all(stable_cell_key(cell) for cell in ada.cells)


@pytest.mark.parametrize(
    ("cell_type", "graded"),
    [("markdown", False), ("code", False), ("code", True), ("markdown", True)],
)
def test_a_thread_on_adas_copy_shows_on_bens(
    cl_hub: Hub, cl_release: Release, cell_type: str, graded: bool
) -> None:
    ada_nb, ben_nb = cl_release.read("ada"), cl_release.read("ben")
    index = cell_index(ada_nb, cell_type=cell_type, graded=graded)
    anchor = fingerprint(ada_nb.cells, index)
    thread = open_thread(
        cl_hub,
        "ada",
        body=f"Stuck on this {cell_type} cell",
        notebook_key=ada_nb.metadata.cohortlab.notebook_key,
        cell_key=stable_cell_key(ada_nb.cells[index]),
        anchor=anchor.to_json(),
    )
    ben_key = stable_cell_key(ben_nb.cells[index])
    listed = list_threads(cl_hub, "ben", ben_nb.metadata.cohortlab.notebook_key, ben_key)
    assert thread["id"] in [t["id"] for t in listed]
    seen = next(t for t in listed if t["id"] == thread["id"])
    assert seen["author"] == "ada"
    location = locate(Anchor.from_json(seen["anchor"]), ben_nb.cells)
    assert (location.status, location.index) == ("exact", index)


def test_keys_survive_the_lab_giving_cells_fresh_ids(cl_hub: Hub, cl_release: Release) -> None:
    ada_nb, ben_nb = cl_release.read("ada"), cl_release.read("ben")
    keys = [stable_cell_key(cell) for cell in ben_nb.cells]
    for cell in ben_nb.cells:  # what JupyterLab may do to a copy it opens
        cell.id = uuid.uuid4().hex
    nbformat.validate(ben_nb)
    assert [stable_cell_key(cell) for cell in ben_nb.cells] == keys
    index = cell_index(ada_nb, cell_type="code", graded=False)
    assert stable_cell_key(ben_nb.cells[index]) != ben_nb.cells[index].id
    thread = open_thread(
        cl_hub,
        "ada",
        body="Why print here?",
        notebook_key=NOTEBOOK_KEY,
        cell_key=stable_cell_key(ada_nb.cells[index]),
        anchor=fingerprint(ada_nb.cells, index).to_json(),
    )
    listed = list_threads(cl_hub, "ben", NOTEBOOK_KEY, stable_cell_key(ben_nb.cells[index]))
    assert thread["id"] in [t["id"] for t in listed]
