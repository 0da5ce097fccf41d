"""Quiz tables: published quizzes (with their key), answers, per-learner extensions, the
keys shown to each learner, live rounds, and the course's leaderboard settings.

The ``spec`` column holds the answer key. It is read only inside the service, to grade and
to show staff their own quiz; learners get :func:`cohortlab.quizzes.spec.public_view` and,
once the quiz policy allows it, that question's key (``cohortlab.quizzes.policy``).
Answers are never updated or deleted: each attempt is a row, and the unique constraint on
``(quiz, person, question, attempt)`` makes two answers racing for one attempt collide
instead of both counting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow

COUNTINGS = ("best", "last")
NAME_POLICIES = ("real", "alias", "opt_in")


class QuizRecord(Base):
    __tablename__ = "quizzes"
    __table_args__ = (UniqueConstraint("course", "slug", name="uq_quizzes_course_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    # The spec as published, minus the settings below (which the instructor may change).
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    notebook_key: Mapped[str | None] = mapped_column(String(512))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    counting: Mapped[str] = mapped_column(String(10), default="best")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Live-mode options from the spec (countdown, speed, streak).
    live: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuizAnswer(Base):
    __tablename__ = "quiz_answers"
    __table_args__ = (
        UniqueConstraint(
            "quiz_id", "user_id", "question_id", "attempt", name="uq_quiz_answers_attempt"
        ),
        Index("ix_quiz_answers_quiz_user", "quiz_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    # Service time, never the client's.
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuizExtension(Base):
    """A later closing time for one learner (illness, accommodation)."""

    __tablename__ = "quiz_extensions"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id", name="uq_quiz_extensions_person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuizKeyShown(Base):
    """A question whose key (correct answer, explanation) the service has sent to a learner.

    Written in the transaction that decides to send it, before the response leaves; never
    removed. Once a learner has seen a key, no later answer of theirs to that question
    counts, whatever reopens it (an extension, more attempts, a new live round): see
    ``cohortlab.quizzes.policy``.
    """

    __tablename__ = "quiz_keys_shown"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LeaderboardSetting(Base):
    """How a course's leaderboards name people: real names, aliases, or names by opt-in."""

    __tablename__ = "leaderboard_settings"

    course: Mapped[str] = mapped_column(String(255), primary_key=True)
    names: Mapped[str] = mapped_column(String(10), default="alias")
    # Keys the alias hash, so an alias cannot be computed from a user name.
    alias_secret: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LeaderboardOptIn(Base):
    """A learner who chose to appear under their real name (``opt_in`` courses)."""

    __tablename__ = "leaderboard_opt_ins"

    course: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LiveSession(Base):
    """One live (instructor-paced) round of a quiz. ``state`` is
    :meth:`cohortlab.quizzes.live.LiveState.as_json`: every replica reads the same row, so
    no part of a round lives only in one process."""

    __tablename__ = "live_sessions"
    __table_args__ = (Index("ix_live_sessions_quiz", "quiz_id", "ended"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    course: Mapped[str] = mapped_column(String(255))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "none", "cohorts" (cohorts compete) or "teams" (the teams inside team_cohort)
    team_mode: Mapped[str] = mapped_column(String(10), default="none")
    team_cohort: Mapped[str | None] = mapped_column(String(255))
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last question index whose results were announced (so a timer on one replica and
    # the instructor's close on another announce it once).
    announced: Mapped[int] = mapped_column(Integer, default=-1)
    started_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LivePlayer(Base):
    """One person who joined a live session, with their running totals
    (:class:`cohortlab.quizzes.live.Player`)."""

    __tablename__ = "live_players"

    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team: Mapped[str | None] = mapped_column(String(255))
    score: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    last_correct: Mapped[int] = mapped_column(Integer, default=-1)
    answer_time: Mapped[float] = mapped_column(Float, default=0.0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LiveAnswer(Base):
    """One answer in a live round; one per person and question (the unique constraint)."""

    __tablename__ = "live_answers"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", "question", name="uq_live_answers_once"),
        Index("ix_live_answers_question", "session_id", "question"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[Any] = mapped_column(JSON)
    correct: Mapped[bool] = mapped_column(Boolean)
    fraction: Mapped[float] = mapped_column(Float)
    points: Mapped[int] = mapped_column(Integer)
    bonus: Mapped[int] = mapped_column(Integer)
    elapsed: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
