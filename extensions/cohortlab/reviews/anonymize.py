"""The anonymous copy of a submitted notebook that peer reviewers see, and a leak checker.

:func:`anonymize_notebook` builds a new notebook (the input is never changed):

- **Metadata by allow-list.** Extensions write anything into notebook metadata: ``authors``,
  ``widgets`` state (our own widgets' state holds user ids), papermill and VS Code paths,
  Colab provenance, and CohortLab's ``notebook_key``, which would lead a reviewer to the
  author's own discussion threads. So the notebook keeps only ``kernelspec`` and
  ``language_info``, and cells keep only ``nbgrader`` (the rubric), ``tags``, ``jupyter``,
  ``collapsed``, ``scrolled``, ``editable``, ``deletable``, ``slideshow`` and CohortLab's
  ``quiz``; run timestamps (``execution``) and everything else go.
- **Keys made unlinkable.** Cell ids and CohortLab cell keys of cells a learner added are
  random per copy and could match threads the author started; they become
  HMAC-SHA256(secret, key), stable within a round. Cells keep their order and number, so
  cell ``i`` of the copy is cell ``i`` of the submission (how reviewers' comments get back to
  the author's cells), and nbgrader ``grade_id`` stays as it is (shared by everyone).
- **Text scrubbed everywhere** it can appear: sources, attachment names, stream text, every
  text and JSON output (``text/plain``, ``text/html``, ``application/json``, Vega, Plotly,
  ...), error names, values and tracebacks (also with their ANSI colours removed, when a
  colour code split a name), and whatever metadata is kept. Every form of the author's name
  (:mod:`.names`: first name alone, surname alone, parts of compound names, initials and
  surname, ``Surname, First``, the user name however short, the email and its local part; in
  any case, spacing, with or without accents) becomes ``placeholder`` as a whole word (no
  letter touches it; digits, ``_`` and a camelCase step do separate), also HTML-escaped and
  URL-encoded; base64 data of inlined images is left alone (a short name would corrupt it).
  A form that is also a common word (``Will``) is replaced only if staff chose so
  (``words``): :func:`common_words_in` finds them for staff first, and
  :func:`anonymize_notebook` refuses (:class:`UndecidedWords`) a notebook that holds one
  without a decision. Every home directory (``/home/<u>``, ``/Users/<u>``,
  ``C:\\Users\\<u>``, ``~<u>/``) becomes the placeholder's, except ``shared_homes`` that name
  nobody (a container's ``jovyan``), so peer code reading shared data still runs. nbgrader's
  header cell ``NAME = "..."`` / ``COLLABORATORS = "..."`` is emptied.
- **Image metadata stripped.** PNG keeps only its pixel and colour chunks (text, EXIF, time
  and ICC profile chunks go), JPEG loses its APP1-APP13/APP15 segments (EXIF, XMP, IPTC,
  ICC) and comments, SVG its ``<metadata>`` element. An image that cannot be parsed is kept.

Limits (what cannot be anonymised here, and the checker cannot always see):

- a name inside an image's pixels (a plotted title, a screenshot), or in compressed or
  binary outputs (PDF, audio, video, GIF comments);
- a name the gradebook does not hold (a nickname, a misspelling, a friend's name, a middle
  name typed only in the notebook), a name split by markup (``<b>Ada</b> Lovelace`` loses
  both words only because each is replaced alone) or glued to other letters (``alicesmith``,
  ``Lovelaces``: replacing inside words would rewrite other words and break code);
- a common word staff chose to keep stays wherever it is, the author's name included; one
  they chose to replace goes everywhere it stands alone (``will`` in "this will fail" too);
- a name written as code (``ada = 3``) is replaced like any text, consistently, and may
  shadow or clash with a variable called ``learner``;
- style and content: how someone writes, what they worked on, a late submission's number.

:func:`find_identifying` (:mod:`.leaks`) looks for what is left, for the anonymity probe and
for staff.
:func:`number_submissions` gives the "Submission N" pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._images import strip_image
from .leaks import (  # noqa: F401 - Finding, find_identifying, FORMAT_KEYS: this module's API
    ANSI,
    CELL_METADATA,
    DATA_URI,
    FORMAT_KEYS,
    PLACEHOLDER,
    Finding,
    find_identifying,
    format_word,
    mime_subtype,
)
from .names import REPLACE, Decisions, is_common, name_forms, names_pattern, word_of

if TYPE_CHECKING:  # nbformat is imported where a copy is made: the service's checker
    from nbformat import NotebookNode  # processes never need it (jsonschema takes seconds)

SHARED_HOMES: tuple[str, ...] = ("jovyan",)
MIN_SECRET_BYTES = 16  # the secret fixes pseudonym order and hashed keys; guessable = linkable
MIN_FREE_LENGTH = 3  # the service checks user names this long (rubric.parse_copies)
NOTEBOOK_METADATA = ("kernelspec", "language_info")
TEXT_MIMES = ("application/javascript", "application/xml", "image/svg+xml")
_UNIX_HOME = re.compile(r"(/(?:home|Users)/)([^/\\\s\"'`<>:;,|*?()\[\]{}]+)")
_WINDOWS_HOME = re.compile(r"([A-Za-z]:(?:\\+|/)Users(?:\\+|/))([^\\/\s\"'`<>:;,|*?]+)", re.I)
_TILDE_HOME = re.compile(r"(?<![\w~])(~)([A-Za-z_][\w.-]*)(?=[/\\])")
_NBGRADER_NAME = re.compile(
    r"^([ \t]*(?:NAME|COLLABORATORS)[ \t]*=[ \t]*)(\"[^\"\n]*\"|'[^'\n]*')", re.MULTILINE
)
_SVG_METADATA = re.compile(r"<metadata\b.*?</metadata\s*>", re.I | re.S)


@dataclass(frozen=True)
class Author:
    """Whose submission it is: the strings that would give them away.

    ``names`` are other whole strings to remove: full name, email, nbgrader student id, LMS
    id (from nbgrader's gradebook and the hub); an email's local part and a multi-word
    name's words are removed too. ``first_name`` and ``last_name`` (the gradebook's) give
    every other form learners write (:func:`cohortlab.reviews.names.name_forms`).
    """

    user: str
    names: tuple[str, ...] = ()
    first_name: str = ""
    last_name: str = ""

    def strings(self) -> tuple[str, ...]:
        full = f"{self.first_name.strip()} {self.last_name.strip()}".strip()
        found = {s.strip() for s in (self.user, *self.names, full) if s and s.strip()}
        return tuple(sorted(found, key=lambda s: (-len(s), s)))


class UndecidedWords(ValueError):
    """The notebook holds a form of the author's name that is also a common word, and staff
    have not decided whether to replace it (:mod:`cohortlab.reviews.names`)."""

    def __init__(self, words: Collection[str]) -> None:
        self.words = sorted(words)
        super().__init__(
            "decide whether to replace or keep these common words that are also the author's "
            f"name: {', '.join(self.words)}"
        )


@dataclass(frozen=True)
class Occurrences:
    """Where a common word that is also the author's name stands in a copy: ``count``
    places, the first few ``excerpts`` ("cell 4: ...text..."), the name's ``forms`` seen."""

    word: str
    count: int
    excerpts: tuple[str, ...]
    forms: tuple[str, ...]


