"""Snapshots of archived cohort workspaces: what the workspace held when it was archived.

The hub keeps everything else about a cohort (``cohortlab.cohorts``); the snapshot is the one
cohort thing the service stores, because after an archive nobody may open the workspace any
more (jupyter-collaboration cannot make a running server read-only) yet its members and
staff should still be able to read what they made.

- ``CohortSnapshot``: one per archive that found something new (``digest`` over every file's
  path and content: archiving again with nothing changed reuses the last one), with the
  cohort's ``members`` at that moment (former members may read it), what was left out and
  why (``skipped``), and who archived it.
- ``CohortSnapshotFile``: one file, its bytes compressed (zlib), with how the workspace's
  contents API described it (``kind`` notebook/file, ``format`` json/text/base64).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .models import Base, UTCDateTime, utcnow


class CohortSnapshot(Base):
    __tablename__ = "cohort_snapshots"
    __table_args__ = (Index("ix_cohort_snapshots_cohort", "course", "cohort"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course: Mapped[str] = mapped_column(String(255))
    cohort: Mapped[str] = mapped_column(String(255))
    account: Mapped[str] = mapped_column(String(255))
    members: Mapped[list[str]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    file_count: Mapped[int] = mapped_column(Integer)
    total_bytes: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    taken_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def to_json(self, taken_by: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "course": self.course,
            "cohort": self.cohort,
            "taken_at": self.taken_at.isoformat().replace("+00:00", "Z"),
            "taken_by": taken_by,
            "members": list(self.members),
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "skipped": list(self.skipped),
        }


class CohortSnapshotFile(Base):
    __tablename__ = "cohort_snapshot_files"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "path", name="uq_cohort_snapshot_files_snapshot_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("cohort_snapshots.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    mimetype: Mapped[str | None] = mapped_column(String(255), nullable=True)
    size: Mapped[int] = mapped_column(Integer)
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    @property
    def data(self) -> bytes:
        return zlib.decompress(self.content)

    def to_json(self) -> dict[str, Any]:
        modified = self.last_modified
        return {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "mimetype": self.mimetype,
            "size": self.size,
            "last_modified": modified.isoformat().replace("+00:00", "Z") if modified else None,
        }


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def snapshots_of(session: Session, course: str, cohort: str) -> list[CohortSnapshot]:
    """The cohort's snapshots, newest first."""
    return list(
        session.scalars(
            select(CohortSnapshot)
            .where(CohortSnapshot.course == course, CohortSnapshot.cohort == cohort)
            .order_by(CohortSnapshot.taken_at.desc(), CohortSnapshot.id.desc())
        )
    )


def files_of(session: Session, snapshot_id: int) -> list[CohortSnapshotFile]:
    return list(
        session.scalars(
            select(CohortSnapshotFile)
            .where(CohortSnapshotFile.snapshot_id == snapshot_id)
            .order_by(CohortSnapshotFile.path)
        )
    )


def file_of(session: Session, snapshot_id: int, path: str) -> CohortSnapshotFile | None:
    return session.scalars(
        select(CohortSnapshotFile).where(
            CohortSnapshotFile.snapshot_id == snapshot_id, CohortSnapshotFile.path == path
        )
    ).one_or_none()


__all__ = [
    "CohortSnapshot",
    "CohortSnapshotFile",
    "compress",
    "file_of",
    "files_of",
    "snapshots_of",
]
