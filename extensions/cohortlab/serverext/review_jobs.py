"""Peer review rounds from the instructor's JupyterLab: the ``cohortlab review open`` and
``export`` pipelines (:mod:`cohortlab.reviews.opening`) run as jobs in the instructor's own
server, on the nbgrader course folder in their home, as their CLI would.

- ``GET /cohortlab/reviews/course?folder=<rel>``: the nbgrader course in ``folder`` (relative to
  the server's root; default the ``CourseDirectory.root`` nbgrader's config names) and its
  assignments with how many submissions were collected and autograded;
- ``POST /cohortlab/reviews/rounds`` and ``POST /cohortlab/reviews/exports``: start a job (202);
  the course is read before answering, so an unknown assignment or a course without
  submissions is refused at once (400/404/409), and so is a second job on the same round
  while one runs (409 ``job_running``);
- ``POST /cohortlab/reviews/names``: the name check before opening (same body as ``rounds``
  less the settings): the words that are both a learner's name and a common word in the
  submissions the run would upload, each with whose submission, how often and excerpts
  (:mod:`cohortlab.reviews.name_check`), for staff to decide; ``rounds`` then takes
  ``words: {word: "replace" | "keep"}`` and its job stops (409 ``names_to_decide``) if a word
  found has no decision;
- ``GET /cohortlab/reviews/jobs`` (newest first) and ``/jobs/<id>``: progress of a job
  (phase, done/total, the lines the CLI prints), then its result or its error.

Owner only, like the relay: the jobs call the service with this server's hub token (the
service decides what the instructor may do; a learner is refused before anything is read).
The service client is blocking, so each job runs on a thread of its own
(:mod:`cohortlab.serverext.jobs`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tornado import web

from ..client import ServiceClient, ServiceError
from ..errors import APIError
from ..reviews.coursework import (
    ReviewCommandError,
    course_directory,
    find_submissions,
    gradebook_path,
    read_course,
)
from ..reviews.export import ExportError
from ..reviews.name_check import findings, new_authors, parse_words
from ..reviews.opening import (
    UPLOAD_TIMEOUT,
    OpenRequest,
    export_round,
    instructor_criteria,
    open_round,
)
from ..reviews.rubric import parse_criteria, parse_settings
from .jobs import Job, JobRegistry, job_error
from .reviews import ReviewCopyBase, _safe_segment

SOURCES = ("submitted", "autograded")
OPEN_FIELDS = {
    "course",
    "assignment",
    "folder",
    "per_submission",
    "due_at",
    "lease_hours",
    "across_cohorts",
    "separate_teams",
    "uneven_loads",
    "source",
    "criteria",
    "words",
}
CHECK_FIELDS = {"course", "assignment", "folder", "source"}
EXPORT_FIELDS = {"course", "assignment", "folder", "overwrite", "dry_run"}
CRITERION_FIELDS = {"id", "title", "max_points", "description"}
CONFIG_FILES = ("nbgrader_config.py", "nbgrader_config.json", "gradebook.db")


# --- the course folder ------------------------------------------------------------------------


def find_course(root_dir: str, folder: str | None) -> tuple[Any, str]:
    """nbgrader's CourseDirectory for ``folder`` (relative to the server's root) with the
    course root relative to the server's root ("" for the root itself); 404 ``no_course``
    with what to do when there is no course there.

    Without ``folder`` (or ""): as nbgrader run at the server's root sees it, i.e. the
    ``CourseDirectory.root`` nbgrader's config names, else the root itself.
    """
    root = Path(root_dir).resolve()
    if not folder:
        path, chosen = root, False
    else:
        if not isinstance(folder, str) or "\0" in folder or os.path.isabs(folder):
            raise APIError(
                404, "no_course", "Give the course folder relative to your home, e.g. demo101."
            )
        path, chosen = (root / folder).resolve(), True
        if not path.is_relative_to(root) or not path.is_dir():
            raise APIError(
                404,
                "no_course",
                f"There is no folder {folder!r} in your home; choose your nbgrader course "
                "folder (where its nbgrader_config.py and gradebook.db are).",
            )
        if not any((path / name).exists() for name in CONFIG_FILES):
            raise APIError(
                404,
                "no_course",
                f"{folder!r} is not an nbgrader course folder (no nbgrader_config.py or "
                "gradebook.db); choose your course folder, or set one up with "
                "`nbgrader quickstart`.",
            )
    coursedir = course_directory(folder=path)
    course_root = Path(coursedir.root).resolve()
    if not course_root.is_relative_to(root):
        raise APIError(
            404,
            "no_course",
            f"The nbgrader course root {coursedir.root} is outside your home, which this "
            "server does not read; run cohortlab review in a terminal there instead.",
        )
    relative = "" if course_root == root else course_root.relative_to(root).as_posix()
    try:
        gradebook_path(coursedir)
    except ReviewCommandError:
        if not chosen and course_root == root:
            message = (
                "No nbgrader course is configured for you (no CourseDirectory.root in your "
                "nbgrader_config.py) and your home is not one: choose your course folder."
            )
        else:
            where = f"The course folder {relative!r}" if relative else "Your home"
            message = (
                f"{where} has no nbgrader gradebook yet: run "
                "`nbgrader generate_assignment <assignment>` there first."
            )
        raise APIError(404, "no_course", message) from None
    return coursedir, relative


def describe_course(root_dir: str, folder: str | None) -> dict[str, Any]:
    from nbgrader.api import Gradebook

    coursedir, relative = find_course(root_dir, folder)
    with Gradebook(coursedir.db_url, coursedir.course_id or "") as gb:
        names = [a.name for a in gb.assignments]
    return {
        "folder": relative,
        "course_id": coursedir.course_id or None,
        "assignments": [
            {
                "name": name,
                "submitted": len(find_submissions(coursedir, name, "submitted")),
                "autograded": len(find_submissions(coursedir, name, "autograded")),
            }
            for name in names
        ],
    }


def check_course(coursedir: Any, course: str, relative: str) -> None:
    if coursedir.course_id and coursedir.course_id != course:
        raise APIError(
            409,
            "course_mismatch",
            f"The nbgrader course in {relative!r} is {coursedir.course_id!r}, not {course!r}; "
            "choose that course's folder.",
        )


# --- bodies -----------------------------------------------------------------------------------


def _given(data: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise APIError(
            400,
            "invalid_field",
            f"Unknown field(s): {', '.join(unknown)}; send any of {', '.join(sorted(allowed))}.",
        )
    return {k: v for k, v in data.items() if v is not None}


def _folder(data: dict[str, Any]) -> str | None:
    folder = data.get("folder")
    if folder is not None and not isinstance(folder, str):
        raise APIError(400, "invalid_field", "'folder' must be a path relative to your home.")
    return folder


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise APIError(400, "invalid_field", f"'{name}' must be true or false.")
    return value


def parse_open(data: dict[str, Any]) -> tuple[OpenRequest, str | None]:
    """The open request of a body, checked as the service will check it (same messages)."""
    data = _given(data, OPEN_FIELDS)
    course = _safe_segment(data.get("course"), "course")
    assignment = _safe_segment(data.get("assignment"), "assignment")
    settings: dict[str, Any] = {}
    if "per_submission" in data:
        settings["k"] = data["per_submission"]
    for name in ("due_at", "lease_hours", "across_cohorts", "separate_teams"):
        if name in data:
            settings[name] = data[name]
    if _flag(data, "uneven_loads"):
        settings["balance"] = "best"
    parse_settings(settings)  # 400 with the service's own message
    source = data.get("source", "submitted")
    if source not in SOURCES:
        raise APIError(400, "invalid_field", "'source' must be submitted or autograded.")
    criteria: list[dict[str, Any]] = []
    if "criteria" in data:
        items = data["criteria"]
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
            raise APIError(
                400, "invalid_rubric", "criteria must be a list of {id, title, max_points}."
            )
        for i, item in enumerate(items):
            extra = sorted(set(item) - CRITERION_FIELDS)
            if extra:
                raise APIError(
                    400,
                    "invalid_rubric",
                    f"criteria[{i}] has unknown field(s) {', '.join(extra)}; send id, title, "
                    "max_points and optionally description.",
                )
        criteria = instructor_criteria(items)
        parse_criteria(criteria)
    try:
        words = parse_words(data.get("words"))
    except ReviewCommandError as e:
        raise APIError(400, e.code, e.message) from None
    request = OpenRequest(course, assignment, source, settings, criteria, words=words, cli=False)
    return request, _folder(data)


# --- handlers ---------------------------------------------------------------------------------


class ReviewJobBase(ReviewCopyBase):
    """Owner only; the registry and the pipelines' service client."""

    @property
    def jobs(self) -> JobRegistry:
        return self.settings.setdefault("cohortlab_review_jobs", JobRegistry())

    @property
    def root_dir(self) -> str:
        return str(self.settings.get("server_root_dir") or self.contents_manager.root_dir)

    def connect(self) -> ServiceClient:
        cl = self.cl
        return ServiceClient(url=cl["service_url"], token=cl["token"], timeout=UPLOAD_TIMEOUT)

    async def require_instructor(self, course: str, action: str) -> None:
        """Ask the service before reading anything: only the course's instructors (the
        service checks again on every call the job makes)."""
        me = await self.service_get("api/v1/me")
        roles = {c.get("id"): c.get("role") for c in me.get("courses", [])}
        if roles.get(course) != "instructor":
            raise APIError(403, "instructor_only", f"Only the course's instructors can {action}.")

    async def blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` off the event loop; its person-facing errors become 4xx answers."""
        try:
            return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
        except (ReviewCommandError, ServiceError, ExportError) as e:
            status, code, message = job_error(e)
            raise APIError(status, code, message) from None

    def started(self, job: Job) -> None:
        self.set_status(202)
        self.set_header("Location", f"{self.base_url}cohortlab/reviews/jobs/{quote(job.id)}")
        self.finish({"job": job.as_json()})


class CourseHandler(ReviewJobBase):
    @web.authenticated
    async def get(self) -> None:
        self.check_owner()
        folder = self.get_query_argument("folder", None)
        self.finish(await self.blocking(describe_course, self.root_dir, folder))


class RoundJobsHandler(ReviewJobBase):
    @web.authenticated
    async def post(self) -> None:
        self.check_owner()
        request, folder = parse_open(self.json_object())
        await self.require_instructor(request.course, "open peer review rounds")
        job = self.jobs.reserve("open", request.course, request.assignment)
        try:
            coursedir, work, notes = await self.blocking(self._prepare, request, folder)
        except BaseException:
            self.jobs.discard(job)
            raise
        for note in notes:
            job.report("preparing", 0, 0, note)
        connect = self.connect
        self.jobs.run(job, lambda j: open_round(coursedir, request, connect, j.report, work))
        self.started(job)

    def _prepare(self, request: OpenRequest, folder: str | None) -> tuple[Any, Any, list[str]]:
        coursedir, relative = find_course(self.root_dir, folder)
        check_course(coursedir, request.course, relative)
        notes: list[str] = []
        work = read_course(
            coursedir, request.course, request.assignment, request.source, notes.append
        )
        return coursedir, work, notes


class NameCheckHandler(ReviewJobBase):
    """The name check of an open run, before it starts (nothing is sent to the service but
    the question which submissions the round already has)."""

    @web.authenticated
    async def post(self) -> None:
        self.check_owner()
        data = _given(self.json_object(), CHECK_FIELDS)
        course = _safe_segment(data.get("course"), "course")
        assignment = _safe_segment(data.get("assignment"), "assignment")
        source = data.get("source", "submitted")
        if source not in SOURCES:
            raise APIError(400, "invalid_field", "'source' must be submitted or autograded.")
        folder = _folder(data)
        await self.require_instructor(course, "check names before opening a round")
        self.finish(await self.blocking(self._check, course, assignment, source, folder))

    def _check(self, course: str, assignment: str, source: str, folder: str | None) -> Any:
        coursedir, relative = find_course(self.root_dir, folder)
        check_course(coursedir, course, relative)
        work = read_course(coursedir, course, assignment, source, lambda _line: None)
        students = new_authors(self.connect(), course, assignment, sorted(work.found))
        return {"checked": students, "findings": findings(work, students)}


class ExportJobsHandler(ReviewJobBase):
    @web.authenticated
    async def post(self) -> None:
        self.check_owner()
        data = _given(self.json_object(), EXPORT_FIELDS)
        course = _safe_segment(data.get("course"), "course")
        assignment = _safe_segment(data.get("assignment"), "assignment")
        folder = _folder(data)
        overwrite, dry_run = _flag(data, "overwrite"), _flag(data, "dry_run")
        await self.require_instructor(course, "export peer review scores")
        job = self.jobs.reserve("export", course, assignment)
        try:
            coursedir, relative = await self.blocking(find_course, self.root_dir, folder)
            check_course(coursedir, course, relative)
        except BaseException:
            self.jobs.discard(job)
            raise
        client = self.connect()
        self.jobs.run(
            job,
            lambda j: export_round(
                coursedir, course, assignment, client, j.report, overwrite=overwrite,
                dry_run=dry_run,
            ),
        )  # fmt: skip
        self.started(job)


class JobListHandler(ReviewJobBase):
    @web.authenticated
    async def get(self) -> None:
        self.check_owner()
        self.finish({"jobs": [job.as_json() for job in self.jobs.newest_first()]})


class JobHandler(ReviewJobBase):
    @web.authenticated
    async def get(self, job_id: str) -> None:
        self.check_owner()
        job = self.jobs.get(job_id)
        if job is None:
            raise APIError(
                404,
                "unknown_job",
                "This server has no such job (jobs are forgotten when the server restarts).",
            )
        self.finish({"job": job.as_json()})


default_handlers = [
    (r"/cohortlab/reviews/course", CourseHandler),
    (r"/cohortlab/reviews/rounds", RoundJobsHandler),
    (r"/cohortlab/reviews/names", NameCheckHandler),
    (r"/cohortlab/reviews/exports", ExportJobsHandler),
    (r"/cohortlab/reviews/jobs", JobListHandler),
    (r"/cohortlab/reviews/jobs/([^/]+)", JobHandler),
]
