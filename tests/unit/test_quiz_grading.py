"""Answers are graded against the key; malformed answers are refused, not marked wrong,
and neither feedback nor errors give the right answer away."""

from __future__ import annotations

import math
import time
import unicodedata
from typing import Any

import pytest
from cohortlab.quizzes.grading import TIMED_OUT, AnswerError, Result, grade
from cohortlab.quizzes.spec import Question, parse_quiz
from hypothesis import assume, given
from hypothesis import strategies as st


def question(**spec: Any) -> Question:
    spec.setdefault("id", "q")
    spec.setdefault("prompt", "?")
    return parse_quiz({"id": "t", "title": "T", "questions": [spec]}).questions[0]


SINGLE = question(
    type="single",
    points=2,
    choices=[
        {"id": "a", "text": "A", "correct": False, "feedback": "Absolute error is L1."},
        {"id": "b", "text": "B", "correct": True, "feedback": "Yes."},
        {"id": "c", "text": "C", "correct": False},
    ],
)


def multiple(scoring: str = "all_or_nothing") -> Question:
    return question(
        type="multiple",
        points=3,
        scoring=scoring,
        choices=[
            {"id": "a", "text": "A", "correct": True},
            {"id": "b", "text": "B", "correct": True},
            {"id": "c", "text": "C", "correct": True},
            {"id": "x", "text": "X", "correct": False, "feedback": "X is not assumed."},
            {"id": "y", "text": "Y", "correct": False, "feedback": "Nor is Y."},
        ],
    )


def numeric(answer: float, **tolerance: float) -> Question:
    return question(type="numeric", answer=answer, feedback="Check your units.", **tolerance)


def text(**spec: Any) -> Question:
    spec.setdefault("answers", ["Ordinary Least Squares", "OLS"])
    return question(type="text", **spec)


def ordering(scoring: str = "all_or_nothing") -> Question:
    return question(
        type="ordering",
        scoring=scoring,
        points=4,
        items=[{"id": i, "text": i.upper()} for i in ["a", "b", "c", "d", "e"]],
    )


def assert_refused(q: Question, answer: Any, message: str) -> None:
    with pytest.raises(AnswerError, match=message):
        grade(q, answer)


# --- single choice ------------------------------------------------------------------------


def test_single_right_choice_scores_full_points_with_its_feedback() -> None:
    assert grade(SINGLE, "b") == Result(True, 2.0, 2.0, "Yes.")


def test_single_wrong_choice_scores_zero_with_its_feedback() -> None:
    assert grade(SINGLE, "a") == Result(False, 0.0, 2.0, "Absolute error is L1.")
    assert grade(SINGLE, "c") == Result(False, 0.0, 2.0, None)


@pytest.mark.parametrize("answer", ["z", "", None, ["b"], 1, True])
def test_single_malformed_answer_lists_the_choices(answer: Any) -> None:
    assert_refused(SINGLE, answer, "^Choose one of: a, b, c.$")


# --- multiple choice ----------------------------------------------------------------------


def test_multiple_all_or_nothing() -> None:
    q = multiple()
    assert grade(q, ["c", "a", "b"]) == Result(True, 3.0, 3.0, None)
    assert grade(q, ["a", "b"]) == Result(False, 0.0, 3.0, None)
    assert grade(q, ["a", "b", "c", "x"]) == Result(False, 0.0, 3.0, "X is not assumed.")
    assert grade(q, []) == Result(False, 0.0, 3.0, None)


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        (["a", "b", "c"], 3.0),
        (["a", "b"], 2.0),
        (["a"], 1.0),
        (["a", "b", "x"], 1.0),
        (["a", "x"], 0.0),
        (["a", "x", "y"], 0.0),  # floored at 0, never negative
        (["x", "y"], 0.0),
        (["a", "b", "c", "x", "y"], 1.0),  # ticking everything does not pay
        ([], 0.0),
    ],
)
def test_multiple_partial_scoring(answer: list[str], score: float) -> None:
    result = grade(multiple("partial"), answer)
    assert result.score == score and result.max_score == 3.0
    assert result.correct == (score == 3.0)


