"""Parse and check a quiz spec, and derive the part of it a learner may see.

Instructors write a quiz as YAML or JSON in their source notebook. Everything is checked
here, once, before the quiz is stored, so grading can trust the :class:`Quiz` it is given
and an author sees every mistake with its exact place (``questions[2].choices[1].id``).
The answer key stays in the :class:`Quiz`; :func:`public_view` is the only thing meant to
leave the service towards a learner, and it is built field by field from an allow-list so
a new key field can never leak by default.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import regex
import yaml

QuestionType = Literal["single", "multiple", "numeric", "text", "ordering"]
Scoring = Literal["all_or_nothing", "partial"]

QUESTION_TYPES: tuple[str, ...] = ("single", "multiple", "numeric", "text", "ordering")
SCORINGS: tuple[str, ...] = ("all_or_nothing", "partial")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MAX_TITLE = 300
MAX_PROMPT = 20_000
MAX_TEXT = 5_000
MAX_PATTERN = 1_000
MAX_QUESTIONS = 500
MAX_OPTIONS = 100  # choices or ordering items per question

_COMMON = {"id", "type", "prompt", "points", "explanation"}
_FIELDS: dict[str, set[str]] = {
    "single": _COMMON | {"choices"},
    "multiple": _COMMON | {"choices", "scoring"},
    "numeric": _COMMON | {"answer", "tolerance", "relative_tolerance", "feedback"},
    "text": _COMMON | {"answers", "pattern", "case_sensitive"},
    "ordering": _COMMON | {"items", "scoring"},
}


class SpecError(ValueError):
    """A quiz spec is not valid; the message starts with the place, e.g. ``questions[0].id``."""


@dataclass(frozen=True)
class Choice:
    id: str
    text: str
    correct: bool
    feedback: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    text: str


@dataclass(frozen=True)
class Question:
    """One question; only the fields of its ``type`` are set, the others keep defaults."""

    id: str
    type: QuestionType
    prompt: str
    points: float = 1.0
    explanation: str | None = None
    # single / multiple
    choices: tuple[Choice, ...] = ()
    # multiple / ordering
    scoring: Scoring = "all_or_nothing"
    # numeric
    answer: float | None = None
    tolerance: float = 0.0
    relative_tolerance: float | None = None
    feedback: str | None = None
    # text (answers are stored normalised, so grading compares like with like)
    answers: tuple[str, ...] = ()
    pattern: regex.Pattern[str] | None = None
    case_sensitive: bool = False
    # ordering, in the correct order
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class LiveOptions:
    """How a live (instructor-paced) round of this quiz runs; see ``cohortlab.quizzes.live``."""

    countdown: int = 20  # seconds each question stays open
    speed: Literal["points", "tiebreak"] = "points"
    streak: bool = True


@dataclass(frozen=True)
class Settings:
    """Self-paced rules; the instructor can change them after publishing (PATCH)."""

    attempts: int = 1  # per question
    counting: Literal["best", "last"] = "best"
    opens: datetime | None = None  # UTC
    closes: datetime | None = None  # UTC
    live: LiveOptions = LiveOptions()


@dataclass(frozen=True)
class Quiz:
    id: str
    title: str
    questions: tuple[Question, ...]
    shuffle_choices: bool = False
    sample: int | None = None
    settings: Settings = Settings()


def normalise_text(value: str, *, case_sensitive: bool = False) -> str:
    """The form text answers are compared in: NFKC, trimmed, single spaces, casefolded.

    NFKC makes full-width digits, ligatures and compatibility characters equal to what a
    learner meant; casefold (not lower) handles e.g. German sharp s.
    """
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    return text if case_sensitive else text.casefold()


# --- small checkers: each takes the place so every message can name it ----------------


def _fail(where: str, message: str) -> SpecError:
    return SpecError(f"{where}: {message}" if where else message)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"must be a mapping, got {_kind(value)}")
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise _fail(where, f"field names must be strings, got {bad[0]!r}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {bool: "true/false", int: "a number", float: "a number", str: "text"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _unknown(data: dict[str, Any], allowed: set[str], where: str, what: str = "") -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        suffix = f" for {what}" if what else ""
        raise _fail(
            where,
            f"unknown field(s){suffix}: {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})",
        )


def _text(data: dict[str, Any], key: str, where: str, *, limit: int, required: bool) -> Any:
    place = _join(where, key)
    value = data.get(key)
    if value is None:
        if required:
            raise _fail(place, "is required")
        return None
    if not isinstance(value, str):
        raise _fail(place, f"must be text, got {_kind(value)}")
    if not value.strip():
        raise _fail(place, "must not be empty")
    if len(value) > limit:
        raise _fail(place, f"is {len(value):,} characters; the limit is {limit:,}")
    return value


def _slug(data: dict[str, Any], where: str) -> str:
    value = _text(data, "id", where, limit=64, required=True)
    if not SLUG.fullmatch(value):
        raise _fail(
            _join(where, "id"),
            f"{value!r} is not a valid id (lowercase letters, digits and '-', "
            "starting with a letter or digit, at most 64 characters)",
        )
    return value


def _bool(data: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _fail(_join(where, key), f"must be true or false, got {_kind(value)}")
    return value


def _number(data: dict[str, Any], key: str, where: str) -> float | None:
    """A finite int or float; bools are rejected because YAML turns ``yes`` into True."""
    value = data.get(key)
    if value is None:
        return None
    place = _join(where, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = (
            " (in YAML write exponents with a dot, e.g. 1.0e-3)" if isinstance(value, str) else ""
        )
        raise _fail(place, f"must be a number, got {_kind(value)}{hint}")
    try:
        number = float(value)
    except OverflowError:
        raise _fail(place, "is too large") from None
    if not math.isfinite(number):
        raise _fail(place, "must be a finite number")
    return number


def _list(data: dict[str, Any], key: str, where: str, *, limit: int) -> list[Any]:
    place = _join(where, key)
    value = data.get(key)
    if value is None:
        raise _fail(place, "is required")
    if not isinstance(value, list):
        raise _fail(place, f"must be a list, got {_kind(value)}")
    if len(value) > limit:
        raise _fail(place, f"has {len(value)} entries; the limit is {limit}")
    return value


def _scoring(data: dict[str, Any], where: str) -> Scoring:
    value = data.get("scoring", "all_or_nothing")
    if value not in SCORINGS:
        raise _fail(_join(where, "scoring"), f"must be one of: {', '.join(SCORINGS)}")
    return value  # type: ignore[no-any-return]


# --- the parts of a quiz ---------------------------------------------------------------


def _options(data: dict[str, Any], key: str, where: str, *, with_key: bool) -> list[Any]:
    """Choices or ordering items: a list of mappings with unique slug ids."""
    raw = _list(data, key, where, limit=MAX_OPTIONS)
    if len(raw) < 2:
        raise _fail(_join(where, key), "needs at least 2 entries")
    allowed = {"id", "text", "correct", "feedback"} if with_key else {"id", "text"}
    seen: set[str] = set()
    parsed: list[Any] = []
    for i, entry in enumerate(raw):
        place = f"{_join(where, key)}[{i}]"
        entry = _mapping(entry, place)
        _unknown(entry, allowed, place)
        ident = _slug(entry, place)
        if ident in seen:
            raise _fail(_join(place, "id"), f"duplicate id {ident!r}")
        seen.add(ident)
        text = _text(entry, "text", place, limit=MAX_TEXT, required=True)
        if not with_key:
            parsed.append(Item(id=ident, text=text))
            continue
        if "correct" not in entry:
            raise _fail(_join(place, "correct"), "is required (true or false)")
        parsed.append(
            Choice(
                id=ident,
                text=text,
                correct=_bool(entry, "correct", place, False),
                feedback=_text(entry, "feedback", place, limit=MAX_TEXT, required=False),
            )
        )
    return parsed


def _choice_fields(data: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    choices: list[Choice] = _options(data, "choices", where, with_key=True)
    n_correct = sum(c.correct for c in choices)
    if kind == "single" and n_correct != 1:
        raise _fail(
            _join(where, "choices"),
            f"a single-choice question needs exactly one correct choice, found {n_correct}",
        )
    if kind == "multiple" and n_correct == 0:
        raise _fail(
            _join(where, "choices"), "a multiple-choice question needs at least one correct choice"
        )
    fields: dict[str, Any] = {"choices": tuple(choices)}
    if kind == "multiple":
        fields["scoring"] = _scoring(data, where)
    return fields


def _numeric_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    answer = _number(data, "answer", where)
    if answer is None:
        raise _fail(_join(where, "answer"), "is required")
    tolerance = _number(data, "tolerance", where)
    relative = _number(data, "relative_tolerance", where)
    if tolerance is not None and relative is not None:
        raise _fail(where, "give either tolerance or relative_tolerance, not both")
    for key, value in (("tolerance", tolerance), ("relative_tolerance", relative)):
        if value is not None and value < 0:
            raise _fail(_join(where, key), "must be 0 or more")
    return {
        "answer": answer,
        "tolerance": tolerance or 0.0,
        "relative_tolerance": relative,
        "feedback": _text(data, "feedback", where, limit=MAX_TEXT, required=False),
    }


def _text_fields(data: dict[str, Any], where: str) -> dict[str, Any]:
    case_sensitive = _bool(data, "case_sensitive", where, False)
    answers: list[str] = []
    if "answers" in data:
        raw = _list(data, "answers", where, limit=MAX_OPTIONS)
        for i, value in enumerate(raw):
            place = f"{_join(where, 'answers')}[{i}]"
            if not isinstance(value, str):
                raise _fail(place, f"must be text, got {_kind(value)} (quote it in YAML)")
            normalised = normalise_text(value, case_sensitive=case_sensitive)
            if not normalised:
                raise _fail(place, "must not be empty")
            answers.append(normalised)
    pattern = None
    source = _text(data, "pattern", where, limit=MAX_PATTERN, required=False)
    if source is not None:
        try:
            # `regex`, not `re`: its matches take a time limit (grading._text)
            pattern = regex.compile(source, 0 if case_sensitive else regex.IGNORECASE)
        except regex.error as e:
            raise _fail(
                _join(where, "pattern"), f"is not a valid regular expression: {e}"
            ) from None
    if not answers and pattern is None:
        raise _fail(_join(where, "answers"), "give at least one accepted answer or a pattern")
    return {"answers": tuple(answers), "pattern": pattern, "case_sensitive": case_sensitive}


def _question(data: Any, where: str) -> Question:
    data = _mapping(data, where)
    kind = data.get("type")
    if kind not in QUESTION_TYPES:
        raise _fail(_join(where, "type"), f"must be one of: {', '.join(QUESTION_TYPES)}")
    _unknown(data, _FIELDS[kind], where, f"a {kind} question")
    ident = _slug(data, where)
    points = _number(data, "points", where)
    if points is not None and points <= 0:
        raise _fail(_join(where, "points"), "must be more than 0")
    fields: dict[str, Any]
    if kind in ("single", "multiple"):
        fields = _choice_fields(data, kind, where)
    elif kind == "numeric":
        fields = _numeric_fields(data, where)
    elif kind == "text":
        fields = _text_fields(data, where)
    else:
        fields = {
            "items": tuple(_options(data, "items", where, with_key=False)),
            "scoring": _scoring(data, where),
        }
    return Question(
        id=ident,
        type=kind,
        prompt=_text(data, "prompt", where, limit=MAX_PROMPT, required=True),
        points=1.0 if points is None else points,
        explanation=_text(data, "explanation", where, limit=MAX_TEXT, required=False),
        **fields,
    )


def parse_quiz(spec: str | dict[str, Any]) -> Quiz:
    """Check a quiz spec (a mapping, or YAML/JSON text) and return it as a :class:`Quiz`.

    JSON is parsed by the same YAML loader (JSON is, for quiz specs, a subset of YAML), so
    both spellings of one quiz give an equal :class:`Quiz`. ``safe_load`` never builds
    arbitrary Python objects from the text.
    """
    if isinstance(spec, str):
        try:
            spec = yaml.safe_load(spec)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(e, "problem", None) or "could not be parsed"
            raise SpecError(f"The quiz is not valid YAML or JSON{place}: {problem}") from None
    data = _mapping(spec, "quiz")
    _unknown(data, QUIZ_FIELDS, "quiz")
    quiz_id = _slug(data, "")
    title = _text(data, "title", "", limit=MAX_TITLE, required=True)
    raw = _list(data, "questions", "", limit=MAX_QUESTIONS)
    if not raw:
        raise _fail("questions", "needs at least one question")
    questions: list[Question] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        question = _question(entry, f"questions[{i}]")
        if question.id in seen:
            raise _fail(f"questions[{i}].id", f"duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
    sample = data.get("sample")
    if sample is not None and (
        isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= len(raw)
    ):
        raise _fail("sample", f"must be a whole number from 1 to {len(raw)} (the question count)")
    return Quiz(
        id=quiz_id,
        title=title,
        questions=tuple(questions),
        shuffle_choices=_bool(data, "shuffle_choices", "", False),
        sample=sample,
        settings=parse_settings(data),
    )


QUIZ_FIELDS = {
    "id",
    "title",
    "shuffle_choices",
    "sample",
    "questions",
    "attempts",
    "counting",
    "opens",
    "closes",
    "live",
}
MAX_ATTEMPTS = 100
COUNTDOWN_RANGE = (5, 300)


def parse_time(value: Any, where: str) -> datetime | None:
    """An ISO 8601 date-time *with* a time zone, as UTC; a naive time is ambiguous, so refused.

    YAML turns unquoted timestamps into ``datetime`` objects itself (naive when no zone was
    written), so both text and YAML's own values are accepted.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _fail(
                where, f"{value!r} is not an ISO 8601 date-time, e.g. 2026-12-01T09:00:00+01:00"
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        raise _fail(where, "needs a time and a time zone, e.g. 2026-12-01T09:00:00Z")
    if not isinstance(value, datetime):
        raise _fail(where, f"must be a date-time, got {_kind(value)}")
    if value.tzinfo is None:
        raise _fail(where, "needs a time zone (e.g. Z for UTC, or +01:00)")
    return value.astimezone(UTC)


