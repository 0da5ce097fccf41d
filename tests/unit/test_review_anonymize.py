"""Anonymous review copies: a realistic submission that names its author in metadata,
sources, outputs, tracebacks, paths and images comes out with nothing the checker can find,
still a valid notebook that reviewers can read and run, and the input untouched; pseudonym
numbers follow a secret order, not the names."""

from __future__ import annotations

import base64
import copy
import re
import string
import struct
import zlib
from typing import Any

import nbformat
import pytest
from cohortlab.reviews._fold import Prefilter, fold
from cohortlab.reviews.anonymize import (
    MIN_SECRET_BYTES,
    Author,
    anonymize_notebook,
    find_identifying,
    number_submissions,
    pseudonym,
    scrub_text,
)
from cohortlab.reviews.names import REPLACE
from cohortlab.reviews.names import fold as fold_name
from cohortlab.reviews.rubric import parse_copies
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)

SECRET = b"round-secret-0123456789"
USER = "asmith"
FULL = "Alice Smith"
EMAIL = "alice.smith@uni.example"
AUTHOR = Author(USER, (FULL, EMAIL))
TYPED = ("Alice P. Smith", "Bob Jones")  # what she typed in nbgrader's NAME/COLLABORATORS cell
EVERYTHING = (USER, FULL, EMAIL, *TYPED)
PNG = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Parse a PNG strictly: signature, lengths and every CRC."""
    assert data.startswith(PNG)
    out, pos = [], len(PNG)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        out.append((kind, body))
        pos += 12 + length
    return out


PIXELS = b"\x00\xff\x00\x00\x00\x00\xff\x00"  # two rows of one RGB pixel, filter byte first
SIGNED_PNG = (
    PNG
    + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 2, 8, 2, 0, 0, 0))
    + png_chunk(b"tEXt", b"Author\0Alice Smith")
    + png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"plotted by asmith"))
    + png_chunk(b"iTXt", b"Title\0\x01\0en\0\0" + zlib.compress(b"alice.smith@uni.example"))
    + png_chunk(b"tIME", b"\x07\xe8\x01\x02\x03\x04\x05")
    + png_chunk(b"gAMA", struct.pack(">I", 45455))
    + png_chunk(b"IDAT", zlib.compress(PIXELS))
    + png_chunk(b"IEND", b"")
)


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


SCAN = b"\x12\x34\xff\x00\x56"  # entropy-coded data, with a stuffed 0xFF
SIGNED_JPEG = (
    b"\xff\xd8"
    + jpeg_segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    + jpeg_segment(0xE1, b"Exif\0\0MM\0*Artist\0Alice Smith\0" + "asmith".encode("utf-16-le"))
    + jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<dc:creator>asmith</dc:creator>")
    + jpeg_segment(0xED, b"Photoshop 3.0\0By-line Alice Smith")
    + jpeg_segment(0xFE, b"taken by alice.smith@uni.example")
    + jpeg_segment(0xDB, b"\0" + bytes(64))
    + jpeg_segment(0xC0, b"\x08\0\x01\0\x01\x01\x01\x11\0")
    + jpeg_segment(0xDA, b"\x01\x01\0\0\x3f\0")
    + SCAN
    + b"\xff\xd9"
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg"><metadata><rdf:RDF><dc:creator>Alice Smith'
    "</dc:creator></rdf:RDF></metadata><text>Result</text></svg>"
)
TRACEBACK = [
    "\x1b[0;31m-----------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mFileNotFoundError\x1b[0m                 Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[3], line 2\x1b[0m\n\x1b[1;32m      1\x1b[0m df = pd.read_csv("
    "\x1b[38;5;124m'/home/asmith/hw1/missing.csv'\x1b[39m)",
    "File \x1b[0;32m/home/asmith/.local/lib/python3.11/site-packages/pandas/io/parsers.py:912"
    "\x1b[0m, in \x1b[0;36mread_csv\x1b[0;34m(filepath)\x1b[0m",
    "File C:\\Users\\asmith\\AppData\\Roaming\\Python\\site.py:3",
    "\x1b[0;31mFileNotFoundError\x1b[0m: [Errno 2] No such file: '/home/asmith/hw1/missing.csv'",
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode() + "\n"


def submission() -> nbformat.NotebookNode:
    """A submitted nbgrader notebook that gives its author away everywhere it can."""
    header = new_code_cell(
        f'NAME = "{TYPED[0]}"\nCOLLABORATORS = \'{TYPED[1]}\'',
        metadata={"nbgrader": {"grade": False, "grade_id": "header", "locked": False,
                               "schema_version": 3, "solution": True, "task": False}},
    )  # fmt: skip
    intro = new_markdown_cell(
        f"# Homework 1\nSubmitted by {FULL} ({EMAIL}).\n\n![plot](attachment:asmith_plot.png)\n"
        "Notes in ~asmith/notes and /Users/asmith/Desktop; shared data in /home/jovyan/data.",
        attachments={"asmith_plot.png": {"image/png": b64(SIGNED_PNG)}},
    )
    load = new_code_cell(
        "import pandas as pd\ndf = pd.read_csv('/home/asmith/hw1/data.csv')\n"
        "asmith_total = df.value.sum()  # my total\nprint(asmith_total)",
        execution_count=2,
        metadata={
            "execution": {"iopub.execute_input": "2024-03-01T10:00:00Z"},
            "ExecuteTime": {"end_time": "2024-03-01T10:00:01Z"},
            "tags": ["solution"],
            "nbgrader": {"grade": True, "grade_id": "q1", "points": 3, "solution": True},
            "cohortlab": {"cell_key": "3f2a9c", "quiz": "q-hw1-1", "notebook_key": "x"},
            "vscode": {"languageId": "python"},
        },
        outputs=[
            new_output("stream", name="stdout", text=["42\n", "saved to /home/asmith/out.csv\n"]),
            new_output("stream", name="stderr", text="user \x1b[1mas\x1b[0mmith logged in\n"),
        ],
    )
    load["id"] = "learner-cell-7f3e"
    failing = new_code_cell(
        "pd.read_csv('/home/asmith/hw1/missing.csv')",
        execution_count=3,
        outputs=[
            new_output(
                "error",
                ename="FileNotFoundError",
                evalue="[Errno 2] No such file: '/home/asmith/hw1/missing.csv'",
                traceback=TRACEBACK,
            )
        ],
    )
    shown = new_code_cell(
        "show()",
        execution_count=4,
        outputs=[
            new_output(
                "display_data",
                data={
                    "text/plain": "<Figure by Alice Smith>",
                    "text/html": f"<table><tr><td>{USER}</td><td>{EMAIL}</td></tr></table>"
                    f'<img src="data:image/png;base64,{base64.b64encode(SIGNED_PNG).decode()}">',
                    "image/png": b64(SIGNED_PNG),
                    "image/jpeg": b64(SIGNED_JPEG),
                    "image/svg+xml": SVG,
                    "application/json": {"user": USER, "home": "/home/asmith", USER: [FULL]},
                    "application/vnd.vegalite.v5+json": {"title": f"Scores of {FULL}"},
                },
                metadata={"image/png": {"width": 100}, "filename": "/home/asmith/plot.png"},
            ),
            new_output(
                "execute_result",
                execution_count=4,
                data={"text/plain": "'https://hub.example/user/asmith/lab/tree/hw1'"},
            ),
        ],
    )
    return new_notebook(
        cells=[header, intro, load, failing, shown],
        metadata={
            "kernelspec": {"name": "python3", "display_name": f"Python 3 ({USER})"},
            "language_info": {"name": "python", "version": "3.11.9"},
            "authors": [{"name": FULL}],
            "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"m": USER}}},
            "papermill": {"input_path": "/home/asmith/hw1.ipynb"},
            "cohortlab": {"notebook_key": "9b1f0c2d", "course": "course101"},
            "celltoolbar": "Create Assignment",
        },
    )  # fmt: skip


@pytest.fixture
def cl_submission() -> nbformat.NotebookNode:
    return submission()


# --- the copy ---------------------------------------------------------------------------------


def test_the_checker_sees_the_author_everywhere_in_the_submission(cl_submission) -> None:
    found = find_identifying(cl_submission, EVERYTHING)
    where = {f.where for f in found}
    assert {"metadata.authors[0].name", "metadata.kernelspec.display_name"} <= where
    assert "metadata.widgets.application/vnd.jupyter.widget-state+json.state.m" in where
    assert "cells[1].attachments.asmith_plot.png" in where
    assert "cells[2].outputs[1].text" in where  # only once the colour codes are gone
    assert any(w.startswith("cells[3].outputs[0].traceback") for w in where)
    forms = {(f.where, f.form) for f in found}
    assert ("cells[4].outputs[0].data.image/png", "base64") in forms  # tEXt/zTXt/iTXt
    assert ("cells[4].outputs[0].data.image/jpeg", "base64") in forms  # EXIF, XMP, comment
    assert ("cells[4].outputs[0].data.text/html", "data-uri") in forms
    assert ("cells[2].outputs[1].text", "ansi") in forms
    assert {f.string for f in found} == set(EVERYTHING)


def test_the_anonymous_copy_holds_nothing_the_checker_can_find(cl_submission) -> None:
    copy_ = anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    assert find_identifying(copy_, EVERYTHING) == []
    assert find_identifying(copy_, EVERYTHING, whole_words=True) == []
    nbformat.validate(copy_)
    assert isinstance(copy_, nbformat.NotebookNode)
    assert "asmith" not in nbformat.writes(copy_).lower()


def test_the_input_is_never_changed(cl_submission) -> None:
    before = copy.deepcopy(cl_submission)
    anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    assert cl_submission == before


def test_reviewers_still_get_the_work_the_rubric_and_the_outputs(cl_submission) -> None:
    copy_ = anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    cells = copy_.cells
    assert [c.cell_type for c in cells] == [c.cell_type for c in cl_submission.cells]
    assert cells[0].source == 'NAME = ""\nCOLLABORATORS = ""'
    assert cells[2].source == (
        "import pandas as pd\ndf = pd.read_csv('/home/learner/hw1/data.csv')\n"
        "learner_total = df.value.sum()  # my total\nprint(learner_total)"
    )
    assert cells[2].metadata == {
        "tags": ["solution"],
        "nbgrader": {"grade": True, "grade_id": "q1", "points": 3, "solution": True},
        "cohortlab": {"cell_key": cells[2].metadata.cohortlab.cell_key, "quiz": "q-hw1-1"},
    }
    assert cells[0].metadata.nbgrader.grade_id == "header"
    assert "shared data in /home/jovyan/data" in cells[1].source  # a home that names no one
    assert "~learner/notes and /Users/learner/Desktop" in cells[1].source
    assert cells[2].outputs[0].text == "42\nsaved to /home/learner/out.csv\n"
    assert cells[2].outputs[1].text == "user learner logged in\n"  # colours dropped to get it
    error = cells[3].outputs[0]
    assert error.evalue == "[Errno 2] No such file: '/home/learner/hw1/missing.csv'"
    assert "\x1b[0;32m/home/learner/.local/lib/python3.11" in error.traceback[3]  # colours kept
    assert error.traceback[4] == "File C:\\Users\\learner\\AppData\\Roaming\\Python\\site.py:3"
    data = cells[4].outputs[0].data
    assert data["application/json"] == {
        "user": "learner",
        "home": "/home/learner",
        "learner": ["learner"],
    }
    assert data["application/vnd.vegalite.v5+json"] == {"title": "Scores of learner"}
    assert (
        "<metadata" not in data["image/svg+xml"] and "<text>Result</text>" in data["image/svg+xml"]
    )
    assert (
        cells[4].outputs[1].data["text/plain"] == "'https://hub.example/user/learner/lab/tree/hw1'"
    )
    assert cells[4].outputs[1].execution_count == 4
    assert list(cells[1].attachments) == ["learner_plot.png"]
    assert "(attachment:learner_plot.png)" in cells[1].source
    assert copy_.metadata == {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (learner)"},
        "language_info": {"name": "python", "version": "3.11.9"},
    }  # fmt: skip


def test_cell_ids_and_keys_are_stable_in_a_round_and_unlinkable_to_the_author(
    cl_submission,
) -> None:
    one = anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    again = anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    other = anonymize_notebook(cl_submission, AUTHOR, secret=b"another-round-secret-0000")
    ids = [c.id for c in one.cells]
    assert ids == [c.id for c in again.cells]
    assert not set(ids) & {c.id for c in other.cells}
    assert not set(ids) & {c.id for c in cl_submission.cells}
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert one.cells[2].metadata.cohortlab.cell_key not in ("3f2a9c", ids[2])


def test_png_loses_its_text_chunks_and_keeps_its_pixels(cl_submission) -> None:
    copy_ = anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    for data in (copy_.cells[4].outputs[0].data["image/png"],
                 copy_.cells[1].attachments["learner_plot.png"]["image/png"]):  # fmt: skip
        chunks = png_chunks(base64.b64decode(data))
        assert [kind for kind, _ in chunks] == [b"IHDR", b"gAMA", b"IDAT", b"IEND"]
        assert zlib.decompress(dict(chunks)[b"IDAT"]) == PIXELS


def test_jpeg_loses_exif_xmp_iptc_and_comments_and_keeps_its_scan(cl_submission) -> None:
    copy_ = anonymize_notebook(cl_submission, AUTHOR, secret=SECRET)
    data = base64.b64decode(copy_.cells[4].outputs[0].data["image/jpeg"])
    markers = []
    pos = 2
    while data[pos + 1] != 0xDA:
        markers.append(data[pos + 1])
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    assert markers == [0xE0, 0xDB, 0xC0]  # JFIF, quantisation table, frame header
    assert data.endswith(SCAN + b"\xff\xd9")


def test_an_image_that_cannot_be_parsed_is_kept_as_it_is() -> None:
    bundle = {
        "image/png": b64(PNG + b"\0\0\0\xffIHDR"),  # cut short
        "image/jpeg": b64(b"\xff\xd8\xff\xe1\x00"),
        "image/gif": b64(b"GIF89a"),  # not parsed at all: see the module's limits
        "application/pdf": "not base64 at all",
    }
    nb = new_notebook(cells=[new_code_cell("x", outputs=[new_output("display_data", data=bundle)])])
    assert anonymize_notebook(nb, AUTHOR, secret=SECRET).cells[0].outputs[0].data == bundle


def test_short_user_names_are_replaced_only_in_home_paths() -> None:
    text = "As in Smith et al. we read /home/al/data and C:/Users/al/x"
    assert scrub_text(text, Author("al")) == (
        "As in Smith et al. we read /home/learner/data and C:/Users/learner/x"
    )


def test_escaped_encoded_and_decomposed_names_are_replaced() -> None:
    author = Author("sio.obrien@uni.example", ("Siobhán O'Brien",))
    text = (
        "<p>Siobh\u0061\u0301n O&#x27;Brien</p> /user/sio.obrien%40uni.example/lab SIOBHÁN O'BRIEN"
    )
    scrubbed = scrub_text(text, author)
    assert scrubbed == "<p>learner</p> /user/learner/lab learner"
    assert find_identifying({"t": scrubbed}, author.strings()) == []


def test_a_different_placeholder_and_more_shared_homes_can_be_chosen() -> None:
    text = "/home/asmith/a /home/grader-course101/data/b /home/jovyan/c"
    scrubbed = scrub_text(text, AUTHOR, placeholder="peer", shared_homes={"grader-course101"})
    assert scrubbed == "/home/peer/a /home/grader-course101/data/b /home/peer/c"


def test_the_round_secret_must_be_long_enough(cl_submission) -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_SECRET_BYTES} bytes"):
        anonymize_notebook(cl_submission, AUTHOR, secret="short")


TEMPLATES = [
    "{}", "by {}.", "/home/{}/hw1/data.csv", "'{}'", "<td>{}</td>", "{}_total = 3",
    "https://hub.example/user/{}/lab", "C:\\Users\\{}\\x", "~{}/notes", "({}, {})",
]  # fmt: skip


def text_around(name: str) -> st.SearchStrategy[str]:
    """The name set in ordinary text, paths and URLs, with separators around it."""
    templates = TEMPLATES
    return st.lists(st.sampled_from(templates), min_size=1, max_size=4).map(
        lambda ts: "\n".join(t.format(name, name) for t in ts)
    )


def _format_words() -> set[str]:
    """Every key and fixed value of the notebook built below, without any text in it: the
    strict check reads keys too, and nbformat's own words must stay ("ceb" is in
    "traceback"; the service's check, whole words only, never sees those)."""
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": ""}},
        cells=[
            new_markdown_cell(""),
            new_code_cell("", outputs=[
                new_output("stream", name="stdout", text=""),
                new_output("display_data", data={"text/html": "", "application/json": {}}),
                new_output("error", ename="E", evalue="", traceback=["\x1b[31m\x1b[0m"]),
            ]),
        ],
    )  # fmt: skip
    words: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                words.add(str(k).casefold())
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and value:
            words.add(value.casefold())

    walk(nb)
    return words - {cell.get("id", "").casefold() for cell in nb["cells"]}


