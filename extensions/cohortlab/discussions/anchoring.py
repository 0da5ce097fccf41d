"""Anchoring: which cell of a notebook copy a discussion thread belongs to.

Threads hang on ``(course, notebook_key, cell_key)``. Every learner works in their own copy
of a course notebook, and a thread must show on the same cell in every copy. A cell id is not
enough for that: notebooks older than nbformat 4.5 have no ids, JupyterLab gives the cells of
each copy fresh random ones, and people move, edit and delete cells. So a cell is known by the
most stable key it has (:func:`stable_cell_key`), and a thread also stores a fingerprint of its
cell's content (:func:`fingerprint`) to find the cell again when the key does not.

Keys, most stable first: nbgrader's ``grade_id`` (copied into every learner's copy), the
``metadata.cohortlab.cell_key`` stamp that :func:`stamp_cell_keys` writes where the course
notebook is made, then the nbformat cell id (which may be random per copy).

Rules of :func:`locate`; the first that applies wins:

1. **By key.** A cell whose stable key equals the anchor's ``cell_key`` (or, failing that, whose
   stamp or id does, so an anchor made before nbgrader gave the cell a ``grade_id`` still
   finds it) is the anchor's cell: ``"exact"`` if its similarity to the anchor is at least
   ``KEEP_SIMILARITY`` (0.6) or the cell is graded (it has a ``grade_id``: a learner is
   meant to rewrite a solution cell, and the grade id names it exactly), else ``"changed"``
   (found, but rewritten: shown at notebook level). When a copy-paste left several cells
   with the key, the most similar wins.
2. **By content.** A cell whose normalised source hash equals the anchor's ``source_hash`` is
   the anchor's cell, ``"moved"``. When several have it (empty or duplicated cells), the one
   whose neighbours' hashes match ``prev_hash``/``next_hash`` best wins; if that is still a
   tie the cells cannot be told apart and the anchor is ``"orphaned"`` rather than guessed.
3. **By similarity.** Each cell scores its text similarity to the anchor plus
   ``NEIGHBOUR_WEIGHT`` (0.2) per matching neighbour. The best cell is accepted as
   ``"moved"`` if its similarity is at least ``MOVE_SIMILARITY`` (0.6), or at least
   ``NEIGHBOURS_SIMILARITY`` (0.45) when both neighbours match (an edit made in place).
   A tie between two cells is not guessed. Cells next to a matching neighbour are always
   compared; of the others, when the quote is long enough to judge, only the few sharing the
   most character 4-grams with it (``GRAM_FLOOR``, ``SCAN_LIMIT``), which keeps
   :func:`locate_all` fast on big notebooks.
4. Otherwise the anchor is ``"orphaned"``: shown at notebook level, never dropped.

Rules 2 and 3 never pick a cell that has a ``grade_id``: nbgrader copies grade ids into every
copy, so a graded cell that did not match by key is a different cell, however alike (all the
``# YOUR CODE HERE`` solution cells look the same).

Similarity is difflib's ``SequenceMatcher.ratio()`` between quotes (the whitespace-collapsed
first ``QUOTE_LENGTH`` characters), because the anchor keeps a quote to show people rather than
the whole source; an edit beyond the quote changes the hash but not the similarity. The
normalised source (trailing spaces and tabs stripped per line, blank lines at both ends
dropped, ``\\r\\n`` read as ``\\n``) is defined in ASCII terms so the lab extension can compute
the same hash in TypeScript.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

QUOTE_LENGTH = 200
# A cell found by key is "exact" down to this similarity; below it the cell was rewritten.
KEEP_SIMILARITY = 0.6
# A cell found by similarity alone must be at least this close...
MOVE_SIMILARITY = 0.6
# ...or this close when both its neighbours are the anchor's (edited where it stood).
NEIGHBOURS_SIMILARITY = 0.45
# Score bonus per matching neighbour: a cell edited where it stood (both neighbours, +0.4)
# beats a look-alike elsewhere unless that one is much closer. 0.1-0.3 differed by under 0.3%
# of anchors in a simulation of edited, moved and deleted cells; 0.2 was best.
NEIGHBOUR_WEIGHT = 0.2
# Pre-filter for cells away from the anchor's neighbours. quick_ratio() hardly filters text
# in the same language (two unrelated paragraphs of a course score ~0.75) and ratio() costs up
# to a millisecond on 200 characters, so between quotes of at least GRAM_MIN_LENGTH
# characters only the SCAN_LIMIT cells sharing the most character 4-grams with the quote, and
# at least GRAM_FLOOR of them (Dice), are compared. On edits of real notebook cells (typos,
# lines added or removed, words renamed or rewritten) that kept a ratio of 0.45, the lowest
# share was 0.21; unrelated cells of one course share ~0.05.
GRAM_MIN_LENGTH = 40
GRAM_FLOOR = 0.1
SCAN_LIMIT = 8

Status = Literal["exact", "moved", "changed", "orphaned"]
# What a cell key is (:func:`key_kind`); the first two are in every copy made from the course
# notebook, a cell id may be one copy's alone (a cell its owner added).
KEY_KINDS = ("grade_id", "stamp", "id")
OWN_KEY_KIND = "id"
Cell = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Anchor:
    """What a thread stores about its cell, to find it again in any copy."""

    cell_key: str | None
    quote: str
    source_hash: str
    prev_hash: str | None = None
    next_hash: str | None = None
    #: What ``cell_key`` is (:data:`KEY_KINDS`); None in anchors made before it was kept.
    key_kind: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "cell_key": self.cell_key,
            "key_kind": self.key_kind,
            "quote": self.quote,
            "source_hash": self.source_hash,
            "prev_hash": self.prev_hash,
            "next_hash": self.next_hash,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Anchor:
        """Read a stored anchor; unknown keys are ignored so older code reads newer anchors.

        Raises ``ValueError`` naming the field when one has the wrong type.
        """
        if not isinstance(data, Mapping):
            raise ValueError("An anchor must be an object.")
        for name in ("quote", "source_hash"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"anchor.{name} must be a string.")
        for name in ("cell_key", "prev_hash", "next_hash"):
            if not isinstance(data.get(name), str | None):
                raise ValueError(f"anchor.{name} must be a string or null.")
        if data.get("key_kind") not in (*KEY_KINDS, None):
            raise ValueError(f"anchor.key_kind must be one of {', '.join(KEY_KINDS)} or null.")
        return cls(
            cell_key=data.get("cell_key"),
            quote=data["quote"],
            source_hash=data["source_hash"],
            prev_hash=data.get("prev_hash"),
            next_hash=data.get("next_hash"),
            key_kind=data.get("key_kind"),
        )


@dataclass(frozen=True, slots=True)
class Location:
    """Where a thread shows in one copy: on cell ``index``, or at notebook level (None)."""

    status: Status
    index: int | None = None
    cell_key: str | None = None
    similarity: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "index": self.index,
            "cell_key": self.cell_key,
            "similarity": round(self.similarity, 3),
        }


ORPHANED = Location("orphaned")


def stable_cell_key(cell: Cell) -> str | None:
    """The key a cell is discussed under: grade_id, else CohortLab stamp, else cell id."""
    return _grade_id(cell) or _stamp(cell) or _text(cell.get("id"))


def key_kind(cell: Cell) -> str | None:
    """Which of :func:`stable_cell_key`'s keys the cell has (:data:`KEY_KINDS`), if any."""
    if _grade_id(cell):
        return "grade_id"
    if _stamp(cell):
        return "stamp"
    return "id" if _text(cell.get("id")) else None


