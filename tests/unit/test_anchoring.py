"""Threads stay on their cell in every learner's copy: keys first, then content, never dropped."""

from __future__ import annotations

import copy
import uuid
from difflib import SequenceMatcher
from typing import Any

import nbformat
import pytest
from cohortlab.discussions.anchoring import (
    Anchor,
    Location,
    fingerprint,
    locate,
    locate_all,
    notebook_key,
    stable_cell_key,
    stamp_cell_keys,
    stamp_notebook_key,
)
from hypothesis import given
from hypothesis import strategies as st

Cell = dict[str, Any]

COURSE = [
    "# Week 3: Linear regression\n\nIn this notebook we fit a straight line to noisy data.",
    "import numpy as np\nimport matplotlib.pyplot as plt",
    "rng = np.random.default_rng(0)\nx = rng.uniform(0, 10, 50)\n"
    "y = 3 * x + 2 + rng.normal(0, 1, 50)",
    "## Exercise 1\n\nWrite a function `fit_line(x, y)` that returns the slope and the intercept "
    "of the least-squares line through the points.",
    "def fit_line(x, y):\n    A = np.vstack([x, np.ones_like(x)]).T\n"
    "    slope, intercept = np.linalg.lstsq(A, y, rcond=None)[0]\n    return slope, intercept",
    'slope, intercept = fit_line(x, y)\nprint(f"slope={slope:.2f} intercept={intercept:.2f}")',
    "## Exercise 2\n\nPlot the data and the fitted line on the same axes, with labelled axes "
    "and a legend.",
    'plt.scatter(x, y, label="data")\nplt.plot(x, slope * x + intercept, color="red", '
    'label="fit")\nplt.xlabel("x")\nplt.ylabel("y")\nplt.legend()',
    "## Reflection\n\nWhy does the fitted intercept differ from 2? Discuss how the noise level "
    "and the sample size affect the estimate, and what you would change to make it closer.",
]
SOLUTION = "# YOUR CODE HERE\nraise NotImplementedError()"


def make_cell(
    source: str | list[str],
    *,
    cell_id: str | None = None,
    grade_id: str | None = None,
    stamp: str | None = None,
) -> Cell:
    metadata: dict[str, Any] = {}
    if grade_id is not None:
        metadata["nbgrader"] = {"grade_id": grade_id, "solution": True, "grade": False}
    if stamp is not None:
        metadata["cohortlab"] = {"cell_key": stamp}
    cell: Cell = {"cell_type": "code", "metadata": metadata, "source": source}
    if cell_id is not None:
        cell["id"] = cell_id
    return cell


def course(sources: list[str] = COURSE) -> list[Cell]:
    """A course notebook in nbformat 4.5: every cell has an id."""
    return [make_cell(source, cell_id=uuid.uuid4().hex[:8]) for source in sources]


def with_fresh_ids(cells: list[Cell]) -> list[Cell]:
    """A learner's copy as JupyterLab may save it: same content, new random cell ids."""
    return [{**copy.deepcopy(cell), "id": uuid.uuid4().hex[:8]} for cell in cells]


def without_ids(cells: list[Cell]) -> list[Cell]:
    """The same notebook in nbformat 4.4, before cells had ids."""
    return [{k: v for k, v in copy.deepcopy(cell).items() if k != "id"} for cell in cells]


def with_source(cell: Cell, source: str) -> Cell:
    return {**copy.deepcopy(cell), "source": source}


def anchors_of(cells: list[Cell]) -> list[Anchor]:
    return [fingerprint(cells, index) for index in range(len(cells))]


def ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


# Keys


def test_grade_id_is_the_key_even_when_the_cell_has_a_stamp_and_an_id() -> None:
    cell = make_cell("x = 1", cell_id="abc", grade_id="q1", stamp="s1")
    assert stable_cell_key(cell) == "q1"


def test_stamp_is_the_key_of_a_cell_nbgrader_does_not_know() -> None:
    assert stable_cell_key(make_cell("x = 1", cell_id="abc", stamp="s1")) == "s1"