# The strict check finds any substring: a name inside the fixed text around it ("ser" in
# ".../user/...") or inside nbformat's own words would be reported wherever that text is.
FORMAT_WORDS = _format_words() | {t.replace("{}", "\0").casefold() for t in TEMPLATES}
names = st.text(string.ascii_letters + "éøß-.", min_size=3, max_size=12).filter(
    lambda n: (
        n[0].isalpha() and n[-1].isalpha() and not any(n.casefold() in w for w in FORMAT_WORDS)
    )
)


@settings(max_examples=200, deadline=None)
@given(names, st.data())
def test_any_name_anywhere_in_text_and_outputs_is_gone(name: str, data: Any) -> None:
    place = data.draw
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": place(text_around(name))}},
        cells=[
            new_markdown_cell(place(text_around(name))),
            new_code_cell(place(text_around(name)), outputs=[
                new_output("stream", name="stdout", text=place(text_around(name))),
                new_output("display_data", data={
                    "text/html": place(text_around(name)),
                    "application/json": {name: place(text_around(name))},
                }),
                new_output("error", ename="E", evalue=place(text_around(name)),
                           traceback=[f"\x1b[31m{place(text_around(name))}\x1b[0m"]),
            ]),
        ],
    )  # fmt: skip
    before = copy.deepcopy(nb)
    # a name that is also a common word ("LAS") is replaced once staff decide so
    out = anonymize_notebook(nb, Author(name), secret=SECRET, words={fold_name(name): REPLACE})
    assert nb == before
    assert find_identifying(out, [name]) == []


