"""Learners who sign their work the many ways people do, for the peer-review name tests.

Each learner's gradebook name (``nbgrader db student add``) and a ``sign(notebook, learner)``
that writes their name into hw1's notebook in every form the anonymous copies must lose: the
first name alone, the surname alone, initial and surname with and without the dot, ``Surname,
First``, the user name, the email and its local part, in capitals, with extra spaces, with
accents dropped, parts of a hyphenated surname; in markdown, a comment, a string, a saved
output and a file name in that output.
"""

from __future__ import annotations

from typing import Any

from cohortlab.reviews.names import fold
from nbformat.v4 import new_output

#: learner -> (first name, last name, email), as the instructor records them
GRADEBOOK = {
    "ada": ("Ada", "Lovelace", "ada.lovelace@uni.example"),
    "cy": ("Siobhán", "O'Brien-Nakamura", "sobrien@uni.example"),
    "fay": ("Rose", "Young", "ryoung@uni.example"),
    "eli": ("Will", "Brandt", "wbrandt@uni.example"),
}


def written_forms(learner: str) -> list[str]:
    """What ``learner`` writes, one form at a time."""
    first, last, email = GRADEBOOK[learner]
    local = email.split("@")[0]
    parts = [p for p in last.split("-") if p]
    return [
        first, last, *parts, f"{first[0]}. {last}", f"{first[0]} {last}", f"{first[0]}.{last}",
        f"{last}, {first}", f"{last} {first}", learner, email, local, first.upper(),
        last.lower(), f"{first}   {last}", fold(first).capitalize(), f"{first} {last[0]}.",
    ]  # fmt: skip


def identifying(learner: str) -> list[str]:
    """Strings none of which may stand as a word in a reviewer's copy of ``learner``'s work
    (``find_identifying(..., whole_words=True)``, which ignores case, not accents: both
    spellings are listed)."""
    first, last, email = GRADEBOOK[learner]
    words = {first, fold(first), last, fold(last), learner, email, email.split("@")[0]}
    words |= {p for p in last.split("-")} | {fold(p) for p in last.split("-")}
    words |= {last.replace("'", ""), last.replace("'", " ")}
    return sorted(w for w in words if w)


def sign(nb: Any, learner: str) -> None:
    """``learner``'s answers in hw1's notebook, naming them in every form."""
    first, last, email = GRADEBOOK[learner]
    forms = written_forms(learner)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "mean":
            cell.source = (
                f"# {forms[3]} wrote this; ask {first} ({learner})\n"
                "def mean(values):\n    return sum(values) / len(values)"
            )
        elif grade_id == "interpretation":
            cell.source = (
                f"The median would not move, says {first}.\n\n"
                + "\n".join(f"- {form}" for form in forms)
                + f"\n\n— {forms[6]}, {email}"
            )
        elif cell.get("id") == "try-it":
            cell.source = (
                f'print("checked by {first} {last} in /home/{learner}")\n'
                f'open("results_{fold(last)}_{learner}.csv", "w")'
            )
            cell.outputs = [
                new_output(
                    "stream",
                    name="stdout",
                    text=f"checked by {first} {last} in /home/{learner}\n"
                    f"saved results_{fold(last)}_{learner}.csv for {last.upper()}, {first}\n",
                )
            ]
            cell.execution_count = 3
