"""Prepare this machine for the one-machine hub: accounts, folders, database, demo course.

Run as root by ``make demo`` (and by the integration tests with their own state
folder). Idempotent: re-running changes nothing that is already right.

- a system account for the CohortLab service, which alone can read its data folder;
- a system account with a private (0700) home for each demo person;
- the service's database schema (``cohortlab upgrade-db``, run as the service account);
- the demo course notebooks copied into each person's home, owned by them;
- nbgrader: the exchange (world-writable, sticky), the machine-wide nbgrader config
  (``hub_config/nbgrader_config.py`` as ``<venv>/etc/jupyter/nbgrader_config.py``) and the
  course folder in the instructor's home (``~instructor/demo101``: its config and the
  assignment sources from ``notebooks/source/``), as nbgrader's JupyterHub docs lay them out;
- the checkout's copies of the answer keys made private (:func:`hide_checkout_keys`).
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from demo_course import COURSE, DEMO_PEOPLE, INSTRUCTORS  # noqa: E402
from reachable import check_reachable_by_others  # noqa: E402

NOTEBOOKS = REPO / "notebooks"
# The demo course's nbgrader source folder: one folder per assignment.
NBGRADER_SOURCE = NOTEBOOKS / "source"
# nbgrader reads COHORTLAB_NBGRADER_EXCHANGE too (hub_config/nbgrader_config.py).
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_service_account(name: str) -> None:
    if not user_exists(name):
        run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name)


def ensure_person(name: str) -> Path:
    if not user_exists(name):
        run("useradd", "--create-home", "--shell", "/bin/bash", name)
    home = Path(pwd.getpwnam(name).pw_dir)
    home.mkdir(exist_ok=True)
    entry = pwd.getpwnam(name)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o700)  # no one else's kernel may read it
    return home


def copy_notebooks(home: Path, owner: str | None) -> None:
    for src in sorted(NOTEBOOKS.glob("*.ipynb")):
        dest = home / src.name
        if dest.exists():
            continue
        shutil.copyfile(src, dest)
        if owner:
            entry = pwd.getpwnam(owner)
            os.chown(dest, entry.pw_uid, entry.pw_gid)
        os.chmod(dest, 0o600)


def give(path: Path, owner: str | None) -> None:
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def write_if_missing(path: Path, text: str, owner: str | None) -> None:
    """Write a person's config once; later edits are theirs to keep."""
    if not path.exists():
        path.write_text(text)
        give(path, owner)
        os.chmod(path, 0o644)