# --- the checker ------------------------------------------------------------------------------


def test_whole_words_ignores_names_inside_other_words() -> None:
    doc = {"text": "the annual channel report", "by": "ann-marie"}
    assert {f.where for f in find_identifying(doc, ["ann"])} == {"text", "by"}
    assert [f.where for f in find_identifying(doc, ["ann"], whole_words=True)] == ["by"]


def test_the_placeholder_does_not_count_as_a_name() -> None:
    doc = {"path": "/home/learner/hw1"}
    assert find_identifying(doc, ["Lea", "earn"]) == []
    assert find_identifying(doc, ["Lea"], neutral=()) != []
    assert find_identifying({"path": "/home/learner1/hw1"}, ["learner1"]) != []


def test_the_checker_reads_utf16_and_mapping_keys() -> None:
    doc = {"asmith": 1, "blob": base64.b64encode("by asmith".encode("utf-16-le")).decode()}
    found = {(f.where, f.form) for f in find_identifying(doc, ["ASMITH"])}
    assert found == {("asmith", "key"), ("blob", "base64")}


# --- pseudonyms -------------------------------------------------------------------------------


@given(st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=30), st.randoms())
def test_pseudonyms_number_everyone_once_whatever_the_order(keys, shuffler) -> None:
    numbers = number_submissions(keys, SECRET)
    assert sorted(numbers.values()) == list(range(1, len(keys) + 1))
    shuffled = list(keys)
    shuffler.shuffle(shuffled)
    assert number_submissions(shuffled, SECRET) == numbers


