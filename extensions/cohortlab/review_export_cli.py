"""``cohortlab review close|release|export``: sign off a peer review round and send its scores
to nbgrader.

- ``close`` ends reviewing (no review changes after it): the sign-off ``export`` asks for;
- ``release`` shows authors their feedback in JupyterLab (``--names`` also shows who
  reviewed them);
- ``export`` reads the round's final results from the service (as the instructor, through the
  staff API) and writes them into the nbgrader gradebook of the course folder it runs in,
  through nbgrader's ``Gradebook`` API (:mod:`cohortlab.reviews.export`): one transaction,
  after every grade was found, so either every score is written or none.

Run in the instructor's nbgrader course folder, like ``cohortlab review open``. Mistakes end
in one line on stderr and exit 1.
"""

from __future__ import annotations

import os
from typing import Any

from traitlets import Bool

from .commands import CommandError, ServiceCommand, service_path
from .reviews.coursework import ReviewCommandError, course_directory
from .reviews.export import ExportError
from .reviews.opening import export_round, send_autograde  # noqa: F401 - send_autograde: API


class RoundCommand(ServiceCommand):
    """A command on one round: exactly one assignment."""

    aliases = {**ServiceCommand.aliases}
    person_errors = (*ServiceCommand.person_errors, ExportError, ReviewCommandError)

    def check_arguments(self) -> None:
        if len(self.extra_args) != 1:
            raise CommandError(
                f"give exactly one assignment (got {len(self.extra_args)}); see --help."
            )

    @property
    def assignment(self) -> str:
        return self.extra_args[0]

    def round_path(self, *rest: str) -> str:
        return service_path("courses", self.course_id(), "reviews", self.assignment, *rest)

    def change(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client().request("PATCH", self.round_path(), body)["round"]


class CloseReviewApp(RoundCommand):
    name = "cohortlab-review-close"
    description = "Close a peer review round: reviews can no longer change (the sign-off)."
    examples = "cohortlab review close hw1 --course demo101"

    reopen = Bool(False, help="Open the round again instead.").tag(config=True)
    flags = {"reopen": ({"CloseReviewApp": {"reopen": True}}, "Open the round again.")}

    def run(self) -> None:
        rnd = self.change({"state": "open" if self.reopen else "closed"})
        print(f"peer review of {self.assignment} is {rnd['state']}")


class ReleaseReviewApp(RoundCommand):
    name = "cohortlab-review-release"
    description = "Show authors their peer review feedback (scores and comments) in JupyterLab."
    examples = "cohortlab review release hw1 --course demo101 [--names] [--withdraw]"

    names = Bool(False, help="Also show authors who reviewed them.").tag(config=True)
    withdraw = Bool(False, help="Hide the feedback again.").tag(config=True)
    flags = {
        "names": ({"ReleaseReviewApp": {"names": True}}, "Show reviewers' names to authors."),
        "withdraw": ({"ReleaseReviewApp": {"withdraw": True}}, "Hide the feedback again."),
    }

    def run(self) -> None:
        body: dict[str, Any] = {"released": not self.withdraw}
        if self.names:
            body["names_visible"] = True
        rnd = self.change(body)
        shown = "released to authors" if rnd["released"] else "hidden from authors"
        named = " with reviewers' names" if rnd["names_visible"] and rnd["released"] else ""
        print(f"peer review feedback of {self.assignment} is {shown}{named}")


class ExportReviewApp(RoundCommand):
    name = "cohortlab-review-export"
    description = (
        "Write a closed peer review round's final scores and a combined comment into nbgrader's "
        "gradebook (manual score and comment of each manually graded cell). Run it in your "
        "nbgrader course folder."
    )
    examples = "cohortlab review export hw1 --course demo101"

    overwrite = Bool(
        False, help="Replace manual scores a grader set by hand (refused by default)."
    ).tag(config=True)
    dry_run = Bool(
        False, help="Check everything and say what would be written; write nothing."
    ).tag(config=True)
    flags = {
        "overwrite": (
            {"ExportReviewApp": {"overwrite": True}},
            "Replace manual scores a grader set by hand.",
        ),
        "dry-run": ({"ExportReviewApp": {"dry_run": True}}, "Write nothing."),
    }

    def run(self) -> None:
        coursedir = course_directory(self.log_level)
        course = self.course or os.environ.get("COHORTLAB_COURSE") or coursedir.course_id
        if not course:
            raise CommandError("which course? Give --course <course id>.")
        self.course = course
        export_round(
            coursedir,
            course,
            self.assignment,
            self.client(),
            overwrite=self.overwrite,
            dry_run=self.dry_run,
        )