def stamp_cell_keys(nb: MutableMapping[str, Any]) -> int:
    """Give every cell without a grade_id a ``metadata.cohortlab.cell_key``; return how many.

    Run where the course notebook is made, so every copy made from it carries the same keys.
    The key is the cell's id when it has one (anchors already made under that id keep
    matching), else a fresh UUID4 hex. A stamp that repeats an earlier cell's (a copy-paste
    carries metadata along) is replaced, so keys stay unique; running again stamps nothing.
    """
    cells = nb.get("cells") or []
    taken = {grade_id for cell in cells if (grade_id := _grade_id(cell))}
    unstamped = []
    for cell in cells:
        if _grade_id(cell):
            continue
        stamp = _stamp(cell)
        if stamp and stamp not in taken:
            taken.add(stamp)
        else:
            unstamped.append(cell)
    for cell in unstamped:
        key = _text(cell.get("id"))
        if key is None or key in taken:
            key = uuid.uuid4().hex
        taken.add(key)
        _own_section(cell)["cell_key"] = key
    return len(unstamped)


def notebook_key(nb: Mapping[str, Any]) -> str | None:
    """The notebook's ``metadata.cohortlab.notebook_key``, if it has been stamped."""
    return _text(_section(nb, "cohortlab").get("notebook_key"))