def test_pseudonym_order_is_not_alphabetical_and_depends_on_the_secret() -> None:
    users = sorted(f"learner{i:02d}" for i in range(20))
    orders = []
    for i in range(10):
        numbers = number_submissions(users, f"secret-of-round-{i:04d}")
        orders.append(sorted(users, key=numbers.__getitem__))
    assert users not in orders
    assert len({tuple(o) for o in orders}) == 10
    assert len({o.index("learner00") for o in orders}) > 3  # the first name lands anywhere
    assert pseudonym(7) == "Submission 7"


def test_late_submissions_get_new_numbers_and_nobody_is_renamed() -> None:
    first = number_submissions(["s-a", "s-b", "s-c"], SECRET)
    later = number_submissions(["s-c", "s-d", "s-a", "s-b", "s-e"], SECRET, existing=first)
    assert {k: later[k] for k in first} == first
    assert {later["s-d"], later["s-e"]} == {4, 5}


def test_pseudonyms_refuse_a_short_secret_and_clashing_numbers() -> None:
    with pytest.raises(ValueError, match="at least"):
        number_submissions(["a"], b"tiny")
    with pytest.raises(ValueError, match="distinct"):
        number_submissions(["c"], SECRET, existing={"a": 1, "b": 1})


# --- the checker's quick screen (reviews/_fold.py) ---------------------------------------------

