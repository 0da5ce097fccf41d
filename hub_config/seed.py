"""Prepare this machine for the one-machine hub: accounts, folders, database, demo course.

Run as root by ``make demo`` (and by the integration tests with their own state
folder). Idempotent: re-running changes nothing that is already right.

- a system account for the CohortLab service, which alone can read its data folder;
- a system account with a private (0700) home for each demo person;
- the service's database schema (``cohortlab upgrade-db``, run as the service account);
- the demo course notebooks copied into each person's home, owned by them.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from demo_course import DEMO_PEOPLE  # noqa: E402

NOTEBOOKS = REPO / "notebooks"


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


def check_reachable_by_others(path: Path) -> None:
    """Servers run as other accounts: every folder above the venv must let them through."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise SystemExit(
                f"seed: {parent} is not searchable by other accounts, so servers running as "
                f"the demo people cannot run {path}. Put the repository under a world-readable "
                "folder (e.g. /opt or /srv) or run `chmod o+x` on that folder."
            )


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
    else:
        print("seed: not root, so no system accounts: INSECURE development mode", file=sys.stderr)
        run(*cohortlab)
        for person in DEMO_PEOPLE:
            home = state / "home" / person
            home.mkdir(parents=True, exist_ok=True)
            copy_notebooks(home, None)
    print(f"seed: demo course ready ({len(DEMO_PEOPLE)} people) in {state}")


if __name__ == "__main__":
    main()
