"""What every ``cohortlab`` command that talks to the service shares.

Such commands run where a person works (a terminal in their JupyterLab has
``JUPYTERHUB_API_TOKEN`` and ``COHORTLAB_SERVICE_URL``) and call the service as that person
through :class:`cohortlab.client.ServiceClient`; the service decides what they may do. A
mistake ends the command with one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import quote

from traitlets import Unicode
from traitlets.config import Application

from ._version import __version__
from .client import ServiceClient, ServiceError


class CommandError(Exception):
    """A mistake the person running the command can fix; the message says how."""


def service_path(*parts: str) -> str:
    """A service path from its parts, each quoted, so an odd id cannot reach another route."""
    return "/".join(quote(part, safe="") for part in parts)


class ServiceCommand(Application):
    version = __version__

    course = Unicode(
        help="The course id (as in the hub's nbgrader-<course> groups). Default $COHORTLAB_COURSE."
    ).tag(config=True)
    service_url = Unicode(
        help=(
            "Base URL of the CohortLab service (…/services/cohortlab/). Default "
            "$COHORTLAB_SERVICE_URL, which JupyterHub sets in every CohortLab server. The token "
            "comes from $JUPYTERHUB_API_TOKEN or $COHORTLAB_TOKEN, never from the command line."
        )
    ).tag(config=True)

    aliases = {
        "course": "ServiceCommand.course",
        "service-url": "ServiceCommand.service_url",
        "log-level": "Application.log_level",
    }

    #: Errors that end the command with their message (subclasses add their own kinds).
    person_errors: tuple[type[Exception], ...] = (CommandError, ServiceError)

    def start(self) -> None:
        try:
            self.check_arguments()
            self.run()
        except self.person_errors as e:
            print(f"cohortlab: {e}", file=sys.stderr)
            self.exit(1)

    def check_arguments(self) -> None:
        """Refuse a wrong number of positional arguments before anything is done."""

    def run(self) -> None:
        raise NotImplementedError

    def course_id(self) -> str:
        course = self.course or os.environ.get("COHORTLAB_COURSE", "")
        if not course:
            raise CommandError("which course? Give --course <course id>.")
        return course

    def client(self) -> ServiceClient:
        return ServiceClient(url=self.service_url or None)
