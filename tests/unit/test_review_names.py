"""Every form of a learner's name leaves the copy reviewers get, as a whole word only; a form
that is also a common word is held for staff to decide (issue 13, item 4)."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from cohortlab.reviews.anonymize import (
    Author,
    UndecidedWords,
    anonymize_notebook,
    common_words_in,
    find_identifying,
    scrub_text,
)
from cohortlab.reviews.coursework import ReviewCommandError
from cohortlab.reviews.name_check import decisions_from, listing, parse_words, require_decisions
from cohortlab.reviews.names import KEEP, REPLACE, fold, is_common, name_forms
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

SECRET = b"round-secret-0123456789"
ADA = Author("alovelace", ("ada.lovelace@uni.example",), "Ada", "Lovelace")
# every way the brief's learners write their name, and more seen in real notebooks
ADA_FORMS = [
    "Ada", "ADA", "ada", "Lovelace", "LOVELACE", "Ada Lovelace", "ada lovelace", "Ada  Lovelace",
    "Ada\nLovelace", "Ada\u00a0Lovelace", "Ada&nbsp;Lovelace", "Ada%20Lovelace", "A. Lovelace",
    "A.Lovelace", "A Lovelace", "a. lovelace", "Lovelace, Ada", "Lovelace,Ada", "Lovelace Ada",
    "Lovelace, A.", "Ada L.", "alovelace", "ALovelace", "ada.lovelace", "ada.lovelace@uni.example",
    "Lovelàce", "Ádá", "A\u0301da",
]  # fmt: skip
# where a learner writes them: markdown, a comment, a string, an output, a file name
CONTEXTS = [
    "# Homework 1 by {}",
    "Answer ({}): the median resists outliers.",
    "x = mean(values)  # {} checked this",
    'print("written by {}")',
    "Saved figure to results_{}_final.png",
    "{}_hw1.csv",
    "— {}, 2026",
    "'{}'",
    "{}2024",
]


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text)


@pytest.mark.parametrize("form", ADA_FORMS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_every_form_of_the_name_is_replaced_wherever_a_learner_writes_it(
    form: str, context: str
) -> None:
    text = context.format(form)
    scrubbed = scrub_text(text, ADA)
    assert "learner" in scrubbed, (text, scrubbed)
    leftover = [w for w in words_of(scrubbed) if fold(w) in {"ada", "lovelace", "alovelace"}]
    assert leftover == [], (text, scrubbed)
    # the text around the name is kept as it was
    outside = [w for w in words_of(context.format("")) if w]
    assert all(w in scrubbed for w in outside), (text, scrubbed)


@pytest.mark.parametrize(
    "text",
    [
        "metadata", "adapt", "Canada", "adaptive_lr = 0.1", "LOVELACES", "Lovelaced",
        "ADAPT", "nevada", "adalovelace",
    ],
)  # fmt: skip
def test_a_name_inside_another_word_is_left_alone(text: str) -> None:
    assert scrub_text(text, ADA) == text


def test_a_camel_case_step_separates_words() -> None:
    assert scrub_text("plotAda(AdaLovelace, lovelaceAda)", ADA) == (
        "plotlearner(learnerlearner, learnerlearner)"
    )
    assert scrub_text("ADAPT plotada", ADA) == "ADAPT plotada"


def test_accents_are_matched_whichever_side_has_them() -> None:
    author = Author("sio", (), "Siobhán", "Müller-Strauß")
    text = "Siobhan MULLER, Mueller; Müller; STRAUSS; Strauss-Müller; Muller Strauss; siobhán"
    assert set(words_of(scrub_text(text, author))) == {"learner"}
    plain = Author("zoe", (), "Zoe", "Brontes")
    assert scrub_text("Zoë Brontës and ZOË", plain) == "learner and learner"


def test_invisible_characters_inside_a_name_do_not_hide_it() -> None:
    text = "Ada Love\u00adlace; L\u200bovelace; A\u2060da"
    assert scrub_text(text, ADA) == "learner; learner; learner"


def test_compound_and_hyphenated_names_lose_every_part() -> None:
    author = Author("mjw", (), "Mary-Jane", "van der Berg")
    text = "Mary-Jane; Mary Jane; MaryJane; Berg; van der Berg; M.J. van der Berg; Berg, M.J."
    assert set(words_of(scrub_text(text, author))) == {"learner"}
    # a lowercase particle names nobody alone and stays where it is a word
    assert scrub_text("a van", author) == "a van"
    obrien = Author("sob", (), "Sean", "O'Brien")
    text = "O'Brien, O\u2019Brien, OBrien, O Brien, O&#x27;Brien, S. O'Brien"
    assert set(words_of(scrub_text(text, obrien))) == {"learner"}


def test_a_user_name_however_short_is_replaced_as_a_word() -> None:
    author = Author("cy")
    text = "by cy (CY) in /home/cy/hw; policy, fancy, cyan, cy2, cy_notes.txt"
    assert scrub_text(text, author) == (
        "by learner (learner) in /home/learner/hw; policy, fancy, cyan, learner2, learner_notes.txt"
    )


def test_an_inlined_image_is_not_corrupted_by_a_short_name() -> None:
    data = "R0lGODlh" + "/cy+" * 8 + "0cy1AAAA"  # the name between non-letters, as base64 has
    html = f'<img src="data:image/gif;base64,{data}"> by cy'
    assert scrub_text(html, Author("cy")) == f'<img src="data:image/gif;base64,{data}"> by learner'


@pytest.mark.parametrize("word", ["Will", "Rose", "Grant", "Young", "Mark", "al", "May", "len"])
def test_a_name_that_is_a_common_word_is_flagged(word: str) -> None:
    assert is_common(word)


@pytest.mark.parametrize("word", ["Lovelace", "Okafor", "Nakamura", "Haddad", "Siobhán", "cy"])
def test_an_uncommon_name_is_not_flagged(word: str) -> None:
    assert not is_common(word)


WILL = Author("wyoung", ("will.young@uni.example",), "Will", "Young")


def _notebook(*texts: str) -> Any:
    return new_notebook(
        cells=[
            new_markdown_cell(texts[0]),
            new_code_cell(
                texts[1],
                outputs=[new_output("stream", name="stdout", text=texts[2])],
            ),
        ]
    )


def test_a_common_word_is_neither_kept_nor_replaced_silently() -> None:
    nb = _notebook(
        "By Will Young. I think this will work for young stars.",
        "# Will checked: W. Young\nprint('Young, Will')",
        "Will\n",
    )
    found = {o.word: o for o in common_words_in(nb, WILL)}
    assert set(found) == {"will", "young"}
    assert found["will"].count == 3  # "will work", the comment's "Will", the output
    assert found["young"].count == 2  # "young stars", "W. Young"
    assert any("«will» work" in e for e in found["will"].excerpts), found["will"].excerpts
    assert found["young"].forms == ("young", "W. Young")
    with pytest.raises(UndecidedWords) as refused:
        anonymize_notebook(nb, WILL, secret=SECRET)
    assert refused.value.words == ["will", "young"]
    with pytest.raises(UndecidedWords, match="young"):
        anonymize_notebook(nb, WILL, secret=SECRET, words={"will": REPLACE})

    kept = anonymize_notebook(nb, WILL, secret=SECRET, words={"will": KEEP, "young": KEEP})
    text = kept.cells[0].source + kept.cells[1].source
    # the full name forms go whatever staff decide; the words they kept stay
    assert "Will Young" not in text and "Young, Will" not in text
    assert "this will work for young stars" in text and "W. Young" in text
    gone = anonymize_notebook(nb, WILL, secret=SECRET, words={"will": REPLACE, "young": REPLACE})
    assert find_identifying(gone, ["will", "young"], whole_words=True) == []
    assert gone.cells[1].source == "# learner checked: learner\nprint('learner')"


def test_a_common_word_that_never_occurs_needs_no_decision() -> None:
    nb = _notebook("By Lovelace", "x = 1", "2\n")
    assert common_words_in(nb, WILL) == []
    out = anonymize_notebook(nb, WILL, secret=SECRET)
    assert out.cells[0].source == "By Lovelace"


def test_the_check_lists_each_word_whose_submission_how_often_and_where() -> None:
    found = [
        {"word": "will", "student": "wyoung", "notebook": "hw1.ipynb", "count": 3,
         "excerpts": ["cell 1: I think this «will» work"], "forms": ["will"]},
    ]  # fmt: skip
    with pytest.raises(ReviewCommandError) as stopped:
        require_decisions(found, {}, cli=True)
    assert stopped.value.code == "names_to_decide" and stopped.value.status == 409
    text = stopped.value.message
    assert '"will"' in text and "wyoung's hw1.ipynb: 3 place(s)" in text
    assert "cell 1: I think this «will» work" in text and "--replace=will" in text
    assert "Nothing was uploaded" in text
    require_decisions(found, {"will": KEEP}, cli=True)  # decided: goes on
    assert "--replace" not in listing(found, cli=False)


def test_decisions_are_folded_and_a_word_cannot_be_both() -> None:
    assert decisions_from(["Will", "ROSE,grant"], ["Mark"]) == {
        "will": REPLACE, "rose": REPLACE, "grant": REPLACE, "mark": KEEP,
    }  # fmt: skip
    with pytest.raises(ReviewCommandError, match="both"):
        decisions_from(["will"], ["Will"])
    assert parse_words({"Will": "replace"}) == {"will": REPLACE}
    with pytest.raises(ReviewCommandError):
        parse_words({"will": "maybe"})


def test_a_short_numeric_lms_id_is_decided_not_replaced_everywhere() -> None:
    forms = {f.text: f.word for f in name_forms(Author("ada", ("42", "s1234567")))}
    assert forms["42"] == "42" and forms["s1234567"] is None
    assert scrub_text("answer: 42, id s1234567", Author("ada", ("42", "s1234567"))) == (
        "answer: 42, id learner"
    )


def test_forms_are_made_from_the_gradebook_names() -> None:
    forms = {f.text: f.word for f in name_forms(WILL)}
    assert forms["Will Young"] is None and forms["Young, Will"] is None  # two name words
    assert forms["Will"] == "will" and forms["Young"] == "young"
    assert forms["W. Young"] == "young"  # an initial follows the surname's decision
    assert forms["wyoung"] is None and forms["will.young"] is None


# --- properties -------------------------------------------------------------------------------

LETTERS = string.ascii_lowercase + "éüøñç"
name_word = st.text(LETTERS, min_size=3, max_size=10).map(str.capitalize)
filler = st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=8), max_size=8)


def never_common(_word: str) -> bool:
    return False


@settings(max_examples=200, deadline=None)
@given(first=name_word, last=name_word, before=filler, after=filler, data=st.data())
def test_property_no_form_survives_and_other_words_are_kept(
    first: str, last: str, before: list[str], after: list[str], data: Any
) -> None:
    author = Author(fold(first)[:8], (), first, last)
    keys = {fold(first), fold(last), fold(author.user)}
    forms = [f.text for f in name_forms(author, never_common)]
    form = data.draw(st.sampled_from(forms))
    written = data.draw(st.sampled_from([form, form.upper(), form.lower(), fold(form)]))
    before = [w for w in before if not any(k in fold(w) or fold(w) in k for k in keys)]
    after = [w for w in after if not any(k in fold(w) or fold(w) in k for k in keys)]
    text = " ".join([*before, written, *after])
    out = scrub_text(text, author, common=never_common)
    assert not [w for w in words_of(out) if fold(w) in keys], (text, out)
    assert words_of(out) == [*words_of(" ".join(before)), "learner", *words_of(" ".join(after))]


@settings(max_examples=200, deadline=None)
@given(name=name_word, prefix=st.text(string.ascii_lowercase, max_size=3),
       suffix=st.text(string.ascii_lowercase, max_size=3))  # fmt: skip
def test_property_a_name_glued_to_letters_is_never_replaced(
    name: str, prefix: str, suffix: str
) -> None:
    if not prefix and not suffix:
        return
    word = prefix + name.lower() + suffix
    assert scrub_text(word, Author("zz9", (), name, "Qxq"), common=never_common) == word


def test_a_run_says_what_it_did_with_each_decision() -> None:
    from cohortlab.reviews.opening import decision_lines

    found = [
        {"word": "will", "student": "wyoung", "notebook": "a.ipynb", "count": 2},
        {"word": "will", "student": "wyoung", "notebook": "b.ipynb", "count": 1},
    ]
    assert decision_lines(found, {"will": REPLACE, "mark": KEEP}) == [
        'note: "mark" is in no submission this run uploads; nothing to decide',
        'replacing "will": 3 place(s) in 1 submission(s)',
    ]


def test_an_attachment_named_after_the_learner_keeps_its_link() -> None:
    cell = new_markdown_cell("![me](attachment:lovelace_photo.png) by Ada")
    cell["attachments"] = {"lovelace_photo.png": {"image/png": "iVBORw0KGgo="}}
    out = anonymize_notebook(new_notebook(cells=[cell]), ADA, secret=SECRET)
    assert out.cells[0].source == "![me](attachment:learner_photo.png) by learner"
    assert list(out.cells[0].attachments) == ["learner_photo.png"]


@settings(max_examples=100, deadline=None)
@given(word=name_word, before=filler, after=filler, times=st.integers(1, 4))
def test_property_a_common_word_is_counted_refused_then_replaced_or_kept_as_decided(
    word: str, before: list[str], after: list[str], times: int
) -> None:
    def common(text: str) -> bool:
        return fold(text) == fold(word)

    before = [w for w in before if fold(word) not in fold(w)]
    after = [w for w in after if fold(word) not in fold(w)]
    text = " ".join([*before, *[word] * times, *after])
    nb = new_notebook(cells=[new_markdown_cell(text)])
    author = Author("zz9", (), word, "Qxqz")
    [found] = common_words_in(nb, author, common=common)
    assert (found.word, found.count) == (fold(word), times)
    with pytest.raises(UndecidedWords):
        anonymize_notebook(nb, author, secret=SECRET, common=common)
    kept = anonymize_notebook(nb, author, secret=SECRET, words={fold(word): KEEP}, common=common)
    assert kept.cells[0].source == text
    gone = anonymize_notebook(nb, author, secret=SECRET, words={fold(word): REPLACE}, common=common)
    assert gone.cells[0].source == " ".join([*before, *["learner"] * times, *after])