def anonymize_notebook(
    nb: Mapping[str, Any],
    author: Author,
    *,
    secret: bytes | str,
    placeholder: str = PLACEHOLDER,
    shared_homes: Collection[str] = SHARED_HOMES,
    words: Decisions | None = None,
    common: Callable[[str], bool] = is_common,
) -> NotebookNode:
    """A new notebook with the author removed as far as text allows (see the module's limits).

    ``secret`` is the round's secret (at least ``MIN_SECRET_BYTES``), which keys the hashed
    cell ids so they are stable within the round and unlinkable to the author's copy.
    ``words``: staff's decision for each form of the name that is also a common word
    (:mod:`.names`); :class:`UndecidedWords` if the notebook holds one without a decision.
    """
    copy = _copy(nb, author, secret, placeholder, shared_homes, words or {}, common)
    undecided = {o.word for o in copy[1] if o.word not in (words or {})}
    if undecided:
        raise UndecidedWords(undecided)
    return copy[0]


def common_words_in(
    nb: Mapping[str, Any],
    author: Author,
    *,
    placeholder: str = PLACEHOLDER,
    shared_homes: Collection[str] = SHARED_HOMES,
    common: Callable[[str], bool] = is_common,
) -> list[Occurrences]:
    """The forms of the author's name that are also common words and stand in the notebook,
    as its anonymous copy would show them with none of them replaced: what staff decide."""
    return _copy(nb, author, b"\0" * MIN_SECRET_BYTES, placeholder, shared_homes, {}, common)[1]