ALL_CHARACTERS = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def test_the_quick_screen_folds_every_character_re_matches_to_a_names_character() -> None:
    """The screen is exact only if every character ``re.IGNORECASE`` matches to a name's
    character folds to the same one, and folding keeps lengths: checked against ``re``
    over every code point, for ASCII and the characters with special case rules."""
    alphabet = [chr(c) for c in range(32, 127)] + list("àÀÿßẞ\u0131İ\u017fKµμΣ\u03c3ςΩωϐβΐΰ\u041a")
    for ch in alphabet:
        folded = fold(ch)
        for match in re.finditer(re.escape(ch), ALL_CHARACTERS, re.I):
            assert fold(match.group()) == folded, (ch, match.group())
    assert len(fold(ALL_CHARACTERS)) == len(ALL_CHARACTERS)


def test_the_quick_screen_says_no_only_where_the_full_search_finds_nothing() -> None:
    screen = Prefilter(["kiss", "Zoë Ødegaard"])
    for text in ["KİS\u017f", "kiss", "a \u212aiss b", "ZOË ødegaard", "ZOË ØDEGAARD"]:
        assert screen.may_match(text), text
    for text in ["kis s", "zoe odegaard", "", "\x00" * 100]:
        assert not screen.may_match(text), text
    # a name with many special letters is screened by folding instead of spelled out
    many = Prefilter(["sissi kississ"], limit=16)
    assert many.variants is None
    assert many.may_match("\u017fİSSİ KİS\u017fİSS") and not many.may_match("sisi kisis")


