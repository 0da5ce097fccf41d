"""``Quiz``: a published quiz, answered in the notebook, graded by the service.

The released notebook holds only ``Quiz("<quiz-id>", course="<course>")``; the questions
come from the service when the widget is shown and each answer goes back to it from the
kernel, as the learner. The synced state is picked verbatim from the service's answers
(``LearnerQuiz`` and, after each answer, its ``QuestionState``), so the browser sees
exactly what the service chose to show this learner: no key, and explanations and
correct answers only once the service's quiz policy lets this learner see them.

Live rounds of the quiz (join, play, host) are a mode of this widget: :mod:`.live`.
"""

from __future__ import annotations

from typing import Any

import traitlets as t

from ..client import ServiceClient
from ._assets import read_asset
from ._base import ServiceWidget, esm, pick, segment
from .live import LiveRounds


class Quiz(LiveRounds):
    """One quiz for the person whose hub token the kernel holds.

    ``Quiz("week-3")`` finds the course itself when only one of the learner's courses
    has that quiz; ``course=`` names it otherwise. Nothing is fetched until the widget
    is displayed (or :meth:`refresh` is called). While a live round of the quiz runs,
    learners can join it here and instructors host it (:class:`.live.LiveRounds`).
    """

    _esm = esm("quiz.js")
    _cohortlab_view = t.Unicode("quiz").tag(sync=True)
    _css = ServiceWidget._css + read_asset("live.css")

    quiz_id = t.Unicode(help="the quiz's id, as published").tag(sync=True)
    quiz = t.Dict(
        default_value=None, allow_none=True, help='LearnerQuiz["quiz"] as the service sent it'
    ).tag(sync=True)
    question_states = t.Dict(
        help='LearnerQuiz["state"]: QuestionState per question id, as the service sent it'
    ).tag(sync=True)
    score = t.Any(None, help="my score, as the service sent it").tag(sync=True)
    max_score = t.Any(None, help="the quiz's maximum, as the service sent it").tag(sync=True)
    pending_question = t.Unicode("", help="the question whose answer is being sent").tag(sync=True)
    previews = t.Dict(
        help="staff only: the service's Result of the last preview answer per question"
    ).tag(sync=True)

    def __init__(
        self, quiz_id: str, course: str | None = None, *, client: ServiceClient | None = None
    ) -> None:
        if not isinstance(quiz_id, str) or not quiz_id.strip():
            raise ValueError('Quiz needs the quiz id, e.g. Quiz("week-3", course="stats-101").')
        super().__init__(quiz_id=quiz_id.strip(), course=(course or "").strip(), client=client)

    def _handlers(self) -> dict[str, Any]:
        return {**super()._handlers(), "answer": self._on_answer_msg}

    def _on_answer_msg(self, content: dict[str, Any]) -> None:
        question = content.get("question")
        if isinstance(question, str) and "answer" in content:
            self.submit(question, content["answer"])

    def _path(self) -> str:
        return f"courses/{segment(self.course)}/quizzes/{segment(self.quiz_id)}"

    def refresh(self) -> None:
        """Load (or reload) the questions, my answers so far, my score and the quiz's
        live round (if it has one)."""
        if self.status != "ready":
            self.status = "loading"
        if not self._resolve_course(
            self.quiz_id, lambda c: f"Quiz({self.quiz_id!r}, course={c!r})"
        ):
            return
        during = "refresh" if self.status == "ready" else "load"
        data = self._call(during, lambda: _quiz_response(self._client.get(self._path())))
        if data is None:
            return
        with self.hold_sync():
            self.quiz = data["quiz"]
            self.question_states = data["state"]
            self.score = data["score"]
            self.max_score = data["max_score"]
            # Only instructors get the spec (which is dropped here): they host rounds.
            self.host = data["host"]
            self.status = "ready"
            # An answer's refusal stays next to its question until the next attempt, and
            # a live refusal in the live panel until the round moves on.
            if self.error is not None and self.error.get("during") in ("load", "refresh"):
                self.error = None
        self.refresh_live()

    def submit(self, question: str, answer: Any) -> dict[str, Any] | None:
        """Send one answer; the service's ``Result``, or ``None`` if it was refused.

        The refusal (closed quiz, no attempts left, malformed answer, too many requests)
        is shown at the question. After a 409 the quiz is reloaded, since it usually
        means the quiz closed while the page was open. Staff answers are previews
        (graded, not recorded): their ``Result`` is kept in ``previews`` and the
        question stays answerable.
        """
        if self.status != "ready":
            self.refresh()
            if self.status != "ready":
                return None
        self.error = None
        self.pending_question = question
        try:
            resp = self._call(
                "answer",
                lambda: _answer_response(
                    self._client.post(
                        f"{self._path()}/answers", {"question": question, "answer": answer}
                    )
                ),
                question=question,
            )
        finally:
            self.pending_question = ""
        if resp is None:
            if self.error is not None and self.error.get("status") == 409:
                self.refresh()
            return None
        if resp.get("preview") is True:
            self.previews = {**self.previews, question: resp["result"]}
            return resp["result"]
        with self.hold_sync():
            self.question_states = {**self.question_states, question: resp["question"]}
            self.score = resp["score"]
            self.max_score = resp["max_score"]
        return resp["result"]


def _quiz_response(data: Any) -> dict[str, Any]:
    """A ``LearnerQuiz``'s parts the widget keeps, and whether it came with the staff-only
    ``spec`` (which is not kept: it holds the key)."""
    return {**pick(data, "quiz", "state", "score", "max_score"), "host": "spec" in data}


def _answer_response(data: Any) -> dict[str, Any]:
    """The parts of an answer's response the widget keeps (a ValueError if malformed)."""
    if isinstance(data, dict) and data.get("preview") is True:
        return {**pick(data, "result", "question"), "preview": True}
    return pick(data, "result", "question", "score", "max_score")
