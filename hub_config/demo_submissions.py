"""What each demo learner hands in for ``hw1``: slightly different work, so peer reviews differ.

Every answer names its author the way learners do (a signature with their full name, their user
name, their home folder, their email, the notebook's ``authors`` metadata): peer review's
anonymous copies must remove all of it. Keys are nbgrader ``grade_id`` s (or cell ids for cells
nbgrader does not track); a learner without an entry leaves that cell as released.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_course import COURSE, FULL_NAMES, INSTRUCTORS, LEARNERS

if TYPE_CHECKING:
    from demo_setup import Machine

ASSIGNMENT = "hw1"


def email(learner: str) -> str:
    return f"{learner}@demo101.example"


def _signature(learner: str) -> str:
    first, last = FULL_NAMES[learner]
    return f"{first} {last}"


MEAN_LOOP = """def mean(values):
    \"\"\"The arithmetic mean of a non-empty list of numbers.\"\"\"
    total = 0.0
    for v in values:
        total += v
    return total / len(values)"""

MEAN_SUM = """def mean(values):
    \"\"\"The arithmetic mean of a non-empty list of numbers.\"\"\"
    return sum(values) / len(values)"""

MEAN_OFF_BY_ONE = """def mean(values):
    \"\"\"The arithmetic mean of a non-empty list of numbers.\"\"\"
    return sum(values) / (len(values) - 1)  # FIXME: the tests disagree with me"""

MEAN_STATISTICS = """import statistics


def mean(values):
    \"\"\"The arithmetic mean of a non-empty list of numbers.\"\"\"
    return statistics.fmean(values)  # the task says not to... but it is right"""

UNUSUAL_POPULATION = """def unusual_days(values, labels, threshold=1.5):
    \"\"\"Labels of the values more than `threshold` standard deviations from the mean.\"\"\"
    centre = mean(values)
    spread = math.sqrt(sum((v - centre) ** 2 for v in values) / len(values))
    if spread == 0:
        return []
    return [day for v, day in zip(values, labels) if abs(v - centre) / spread > threshold]"""

UNUSUAL_SAMPLE = """def unusual_days(values, labels, threshold=1.5):
    \"\"\"Labels of the values more than `threshold` standard deviations from the mean.\"\"\"
    centre = mean(values)
    # n - 1: the sample standard deviation (the task asks for the population one)
    spread = math.sqrt(sum((v - centre) ** 2 for v in values) / (len(values) - 1))
    if spread == 0:
        return []
    return [day for v, day in zip(values, labels) if abs(v - centre) / spread > threshold]"""

UNUSUAL_LOOP = """def unusual_days(values, labels, threshold=1.5):
    \"\"\"Labels of the values more than `threshold` standard deviations from the mean.\"\"\"
    centre = mean(values)
    spread = math.sqrt(mean([(v - centre) ** 2 for v in values]))
    found = []
    for v, day in zip(values, labels):
        if spread and abs(v - centre) > threshold * spread:
            found.append(day)
    return found"""


_TRY_IT = """print(f"mean: {mean(temperatures):.1f} °C")
print("unusual:", unusual_days(temperatures, days))"""