def ensure_exchange(root: Path) -> None:
    """nbgrader's exchange: world-writable so every account can release and submit, sticky so
    no one can remove another's course folder (each is owned by the course's instructor)."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o1777)


def install_nbgrader_config(venv: Path) -> Path:
    """The machine-wide nbgrader config, where nbgrader run from the venv finds it for
    everyone (``jupyter --paths``); kept equal to hub_config/nbgrader_config.py."""
    dest = venv / "etc" / "jupyter" / "nbgrader_config.py"
    text = (HERE / "nbgrader_config.py").read_text()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.read_text() != text:
        dest.write_text(text)
    os.chmod(dest, 0o644)
    return dest


def ensure_course(home: Path, owner: str | None) -> Path:
    """The course folder in the instructor's home: its nbgrader config and the assignment
    sources (copied once; the instructor edits them from then on), owned by the instructor."""
    course = home / COURSE
    for folder in [course, course / "source"]:
        folder.mkdir(exist_ok=True)
        give(folder, owner)
    write_if_missing(
        course / "nbgrader_config.py",
        "# This course's nbgrader settings. Machine-wide ones (the exchange, CohortLab's\n"
        "# preprocessor) are in <venv>/etc/jupyter/nbgrader_config.py.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n",
        owner,
    )
    # So that nbgrader run anywhere, and the formgrader in the instructor's JupyterLab
    # (started in their home), find the course, as nbgrader's JupyterHub docs do it.
    jupyter_dir = home / ".jupyter"
    jupyter_dir.mkdir(exist_ok=True)
    give(jupyter_dir, owner)
    write_if_missing(
        jupyter_dir / "nbgrader_config.py",
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(course)!r}\n",
        owner,
    )
    for assignment in sorted(p for p in NBGRADER_SOURCE.iterdir() if p.is_dir()):
        dest_dir = course / "source" / assignment.name
        dest_dir.mkdir(exist_ok=True)
        give(dest_dir, owner)
        for src in sorted(p for p in assignment.iterdir() if p.is_file()):
            dest = dest_dir / src.name
            if not dest.exists():
                shutil.copyfile(src, dest)
                give(dest, owner)
                os.chmod(dest, 0o644)
    return course


def make_private(path: Path, *, recursive: bool = True) -> None:
    """Take every permission of group and others away from ``path`` (and, ``recursive``,
    from everything in it); the owner keeps theirs, so their checkout works as before."""
    if not path.exists() or path.is_symlink():
        return
    for item in [path, *(path.rglob("*") if recursive else ())]:
        if not item.is_symlink():
            os.chmod(item, stat.S_IMODE(item.lstat().st_mode) & ~0o077)


def hide_checkout_keys() -> None:
    """No learner's account may read an answer key in the repository's checkout.

    The checkout must stay readable by every account (their servers run its ``.venv``), but
    ``notebooks/source`` holds the demo's assignment sources, whose quiz cells are the key,
    and ``.git`` holds every version of them. The instructor works on their own copy
    (``~instructor/demo101/source``, in a private home), so both become private here:
    the owner of the checkout (and root, who runs the tests) keep their access. The key
    is written nowhere else in the repository: its documentation and tests use other
    quizzes or read the demo's from ``notebooks/source`` at run time.
    """
    make_private(NBGRADER_SOURCE)
    git = REPO / ".git"
    if git.is_file():  # a worktree: "gitdir: <path>"
        git = REPO / git.read_text().split(":", 1)[1].strip()
    make_private(git, recursive=False)  # nothing below a folder others cannot enter


def setup_nbgrader(venv: Path, instructor_home: Path, owner: str | None) -> None:
    exchange = Path(os.environ.get("COHORTLAB_NBGRADER_EXCHANGE", DEFAULT_EXCHANGE))
    try:
        ensure_exchange(exchange)
    except PermissionError:
        print(
            f"seed: cannot create the nbgrader exchange {exchange}; set "
            "COHORTLAB_NBGRADER_EXCHANGE to a folder you may create",
            file=sys.stderr,
        )
    install_nbgrader_config(venv)
    ensure_course(instructor_home, owner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--state-dir", default=os.environ.get("COHORTLAB_STATE_DIR", str(REPO / ".demo"))
    )
    parser.add_argument("--venv", default=os.environ.get("COHORTLAB_VENV", str(REPO / ".venv")))
    parser.add_argument(
        "--service-user", default=os.environ.get("COHORTLAB_SERVICE_USER", "cohortlab")
    )
    args = parser.parse_args()
    state = Path(args.state_dir).resolve()
    venv = Path(args.venv).resolve()
    data_dir = Path(os.environ.get("COHORTLAB_DATA_DIR", state / "service"))
    is_root = os.geteuid() == 0

    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    cohortlab = [str(venv / "bin" / "cohortlab"), "upgrade-db", f"--data-dir={data_dir}"]
    if is_root:
        check_reachable_by_others(venv / "bin" / "python")
        ensure_service_account(args.service_user)
        entry = pwd.getpwnam(args.service_user)
        for path in [data_dir, *data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        run("runuser", "-u", args.service_user, "--", *cohortlab)
        for person in DEMO_PEOPLE:
            copy_notebooks(ensure_person(person), person)
        instructor = INSTRUCTORS[0]
        setup_nbgrader(venv, Path(pwd.getpwnam(instructor).pw_dir), instructor)
        hide_checkout_keys()
    else:
        print("seed: not root, so no system accounts: INSECURE development mode", file=sys.stderr)
        run(*cohortlab)
        for person in DEMO_PEOPLE:
            home = state / "home" / person
            home.mkdir(parents=True, exist_ok=True)
            copy_notebooks(home, None)
        setup_nbgrader(venv, state / "home" / INSTRUCTORS[0], None)
    print(f"seed: demo course ready ({len(DEMO_PEOPLE)} people) in {state}")


if __name__ == "__main__":
    main()