def test_the_checker_still_finds_names_in_images_and_special_spellings() -> None:
    """What the screen must not hide: names in a PNG's compressed text, in UTF-16 inside
    base64, and written with the letters re folds specially."""
    signature, end = b"\x89PNG\r\n\x1a\n", struct.pack(">I", 0) + b"IEND" + b"\xaeB`\x82"
    body = b"Author\x00\x00" + zlib.compress(b"by Alice Smith")
    chunk = (
        struct.pack(">I", len(body))
        + b"zTXt"
        + body
        + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    )
    png = base64.b64encode(signature + chunk + end).decode()
    utf16 = base64.b64encode(b"\xff\xfe" + "noise ALICE SMITH noise".encode("utf-16-le")).decode()
    doc = {
        "png": png,
        "utf16": utf16,
        "text": "by ALİCE \u017fMITH",
        "clean": base64.b64encode(b"x" * 64).decode(),
    }
    found = {f.where for f in find_identifying(doc, [FULL])}
    assert found == {"png", "utf16", "text"}


def test_hashed_cell_ids_never_spell_the_authors_name() -> None:
    """Hex can spell a short name ("cdb"); the copy must still pass the strict check. The
    cell ids here are chosen so their first hash contains the name."""
    name = "cdB"
    spelled = []
    for i in range(20_000):
        cell = new_code_cell("x = 1")
        cell["id"] = f"cell{i}"
        out = anonymize_notebook(new_notebook(cells=[cell]), Author(name), secret=SECRET)
        first = out["cells"][0]["id"]
        assert "cdb" not in first.casefold()
        assert find_identifying(out, [name]) == []
        if first != _first_hash(f"cell{i}"):
            spelled.append(i)
            if len(spelled) == 3:
                break
    assert spelled, "no id in 20,000 hashed to hex containing the name: the test proves nothing"