def test_multiple_feedback_joins_the_wrongly_chosen_choices() -> None:
    result = grade(multiple("partial"), ["y", "a", "x"])
    assert result.feedback == "X is not assumed.\n\nNor is Y."


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("a", "Send a list of choice ids, from: a, b, c, x, y"),
        ([1, 2], "Send a list of choice ids"),
        (["a", "z"], "Unknown choice id\\(s\\): 'z'; choose from: a, b, c, x, y"),
        (["a", "a"], "Each choice may appear once; repeated: a"),
    ],
)
def test_multiple_malformed_answers_are_refused(answer: Any, message: str) -> None:
    assert_refused(multiple(), answer, message)


# --- numeric ------------------------------------------------------------------------------


def test_numeric_right_and_wrong() -> None:
    q = numeric(3.14, tolerance=0.01)
    assert grade(q, 3.145) == Result(True, 1.0, 1.0, None)
    assert grade(q, 3) == Result(False, 0.0, 1.0, "Check your units.")
    exact = numeric(42)
    assert grade(exact, 42).correct and grade(exact, 42.0).correct
    assert not grade(exact, 42.000001).correct


def test_numeric_relative_tolerance_scales_with_the_answer() -> None:
    q = numeric(1000, relative_tolerance=0.01)
    assert grade(q, 1009.9).correct and grade(q, 990.1).correct
    assert not grade(q, 1010.1).correct


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("3.14", "Enter a number"),
        (True, "Enter a number"),
        (None, "Enter a number"),
        ([3.14], "Enter a number"),
        (math.nan, "not NaN or infinity"),
        (math.inf, "not NaN or infinity"),
        (-math.inf, "not NaN or infinity"),
        (10**400, "too large"),
    ],
)
def test_numeric_malformed_answers_are_refused(answer: Any, message: str) -> None:
    assert_refused(numeric(3.14, tolerance=0.01), answer, message)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
fraction = st.floats(min_value=0.0, max_value=0.99)


@given(
    key=finite,
    tolerance=st.floats(min_value=1e-3, max_value=1e3),
    f=fraction,
    sign=st.sampled_from([-1, 1]),
)
def test_any_answer_strictly_inside_absolute_tolerance_is_correct(
    key: float, tolerance: float, f: float, sign: int
) -> None:
    assert grade(numeric(key, tolerance=tolerance), key + sign * f * tolerance).correct


@given(
    key=finite,
    tolerance=st.floats(min_value=0.0, max_value=1e3),
    extra=st.floats(min_value=1.01, max_value=1e3),
    sign=st.sampled_from([-1, 1]),
)
def test_any_answer_outside_absolute_tolerance_is_wrong(
    key: float, tolerance: float, extra: float, sign: int
) -> None:
    # a margin of at least 1% of the tolerance plus 1e-3 keeps clear of float rounding
    answer = key + sign * (tolerance * extra + 1e-3)
    assert not grade(numeric(key, tolerance=tolerance), answer).correct


nonzero = finite.filter(lambda x: abs(x) >= 1e-3)


@given(
    key=nonzero,
    rel=st.floats(min_value=1e-4, max_value=10.0),
    f=fraction,
    sign=st.sampled_from([-1, 1]),
)
def test_any_answer_strictly_inside_relative_tolerance_is_correct(
    key: float, rel: float, f: float, sign: int
) -> None:
    answer = key + sign * f * rel * abs(key)
    assert grade(numeric(key, relative_tolerance=rel), answer).correct


@given(
    key=nonzero,
    rel=st.floats(min_value=0.0, max_value=10.0),
    extra=st.floats(min_value=1.01, max_value=1e3),
    sign=st.sampled_from([-1, 1]),
)
def test_any_answer_outside_relative_tolerance_is_wrong(
    key: float, rel: float, extra: float, sign: int
) -> None:
    answer = key + sign * (extra * rel * abs(key) + 1e-6 * abs(key))
    assert not grade(numeric(key, relative_tolerance=rel), answer).correct


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    ["OLS", "ols", "  ordinary   least\tsquares \n", "ORDINARY LEAST SQUARES", "\uff2fLS"],
)
def test_text_accepted_answers_after_normalisation(answer: str) -> None:
    assert grade(text(), answer) == Result(True, 1.0, 1.0, None)


@pytest.mark.parametrize("answer", ["least squares", "O L S", "OLS regression"])
def test_text_other_answers_are_wrong(answer: str) -> None:
    assert grade(text(), answer) == Result(False, 0.0, 1.0, None)


