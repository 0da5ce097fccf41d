"""Run the benchmarks: ``run.py`` for all, ``run.py <name>`` for ``bench_<name>.py``.

Each benchmark prints its figures and, as its last line, one JSON object:
``{"bench": name, "figures": {...}, "targets": {...}, "met": true|false}``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main(argv: list[str]) -> int:
    known = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    names = argv or known
    failed = 0
    for name in names:
        path = HERE / f"bench_{name}.py"
        if not path.exists():
            print(
                f"bench: no benchmark named {name!r} (known: {', '.join(known)})", file=sys.stderr
            )
            return 2
        print(f"== {name}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"tests.benchmarks.bench_{name}"], cwd=REPO)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