def parse_settings(data: dict[str, Any], where: str = "") -> Settings:
    """The quiz-level rules from a spec (or a PATCH body using the same field names)."""
    attempts = data.get("attempts", 1)
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        raise _fail(_join(where, "attempts"), f"must be a whole number, got {_kind(attempts)}")
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise _fail(_join(where, "attempts"), f"must be from 1 to {MAX_ATTEMPTS}")
    counting = data.get("counting", "best")
    if counting not in ("best", "last"):
        raise _fail(_join(where, "counting"), "must be best or last")
    opens = parse_time(data.get("opens"), _join(where, "opens"))
    closes = parse_time(data.get("closes"), _join(where, "closes"))
    if opens and closes and closes <= opens:
        raise _fail(_join(where, "closes"), "must be after opens")
    return Settings(
        attempts=attempts,
        counting=counting,
        opens=opens,
        closes=closes,
        live=_live_options(data.get("live"), _join(where, "live")),
    )


def _live_options(value: Any, where: str) -> LiveOptions:
    if value is None:
        return LiveOptions()
    data = _mapping(value, where)
    _unknown(data, {"countdown", "speed", "streak"}, where)
    countdown = data.get("countdown", 20)
    low, high = COUNTDOWN_RANGE
    whole = isinstance(countdown, int) and not isinstance(countdown, bool)
    if not whole or not low <= countdown <= high:
        raise _fail(_join(where, "countdown"), f"must be whole seconds from {low} to {high}")
    speed = data.get("speed", "points")
    if speed not in ("points", "tiebreak"):
        raise _fail(_join(where, "speed"), "must be points or tiebreak")
    return LiveOptions(countdown=countdown, speed=speed, streak=_bool(data, "streak", where, True))