def _first_hash(value: str) -> str:
    from cohortlab.reviews.anonymize import _hashed, _secret

    return _hashed(_secret(SECRET), "id", value)


# --- user names that are nbformat's own words ------------------------------------------------


def _plain_submission(name: str) -> Any:
    return new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        cells=[
            new_markdown_cell(f"# by {name}"),
            new_code_cell(f"print('{name}')", outputs=[
                new_output("stream", name="stdout", text=f"{name}\n"),
                new_output("stream", name="stderr", text="warning\n"),
                new_output("execute_result", execution_count=1, data={
                    "text/plain": f"'{name}'", "image/png": base64.b64encode(b"x").decode(),
                    f"text/x-{name}": "custom",
                }),
                new_output("error", ename="ValueError", evalue=name, traceback=[name]),
            ]),
            new_raw_cell("raw text"),
        ],
    )  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["data", "text", "source", "stream", "stdout", "stderr", "markdown", "code", "raw", "plain",
     "image", "error", "outputs", "metadata", "display_data", "execute_result"],
)  # fmt: skip
def test_a_learner_named_like_nbformat_words_gets_a_valid_copy_the_service_accepts(
    name: str,
) -> None:
    words = {fold_name(name): REPLACE}  # each is a common word: staff chose to replace it
    out = anonymize_notebook(_plain_submission(name), Author(name), secret=SECRET, words=words)
    nbformat.validate(out)
    assert [c.cell_type for c in out.cells] == ["markdown", "code", "raw"]
    outputs = out.cells[1].outputs
    assert [o.output_type for o in outputs] == ["stream", "stream", "execute_result", "error"]
    assert [o.get("name") for o in outputs[:2]] == ["stdout", "stderr"]
    assert {"text/plain", "image/png", "text/x-learner"} == set(outputs[2].data)
    assert outputs[0].text == "learner\n" and outputs[3].evalue == "learner"
    copies = [{"name": "hw.ipynb", "content": out, "cells": [{"status": "unchanged"}] * 3}]
    assert parse_copies(copies, name)  # the service's own check finds nothing


def test_nbformat_words_hide_nothing_else_from_the_service_check() -> None:
    tampered = {
        "cells": [
            {"cell_type": "ada-x", "metadata": {"ada-x": 1}, "source": ""},
            {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "ada-x"}]},
            {"cell_type": "code", "outputs": [{"output_type": "ada-x", "data": {}}]},
            {"cell_type": "code", "outputs": [{"data": {"text/ada-x": "", "text/plain": ""}}]},
        ]
    }
    found = {f.where for f in find_identifying(tampered, ["ada-x"], notebook_words=True)}
    assert found == {
        "cells[0].cell_type",
        "cells[0].metadata.ada-x",
        "cells[1].outputs[0].name",
        "cells[2].outputs[0].output_type",
        "cells[3].outputs[0].data.text/ada-x",
    }
    # and a user called "data" is still found in text, just not in the key every output has
    doc = {"outputs": [{"data": {"text/plain": "by data"}}]}
    assert [
        f.where for f in find_identifying(doc, ["data"], whole_words=True, notebook_words=True)
    ] == ["outputs[0].data.text/plain"]