def test_cell_id_is_the_key_of_an_unstamped_cell() -> None:
    assert stable_cell_key(make_cell("x = 1", cell_id="abc")) == "abc"


@pytest.mark.parametrize(
    "cell",
    [
        {"cell_type": "markdown", "source": "hello"},
        {"source": "x", "metadata": None},
        {"source": "x", "metadata": {"nbgrader": "q1", "cohortlab": ["s1"]}},
        {"source": "x", "id": "", "metadata": {"nbgrader": {"grade_id": ""}}},
    ],
)
def test_cell_without_id_or_usable_metadata_has_no_key(cell: Cell) -> None:
    assert stable_cell_key(cell) is None


# Stamping


def test_stamping_keys_cells_by_their_ids_when_the_notebook_has_ids() -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "cells": course()}
    assert stamp_cell_keys(nb) == len(COURSE)
    assert [stable_cell_key(cell) for cell in nb["cells"]] == [c["id"] for c in nb["cells"]]


def test_stamping_gives_fresh_uuid_keys_when_cells_have_no_ids() -> None:
    nb = {"nbformat": 4, "nbformat_minor": 4, "cells": without_ids(course())}
    stamp_cell_keys(nb)
    keys = [stable_cell_key(cell) for cell in nb["cells"]]
    assert len(set(keys)) == len(keys)
    assert all(uuid.UUID(hex=key).version == 4 for key in keys if key)


def test_stamping_leaves_graded_cells_to_nbgrader_and_is_idempotent() -> None:
    cells = [make_cell(SOLUTION, cell_id="a", grade_id="q1"), make_cell("x = 1", cell_id="b")]
    nb = {"cells": cells}
    assert stamp_cell_keys(nb) == 1
    assert "cohortlab" not in cells[0]["metadata"]
    stamped = copy.deepcopy(nb)
    assert stamp_cell_keys(nb) == 0
    assert nb == stamped


def test_stamped_keys_survive_a_learner_copy_with_fresh_ids() -> None:
    release = {"cells": course()}
    stamp_cell_keys(release)
    anchors = anchors_of(release["cells"])
    learner = with_fresh_ids(release["cells"])
    assert [stable_cell_key(c) for c in learner] == [a.cell_key for a in anchors]
    locations = locate_all(anchors, learner)
    assert [(loc.status, loc.index) for loc in locations] == [
        ("exact", index) for index in range(len(COURSE))
    ]


def test_copy_pasted_cell_gets_its_own_key_when_stamped_again() -> None:
    original = make_cell("x = 1", cell_id="a", stamp="k1")
    pasted = make_cell("x = 1", cell_id="b", stamp="k1")  # JupyterLab copies the metadata
    nb = {"cells": [original, pasted]}
    assert stamp_cell_keys(nb) == 1
    assert (stable_cell_key(original), stable_cell_key(pasted)) == ("k1", "b")


def test_stamping_never_reuses_an_id_that_is_already_a_key() -> None:
    cells = [make_cell("a", cell_id="x", grade_id="dup"), make_cell("b", cell_id="dup")]
    stamp_cell_keys({"cells": cells})
    assert stable_cell_key(cells[1]) not in {"dup", None}


def test_stamping_keeps_nbformat_attribute_access() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    stamp_cell_keys(nb)
    stamp_notebook_key(nb)
    assert nb.cells[0].metadata.cohortlab.cell_key == nb.cells[0].id
    nbformat.validate(nb)


def test_notebook_key_is_stamped_once() -> None:
    nb: dict[str, Any] = {"cells": []}
    assert notebook_key(nb) is None
    key = stamp_notebook_key(nb)
    assert uuid.UUID(hex=key).version == 4
    assert stamp_notebook_key(nb) == key == notebook_key(nb)


def test_stamping_refuses_metadata_that_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="metadata"):
        stamp_cell_keys({"cells": [{"source": "x", "metadata": ["oops"]}]})


# Fingerprints


