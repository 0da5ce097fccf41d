"""Before a round opens: which forms of learners' names are also common words, for staff.

``cohortlab review open`` and the lab's "Open a round" run the same check on the
submissions the run would upload (:func:`new_authors`: a re-run for late submissions checks
only those): every form of each author's name that is also a common word (Will, Rose,
Grant, ...; :mod:`.names`) and stands in their notebooks is a :func:`finding` with the word,
whose submission, in how many places, and a few excerpts. Staff decide per word to replace
it everywhere or keep it; until every word found has a decision, nothing is uploaded
(:func:`require_decisions`). Decisions hold for that run only: a later run asks again about
the words in the submissions it adds, so a decision is always made on what staff have seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..client import ServiceClient, ServiceError
from ..commands import service_path
from .coursework import CourseWork, ReviewCommandError
from .names import KEEP, REPLACE, Decisions, fold


def new_authors(
    client: ServiceClient, course: str, assignment: str, authors: list[str]
) -> list[str]:
    """``authors`` whose submission is not in the round yet (all of them if there is none)."""
    try:
        view = client.get(service_path("courses", course, "reviews", assignment))
    except ServiceError as e:
        if e.status == 404:
            return list(authors)
        raise
    known = {s.get("author") for s in view.get("submissions", [])}
    return [a for a in authors if a not in known]


def findings(work: CourseWork, students: Iterable[str]) -> list[dict[str, Any]]:
    """Each (word, submission, notebook) where a common word that is the author's name
    stands, sorted by word then student: ``{word, student, notebook, count, excerpts,
    forms}``."""
    out = []
    for student in students:
        for notebook, found in work.common_words(student).items():
            out += [
                {
                    "word": o.word,
                    "student": student,
                    "notebook": notebook,
                    "count": o.count,
                    "excerpts": list(o.excerpts),
                    "forms": list(o.forms),
                }
                for o in found
            ]
    return sorted(out, key=lambda f: (f["word"], f["student"], f["notebook"]))


def undecided(found: list[dict[str, Any]], words: Decisions) -> list[dict[str, Any]]:
    return [f for f in found if f["word"] not in words]


def require_decisions(found: list[dict[str, Any]], words: Decisions, *, cli: bool) -> None:
    """Stop (409 ``names_to_decide``) with the list, unless every word found is decided."""
    missing = undecided(found, words)
    if not missing:
        return
    raise ReviewCommandError(listing(missing, cli=cli), "names_to_decide", 409)


def listing(missing: list[dict[str, Any]], *, cli: bool) -> str:
    """What the check found, for a person: each word, whose submission, how many places,
    excerpts; then how to decide."""
    words = sorted({f["word"] for f in missing})
    lines = [
        f"{len(words)} word(s) in these submissions are both a learner's name and a common "
        "word; decide for each whether to replace it everywhere it stands alone or keep it. "
        "Nothing was uploaded."
    ]
    for word in words:
        lines.append(f'  "{word}":')
        for f in (f for f in missing if f["word"] == word):
            forms = ", ".join(f'"{form}"' for form in f["forms"])
            lines.append(f"    {f['student']}'s {f['notebook']}: {f['count']} place(s), as {forms}")
            lines += [f"      {excerpt}" for excerpt in f["excerpts"]]
    if cli:
        example = " ".join(f"--replace={w}" for w in words[:2])
        lines.append(
            "Run again with --replace=WORD or --keep=WORD for each word (repeat the option), "
            f"e.g. {example}. Decisions hold for that run only: a later run for late "
            "submissions asks again about the words in what it adds."
        )
    else:
        lines.append("Check names again and choose for each word before opening the round.")
    return "\n".join(lines)


def decisions_from(replace: Iterable[str], keep: Iterable[str]) -> dict[str, str]:
    """``--replace``/``--keep`` (or the lab's choices) as decisions; a word in both is a
    mistake the person fixes."""
    out: dict[str, str] = {}
    for words, decision in ((replace, REPLACE), (keep, KEEP)):
        for word in words:
            for w in word.split(","):
                key = fold(w.strip())
                if not key:
                    continue
                if out.get(key, decision) != decision:
                    raise ReviewCommandError(
                        f"{w.strip()!r} is given to both --replace and --keep; choose one.",
                        "invalid_decision",
                    )
                out[key] = decision
    return out


def parse_words(value: Any) -> dict[str, str]:
    """The lab's ``{"word": "replace" | "keep"}``, checked (400 with a message)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and v in (REPLACE, KEEP) for k, v in value.items()
    ):
        raise ReviewCommandError(
            '\'words\' must map each word to "replace" or "keep".', "invalid_field"
        )
    return decisions_from(
        [k for k, v in value.items() if v == REPLACE], [k for k, v in value.items() if v == KEEP]
    )