def _copy(
    nb: Mapping[str, Any],
    author: Author,
    secret: bytes | str,
    placeholder: str,
    shared_homes: Collection[str],
    words: Decisions,
    common: Callable[[str], bool],
) -> tuple[NotebookNode, list[Occurrences]]:
    import nbformat

    key = _secret(secret)
    scrub = _Scrubber(author, placeholder, shared_homes, words, common)
    metadata = nb.get("metadata") or {}
    copy = nbformat.from_dict(
        {
            "nbformat": nb.get("nbformat", 4),
            "nbformat_minor": nb.get("nbformat_minor", 5),
            "metadata": {k: scrub.value(metadata[k]) for k in NOTEBOOK_METADATA if k in metadata},
            "cells": [_cell(cell, scrub, key) for cell in nb.get("cells") or []],
        }
    )
    return copy, scrub.survey(copy)


def scrub_text(
    text: str,
    author: Author,
    *,
    placeholder: str = PLACEHOLDER,
    shared_homes: Collection[str] = SHARED_HOMES,
    words: Decisions | None = None,
    common: Callable[[str], bool] = is_common,
) -> str:
    """The text rule of :func:`anonymize_notebook`, for file names and other loose text
    (forms that are common words are replaced only where ``words`` says so)."""
    return _Scrubber(author, placeholder, shared_homes, words or {}, common).text(text)


