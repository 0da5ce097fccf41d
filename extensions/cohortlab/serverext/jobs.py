"""Jobs of the instructor's own server: a pipeline that runs on a thread of its own (the
service client is blocking) and reports its progress, which handlers read while it runs.

Jobs live in the server's memory (they are this server's local work, not shared state): a
restarted server forgets them. The last :data:`MAX_JOBS` are kept, and one job at a time
runs per (course, assignment). Used by :mod:`cohortlab.serverext.review_jobs`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..client import ServiceError
from ..errors import APIError
from ..reviews.coursework import ReviewCommandError
from ..reviews.export import ExportError

MAX_JOBS = 20
MAX_LINES = 2000
_log = logging.getLogger("cohortlab.review_jobs")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- jobs -------------------------------------------------------------------------------------


class Job:
    """One run of a pipeline: its progress as the pipeline reports it, then a result or an
    error. Written by the job's thread, read by handlers: every access holds the lock."""

    def __init__(self, kind: str, course: str, assignment: str) -> None:
        self.id = secrets.token_hex(8)
        self.kind, self.course, self.assignment = kind, course, assignment
        self.state = "running"
        self.phase = "preparing"
        self.done = self.total = 0
        self.lines: list[str] = []
        self.error: dict[str, str] | None = None
        self.result: dict[str, Any] | None = None
        self.started_at, self.finished_at = _now(), None
        self._lock = threading.Lock()

    def report(self, phase: str, done: int, total: int, line: str) -> None:
        """The pipelines' progress reporter."""
        with self._lock:
            self.phase, self.done, self.total = phase, done, total
            if line:
                self.lines.append(line)
                del self.lines[:-MAX_LINES]

    def finish(self, result: dict[str, Any]) -> None:
        with self._lock:
            self.state, self.phase, self.result, self.finished_at = "done", "done", result, _now()

    def fail(self, code: str, message: str) -> None:
        with self._lock:
            self.state, self.finished_at = "failed", _now()
            self.error = {"code": code, "message": message}

    @property
    def running(self) -> bool:
        with self._lock:
            return self.state == "running"

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "course": self.course,
                "assignment": self.assignment,
                "state": self.state,
                "phase": self.phase,
                "done": self.done,
                "total": self.total,
                "lines": list(self.lines),
                "error": dict(self.error) if self.error else None,
                "result": self.result,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
            }


def job_error(e: BaseException) -> tuple[int, str, str]:
    """The status, code and message a pipeline's exception stands for; anything unexpected
    is logged here and told in general words (never a traceback)."""
    if isinstance(e, ReviewCommandError):
        return e.status, e.code, e.message
    if isinstance(e, ServiceError):
        return e.status, e.code, e.message
    if isinstance(e, APIError):
        return e.status_code, e.code, e.message
    if isinstance(e, ExportError):
        return 409, "export_refused", str(e)
    _log.error("peer review job failed", exc_info=e)
    return (
        500,
        "job_crashed",
        f"The job stopped on an unexpected error ({type(e).__name__}); it is in this server's "
        "log. Nothing half-done was kept: try again, or run the same cohortlab review command "
        "in a terminal to see more.",
    )


class JobRegistry:
    """This server's jobs, newest last; one running job per (course, assignment)."""

    def __init__(self, keep: int = MAX_JOBS) -> None:
        self.keep = keep
        self._jobs: list[Job] = []
        self._lock = threading.Lock()

    def reserve(self, kind: str, course: str, assignment: str) -> Job:
        """A new running job, or 409 ``job_running`` naming the one already running."""
        with self._lock:
            for job in self._jobs:
                if job.running and (job.course, job.assignment) == (course, assignment):
                    raise APIError(
                        409,
                        "job_running",
                        f"A {job.kind} job on {assignment} is already running (job {job.id}); "
                        "wait for it to finish.",
                    )
            job = Job(kind, course, assignment)
            self._jobs.append(job)
            finished = [j for j in self._jobs if not j.running]
            for old in finished[: max(0, len(self._jobs) - self.keep)]:
                self._jobs.remove(old)
            return job

    def discard(self, job: Job) -> None:
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs if j.id == job_id), None)

    def newest_first(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs))

    def run(self, job: Job, work: Callable[[Job], dict[str, Any]]) -> threading.Thread:
        """``work(job)`` on a thread of its own; its result or its error ends the job."""

        def target() -> None:
            try:
                result = work(job)
            except BaseException as e:  # every failure ends the job, told
                _status, code, message = job_error(e)
                job.report(job.phase, job.done, job.total, f"cohortlab: {message}")
                job.fail(code, message)
            else:
                job.finish(result)

        thread = threading.Thread(target=target, name=f"cohortlab-job-{job.id}", daemon=True)
        thread.start()
        return thread