def stamp_notebook_key(nb: MutableMapping[str, Any]) -> str:
    """Return the notebook's key, stamping a UUID4 hex first for a notebook outside nbgrader."""
    key = notebook_key(nb)
    if key is None:
        key = uuid.uuid4().hex
        _own_section(nb)["notebook_key"] = key
    return key


def fingerprint(cells: Sequence[Cell], index: int) -> Anchor:
    """The anchor to store with a new thread on ``cells[index]``."""
    if not 0 <= index < len(cells):
        raise IndexError(f"cell index {index} is outside a notebook of {len(cells)} cells")
    text = _normalise(_source(cells[index]))
    return Anchor(
        cell_key=stable_cell_key(cells[index]),
        key_kind=key_kind(cells[index]),
        quote=_quote(text),
        source_hash=_hash(text),
        prev_hash=_hash(_normalise(_source(cells[index - 1]))) if index > 0 else None,
        next_hash=(
            _hash(_normalise(_source(cells[index + 1]))) if index + 1 < len(cells) else None
        ),
    )


def locate(anchor: Anchor, cells: Sequence[Cell]) -> Location:
    """Where ``anchor``'s thread shows in this copy (rules in the module docstring)."""
    return _Copy(cells).locate(anchor)


def locate_all(anchors: Iterable[Anchor], cells: Sequence[Cell]) -> list[Location]:
    """:func:`locate` for many anchors, reading each cell once; one location per anchor."""
    copy = _Copy(cells)
    found: dict[Anchor, Location] = {}
    locations = []
    for anchor in anchors:
        location = found.get(anchor)
        if location is None:
            location = found[anchor] = copy.locate(anchor)
        locations.append(location)
    return locations


@dataclass(frozen=True, slots=True)
class _CellInfo:
    key: str | None
    aliases: tuple[str, ...]  # the stamp and id when they are not the key
    graded: bool
    hash: str
    quote: str


@dataclass(slots=True)
class _Best:
    """The best cell found so far by similarity; a tie with another cell is not guessed."""

    score: float = 0.0
    similarity: float = 0.0
    index: int | None = None
    tied: bool = False