def test_fingerprint_records_the_key_and_the_neighbours_with_none_at_the_edges() -> None:
    cells = course()
    first, middle, last = fingerprint(cells, 0), fingerprint(cells, 1), fingerprint(cells, 8)
    assert middle.cell_key == cells[1]["id"]
    assert (first.prev_hash, last.next_hash) == (None, None)
    assert middle.prev_hash == first.source_hash
    assert middle.next_hash == fingerprint(cells, 2).source_hash


def test_quote_is_readable_whitespace_collapsed_and_short() -> None:
    long_cell = make_cell("## Title\n\n" + "word " * 100)
    quote = fingerprint([long_cell], 0).quote
    assert quote.startswith("## Title word word")
    assert "\n" not in quote and "  " not in quote
    assert 150 <= len(quote) <= 201 and quote.endswith("word…")


def test_fingerprint_rejects_an_index_outside_the_notebook() -> None:
    with pytest.raises(IndexError):
        fingerprint(course(), len(COURSE))
    with pytest.raises(IndexError):
        fingerprint(course(), -1)


@given(
    lines=st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)),
    trailing=st.lists(st.sampled_from(["", " ", "\t", "  \t"]), min_size=1, max_size=3),
    as_list=st.booleans(),
    crlf=st.booleans(),
)
def test_source_hash_ignores_trailing_spaces_blank_ends_line_endings_and_list_form(
    lines: list[str], trailing: list[str], as_list: bool, crlf: bool
) -> None:
    clean = [line.replace("\r", "").replace("\n", "").rstrip(" \t\f\v") for line in lines]
    plain = "\n".join(clean)
    newline = "\r\n" if crlf else "\n"
    padded_lines = [" \t", *(line + trailing[i % len(trailing)] for i, line in enumerate(clean))]
    padded = newline.join([*padded_lines, "   ", ""])
    source: str | list[str] = padded.splitlines(keepends=True) if as_list else padded
    assert fingerprint([{"source": source}], 0).source_hash == (
        fingerprint([{"source": plain}], 0).source_hash
    )


def test_anchor_round_trips_through_json() -> None:
    anchor = fingerprint(course(), 3)
    assert Anchor.from_json(anchor.to_json()) == anchor
    assert Anchor.from_json({**anchor.to_json(), "added_later": 1}) == anchor


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"quote": "x"},
        {"quote": 1, "source_hash": "h"},
        {"quote": "x", "source_hash": "h", "cell_key": 5},
        {"quote": "x", "source_hash": "h", "prev_hash": ["h"]},
    ],
)
def test_anchor_from_json_names_the_bad_field(data: Any) -> None:
    with pytest.raises(ValueError, match="anchor"):
        Anchor.from_json(data)


def test_location_json_is_ready_for_the_api() -> None:
    location = Location("moved", 3, "k", 0.87654)
    assert location.to_json() == {
        "status": "moved",
        "index": 3,
        "cell_key": "k",
        "similarity": 0.877,
    }


# Locating: copies


def test_same_copy_finds_every_anchor_exactly() -> None:
    cells = course()
    locations = locate_all(anchors_of(cells), cells)
    assert all(loc.status == "exact" and loc.similarity == 1.0 for loc in locations)
    assert [loc.index for loc in locations] == list(range(len(COURSE)))


@pytest.mark.parametrize("learner_copy", [with_fresh_ids, without_ids])
def test_learner_copy_with_other_or_no_ids_finds_every_anchor(learner_copy: Any) -> None:
    cells = course()
    learner = learner_copy(cells)
    locations = locate_all(anchors_of(cells), learner)
    assert [(loc.status, loc.index) for loc in locations] == [
        ("moved", index) for index in range(len(COURSE))
    ]
    assert [loc.cell_key for loc in locations] == [stable_cell_key(c) for c in learner]


def test_moved_cell_in_a_copy_with_fresh_ids_is_moved_to_its_new_index() -> None:
    cells = course()
    learner = with_fresh_ids(cells)
    learner.insert(1, learner.pop(7))
    location = locate(fingerprint(cells, 7), learner)
    assert (location.status, location.index) == ("moved", 1)