# --- what a learner sees ---------------------------------------------------------------


def _arranged(options: tuple[Any, ...], *keys: object) -> list[Any]:
    """Choices or items in an order fixed by ``keys`` (course, quiz, question, learner),
    uniformly random over all orders, the author's (or correct) one included.

    Each option is placed by a hash of the keys and *its own id*, never by its position in
    the spec: a shuffle of the spec's list with a seed a learner can guess (their own id)
    could be undone to recover the spec's order, which for an ordering question is the
    answer. Sorting by independent hash values is a uniform shuffle (ties have
    probability 2**-256). The hash needs no secret, since the order it gives says nothing
    about the key; a learner who computes someone else's order learns nothing either.
    """
    prefix = "\x1f".join(str(k) for k in keys)

    def place(option: Any) -> bytes:
        return hashlib.sha256(f"{prefix}\x1f{option.id}".encode()).digest()

    return sorted(options, key=place)


def public_view(quiz: Quiz, seed: int | str, course: str = "") -> dict[str, Any]:
    """The quiz as one learner may see it: no correct flags, answers, feedback or explanation.

    The seed (e.g. the learner's id) fixes which questions are asked when ``sample`` is set
    and, with ``course``, the order of items and (with ``shuffle_choices``) choices, so a
    learner who reloads sees the same quiz (:func:`_arranged`). A private ``random.Random``
    picks the sample, so this is independent of anything else using randomness. Sampled
    questions keep the author's order, since questions often build on each other.
    """
    rng = random.Random(f"{quiz.id}:{seed}")
    questions = list(quiz.questions)
    if quiz.sample is not None:
        picked = set(rng.sample(range(len(questions)), quiz.sample))
        questions = [q for i, q in enumerate(questions) if i in picked]
    out: list[dict[str, Any]] = []
    for q in questions:
        view: dict[str, Any] = {"id": q.id, "type": q.type, "prompt": q.prompt, "points": q.points}
        if q.type in ("single", "multiple"):
            choices = list(q.choices)
            if quiz.shuffle_choices:
                choices = _arranged(q.choices, course, quiz.id, q.id, seed, "choices")
            view["choices"] = [{"id": c.id, "text": c.text} for c in choices]
        elif q.type == "ordering":
            items = _arranged(q.items, course, quiz.id, q.id, seed, "items")
            view["items"] = [{"id": i.id, "text": i.text} for i in items]
        out.append(view)
    return {"id": quiz.id, "title": quiz.title, "questions": out}
