"""``Leaderboard``: a quiz's or a course's ranking, optionally within one cohort.

The service decides what a learner may see (real names or aliases, per the course's
setting); the widget shows its ``Leaderboard`` answer as it came, with the learner's
own row highlighted and the rows around it.
"""

from __future__ import annotations

from typing import Any

import traitlets as t

from ..client import ServiceClient
from ._base import ServiceWidget, esm, pick, segment

LEADERBOARD_KEYS = ("scope", "top", "near_me", "me", "total", "names")


class Leaderboard(ServiceWidget):
    """``Leaderboard("q1", course="c")``, ``Leaderboard(course="c")``, with ``cohort=``.

    ``Leaderboard("q1")`` finds the course the way ``Quiz`` does. ``top`` is how many
    leading rows to ask for (the service's ``limit``).
    """

    _esm = esm("leaderboard.js")
    _cohortlab_view = t.Unicode("leaderboard").tag(sync=True)
    fallback_text = "Open this notebook in JupyterLab with a running kernel to see the leaderboard."

    quiz_id = t.Unicode("", help="the quiz; empty for the course-wide board").tag(sync=True)
    cohort = t.Unicode("", help="rank only within this cohort").tag(sync=True)
    top = t.Int(10, help="how many leading rows to ask for").tag(sync=True)
    board = t.Dict(
        default_value=None, allow_none=True, help="the Leaderboard as the service sent it"
    ).tag(sync=True)

    def __init__(
        self,
        quiz_id: str | None = None,
        *,
        course: str | None = None,
        cohort: str | None = None,
        top: int = 10,
        client: ServiceClient | None = None,
    ) -> None:
        quiz_id, course = (quiz_id or "").strip(), (course or "").strip()
        if not quiz_id and not course:
            raise ValueError(
                'Leaderboard needs a quiz or a course: Leaderboard("week-3", course="stats-101") '
                'or Leaderboard(course="stats-101").'
            )
        if not 1 <= int(top) <= 100:
            raise ValueError("top must be between 1 and 100.")
        super().__init__(
            quiz_id=quiz_id,
            course=course,
            cohort=(cohort or "").strip(),
            top=int(top),
            client=client,
        )

    def _request(self) -> tuple[str, dict[str, str]]:
        """The service path and query for this board (docs/quizzes.md)."""
        course = f"courses/{segment(self.course)}"
        path = (
            f"{course}/quizzes/{segment(self.quiz_id)}/leaderboard"
            if self.quiz_id
            else f"{course}/leaderboard"
        )
        params = {"limit": str(self.top)}
        if self.cohort:
            params.update(scope="cohort", cohort=self.cohort)
        return path, params

    def refresh(self) -> None:
        """Fetch the board again (on display, on a live event, on a timer)."""
        if self.status != "ready":
            self.status = "loading"
        if self.quiz_id and not self._resolve_course(
            self.quiz_id, lambda c: f"Leaderboard({self.quiz_id!r}, course={c!r})"
        ):
            return
        path, params = self._request()
        during = "refresh" if self.status == "ready" else "load"
        data: dict[str, Any] | None = self._call(
            during, lambda: pick(self._client.get(path, **params), *LEADERBOARD_KEYS)
        )
        if data is None:
            return
        with self.hold_sync():
            self.board = data
            self.status = "ready"
            self.error = None
