"""Every form of a learner's name that a peer reviewer must not see, and which of them staff
decide about because they are also common words.

Learners do not write their name the way the gradebook holds it. From the gradebook's first
and last name, the user name and the email (:class:`~.anonymize.Author`), :func:`name_forms`
makes each form they use: the first name alone, the surname alone, every part of a
hyphenated or compound name (``Mary-Jane``, ``Mary``, ``Jane``; ``van der Berg``, ``Berg``;
lowercase particles such as ``van`` or ``al`` only inside the longer forms, never alone),
initial and surname (``A. Lovelace``, ``A.Lovelace``, ``A Lovelace``, ``M.J. Watson``,
``Lovelace, A.``), first name and the surname's initial (``Ada L.``), ``Surname, First``
and ``Surname First``, the user name however short, the email and its local part (and the
local part's pieces, ``ada`` of ``ada.lovelace``).

:func:`names_pattern` matches them the way people write them: in any case; with any run of
spaces, a no-break space (also as ``&nbsp;``) or ``%20`` between words; with or without
accents, whichever way the gradebook and the learner spelled them (``Siobhán`` and
``Siobhan``, ``Müller``, ``Muller`` and ``Mueller``, ``Strauß`` and ``Strauss``, composed or
decomposed, with invisible characters such as a soft hyphen or a zero-width space in
between); a hyphen written as a space or left out; ``O'Brien`` with any apostrophe, a
space or none. A form matches as a whole word only: no letter may touch it, so ``Ada`` is
never found in ``metadata`` or ``adapt`` and identifiers are not rewritten from inside. Digits,
underscores and punctuation do separate words (``ada2024``, ``lovelace_results.csv`` name the
learner), and so does a change from lower to upper case (``plotAda``, ``AdaLovelace``).

**Common words.** Some name parts are ordinary words: Will, Rose, Grant, Young, Mark, May,
the particle ``al`` (``et al.``), a one-letter user name, or words of code (``len``). Replacing
them everywhere would rewrite the learner's text and break code; keeping them silently
would leave the name. So a single-word form that is a common word is not replaced until
staff decide, per word, to replace or keep it (:class:`Decisions`); an initial and a common
surname (``A. Young``) follow the surname's decision. Forms of two name words (``Grant
Young``, ``Young, Grant``) are always replaced.

Which words are common comes from `wordfreq <https://pypi.org/project/wordfreq/>`_
(Robyn Speer's word frequencies from Wikipedia, subtitles, news, books, web text and more,
in 40+ languages; maintained, MIT licensed, no native code; its data is ~58 MB installed,
which is why a hand-written list was tempting, and why it was not taken: a list kept by hand
misses words, has no frequencies to set a threshold by, and knows one language). A word
is common when its Zipf frequency (log10 of uses per billion words) is at least
:data:`COMMON_ZIPF` (4.0: ten uses per million words) in one of the course's
``languages``; Python's keywords and built-in names count as common too, since every
notebook uses them. wordfreq counts words whatever their case, so a first name frequent in
text (John, Ben, Alice) is flagged like a word (Will): a false flag costs staff one decision,
where a missed word would be rewritten silently or left in the copy.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .anonymize import Author

COMMON_ZIPF = 4.0
LANGUAGES: tuple[str, ...] = ("en",)
REPLACE: Literal["replace"] = "replace"
KEEP: Literal["keep"] = "keep"
Decision = Literal["replace", "keep"]
#: a common word (as :func:`fold` writes it) -> what staff decided for it
Decisions = Mapping[str, str]

# letters with no decomposition, and what they are written as without accents
_SPECIAL = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d",
            "þ": "th", "\u0131": "i", "ŀ": "l", "ŧ": "t", "ħ": "h"}  # fmt: skip
_TRANSLITERATED = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
# accents written apart, and invisible characters (soft hyphen, zero-width space and joiners,
# word joiner) that a copied name may carry or a name may be split with
_COMBINING = "[\u0300-\u036f\u00ad\u200b-\u200d\u2060]*"
_SEP = r"(?:[\s\u00a0]|&nbsp;|&#160;|%20)+"
_HYPHENS = "-\u2010\u2011\u2012\u2013"
_APOSTROPHES = "'\u2019\u02bc\u2018`"
# no letter before or after, or a change from lower to upper case (camelCase)
_LEFT = r"(?:(?<![^\W\d_])|(?-i:(?<=[a-z])(?=[A-Z])))"
_RIGHT = r"(?:(?![^\W\d_])|(?-i:(?<=[a-z])(?=[A-Z])))"


def fold(text: str) -> str:
    """``text`` lowercased and without accents: how forms and words are compared."""
    out = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(ch):
            continue
        out.append(_SPECIAL.get(ch, ch))
    return "".join(out)


@lru_cache(maxsize=1)
def _letter_classes() -> dict[str, str]:
    """Each ASCII letter -> a regex class of every Latin letter that folds to it."""
    members: dict[str, set[str]] = {c: {c, c.upper()} for c in "abcdefghijklmnopqrstuvwxyz"}
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        ch = chr(code)
        folded = fold(ch)
        if len(folded) == 1 and folded in members:
            members[folded].add(ch)
    return {c: "[" + "".join(sorted(m)) + "]" + _COMBINING for c, m in members.items()}


_PAIRS = {"ss": "ß", "ae": "æ", "oe": "œ", "th": "þ"}


def form_pattern(form: str) -> str:
    """The regular expression of one form (no word boundaries; compile with ``re.I``)."""
    classes = _letter_classes()
    folded = fold(form)
    out: list[str] = []
    i = 0
    while i < len(folded):
        ch, pair = folded[i], folded[i : i + 2]
        if pair in _PAIRS:
            out.append(f"(?:{classes[pair[0]]}{classes[pair[1]]}|{_PAIRS[pair]})")
            i += 2
            continue
        if ch.isspace():
            out.append(_SEP)
        elif ch in _HYPHENS:
            out.append(rf"(?:[{_HYPHENS}]|[\s\u00a0])?")
        elif ch in _APOSTROPHES:
            out.append(rf"(?:[{_APOSTROPHES}]|&#x27;|&#39;|&apos;|&rsquo;|\s)?")
        elif ch in classes:
            out.append(classes[ch])
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Form:
    """One way of writing the author's name. ``word``: the common word it is, or hinges on
    (folded), which staff decide about; ``None`` for a form that is always replaced."""

    text: str
    word: str | None = None


@lru_cache(maxsize=1)
def _code_words() -> frozenset[str]:
    return frozenset({*keyword.kwlist, *keyword.softkwlist, *dir(builtins)})


@lru_cache(maxsize=4096)
def is_common(
    word: str, languages: tuple[str, ...] = LANGUAGES, threshold: float = COMMON_ZIPF
) -> bool:
    """Whether ``word`` is a common word (see the module's docstring): wordfreq's Zipf
    frequency at least ``threshold`` in one of ``languages`` (as written or without accents),
    a Python keyword or built-in name, or a single letter."""
    plain = fold(word)
    if len(plain) <= 1 or plain in _code_words() or word.casefold() in _code_words():
        return True
    from wordfreq import zipf_frequency  # its lists load on first use (~0.1 s each)

    spellings = {word.casefold(), plain}
    return any(zipf_frequency(w, lang) >= threshold for w in spellings for lang in languages)


def _words(name: str) -> list[str]:
    """A name's words, without lowercase particles (``van``, ``der``, ``al``) when another
    word is capitalised: a particle names nobody alone."""
    words = [w.strip(",.") for w in name.split()]
    words = [w for w in words if w]
    if any(w[:1].isupper() for w in words):
        words = [w for w in words if not w.islower()]
    return words


def _pieces(word: str) -> list[str]:
    """A word and, if hyphenated, its parts (``Mary-Jane``: itself, ``Mary``, ``Jane``)."""
    parts = [p for p in re.split(f"[{_HYPHENS}]", word) if len(p) >= 2]
    if any(p[:1].isupper() for p in parts):  # al-Rashid: "al" alone names nobody
        parts = [p for p in parts if not p.islower()]
    return [word, *parts] if len(parts) > 1 or parts != [word] else [word]


def _initials(first: str) -> list[str]:
    """``A.`` for Ada; ``M.J.``, ``M. J.`` and ``MJ`` for Mary-Jane or Mary Jane."""
    letters = [p[0] for w in _words(first) for p in re.split(f"[{_HYPHENS}]", w) if p]
    if not letters:
        return []
    if len(letters) == 1:
        return [f"{letters[0]}."]
    return [".".join(letters) + ".", ". ".join(letters) + ".", "".join(letters)]


def name_forms(author: Author, common: Callable[[str], bool] = is_common) -> list[Form]:
    """Every form of ``author``'s name (see the module's docstring), longest first."""
    forms: dict[str, Form] = {}

    def add(text: str, word: str | None = None) -> None:
        text = " ".join(text.split())
        if not text or (len(fold(text)) < 2 and word is None and text != author.user.strip()):
            return
        for variant in {text, _transliterated(text)}:
            key = fold(variant)
            old = forms.get(key)
            if old is None or (old.word is not None and word is None):
                forms[key] = Form(variant, word)

    def single(text: str) -> None:
        """One word: replaced always, unless it is a common word."""
        add(text, fold(text) if common(text) else None)

    first, last = author.first_name.strip(), author.last_name.strip()
    firsts, lasts = _words(first), _words(last)
    for word in (*firsts, *lasts):
        for piece in _pieces(word):
            if piece == word and len(_pieces(word)) > 1:
                add(piece)  # two name words
            else:
                single(piece)
    if len(last.split()) > 1:
        add(last)  # van der Berg
    surnames = {last, " ".join(lasts), *lasts} - {""}
    if first and last:
        for f in {first, " ".join(firsts), *firsts} - {""}:
            for s in surnames:
                add(f"{f} {s}")
                add(f"{s}, {f}")
                add(f"{s} {f}")
            surname = (lasts or [last])[0]
            add(f"{f} {next((c for c in surname if c.isupper()), surname[0])}.")
        for i in _initials(first):
            for s in surnames:
                word = fold(s) if " " not in s and common(s) else None
                dotted = (f"{i}{s}", f"{i[:-1]} {s}") if i.endswith(".") else ()
                for text in (f"{i} {s}", f"{s}, {i}", *dotted):
                    add(text, word)
    if author.user.strip():
        single(author.user.strip())
    for name in author.names:
        name = name.strip()
        if not name:
            continue
        if "@" in name or len(name.split()) > 1:
            add(name)
        else:
            single(name)  # an LMS id such as "42" is a common word too
        if "@" in name:
            local = name.split("@", 1)[0]
            single(local)
            for piece in re.findall(r"[^\W\d_]{2,}", local):
                single(piece)
        elif " " in name.strip(", "):
            for word in _words(name):
                for piece in _pieces(word):
                    single(piece)
    return sorted(forms.values(), key=lambda f: (-len(fold(f.text)), fold(f.text)))


def _transliterated(text: str) -> str:
    return "".join(_TRANSLITERATED.get(c, c) for c in unicodedata.normalize("NFC", text))


def names_pattern(forms: Iterable[Form], literal: Iterable[str] = ()) -> re.Pattern[str] | None:
    """One expression matching any of ``forms`` (longest first), then any of the ``literal``
    strings, as a whole word."""
    parts = list(dict.fromkeys([*(form_pattern(f.text) for f in forms), *map(re.escape, literal)]))
    if not parts:
        return None
    return re.compile(f"{_LEFT}(?:{'|'.join(parts)}){_RIGHT}", re.I)


def word_of(forms: Iterable[Form]) -> Callable[[str], str | None]:
    """Which common word a matched text is a form of (``None`` for an always-replaced one)."""
    table = [(re.compile(f"(?:{form_pattern(f.text)})", re.I), f.word) for f in forms]

    def find(matched: str) -> str | None:
        return next((word for pattern, word in table if pattern.fullmatch(matched)), None)

    return find
