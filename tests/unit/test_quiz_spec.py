"""Quiz specs are checked once, with the exact place of every mistake, and learners only
ever see questions: never the key, and the same quiz on every reload."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cohortlab.quizzes.spec import Quiz, SpecError, parse_quiz, public_view

Spec = dict[str, Any]


def cl_quiz_spec() -> Spec:
    """One question of every type, with every optional key field filled in."""
    return {
        "id": "week-3-regression",
        "title": "Week 3: linear regression",
        "shuffle_choices": True,
        "questions": [
            {
                "id": "loss",
                "type": "single",
                "prompt": "Which loss does **least squares** minimise?",
                "points": 2,
                "explanation": "EXPLANATION-SINGLE",
                "choices": [
                    {"id": "a", "text": "Absolute error", "correct": False, "feedback": "FB-A"},
                    {"id": "b", "text": "Squared error", "correct": True},
                    {"id": "c", "text": "Hinge loss", "correct": False},
                ],
            },
            {
                "id": "assumptions",
                "type": "multiple",
                "prompt": "Which are assumptions of the linear model?",
                "scoring": "partial",
                "choices": [
                    {"id": "linear", "text": "Linearity", "correct": True},
                    {"id": "indep", "text": "Independent errors", "correct": True},
                    {"id": "normal-x", "text": "Normal inputs", "correct": False},
                ],
            },
            {
                "id": "slope",
                "type": "numeric",
                "prompt": "What slope did you get?",
                "answer": 3.1415,
                "tolerance": 0.05,
                "feedback": "FB-NUMERIC",
            },
            {
                "id": "method",
                "type": "text",
                "prompt": "Name the method.",
                "answers": ["Ordinary Least Squares", "OLS"],
                "pattern": "ordinary\\s+least\\s+squares?",
            },
            {
                "id": "steps",
                "type": "ordering",
                "prompt": "Put the steps in order.",
                "scoring": "partial",
                "items": [
                    {"id": "load", "text": "Load the data"},
                    {"id": "fit", "text": "Fit the line"},
                    {"id": "plot", "text": "Plot the fit"},
                ],
            },
        ],
    }


def assert_spec_error(spec: Any, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_quiz(spec)
    assert str(info.value).startswith(expected), str(info.value)


def changed(path: str, value: Any, *, delete: bool = False) -> Spec:
    """A copy of the valid spec with the value at a dotted path (``questions.0.id``) set."""
    spec = cl_quiz_spec()
    *parents, last = path.split(".")
    node: Any = spec
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    key_: Any = int(last) if isinstance(node, list) else last
    if delete:
        del node[key_]
    else:
        node[key_] = value
    return spec


def test_a_quiz_with_every_question_type_parses() -> None:
    quiz = parse_quiz(cl_quiz_spec())
    assert isinstance(quiz, Quiz)
    assert [q.type for q in quiz.questions] == ["single", "multiple", "numeric", "text", "ordering"]
    single, multiple, numeric, text, ordering = quiz.questions
    assert single.points == 2 and multiple.points == 1
    assert [c.correct for c in single.choices] == [False, True, False]
    assert single.choices[0].feedback == "FB-A"
    assert multiple.scoring == "partial"
    assert numeric.answer == 3.1415 and numeric.tolerance == 0.05
    assert text.answers == ("ordinary least squares", "ols")
    assert text.pattern is not None and text.pattern.flags & re.IGNORECASE
    assert [i.id for i in ordering.items] == ["load", "fit", "plot"]
    assert quiz.shuffle_choices is True and quiz.sample is None


def test_parsed_quiz_is_frozen() -> None:
    quiz = parse_quiz(cl_quiz_spec())
    with pytest.raises(AttributeError):
        quiz.title = "changed"  # type: ignore[misc]


YAML_SPEC = """
id: week-3-regression
title: "Week 3: linear regression"
shuffle_choices: true
questions:
  - id: loss
    type: single
    prompt: Which loss does **least squares** minimise?
    points: 2
    explanation: EXPLANATION-SINGLE
    choices:
      - {id: a, text: Absolute error, correct: false, feedback: FB-A}
      - {id: b, text: Squared error, correct: true}
      - {id: c, text: Hinge loss, correct: false}
  - id: assumptions
    type: multiple
    prompt: Which are assumptions of the linear model?
    scoring: partial
    choices:
      - {id: linear, text: Linearity, correct: true}
      - {id: indep, text: Independent errors, correct: true}
      - {id: normal-x, text: Normal inputs, correct: false}
  - id: slope
    type: numeric
    prompt: What slope did you get?
    answer: 3.1415
    tolerance: 0.05
    feedback: FB-NUMERIC
  - id: method
    type: text
    prompt: Name the method.
    answers: [Ordinary Least Squares, OLS]
    pattern: 'ordinary\\s+least\\s+squares?'
  - id: steps
    type: ordering
    prompt: Put the steps in order.
    scoring: partial
    items:
      - {id: load, text: Load the data}
      - {id: fit, text: Fit the line}
      - {id: plot, text: Plot the fit}