def test_moved_cell_that_kept_its_key_is_exact_at_its_new_index() -> None:
    cells = course()
    reordered = copy.deepcopy(cells)
    reordered.insert(1, reordered.pop(7))
    location = locate(fingerprint(cells, 7), reordered)
    assert (location.status, location.index) == ("exact", 1)


@pytest.mark.parametrize("learner_copy", [copy.deepcopy, with_fresh_ids, without_ids])
def test_deleted_cell_leaves_its_thread_orphaned_not_dropped(learner_copy: Any) -> None:
    cells = course()
    learner = learner_copy(cells)
    del learner[4]
    locations = locate_all(anchors_of(cells), learner)
    assert len(locations) == len(COURSE)
    assert locations[4] == Location("orphaned")
    assert [loc.index for i, loc in enumerate(locations) if i != 4] == list(range(len(learner)))


# Locating: edits


def test_typo_fix_keeps_the_anchor_by_key_and_by_content() -> None:
    cells = course()
    anchor = fingerprint(cells, 3)
    fixed = cells[3]["source"].replace("least-squares", "least squares")
    for learner, status in [(copy.deepcopy(cells), "exact"), (without_ids(cells), "moved")]:
        learner[3] = with_source(learner[3], fixed)
        location = locate(anchor, learner)
        assert (location.status, location.index) == (status, 3)
        assert location.similarity > 0.95


def test_line_added_to_a_long_cell_keeps_the_anchor() -> None:
    cells = course()
    assert len(fingerprint(cells, 8).quote) > 150  # long enough to be cut
    anchor = fingerprint(cells, 8)
    longer = cells[8]["source"] + "\n\n*Hint:* try n = 500 as well."
    for learner, status in [(copy.deepcopy(cells), "exact"), (with_fresh_ids(cells), "moved")]:
        learner[8] = with_source(learner[8], longer)
        learner.insert(0, learner.pop(8))  # and moved to the top
        location = locate(anchor, learner)
        assert (location.status, location.index) == (status, 0)


def test_rewording_the_start_of_a_long_cell_cut_mid_word_keeps_the_anchor() -> None:
    url = "https://example.org/datasets/" + "regression-sample-" * 6 + "v2.csv"
    source = "## Data\n\nDownload the measurements we colected last week from " + url
    cells = course([*COURSE[:2], source, *COURSE[3:]])
    anchor = fingerprint(cells, 2)
    assert len(anchor.quote) == 201  # no word ends near the cut; difflib's autojunk would bite
    learner = copy.deepcopy(cells)
    reworded = "(updated) Please download the measurements that we collected"
    learner[2] = with_source(
        learner[2], source.replace("Download the measurements we colected", reworded)
    )
    location = locate(anchor, learner)
    assert (location.status, location.index) == ("exact", 2)
    assert location.similarity > 0.85


def test_rewritten_cell_is_changed_when_found_by_key() -> None:
    cells = course()
    learner = copy.deepcopy(cells)
    learner[4] = with_source(learner[4], "from scipy import stats\nres = stats.linregress(x, y)")
    location = locate(fingerprint(cells, 4), learner)
    assert (location.status, location.index) == ("changed", None)
    assert location.cell_key == cells[4]["id"] and location.similarity < 0.6


def test_answered_solution_cell_keeps_its_threads_however_rewritten() -> None:
    """A learner is meant to replace ``# YOUR CODE HERE``: the grade_id names the cell."""
    cells = [make_cell(COURSE[0], cell_id="a"), make_cell(SOLUTION, cell_id="b", grade_id="q1")]
    learner = copy.deepcopy(cells)
    learner[1] = with_source(learner[1], "slope, intercept = np.polyfit(x, y, 1)\nprint(slope)")
    location = locate(fingerprint(cells, 1), learner)
    assert (location.status, location.index, location.cell_key) == ("exact", 1, "q1")
    assert location.similarity < 0.6