def answers(learner: str) -> dict[str, str]:
    """The cells ``learner`` writes, by grade id (or cell id)."""
    name = _signature(learner)
    home = f"/home/{learner}"
    work: dict[str, dict[str, str]] = {
        "ada": {
            "mean": MEAN_SUM,
            "unusual_days": UNUSUAL_POPULATION,
            "interpretation": (
                "I would **keep** Friday: it happened, and a week's mean should describe the "
                "week. I would report 20.8 °C and add that without Friday it would be 19.6 °C, "
                f"so the reader sees how much one hot day moves it.\n\n— {name} ({learner}), "
                f"notes in `{home}/notes/hw1.md`"
            ),
            "try-it": f'print("checked by {learner}")\n' + _TRY_IT,
        },
        "ben": {
            "mean": MEAN_LOOP,
            "unusual_days": UNUSUAL_SAMPLE,
            "interpretation": (
                "Drop Friday. A heat spike is not a normal day, and the mean should tell "
                f"people what a normal day feels like.\n\n{name}"
            ),
            "try-it": f"# scratch copy in {home}/hw1-scratch.py\n" + _TRY_IT,
        },
        "cy": {
            "mean": MEAN_STATISTICS,
            "unusual_days": UNUSUAL_POPULATION,
            "interpretation": f"Keep it, and say it was hot. ({name})",
            "try-it": f'print("run from {home}/demo101/hw1")\n' + _TRY_IT,
        },
        "dee": {
            "mean": MEAN_OFF_BY_ONE,
            "unusual_days": UNUSUAL_LOOP,
            "interpretation": (
                "Keep Friday in the data but report the **median** (19.8 °C) next to the mean: "
                "the median hardly moves when one day is extreme, so together they show both "
                f"the typical day and the outlier.\n\nDeirdre / {email(learner)}"
                f" — {name}"
            ),
        },
        "eli": {
            "mean": MEAN_SUM,
            "unusual_days": UNUSUAL_LOOP,
            "interpretation": (
                "I'd keep it. Removing data because it is inconvenient is how people fool "
                "themselves. Mean 20.8 °C, one unusual day (Fri, z ≈ 2.3).\n\n"
                f"Signed: {name}, user {learner}"
            ),
            "try-it": _TRY_IT + f'\nprint("by {learner}")',
        },
        "fay": {
            "mean": MEAN_LOOP,
            "interpretation": (
                "Not sure. If the thermometer was in the sun on Friday, drop it; if it was "
                "a real heatwave, keep it. I did not finish part 2, sorry!\n\n"
                f"{name} ({email(learner)})"
            ),
        },
    }
    return work[learner]


def cell_key(cell: Any) -> str:
    """How :func:`answers` names a cell: its nbgrader grade id, else its cell id."""
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") or cell.get("id", "")


def source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (a notebook file may store it as a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def fill_in(notebook: dict[str, Any], released: dict[str, Any], learner: str) -> int:
    """Write ``learner``'s answers into their copy (notebook JSON), only into cells still as
    released: a learner who worked on a cell keeps their work. Returns how many were written."""
    template = {cell_key(c): source(c) for c in released["cells"]}
    written = 0
    for cell in notebook["cells"]:
        answer = answers(learner).get(cell_key(cell))
        if answer is not None and source(cell) == template.get(cell_key(cell)):
            cell["source"] = answer
            written += 1
    if written:
        notebook.setdefault("metadata", {})["authors"] = [{"name": _signature(learner)}]
    return written


def hand_in(machine: Machine, learner: str) -> bool:
    """``learner`` fetches hw1 (unless they have it), answers the cells still as released and
    submits: every step as themselves, in their own home. False if they had submitted."""
    if list((machine.exchange / COURSE / "inbound").glob(f"{learner}+{ASSIGNMENT}+*")):
        return False
    workdir = machine.home(learner) / machine.fetch_subdir
    if not workdir.is_dir():
        machine.run(learner, machine.home(learner), "mkdir", "-p", "-m", "700", str(workdir))
    copy = workdir / COURSE / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if not copy.exists():
        machine.nbgrader(learner, workdir, "fetch_assignment", ASSIGNMENT, "--course", COURSE)
    released = machine.exchange / COURSE / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    python = str(machine.venv / "bin" / "python")
    machine.run(learner, workdir, python, __file__, learner, str(copy), str(released))
    machine.nbgrader(learner, workdir, "submit", ASSIGNMENT, "--course", COURSE)
    return True


def record_students(machine: Machine, course: Path) -> None:
    """The learners' full names and emails in the gradebook (``nbgrader db student import``,
    as the instructor), so ``cohortlab review open`` removes them from the anonymous copies."""
    rows = ["id,first_name,last_name,email"]
    rows += [f"{s},{FULL_NAMES[s][0]},{FULL_NAMES[s][1]},{email(s)}" for s in LEARNERS]
    fd, name = tempfile.mkstemp(prefix="cohortlab-demo-students-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
        machine.give(Path(name), INSTRUCTORS[0])
        machine.nbgrader(INSTRUCTORS[0], course, "db", "student", "import", name)
    finally:
        os.unlink(name)


def main() -> None:
    """``python demo_submissions.py LEARNER NOTEBOOK RELEASED``: run as the learner by
    :func:`hand_in`, so only they write into their home. Plain JSON, written as nbformat
    writes it: importing nbformat would double the time this takes."""
    learner, path, released = sys.argv[1:4]
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    if fill_in(notebook, json.loads(Path(released).read_text(encoding="utf-8")), learner):
        text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False)
        Path(path).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