def test_text_case_sensitive_answers_must_match_case() -> None:
    q = text(answers=["NaCl"], case_sensitive=True)
    assert grade(q, " NaCl ").correct
    assert not grade(q, "nacl").correct


def test_text_pattern_must_match_the_whole_normalised_answer() -> None:
    q = text(answers=[], pattern=r"\d+(\.\d+)? ?kg")
    assert grade(q, "  12.5   KG ").correct
    assert grade(q, "\uff13kg").correct  # full-width digit, NFKC
    assert not grade(q, "about 12 kg").correct


def test_text_pattern_is_case_sensitive_when_asked() -> None:
    q = text(answers=[], pattern="[A-Z][a-z]+", case_sensitive=True)
    assert grade(q, "Hydrogen").correct and not grade(q, "hydrogen").correct


def test_a_pattern_that_backtracks_badly_is_cut_off_not_left_to_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With `re`, this answer against this pattern runs for longer than the universe has
    existed; one learner could hold the service with it. It is cut off within the limit and
    graded as a wrong answer, so it costs an attempt like any other (a free refusal could be
    repeated without end, each probe telling whether the pattern gave up on it), with
    feedback that says so, and the pattern named in the log."""
    q = text(answers=[], pattern="(a|aa)+")
    assert grade(q, "a" * 12).correct
    started = time.monotonic()
    result = grade(q, "a" * 60 + "!")
    assert time.monotonic() - started < 2
    assert result == Result(False, 0.0, q.points, TIMED_OUT, timed_out=True)
    assert "counts as wrong" in (result.feedback or "")
    assert "(a|aa)+" not in (result.feedback or "")  # the key stays with the service
    assert "(a|aa)+" in caplog.text


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (42, "Type your answer as text"),
        (None, "Type your answer as text"),
        (["OLS"], "Type your answer as text"),
        ("   ", "Type an answer before submitting"),
        ("x" * 1001, "1,001 characters; keep it under 1,000"),
    ],
)
def test_text_malformed_answers_are_refused(answer: Any, message: str) -> None:
    assert_refused(text(), answer, message)


words = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8)
spaces = st.text(alphabet=" \t\n\u00a0\u3000", min_size=1, max_size=3)
# Random phrases, and the accepted answers themselves so the "correct" side is exercised too.
ACCEPTED = [["Ordinary", "least", "SQUARES"], ["ols"], ["Straße"], ["naïve", "café"]]
phrases = st.one_of(st.lists(words, min_size=1, max_size=4), st.sampled_from(ACCEPTED))
QUESTIONS = [text(), text(answers=["straße", "naïve café"]), text(answers=[], pattern=r"\w+ \w+")]


@given(
    phrase=phrases, gaps=st.lists(spaces, min_size=5, max_size=5), which=st.sampled_from(QUESTIONS)
)
def test_extra_whitespace_never_changes_the_result(
    phrase: list[str], gaps: list[str], which: Question
) -> None:
    plain = " ".join(phrase)
    padded = gaps[0] + gaps[1].join(phrase) + gaps[2]
    assert grade(which, padded) == grade(which, plain)


@given(phrase=phrases, which=st.sampled_from(QUESTIONS))
def test_changing_case_never_changes_the_result(phrase: list[str], which: Question) -> None:
    plain = " ".join(phrase)
    assume(len(plain) <= 300)  # upper() can lengthen strings (ß -> SS)
    assert grade(which, plain.upper()) == grade(which, plain)
    assert grade(which, plain.lower()) == grade(which, plain)
    assert grade(which, plain.swapcase()) == grade(which, plain)


@given(
    phrase=phrases,
    form=st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]),
    which=st.sampled_from(QUESTIONS),
)
def test_nfkc_equivalent_strings_grade_the_same(
    phrase: list[str], form: str, which: Question
) -> None:
    plain = " ".join(phrase)
    assert grade(which, unicodedata.normalize(form, plain)) == grade(which, plain)


def test_accepted_answers_stay_accepted_in_any_spacing_or_case() -> None:
    assert grade(QUESTIONS[1], "  STRASSE ").correct
    assert grade(QUESTIONS[1], "NAI\u0308VE\u3000\u3000CAFE\u0301").correct


def test_compatibility_characters_grade_like_their_plain_form() -> None:
    q = text(answers=["fine"])
    assert grade(q, "\ufb01ne").correct  # the "fi" ligature


# --- ordering -----------------------------------------------------------------------------


def test_ordering_right_and_wrong_all_or_nothing() -> None:
    q = ordering()
    assert grade(q, ["a", "b", "c", "d", "e"]) == Result(True, 4.0, 4.0, None)
    assert grade(q, ["b", "a", "c", "d", "e"]) == Result(False, 0.0, 4.0, None)


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        (["a", "b", "c", "d", "e"], 4.0),
        (["b", "a", "c", "d", "e"], 3.0),  # 3 of 4 neighbouring pairs still in order
        (["e", "a", "b", "c", "d"], 3.0),  # d-e out of order
        (["a", "c", "b", "e", "d"], 2.0),
        (["e", "d", "c", "b", "a"], 0.0),
    ],
)
def test_ordering_partial_scoring(answer: list[str], score: float) -> None:
    result = grade(ordering("partial"), answer)
    assert result.score == score and result.correct == (score == 4.0)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("abcde", "Send a list of item ids, from: a, b, c, d, e"),
        (["a", "b", "c", "d"], "Put every item in order; missing: e"),
        (["a", "b", "c", "d", "d"], "Each item may appear once; repeated: d"),
        (["a", "b", "c", "d", "e", "f"], "Unknown item id\\(s\\): 'f'"),
    ],
)
def test_ordering_malformed_answers_are_refused(answer: Any, message: str) -> None:
    assert_refused(ordering(), answer, message)


# --- the key stays secret -----------------------------------------------------------------


def test_errors_and_feedback_never_reveal_the_answer() -> None:
    cases: list[tuple[Question, list[Any], list[str]]] = [
        (numeric(3.14, tolerance=0.01), ["x", 1.0, math.nan], ["3.14", "0.01"]),
        (text(), [1, "", "wrong"], ["ordinary", "ols", "OLS"]),
        (SINGLE, ["z", "a", "c"], ["b is", "correct"]),
    ]
    for q, answers, secrets in cases:
        for answer in answers:
            try:
                shown = grade(q, answer).feedback or ""
            except AnswerError as e:
                shown = str(e)
            for secret in secrets:
                assert secret not in shown, (answer, shown)


def _message(q: Question, answer: Any) -> str:
    try:
        grade(q, answer)
    except AnswerError as e:
        return str(e)
    return ""


def test_an_ordering_questions_error_messages_never_list_the_key_order() -> None:
    """The key order is plot, load, fit: every message lists ids sorted, and says what is
    missing or unknown in sorted order too, never in the key's order."""
    q = question(
        type="ordering",
        items=[{"id": i, "text": i.upper()} for i in ["plot", "load", "fit"]],
    )
    assert _message(q, "plot") == "Send a list of item ids, from: fit, load, plot."
    assert _message(q, ["plot", "zz"]) == (
        "Unknown item id(s): 'zz'; choose from: fit, load, plot."
    )
    assert _message(q, ["load"]) == "Put every item in order; missing: fit, plot."