"""


def test_yaml_and_json_text_give_the_same_quiz() -> None:
    from_dict = parse_quiz(cl_quiz_spec())
    assert parse_quiz(YAML_SPEC) == from_dict
    assert parse_quiz(json.dumps(cl_quiz_spec(), indent=2)) == from_dict


def test_unparseable_text_names_the_line() -> None:
    assert_spec_error("id: x\nquestions: [\n", "The quiz is not valid YAML or JSON at line")


def test_yaml_exponent_without_dot_gets_a_hint() -> None:
    spec = YAML_SPEC.replace("answer: 3.1415", "answer: 1e-3")
    with pytest.raises(SpecError, match=r"questions\[2\]\.answer: must be a number.*1\.0e-3"):
        parse_quiz(spec)


ONE_CHOICE = {"id": "a", "text": "A", "correct": True}
ONE_ITEM = {"id": "only", "text": "x"}
NOT_ONE = "questions[0].choices: a single-choice question needs exactly one correct choice, "


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # the quiz
        ("id", "Week 3", "id: 'Week 3' is not a valid id"),
        ("id", "-x", "id: '-x' is not a valid id"),
        ("id", "a" * 65, "id: is 65 characters; the limit is 64"),
        ("title", "  ", "title: must not be empty"),
        ("title", 3, "title: must be text"),
        ("shuffle_choices", "yes", "shuffle_choices: must be true or false"),
        ("sample", 0, "sample: must be a whole number from 1 to 5"),
        ("sample", 6, "sample: must be a whole number from 1 to 5"),
        ("sample", True, "sample: must be a whole number"),
        ("questions", [], "questions: needs at least one question"),
        ("questions", {"a": 1}, "questions: must be a list"),
        ("colour", "red", "quiz: unknown field(s): colour"),
        # any question
        ("questions.1", "a question", "questions[1]: must be a mapping"),
        ("questions.1.id", "loss", "questions[1].id: duplicate id 'loss'"),
        ("questions.1.id", "Loss!", "questions[1].id: 'Loss!' is not a valid id"),
        ("questions.1.type", "essay", "questions[1].type: must be one of: single, multiple"),
        ("questions.1.prompt", "", "questions[1].prompt: must not be empty"),
        ("questions.1.points", 0, "questions[1].points: must be more than 0"),
        ("questions.1.points", -1.5, "questions[1].points: must be more than 0"),
        ("questions.1.points", True, "questions[1].points: must be a number"),
        ("questions.1.points", float("nan"), "questions[1].points: must be a finite number"),
        ("questions.1.explanation", 5, "questions[1].explanation: must be text"),
        ("questions.1.tolerance", 1, "questions[1]: unknown field(s) for a multiple question"),
        # choices
        ("questions.0.choices", [ONE_CHOICE], "questions[0].choices: needs at least 2"),
        ("questions.0.choices.1.id", "a", "questions[0].choices[1].id: duplicate id 'a'"),
        ("questions.0.choices.1.text", None, "questions[0].choices[1].text: is required"),
        ("questions.0.choices.1.correct", "true", "questions[0].choices[1].correct: must be true"),
        ("questions.0.choices.2.correct", True, NOT_ONE + "found 2"),
        ("questions.0.choices.1.correct", False, NOT_ONE + "found 0"),
        ("questions.0.choices.1.feedback", 1, "questions[0].choices[1].feedback: must be text"),
        ("questions.0.choices.1.hint", "x", "questions[0].choices[1]: unknown field(s): hint"),
        ("questions.0.choices.1", "b", "questions[0].choices[1]: must be a mapping"),
        ("questions.0.scoring", "partial", "questions[0]: unknown field(s) for a single"),
        ("questions.1.scoring", "half", "questions[1].scoring: must be one of: all_or"),
        # numeric
        ("questions.2.answer", "3", "questions[2].answer: must be a number"),
        ("questions.2.answer", float("inf"), "questions[2].answer: must be a finite number"),
        ("questions.2.tolerance", -0.1, "questions[2].tolerance: must be 0 or more"),
        ("questions.2.relative_tolerance", 0.1, "questions[2]: give either tolerance or"),
        ("questions.2.feedback", ["x"], "questions[2].feedback: must be text"),
        # text
        ("questions.3.answers", "OLS", "questions[3].answers: must be a list"),
        ("questions.3.answers.1", 42, "questions[3].answers[1]: must be text"),
        ("questions.3.answers.1", "   ", "questions[3].answers[1]: must not be empty"),
        ("questions.3.pattern", "(unclosed", "questions[3].pattern: is not a valid regular"),
        ("questions.3.case_sensitive", 1, "questions[3].case_sensitive: must be true or false"),
        # ordering
        ("questions.4.items.2.id", "load", "questions[4].items[2].id: duplicate id 'load'"),
        ("questions.4.items.0.correct", True, "questions[4].items[0]: unknown field(s): correct"),
        ("questions.4.items", [ONE_ITEM], "questions[4].items: needs at least 2"),
        ("questions.4.scoring", "kendall", "questions[4].scoring: must be one of"),
    ],
)  # fmt: skip
def test_each_rule_names_the_exact_place(path: str, value: Any, expected: str) -> None:
    assert_spec_error(changed(path, value), expected)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("id", "id: is required"),
        ("title", "title: is required"),
        ("questions", "questions: is required"),
        ("questions.0.id", "questions[0].id: is required"),
        ("questions.0.type", "questions[0].type: must be one of"),
        ("questions.0.prompt", "questions[0].prompt: is required"),
        ("questions.0.choices", "questions[0].choices: is required"),
        ("questions.0.choices.1.correct", "questions[0].choices[1].correct: is required"),
        ("questions.2.answer", "questions[2].answer: is required"),
        ("questions.4.items", "questions[4].items: is required"),
    ],
)
def test_missing_required_fields_are_named(path: str, expected: str) -> None:
    assert_spec_error(changed(path, None, delete=True), expected)


def test_multiple_choice_needs_a_correct_choice() -> None:
    spec = changed("questions.1.choices.0.correct", False)
    spec["questions"][1]["choices"][1]["correct"] = False
    assert_spec_error(spec, "questions[1].choices: a multiple-choice question needs at least one")


def test_text_question_needs_answers_or_a_pattern() -> None:
    spec = changed("questions.3.answers", None, delete=True)
    del spec["questions"][3]["pattern"]
    assert_spec_error(spec, "questions[3].answers: give at least one accepted answer or a pattern")
    spec["questions"][3]["pattern"] = "o\\.?l\\.?s\\.?"
    assert parse_quiz(spec).questions[3].answers == ()


def test_a_quiz_that_is_not_a_mapping_is_rejected() -> None:
    assert_spec_error(["not", "a", "quiz"], "quiz: must be a mapping")
    assert_spec_error("just a sentence", "quiz: must be a mapping, got text")


def test_defaults_apply_when_optional_fields_are_left_out() -> None:
    spec = cl_quiz_spec()
    del spec["shuffle_choices"]
    del spec["questions"][1]["scoring"]
    del spec["questions"][2]["tolerance"]
    quiz = parse_quiz(spec)
    assert quiz.shuffle_choices is False
    assert quiz.questions[1].scoring == "all_or_nothing"
    assert quiz.questions[2].tolerance == 0 and quiz.questions[2].relative_tolerance is None
    assert quiz.questions[3].case_sensitive is False


# --- what learners see ------------------------------------------------------------------

KEY_FRAGMENTS = [
    "correct",
    "feedback",
    "FB-A",
    "FB-NUMERIC",
    "3.1415",
    "0.05",
    "tolerance",
    "answer",
    "Ordinary Least Squares",
    "ordinary least squares",
    "OLS",
    "ols",
    "pattern",
    "least\\\\s",
    "explanation",
    "EXPLANATION-SINGLE",
    "scoring",
    "partial",
]


@pytest.mark.parametrize("seed", [0, 1, "learner-42"])
def test_public_view_never_contains_the_key(seed: int | str) -> None:
    text = json.dumps(public_view(parse_quiz(cl_quiz_spec()), seed))
    for fragment in KEY_FRAGMENTS:
        assert fragment not in text, fragment


def test_public_view_keeps_what_a_learner_needs() -> None:
    view = public_view(parse_quiz(cl_quiz_spec()), 7)
    assert view["id"] == "week-3-regression" and view["title"].startswith("Week 3")
    loss = view["questions"][0]
    assert loss.keys() == {"id", "type", "prompt", "points", "choices"}
    assert sorted(c["id"] for c in loss["choices"]) == ["a", "b", "c"]
    assert all(c.keys() == {"id", "text"} for c in loss["choices"])
    steps = view["questions"][4]
    assert sorted(i["id"] for i in steps["items"]) == ["fit", "load", "plot"]


DRAWS = 10_000
# The chi-square distribution's 0.999 quantiles: a fair shuffle fails one in a thousand
# seeds; these orders are hashes, so the test is deterministic and passes or fails for good.
CHI2_999 = {3: 16.266, 23: 49.728}


def ordering_quiz(items: list[str], shuffle_choices: bool = False) -> Quiz:
    return parse_quiz(
        {
            "id": "steps",
            "title": "Steps",
            "shuffle_choices": shuffle_choices,
            "questions": [
                {
                    "id": "order",
                    "type": "ordering",
                    "prompt": "Put them in order",
                    "items": [{"id": i, "text": i.upper()} for i in items],
                },
                {
                    "id": "pick",
                    "type": "single",
                    "prompt": "Pick",
                    "choices": [
                        {"id": c, "text": c, "correct": c == "w"} for c in ["w", "x", "y", "z"]
                    ],
                },
            ],
        }
    )


def shown_order(quiz: Quiz, learner: int, course: str = "c1", question: int = 0) -> tuple:
    shown = public_view(quiz, learner, course=course)["questions"][question]
    return tuple(o["id"] for o in shown.get("items") or shown["choices"])


def chi_square(counts: list[int], total: int) -> float:
    expected = total / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


def test_ordering_items_are_shown_in_a_uniformly_random_order_over_all_orders() -> None:
    """Over 10,000 learners every one of the 24 orders of 4 items comes up equally often,
    the correct order included (showing it to some learners is the price of telling the
    others nothing: an order that is never the answer narrows the answer down), and every
    item is equally likely in every place."""
    key = ["a", "b", "c", "d"]
    quiz = ordering_quiz(key)
    orders = Counter(shown_order(quiz, learner) for learner in range(DRAWS))
    every = list(itertools.permutations(key))
    assert set(orders) == set(every)
    assert chi_square([orders[o] for o in every], DRAWS) < CHI2_999[23]
    assert abs(orders[tuple(key)] - DRAWS / 24) < 4 * (DRAWS / 24) ** 0.5
    for place in range(4):
        at = Counter(order[place] for order, n in orders.items() for _ in range(n))
        assert chi_square([at[i] for i in key], DRAWS) < CHI2_999[3], place


def test_shuffled_choices_are_uniform_too() -> None:
    quiz = ordering_quiz(["a", "b", "c", "d"], shuffle_choices=True)
    orders = Counter(shown_order(quiz, learner, question=1) for learner in range(DRAWS))
    every = list(itertools.permutations(["w", "x", "y", "z"]))
    assert chi_square([orders[o] for o in every], DRAWS) < CHI2_999[23]


def test_the_shown_order_is_not_derived_from_the_key_order() -> None:
    """The order a learner sees depends on the course, the quiz, the question, the learner
    and the items' ids, never on the items' places in the spec: the same items with any
    other correct order are shown exactly alike, so no order shown (nor any seed a learner
    can guess) says anything about the answer."""
    one = ordering_quiz(["a", "b", "c", "d"])
    other = ordering_quiz(["d", "b", "a", "c"])
    for learner in range(500):
        assert shown_order(one, learner) == shown_order(other, learner)


def test_the_shown_order_is_fixed_per_learner_and_differs_by_course() -> None:
    quiz = ordering_quiz(["a", "b", "c", "d"])
    assert all(shown_order(quiz, n) == shown_order(quiz, n) for n in range(50))
    assert any(shown_order(quiz, n, "c1") != shown_order(quiz, n, "c2") for n in range(50))


def test_choices_keep_the_authors_order_unless_shuffled() -> None:
    quiz = parse_quiz(changed("shuffle_choices", False))
    for seed in range(20):
        assert [c["id"] for c in public_view(quiz, seed)["questions"][0]["choices"]] == [
            "a",
            "b",
            "c",
        ]


def big_quiz(sample: int | None = 5) -> Quiz:
    questions = [
        {
            "id": f"q{n}",
            "type": "single",
            "prompt": f"Question {n}",
            "choices": [
                {"id": f"c{k}", "text": f"Choice {k}", "correct": k == 0} for k in range(6)
            ],
        }
        for n in range(20)
    ]
    spec = {"id": "big", "title": "Big", "shuffle_choices": True, "questions": questions}
    if sample is not None:
        spec["sample"] = sample
    return parse_quiz(spec)


def test_same_seed_gives_the_same_subset_and_order() -> None:
    quiz = big_quiz()
    assert public_view(quiz, "learner-1") == public_view(quiz, "learner-1")
    assert len(public_view(quiz, "learner-1")["questions"]) == 5


def test_different_seeds_give_different_subsets_and_orders() -> None:
    quiz = big_quiz()
    subsets = {tuple(q["id"] for q in public_view(quiz, s)["questions"]) for s in range(30)}
    orders = {
        tuple(c["id"] for c in public_view(quiz, s)["questions"][0]["choices"]) for s in range(30)
    }
    assert len(subsets) > 20 and len(orders) > 10


def test_sampled_questions_keep_the_authors_order() -> None:
    quiz = big_quiz()
    for seed in range(20):
        numbers = [int(q["id"][1:]) for q in public_view(quiz, seed)["questions"]]
        assert numbers == sorted(numbers)


def test_public_view_does_not_touch_the_global_rng() -> None:
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    public_view(big_quiz(), 1)
    assert random.random() == expected


def test_seed_is_tied_to_the_quiz_id() -> None:
    a = big_quiz()
    b = Quiz(id="other", title=a.title, questions=a.questions, shuffle_choices=True, sample=5)
    views_a = [public_view(a, s)["questions"] for s in range(5)]
    views_b = [public_view(b, s)["questions"] for s in range(5)]
    assert views_a != views_b


def test_the_examples_in_the_spec_readme_parse_to_the_same_quiz() -> None:
    readme = Path(__file__).parents[2] / "notebooks" / "quizzes" / "README.md"
    blocks = re.findall(r"```(yaml|json)\n(.*?)```", readme.read_text(), re.DOTALL)
    by_language = {
        lang: [parse_quiz(body) for l2, body in blocks if l2 == lang] for lang in ("yaml", "json")
    }
    assert by_language["yaml"] and by_language["json"]
    assert by_language["yaml"][0] == by_language["json"][0]
    assert {q.type for q in by_language["yaml"][0].questions} == {
        "single",
        "multiple",
        "numeric",
        "text",
        "ordering",
    }
    assert json.loads(blocks[1][1])  # the JSON example is real JSON, not just YAML
