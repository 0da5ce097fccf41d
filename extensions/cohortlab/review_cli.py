"""``cohortlab review open``: start (or extend) a peer review round from an nbgrader course.

Run by an instructor in their nbgrader course folder, where nbgrader's own commands run (a
terminal in their JupyterLab has ``JUPYTERHUB_API_TOKEN`` and ``COHORTLAB_SERVICE_URL``). It
reads what nbgrader knows, through nbgrader's own API and paths:

- the submissions: each learner's notebooks as collected (``CourseDirectory.format_path``, so
  a course's own ``directory_structure`` is honoured), or with ``--source autograded`` as
  nbgrader autograded them. An autograded copy carries the instructor's *hidden tests*:
  nbgrader restores every test cell from the gradebook's source version, and the outputs of
  running them quote them in tracebacks. So in autograded copies every autograder test cell
  gets the released template's source back and loses its outputs
  (:func:`hide_tests`); collected copies never held them;
- the rubric: the assignment's manually graded cells in the gradebook (``Gradebook``: markdown
  grade cells, code cells that are both grade and solution, task cells) with their points,
  plus criteria from ``--criteria`` (YAML or JSON);
- the released template (``release/<assignment>``), to mark each cell the learner changed
  or added;
- learners' names and emails from the gradebook, removed in every form learners write them
  along with the user name (:mod:`cohortlab.reviews.names`). A form that is also a common
  word (Will, Rose, Grant) is listed with whose submission holds it, how often and where,
  and the run stops before uploading anything until each such word is decided with
  ``--replace=WORD`` or ``--keep=WORD`` (:mod:`cohortlab.reviews.name_check`); decisions
  hold for that run, so a re-run for late submissions asks about what it adds.

Every notebook is read before anything is sent, so a corrupt one stops the run at once. Then
the service is told the settings and the authors (it refuses impossible rounds, e.g. k too
large, before any upload), each new submission is anonymised with
:func:`cohortlab.reviews.anonymize.anonymize_notebook` and staged, ``--parallel`` at a time
(:mod:`cohortlab.reviews.sending`), and the upload is committed: the round appears in one
transaction, or not at all. Re-running adds late submissions and changes nothing else. A
timing line says where the time went. Mistakes end in one line on stderr and exit 1. The
nbgrader side (submissions, templates, rubric, names) is :mod:`cohortlab.reviews.coursework`;
the pipeline itself is :mod:`cohortlab.reviews.opening`, which the instructor's server runs
too when a round is opened from JupyterLab (:mod:`cohortlab.serverext.review_jobs`).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import yaml
from traitlets import Bool, Enum, Float, Integer, List, Unicode
from traitlets.config import Application

from ._version import __version__
from .appbase import CommandGroup
from .client import ServiceClient, ServiceError
from .reviews.coursework import (  # noqa: F401 - author_names .. read_course: the CLI's API
    ReviewCommandError,
    author_names,
    cell_statuses,
    course_directory,
    hide_tests,
    read_course,
)
from .reviews.name_check import decisions_from
from .reviews.opening import (  # noqa: F401 - review_path: the CLI's API
    UPLOAD_TIMEOUT,
    OpenRequest,
    instructor_criteria,
    open_round,
    review_path,
)

SOURCES = ("submitted", "autograded")


class OpenReviewApp(Application):
    name = "cohortlab-review-open"
    version = __version__
    description = (
        "Open a peer review round on an nbgrader assignment: anonymise the collected (or "
        "autograded) submissions, upload them, and allocate reviewers. Run it in your nbgrader "
        "course folder after collecting; running it again adds late submissions."
    )
    examples = (
        "cohortlab review open hw1 --course demo101 --per-submission 3 --due 2026-12-10T17:00Z"
    )

    course = Unicode(
        help="The course id (nbgrader-<course> groups). Default $COHORTLAB_COURSE, else the "
        "course's nbgrader CourseDirectory.course_id."
    ).tag(config=True)
    service_url = Unicode(
        help="Base URL of the CohortLab service. Default $COHORTLAB_SERVICE_URL; the token comes "
        "from $JUPYTERHUB_API_TOKEN or $COHORTLAB_TOKEN, never from the command line."
    ).tag(config=True)
    per_submission = Integer(
        0, help="Reviewers per submission (k). Default 3 for a new round; re-runs keep the round's."
    ).tag(config=True)
    due = Unicode(
        help="When reviews are due: ISO 8601 with a time zone, e.g. 2026-12-10T17:00Z."
    ).tag(config=True)
    lease_hours = Float(
        0.0,
        help="Hours a reviewer has to open a review before it goes to someone else. Default 48 "
        "for a new round; re-runs keep the round's.",
    ).tag(config=True)
    across_cohorts = Bool(False, help="Reviewers only from another cohort than the author's.").tag(
        config=True
    )
    separate_teams = Bool(
        False, help="Never give a reviewer the work of someone in their own team (cohort teams)."
    ).tag(config=True)
    parallel = Integer(
        4,
        help="Submissions anonymised and sent at a time: the service checks one while the "
        "next is read and anonymised.",
    ).tag(config=True)
    uneven_loads = Bool(
        False,
        help="Accept the most even loads the cohort or team rule allows when ±1 is impossible, "
        "instead of refusing.",
    ).tag(config=True)
    seed_file = Unicode(
        help="A file holding the round's secret seed, to reproduce the allocation and "
        "pseudonyms; created with a new random seed (mode 600) if missing. Keep it secret: with "
        "it and the class list, anyone can work out who reviews whom. Default: the service "
        "makes a seed and keeps it."
    ).tag(config=True)
    criteria = Unicode(
        help="A YAML or JSON file of extra rubric criteria: a list of {id, title, max_points, "
        "description}. nbgrader's manually graded cells are always criteria."
    ).tag(config=True)
    source = Enum(
        SOURCES,
        "submitted",
        help="Which copies to review: submitted (as collected, the default) or autograded "
        "(as nbgrader ran them; test cells are put back as released, without outputs, so "
        "hidden tests never reach a reviewer).",
    ).tag(config=True)

    replace = List(
        Unicode(),
        help="A word that is both a learner's name and a common word (the run lists them and "
        "stops until each is decided): replace it in the copies wherever it stands alone. "
        "Repeat for more words. Holds for this run only.",
    ).tag(config=True)
    keep = List(
        Unicode(),
        help="A word that is both a learner's name and a common word: keep it in the copies "
        "(it is not replaced anywhere). Repeat for more words. Holds for this run only.",
    ).tag(config=True)

    aliases = {
        "replace": "OpenReviewApp.replace",
        "keep": "OpenReviewApp.keep",
        "course": "OpenReviewApp.course",
        "service-url": "OpenReviewApp.service_url",
        "per-submission": "OpenReviewApp.per_submission",
        "due": "OpenReviewApp.due",
        "lease-hours": "OpenReviewApp.lease_hours",
        "seed-file": "OpenReviewApp.seed_file",
        "criteria": "OpenReviewApp.criteria",
        "source": "OpenReviewApp.source",
        "parallel": "OpenReviewApp.parallel",
        "log-level": "Application.log_level",
    }
    flags = {
        "across-cohorts": (
            {"OpenReviewApp": {"across_cohorts": True}},
            "Reviewers only from another cohort than the author's.",
        ),
        "separate-teams": (
            {"OpenReviewApp": {"separate_teams": True}},
            "Never give a reviewer the work of a member of their own team.",
        ),
        "uneven-loads": (
            {"OpenReviewApp": {"uneven_loads": True}},
            "Accept uneven reviewer loads when the cohort rule forces them.",
        ),
    }

    def start(self) -> None:
        try:
            self.run()
        except (ReviewCommandError, ServiceError) as e:
            print(f"cohortlab: {e}", file=sys.stderr)
            self.exit(1)

    def run(self) -> None:
        if len(self.extra_args) != 1:
            raise ReviewCommandError(
                f"give exactly one assignment (got {len(self.extra_args)}); see --help."
            )
        assignment = self.extra_args[0]
        coursedir = course_directory(self.log_level)
        course = self.course or os.environ.get("COHORTLAB_COURSE") or coursedir.course_id
        if not course:
            raise ReviewCommandError("which course? Give --course <course id>.")
        request = OpenRequest(
            course=course,
            assignment=assignment,
            source=self.source,
            settings=self.settings_body,  # after every notebook was read (a new seed file)
            criteria=read_criteria(self.criteria) if self.criteria else [],
            parallel=self.parallel,
            words=decisions_from(self.replace, self.keep),
        )
        open_round(coursedir, request, self.connect)

    def connect(self) -> ServiceClient:
        # a submission is megabytes and is checked on arrival: more than the default 15 s
        return ServiceClient(url=self.service_url or None, timeout=UPLOAD_TIMEOUT)

    def settings_body(self) -> dict[str, Any]:
        """Only what was given: a re-run without --due keeps the round's due date."""
        out: dict[str, Any] = {}
        if self.per_submission:
            out["k"] = self.per_submission
        if self.due:
            out["due_at"] = self.due
        if self.lease_hours:
            out["lease_hours"] = self.lease_hours
        if self.across_cohorts:
            out["across_cohorts"] = True
        if self.separate_teams:
            out["separate_teams"] = True
        if self.uneven_loads:
            out["balance"] = "best"
        if self.seed_file:
            out["seed"] = read_seed(Path(self.seed_file))
        return out