def number_submissions(
    keys: Iterable[str], secret: bytes | str, *, existing: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Stable "Submission N" numbers in an order unrelated to names.

    New keys (author ids or submission ids) are numbered after the ``existing`` ones, in the
    order of HMAC-SHA256(secret, key): with the secret unknown, nobody can tell which number
    a name gets (alphabetical or plain-hash order could be recomputed from the class list).
    Existing numbers never change, so a re-run for late submissions renames no one; the price
    is that a late submission has a high number.
    """
    key = _secret(secret)
    numbers = dict(existing or {})
    if len(set(numbers.values())) != len(numbers) or any(n < 1 for n in numbers.values()):
        raise ValueError("existing pseudonym numbers must be distinct and positive")
    fresh = [k for k in dict.fromkeys(keys) if k not in numbers]
    fresh.sort(key=lambda k: hmac.new(key, k.encode(), hashlib.sha256).digest())
    start = max(numbers.values(), default=0)
    numbers.update({k: start + i for i, k in enumerate(fresh, start=1)})
    return numbers


def pseudonym(number: int) -> str:
    return f"Submission {number}"


# --- the copy ---------------------------------------------------------------------------------


class _Scrubber:
    """The text rule, compiled once per author: forms always replaced and common words
    staff chose to replace in ``names``; the other common words' forms in ``held``."""

    def __init__(
        self,
        author: Author,
        placeholder: str,
        shared_homes: Collection[str],
        words: Decisions,
        common: Callable[[str], bool],
    ) -> None:
        self.placeholder = placeholder
        self.shared = {h.casefold() for h in shared_homes}
        forms = name_forms(author, common)
        sure = [f for f in forms if f.word is None or words.get(f.word) == REPLACE]
        held = [f for f in forms if f not in sure]
        literal: set[str] = set()  # as written in HTML and in URLs
        for f in sure:
            for form in {
                unicodedata.normalize("NFC", f.text),
                unicodedata.normalize("NFD", f.text),
            }:
                literal |= {html.escape(form), quote(form, safe="")} - {form}
        self.names = names_pattern(sure, sorted(literal, key=lambda v: -len(v)))
        self.held = names_pattern(held)
        self.word_of = word_of(held)
        self.folded = sorted({s.casefold() for s in author.strings() if s})

    def identifier(self, key: bytes, kind: str, value: str) -> str:
        """HMAC(key, value) as hex, never containing an author string: hex can spell a short
        name ("cdb", "ada"), which the anonymity check would rightly refuse. The first hash
        is kept whenever it is clean, so ids stay what they were; otherwise the next one."""
        hashed = _hashed(key, kind, value)
        for attempt in range(1, 64):
            if not any(f in hashed for f in self.folded):
                break
            hashed = _hashed(key, kind, f"{value}\0{attempt}")
        return hashed

    def text(self, text: str) -> str:
        out = self._replace(text)
        if "\x1b[" in out and self.names and self.names.search(ANSI.sub("", out)):
            out = self._replace(ANSI.sub("", text))  # a colour code split a name: drop colours
        return out

    def _replace(self, text: str) -> str:
        if "base64," in text:  # an image inlined in HTML or Markdown: its data is no text
            pieces = DATA_URI.split(text)  # text, mime, data, text, mime, data, ..., text
            out = [self._names(t) for t in pieces[::3]]
            images = [
                f"data:{mime};base64,{strip_image(data)}"
                for mime, data in zip(pieces[1::3], pieces[2::3], strict=True)
            ]
            return "".join(a + b for a, b in zip(out, [*images, ""], strict=True))
        return self._names(text)

    def _names(self, text: str) -> str:
        if self.names is not None:
            text = self.names.sub(self.placeholder, text)
        for pattern in (_UNIX_HOME, _WINDOWS_HOME, _TILDE_HOME):
            text = pattern.sub(self._home, text)
        return text

    def _home(self, match: re.Match[str]) -> str:
        user = match.group(2)
        return match.group(1) + (user if user.casefold() in self.shared else self.placeholder)

    def survey(self, copy: Mapping[str, Any]) -> list[Occurrences]:
        """Where the held forms (common words not chosen for replacing) stand in ``copy``."""
        if self.held is None:
            return []
        found: dict[str, list[tuple[str, str, re.Match[str]]]] = {}

        def walk(value: Any, where: str) -> None:
            if isinstance(value, Mapping):
                for k, v in value.items():
                    if format_word(str(k), v) or k in ("id", "cell_key"):
                        continue
                    if k not in FORMAT_KEYS:
                        walk(str(k), where)
                    walk(v, where)
            elif isinstance(value, list | tuple):
                for v in value:
                    walk(v, where)
            elif isinstance(value, str) and self.held is not None:
                for match in self.held.finditer(value):
                    word = self.word_of(match.group())
                    if word is not None:
                        found.setdefault(word, []).append((where, value, match))

        walk(copy.get("metadata") or {}, "notebook metadata")
        for i, cell in enumerate(copy.get("cells") or [], start=1):
            walk(cell, f"cell {i}")
        return [
            Occurrences(
                word,
                len(places),
                tuple(f"{where}: {_excerpt(text, m)}" for where, text, m in places[:3]),
                tuple(dict.fromkeys(m.group() for _, _, m in places)),
            )
            for word, places in sorted(found.items())
        ]

    def value(self, value: Any) -> Any:
        """Scrub a JSON value: every string, mapping keys included."""
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return self.text(value) if isinstance(value, str) else value


def _excerpt(text: str, match: re.Match[str], around: int = 40) -> str:
    """The words around a match on one line, the match in guillemets."""
    before = " ".join(ANSI.sub("", text[: match.start()]).split())
    after = " ".join(ANSI.sub("", text[match.end() :]).split())
    cut_before = "…" + before[-around:] if len(before) > around else before
    cut_after = after[:around] + "…" if len(after) > around else after
    gap_before = " " if text[: match.start()][-1:].isspace() else ""
    gap_after = " " if text[match.end() :][:1].isspace() else ""
    return f"{cut_before}{gap_before}«{match.group()}»{gap_after}{cut_after}"


def _cell(cell: Mapping[str, Any], scrub: _Scrubber, key: bytes) -> dict[str, Any]:
    kind = cell.get("cell_type", "raw")
    source = _joined(cell.get("source", ""))
    if kind == "code":
        source = _NBGRADER_NAME.sub(r'\1""', source)
    out: dict[str, Any] = {
        "cell_type": kind,
        "metadata": _cell_metadata(cell.get("metadata") or {}, scrub, key),
        "source": scrub.text(source),
    }
    if cell.get("id"):
        out["id"] = scrub.identifier(key, "id", str(cell["id"]))
    if kind == "code":
        out["execution_count"] = cell.get("execution_count")
        out["outputs"] = [_output(o, scrub) for o in cell.get("outputs") or []]
    if "attachments" in cell:
        attachments = cell.get("attachments") or {}
        out["attachments"] = {scrub.text(n): _bundle(b, scrub) for n, b in attachments.items()}
    return out


def _cell_metadata(metadata: Mapping[str, Any], scrub: _Scrubber, key: bytes) -> dict[str, Any]:
    out = {k: scrub.value(metadata[k]) for k in CELL_METADATA if k in metadata}
    ours = metadata.get("cohortlab")
    if isinstance(ours, Mapping):
        kept: dict[str, Any] = {}
        if ours.get("quiz"):
            kept["quiz"] = scrub.value(ours["quiz"])
        if ours.get("cell_key"):
            kept["cell_key"] = scrub.identifier(key, "cell_key", str(ours["cell_key"]))
        if kept:
            out["cohortlab"] = kept
    return out


def _output(output: Mapping[str, Any], scrub: _Scrubber) -> dict[str, Any]:
    out = {
        k: v if format_word(k, v) else scrub.value(v)
        for k, v in output.items()
        if k not in ("data", "text", "traceback")
    }
    if "text" in output:
        out["text"] = scrub.text(_joined(output["text"]))
    if "traceback" in output:
        out["traceback"] = [scrub.text(str(line)) for line in output["traceback"]]
    if "data" in output:
        out["data"] = _bundle(output["data"], scrub)
    return out


def _bundle(data: Mapping[str, Any], scrub: _Scrubber) -> dict[str, Any]:
    """A mime bundle: text and JSON scrubbed, images stripped, other binaries kept."""
    out: dict[str, Any] = {}
    for raw_mime, value in data.items():
        mime = raw_mime
        if raw_mime not in FORMAT_KEYS:  # "text/x-<name>": scrub what follows the type
            subtype = mime_subtype(raw_mime)
            mime = raw_mime[: len(raw_mime) - len(subtype)] + scrub.text(subtype)
        if _is_text(mime) and not isinstance(value, Mapping):
            text = _joined(value)
            out[mime] = scrub.text(_SVG_METADATA.sub("", text) if "svg" in mime else text)
        elif _is_text(mime):
            out[mime] = scrub.value(value)
        elif isinstance(value, str):
            out[mime] = strip_image(value)
        else:
            out[mime] = value
    return out


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or mime in TEXT_MIMES or mime.endswith(("json", "+xml"))


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _hashed(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:16]


def _secret(secret: bytes | str) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the round secret must be at least {MIN_SECRET_BYTES} bytes (secrets.token_bytes)"
        )
    return key