class _Copy:
    """One copy of a notebook, with each cell's key, hash and quote computed once."""

    def __init__(self, cells: Sequence[Cell]) -> None:
        self.cells = [_read(cell) for cell in cells]
        self.hashes = [info.hash for info in self.cells]
        self.by_key = _positions((info.key,) for info in self.cells)
        self.by_alias = _positions(info.aliases for info in self.cells)
        self.by_hash = _positions((info.hash,) for info in self.cells)
        self._grams: list[frozenset[str] | None] = [None] * len(self.cells)

    def locate(self, anchor: Anchor) -> Location:
        return (
            self._by_key(anchor)
            or self._by_content(anchor)
            or self._by_similarity(anchor)
            or ORPHANED
        )

    def _by_key(self, anchor: Anchor) -> Location | None:
        if anchor.cell_key is None:
            return None
        found = self.by_key.get(anchor.cell_key) or self.by_alias.get(anchor.cell_key)
        if not found:
            return None
        # Several cells carry the key only after a copy-paste: keep the most like the anchor.
        best_score, index, similarity = -1.0, -1, 0.0
        for candidate in found:
            candidate_similarity = self._similarity(candidate, anchor)
            score = candidate_similarity + NEIGHBOUR_WEIGHT * self._neighbours(candidate, anchor)
            if score > best_score:
                best_score, index, similarity = score, candidate, candidate_similarity
        key = self.cells[index].key
        # A graded cell is known exactly by its grade_id, and a learner is meant to
        # rewrite a solution cell: its threads stay on it however much it changed.
        if similarity >= KEEP_SIMILARITY or self.cells[index].graded:
            return Location("exact", index, key, similarity)
        return Location("changed", None, key, similarity)

    def _by_content(self, anchor: Anchor) -> Location | None:
        found = [i for i in self.by_hash.get(anchor.source_hash, ()) if not self.cells[i].graded]
        if len(found) > 1:
            matches = {i: self._neighbours(i, anchor) for i in found}
            best = max(matches.values())
            found = [i for i in found if matches[i] == best]
            if len(found) > 1:
                return ORPHANED  # identical cells in identical surroundings: not guessed
        if not found:
            return None
        return Location("moved", found[0], self.cells[found[0]].key, 1.0)

    def _by_similarity(self, anchor: Anchor) -> Location | None:
        matcher = SequenceMatcher(None, autojunk=False)  # autojunk would drop common letters
        matcher.set_seq2(anchor.quote)  # seq2 is the side difflib caches
        best = _Best()
        hinted = self._next_to_neighbours(anchor)
        for index, neighbours in hinted.items():
            self._compare(matcher, index, neighbours, best)
        if best.score <= 1.0:  # with no neighbour bonus no other cell scores above 1.0
            for index in self._likeliest(anchor, hinted):
                self._compare(matcher, index, 0, best)
        if best.index is None or best.tied:
            return None
        return Location("moved", best.index, self.cells[best.index].key, best.similarity)

    def _compare(self, matcher: SequenceMatcher, index: int, neighbours: int, best: _Best) -> None:
        """Score one cell against the anchor already in ``matcher``; keep it if it is best."""
        if self.cells[index].graded:
            return
        need = NEIGHBOURS_SIMILARITY if neighbours == 2 else MOVE_SIMILARITY
        floor = max(need, best.score - NEIGHBOUR_WEIGHT * neighbours)
        matcher.set_seq1(self.cells[index].quote)
        # Cheap upper bounds first: ratio() <= quick_ratio() <= real_quick_ratio().
        if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
            return
        similarity = matcher.ratio()
        if similarity < need:
            return
        score = similarity + NEIGHBOUR_WEIGHT * neighbours
        if score > best.score:
            best.score, best.similarity, best.index, best.tied = score, similarity, index, False
        elif score == best.score:
            best.tied = True

    def _likeliest(self, anchor: Anchor, hinted: Mapping[int, int]) -> list[int]:
        """The cells away from the neighbours worth comparing, likeliest first (GRAM_FLOOR)."""
        others = [i for i in range(len(self.cells)) if i not in hinted]
        if len(anchor.quote) < GRAM_MIN_LENGTH:
            return others
        anchor_grams = _grams(anchor.quote)
        short, ranked = [], []
        for index in others:
            quote = self.cells[index].quote
            if len(quote) < GRAM_MIN_LENGTH:
                short.append(index)  # too short to judge by 4-grams; real_quick_ratio() will
                continue
            grams = self._grams[index]
            if grams is None:
                grams = self._grams[index] = _grams(quote)
            dice = 2 * len(grams & anchor_grams) / (len(grams) + len(anchor_grams))
            if dice >= GRAM_FLOOR:
                ranked.append((-dice, index))
        ranked.sort()
        return [index for _, index in ranked[:SCAN_LIMIT]] + short

    def _similarity(self, index: int, anchor: Anchor) -> float:
        info = self.cells[index]
        if info.hash == anchor.source_hash:
            return 1.0
        return SequenceMatcher(None, info.quote, anchor.quote, autojunk=False).ratio()

    def _neighbours(self, index: int, anchor: Anchor) -> int:
        """How many of the cell's neighbours match the anchor's (a notebook edge matches None)."""
        before = self.hashes[index - 1] if index > 0 else None
        after = self.hashes[index + 1] if index + 1 < len(self.hashes) else None
        return (before == anchor.prev_hash) + (after == anchor.next_hash)

    def _next_to_neighbours(self, anchor: Anchor) -> dict[int, int]:
        """Cells with at least one neighbour matching, in order, with how many match."""
        last = len(self.cells) - 1
        counts: dict[int, int] = defaultdict(int)
        if anchor.prev_hash is None:
            starts = [0] if last >= 0 else []
        else:
            starts = [i + 1 for i in self.by_hash.get(anchor.prev_hash, ()) if i < last]
        if anchor.next_hash is None:
            ends = [last] if last >= 0 else []
        else:
            ends = [i - 1 for i in self.by_hash.get(anchor.next_hash, ()) if i > 0]
        for index in [*starts, *ends]:
            counts[index] += 1
        return dict(sorted(counts.items()))


