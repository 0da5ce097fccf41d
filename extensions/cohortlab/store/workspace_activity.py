"""Contribution counts in cohort workspaces: edits and runs per person, cohort and notebook.

Each person's own browser reports what they did in the workspace, with their own session
(the lab client in direct mode), so a count is always the person's own: the workspace's
shared account is refused by the service, and nobody can add to someone else's counts
(docs/cohort-workspace.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, UTCDateTime, utcnow


class WorkspaceActivity(Base):
    __tablename__ = "workspace_activity"
    __table_args__ = (UniqueConstraint("course", "cohort", "user_id", "notebook"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course: Mapped[str] = mapped_column(String(255))
    cohort: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    notebook: Mapped[str] = mapped_column(String(1024))
    edits: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def add_activity(
    session: Session,
    course: str,
    cohort: str,
    user_id: int,
    notebook: str,
    edits: int,
    runs: int,
) -> WorkspaceActivity:
    """Add a report's counts to the person's row for the notebook (made if missing)."""
    row = session.scalars(
        select(WorkspaceActivity).where(
            WorkspaceActivity.course == course,
            WorkspaceActivity.cohort == cohort,
            WorkspaceActivity.user_id == user_id,
            WorkspaceActivity.notebook == notebook,
        )
    ).one_or_none()
    if row is None:
        row = WorkspaceActivity(
            course=course, cohort=cohort, user_id=user_id, notebook=notebook, edits=0, runs=0
        )
        session.add(row)
    row.edits += edits
    row.runs += runs
    row.last_at = utcnow()
    session.flush()
    return row


def cohort_activity(
    session: Session, course: str, cohort: str
) -> list[tuple[str, str, int, int, datetime]]:
    """(person, notebook, edits, runs, last) for every row of the cohort."""
    from .models import User

    rows = session.execute(
        select(
            User.name,
            WorkspaceActivity.notebook,
            WorkspaceActivity.edits,
            WorkspaceActivity.runs,
            WorkspaceActivity.last_at,
        )
        .join(User, User.id == WorkspaceActivity.user_id)
        .where(WorkspaceActivity.course == course, WorkspaceActivity.cohort == cohort)
        .order_by(User.name, WorkspaceActivity.notebook)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]