def read_criteria(path: str) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ReviewCommandError(f"{path}: cannot read the criteria ({e}).") from None
    return instructor_criteria(data, path)


def read_seed(path: Path) -> str:
    """The round's seed from ``path``, or a new one written there readable by you alone."""
    if path.exists():
        seed = path.read_text(encoding="utf-8").strip()
        if len(seed) < 16:
            raise ReviewCommandError(f"{path}: a seed needs at least 16 characters.")
        return seed
    seed = secrets.token_hex(16)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise ReviewCommandError(f"cannot create the seed file {path}: {e.strerror}.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(seed + "\n")
    print(f"wrote a new secret seed to {path} (keep it private)")
    return seed


class ReviewApp(CommandGroup):
    name = "cohortlab-review"
    version = __version__
    description = "Peer review of nbgrader assignments."
    subcommands = {
        "open": (OpenReviewApp, "Open (or extend) a peer review round on an assignment."),
        "close": (
            "cohortlab.review_export_cli.CloseReviewApp",
            "Close a round: reviews stop changing (the sign-off before export).",
        ),
        "release": (
            "cohortlab.review_export_cli.ReleaseReviewApp",
            "Show authors their feedback in JupyterLab.",
        ),
        "export": (
            "cohortlab.review_export_cli.ExportReviewApp",
            "Write a closed round's final scores and comments into nbgrader's gradebook.",
        ),
        "results": (
            "cohortlab.review_results_cli.ResultsReviewApp",
            "Show a round's results: scores, disagreement, reviews and reviewers' agreement.",
        ),
        "override": (
            "cohortlab.review_results_cli.OverrideReviewApp",
            "Set your score for one criterion of one submission (--clear removes it).",
        ),
        "exclude": (
            "cohortlab.review_results_cli.ExcludeReviewApp",
            "Leave one review out of the scores and feedback (--include counts it again).",
        ),
    }