def test_rewritten_cell_is_orphaned_when_not_found_by_key() -> None:
    cells = course()
    learner = with_fresh_ids(cells)
    learner[4] = with_source(learner[4], "from scipy import stats\nres = stats.linregress(x, y)")
    assert locate(fingerprint(cells, 4), learner).status == "orphaned"


def test_cell_edited_where_it_stood_is_kept_at_lower_similarity_between_its_neighbours() -> None:
    cells = course()
    anchor = fingerprint(cells, 5)
    edited = 'm, c = fit_line(x, y)\nprint("the slope is", round(m, 1))'
    similarity = ratio(fingerprint([make_cell(edited)], 0).quote, anchor.quote)
    assert 0.45 <= similarity < 0.6  # the case this rule is for
    learner = without_ids(cells)
    learner[5] = with_source(learner[5], edited)
    assert (locate(anchor, learner).status, locate(anchor, learner).index) == ("moved", 5)
    learner.insert(0, learner.pop(5))  # the same edit away from its neighbours is too weak
    assert locate(anchor, learner).status == "orphaned"


# Locating: look-alikes


def test_duplicate_cells_are_told_apart_by_their_neighbours() -> None:
    sources = ["## Part A", "x = load()", "summary(x)", "## Part B", "y = load()", "summary(x)"]
    cells = course(sources)
    learner = with_fresh_ids(cells)
    assert [locate(fingerprint(cells, i), learner).index for i in (2, 5)] == [2, 5]


def test_identical_cells_in_identical_surroundings_are_not_guessed() -> None:
    cells = course(["setup()", "", "check()", "setup()", "", "check()"])
    learner = with_fresh_ids(cells)
    assert locate(fingerprint(cells, 1), learner).status == "orphaned"
    assert locate(fingerprint(cells, 1), cells).index == 1  # its own key still finds it


def test_graded_look_alike_is_never_taken_for_a_deleted_graded_cell() -> None:
    cells = [
        make_cell("## Q1 Write `mean(xs)`", cell_id="m1"),
        make_cell(SOLUTION, cell_id="c1", grade_id="q1"),
        make_cell("## Q2 Write `median(xs)`", cell_id="m2"),
        make_cell(SOLUTION, cell_id="c2", grade_id="q2"),
    ]
    anchor = fingerprint(cells, 1)
    learner = with_fresh_ids(cells)
    del learner[1]
    assert locate(anchor, learner).status == "orphaned"


def test_copy_pasted_key_resolves_to_the_cell_most_like_the_anchor() -> None:
    cells = course()
    stamp_cell_keys({"cells": cells})
    anchor = fingerprint(cells, 4)
    learner = with_fresh_ids(cells)
    pasted = with_source(learner[4], "# my scratch copy\nprint(fit_line(x, x))")
    learner.insert(2, pasted)  # the paste carries the stamp along
    location = locate(anchor, learner)
    assert (location.status, location.index) == ("exact", 5)


def test_anchor_made_before_the_cell_was_graded_still_finds_it_by_its_stamp() -> None:
    cells = course()
    stamp_cell_keys({"cells": cells})
    anchor = fingerprint(cells, 4)
    graded = copy.deepcopy(cells)
    graded[4]["metadata"]["nbgrader"] = {"grade_id": "fit_line", "solution": True}
    location = locate(anchor, graded)
    assert (location.status, location.index, location.cell_key) == ("exact", 4, "fit_line")


# locate and locate_all


def test_locate_all_gives_one_location_per_anchor_in_order_even_when_repeated() -> None:
    cells = course()
    anchors = [fingerprint(cells, i) for i in (3, 0, 3, 8)]
    learner = with_fresh_ids(cells)
    assert locate_all(anchors, learner) == [locate(anchor, learner) for anchor in anchors]
    assert [loc.index for loc in locate_all(anchors, learner)] == [3, 0, 3, 8]


def test_empty_notebook_orphans_every_anchor() -> None:
    assert locate_all(anchors_of(course()), []) == [Location("orphaned")] * len(COURSE)


