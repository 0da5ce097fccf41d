"""Peer review tables: rounds, their rubric, anonymous submissions, who reviews what, reviews,
per-learner extensions, and the staging area ``cohortlab review open`` uploads into.

What a reviewer may learn decides the shape:

- a submission's author (``ReviewSubmission.author_id``) is read only for staff views and the
  allocation; reviewers address submissions by ``number`` ("Submission 7"), never by an id
  that a row count or another table could tie to a person;
- the anonymous copies (``ReviewNotebook.content``) are stored as compressed nbformat JSON,
  made by the instructor's CLI (``cohortlab.reviews.anonymize``) and checked again on upload;
- ``ReviewRound.seed`` is the round's secret: it fixes the allocation and the pseudonym order,
  and keys the hashed cell ids (through a derived key, :func:`cohortlab.reviews.records.copy_key`).
  It never leaves the service unless the instructor chose it (``--seed-file``).

A round and its submissions come into being in one transaction, when an upload is committed
(``ReviewUpload``/``ReviewUploadItem`` hold the copies until then), so a failed
``review open`` leaves no round behind.

What happens after reviewing (migration 0006): the round's aggregation ``method``; instructor
overrides per (submission, criterion) and excluded reviews, each with who, when and why;
nbgrader's autograde scores as ``review open`` found them; the author's helpfulness rating of
each review and flags on reviews, which only staff see and resolve.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow

ROUND_STATES = ("open", "closed")
ASSIGNMENT_STATES = ("active", "expired")
REVIEW_STATES = ("draft", "submitted")
CRITERION_KINDS = ("nbgrader", "instructor")


class ReviewRound(Base):
    """One peer review round of an nbgrader assignment in a course."""

    __tablename__ = "review_rounds"
    __table_args__ = (
        UniqueConstraint("course", "assignment", name="uq_review_rounds_course_assignment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course: Mapped[str] = mapped_column(String(255))
    assignment: Mapped[str] = mapped_column(String(255))
    k: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None: reviews are never taken away for not being opened.
    lease_hours: Mapped[float | None] = mapped_column(Float)
    # {"across_cohorts": bool, "separate_teams": bool} (cohortlab.reviews.allocation.Constraints)
    constraints: Mapped[dict[str, Any]] = mapped_column(JSON)
    balance: Mapped[str] = mapped_column(String(10), default="strict")
    seed: Mapped[str] = mapped_column(String(128))
    names_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="open")
    # median | mean | pg1 (cohortlab.reviews.aggregate.METHODS)
    method: Mapped[str] = mapped_column(String(10), default="median", server_default="median")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewCriterion(Base):
    """A rubric line: an nbgrader manually graded cell (its ``grade_id`` and points, so the
    export can write the score back to that cell) or a criterion the instructor added."""

    __tablename__ = "review_criteria"
    __table_args__ = (UniqueConstraint("round_id", "key", name="uq_review_criteria_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"))
    key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16))
    notebook: Mapped[str | None] = mapped_column(String(255))
    grade_id: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer)


class ReviewSubmission(Base):
    """One learner's submission in a round, under its pseudonym number."""

    __tablename__ = "review_submissions"
    __table_args__ = (
        UniqueConstraint("round_id", "number", name="uq_review_submissions_number"),
        UniqueConstraint("round_id", "author_id", name="uq_review_submissions_author"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewNotebook(Base):
    """The anonymous copy of one notebook of a submission.

    ``content`` is zlib-compressed nbformat JSON; ``cells`` has one entry per cell of the
    copy: ``{"status": "unchanged" | "changed" | "added" | "unknown", "outputs": n}``, where
    the status compares the learner's cell with the released template ("changed cells").
    """

    __tablename__ = "review_notebooks"
    __table_args__ = (UniqueConstraint("submission_id", "name", name="uq_review_notebooks_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("review_submissions.id"))
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    cells: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class ReviewAssignment(Base):
    """A reviewer's task: one submission to review.

    ``expired`` rows are leases that lapsed and went to someone else; they stay so nobody is
    given back work they let lapse (``reallocate_expired``'s ``past``). The unique constraint
    holds across states: nobody is ever assigned the same submission twice.
    """

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("submission_id", "reviewer_id", name="uq_review_assignments_pair"),
        Index("ix_review_assignments_reviewer", "reviewer_id", "state"),
        Index("ix_review_assignments_round", "round_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("review_submissions.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(10), default="active")
    extra: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Review(Base):
    """What a reviewer wrote: rubric scores with comments, an overall comment, and comments
    anchored to cells (and outputs) of the copy, by notebook name and cell index."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignments.id"), unique=True)
    # {criterion key: {"score": number | null, "comment": str}}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    # [{"notebook": str, "cell": int, "output": int | null, "text": str}]
    cell_comments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewExtension(Base):
    """A later due date for one reviewer (illness, accommodation)."""

    __tablename__ = "review_extensions"
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_review_extensions_person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewUpload(Base):
    """An upload in progress: the settings and authors ``review open`` announced, and the seed
    a new round will get. Committing it creates or extends the round in one transaction."""

    __tablename__ = "review_uploads"
    __table_args__ = (Index("ix_review_uploads_assignment", "course", "assignment"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course: Mapped[str] = mapped_column(String(255))
    assignment: Mapped[str] = mapped_column(String(255))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    # user names: those to upload now, and those already in the round
    authors: Mapped[list[str]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewUploadItem(Base):
    """One notebook of a staged anonymous submission, as :class:`ReviewNotebook` will hold it
    (so committing moves the compressed copy without reading it again)."""

    __tablename__ = "review_upload_items"

    upload_id: Mapped[str] = mapped_column(ForeignKey("review_uploads.id"), primary_key=True)
    author: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    cells: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewOverride(Base):
    """An instructor's score for one criterion of one submission, in place of the peers'."""

    __tablename__ = "review_overrides"
    __table_args__ = (
        UniqueConstraint("submission_id", "criterion", name="uq_review_overrides_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("review_submissions.id"))
    criterion: Mapped[str] = mapped_column(String(400))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewExclusion(Base):
    """A review the instructor left out of the scores (and of the author's feedback)."""

    __tablename__ = "review_exclusions"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    excluded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    excluded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewRating(Base):
    """How helpful the author found one review of their submission (1-5)."""

    __tablename__ = "review_ratings"
    __table_args__ = (CheckConstraint("helpfulness BETWEEN 1 AND 5", name="helpfulness_range"),)

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    rated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    helpfulness: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewFlag(Base):
    """An author's report that a review of their work is inappropriate; staff resolve it."""

    __tablename__ = "review_flags"
    __table_args__ = (
        UniqueConstraint("review_id", "flagged_by", name="uq_review_flags_once"),
        Index("ix_review_flags_round", "round_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id"))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    flagged_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str] = mapped_column(Text, default="")


class ReviewAutograde(Base):
    """nbgrader's scores for one submission as ``review open`` read them from the gradebook:
    per rubric criterion where nbgrader scored it, and the assignment's autograded total."""

    __tablename__ = "review_autograde"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("review_submissions.id"), primary_key=True
    )
    # {criterion key: auto score | null}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    max_total: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
