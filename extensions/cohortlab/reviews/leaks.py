"""The leak checker: where an author's identifying strings still show in a notebook (or any
JSON value), however a copy might carry them, for the service's check of every staged copy,
the anonymity tests and staff; and nbformat's own words, which every copy has and which so
say nothing about whose it is (:mod:`.anonymize` leaves them as they are too).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ._fold import Prefilter
from ._images import PNG, png_texts

PLACEHOLDER = "learner"
CELL_METADATA = (
    "nbgrader", "tags", "jupyter", "collapsed", "scrolled", "editable", "deletable", "slideshow",
)  # fmt: skip
# nbformat's own words: every copy has them, so they say nothing about whose copy it is. A
# user called "data", "stream" or "markdown" must still be reviewable: these are neither
# rewritten (a "stream" output renamed would break the notebook) nor reported.
CELL_TYPES = frozenset({"code", "markdown", "raw"})
OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error"})
STREAM_NAMES = frozenset({"stdout", "stderr"})
FORMAT_KEYS = frozenset({
    "nbformat", "nbformat_minor", "metadata", "cells", "cell_type", "id", "source",
    "attachments", "outputs", "execution_count", "output_type", "name", "text", "data",
    "ename", "evalue", "traceback", "transient", "display_id", "kernelspec",
    "language_info", "display_name", "language", "codemirror_mode", "file_extension",
    "mimetype", "nbconvert_exporter", "pygments_lexer", "version", "env", "interrupt_mode",
    *CELL_METADATA, "source_hidden", "outputs_hidden", "slide_type", "grade", "grade_id",
    "locked", "points", "schema_version", "solution", "task", "checksum", "cohortlab",
    "quiz", "cell_key", "isolated", "needs_background", "image/png", "image/jpeg",
    "image/gif", "image/svg+xml", "image/webp", "text/plain", "text/html", "text/markdown",
    "text/latex", "application/json", "application/javascript", "application/pdf",
    "application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json",
    "application/vnd.plotly.v1+json", "application/vnd.vegalite.v4+json",
    "application/vnd.vegalite.v5+json", "application/vnd.vega.v5+json",
    "application/vnd.bokehjs_exec.v0+json", "application/vnd.bokehjs_load.v0+json",
    "application/vnd.holoviews_exec.v0+json", "application/vnd.holoviews_load.v0+json",
})  # fmt: skip
MIME_TOPS = frozenset({"application", "audio", "font", "image", "model", "text", "video"})


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DATA_URI = re.compile(r"data:([\w/+.-]+);base64,([A-Za-z0-9+/=]{16,})")
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]+={0,2}\s*")


@dataclass(frozen=True)
class Finding:
    """An identifying string found in a notebook (or any JSON document).

    ``where`` is a path like ``cells[3].outputs[0].traceback[2]``; ``form`` says how it was
    seen: ``text``, ``key`` (a mapping key), ``ansi`` (with colour codes removed), ``html``
    (entities decoded), ``url`` (percent-decoded), ``base64`` or ``data-uri`` (decoded bytes).
    """

    where: str
    string: str
    form: str


def find_identifying(
    document: Any,
    strings: Iterable[str],
    *,
    whole_words: bool = False,
    neutral: Collection[str] = (PLACEHOLDER,),
    notebook_words: bool = False,
) -> list[Finding]:
    """Every place in a notebook (or any JSON value) where one of ``strings`` still shows.

    Case-insensitive. Looks into mapping keys, text with ANSI colours removed, HTML entities
    and percent-encoding decoded, and base64 (outputs, attachments, data URIs) decoded as
    Latin-1, UTF-8 and UTF-16, including PNG's compressed text chunks. By default any
    substring counts (strict, for the probe); ``whole_words`` ignores matches touching other
    letters or digits (for short names that occur inside ordinary words). ``neutral`` text
    (the placeholder) is blanked first, so "Lea" is not reported inside "learner".
    ``notebook_words`` leaves nbformat's own words alone (:data:`FORMAT_KEYS` as keys, cell
    and output types and stream names as values): every notebook has them.
    """
    needles = sorted({s.strip() for s in strings if s and s.strip()}, key=lambda s: (-len(s), s))
    if not needles:
        return []
    alternation = "|".join(re.escape(n) for n in needles)
    pattern = re.compile(
        rf"(?<![^\W_])(?:{alternation})(?![^\W_])" if whole_words else alternation, re.I
    )
    folded = {n.casefold() for n in needles}
    blank = [  # only as a whole token: a user called "learner1" must still be found
        re.compile(rf"(?<![^\W_]){re.escape(n)}(?![^\W_])", re.I)
        for n in neutral
        if n and n.casefold() not in folded
    ]
    findings: dict[tuple[str, str], Finding] = {}
    prefilter = Prefilter(needles)

    def seen(where: str, text: str, form: str) -> None:
        if not prefilter.may_match(text):  # exact, and fast: see _fold
            return
        for mask in blank:
            text = mask.sub(lambda m: "\0" * len(m.group()), text)
        for match in pattern.finditer(text):
            found = match.group().casefold()
            string = next((n for n in needles if n.casefold() == found), match.group())
            findings.setdefault((where, string), Finding(where, string, form))

    def walk(value: Any, where: str) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                path = f"{where}.{k}" if where else str(k)
                if notebook_words and format_word(str(k), v):
                    continue
                if not notebook_words:
                    seen(path, str(k), "key")
                elif k not in FORMAT_KEYS:
                    seen(path, mime_subtype(str(k)), "key")
                walk(v, path)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        elif isinstance(value, str):
            for text, form in _readings(value):
                seen(where, text, form)

    walk(document, "")
    return list(findings.values())


def format_word(key: str, value: Any) -> bool:
    """``key: value`` is nbformat's own structure (a cell or output type, a stream name)."""
    return (
        (key == "cell_type" and value in CELL_TYPES)
        or (key == "output_type" and value in OUTPUT_TYPES)
        or (key == "name" and value in STREAM_NAMES)
    )


def mime_subtype(key: str) -> str:
    """What in a key can name someone: all of it, or a mime type's part after ``text/``."""
    top, slash, rest = key.partition("/")
    return rest if slash and top in MIME_TOPS else key


# --- the checker's readings -------------------------------------------------------------------


def _readings(value: str) -> Iterable[tuple[str, str]]:
    """The ways a string can carry a name: as written, decoded, or as base64 bytes."""
    yield value, "text"
    if "\x1b[" in value:
        yield ANSI.sub("", value), "ansi"
    if "&" in value:
        yield html.unescape(value), "html"
    if "%" in value:
        yield unquote(value), "url"
    compact = "".join(value.split())
    if len(compact) >= 16 and len(compact) % 4 == 0 and _BASE64.fullmatch(value):
        yield from ((text, "base64") for text in _decoded(compact))
    for match in DATA_URI.finditer(value):
        yield from ((text, "data-uri") for text in _decoded(match[2]))


def _decoded(encoded: str) -> list[str]:
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return []
    blobs = [data]
    if data.startswith(PNG):
        blobs += png_texts(data)
    texts = []
    for blob in blobs:
        texts += [blob.decode("latin-1"), blob.decode("utf-8", "ignore")]
        texts += [blob[i:].decode("utf-16-le", "ignore") for i in (0, 1)]
    return texts