# Properties

WORDS = [
    *("data", "model", "plot", "mean", "fit", "line", "array", "frame", "value", "test"),
    *("loss", "train", "sample", "noise", "slope", "import", "numpy", "pandas", "print"),
    *("return", "def", "for", "in", "if", "else", "the", "of", "and", "to", "a", "is"),
]
LINE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
SOURCE = st.lists(LINE, min_size=1, max_size=4).map("\n".join)
SOURCES = st.lists(
    SOURCE,
    min_size=1,
    max_size=25,
    unique_by=lambda source: fingerprint([{"source": source}], 0).source_hash,
)


def notebook_from(sources: list[str], as_lists: list[bool]) -> list[Cell]:
    cells = course(sources)
    for cell, as_list in zip(cells, as_lists, strict=False):
        if as_list:
            cell["source"] = cell["source"].splitlines(keepends=True)
    return cells


@given(
    sources=SOURCES,
    as_lists=st.lists(st.booleans(), max_size=25),
    ids=st.sampled_from(["kept", "fresh", "none"]),
    shuffle=st.randoms(use_true_random=False),
)
def test_every_anchor_follows_its_cell_through_new_ids_and_reordering(
    sources: list[str], as_lists: list[bool], ids: str, shuffle: Any
) -> None:
    cells = notebook_from(sources, as_lists)
    anchors = anchors_of(cells)
    learner = {"kept": copy.deepcopy, "fresh": with_fresh_ids, "none": without_ids}[ids](cells)
    order = list(range(len(cells)))
    shuffle.shuffle(order)
    learner = [learner[i] for i in order]
    expected = {"kept": "exact", "fresh": "moved", "none": "moved"}[ids]
    for original, location in enumerate(locate_all(anchors, learner)):
        assert (location.status, location.index) == (expected, order.index(original))


@given(
    sources=SOURCES,
    as_lists=st.lists(st.booleans(), max_size=25),
    fresh=st.booleans(),
    data=st.data(),
)
def test_deleting_a_cell_orphans_its_anchor_and_no_other(
    sources: list[str], as_lists: list[bool], fresh: bool, data: st.DataObject
) -> None:
    cells = notebook_from(sources, as_lists)
    anchors = anchors_of(cells)
    gone = data.draw(st.integers(0, len(cells) - 1), label="deleted")
    learner = with_fresh_ids(cells) if fresh else copy.deepcopy(cells)
    del learner[gone]
    locations = locate_all(anchors, learner)
    lost = locations[gone]
    # Its text may be close enough to another cell's to be taken for it moved, never exact.
    assert lost.status == "orphaned" or (lost.status == "moved" and lost.similarity >= 0.45)
    for original, location in enumerate(locations):
        if original != gone:
            assert location.index == (original if original < gone else original - 1)
            assert location.status == ("moved" if fresh else "exact")


@given(
    kinds=st.lists(st.sampled_from(["graded", "stamped", "id", "bare"]), max_size=20),
    pasted=st.booleans(),
)
def test_stamping_leaves_every_cell_a_unique_key_and_a_second_run_changes_nothing(
    kinds: list[str], pasted: bool
) -> None:
    cells = []
    for i, kind in enumerate(kinds):
        cells.append(
            make_cell(
                f"cell {i}",
                cell_id=None if kind == "bare" else f"id{i}",
                grade_id=f"q{i}" if kind == "graded" else None,
                stamp=f"s{i}" if kind == "stamped" else None,
            )
        )
    if pasted and cells:
        cells.append(copy.deepcopy(cells[0]))
        cells[-1]["id"] = "pasted"
    nb = {"cells": cells}
    stamp_cell_keys(nb)
    keys = [stable_cell_key(cell) for cell in cells]
    if not (pasted and kinds and kinds[0] == "graded"):  # nbgrader's own duplicate, not ours
        assert None not in keys and len(set(keys)) == len(keys)
    once = copy.deepcopy(nb)
    assert stamp_cell_keys(nb) == 0
    assert nb == once