def _read(cell: Cell) -> _CellInfo:
    text = _normalise(_source(cell))
    key = stable_cell_key(cell)
    aliases = tuple(
        alias for alias in (_stamp(cell), _text(cell.get("id"))) if alias and alias != key
    )
    return _CellInfo(key, aliases, _grade_id(cell) is not None, _hash(text), _quote(text))


def _positions(keys: Iterable[Iterable[str | None]]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = defaultdict(list)
    for index, cell_keys in enumerate(keys):
        for key in cell_keys:
            if key is not None:
                positions[key].append(index)
    return dict(positions)


def _source(cell: Cell) -> str:
    """nbformat allows a source to be one string or a list of lines."""
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list | tuple):
        return "".join(part for part in source if isinstance(part, str))
    return ""


def _normalise(source: str) -> str:
    lines = [
        line.rstrip(" \t\f\v")
        for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return "\n".join(lines[start:end])


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _quote(text: str) -> str:
    """The first QUOTE_LENGTH characters on one line, cut at a word when one ends near there."""
    text = " ".join(text.split())
    if len(text) <= QUOTE_LENGTH:
        return text
    space = text.rfind(" ", 0, QUOTE_LENGTH + 1)
    cut = space if space >= QUOTE_LENGTH * 3 // 4 else QUOTE_LENGTH
    return text[:cut] + "…"


def _grams(quote: str) -> frozenset[str]:
    return frozenset(quote[i : i + 4] for i in range(len(quote) - 3))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _section(owner: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    metadata = owner.get("metadata")
    section = metadata.get(name) if isinstance(metadata, Mapping) else None
    return section if isinstance(section, Mapping) else {}


def _grade_id(cell: Cell) -> str | None:
    return _text(_section(cell, "nbgrader").get("grade_id"))


def _stamp(cell: Cell) -> str | None:
    return _text(_section(cell, "cohortlab").get("cell_key"))


def _own_section(owner: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """``owner.metadata.cohortlab``, created if missing, of the owner's own mapping type (so an
    nbformat ``NotebookNode`` keeps attribute access)."""
    metadata = owner.setdefault("metadata", type(owner)())
    if not isinstance(metadata, MutableMapping):
        raise ValueError("metadata must be an object")
    section = metadata.setdefault("cohortlab", type(owner)())
    if not isinstance(section, MutableMapping):
        raise ValueError("metadata.cohortlab must be an object")
    return section
