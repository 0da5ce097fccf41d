"""Can the demo people's servers reach this checkout? They run as other accounts, so every
folder above the venv's Python must be searchable by others (a clone in a 0700 home is not).

``seed.py`` checks it before it makes anything; ``make demo`` and ``make test`` run this file
first, with Debian's Python and only the standard library (before the venv exists), so a clone
they cannot use stops at once with one line saying why, instead of failing every server later.

Usage: python3 hub_config/reachable.py [venv, default .venv]. Only as root: without root
there are no other accounts (seed.py's development mode), and nothing to check.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def check_reachable_by_others(path: Path) -> None:
    """Servers run as other accounts: every folder above the venv must let them through."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise SystemExit(
                f"CohortLab: {parent} is not searchable by other accounts, so servers running "
                f"as the demo people cannot run {path}. Put the repository under a "
                "world-readable folder (e.g. /opt or /srv) or run `chmod o+x` on that folder."
            )


def main(argv: list[str]) -> None:
    venv = Path(argv[0] if argv else ".venv").resolve()
    if os.geteuid() == 0:
        check_reachable_by_others(venv / "bin" / "python")


if __name__ == "__main__":
    main(sys.argv[1:])
