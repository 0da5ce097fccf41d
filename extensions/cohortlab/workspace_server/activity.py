"""Contribution counts, reported to the service by the workspace server itself.

Who edited and who ran each cell is seen here, on the authenticated connections that carry
the changes (``rooms.py``, ``kernels.py``); members' browsers and kernels report nothing.
Every :data:`REPORT_SECONDS` the server sends the service what it tallied since the last
report (:meth:`attribution.Recorder.take_tally`), with its own hub token, which members'
code cannot reach (``sandbox.py``): the service takes counts from this server only, for
its own cohort only (``service/handlers/workspace_activity.py``). A report that fails is
kept and added to the next one; what is tallied but not sent when the server stops is lost.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .attribution import Recorder

log = logging.getLogger(__name__)

REPORT_SECONDS = float(os.environ.get("COHORTLAB_WORKSPACE_REPORT_SECONDS", "15"))
#: As the service accepts them (``MAX_PER_REPORT`` and ``MAX_ENTRIES`` there).
MAX_COUNT, MAX_ENTRIES = 1000, 500


class ActivityReporter:
    def __init__(
        self,
        recorder: Recorder,
        course: str | None,
        cohort: str | None,
        service_url: str | None = None,
        token: str | None = None,
    ) -> None:
        self.recorder, self.course, self.cohort = recorder, course, cohort
        self.service_url = (service_url or os.environ.get("COHORTLAB_SERVICE_URL") or "").rstrip(
            "/"
        )
        self.token = token or os.environ.get("JUPYTERHUB_API_TOKEN") or ""
        self.unsent: list[tuple[str, str, int, int]] = []

    @property
    def enabled(self) -> bool:
        return bool(self.course and self.cohort and self.service_url and self.token)

    def url(self) -> str:
        assert self.course and self.cohort
        return (
            f"{self.service_url}/api/v1/courses/{quote(self.course, safe='')}"
            f"/cohorts/{quote(self.cohort, safe='')}/activity"
        )

    def pending(self) -> list[tuple[str, str, int, int]]:
        """What is to be sent: earlier failures merged with the new tally."""
        merged: dict[tuple[str, str], list[int]] = {}
        for name, notebook, edits, runs in self.unsent + self.recorder.take_tally():
            counts = merged.setdefault((name, notebook), [0, 0])
            counts[0] = min(counts[0] + edits, MAX_COUNT)
            counts[1] = min(counts[1] + runs, MAX_COUNT)
        self.unsent = []
        return [(n, nb, e, r) for (n, nb), (e, r) in sorted(merged.items())]

    async def report(self) -> int:
        """Send what was tallied; how many entries the service counted."""
        if not self.enabled:
            self.recorder.take_tally()
            return 0
        entries = self.pending()
        counted = 0
        for start in range(0, len(entries), MAX_ENTRIES):
            batch = entries[start : start + MAX_ENTRIES]
            body = {
                "reports": [
                    {"name": n, "notebook": nb[:1024], "edits": e, "runs": r}
                    for n, nb, e, r in batch
                ]
            }
            try:
                resp = await AsyncHTTPClient().fetch(
                    HTTPRequest(
                        self.url(),
                        method="POST",
                        body=json.dumps(body),
                        headers={
                            "Authorization": f"token {self.token}",
                            "Content-Type": "application/json",
                        },
                        request_timeout=15,
                    )
                )
                counted += int(json.loads(resp.body or b"{}").get("counted", 0))
            except HTTPClientError as e:
                if e.code and 400 <= e.code < 500:  # refused: sending again would not help
                    log.warning("The service refused workspace activity (%s): %s", e.code, e)
                else:
                    self.unsent += batch
            except OSError as e:
                log.warning("Workspace activity not sent (kept for the next report): %s", e)
                self.unsent += batch
        return counted


def start(reporter: ActivityReporter) -> Any:
    """Report every :data:`REPORT_SECONDS` (a tornado ``PeriodicCallback``, started)."""
    from tornado.ioloop import PeriodicCallback

    callback = PeriodicCallback(reporter.report, REPORT_SECONDS * 1000)
    callback.start()
    return callback
