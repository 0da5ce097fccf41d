"""A quick, exact "could this text hold one of these strings?" for the leak checker.

:func:`cohortlab.reviews.anonymize.find_identifying` matches names case-insensitively with
``re.IGNORECASE`` over every reading of a notebook, base64 images decoded four ways
included. On megabytes of decoded pixel data a case-insensitive alternation costs ~25 ms per
MB per reading (``re`` cannot skip ahead on a literal prefix under ``IGNORECASE``), which
made the service's check of one 2.8 MB notebook take 0.4-0.6 s. Nearly every reading holds
no name at all, so the checker first asks :meth:`Prefilter.may_match`, which needs one
``str.lower()`` and a substring search, and runs its regular expressions only where it says
yes.

It must never say no where the regular expression would match. Under ``IGNORECASE`` a
text character ``c`` matches a pattern character ``x`` exactly when ``lower(c)`` is
``lower(x)`` or one of the few extra equivalents ``re`` knows (``re._casefix``: ``i`` and
dotless ``i``, ``s`` and long ``s``, micro and mu, the Greek and Cyrillic variant letters),
``lower`` being the simple one-to-one lowercase mapping (``_sre.unicode_tolower``).
:func:`fold` maps each character to the smallest member of its equivalence class after
lowering, so ``c`` matches ``x`` only if ``fold(c) == fold(x)``; ``fold`` works character
by character (``str.lower`` is the simple mapping for every character but ``İ``, whose
lowercase is two characters and is replaced by ``i`` first, and the final sigma, whose two
forms fold alike), so a match of a name at
position ``i`` is a match of ``fold(name)`` in ``fold(text)`` at ``i``.
``tests/unit/test_review_anonymize.py`` checks these facts against ``re`` for every code
point. The checker's other conditions (whole words, blanking the placeholder) only remove
matches, so they need no prefilter.
"""

from __future__ import annotations

import re
from collections.abc import Collection

try:  # the equivalences re itself uses (CPython 3.11+)
    from re._casefix import _EXTRA_CASES as _EXTRA

    KNOWN = True
except ImportError:  # pragma: no cover - another Python: no prefilter, every text is searched
    _EXTRA, KNOWN = {}, False

_DOTTED_I = "\u0130"  # İ: lowercase is "i" + U+0307 in str.lower, "i" in re


def _canonical() -> dict[str, str]:
    out: dict[str, str] = {}
    for lo, others in _EXTRA.items():
        members = {lo, *others}
        smallest = chr(min(members))
        out.update({chr(m): smallest for m in members if m != ord(smallest)})
    return out


_CANON = _canonical()
# each lowercase character with extra equivalents -> all of them (itself included)
_CLASS = {chr(lo): {chr(lo), *(chr(o) for o in others)} for lo, others in _EXTRA.items()}
_FOLDED = re.compile("[" + "".join(re.escape(c) for c in sorted(_CANON)) + "]") if _CANON else None


def lower(text: str) -> str:
    """``str.lower`` with ``İ`` as ``re`` lowers it (one ``i``), so lengths stay the same."""
    if _DOTTED_I in text:
        text = text.replace(_DOTTED_I, "i")
    return text.lower()


def fold(text: str) -> str:
    """``text`` with each character replaced by its case-insensitive class (same length)."""
    text = lower(text)
    if _FOLDED is not None:
        text = _FOLDED.sub(lambda m: _CANON[m.group()], text)
    return text


class Prefilter:
    """Which of the checker's texts could hold a name at all.

    A text's lowered form holds, where a name matches, one of the name's *variants*: the
    name lowered with each character that has extra equivalents (``i``, ``s``, micro, ...)
    replaced by each of them. Names with many such characters would have thousands of
    variants; for those the text is folded instead (slower on non-ASCII text, same answer).
    """

    def __init__(self, needles: Collection[str], limit: int = 256) -> None:
        self.variants: set[str] | None = set()
        for needle in needles:
            options = [{c, *(_CLASS.get(c, ()))} for c in lower(needle)]
            count = 1
            for option in options:
                count *= len(option)
            if count > limit:
                self.variants = None
                break
            found = [""]
            for option in options:
                found = [prefix + c for prefix in found for c in sorted(option)]
            self.variants.update(found)
        self.folded = {fold(n) for n in needles}

    def may_match(self, text: str) -> bool:
        """False only when no needle can match ``text`` under ``re.IGNORECASE``."""
        if not KNOWN:
            return True
        if self.variants is not None:
            low = lower(text)
            return any(v in low for v in self.variants)
        low = fold(text)
        return any(n in low for n in self.folded)