ITEM_IDS = ["ant", "bee", "cat", "dog", "eel"]
MALFORMED = [
    "ant",
    7,
    None,
    [],
    ["ant"],
    ["eel", "ant"],
    ["bee", "zzz"],
    ["ant", "ant", "bee"],
    ["dog", "cat", "bee", "ant"],
    [1, 2],
]


@given(key=st.permutations(ITEM_IDS), shown=st.sampled_from(MALFORMED))
def test_no_error_message_depends_on_the_key_order(key: list[str], shown: Any) -> None:
    """A malformed answer is refused free of charge, as often as a learner likes, so its
    message must be the same whatever the correct order is: then it says nothing of it."""
    keyed = question(type="ordering", items=[{"id": i, "text": i} for i in key])
    plain = question(type="ordering", items=[{"id": i, "text": i} for i in ITEM_IDS])
    assert _message(keyed, shown) == _message(plain, shown) != ""


@given(order=st.permutations(["a", "b", "c"]), answer=st.sampled_from(["z", 3, ["a"]]))
def test_no_choice_error_message_depends_on_the_authors_order(
    order: list[str], answer: Any
) -> None:
    def single(ids: list[str]) -> Question:
        return question(
            type="single",
            choices=[{"id": i, "text": i, "correct": i == "b"} for i in ids],
        )

    assert _message(single(order), answer) == _message(single(["a", "b", "c"]), answer)
