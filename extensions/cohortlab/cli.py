"""The ``cohortlab`` command: ``service``, ``upgrade-db`` (more subcommands join per capability)."""

from __future__ import annotations

import sys

from ._version import __version__
from .appbase import CohortLabApp, CommandGroup
from .store.db import DatabaseError, upgrade


class UpgradeDBApp(CohortLabApp):
    name = "cohortlab-upgrade-db"
    description = "Create or migrate the CohortLab database schema to this version."

    def start(self) -> None:
        before, after = upgrade(self.db_url)
        if before == after:
            print(f"cohortlab: database schema already at revision {after}")
        else:
            print(f"cohortlab: database schema upgraded from {before or 'empty'} to {after}")


class CohortLabCLI(CommandGroup):
    name = "cohortlab"
    version = __version__
    description = "CohortLab: a social learning layer for JupyterHub."
    subcommands = {
        "service": ("cohortlab.service.app.ServiceApp", "Run the CohortLab hub service."),
        "upgrade-db": (UpgradeDBApp, "Create or migrate the database schema."),
        "quiz": ("cohortlab.quiz_cli.QuizApp", "Publish quizzes, read scores, export to nbgrader."),
        "cohort": ("cohortlab.cohort_cli.CohortApp", "Create cohorts, change members, archive."),
        "review": ("cohortlab.review_cli.ReviewApp", "Open peer review rounds on assignments."),
    }


def main(argv: list[str] | None = None) -> None:
    app = CohortLabCLI.instance()
    try:
        app.initialize(argv)
        app.start()
    except DatabaseError as e:
        # One clear line, not a traceback: the message says what to do.
        print(f"cohortlab: {e}", file=sys.stderr)
        sys.exit(1)
